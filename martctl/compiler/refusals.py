"""Compile-time refusals: a construct the target cannot run with the mart's meaning is an error that
names the mart, the file and line where the user wrote it, and a portable rewrite."""

from __future__ import annotations

from sqlglot import exp

from martctl.errors import CompileError, Problem


class Refused(Exception):
    """Raised by a transform: `construct` cannot be kept on the target; `hint` says what to write instead."""

    def __init__(self, construct: str, node: exp.Expression | None, hint: str):
        self.construct, self.node, self.hint = construct, node, hint
        super().__init__(construct)


def source_line(node: exp.Expression | None) -> int | None:
    """The line (within the mart's SQL) the parser saw `node` on: its own, a descendant's or an ancestor's."""
    if node is None:
        return None
    for candidate in node.walk():
        line = candidate.meta.get("line") if candidate._meta else None
        if line:
            return line
    parent = node.parent
    while parent is not None:
        line = parent.meta.get("line") if parent._meta else None
        if line:
            return line
        parent = parent.parent
    return None


def refusal_error(mart, dialect: str, construct: str, line: int | None, hint: str) -> CompileError:
    from martctl.compiler.sql import sql_location

    file_line, _, snippet = sql_location(mart, line, None)
    return CompileError(
        Problem(
            f"mart '{mart.key}': {construct} has no equivalent on {dialect} that keeps its meaning",
            mart.sql_path,
            file_line if line else mart.sql_line,
            hint=hint,
            snippet=snippet,
        )
    )


# portable rewrites for functions the target lacks (name as the target would be asked for it)
REWRITES = {
    "regexp_extract": "regexp_replace(s, '^.*?(pattern).*$', '\\1') or substring(s from 'pattern') on Postgres",
    "list_sort": "sort in a subquery: (select array_agg(x order by x) from unnest(l) as x)",
    "array_sort": "sort in a subquery: (select array_agg(x order by x) from unnest(l) as x)",
    "if": "case when cond then a else b end",
    "strftime": "to_char on Postgres, strftime on DuckDB: a per-engine mart, or format the parts with extract",
    "struct_pack": "separate columns",
    "list_transform": "a subquery over unnest(l)",
    "list_filter": "a subquery over unnest(l) with a where",
}


def missing_function_hint(name: str, dialect: str) -> str:
    from martctl.compiler.surface import arity

    rewrite = REWRITES.get(name)
    said = f"{dialect}'s {name} {arity(dialect, name)}" if arity(dialect, name) != "does not exist" else f"{dialect} has no {name}()"
    return f"{said}; " + (f"write {rewrite}" if rewrite else "use a function both engines have (README: What translates)")
