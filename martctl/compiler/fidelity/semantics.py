"""Where DuckDB and Postgres compute different values for the same SQL: make Postgres compute
DuckDB's value (rounding, division, substrings, list indexes, LIKE escapes, regexes, formats,
naive timestamps ...), or refuse the construct."""

from __future__ import annotations

from sqlglot import exp

from martctl.compiler.fidelity.registry import (
    DOUBLE,
    FLOATS,
    INTEGERS,
    NUMERIC_EXACT,
    TEXT,
    call,
    cast,
    data_type,
    int_value,
    is_type,
    refuse,
    rule,
    string_value,
    template,
    typed,
)
from martctl.compiler.fidelity.text import glob_to_regex, re2_to_postgres, strftime_to_char

T = exp.DataType.Type


# -- numbers ---------------------------------------------------------------------------------
# DuckDB rounds the exact product |x| * 10^n (it multiplies in extended precision) half away from
# zero. In double precision: p = |x| * c rounded; only when p is exactly at .5 does the exact
# product matter: it is below p when Dekker's error of the product (|x| split into 26-bit halves,
# hi = t - (t - |x|), t = 134217729 * |x|) is negative. That rare branch is a scalar subquery that
# names |x| once (the output stays short); a window function in x keeps it inline.
_TIE = (
    "(SELECT CASE WHEN (_r.hi * _c - _r.v * _c) + (_r.v - _r.hi) * _c >= 0 THEN 1 ELSE 0 END "
    "FROM (SELECT _q.v, 134217729 * _q.v - (134217729 * _q.v - _q.v) AS hi FROM (SELECT _a AS v) AS _q) AS _r)"
)
_TIE_INLINE = "CASE WHEN (_hi * _c - _a * _c) + (_a - _hi) * _c >= 0 THEN 1 ELSE 0 END"


def _exact_round(x: exp.Expression, digits: int, inline: bool = False) -> exp.Expression:
    c = exp.Literal.number(10 ** digits)

    def a() -> exp.Expression:
        return exp.Abs(this=x.copy())

    def p() -> exp.Expression:
        return exp.Mul(this=a(), expression=c.copy())

    if inline or x.find(exp.Window):
        hi = template("134217729 * _a - (134217729 * _a - _a)", a=a())
        tie = template(_TIE_INLINE, a=a(), hi=exp.Paren(this=hi), c=c)
    else:
        tie = template(_TIE, a=a(), c=c)
    floor_p = exp.Floor(this=p())
    up = exp.Case(
        this=exp.Sign(this=exp.Sub(this=exp.Sub(this=p(), expression=floor_p.copy()), expression=exp.Literal.number(0.5))),
        ifs=[exp.If(this=exp.Literal.number(1), true=exp.Literal.number(1)), exp.If(this=exp.Literal.number(0), true=tie)],
        default=exp.Literal.number(0),
    )
    whole = exp.Paren(this=exp.Add(this=floor_p, expression=up))
    # typed: a native Postgres division (else sqlglot's generator casts, copying the whole left side)
    return exp.Div(this=exp.Mul(this=exp.Sign(this=x.copy()), expression=whole), expression=c.copy(), typed=True)


_WHOLE_ROUND = "SIGN(_x) * (FLOOR(ABS(_x)) + CASE WHEN ABS(_x) - FLOOR(ABS(_x)) >= 0.5 THEN 1 ELSE 0 END)"
_TENS_ROUND = "SIGN(_x) * FLOOR(ABS(_x) / _c + 0.5) * _c"


@rule(exp.Round)
def round_half_away_on_doubles(node: exp.Round) -> exp.Expression | None:
    """DuckDB rounds a DOUBLE half away from zero at its exact binary value (round(2.5) = 3,
    round(2.675, 2) = 2.67); Postgres's round(double) rounds half to even, and sqlglot casts
    round(double, n) to NUMERIC (2.68). Written out as DuckDB computes it, in double precision."""
    return round_as_duckdb(node)


def round_as_duckdb(node: exp.Round, inline: bool = False) -> exp.Expression | None:
    """round(double, n) written out as DuckDB computes it (`inline`: no scalar subquery, for engines
    that refuse a correlated one without an aggregate: Spark)."""
    if not is_type(node.this, *FLOATS):
        return None
    digits = 0 if node.args.get("decimals") is None else int_value(node.args["decimals"])
    if digits is None:
        refuse("round(double, n) with a non-literal n", node, "round(cast(x as decimal(p, s)), n) or a literal n")
    x = node.this
    if not isinstance(x, exp.Column) and not (isinstance(x, exp.Cast) and x.to.is_type(*FLOATS)):
        x = cast(x, DOUBLE)  # an expression: Postgres might compute it in NUMERIC where DuckDB has a DOUBLE
    if digits == 0:
        rounded = template(_WHOLE_ROUND, x=x)
    elif digits > 0:
        rounded = _exact_round(x, digits, inline)
    else:
        rounded = template(_TENS_ROUND, x=x, c=exp.Literal.number(10 ** -digits))
    return typed(exp.Paren(this=rounded), DOUBLE)


@rule(exp.Div)
def interval_division_stays_an_interval(node: exp.Div) -> exp.Expression | None:
    """`interval / 2` is an INTERVAL on both engines; sqlglot would cast the interval to a double for
    Postgres (which refuses that cast at run time). Marked typed, the division is written as is."""
    if is_type(node.this, T.INTERVAL) or is_type(node.expression, T.INTERVAL):
        node.set("typed", True)
    return None


@rule(exp.IntDiv)
def integer_division_keeps_its_type(node: exp.IntDiv) -> exp.Expression | None:
    """DuckDB's `a // b` of integers truncates to an integer of the operands' type; sqlglot writes
    Postgres's `DIV(a, b)`, which is a NUMERIC. Cast it back to DuckDB's integer type."""
    if isinstance(node.parent, exp.Cast) or not all(is_type(s, *INTEGERS) or s.is_int for s in (node.this, node.expression)):
        return None
    return cast(node, node.type.sql("postgres") if is_type(node, *INTEGERS) else "BIGINT")


@rule(exp.Div)
def decimal_division_is_double(node: exp.Div) -> exp.Expression | None:
    """DuckDB divides DECIMALs in DOUBLE (revenue / orders -> DOUBLE); Postgres in exact NUMERIC.
    Cast both sides to double precision so the quotient (and a round() over it) is DuckDB's."""
    sides = (node.this, node.expression)
    if not any(is_type(s, *NUMERIC_EXACT) for s in sides) or any(is_type(s, *FLOATS) for s in sides):
        return None
    node.set("this", cast(node.this, DOUBLE))
    node.set("expression", cast(node.expression, DOUBLE))
    return typed(node, DOUBLE)


STATISTICS = (exp.Avg, exp.Stddev, exp.StddevSamp, exp.StddevPop, exp.Variance, exp.VariancePop)


@rule(*STATISTICS)
def statistics_in_double(node: exp.Expression) -> exp.Expression | None:
    """DuckDB's avg/stddev/variance are DOUBLE; Postgres's of integers or decimals NUMERIC (more
    digits). A call under FILTER or OVER is rewritten whole, by the rule of its wrapper."""
    if isinstance(node.parent, (exp.Window, exp.Filter, exp.Cast)):
        return None
    return _statistic_like_duckdb(node, node)


@rule(exp.Filter)
def filtered_statistic_in_double(node: exp.Filter) -> exp.Expression | None:
    if isinstance(node.parent, exp.Window) or not isinstance(node.this, STATISTICS):
        return None
    return _statistic_like_duckdb(node, node.this)


@rule(exp.Window)
def windowed_statistic_in_double(node: exp.Window) -> exp.Expression | None:
    inner = node.this.this if isinstance(node.this, exp.Filter) else node.this
    if not isinstance(inner, STATISTICS) or isinstance(node.parent, exp.Cast):
        return None
    return _statistic_like_duckdb(node, inner)


def _statistic_like_duckdb(whole: exp.Expression, call: exp.Expression) -> exp.Expression | None:
    """`whole` (the call, or its FILTER/OVER wrapper) computed as DuckDB does. avg of an integer or
    decimal is DuckDB's own computation: the exact sum converted to DOUBLE, divided by the count (two
    roundings; the correctly rounded NUMERIC average can differ in the last bit, TPC-H Q1). The others,
    and avg where the operand type is unknown, are the NUMERIC result cast to double precision."""
    operand = call.this.expressions[0] if isinstance(call.this, exp.Distinct) else call.this
    if is_type(operand, *FLOATS):
        return None
    if not (isinstance(call, exp.Avg) and is_type(operand, *NUMERIC_EXACT, *INTEGERS)):
        return cast(whole, DOUBLE)
    parts = []
    for kind in (exp.Sum, exp.Count):
        copy = whole.copy()
        inner = next(n for n in copy.walk() if isinstance(n, exp.Avg))
        swapped = kind(this=inner.this)
        if inner is copy:
            copy = swapped
        else:
            inner.replace(swapped)
        parts.append(copy)
    quotient = typed(exp.Div(this=cast(parts[0], DOUBLE), expression=parts[1], typed=True), DOUBLE)
    return typed(exp.Paren(this=quotient), DOUBLE)


def decimal_literal(literal: exp.Literal) -> None:
    """Before typing: DuckDB types 1.5 as DECIMAL(2,1), sqlglot as DOUBLE; say DECIMAL(p,s) explicitly
    so the rules see DuckDB's types (avg(1.0) is DOUBLE, 1.5 * n a DECIMAL, n / 1.5 a DOUBLE)."""
    text = literal.this
    if literal.is_string or "." not in text or "e" in text.lower():
        return
    whole, _, fraction = text.lstrip("-").partition(".")
    precision = max(len(whole.lstrip("0")) + len(fraction), 1)
    if precision <= 38:
        literal.replace(exp.Cast(this=literal.copy(), to=data_type(f"DECIMAL({precision}, {len(fraction)})")))


# -- text ------------------------------------------------------------------------------------
@rule(exp.Upper)
def upper_sharp_s(node: exp.Upper) -> exp.Expression:
    """DuckDB upper('ß') is 'ẞ' (U+1E9E); Postgres keeps 'ß'."""
    return template("TRANSLATE(UPPER(_s), 'ß', 'ẞ')", s=node.this)


def _from_end(s: exp.Expression, index: exp.Expression) -> exp.Expression:
    """DuckDB's 1-based position, negative = from the end, as a Postgres position."""
    value = int_value(index)
    if value is not None:
        return exp.Literal.number(value) if value >= 0 else template(f"LENGTH(_s) + {value + 1}", s=s)
    return template("CASE WHEN _i < 0 THEN LENGTH(_s) + _i + 1 ELSE _i END", s=s, i=index)


@rule(exp.Substring)
def substring_negative_start(node: exp.Substring) -> exp.Expression | None:
    """DuckDB's substring(s, -3) counts from the end ('llo'); Postgres's returns all of s."""
    start = node.args.get("start")
    if start is None or (int_value(start) or 0) > 0 or is_type(node.this, T.ARRAY, T.LIST):
        return None
    node.set("start", _from_end(node.this, start))
    return node


def _written_index(index: exp.Expression) -> int | None:
    """A literal index as the user wrote it: sqlglot stores DuckDB's 1-based literal indexes 0-based."""
    value = int_value(index)
    return None if value is None else value + 1


@rule(exp.Bracket)
def brackets(node: exp.Bracket) -> exp.Expression | None:
    """s[i] and s[a:b] on text are substrings in DuckDB (Postgres cannot subscript text); l[-1] on a
    list counts from the end in DuckDB (Postgres returns NULL)."""
    if len(node.expressions) != 1:
        return None
    index, base = node.expressions[0], node.this
    if is_type(base, *TEXT):
        return _string_slice(node, base, index)
    if isinstance(index, exp.Slice):
        if any(b is not None and (int_value(b) is None or int_value(b) < 0) for b in (index.this, index.expression)):
            refuse("a list slice with a negative or computed bound", node, "l[a:b] with positive literal bounds")
        return None
    written = _written_index(index)
    if written is not None and written > 0:
        return None  # sqlglot writes it back as written
    if written is not None:
        position = template(f"CARDINALITY(_l) + {written + 1}", l=base) if written < 0 else exp.Literal.number(0)
    elif isinstance(index, exp.Column):
        position = template("CASE WHEN _i < 0 THEN CARDINALITY(_l) + _i + 1 ELSE _i END", l=base, i=index)
    else:
        refuse("a list index computed by an expression", node, "compute the index in a column first, or use a literal")
    return exp.Bracket(this=base, expressions=[position], offset=1)  # offset: the position is final


def _string_slice(node: exp.Bracket, s: exp.Expression, index: exp.Expression) -> exp.Expression:
    if not isinstance(index, exp.Slice):
        written = _written_index(index)
        if written is None:
            refuse("a string index computed by an expression", node, "substring(s, i, 1)")
        return typed(call("SUBSTRING", s, _from_end(s, exp.Literal.number(written)), exp.Literal.number(1)), "TEXT")
    low, high = index.this, index.expression
    if any(b is not None and int_value(b) is None for b in (low, high)):
        refuse("a string slice with a computed bound", node, "substring(s, start, length)")
    first = _from_end(s, low) if low is not None else exp.Literal.number(1)
    if high is None:
        return typed(call("SUBSTRING", s, first), "TEXT")
    last = _from_end(s, high)
    length = template("GREATEST(_b - _a + 1, 0)", a=first, b=last)
    return typed(call("SUBSTRING", s, first, length), "TEXT")


@rule(exp.Like, exp.ILike)
def like_without_escape(node: exp.Expression) -> exp.Expression | None:
    """DuckDB's LIKE has no escape character unless ESCAPE is given; Postgres's is backslash."""
    if isinstance(node.parent, exp.Escape):
        return None
    return exp.Escape(this=node, expression=exp.Literal.string(""))


def _pattern(node: exp.Expression, pattern: exp.Expression, construct: str) -> exp.Expression:
    text = string_value(pattern)
    translated = re2_to_postgres(text) if text is not None else None
    if translated is None:
        refuse(f"{construct} with this pattern" if text is not None else f"{construct} with a computed pattern", node,
               "a literal pattern without inline flags, \\p classes or lookarounds (RE2 and Postgres agree on the rest)")
    return exp.Literal.string(translated)


@rule(exp.RegexpLike, exp.RegexpILike)
def regexp_matches(node: exp.Expression) -> exp.Expression:
    node.set("expression", _pattern(node, node.expression, "regexp_matches"))
    return node


@rule(exp.RegexpReplace)
def regexp_replace(node: exp.RegexpReplace) -> exp.Expression:
    node.set("expression", _pattern(node, node.expression, "regexp_replace"))
    return node


@rule(exp.RegexpFullMatch)
def regexp_full_match(node: exp.RegexpFullMatch) -> exp.Expression:
    pattern = _pattern(node, node.expression, "regexp_full_match")
    return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{pattern.this})$"))


@rule(exp.SimilarTo)
def similar_to(node: exp.SimilarTo) -> exp.Expression:
    """DuckDB's SIMILAR TO is a full regex match; Postgres's uses SQL patterns (% and _)."""
    pattern = _pattern(node, node.expression, "SIMILAR TO")
    return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{pattern.this})$"))


@rule(exp.Glob)
def glob(node: exp.Glob) -> exp.Expression:
    text = string_value(node.expression)
    regex = glob_to_regex(text) if text is not None else None
    if regex is None:
        refuse("GLOB", node, "LIKE with % and _, or regexp_matches")
    return exp.RegexpLike(this=node.this, expression=exp.Literal.string(regex))


@rule(exp.RegexpExtract)
def regexp_extract(node: exp.RegexpExtract) -> exp.Expression:
    """regexp_extract(s, p[, g]) -> (regexp_match(s, '(p)'))[g + 1], '' when nothing matches (DuckDB)."""
    pattern = _pattern(node, node.expression, "regexp_extract")
    group = 0 if node.args.get("group") is None else int_value(node.args["group"])
    if group is None:
        refuse("regexp_extract with a computed group", node, "a literal group number")
    whole = exp.Literal.string(f"({pattern.this})")
    return template(f"CASE WHEN _s IS NULL THEN NULL ELSE COALESCE((REGEXP_MATCH(_s, _p))[{group + 1}], '') END",
                    s=node.this, p=whole)


# -- dates and times --------------------------------------------------------------------------
@rule(exp.TimeToStr)
def strftime(node: exp.TimeToStr) -> exp.Expression:
    fmt = string_value(node.args.get("format"))
    if fmt is None:
        refuse("strftime with a computed format", node, "a literal format")
    template_text, bad = strftime_to_char(fmt)
    if bad:
        refuse(f"strftime code {bad}", node, "codes both engines have: %Y %m %d %H %M %S %j %b %B %a %A %I %p %G %V %u")
    return typed(call("TO_CHAR", node.this, exp.Literal.string(template_text)), "TEXT")


@rule(exp.StrToTime)
def strptime_is_naive(node: exp.StrToTime) -> exp.Expression:
    """strptime gives a naive TIMESTAMP in DuckDB; Postgres's to_timestamp a timestamptz read in the
    session's TimeZone. Cast back to a naive timestamp: exact in martctl's sessions, pinned to UTC."""
    fmt = string_value(node.args.get("format"))
    template_text, bad = strftime_to_char(fmt) if fmt is not None else (None, "a computed format")
    if template_text is None:
        refuse(f"strptime with {bad}", node, "a literal format with codes both engines have")
    return cast(call("TO_TIMESTAMP", node.this, exp.Literal.string(template_text)), "TIMESTAMP")


@rule(exp.UnixToTime)
def epoch_ms_is_naive(node: exp.UnixToTime) -> exp.Expression | None:
    """epoch_ms(n) is a naive TIMESTAMP (UTC wall clock) in DuckDB; to_timestamp a timestamptz."""
    scale = int_value(node.args.get("scale"))
    if scale not in (3, 6):
        return None
    seconds = exp.Div(this=exp.Paren(this=node.this), expression=exp.Literal.number(f"{10 ** scale}.0"))
    return typed(exp.AtTimeZone(this=call("TO_TIMESTAMP", seconds), zone=exp.Literal.string("UTC")), "TIMESTAMP")


@rule(exp.Extract)
def extract_whole_seconds(node: exp.Extract) -> exp.Expression | None:
    """DuckDB's extract is a BIGINT (epoch: a DOUBLE) and extract(second ...) a whole number;
    Postgres's is a NUMERIC that keeps the fraction (TPC-H Q7-Q9's l_year would be a decimal)."""
    if isinstance(node.parent, exp.Cast):
        return None  # already typed (a date-part function written as EXTRACT)
    part = node.name.upper() if isinstance(node.this, exp.Var) else ""
    if part in ("SECOND", "SECONDS", "MILLISECOND", "MILLISECONDS", "MICROSECOND", "MICROSECONDS"):
        return cast(call("FLOOR", node), "BIGINT")
    if part == "EPOCH":
        return cast(node, DOUBLE)
    return cast(node, "BIGINT")


@rule(exp.DateDiff)
def date_diff_weeks(node: exp.DateDiff) -> exp.Expression | None:
    """date_diff('week', a, b) is whole weeks elapsed, truncated (DuckDB); sqlglot's Postgres output rounds."""
    unit = node.args.get("unit")
    if unit is None or unit.name.upper() not in ("WEEK", "WEEKS"):
        return None
    return template("CAST(TRUNC(EXTRACT(EPOCH FROM CAST(_b AS TIMESTAMP) - CAST(_a AS TIMESTAMP)) / 604800) AS BIGINT)",
                    a=node.expression, b=node.this)


# -- windows, NULLs ---------------------------------------------------------------------------
@rule(exp.Lag, exp.Lead)
def lag_default_takes_the_value_type(node: exp.Expression) -> exp.Expression | None:
    """lag(i, 1, 0.5): DuckDB casts the default to i's type (1); Postgres widens the result to numeric."""
    default = node.args.get("default")
    if default is None or node.this.type is None or node.this.type.is_type(T.UNKNOWN, T.NULL):
        return None
    if default.type is not None and default.type == node.this.type:
        return None
    node.set("default", cast(default, node.this.type.sql("postgres")))
    return node


@rule(exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ, exp.NEQ)
def row_comparison(node: exp.Expression) -> exp.Expression | None:
    """(a, b) > (1, 2): DuckDB compares rows as structs (NULL sorts last), Postgres per SQL (NULL: unknown)."""
    if isinstance(node.this, exp.Tuple) or isinstance(node.expression, exp.Tuple):
        refuse("a row comparison (a, b) > (x, y)", node, "compare the columns one by one: a > x or (a = x and b > y), "
               "saying what a NULL should give")
    return None


@rule(exp.Is)
def is_true_of_a_number(node: exp.Is) -> exp.Expression | None:
    """i IS TRUE on an integer: DuckDB casts to boolean, Postgres refuses at run time."""
    if isinstance(node.expression, exp.Boolean) and is_type(node.this, *INTEGERS):
        node.set("this", cast(node.this, "BOOLEAN"))
        return node
    return None


@rule(exp.Cast)
def casts(node: exp.Cast) -> exp.Expression | None:
    """Casts whose result differs: to a type Postgres lacks, a DOUBLE or a list written as text."""
    to = node.to
    if to.is_type(T.INT128, T.UINT128):
        return cast(node.this, "DECIMAL(38, 0)")
    if to.is_type(T.UTINYINT, T.USMALLINT, T.UINT, T.UBIGINT, T.UINT256, T.INT256):
        refuse(f"a cast to {to.sql('duckdb')}", node, "cast to a signed type (bigint) or decimal(p, 0)")
    if to.is_type(*TEXT) and is_type(node.this, *FLOATS):
        refuse("a cast of a DOUBLE to text", node, "DuckDB writes 1.0 and -0.0, Postgres 1 and -0: cast to decimal(p, s) first")
    if to.is_type(*TEXT) and is_type(node.this, T.ARRAY, T.LIST, T.STRUCT, T.MAP):
        refuse("a cast of a list or struct to text", node, "array_to_string(l, ', ') for a list of text")
    return None
