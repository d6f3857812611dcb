"""AST transforms applied before generating SQL for a target dialect.

Where sqlglot's transpiling is wrong for a construct, martctl fixes it here, as a function
over the tree (sqlglot's classes may be compiled, so no subclassing). Each entry:
(source dialect or None for any, target dialect, transform). Each fix is one small function
with the upstream report it corresponds to in its docstring.

The trees reaching these functions are qualified and type-annotated (compile.py types a mart
whenever its dialect differs from the target's), so `node.type` can be trusted where known.
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

Transform = Callable[[exp.Expression], exp.Expression]

# dialects that do not accept GROUP BY ALL (sqlglot writes it through unchanged)
NO_GROUP_BY_ALL = ("postgres", "redshift", "tsql", "oracle", "mysql", "sqlite")


def _has(node: exp.Expression, *kinds: type[exp.Expression]) -> bool:
    return any(isinstance(n, kinds) for n in node.walk())


def expand_group_by_all(tree: exp.Expression) -> exp.Expression:
    """`GROUP BY ALL` -> the SELECT's expressions that hold no aggregate (DuckDB's rule).

    Upstream: sqlglot emits `GROUP BY ALL` as-is for postgres; PostgreSQL 15 reads ALL as the
    (default) set quantifier and then fails on the missing list ("syntax error at or near ')'").
    Constants are left out (grouping by them changes nothing, and an integer literal would read
    as a position); when nothing is left the GROUP BY clause goes (a plain aggregate).
    """
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        if not isinstance(group, exp.Group) or not group.args.get("all"):
            continue
        keys = []
        for item in select.expressions:
            inner = item.unalias() if isinstance(item, exp.Alias) else item
            if isinstance(inner, exp.Literal) or isinstance(inner, exp.Null):
                continue
            if _has(inner, exp.AggFunc, exp.Window, exp.Star):
                continue
            if not any(k == inner for k in keys):
                keys.append(inner.copy())
        select.set("group", exp.Group(expressions=keys) if keys else None)
    return tree


def _is_date(node: exp.Expression) -> bool:
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.DATE)
    return node.type is not None and node.type.is_type(exp.DataType.Type.DATE)


def date_trunc_of_date_is_timestamp(tree: exp.Expression) -> exp.Expression:
    """DuckDB's `date_trunc(unit, <date>)` is a TIMESTAMP; on Postgres the same call resolves to
    date_trunc(text, timestamptz) and returns a TIMESTAMP WITH TIME ZONE that depends on the
    session's TimeZone. Cast the date to TIMESTAMP first so both engines give a naive timestamp.

    Upstream: sqlglot duckdb -> postgres keeps DATE_TRUNC('MONTH', <date>) without the cast.
    """
    for node in list(tree.find_all(exp.DateTrunc, exp.TimestampTrunc)):
        arg = node.this
        if isinstance(arg, exp.Expression) and _is_date(arg):
            cast = exp.Cast(this=arg.copy(), to=exp.DataType.build("TIMESTAMP"))
            cast.type = exp.DataType.build("TIMESTAMP")
            arg.replace(cast)
    return tree


def duckdb_to_postgres(tree: exp.Expression) -> exp.Expression:
    """The fidelity rules (martctl/compiler/fidelity/): Postgres computes what DuckDB computes, or martctl refuses."""
    from martctl.compiler.fidelity import duckdb_to_postgres as rules

    return rules(tree)


def duckdb_to_spark(tree: exp.Expression) -> exp.Expression:
    """The Spark fidelity rules (martctl/compiler/fidelity/spark*.py): Spark computes what DuckDB computes, or martctl refuses."""
    from martctl.compiler.fidelity import duckdb_to_spark as rules

    return rules(tree)


TRANSFORMS: list[tuple[str | None, str, Transform]] = [
    *((None, target, expand_group_by_all) for target in NO_GROUP_BY_ALL),
    ("duckdb", "postgres", date_trunc_of_date_is_timestamp),
    ("duckdb", "postgres", duckdb_to_postgres),
    ("duckdb", "spark", duckdb_to_spark),
]


# before qualify/annotate_types, on the mart's own tree: (source dialect, target dialect, transform)
PRE_TYPING: list[tuple[str | None, str, Transform]] = []


def duckdb_before_typing(tree: exp.Expression) -> exp.Expression:
    """Fidelity rules that run before typing (decimal literals typed as DuckDB does, SEMI/ANTI joins)."""
    from martctl.compiler.fidelity import duckdb_before_typing as rules

    return rules(tree)


PRE_TYPING.append(("duckdb", "postgres", duckdb_before_typing))
PRE_TYPING.append(("duckdb", "spark", duckdb_before_typing))


def _apply(rules: list[tuple[str | None, str, Transform]], tree: exp.Expression, source: str, target: str) -> exp.Expression:
    if source == target:
        return tree
    for read, write, transform in rules:
        if write == target and read in (None, source):
            tree = transform(tree)
    return tree


def apply_pre_typing(tree: exp.Expression, source: str, target: str) -> exp.Expression:
    return _apply(PRE_TYPING, tree, source, target)


def apply_transforms(tree: exp.Expression, source: str, target: str) -> exp.Expression:
    return _apply(TRANSFORMS, tree, source, target)
