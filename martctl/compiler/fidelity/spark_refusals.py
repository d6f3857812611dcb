"""DuckDB -> Spark: the constructs Spark runs with another meaning (or not at all), refused at
compile naming the construct, and the few with a short exact rewrite. Registered in spark.py's
rule table; each refusal is narrow (a function, a syntax, a type) so that portable SQL still builds."""

from __future__ import annotations

from sqlglot import exp

from martctl.compiler.fidelity.registry import FLOATS, INTEGERS, NUMERIC_EXACT, TEXT, int_value, is_type, refuse
from martctl.compiler.fidelity.spark import _double, spark_rule

T = exp.DataType.Type

# node class -> (construct, the portable way to write it)
REFUSED = {
    exp.ArgMax: ("arg_max() / max_by()", "Spark keeps another row on a tie: pick it with row_number() over (... order by v desc, id)"),
    exp.ArgMin: ("arg_min() / min_by()", "Spark keeps another row on a tie: pick it with row_number() over (... order by v, id)"),
    exp.PercentileDisc: ("quantile_disc()", "Spark's percentile_disc takes WITHIN GROUP: write the mart in the spark dialect"),
    exp.Upper: ("upper() / ucase()", "Spark maps case in full (ß -> SS, ﬁ -> FI), DuckDB one character at a time: "
                                     "compare with lower() instead"),
    exp.Exp: ("exp()", "Spark's exp differs in the last bit of the double: round the result"),
    exp.Cbrt: ("cbrt()", "Spark's cbrt differs in the last bit of the double: use power(x, 1/3) and round"),
    exp.SimilarTo: ("SIMILAR TO", "use regexp_matches(s, '^pattern$')"),
    exp.Glob: ("GLOB", "use LIKE ('*' is '%', '?' is '_')"),
    exp.Format: ("format()", "concatenate with ||"),
    exp.TableSample: ("USING SAMPLE / TABLESAMPLE", "sample in the source, or filter on hash(id) % n"),
    exp.Collate: ("COLLATE", "order by lower(k)"),
    exp.ArrayConcat: ("array_concat() / list_concat()", "Spark's is NULL when a list is NULL: coalesce(l, []) first "
                                                        "in the spark dialect"),
    exp.ArrayDistinct: ("list_distinct() / array_distinct()", "Spark keeps NULL and the first-seen order: "
                                                              "write the mart in the spark dialect"),
    exp.Flatten: ("flatten()", "Spark's is NULL when a list is NULL: write the mart in the spark dialect"),
    exp.JSONExtract: ("json_extract() / j->'path'", "Spark returns a JSON string unquoted and a JSON null as NULL: "
                                                  "write the mart in the spark dialect (get_json_object)"),
    exp.DateAdd: ("date_add(date, interval)", "write d + interval 3 day"),
}
# DuckDB functions sqlglot leaves by name
REFUSED_NAMES = {
    "printf": ("printf()", "Spark writes NULL as 'null': concatenate with ||"),
    "json_array_length": ("json_array_length()", "Spark's takes no path and is NULL for what is not an array"),
    "to_json": ("to_json()", "Spark's takes only a struct, a list or a map: build the text with ||"),
}
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def _refuse_listed(node: exp.Expression):
    construct, hint = REFUSED[type(node)]
    refuse(construct, node, hint)


spark_rule(*REFUSED)(_refuse_listed)


@spark_rule(exp.Anonymous)
def by_name(node: exp.Anonymous):
    listed = REFUSED_NAMES.get(str(node.this).lower())
    if listed:
        refuse(listed[0], node, listed[1])


@spark_rule(*COMPARISONS)
def row_comparison(node: exp.Expression):
    if isinstance(node.this, exp.Tuple) or isinstance(node.expression, exp.Tuple):
        refuse("a row comparison (a, b) = (1, 2)", node, "compare column by column: a = 1 and b = 2")


@spark_rule(exp.Limit)
def limit_percent(node: exp.Limit):
    options = node.args.get("limit_options")
    if options is not None and options.args.get("percent"):
        refuse("LIMIT n%", node, "keep rows by row_number() and count(*) over ()")


@spark_rule(exp.Join)
def asof_join(node: exp.Join):
    if node.text("method").upper() == "ASOF":
        refuse("ASOF JOIN", node, "join with a window: max(n.id) over matching rows, then join on it")


@spark_rule(exp.Union)
def union_by_name(node: exp.Union):
    if node.args.get("by_name"):
        refuse("UNION BY NAME", node, "list the columns in the same order in both selects")


@spark_rule(exp.First)
def first_ordered(node: exp.First):
    if isinstance(node.this, exp.Order):
        refuse("first(x ORDER BY y)", node, "use row_number() over (partition by ... order by y) = 1")


@spark_rule(exp.Left)
def left_negative(node: exp.Left):
    length = int_value(node.expression)
    if length is None or length < 0:
        refuse("left(s, n) with a negative or non-constant n", node, "use substring(s, 1, length(s) - n)")


@spark_rule(exp.Bracket)
def text_index(node: exp.Bracket):
    if any(isinstance(e, exp.Slice) for e in node.expressions):
        refuse("slices l[a:b] / s[a:b]", node, "use list_slice(l, a, b) or substring(s, a, b - a + 1)")
    if is_type(node.this, *TEXT):
        refuse("s[i] on a string", node, "use substring(s, i, 1)")


@spark_rule(exp.Cast, exp.TryCast)
def odd_casts(node: exp.Expression):
    to, value = node.args.get("to"), node.this
    if to is None:
        return
    if to.is_type(T.INT128, T.UINT128):
        refuse("cast(... as hugeint)", node, "cast to decimal(38, 0)")
    if to.is_type(T.TIME, T.TIMETZ):
        refuse("cast(... as time)", node, "Spark has no TIME type: format it with strftime(ts, '%H:%M:%S')")
    if to.is_type(T.TIMESTAMPTZ) and is_type(value, T.TIMESTAMP, T.TIMESTAMPNTZ, T.DATETIME):
        refuse("cast(timestamp as timestamptz)", node, "keep the naive timestamp or write a timestamptz literal")
    if to.is_type(*TEXT) and is_type(value, T.TIMESTAMPTZ, T.TIMESTAMPLTZ):
        refuse("cast(timestamptz as varchar)", node, "format it with strftime() in UTC")


@spark_rule(exp.AtTimeZone)
def at_zone_of_instant(node: exp.AtTimeZone):
    if is_type(node.this, T.TIMESTAMPTZ, T.TIMESTAMPLTZ):
        refuse("timestamptz AT TIME ZONE", node, "Spark's from_utc_timestamp gives another type: keep instants in UTC")


@spark_rule(exp.UnixToTime)
def from_epoch(node: exp.UnixToTime):
    refuse("epoch_ms() / to_timestamp(epoch)", node, "keep the epoch number, or a timestamp column")


def _widens_to(default: exp.Expression, value: exp.Expression) -> bool:
    """DuckDB casts lag's default to the value's type (0.5 into an INTEGER is 1); Spark widens instead:
    the same only when the default's type is the value's or fits in it exactly."""
    if default.type is None or value.type is None or default.type.this == value.type.this or isinstance(default, exp.Null):
        return True
    numeric = (*INTEGERS, *NUMERIC_EXACT, *FLOATS)
    return (is_type(default, *INTEGERS) and is_type(value, *numeric)) or (is_type(default, *numeric) and is_type(value, *FLOATS))


@spark_rule(exp.Window)
def lag_default(node: exp.Window):
    call = node.this
    if isinstance(call, (exp.Lag, exp.Lead)) and call.args.get("default") is not None:
        default, value = call.args["default"], call.this
        if not _widens_to(default, value):
            refuse("lag()/lead() with a default of another type", node, "cast the default to the column's type")


@spark_rule(exp.Sum)
def wide_sum(node: exp.Sum):
    """DuckDB sums integers into a HUGEINT (no overflow); Spark's BIGINT sum overflows (ANSI mode
    raises). Summed as DECIMAL(38, 0), Spark's widest exact integer, it gives DuckDB's value."""
    if not is_type(node.this, T.BIGINT, T.UBIGINT, T.INT128) or isinstance(node.this, exp.Distinct):
        return None
    node.set("this", exp.Cast(this=node.this.copy(), to=exp.DataType.build("DECIMAL(38, 0)")))
    return None


@spark_rule(exp.Div)
def integer_division(node: exp.Div):
    """DuckDB's / of integers is a DOUBLE, as Spark's of integers; written out so that an integer the
    compiler knows as BIGINT but Spark holds as DECIMAL(38, 0) (a sum above) divides the same way."""
    sides = (node.this, node.expression)
    if any(is_type(side, *INTEGERS) for side in sides) and all(is_type(side, *INTEGERS, *FLOATS) for side in sides):
        node.set("this", _double(node.this))
        node.set("expression", _double(node.expression))
    return None


@spark_rule(exp.Avg)
def integer_avg(node: exp.Avg):
    """avg of integers is a DOUBLE on both engines; cast first for the same reason as the division."""
    if is_type(node.this, *INTEGERS) and not isinstance(node.this, exp.Distinct):
        node.set("this", _double(node.this))
    return None


@spark_rule(exp.Length)
def list_length(node: exp.Length):
    if is_type(node.this, T.ARRAY):
        return exp.Anonymous(this="ARRAY_SIZE", expressions=[node.this.copy()])
    return None


@spark_rule(exp.Is)
def is_boolean(node: exp.Is):
    """`i IS TRUE` of a number: DuckDB casts it to BOOLEAN; Spark refuses the types."""
    if isinstance(node.expression, exp.Boolean) and node.this.type is not None and \
            not is_type(node.this, T.BOOLEAN, T.UNKNOWN, T.NULL):
        node.set("this", exp.Cast(this=node.this.copy(), to=exp.DataType.build("BOOLEAN")))
    return None


@spark_rule(exp.PercentileCont)
def quantile_cont(node: exp.PercentileCont):
    """quantile_cont(x, q) is Spark's percentile(x, q) (linear interpolation, a DOUBLE)."""
    fraction = node.expression.this if isinstance(node.expression, exp.Cast) else node.expression
    if not isinstance(fraction, exp.Literal) or fraction.is_string or isinstance(node.this, exp.Order):
        refuse("quantile_cont() with a fraction that is not a constant", node, "use a constant fraction")
    return exp.Anonymous(this="PERCENTILE", expressions=[node.this.copy(), exp.Literal.number(fraction.this)])


@spark_rule(exp.Log)
def log10(node: exp.Log):
    if int_value(node.this) == 10 and node.expression is not None:
        return exp.Anonymous(this="LOG10", expressions=[node.expression.copy()])
    return None


@spark_rule(exp.TimeToUnix)
def epoch(node: exp.TimeToUnix):
    """DuckDB's epoch(ts) keeps the fraction (a DOUBLE); Spark's unix_timestamp drops it."""
    micros = exp.Anonymous(this="UNIX_MICROS", expressions=[exp.Cast(this=node.this.copy(), to=exp.DataType.build("TIMESTAMPLTZ"))])
    return exp.paren(exp.Div(this=exp.Cast(this=micros, to=exp.DataType.build("DOUBLE")),
                             expression=exp.Cast(this=exp.Literal.number(1000000), to=exp.DataType.build("DOUBLE"))))
