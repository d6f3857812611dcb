"""target/.cache/plan.json: the parse and compile results of an unchanged project.

A nightly build of an unchanged project need not parse and compile 1,000 marts again. The key
hashes everything those results depend on: every mart's SQL, dialect and declared column types,
the sources (and each seed file's size and mtime, whose sniffed types feed typing), the vars,
the sqlglot and martctl versions and martctl's own source files. Any change anywhere makes a new
key, so an entry is never half-valid. The file is written atomically; an unreadable one is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

FORMAT = 1
FILE = Path(".cache") / "plan.json"


def _code_stamp() -> list:
    here = Path(__file__).resolve().parent
    return sorted((str(p.relative_to(here)), p.stat().st_mtime_ns) for p in here.rglob("*.py"))


def project_key(project, values: Mapping[str, Any]) -> str:
    """The hash of everything build_graph and compile_project read."""
    import sqlglot

    from martctl import __version__

    marts = [
        (key, m.sql, m.dialect, sorted((c, col.type) for c, col in m.columns.items()))
        for key, m in project.marts.items()
    ]
    sources = []
    for key, s in project.sources.items():
        stamp = None
        if s.seed is not None:
            stat = os.stat(s.seed)
            stamp = (str(s.seed), stat.st_size, stat.st_mtime_ns)
        sources.append((key, s.schema, sorted(s.columns.items(), key=lambda kv: kv[0]), stamp,
                        sorted(s.column_types.items())))
    blob = json.dumps(
        [FORMAT, __version__, sqlglot.__version__, _code_stamp(), project.dialect, marts, sources, values],
        default=str, sort_keys=True,
    )
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


def compile_key(graph_key: str, *parts: Any) -> str:
    blob = json.dumps([graph_key, *parts], default=str, sort_keys=True)
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


def read(target_dir: Path | None, key: str) -> dict | None:
    """The cached plan for `key`, or None."""
    if target_dir is None:
        return None
    try:
        data = json.loads((Path(target_dir) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return data


def write(target_dir: Path | None, data: dict) -> None:
    """Write atomically; a read-only target/ only costs the cache."""
    if target_dir is None:
        return
    path = Path(target_dir) / FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
