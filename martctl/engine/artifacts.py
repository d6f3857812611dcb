"""What a run leaves in target/: run_results.json (what happened) and manifest.json (the graph)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from martctl.engine.events import RunReport, iso
from martctl.project.envvars import mask

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledProject
    from martctl.compiler.resolve import ProjectGraph

SCHEMA_VERSION = 1


def _write_json(path: Path, data, secrets: Sequence[str]) -> Path:
    """Write atomically (temp file + rename): a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = mask(json.dumps(data, default=str), secrets)  # no indent: the C encoder, 10x faster on big runs
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_run_results(report: RunReport, target_dir: Path, project_root: Path, secrets: Sequence[str] = ()) -> Path:
    """target/run_results.json: run id, times, target, selection, and per node: status, timing,
    rows, error, skip reason, tests, compiled SQL path (relative to the project)."""
    data = {"martctl_schema_version": SCHEMA_VERSION, **report.as_dict()}
    base = os.path.abspath(project_root)
    for node in data["results"]:
        if node.get("sql_path"):
            node["sql_path"] = _relative(node["sql_path"], base)
    return _write_json(target_dir / "run_results.json", data, secrets)


def _relative(path: str, base: str) -> str:
    """`path` relative to `base` (the project's absolute path) when it lies under it."""
    if not os.path.isabs(path):
        return path
    rest = path[len(base) + 1:]
    if path.startswith(base) and path[len(base):len(base) + 1] == os.sep and rest and ".." not in rest:
        return rest  # what relpath gives for a path below base, without its normalising (1,000s of paths a run)
    relative = os.path.relpath(path, base)  # string work only: no file system calls per path
    return path if relative.startswith("..") else relative


def manifest(graph: "ProjectGraph", target_name: str, target_type: str, dialect: str,
             compiled: "CompiledProject | None" = None) -> dict:
    """The project graph as plain data: marts (with their upstream), sources, parent and child maps."""
    project = graph.project
    root = os.path.abspath(project.root)  # once, not once per path
    marts = {}
    for key, mart in project.marts.items():
        parsed = graph.parsed.get(key)
        item = compiled.marts.get(key) if compiled else None
        relation = item.relation if item else (mart.area, mart.name)
        marts[key] = {
            "name": mart.name,
            "area": mart.area,
            "relation": ".".join(relation),
            "materialized": mart.materialized,
            "incremental": {k: list(v) if isinstance(v, tuple) else v for k, v in mart.incremental.items()} or None,
            "description": mart.description,
            "owner": mart.owner,
            "tags": list(mart.tags),
            "file": _relative(str(mart.file), root),
            "sql_file": _relative(str(mart.sql_path), root),
            "depends_on": {
                "marts": list(parsed.upstream_marts) if parsed else [],
                "sources": list(parsed.upstream_sources) if parsed else [],
            },
            "columns": {c: {"description": col.description, "type": col.type} for c, col in mart.columns.items()},
            "tests": [t.display_name(key) for t in mart.all_tests()],
            "compiled_sql_path": f"target/compiled/{mart.area}/{mart.name}.sql" if item else None,
        }
    sources = {
        key: {
            "schema": s.schema,
            "name": s.name,
            "seed": _relative(str(s.seed), root) if s.seed else None,
            "columns": dict(s.columns),
            "description": s.description,
        }
        for key, s in project.sources.items()
    }
    parents = {key: m["depends_on"]["marts"] + m["depends_on"]["sources"] for key, m in marts.items()}
    child_map: dict[str, list[str]] = {key: [] for key in list(marts) + list(sources)}
    for key, ups in parents.items():
        for up in ups:
            child_map.setdefault(up, []).append(key)
    return {
        "martctl_schema_version": SCHEMA_VERSION,
        "generated_at": iso(time.time()),
        "project": project.name,
        "dialect": project.dialect,
        "target": {"name": target_name, "type": target_type, "dialect": dialect},
        "vars": dict(graph.vars),
        "marts": marts,
        "sources": sources,
        "parent_map": parents,
        "child_map": child_map,
    }


def write_manifest(graph: "ProjectGraph", target_dir: Path, target_name: str, target_type: str, dialect: str,
                   compiled: "CompiledProject | None" = None, secrets: Sequence[str] = ()) -> Path:
    return _write_json(target_dir / "manifest.json", manifest(graph, target_name, target_type, dialect, compiled), secrets)
