"""Selector methods that read the warehouse's state: state:new, state:modified, result:error,
result:skipped, result:fail (failed tests), result:success, result:cancelled, source_status:fresher."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from martctl.errors import ProjectError

RESULTS = ("error", "skipped", "fail", "success", "cancelled")


def state_methods(ws: Any) -> dict[str, Callable[[str], set[str]]]:
    """The methods for Workspace `ws`, each reading the state (read-only) once, when first used."""
    from martctl.api.due import prefix_of
    from martctl.api.sourceversion import source_versions
    from martctl.compiler.fingerprint import fingerprints
    from martctl.engine import state

    @lru_cache(maxsize=None)
    def read() -> tuple[dict, dict | None, dict]:
        adapter = ws._reader()
        if adapter is None:
            return {}, None, {}
        try:
            records = state.read(adapter, prefix_of(ws.target))
            last = state.last_run(adapter, prefix_of(ws.target))
            readable = [s for s in ws.project.sources.values() if s.seed is None]
            versions = {k: v for k, v in source_versions(adapter, readable, [], ws.project).items() if v is not None}
        finally:
            adapter.close()
        return records, last, versions

    def by_state(value: str) -> set[str]:
        records = read()[0]
        if value == "new":
            return {k for k in ws.project.marts if k not in records}
        if value == "modified":
            prints = fingerprints(ws.graph, list(ws.project.marts), ws.target.dialect, ws.project.sources)
            return {k for k, p in prints.items() if k not in records or records[k].sql_hash != p.own}
        raise ProjectError(f"state:{value}: unknown state", hint="state:new or state:modified")

    def by_result(value: str) -> set[str]:
        if value not in RESULTS:
            raise ProjectError(f"result:{value}: unknown result", hint="result:" + ", result:".join(RESULTS))
        last = read()[1]
        results = (last or {}).get("results") or {}
        return {k for k, status in results.items() if status == value and k in ws.project.marts}

    def by_source_status(value: str) -> set[str]:
        if value != "fresher":
            raise ProjectError(f"source_status:{value}: unknown status", hint="source_status:fresher")
        records, _, versions = read()
        return {k for k, item in ws.graph.parsed.items() if k in records
                and any(s in versions and records[k].inputs.get(s) != versions[s] for s in item.upstream_sources)}

    return {"state": by_state, "result": by_result, "source_status": by_source_status}
