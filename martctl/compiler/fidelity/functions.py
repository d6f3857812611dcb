"""DuckDB functions Postgres lacks, written with functions Postgres has (same results), or refused."""

from __future__ import annotations

from sqlglot import exp

from martctl.compiler.fidelity.registry import (
    DOUBLE,
    call,
    cast,
    int_value,
    is_type,
    refuse,
    rule,
    string_value,
    template,
    typed,
)

T = exp.DataType.Type

# DuckDB date-part functions -> the EXTRACT field Postgres knows (DuckDB returns BIGINT)
_PARTS = {exp.Hour: "hour", exp.Minute: "minute", exp.Quarter: "quarter", exp.Week: "week", exp.WeekOfYear: "week",
          exp.DayOfWeek: "dow", exp.DayOfWeekIso: "isodow", exp.DayOfYear: "doy", exp.DayOfMonth: "day",
          exp.Year: "year", exp.Month: "month", exp.Day: "day"}
_NAMED_PARTS = {"hour": "hour", "minute": "minute", "isodow": "isodow", "dayofweek": "dow", "dayofyear": "doy",
                "quarter": "quarter", "week": "week", "weekofyear": "week"}


def _extract(part: str, node: exp.Expression) -> exp.Expression:
    return cast(exp.Extract(this=exp.var(part.upper()), expression=node), "BIGINT")


@rule(*_PARTS)
def date_part_function(node: exp.Func) -> exp.Expression:
    """hour(ts), dayofweek(d), quarter(d) ... -> CAST(EXTRACT(field FROM x) AS BIGINT)."""
    return _extract(_PARTS[type(node)], node.this)


@rule(*_NAMED_PARTS)
def named_date_part_function(node: exp.Anonymous) -> exp.Expression | None:
    if len(node.expressions) != 1:
        return None
    return _extract(_NAMED_PARTS[str(node.this).lower()], node.expressions[0])


@rule("yearweek")
def yearweek(node: exp.Anonymous) -> exp.Expression:
    """yearweek(d) = ISO year * 100 + ISO week."""
    return template("CAST(EXTRACT(ISOYEAR FROM _d) * 100 + EXTRACT(WEEK FROM _d) AS BIGINT)", d=node.expressions[0])


@rule("datepart")
def datepart(node: exp.Anonymous) -> exp.Expression:
    return call("DATE_PART", *node.expressions)


@rule(exp.Dayname)
def dayname(node: exp.Dayname) -> exp.Expression:
    """dayname(d) -> to_char(d, 'FMDay') (English day names, as DuckDB)."""
    return typed(call("TO_CHAR", node.this, exp.Literal.string("FMDay")), "TEXT")


@rule(exp.Monthname)
def monthname(node: exp.Monthname) -> exp.Expression:
    return typed(call("TO_CHAR", node.this, exp.Literal.string("FMMonth")), "TEXT")


@rule(exp.DateFromParts)
def make_date(node: exp.DateFromParts) -> exp.Expression:
    """make_date(y, m, d): Postgres has make_date; sqlglot writes DATE_FROM_PARTS (absent)."""
    return typed(call("MAKE_DATE", node.args["year"], node.args["month"], node.args["day"]), "DATE")


@rule("strlen")
def strlen(node: exp.Anonymous) -> exp.Expression:
    """DuckDB's strlen counts bytes: octet_length."""
    return typed(call("OCTET_LENGTH", *node.expressions), "BIGINT")


@rule(exp.Contains)
def contains(node: exp.Contains) -> exp.Expression:
    return template("STRPOS(_s, _x) > 0", s=node.this, x=node.expression)


@rule(exp.EndsWith, "suffix")
def ends_with(node: exp.Expression) -> exp.Expression:
    s, x = (node.this, node.expression) if not isinstance(node, exp.Anonymous) else node.expressions[:2]
    return template("RIGHT(_s, LENGTH(_x)) = _x", s=s, x=x)


@rule("prefix")
def prefix(node: exp.Anonymous) -> exp.Expression:
    return call("STARTS_WITH", *node.expressions)


@rule(exp.Split)
def string_split(node: exp.Split) -> exp.Expression:
    """string_split(s, ',') -> string_to_array, except that DuckDB splits '' into [''] (Postgres: {})."""
    sep = string_value(node.expression)
    if not sep:
        refuse("string_split with a separator that is not a non-empty literal", node,
               "split on a literal separator, e.g. string_split(s, ',')")
    return template("CASE WHEN _s = '' THEN ARRAY[''] ELSE STRING_TO_ARRAY(_s, _sep) END", s=node.this, sep=node.expression)


@rule(exp.IsNan)
def isnan(node: exp.IsNan) -> exp.Expression:
    return template("_x = CAST('NaN' AS DOUBLE PRECISION)", x=node.this)


@rule(exp.ArraySize)
def array_length(node: exp.ArraySize) -> exp.Expression:
    """len(list) / array_length(list): DuckDB counts the elements (0 for []): cardinality."""
    return typed(call("CARDINALITY", node.this), "INT")


@rule(exp.Length)
def length_of_list(node: exp.Length) -> exp.Expression | None:
    if is_type(node.this, T.ARRAY, T.LIST):
        return typed(call("CARDINALITY", node.this), "INT")
    return None


@rule(exp.ArraySort)
def list_sort(node: exp.ArraySort) -> exp.Expression:
    """list_sort(l) -> the elements sorted in a subquery (NULLs last as DuckDB); [] stays []."""
    if node.args.get("expression") is not None or not is_type(node.this, T.ARRAY, T.LIST):
        refuse("list_sort with a sort order or over a list of unknown type", node,
               "sort in a subquery: (select array_agg(x order by x) from unnest(l) as x)")
    empty = cast(exp.Array(expressions=[]), node.this.type.sql("postgres"))
    return template(
        "CASE WHEN _l IS NULL THEN NULL ELSE COALESCE("
        "(SELECT ARRAY_AGG(_u._x ORDER BY _u._x) FROM UNNEST(_l) AS _u(_x)), _empty) END",
        l=node.this, empty=empty,
    )


def _arg_extreme(node: exp.Expression, order: str) -> exp.Expression:
    return template(
        f"(ARRAY_AGG(_a ORDER BY _b {order}) FILTER (WHERE NOT _a IS NULL AND NOT _b IS NULL))[1]",
        a=node.this, b=node.expression,
    )


@rule(exp.ArgMax, "max_by")
def arg_max(node: exp.Expression) -> exp.Expression:
    """arg_max(a, b): a of the row with the largest b (rows with a NULL ignored, as DuckDB)."""
    if isinstance(node, exp.Anonymous):
        node = exp.ArgMax(this=node.expressions[0], expression=node.expressions[1])
    return _arg_extreme(node, "DESC")


@rule(exp.ArgMin, "min_by")
def arg_min(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        node = exp.ArgMin(this=node.expressions[0], expression=node.expressions[1])
    return _arg_extreme(node, "ASC")


@rule(exp.First)
def first(node: exp.First) -> exp.Expression:
    """first(x [order by o]) -> (array_agg(x [order by o]))[1] (NULLs kept, as DuckDB's first)."""
    return exp.Bracket(this=exp.Paren(this=exp.ArrayAgg(this=node.this)), expressions=[exp.Literal.number(1)], offset=1)


@rule(exp.IgnoreNulls)
def any_value(node: exp.IgnoreNulls) -> exp.Expression | None:
    """any_value(x) (Postgres 16+ only): min(x) is one of the values, as any_value promises."""
    if isinstance(node.this, exp.AnyValue):
        return exp.Min(this=node.this.this)
    if isinstance(node.this, (exp.Min, exp.Max)):  # any_value already became min(): it skips NULLs anyway
        return node.this
    return None


@rule(exp.AnyValue)
def bare_any_value(node: exp.AnyValue) -> exp.Expression:
    return exp.Min(this=node.this)


@rule(exp.Mode)
def mode(node: exp.Mode) -> exp.Expression:
    return template("MODE() WITHIN GROUP (ORDER BY _x)", x=node.this)


@rule(exp.TryCast)
def try_cast(node: exp.TryCast) -> exp.Expression:
    refuse("try_cast", node, "filter or test the value first, e.g. case when s ~ '^-?[0-9]+$' then cast(s as integer) end")


@rule(exp.Format, "printf")
def format_(node: exp.Expression) -> exp.Expression:
    refuse("format()/printf()", node, "build the text with || or concat(), casting numbers with cast(x as varchar)")


@rule(exp.Typeof)
def typeof(node: exp.Typeof) -> exp.Expression:
    refuse("typeof()", node, "type names differ between engines: compare values, not type names")


@rule("age")
def age(node: exp.Anonymous) -> exp.Expression:
    refuse("age()", node, "use date_diff('day', a, b) (or month/year) for a number of units")


@rule("product", "histogram", "approx_count_distinct", "list_reverse", "list_distinct", "flatten", "list_position",
      "list_slice", "list_aggregate", "array_reverse", "map", "struct_pack", "json_valid", "json_type",
      "json_array_length", "to_json", "json_object", "json", "regexp_split_to_table")
def duckdb_only(node: exp.Anonymous) -> exp.Expression:
    name = str(node.this).lower()
    refuse(f"{name}()", node, _HINTS.get(name, "use functions both engines have (README: What translates)"))


@rule(exp.ApproxDistinct)
def approx_distinct(node: exp.Expression) -> exp.Expression:
    refuse("approx_count_distinct()", node, "count(distinct x) is exact on both engines")


_HINTS = {
    "product": "exp(sum(ln(x))) for positive x, or multiply in a recursive CTE",
    "histogram": "group by the value and count(*)",
    "approx_count_distinct": "count(distinct x) is exact on both engines",
    "list_reverse": "a subquery over unnest(l) with ordinality, ordered descending",
    "list_distinct": "(select array_agg(distinct x) from unnest(l) as x)",
    "flatten": "a subquery over unnest of each inner list",
    "list_position": "a subquery over unnest(l) with ordinality",
    "list_slice": "l[a:b] slice syntax",
    "list_aggregate": "an aggregate over unnest(l) in a subquery",
    "map": "separate key and value columns",
    "struct_pack": "separate columns",
    "to_json": "keep the values in columns; build JSON in the consuming tool",
}


@rule(exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBExtract, exp.JSONBExtractScalar, exp.JSONObject,
      exp.ParseJSON, exp.JSONType, exp.JSONFormat, exp.JSONArray, exp.JSONExists)
def json_function(node: exp.Expression) -> exp.Expression:
    refuse("JSON functions", node, "DuckDB and Postgres write JSON text differently (spacing, types): extract the "
                                   "fields upstream into typed columns, or keep JSON marts on one engine")


@rule(exp.Log)
def log(node: exp.Log) -> exp.Expression | None:
    """log10(x) of a non-double: Postgres would use log(numeric) (more digits than DuckDB's double)."""
    base = int_value(node.this)
    if base == 10 and node.expression is not None:
        return typed(call("LOG", cast(node.expression, DOUBLE)), DOUBLE)
    return None


@rule(exp.ArrayContains)
def list_contains(node: exp.ArrayContains) -> exp.Expression:
    """list_contains(l, x): NULL for a NULL list in DuckDB (sqlglot's Postgres output says false)."""
    return template("CASE WHEN _l IS NULL THEN NULL ELSE COALESCE(_x = ANY(_l), FALSE) END", l=node.this, x=node.expression)


@rule(exp.Map, exp.VarMap, exp.MapFromEntries)
def map_literal(node: exp.Expression) -> exp.Expression:
    refuse("map()", node, "separate key and value columns")
