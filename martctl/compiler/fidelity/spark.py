"""DuckDB -> Spark fidelity: Spark computes what DuckDB computes, or martctl refuses the construct.

The traps of sqlglot's DuckDB -> Spark output, each a small rule over the typed tree (children
before parents, like the Postgres rules; a separate registry, since the same node needs another
answer on Spark): `array_agg(x ORDER BY y)` became COLLECT_LIST(x) (order and NULLs lost);
`range(0, 10, 3)` became SEQUENCE(0, 7, 3) (9 lost); regexp flags were dropped ('i' kept as
`(?i)`, others refused; DuckDB's regexp_replace replaces the first match unless 'g');
strftime codes with no DATE_FORMAT twin; `l[-1]` became `l[-2]` (DuckDB's 1-based index,
negative from the end, NULL out of range: Spark's try_element_at); DuckDB's decimal division
and avg are DOUBLE (Spark keeps a rounded DECIMAL); date_trunc of a DATE is a TIMESTAMP.
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

from martctl.compiler.fidelity.registry import (
    FLOATS,
    INTEGERS,
    NUMERIC_EXACT,
    TEXT,
    int_value,
    is_type,
    refuse,
    string_value,
)

SparkRule = Callable[[exp.Expression], exp.Expression | None]
RULES: dict[type, list[SparkRule]] = {}

# strftime codes DATE_FORMAT writes the same way (sqlglot maps them); any other is refused
SAME_CODES = {"%Y", "%m", "%d", "%H", "%M", "%S", "%y", "%%", "%I", "%p", "%b", "%B"}


def spark_rule(*classes: type):
    def register(fn: SparkRule) -> SparkRule:
        for cls in classes:
            RULES.setdefault(cls, []).append(fn)
        return fn

    return register


def _double(node: exp.Expression) -> exp.Expression:
    cast = exp.Cast(this=node, to=exp.DataType.build("DOUBLE"))
    cast.type = exp.DataType.build("DOUBLE")
    return cast


@spark_rule(exp.ArrayAgg)
def array_agg(node: exp.ArrayAgg):
    what = "array_agg(x ORDER BY y)" if isinstance(node.this, exp.Order) else "array_agg(x) / list(x)"
    refuse(what, node, "Spark's COLLECT_LIST drops NULLs and keeps no order: write the mart in the spark dialect "
                       "(array_sort(collect_list(struct(y, x))) ...) or aggregate to a string with string_agg(... ORDER BY ...)")


@spark_rule(exp.GenerateSeries)
def series(node: exp.GenerateSeries):
    """range(a, b[, s]) (end excluded) / generate_series (end included): the exact SEQUENCE, or an empty array."""
    if isinstance(node.parent, exp.Table) or isinstance(node.parent, exp.Unnest):  # FROM range(...): Spark's range table
        return _range_table(node)
    start, end, step = (int_value(node.args.get(k)) for k in ("start", "end", "step"))
    step = 1 if node.args.get("step") is None else step
    if start is None or end is None or step in (None, 0):
        refuse("range() / generate_series() with bounds that are not integer constants", node,
               "Spark's SEQUENCE includes its end and fails on an empty range: use constants, or the spark dialect")
    values = list(range(start, end + (0 if node.args.get("is_end_exclusive") else (1 if step > 0 else -1)), step))
    if not values:
        return exp.Array(expressions=[])
    return exp.Anonymous(this="SEQUENCE", expressions=[exp.Literal.number(values[0]), exp.Literal.number(values[-1]),
                                                       exp.Literal.number(step)])


def _range_table(node: exp.GenerateSeries) -> exp.Expression:
    """FROM range(a, b[, s]): Spark's range table function excludes its end too (generate_series: end + 1)."""
    end = node.args["end"].copy()
    if not node.args.get("is_end_exclusive"):
        end = exp.Add(this=end, expression=exp.Literal.number(1))
    args = [node.args.get("start") or exp.Literal.number(0), end, node.args.get("step") or exp.Literal.number(1)]
    return exp.Anonymous(this="RANGE", expressions=[a.copy() for a in args])


def _flags(node: exp.Expression, allowed: str, what: str) -> str:
    flags = node.args.get("flag") or node.args.get("modifiers")
    if flags is None:
        return ""
    text = string_value(flags)
    if text is None or set(text) - set(allowed):
        refuse(f"{what} with flags {flags.sql('duckdb')}", node, f"Spark keeps only these flags here: {allowed}")
    return text


def _posix_classes(node: exp.Expression) -> None:
    """[[:upper:]] is a POSIX class for DuckDB (RE2), a set of characters for Java's regexes."""
    text = string_value(node.expression)
    if text is not None and "[:" in text:
        refuse("a regexp with a POSIX class ([[:alpha:]] ...)", node, "use \\p{Upper}-style classes or explicit ranges")


def _case_insensitive(pattern: exp.Expression, node: exp.Expression) -> exp.Expression:
    text = string_value(pattern)
    if text is None:
        refuse("a regexp 'i' flag with a pattern that is not a constant", node, "write (?i) at the start of the pattern")
    return exp.Literal.string("(?i)" + text)


@spark_rule(exp.RegexpLike)
def regexp_matches(node: exp.RegexpLike):
    _posix_classes(node)
    flags = _flags(node, "i", "regexp_matches()")
    if not flags:
        return None
    return exp.RegexpLike(this=node.this, expression=_case_insensitive(node.expression, node))


@spark_rule(exp.RegexpReplace)
def regexp_replace(node: exp.RegexpReplace):
    _posix_classes(node)
    flags = _flags(node, "gi", "regexp_replace()")
    if "g" not in flags:
        refuse("regexp_replace() without the 'g' flag", node,
               "DuckDB replaces the first match only, Spark every match: add 'g' if every match is meant")
    pattern = _case_insensitive(node.expression, node) if "i" in flags else node.expression
    return exp.RegexpReplace(this=node.this, expression=pattern, replacement=node.args.get("replacement"))


@spark_rule(exp.TimeToStr)
def strftime(node: exp.TimeToStr):
    import re

    text = string_value(node.args.get("format"))
    if text is None:
        refuse("strftime() with a format that is not a constant", node, "use a constant format")
    odd = [code for code in re.findall(r"%.", text) if code not in SAME_CODES]
    if odd:
        refuse(f"strftime() code {odd[0]}", node, f"DATE_FORMAT has no exact twin of {odd[0]}; codes kept: "
                                                 + " ".join(sorted(SAME_CODES)))
    if re.search(r"[A-Za-z']", re.sub(r"%.", "", text)):
        refuse("strftime() with letters outside its codes", node, "DATE_FORMAT reads letters as codes: concatenate them")
    return None


@spark_rule(exp.Bracket)
def bracket(node: exp.Bracket):
    """DuckDB's l[i] (1-based, negative from the end, NULL out of range) is Spark's try_element_at(l, i)."""
    if len(node.expressions) != 1 or isinstance(node.expressions[0], exp.Slice) or not is_type(node.this, exp.DataType.Type.ARRAY):
        return None
    index = node.expressions[0]
    value = int_value(index)
    if value is not None:  # sqlglot keeps the index 0-based: DuckDB's i is value + 1
        if value + 1 == 0:
            refuse("l[0]", node, "DuckDB's lists start at 1: l[0] is always NULL")
        position: exp.Expression = exp.Literal.number(value + 1)
    else:
        position = exp.Add(this=index.copy(), expression=exp.Literal.number(1))
    return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[node.this.copy(), position])


@spark_rule(exp.Div)
def decimal_division(node: exp.Div):
    """DuckDB divides decimals (and integers) as DOUBLE; Spark keeps a DECIMAL rounded to its scale."""
    if any(is_type(side, *NUMERIC_EXACT) for side in (node.this, node.expression)) and \
            all(is_type(side, *NUMERIC_EXACT, *INTEGERS, *FLOATS) for side in (node.this, node.expression)):
        node.set("this", _double(node.this.copy()))
        node.set("expression", _double(node.expression.copy()))
    return None


@spark_rule(exp.Avg)
def decimal_avg(node: exp.Avg):
    """DuckDB's avg of a DECIMAL is a DOUBLE from the exact sum: double(sum) / count. Spark's is a
    DECIMAL with 4 more digits of scale (and an avg of doubles would sum in another order)."""
    if not is_type(node.this, *NUMERIC_EXACT) or isinstance(node.this, exp.Distinct) or node.find_ancestor(exp.Window):
        return None
    count = _double(exp.Count(this=node.this.copy()))
    return exp.paren(exp.Div(this=_double(exp.Sum(this=node.this.copy())), expression=count))


@spark_rule(exp.Round)
def round_double(node: exp.Round):
    """DuckDB rounds a DOUBLE half away from zero at its exact binary value (10.735 is 10.7349999...:
    10.73); Spark's ROUND goes through the decimal text (10.74). Written out as DuckDB computes it,
    as for Postgres, without the scalar subquery Spark would refuse."""
    from martctl.compiler.fidelity.semantics import round_as_duckdb

    if isinstance(node.this, exp.Div) and not is_type(node.this, *FLOATS):  # DuckDB's / is a DOUBLE
        node.this.type = exp.DataType.build("DOUBLE")
    return round_as_duckdb(node, inline=True)


BOUNDARY_UNITS = {"YEAR", "QUARTER", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"}


@spark_rule(exp.DateDiff)
def date_diff(node: exp.DateDiff):
    """DuckDB's date_diff counts the unit's boundaries crossed (Jan 31 -> Feb 1 is 1 month); Spark's
    DATEDIFF(unit, ...) counts whole units (0). The same count: the whole units between both truncated."""
    if not node.args.get("date_part_boundary"):
        return None
    unit = node.text("unit").upper()
    if unit not in BOUNDARY_UNITS:
        refuse(f"date_diff('{unit.lower()}', ...)", node, "count days and divide: date_diff('day', a, b) // 7")

    def truncated(side: exp.Expression) -> exp.Expression:
        return exp.TimestampTrunc(this=exp.Cast(this=side.copy(), to=exp.DataType.build("TIMESTAMP")), unit=exp.var(unit))

    return exp.DateDiff(this=truncated(node.this), expression=truncated(node.expression), unit=exp.var(unit))


def _naive(node: exp.Expression) -> exp.Cast:
    """CAST(... AS TIMESTAMP): Spark's date_trunc is a TIMESTAMP with local time zone (an instant);
    DuckDB's of a TIMESTAMP or a DATE is naive (the session's timestampType makes this cast NTZ)."""
    return exp.Cast(this=node, to=exp.DataType.build("TIMESTAMP"))


@spark_rule(exp.DateTrunc)
def date_trunc_of_date(node: exp.DateTrunc):
    """date_trunc(unit, <date>) is a TIMESTAMP in DuckDB; sqlglot writes Spark's TRUNC, a DATE."""
    unit = string_value(node.args.get("unit")) or node.text("unit")
    return _naive(exp.TimestampTrunc(this=exp.Cast(this=node.this.copy(), to=exp.DataType.build("TIMESTAMP")),
                                     unit=exp.var(unit.upper())))


@spark_rule(exp.TimestampTrunc)
def timestamp_trunc(node: exp.TimestampTrunc):
    if is_type(node.this, exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMPLTZ):
        return None
    return _naive(node.copy())


# -- dates ---------------------------------------------------------------------------------------
def _dow(x: exp.Expression) -> exp.Expression:
    """DuckDB's day of week, 0 = Sunday (Spark's DAYOFWEEK: 1 = Sunday)."""
    return exp.paren(exp.Sub(this=exp.Anonymous(this="DAYOFWEEK", expressions=[x.copy()]), expression=exp.Literal.number(1)))


def _isodow(x: exp.Expression) -> exp.Expression:
    """1 = Monday ... 7 = Sunday."""
    shifted = exp.Mod(this=exp.paren(exp.Add(this=exp.Anonymous(this="DAYOFWEEK", expressions=[x.copy()]),
                                             expression=exp.Literal.number(5))), expression=exp.Literal.number(7))
    return exp.paren(exp.Add(this=exp.paren(shifted), expression=exp.Literal.number(1)))


@spark_rule(exp.DayOfWeek)
def day_of_week(node: exp.DayOfWeek):
    return _dow(node.this)


@spark_rule(exp.DayOfWeekIso)
def iso_day_of_week(node: exp.DayOfWeekIso):
    return _isodow(node.this)


@spark_rule(exp.Extract)
def extract(node: exp.Extract):
    part = node.this.name.upper()
    if part in ("DOW", "DAYOFWEEK"):
        return _dow(node.expression)
    if part in ("ISODOW",):
        return _isodow(node.expression)
    if part in ("EPOCH", "SECOND", "SECONDS"):
        refuse(f"extract({part.lower()} from ...)", node, "Spark's is a DECIMAL with the fraction: "
               "use second(ts) for whole seconds, unix_micros(ts) / 1e6 for the epoch")
    return None


@spark_rule(exp.Dayname)
def day_name(node: exp.Dayname):
    return exp.Anonymous(this="DATE_FORMAT", expressions=[node.this.copy(), exp.Literal.string("EEEE")])


@spark_rule(exp.Monthname)
def month_name(node: exp.Monthname):
    return exp.Anonymous(this="DATE_FORMAT", expressions=[node.this.copy(), exp.Literal.string("MMMM")])


def _is_date(node: exp.Expression) -> bool:
    return is_type(node, exp.DataType.Type.DATE)


@spark_rule(exp.Add, exp.Sub)
def date_arithmetic(node: exp.Expression):
    """date - date is DuckDB's whole days (an INTEGER); date +/- interval is a TIMESTAMP (Spark: a DATE)."""
    left, right = node.this, node.expression
    if isinstance(node, exp.Sub) and _is_date(left) and _is_date(right):
        return exp.Anonymous(this="DATEDIFF", expressions=[left.copy(), right.copy()])
    if _is_date(left) and isinstance(right, exp.Interval):
        node.set("this", exp.Cast(this=left.copy(), to=exp.DataType.build("TIMESTAMP")))
    return None


# -- values ----------------------------------------------------------------------------------------
@spark_rule(exp.Cast, exp.TryCast)
def casts(node: exp.Expression):
    """To an integer DuckDB rounds (a DECIMAL half away from zero, a DOUBLE half to even), Spark
    truncates; a DOUBLE or a list as text is written another way (1e+300 / 1.0E300, NULL / null)."""
    to, value = node.args.get("to"), node.this
    if to is None:
        return None
    if to.is_type(*INTEGERS):
        if is_type(value, *NUMERIC_EXACT):
            node.set("this", exp.Round(this=value.copy(), decimals=exp.Literal.number(0)))
        elif is_type(value, *FLOATS):
            node.set("this", exp.Anonymous(this="BROUND", expressions=[value.copy(), exp.Literal.number(0)]))
        return None
    if to.is_type(*TEXT) and (is_type(value, *FLOATS) or is_type(value, exp.DataType.Type.ARRAY, exp.DataType.Type.STRUCT,
                                                                   exp.DataType.Type.MAP)):
        refuse(f"cast({value.type.sql('duckdb').lower()} as varchar)", node,
               "Spark writes doubles and lists as text another way: format them explicitly (printf, array_join)")
    return None


@spark_rule(exp.IsNan)
def is_nan(node: exp.IsNan):
    """isnan(NULL) is NULL in DuckDB, false in Spark."""
    return exp.If(this=exp.Is(this=node.this.copy(), expression=exp.Null()), true=exp.Null(), false=node.copy())


@spark_rule(exp.Typeof)
def type_of(node: exp.Typeof):
    refuse("typeof()", node, "type names differ between engines: declare the column's type instead")


@spark_rule(exp.Like, exp.ILike)
def like(node: exp.Expression):
    """Spark's LIKE reads a backslash as an escape, DuckDB's does not (without ESCAPE)."""
    if node.args.get("escape") is not None or isinstance(node.parent, exp.Escape):
        return None
    pattern = string_value(node.expression)
    if pattern is None:
        refuse("LIKE with a pattern that is not a constant", node, "add ESCAPE '!' (or another character) to the LIKE")
    if "\\" in pattern:
        refuse("LIKE with a backslash in the pattern", node, "add an explicit ESCAPE clause")
    return None
