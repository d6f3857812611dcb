"""target/lineage.json: the whole project's lineage hops, keyed by a hash of the SQL and schemas."""

from __future__ import annotations

import json
import os
from pathlib import Path

FORMAT_VERSION = 1  # of the lineage JSON and of target/lineage.json; bumped on any incompatible change

CACHE_FILE = "lineage.json"


def read_cache(target_dir: Path) -> dict | None:
    """The cached {"key", "hops"}, or None when missing, unreadable or of another format."""
    import gc

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
