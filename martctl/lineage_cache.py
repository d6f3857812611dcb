"""target/lineage.json: the whole project's lineage hops, keyed by a hash of the SQL and schemas."""

from __future__ import annotations

import json
import os
from pathlib import Path

CACHE_FILE = "lineage.json"


def read_cache(target_dir: Path) -> dict | None:
    """The cached {"key", "hops"}, or None when missing, unreadable or of another format."""
    import gc

    from .lineage import FORMAT_VERSION

    path = Path(target_dir) / CACHE_FILE
    collecting = gc.isenabled()
    gc.disable()  # a cache of many small dicts: the cyclic collector would only slow the load down
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    finally:
        if collecting:
            gc.enable()
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION or not isinstance(data.get("hops"), dict):
        return None
    return data


def write_cache(target_dir: Path, key: str, hops: dict) -> Path | None:
    """Write atomically (temp file + rename); a read-only target/ only costs the cache."""
    from .lineage import FORMAT_VERSION

    path = Path(target_dir) / CACHE_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{CACHE_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": FORMAT_VERSION, "key": key, "hops": hops}, separators=(",", ":")),
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return None
    return path


def catalog_columns(project, target) -> dict[str, list[str]]:
    """Column names of the sources that declare none, from the target's catalog (see catalog_types)."""
    return {key: list(columns) for key, columns in catalog_types(project, target).items()}


def catalog_types(project, target) -> dict[str, dict[str, str]]:
    """Columns (name -> type) of the sources that declare none, read from the target's catalog when it is reachable.

    Best effort: a DuckDB file that does not exist yet is not created, and any failure to connect
    or read only leaves those sources' columns unknown (lineage then says so)."""
    wanted = [s for s in project.sources.values() if not s.columns]
    if not wanted or target is None:
        return {}
    if target.type == "duckdb":
        path = str(target.settings.get("path") or "warehouse.duckdb")
        if path.startswith(":memory:") or not (Path(project.root) / path).exists():
            return {}
    elif target.settings.get("_missing_env"):
        return {}
    from .adapters.base import get_adapter

    found: dict[str, dict[str, str]] = {}
    try:
        adapter = get_adapter(target, project.root)
        adapter.connect()
        try:
            for source in wanted:
                columns = adapter.columns(source.schema, source.name)
                if columns:
                    found[source.key] = dict(columns)
        finally:
            adapter.close()
    except Exception:  # unreachable warehouse, busy file, missing driver: the columns stay unknown
        return {}
    return found
