"""What the site shows, as plain JSON-ready data: the project (marts, sources, columns, tests, SQL,
lineage) plus what the last run and the warehouse know (status, times, rows, test results)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from martctl.quality.checks import short_name


def test_names(mart) -> list[tuple[str, Any]]:
    """(name within the mart, spec) for each data test, named as `martctl test` names them."""
    seen: dict[str, int] = {}
    named = []
    for spec in mart.all_tests():
        name = short_name(spec)
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name}_{seen[name]}", spec))
    return named


def read_last_run(target_dir: Path) -> dict[str, Any]:
    """target/run_results.json as {"run": summary, "nodes": key -> node, "tests": (mart, name) -> result}.
    Written by seed/run/build (nodes, with each mart's tests in a build) or by `test` (tests only)."""
    path = Path(target_dir) / "run_results.json"
    empty: dict[str, Any] = {"run": None, "nodes": {}, "tests": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    nodes = {n["key"]: n for n in data.get("results") or () if isinstance(n, dict) and "key" in n}
    tests = [t for n in nodes.values() for t in n.get("tests") or ()] + list(data.get("tests") or ())
    run = {k: data.get(k) for k in ("command", "target", "started_at", "finished_at", "elapsed_seconds", "exit_code")}
    return {"run": run, "nodes": nodes, "tests": {(t.get("mart"), t.get("name")): t for t in tests if isinstance(t, dict)}}


def collect(project, graph, compiled: Mapping[str, str], lineage, last_run: Mapping[str, Any],
            warehouse: Mapping[str, dict]) -> dict[str, Any]:
    """The site's data. `compiled`: mart key -> SQL for the target; `warehouse`: relation key ->
    {"rows": n, "columns": {name: type}} for what the warehouse holds (empty when unreachable)."""
    readers = lineage.readers()
    downstream: dict[str, list[str]] = {}
    for key, hop in lineage.hops.items():
        for ref in hop["inputs"]:
            downstream.setdefault(ref, []).append(key)
    marts = {}
    for key, mart in project.marts.items():
        hop = lineage.hops.get(key, {"inputs": [], "columns": {}, "problems": []})
        node = last_run["nodes"].get(key) or {}
        stored = warehouse.get(key) or {}
        names = list(dict.fromkeys(list(hop["columns"]) + list(mart.columns)))
        tests = [_test(name, spec, last_run["tests"].get((key, name))) for name, spec in test_names(mart)]
        columns = []
        for name in names:
            declared = mart.columns.get(name)
            columns.append({
                "name": name,
                "description": declared.description if declared else "",
                "type": (declared.type if declared and declared.type else None) or (stored.get("columns") or {}).get(name),
                "tests": [t for t in tests if t["column"] == name],
                "from": _column_inputs(hop["columns"].get(name)),
                "to": [f"{m}.{c}" for m, c in readers.get((key, name), ())],
            })
        marts[key] = {
            "key": key, "name": mart.name, "area": mart.area, "kind": "mart", "description": mart.description or "",
            "owner": mart.owner, "tags": list(mart.tags), "materialized": mart.materialized, "dialect": mart.dialect,
            "file": _relative(mart.file, project.root), "sql_file": _relative(mart.sql_path, project.root),
            "sql": mart.sql, "compiled_sql": compiled.get(key), "upstream": list(hop["inputs"]),
            "downstream": sorted(downstream.get(key, ())), "columns": columns,
            "tests": [t for t in tests if t["column"] is None],
            "unit_tests": [u.name for u in mart.unit_tests],
            "last_run": _last_run(node), "rows": stored.get("rows"), "problems": list(hop.get("problems") or ()),
            "status": _status(node, tests, stored),
        }
    sources = {}
    for key, source in project.sources.items():
        stored = warehouse.get(key) or {}
        node = last_run["nodes"].get(key) or {}
        names = list(source.columns) or list(lineage.columns(key)) or list(stored.get("columns") or ())
        sources[key] = {
            "key": key, "name": source.name, "area": source.source, "kind": "seed" if source.seed else "source",
            "description": source.description or "", "schema": source.schema,
            "file": _relative(source.seed, project.root) if source.seed else None,
            "columns": [{"name": c, "type": source.columns.get(c) or (stored.get("columns") or {}).get(c),
                         "to": [f"{m}.{n}" for m, n in readers.get((key, c), ())]} for c in names],
            "downstream": sorted(downstream.get(key, ())), "rows": stored.get("rows"),
            "last_run": _last_run(node), "status": _status(node, [], stored),
        }
    return {"project": project.name, "run": last_run["run"], "marts": marts, "sources": sources}


def _test(name: str, spec, result: Mapping | None) -> dict[str, Any]:
    return {"name": name, "kind": spec.kind, "column": spec.column, "severity": spec.severity,
            "status": result.get("status") if result else None,
            "failures": result.get("failures") if result else None}


def _column_inputs(step: dict | None) -> list[str]:
    """The input columns (relation.column) a mart column reads directly, through its CTEs."""
    found: list[str] = []

    def walk(node: dict) -> None:
        if "ref" in node:
            found.append(f"{node['ref']}.{node['column']}")
        for child in node.get("from") or ():
            walk(child)

    if step:
        walk(step)
    return list(dict.fromkeys(found))


def _last_run(node: Mapping) -> dict[str, Any] | None:
    if not node:
        return None
    return {k: node.get(k) for k in ("status", "started_at", "seconds", "rows", "error", "reason")}


def _status(node: Mapping, tests: list[dict], stored: Mapping) -> str:
    """One word for the list: error/skipped from the last run, else failing tests, else built; not in
    the last run: "in warehouse" when the warehouse has it, else "not run"."""
    if node and node.get("status") not in (None, "success"):
        return node["status"]
    statuses = {t["status"] for t in tests}
    for word, found in (("failing", {"FAIL", "ERROR"}), ("warning", {"WARN"})):
        if statuses & found:
            return word
    if node:
        return "built"
    return "in warehouse" if stored else "not run"


def _relative(path, root) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)
