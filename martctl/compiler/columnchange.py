"""Which columns an edit changed, and which columns of an input a mart reads (from sqlglot trees).

Both answer None when they cannot be sure (a star, a set operation, ordinal GROUP BY, rows that an
added aggregate would collapse...): the caller then treats every column as changed or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    from martctl.compiler.resolve import ParsedMart


def _outer_columns(tree: exp.Select, dialect: str) -> dict[str, str] | None:
    columns: dict[str, str] = {}
    for projection in tree.expressions:
        name = projection.alias_or_name.lower()
        if isinstance(projection, exp.Star) or projection.find(exp.Star) and not projection.find(exp.Count) or not name:
            return None
        if name in columns:
            return None
        columns[name] = projection.sql(dialect)
    return columns


def _aggregates(tree: exp.Select) -> bool:
    return any(not node.find_ancestor(exp.Window) for p in tree.expressions for node in p.find_all(exp.AggFunc))


def _shape(tree: exp.Select, dialect: str) -> str | None:
    """The query without its outer projections: what decides its rows."""
    for clause in ("group", "order"):
        node = tree.args.get(clause)
        if node is not None and any(isinstance(e, exp.Literal) for e in node.expressions):
            return None  # GROUP BY 1 reads the projections
    shape = tree.copy()
    shape.set("expressions", [exp.Literal.number(1)])
    return shape.sql(dialect)


def changed_columns(before: str, after: str, dialect: str) -> set[str] | None:
    """The output columns whose values may differ between two versions of a mart's canonical SQL
    (removed ones included; added ones not), or None when every column may have changed."""
    try:
        old, new = sqlglot.parse_one(before, dialect=dialect), sqlglot.parse_one(after, dialect=dialect)
    except sqlglot.errors.SqlglotError:
        return None
    if not (isinstance(old, exp.Select) and isinstance(new, exp.Select)):
        return None
    shape = _shape(old, dialect)
    if shape is None or shape != _shape(new, dialect) or _aggregates(old) != _aggregates(new):
        return None
    was, now = _outer_columns(old, dialect), _outer_columns(new, dialect)
    if was is None or now is None:
        return None
    return {c for c, text in was.items() if now.get(c) != text}


def columns_read(parsed: "ParsedMart", upstream: str) -> set[str] | None:
    """The column names `parsed` may read from mart `upstream` (unqualified names count as read), or
    None when it reads all of them (a star on it, a join USING/NATURAL)."""
    tree = parsed.tree
    tables = [t for t in tree.find_all(exp.Table) if parsed.marts.get(id(t)) == upstream]
    if not tables:
        return set()
    names = {t.alias_or_name.lower() for t in tables}
    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            return None
    for join in tree.find_all(exp.Join):
        if join.args.get("using") or join.args.get("method") or join.kind == "NATURAL":
            return None
    read = set()
    for column in tree.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            return None
        if not column.table or column.table.lower() in names:
            read.add(column.name.lower())
    return read
