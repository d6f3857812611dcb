"""Turn a Project into its dependency graph: parse each mart, resolve the tables it reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from sqlglot import exp

from martctl.compiler.engineparse import engine_problem
from martctl.compiler.graph import Graph
from martctl.compiler.nodes import Nodes
from martctl.compiler.parsed import ParsedMart, ProjectGraph
from martctl.compiler.sql import VAR_NODES, parse_mart, substitute_vars, table_line, table_name, table_references
from martctl.errors import CycleError, Problem, ProjectError, did_you_mean
from martctl.project.model import Mart, Project, Target


def _by_bare_name(project: Project) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for key, mart in project.marts.items():
        names.setdefault(mart.name, []).append(key)
    return names


def _line_of(table: exp.Table, mart: Mart) -> int:
    """The file line where the table reference is written (the SQL may start below line 1)."""
    line = table_line(table)
    return mart.sql_line + line - 1 if line else mart.sql_line


def resolved_name(db: str, name: str, project: Project, bare: dict[str, list[str]]) -> tuple[str, str] | None:
    """('mart', key) or ('source', key) that `db.name` (or a bare mart name) reads; None when it
    reads nothing or is ambiguous."""
    if db:
        key = f"{db}.{name}"
        if key in project.marts:
            return "mart", key
        if key in project.sources:
            return "source", key
        return None
    matches = bare.get(name, [])
    return ("mart", matches[0]) if len(matches) == 1 else None


def _resolve(table: exp.Table, mart: Mart, project: Project, bare: dict[str, list[str]]):
    """('mart', key) or ('source', key); raise a Problem for anything else."""
    db, name = table.db, table.name
    if table.catalog:
        full = table_name(table)
        return None, Problem(
            f"mart '{mart.key}' reads '{full}': catalog-qualified names are not supported",
            mart.sql_path, _line_of(table, mart), hint="write area.mart or source.table",
        )
    found = resolved_name(db, name, project, bare)
    if found is not None:
        return found, None
    if db:
        key = f"{db}.{name}"
        candidates = [k for k in project.marts if k != mart.key] + list(project.sources)
    else:
        matches = bare.get(name, [])
        if len(matches) > 1:
            return None, Problem(
                f"mart '{mart.key}' reads '{name}', which is ambiguous: {', '.join(matches)}",
                mart.sql_path, _line_of(table, mart), hint="qualify it with its area, e.g. " + matches[0],
            )
        key = name
        candidates = [k for k in project.marts if k != mart.key] + list(project.sources) + list(bare)
    hint = did_you_mean(key, candidates)
    if not hint:
        hint = "reference a mart as area.name or a source as source.table (sources are declared in config.yaml)"
    return None, Problem(
        f"mart '{mart.key}' reads unknown table '{key}'",
        mart.sql_path,
        _line_of(table, mart),
        hint=hint,
        ref=key,
    )


def _parse_one(key: str, mart: Mart, project: Project, bare, values) -> tuple[ParsedMart | None, list[Problem]]:
    """Parse a mart (vars substituted) and resolve every table it reads."""
    problems: list[Problem] = []
    try:
        nodes = parse_mart(mart)
        placeholders = nodes.find_all(*VAR_NODES)
        if placeholders:  # replaced by literals: the tree has other nodes now
            nodes = Nodes(substitute_vars(nodes.tree, values, mart, placeholders))
    except ProjectError as exc:
        return None, exc.problems
    refused = engine_problem(mart)
    if refused is not None:
        return None, [refused]
    item = ParsedMart(mart, nodes)
    for table in table_references(nodes.tree, nodes):
        resolved, problem = _resolve(table, mart, project, bare)
        if problem:
            problems.append(problem)
            continue
        item.refs.add((table.db, table.name, *resolved))
        if resolved[0] == "mart":
            if resolved[1] == key:
                problems.append(Problem(f"mart '{key}' reads itself", mart.sql_path, _line_of(table, mart),
                                        hint="an incremental mart sees its current rows through its filter, not its SQL"))
            item._marts[id(table)] = resolved[1]
        else:
            item._sources[id(table)] = resolved[1]
    return item, problems


def _parser(key: str, mart: Mart, project: Project, bare, values):
    def parse() -> ParsedMart:
        item, problems = _parse_one(key, mart, project, bare, values)
        if problems:
            raise ProjectError(problems)
        return item

    return parse


def _same_references(entry: dict, project: Project, bare) -> bool:
    """Whether every table a cached mart reads still resolves as when it was parsed (a mart added,
    removed or renamed elsewhere can make a name ambiguous, unknown, or another mart)."""
    return all(resolved_name(db, name, project, bare) == (kind, key) for db, name, kind, key in entry.get("refs", ()))


def _parse_entry(item: ParsedMart) -> dict:
    """A parsed mart's entry in the plan cache (without its hash)."""
    return {"deps": [list(item.upstream_marts), list(item.upstream_sources)], "refs": sorted(item.refs)}


def build_graph(project: Project, vars: Mapping[str, Any] | None = None, target_dir: Path | None = None,
                target: Target | None = None, keep_trees: bool = True) -> ProjectGraph:
    """Parse every mart and link it to the marts and sources it reads; report every problem.

    With `target_dir`, the dependencies of each unchanged mart come from the plan cache there
    (martctl/compiler/plancache.py), and it is parsed only if something asks for its tree. When it
    misses many marts, a forked child parses part of them (prefill.py), and compiles them for
    `target` (default: the project's default target) where their inputs cannot change that; with
    `keep_trees=False` (a run, which needs no tree once compiled) this process does the same with the
    marts it parses itself and keeps their plan cache entries instead of their trees (less memory)."""
    values = {**project.vars, **(vars or {})}
    bare = _by_bare_name(project)
    plan = entries = None
    hashes: dict[str, str] = {}
    cached: dict[str, dict] = {}
    if target_dir is not None:
        from martctl.compiler import plancache, prefill

        plan = plancache.read(target_dir)
        entries = plan.get("marts", {})
        hashes, cached = _unchanged(project, values, bare, entries)
    target_of = _target_of(project, target)
    child = _prefill(project, values, bare, [name for name in project.marts if name not in cached], target_of) \
        if plan is not None else None
    problems: list[Problem] = []
    parsed: dict[str, ParsedMart] = {}
    fresh: dict[str, dict] = {}
    precompiled: dict[str, dict] = {}
    changed = False
    try:
        for name, mart in project.marts.items():
            sent = child.get(name) if child is not None and name not in cached else None
            if name in cached or sent is not None:
                entry = cached.get(name) or {"hash": hashes[name], "deps": sent["deps"], "refs": sent["refs"],
                                             "canon": sent["canon"]}
                parsed[name] = ParsedMart(mart, upstream=tuple(entry["deps"]), parse=_parser(name, mart, project, bare, values))
                fresh[name] = entry
                if sent is not None:
                    changed = True
                    if sent["compiled"] is not None:
                        precompiled[name] = sent["compiled"]
                continue
            item, found = _parse_one(name, mart, project, bare, values)
            problems += found
            if item is not None:
                parsed[name] = item
                if plan is not None and not found:
                    fresh[name] = {"hash": hashes[name], **_parse_entry(item)}
                    changed = True
                settled = prefill.settle(project, values, name, item, target_of) \
                    if child is not None and not keep_trees and not found else None
                if settled is not None:  # beside a child, as the child does: its entries now, its tree not kept
                    fresh[name]["canon"] = settled["canon"]
                    parsed[name] = ParsedMart(mart, upstream=tuple(fresh[name]["deps"]),
                                              parse=_parser(name, mart, project, bare, values))
                    if settled["compiled"] is not None:
                        precompiled[name] = settled["compiled"]
    finally:
        if child is not None:
            child.close()
    graph = Graph({key: item.upstream_marts for key, item in parsed.items()})
    cycle = graph.find_cycle() if changed or plan is None or problems else None
    if cycle:
        first = project.marts[cycle[0]]
        error = CycleError(cycle, first.file, first.line)
        if not problems:
            raise error
        problems.extend(error.problems)
    if problems:
        raise ProjectError(problems)
    result = ProjectGraph(project, graph, parsed, values, plan, target_dir)
    if plan is not None:
        changed = changed or set(entries) != set(fresh)
        plan["marts"] = fresh
        if changed:
            plancache.write(target_dir, plan)
        if precompiled:
            result.precompiled, result.precompiled_for = precompiled, prefill.settings(target_of)
    return result


def _unchanged(project: Project, values, bare, entries: dict) -> tuple[dict[str, str], dict[str, dict]]:
    """Each mart's plan cache hash, and the cache entries of the marts that are unchanged."""
    from martctl.compiler import plancache

    common = plancache.common_key(project)
    hashes = {name: plancache.mart_key(common, mart, values) for name, mart in project.marts.items()}
    cached = {name: entries[name] for name in project.marts if name in entries and entries[name].get("hash") == hashes[name]
              and _same_references(entries[name], project, bare)}
    return hashes, cached


def _target_of(project: Project, target: Target | None) -> Target | None:
    return target if target is not None else project.targets.get(project.default_target)


def _prefill(project: Project, values, bare, misses: list[str], target: Target | None):
    """A forked child parsing some of `misses` (prefill.py), or None."""
    from martctl.compiler import prefill

    def parse(key: str) -> tuple[ParsedMart, dict] | None:
        item, problems = _parse_one(key, project.marts[key], project, bare, values)
        return None if problems or item is None else (item, _parse_entry(item))

    return prefill.start(project, values, misses, parse, target)
