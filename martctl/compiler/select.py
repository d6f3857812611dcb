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
from martctl.errors import Problem, ProjectError
from martctl.project.model import Project

_ATOM = re.compile(r"^(?P<up>(\d*)\+)?(?P<body>.+?)(?P<down>\+(\d*))?$")
def _by_tag(project: Project, value: str) -> set[str]:
    return {k for k, m in project.marts.items() if any(fnmatchcase(t, value) for t in m.tags)}


def _by_area(project: Project, value: str) -> set[str]:
    return {k for k, m in project.marts.items() if fnmatchcase(m.area, value)}


def _by_materialized(project: Project, value: str) -> set[str]:
    return {k for k, m in project.marts.items() if m.materialized == value}


def _by_owner(project: Project, value: str) -> set[str]:
    return {k for k, m in project.marts.items() if m.owner and fnmatchcase(m.owner, value)}


def _by_path(project: Project, value: str) -> set[str]:
    """Marts whose YAML or SQL file is the path, lies under it, or matches it as a glob."""
    wanted = (project.root / value).resolve()

    def hit(path) -> bool:
        resolved = path.resolve()
        return resolved == wanted or wanted in resolved.parents or fnmatchcase(str(resolved), str(wanted))

    return {k for k, m in project.marts.items() if hit(m.file) or hit(m.sql_path)}


def _by_name(project: Project, value: str) -> set[str]:
    if value in project.marts:
        return {value}
    return {k for k, m in project.marts.items() if fnmatchcase(k, value) or fnmatchcase(m.name, value)}


METHODS = {"tag": _by_tag, "area": _by_area, "path": _by_path, "materialized": _by_materialized, "owner": _by_owner}


def _match_body(body: str, project: Project) -> set[str]:
    """The marts one selector body (no +) names: `method:value` or a name/glob."""
    if ":" not in body:
        return _by_name(project, body)
    method, _, value = body.partition(":")
    if method not in METHODS:
        from martctl.errors import did_you_mean

        raise ProjectError(
            f"unknown selector method '{method}:' in '{body}'",
            hint=did_you_mean(method, METHODS) or f"methods: {', '.join(m + ':' for m in METHODS)}",
        )
    return METHODS[method](project, value)


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


def _expression(tokens: Iterable[str], project: Project, graph: Graph[str], warnings: list[str],
                unmatched: list[Problem]) -> set[str]:
    selected: set[str] = set()
    for token in (t for chunk in tokens for t in chunk.split()):
        parts = [p for p in token.split(",") if p]
        matched = None
        for part in parts:
            found = _atom(part, project, graph)
            if not found:
                unmatched.append(_no_match(part, project))
            matched = found if matched is None else matched & found
        if not matched and len(parts) > 1 and all(_atom(p, project, graph) for p in parts):
            warnings.append(f"selector '{token}' matches no mart: its parts have no mart in common")
        selected |= matched or set()
    return selected


def _no_match(part: str, project: Project) -> Problem:
    """A selector that matches nothing, with the nearest thing that exists (a cron typo must not pass)."""
    from martctl.errors import did_you_mean

    body = _ATOM.match(part).group("body")
    method, _, value = body.partition(":") if ":" in body else ("", "", body)
    marts = project.marts.values()
    choices = {
        "": [m.key for m in marts] + [m.name for m in marts],
        "tag": sorted({t for m in marts for t in m.tags}),
        "area": sorted({m.area for m in marts}),
        "owner": sorted({m.owner for m in marts if m.owner}),
        "materialized": sorted({m.materialized for m in marts}),
    }.get(method, [])
    hint = did_you_mean(value, choices)
    if hint and method:
        hint = hint.replace("'", f"'{method}:", 1)
    return Problem(f"selector '{part}' matches no mart", hint=hint or "martctl ls lists the marts and their tags")


def select(
    project: Project,
    graph: Graph[str],
    selectors: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> tuple[list[str], list[str]]:
    """The selected mart keys in topological order, and warnings (an intersection with nothing in common).
    A selector (or exclusion) that matches no mart is an error, with a did-you-mean."""
    warnings: list[str] = []
    unmatched: list[Problem] = []
    selectors = [s for s in (selectors or []) if s.strip()]
    chosen = _expression(selectors, project, graph, warnings, unmatched) if selectors else set(project.marts)
    if exclude:
        chosen -= _expression(exclude, project, graph, warnings, unmatched)
    if unmatched:
        raise ProjectError(unmatched)
    return [k for k in graph.topological_order() if k in chosen], warnings
