"""Column types of sources that declare none, read from the warehouse's catalog."""

from __future__ import annotations

from pathlib import Path


def catalog_columns(project, target) -> dict[str, list[str]]:
    """Column names of the sources that declare none, from the target's catalog (see catalog_types)."""
    return {key: list(columns) for key, columns in catalog_types(project, target).items()}


def catalog_types(project, target, adapter=None) -> dict[str, dict[str, str]]:
    """Columns (name -> type) of the sources that declare none, read from the target's catalog when it is reachable.

    Best effort: a DuckDB file that does not exist yet is not created, and any failure to connect
    or read only leaves those sources' columns unknown (lineage then says so). With a connected
    `adapter`, that connection is used."""
    wanted = [s for s in project.sources.values() if not s.columns]
    if not wanted or target is None:
        return {}
    if adapter is not None:
        return _read(adapter, wanted)
    if target.type == "duckdb":
        path = str(target.settings.get("path") or "warehouse.duckdb")
        if path.startswith(":memory:") or not (Path(project.root) / path).exists():
            return {}
    elif target.settings.get("_missing_env"):
        return {}
    from martctl.engine.adapters.base import get_adapter

    try:
        adapter = get_adapter(target, project.root)
        adapter.connect()
        try:
            return _read(adapter, wanted)
        finally:
            adapter.close()
    except Exception:  # unreachable warehouse, busy file, missing driver: the columns stay unknown
        return {}


def _read(adapter, sources) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for source in sources:
        columns = adapter.columns(source.schema, source.name)
        if columns:
            found[source.key] = dict(columns)
    return found
