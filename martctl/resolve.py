"""Turn a Project into its dependency graph: parse each mart, resolve the tables it reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlglot import exp

from .errors import CycleError, Problem, ProjectError
from .graph import Graph
from .loader import did_you_mean
from .project import Mart, Project
from .sql import parse_mart, substitute_vars, table_line, table_name, table_references


@dataclass
class ParsedMart:
    mart: Mart
    tree: exp.Query  # vars substituted, references still as written
    marts: dict[int, str] = field(default_factory=dict)  # id(Table node) -> mart key
    sources: dict[int, str] = field(default_factory=dict)  # id(Table node) -> source key

    @property
    def upstream_marts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.marts.values()))

    @property
    def upstream_sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.sources.values()))


@dataclass
class ProjectGraph:
    """The project plus its parsed marts and the mart-to-mart graph."""

    project: Project
    graph: Graph[str]
    parsed: dict[str, ParsedMart]
    vars: Mapping[str, Any]

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


def build_graph(project: Project, vars: Mapping[str, Any] | None = None) -> ProjectGraph:
    """Parse every mart and link it to the marts and sources it reads; report every problem."""
    values = {**project.vars, **(vars or {})}
    bare = _by_bare_name(project)
    problems: list[Problem] = []
    parsed: dict[str, ParsedMart] = {}
    for key, mart in project.marts.items():
        try:
            tree = substitute_vars(parse_mart(mart), values, mart)
        except ProjectError as exc:
            problems.extend(exc.problems)
            continue
        item = ParsedMart(mart, tree)
        for table in table_references(tree):
            resolved, problem = _resolve(table, mart, project, bare)
            if problem:
                problems.append(problem)
            elif resolved[0] == "mart":
                if resolved[1] == key:
                    problems.append(Problem(f"mart '{key}' reads itself", mart.sql_path, _line_of(table, mart),
                                            hint="an incremental mart sees its current rows through its filter, not its SQL"))
                item.marts[id(table)] = resolved[1]
            else:
                item.sources[id(table)] = resolved[1]
        parsed[key] = item
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
    return ProjectGraph(project, graph, parsed, values)
