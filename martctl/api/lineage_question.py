"""`martctl lineage NAME...`: decide whether the names ask about a column or about tables, and answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from martctl.errors import ProjectError, did_you_mean

SELECTOR_CHARS = set("+:*?[], ")


@dataclass
class LineageAnswer:
    kind: str  # table | column
    graph: dict  # the JSON graph (format version 1, see the README)


def answer(lin, names: Sequence[str], *, upstream: bool = False, downstream: bool = False, depth: int | None = None,
           impact: str | None = None, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
           any_table: bool = False) -> LineageAnswer:
    """A column's upstream (or, with `downstream`/`impact`, every column depending on it), or the
    table lineage of named marts/sources and selectors. With no name and `any_table`, every table."""
    names = list(names)
    if impact:
        if names:
            raise ProjectError("--impact takes the column itself; give no other name", hint=f"martctl lineage --impact {impact}")
        names, downstream, upstream = [impact], True, False
    column_names = [n for n in names if not (SELECTOR_CHARS & set(n)) and lin.resolve(n)[1] is not None]
    if column_names:
        if len(names) != 1:
            raise ProjectError("name one column at a time", hint=f"martctl lineage {column_names[0]}")
        if upstream and downstream:
            raise ProjectError("for a column, pick --upstream (where it comes from) or --downstream (its impact)")
        relation, column = lin.resolve(column_names[0])
        graph = lin.impact(relation, column, depth) if downstream else lin.column_upstream(relation, column, depth)
        return LineageAnswer("column", graph)
    if impact:
        raise ProjectError(f"--impact needs a column, got the table '{impact}'", hint=f"martctl lineage --impact {impact}.<column>")
    roots = _roots(lin, names, select, exclude)
    if not roots:
        if not any_table:
            raise ProjectError("name a mart, a column or a selector",
                               hint="martctl lineage marketing.campaign_roas, or martctl lineage marketing.campaign_roas.spend")
        roots = list(lin.hops)
    both = upstream == downstream
    return LineageAnswer("table", lin.tables(roots, upstream=both or upstream, downstream=both or downstream, depth=depth))


def _roots(lin, names: list[str], select, exclude) -> list[str]:
    """Mart/source keys named directly, or picked by the selection grammar."""
    from martctl.compiler.select import select as run_select

    roots: list[str] = []
    selectors = list(select or [])
    for name in names:
        if SELECTOR_CHARS & set(name):
            selectors.append(name)
        else:
            roots.append(lin.resolve(name)[0])
    if selectors or exclude and not roots:
        keys, _ = run_select(lin.project, lin.graph, selectors or None, exclude)
        if not keys:
            choices = list(lin.project.marts) + [m.name for m in lin.project.marts.values()]
            hint = did_you_mean(selectors[0].strip("+"), choices) if selectors else None
            raise ProjectError(f"the selection '{' '.join(selectors)}' matches no mart",
                               hint=hint or "martctl ls lists the marts; selectors: name, +name, name+, tag:x, area:x")
        roots.extend(k for k in keys if k not in roots)
    return roots
