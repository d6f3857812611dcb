"""AST transforms applied before generating SQL for a target dialect.

Where sqlglot's transpiling is wrong for a construct, martctl fixes it here, as a function
over the tree (sqlglot's classes may be compiled, so no subclassing). Each entry:
(source dialect or None for any, target dialect, transform). Each fix is one small function
with the upstream report it corresponds to in its docstring.

The trees reaching these functions are qualified and type-annotated (compile.py types a mart
whenever its dialect differs from the target's), so `node.type` can be trusted where known.
"""

from __future__ import annotations

import re
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


def _is_double(node: exp.Expression) -> bool:
    """Already a DOUBLE on Postgres: a cast to it, or a division written by these transforms."""
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.DOUBLE)
    if isinstance(node, exp.Paren):
        return _is_double(node.this)
    return isinstance(node, exp.Div) and bool(node.args.get("typed")) and node.is_type(exp.DataType.Type.DOUBLE)


def _double(node: exp.Expression) -> exp.Cast:
    cast = exp.Cast(this=node, to=exp.DataType.build("DOUBLE"))
    cast.type = exp.DataType.build("DOUBLE")
    return cast


def _is_number(node: exp.Expression) -> bool:
    """A numeric literal or an expression annotated with a numeric type (not an interval, not unknown)."""
    if isinstance(node, exp.Literal):
        return node.is_number
    if isinstance(node, exp.Neg):
        return _is_number(node.this)
    return node.type is not None and node.type.is_type(*exp.DataType.NUMERIC_TYPES)


def division_of_numbers_is_double(tree: exp.Expression) -> exp.Expression:
    """DuckDB's `/` of two numbers converts both to DOUBLE and divides (DECIMAL / DECIMAL, DECIMAL / INT
    and INT / INT alike); Postgres divides NUMERICs exactly and returns a NUMERIC (TPC-H Q8, Q14, Q17:
    `sum(...) / sum(...)`, `sum(...) / 7.0`). Cast both operands to DOUBLE PRECISION.

    Upstream: sqlglot casts to DOUBLE PRECISION only when neither operand is a "real" type, and it
    counts DECIMAL (and the literal 7.0, which it annotates DOUBLE) as real, so a DECIMAL division
    stays NUMERIC on Postgres. `//` (an integer division, `typed`) is left alone.
    """
    for div in list(tree.find_all(exp.Div)):
        if div.args.get("typed") or not (_is_number(div.left) and _is_number(div.right)):
            continue
        if all(side.is_int or side.is_type(*exp.DataType.INTEGER_TYPES) for side in (div.left, div.right)):
            continue  # sqlglot itself casts an integer division to DOUBLE PRECISION
        for side in (div.left, div.right):
            if not _is_double(side):
                side.replace(_double(side.copy()))
        div.type = exp.DataType.build("DOUBLE")  # what encloses it (round(x, 2)) is then written for a DOUBLE
    return tree


def _whole_call(node: exp.Expression) -> exp.Expression:
    """The call with its FILTER / OVER / IGNORE NULLS wrappers: what a cast must wrap."""
    while isinstance(node.parent, (exp.Filter, exp.Window, exp.IgnoreNulls, exp.RespectNulls)) and node.parent.this is node:
        node = node.parent
    return node


def average_of_exact_numbers_is_double(tree: exp.Expression) -> exp.Expression:
    """DuckDB's `avg` of an INTEGER or DECIMAL is a DOUBLE, computed as the exact sum converted to
    DOUBLE and divided by the count; Postgres's is a NUMERIC with up to 20 digits (TPC-H Q1's avg_qty:
    25.548224025542105 against 25.5482240255421046). Write `CAST(SUM(x) AS DOUBLE PRECISION) / COUNT(x)`
    (FILTER and OVER kept on both), which gives DuckDB's double bit for bit: casting the NUMERIC average
    to DOUBLE instead rounds once where DuckDB rounds twice (0.05039776506585074 against ...073).

    Upstream: sqlglot annotates `AVG(<decimal>)` as DOUBLE (DuckDB's type) but writes the call
    unchanged for Postgres, where it is NUMERIC.
    """
    exact = (*exp.DataType.INTEGER_TYPES, exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL)
    for avg in list(tree.find_all(exp.Avg)):
        arg = avg.unnest_operands()[0] if isinstance(avg.this, exp.Distinct) else avg.this
        if not (isinstance(arg, exp.Literal) and arg.is_number) and not (arg.type is not None and arg.type.is_type(*exact)):
            continue
        whole = _whole_call(avg)
        parts = []
        for kind in (exp.Sum, exp.Count):
            call = whole.copy()
            inner = next(n for n in call.walk() if isinstance(n, exp.Avg))
            swapped = kind(this=inner.this)
            parts.append(swapped if inner is call else call)
            inner.replace(swapped)
        div = exp.Div(this=_double(parts[0]), expression=parts[1], typed=True)
        div.type = exp.DataType.build("DOUBLE")
        paren = exp.Paren(this=div)  # avg(a) / avg(b) must not become a / n / b / m
        paren.type = div.type
        whole.replace(paren)
    return tree


# DuckDB's EXTRACT/date_part is a BIGINT; Postgres's EXTRACT is a NUMERIC (with a fraction for seconds)
_INTEGER_PARTS = {"YEAR", "ISOYEAR", "QUARTER", "MONTH", "WEEK", "DAY", "DAYOFWEEK", "DAYOFWEEKISO", "ISODOW",
                  "DAYOFYEAR", "HOUR", "MINUTE", "DECADE", "CENTURY", "MILLENNIUM"}
_TRUNCATED_PARTS = {"SECOND", "MILLISECOND", "MICROSECOND"}  # DuckDB drops the fraction of the second
_UNIT_FUNCTIONS = {exp.Year: "YEAR", exp.Month: "MONTH", exp.Day: "DAY"}  # written as EXTRACT for Postgres


def _date_part(node: exp.Expression) -> str | None:
    from sqlglot.dialects.dialect import Dialect

    if isinstance(node, exp.Extract):
        name = node.this.name.upper()
        return Dialect.get_or_raise("duckdb").DATE_PART_MAPPING.get(name, name)
    return _UNIT_FUNCTIONS.get(type(node))


def extract_is_an_integer(tree: exp.Expression) -> exp.Expression:
    """DuckDB's `extract(year from d)` (and `year(d)`, `month(d)`, `day(d)`) is a BIGINT; Postgres 14+
    returns a NUMERIC, so a mart's column changes type (TPC-H Q7, Q8, Q9: l_year, o_year) and a
    seconds part keeps its fraction (12.7 where DuckDB says 12). Cast to BIGINT (the fraction dropped
    first); `epoch`, a DOUBLE in DuckDB, is cast to DOUBLE PRECISION.

    Upstream: sqlglot duckdb -> postgres writes EXTRACT(...) unchanged.
    """
    for node in list(tree.find_all(exp.Extract, *_UNIT_FUNCTIONS)):
        part = _date_part(node)
        if part in _INTEGER_PARTS:
            replacement = exp.Cast(this=node.copy(), to=exp.DataType.build("BIGINT"))
        elif part in _TRUNCATED_PARTS:
            replacement = exp.Cast(this=exp.Floor(this=node.copy()), to=exp.DataType.build("BIGINT"))
        elif part == "EPOCH":
            replacement = _double(node.copy())
        else:
            continue
        replacement.type = replacement.to
        node.replace(replacement)
    return tree


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAMED_AGGREGATES = (exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Count)


def _duckdb_name(node: exp.Expression) -> str | None:
    """DuckDB's name for an unaliased `sum(x)`, `max(t.x)`, `count(*)` (None for any other shape)."""
    if not isinstance(node, _NAMED_AGGREGATES) or any(v for k, v in node.args.items() if k not in ("this", "big_int")):
        return None  # max(x, 3) and the like
    arg = node.this
    if isinstance(node, exp.Count) and isinstance(arg, exp.Star):
        return "count_star()"
    if not isinstance(arg, exp.Column) or not all(
            isinstance(p, exp.Identifier) and not p.quoted and _PLAIN_NAME.fullmatch(p.name) for p in arg.parts):
        return None
    return f"{node.key}({'.'.join(p.name for p in arg.parts)})"


def name_unaliased_aggregates_like_duckdb(tree: exp.Expression) -> exp.Expression:
    """An unaliased `sum(l_quantity)` in a DuckDB mart's output is the column "sum(l_quantity)" on
    DuckDB; typed for another dialect it becomes `AS _col_5` (TPC-H Q18). Give it DuckDB's name:
    the aggregate's name in lower case and its argument as written (`count(*)` is "count_star()").
    Other unaliased expressions are left as they are. Runs before qualification (it needs the
    column as written).

    Upstream: sqlglot's qualify (qualify_outputs) names unaliased projections `_col_<i>`, so a
    transpiled query's output column names change.
    """
    if not isinstance(tree, exp.Query):
        return tree
    for item in tree.selects:
        name = None if isinstance(item, exp.Alias) else _duckdb_name(item)
        if name:
            placeholder = exp.Null()
            item.replace(placeholder)
            alias = exp.to_identifier(name, quoted=True)
            alias.meta["case_sensitive"] = True  # qualify lower-cases DuckDB's identifiers, quoted or not
            placeholder.replace(exp.alias_(item, alias))
    return tree


TRANSFORMS: list[tuple[str | None, str, Transform]] = [
    *((None, target, expand_group_by_all) for target in NO_GROUP_BY_ALL),
    ("duckdb", "postgres", date_trunc_of_date_is_timestamp),
    ("duckdb", "postgres", average_of_exact_numbers_is_double),  # before the division: avg(x) / 2 sees a DOUBLE
    ("duckdb", "postgres", extract_is_an_integer),
    ("duckdb", "postgres", division_of_numbers_is_double),
]


def apply_transforms(tree: exp.Expression, source: str, target: str) -> exp.Expression:
    if source == target:
        return tree
    for read, write, transform in TRANSFORMS:
        if write == target and read in (None, source):
            tree = transform(tree)
    return tree
