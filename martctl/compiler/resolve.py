"""Turn a Project into its dependency graph: parse each mart, resolve the tables it reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from sqlglot import exp

from martctl.compiler.engineparse import engine_problem
from martctl.compiler.graph import Graph
from martctl.compiler.sql import parse_mart, substitute_vars, table_line, table_name, table_references
from martctl.errors import CycleError, Problem, ProjectError, did_you_mean
from martctl.project.model import Mart, Project


class ParsedMart:
    """A mart's parsed SQL and the marts and sources it reads.

    From the plan cache only the upstream lists are known; the tree (and the reference maps,
    keyed by id of its Table nodes) is parsed on first use."""

    def __init__(self, mart: Mart, tree: exp.Query | None = None, upstream: tuple | None = None, parse=None):
        self.mart = mart
        self._tree = tree
        self._marts: dict[int, str] = {}
        self._sources: dict[int, str] = {}
        self._upstream = upstream  # (mart keys, source keys) when known without the tree
        self._parse = parse  # () -> ParsedMart, for a cached entry

    def _ensure(self) -> None:
        if self._tree is None:
            fresh = self._parse()
            self._tree, self._marts, self._sources = fresh._tree, fresh._marts, fresh._sources

    @property
    def tree(self) -> exp.Query:  # vars substituted, references still as written
        self._ensure()
        return self._tree

    @property
    def marts(self) -> dict[int, str]:  # id(Table node) -> mart key
        self._ensure()
        return self._marts

    @property
    def sources(self) -> dict[int, str]:  # id(Table node) -> source key
        self._ensure()
        return self._sources

    @property
    def upstream_marts(self) -> tuple[str, ...]:
        if self._upstream is not None:
            return tuple(self._upstream[0])
        return tuple(dict.fromkeys(self.marts.values()))

    @property
    def upstream_sources(self) -> tuple[str, ...]:
        if self._upstream is not None:
            return tuple(self._upstream[1])
        return tuple(dict.fromkeys(self.sources.values()))


@dataclass
class ProjectGraph:
    """The project plus its parsed marts and the mart-to-mart graph."""

    project: Project
    graph: Graph[str]
    parsed: dict[str, ParsedMart]
    vars: Mapping[str, Any]
    plan: dict | None = None  # the plan cache document (read once), when a target/ folder holds it
    target_dir: Path | None = None

    def mart(self, key: str) -> Mart:
        return self.project.marts[key]


def _by_bare_name(project: Project) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for key, mart in project.marts.items():
        names.setdefault(mart.name, []).append(key)
    return names


def _line_of(table: exp.Table, mart: Mart) -> int:
    """The file line where the table reference is written (the SQL may start below line 1)."""
    line = table_line(table)
    return mart.sql_line + line - 1 if line else mart.sql_line


def _resolve(table: exp.Table, mart: Mart, project: Project, bare: dict[str, list[str]]):
    """('mart', key) or ('source', key); raise a Problem for anything else."""
    db, name = table.db, table.name
    if table.catalog:
        full = table_name(table)
        return None, Problem(
            f"mart '{mart.key}' reads '{full}': catalog-qualified names are not supported",
            mart.sql_path, _line_of(table, mart), hint="write area.mart or source.table",
        )
    if db:
        key = f"{db}.{name}"
        if key in project.marts:
            return ("mart", key), None
        if key in project.sources:
            return ("source", key), None
        candidates = [k for k in project.marts if k != mart.key] + list(project.sources)
    else:
        matches = bare.get(name, [])
        if len(matches) == 1:
            return ("mart", matches[0]), None
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
        tree = substitute_vars(parse_mart(mart), values, mart)
    except ProjectError as exc:
        return None, exc.problems
    refused = engine_problem(mart)
    if refused is not None:
        return None, [refused]
    item = ParsedMart(mart, tree)
    for table in table_references(tree):
        resolved, problem = _resolve(table, mart, project, bare)
        if problem:
            problems.append(problem)
        elif resolved[0] == "mart":
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


def build_graph(project: Project, vars: Mapping[str, Any] | None = None, target_dir: Path | None = None) -> ProjectGraph:
    """Parse every mart and link it to the marts and sources it reads; report every problem.

    With `target_dir`, an unchanged project's dependencies come from the plan cache there
    (martctl/plancache.py) and each mart is parsed only if something asks for its tree."""
    values = {**project.vars, **(vars or {})}
    bare = _by_bare_name(project)
    key = cached = None
    if target_dir is not None:
        from martctl.compiler import plancache

        key = plancache.project_key(project, values)
        cached = plancache.read(target_dir, key)
    if cached is not None and set(cached.get("deps", {})) == set(project.marts):
        parsed = {
            k: ParsedMart(m, upstream=tuple(cached["deps"][k]), parse=_parser(k, m, project, bare, values))
            for k, m in project.marts.items()
        }
        graph = Graph({k: item.upstream_marts for k, item in parsed.items()})
        return ProjectGraph(project, graph, parsed, values, cached, target_dir)
    problems: list[Problem] = []
    parsed = {}
    for name, mart in project.marts.items():
        item, found = _parse_one(name, mart, project, bare, values)
        problems += found
        if item is not None:
            parsed[name] = item
    graph = Graph({key: item.upstream_marts for key, item in parsed.items()})
    cycle = graph.find_cycle()
    if cycle:
        first = project.marts[cycle[0]]
        error = CycleError(cycle, first.file, first.line)
        if not problems:
            raise error
        problems.extend(error.problems)
    if problems:
        raise ProjectError(problems)
    plan = None
    if key is not None:
        from martctl.compiler import plancache

        deps = {k: [list(item.upstream_marts), list(item.upstream_sources)] for k, item in parsed.items()}
        plan = {"key": key, "deps": deps, "compiled": {}}
        plancache.write(target_dir, plan)
    return ProjectGraph(project, graph, parsed, values, plan, target_dir)
