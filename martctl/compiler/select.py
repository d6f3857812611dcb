"""The selection grammar, implemented once over the graph and shared by every command.

`name`, `area.name`, `+name` (with upstream), `name+` (with downstream), `2+name` / `name+1`
(limited depth), `tag:x`, `area:x`, `path:marts/x`, `materialized:x`, globs (`*_daily`);
space (or several -s) = union, comma = intersection; `--exclude` takes the same grammar.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Iterable

from martctl.compiler.graph import Graph
from martctl.errors import ProjectError
from martctl.project.model import Project

_ATOM = re.compile(r"^(?P<up>(\d*)\+)?(?P<body>.+?)(?P<down>\+(\d*))?$")
METHODS = ("tag", "area", "path", "materialized", "owner")


def _match_body(body: str, project: Project) -> set[str]:
    method, _, value = body.partition(":") if ":" in body else ("", "", body)
    marts = project.marts
    if method == "tag":
        return {k for k, m in marts.items() if any(fnmatchcase(t, value) for t in m.tags)}
    if method == "area":
        return {k for k, m in marts.items() if fnmatchcase(m.area, value)}
    if method == "materialized":
        return {k for k, m in marts.items() if m.materialized == value}
    if method == "owner":
        return {k for k, m in marts.items() if m.owner and fnmatchcase(m.owner, value)}
    if method == "path":
        wanted = (project.root / value).resolve()
        found = set()
        for k, m in marts.items():
            for path in (m.file, m.sql_path):
                resolved = path.resolve()
                if resolved == wanted or wanted in resolved.parents or fnmatchcase(str(resolved), str(wanted)):
                    found.add(k)
        return found
    if method:
        from martctl.errors import did_you_mean

        raise ProjectError(
            f"unknown selector method '{method}:' in '{body}'",
            hint=did_you_mean(method, METHODS) or f"methods: {', '.join(m + ':' for m in METHODS)}",
        )
    if value in marts:
        return {value}
    return {k for k, m in marts.items() if fnmatchcase(k, value) or fnmatchcase(m.name, value)}


def _atom(text: str, project: Project, graph: Graph[str]) -> set[str]:
    match = _ATOM.match(text)
    if not match or not match.group("body"):
        raise ProjectError(f"cannot read selector '{text}'", hint="examples: name, +name, name+, tag:daily, area:marketing")
    base = _match_body(match.group("body"), project)
    result = set(base)
    if match.group("up"):
        depth = match.group(2)
        result |= graph.upstream(base, int(depth) if depth else None)
    if match.group("down"):
        depth = match.group(5)
        result |= graph.downstream(base, int(depth) if depth else None)
    return result


def _expression(tokens: Iterable[str], project: Project, graph: Graph[str], warnings: list[str]) -> set[str]:
    selected: set[str] = set()
    for token in (t for chunk in tokens for t in chunk.split()):
        parts = [p for p in token.split(",") if p]
        matched = None
        for part in parts:
            found = _atom(part, project, graph)
            if not found:
                warnings.append(f"selector '{part}' matches no mart")
            matched = found if matched is None else matched & found
        selected |= matched or set()
    return selected


def select(
    project: Project,
    graph: Graph[str],
    selectors: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> tuple[list[str], list[str]]:
    """The selected mart keys in topological order, and warnings for selectors matching nothing."""
    warnings: list[str] = []
    selectors = [s for s in (selectors or []) if s.strip()]
    chosen = _expression(selectors, project, graph, warnings) if selectors else set(project.marts)
    if exclude:
        chosen -= _expression(exclude, project, graph, warnings)
    return [k for k in graph.topological_order() if k in chosen], warnings
