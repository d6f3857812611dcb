"""Each transpile fix in martctl/transforms.py: the SQL it writes, and that Postgres runs it and
returns what DuckDB returns for the original query."""

from __future__ import annotations

import datetime

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from martctl.compiler.sql import generate, typed
from martctl.compiler.transforms import (
    apply_pre_typing,
    apply_transforms,
    date_trunc_of_date_is_timestamp,
    expand_group_by_all,
)

SCHEMA = {"raw": {"events": {"kind": "VARCHAR", "day": "DATE", "ts": "TIMESTAMP", "n": "BIGINT"}}}
ROWS = [
    ("a", datetime.date(2026, 1, 5), datetime.datetime(2026, 1, 5, 10), 1),
    ("a", datetime.date(2026, 1, 20), datetime.datetime(2026, 1, 20, 11), 2),
    ("b", datetime.date(2026, 2, 3), datetime.datetime(2026, 2, 3, 12), 5),
    ("b", datetime.date(2026, 2, 28), datetime.datetime(2026, 2, 28, 23), None),
]


def to_postgres(sql: str) -> str:
    tree = typed(sqlglot.parse_one(sql, read="duckdb"), SCHEMA, "duckdb")
    return generate(apply_transforms(tree, "duckdb", "postgres"), "postgres", pretty=False)[0]


def duckdb_rows(sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.events (kind VARCHAR, day DATE, ts TIMESTAMP, n BIGINT)")
    con.executemany("INSERT INTO raw.events VALUES (?, ?, ?, ?)", ROWS)
    return sorted(con.execute(sql).fetchall(), key=repr)


@pytest.fixture(scope="module")
def pg(pg_server):
    import psycopg

    with psycopg.connect(pg_server.new_database("transforms"), autocommit=True) as con:
        con.execute("CREATE SCHEMA raw; CREATE TABLE raw.events (kind text, day date, ts timestamp, n bigint)")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO raw.events VALUES (%s, %s, %s, %s)", ROWS)
        con.execute("SET TimeZone = 'America/New_York'")  # a timestamptz result would show it
        yield con


def pg_rows(con, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=repr)


# -- GROUP BY ALL ----------------------------------------------------------------------------
GROUP_BY_ALL = [
    "SELECT kind, count(*) AS c, sum(n) AS total FROM raw.events GROUP BY ALL",
    "SELECT kind, cast(ts AS date) AS d, count(*) FILTER (WHERE n > 1) AS big FROM raw.events GROUP BY ALL",
    "SELECT 'x' AS tag, kind, max(n) AS m FROM raw.events GROUP BY ALL",
    "SELECT count(*) AS c FROM raw.events GROUP BY ALL",
    "WITH t AS (SELECT kind, sum(n) AS s FROM raw.events GROUP BY ALL) SELECT * FROM t WHERE s > 2",
    "SELECT kind, sum(n) AS s, rank() OVER (ORDER BY sum(n) DESC) AS r FROM raw.events GROUP BY ALL",
]
# A window function is computed after grouping: never a GROUP BY key (Postgres refuses it there:
# "window functions are not allowed in GROUP BY"). DuckDB itself refuses a window holding no
# aggregate under GROUP BY ALL ("Cannot group on a window clause"), so its side of the comparison
# is the same query with the keys written out.
GROUP_BY_ALL_WINDOWS = [
    ("SELECT kind, count(*) AS c, row_number() OVER (ORDER BY kind) AS rn FROM raw.events GROUP BY ALL", "kind"),
    ("SELECT kind, n, sum(n) OVER (PARTITION BY kind) AS t FROM raw.events GROUP BY ALL", "kind, n"),
    ("SELECT kind, count(*) AS c, lag(kind) OVER (ORDER BY kind) AS prev FROM raw.events GROUP BY ALL", "kind"),
]


def test_sqlglot_still_writes_group_by_all_for_postgres():
    """The upstream bug this transform works around (drop the transform when this fails)."""
    assert "GROUP BY ALL" in sqlglot.transpile("SELECT a, count(*) FROM t GROUP BY ALL", read="duckdb", write="postgres")[0]


@pytest.mark.parametrize("sql", GROUP_BY_ALL)
def test_group_by_all_is_expanded_and_runs_on_postgres(sql, pg):
    written = to_postgres(sql)
    assert "GROUP BY ALL" not in written
    assert pg_rows(pg, written) == duckdb_rows(sql)


@pytest.mark.parametrize("sql, keys", GROUP_BY_ALL_WINDOWS)
def test_group_by_all_with_a_window_groups_by_the_other_columns_on_postgres(sql, keys, pg):
    written = to_postgres(sql)
    assert "OVER" in written.split("GROUP BY")[0] and "OVER" not in written.split("GROUP BY")[1]
    assert pg_rows(pg, written) == duckdb_rows(sql.replace("GROUP BY ALL", f"GROUP BY {keys}"))


def test_group_by_all_keeps_non_aggregates_in_select_order():
    tree = expand_group_by_all(sqlglot.parse_one(
        "SELECT 1 AS one, kind, upper(kind) AS k, sum(n) + 1 AS s, kind FROM raw.events GROUP BY ALL", read="duckdb"))
    group = tree.args["group"].expressions
    assert [g.sql() for g in group] == ["kind", "UPPER(kind)"]


def test_group_by_all_leaves_window_functions_out_of_the_keys():
    tree = expand_group_by_all(sqlglot.parse_one(
        "SELECT kind, row_number() OVER (ORDER BY kind) AS rn, lag(kind) OVER w AS prev, count(*) AS c "
        "FROM raw.events GROUP BY ALL WINDOW w AS (ORDER BY kind)", read="duckdb"))
    assert [g.sql() for g in tree.args["group"].expressions] == ["kind"]


def test_group_by_all_of_only_aggregates_drops_the_clause():
    tree = expand_group_by_all(sqlglot.parse_one("SELECT count(*) FROM t GROUP BY ALL", read="duckdb"))
    assert tree.args.get("group") is None


def test_group_by_all_applies_to_dialects_that_lack_it_only():
    sql = "SELECT kind, count(*) FROM raw.events GROUP BY ALL"
    tree = typed(sqlglot.parse_one(sql, read="duckdb"), SCHEMA, "duckdb")
    assert apply_transforms(tree.copy(), "duckdb", "snowflake").args["group"].args.get("all")
    assert not apply_transforms(tree.copy(), "duckdb", "postgres").args["group"].args.get("all")


# -- date_trunc of a DATE ----------------------------------------------------------------------
DATE_TRUNC = [
    "SELECT date_trunc('month', day) AS m, count(*) AS c FROM raw.events GROUP BY 1",
    "SELECT date_trunc('month', cast(ts AS date)) AS m FROM raw.events",
    "SELECT date_trunc('week', day) AS w, date_trunc('day', ts) AS d FROM raw.events",
]


@pytest.mark.parametrize("sql", DATE_TRUNC)
def test_date_trunc_of_a_date_is_a_naive_timestamp_on_postgres(sql, pg):
    written = to_postgres(sql)
    assert "AS TIMESTAMP)" in written
    got, want = pg_rows(pg, written), duckdb_rows(sql)
    assert got == want  # naive datetimes on both sides, not timestamptz shifted by the TimeZone
    assert all(isinstance(v, datetime.datetime) and v.tzinfo is None for row in got for v in row if isinstance(v, datetime.datetime))


def test_date_trunc_of_a_timestamp_is_left_alone():
    tree = typed(sqlglot.parse_one("SELECT date_trunc('hour', ts) FROM raw.events", read="duckdb"), SCHEMA, "duckdb")
    before = tree.sql("postgres")
    assert date_trunc_of_date_is_timestamp(tree).sql("postgres") == before


def test_date_trunc_fix_is_for_duckdb_sources_only():
    tree = typed(sqlglot.parse_one("SELECT date_trunc('month', day) FROM raw.events", read="snowflake"), SCHEMA, "snowflake")
    assert not any(isinstance(c.this, exp.Cast) and c.to.is_type("timestamp") for c in tree.find_all(exp.Cast))
    out = apply_transforms(tree, "snowflake", "postgres").sql("postgres")
    assert "AS TIMESTAMP" not in out


# -- numbers as DuckDB computes them (TPC-H) ----------------------------------------------------
NUMBERS = {"raw": {"numbers": {"g": "VARCHAR", "price": "DECIMAL(15,2)", "qty": "INTEGER", "big": "BIGINT", "ts": "TIMESTAMP"}}}
NUMBER_ROWS = [  # .5 ties, negatives, NULLs, a group of NULLs only, a bigint whose sum passes 2^63, fractions of seconds
    ("a", "0.05", 1, 2**62, datetime.datetime(2021, 1, 3, 23, 59, 58, 789123)),
    ("a", "0.07", 2, 2**62, datetime.datetime(2020, 12, 31, 0, 0, 0, 500000)),
    ("a", "-12.35", 7, -3, datetime.datetime(2024, 2, 29, 12, 30, 59, 999999)),
    ("b", "378.84", None, 5, datetime.datetime(1999, 12, 31, 23, 59, 59)),
    ("b", None, 3, None, datetime.datetime(2000, 1, 1, 0, 0, 0, 1)),
    ("b", "0.01", 4, 7, None),
    ("c", None, None, None, None),
]


def numbers_to_postgres(sql: str, schema: dict = NUMBERS) -> str:
    """As compile.py writes a DuckDB mart for Postgres: the rules before typing, typed, transformed."""
    tree = apply_pre_typing(sqlglot.parse_one(sql, read="duckdb"), "duckdb", "postgres")
    return generate(apply_transforms(typed(tree, schema, "duckdb"), "duckdb", "postgres"), "postgres", pretty=False)[0]


def numbers_duckdb(sql: str) -> tuple[list[str], list[tuple]]:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.numbers (g VARCHAR, price DECIMAL(15,2), qty INTEGER, big BIGINT, ts TIMESTAMP)")
    con.executemany("INSERT INTO raw.numbers VALUES (?, ?, ?, ?, ?)", NUMBER_ROWS)
    cursor = con.execute(sql)
    return [d[0] for d in cursor.description], sorted(cursor.fetchall(), key=repr)


@pytest.fixture(scope="module")
def pg_numbers(pg):
    pg.execute("CREATE TABLE raw.numbers (g text, price numeric(15,2), qty integer, big bigint, ts timestamp)")
    with pg.cursor() as cur:
        cur.executemany("INSERT INTO raw.numbers VALUES (%s, %s, %s, %s, %s)", NUMBER_ROWS)
    return pg


def numbers_postgres(pg, sql: str) -> tuple[list[str], list[tuple]]:
    cursor = pg.execute(sql)
    return [d.name for d in cursor.description], sorted(cursor.fetchall(), key=repr)


def same_values_and_kinds(got: list[tuple], want: list[tuple]) -> None:
    assert got == want
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in want]  # a double stays a double


AVERAGES = [
    "SELECT g, avg(price) AS p, avg(qty) AS q, avg(big) AS b FROM raw.numbers GROUP BY g",
    "SELECT g, avg(price) FILTER (WHERE qty > 1) AS p, avg(DISTINCT qty) AS q FROM raw.numbers GROUP BY g",
    "SELECT g, price, avg(price) OVER (PARTITION BY g) AS p, avg(qty) OVER (ORDER BY qty) AS q FROM raw.numbers",
    "SELECT g, avg(qty) / avg(price) AS r, -avg(qty) AS n, avg(price) * 3 AS m FROM raw.numbers GROUP BY g",
]


def test_average_of_a_double_is_left_alone():
    written = numbers_to_postgres("SELECT avg(f) AS a FROM raw.numbers", {"raw": {"numbers": {"f": "DOUBLE"}}})
    assert "AVG(numbers.f)" in written and "SUM(" not in written


DIVISIONS = [
    "SELECT g, sum(price) / sum(qty) AS r, sum(price) / 7.0 AS s, 100.00 * sum(price) / count(*) AS t FROM raw.numbers GROUP BY g",
    "SELECT price / qty AS a, qty / price AS b, price / price AS c, -price / 3 AS d, (price + 1) / 0.3 AS e FROM raw.numbers",
    "SELECT qty / 2 AS half, big / 3 AS third, qty / NULL AS nothing FROM raw.numbers",
]


EXTRACTS = [
    "SELECT ts, extract(year FROM ts) AS y, extract(month FROM ts) AS m, extract(day FROM ts) AS d, "
    "extract(quarter FROM ts) AS q, extract(hour FROM ts) AS h, extract(minute FROM ts) AS mi FROM raw.numbers",
    "SELECT ts, extract(dow FROM ts) AS dw, extract(isodow FROM ts) AS idw, extract(doy FROM ts) AS dy, "
    "extract(week FROM ts) AS w, extract(isoyear FROM ts) AS iy, extract(decade FROM ts) AS de, "
    "extract(century FROM ts) AS ce, extract(millennium FROM ts) AS mil FROM raw.numbers",
    "SELECT ts, extract(second FROM ts) AS s, extract(millisecond FROM ts) AS ms, extract(microsecond FROM ts) AS us, "
    "extract(epoch FROM ts) AS e FROM raw.numbers",
    "SELECT year(ts) AS y, month(ts) AS m, day(ts) AS d, count(*) AS c FROM raw.numbers GROUP BY 1, 2, 3",
    "SELECT extract(year FROM cast(ts AS date)) AS y, extract(doy FROM cast(ts AS date)) AS dy FROM raw.numbers",
]


NUMBER_CASES = [("avg", sql) for sql in AVERAGES] + [("div", sql) for sql in DIVISIONS] + [("extract", sql) for sql in EXTRACTS]


@pytest.mark.parametrize("family, sql", NUMBER_CASES)
def test_numbers_are_duckdbs_on_postgres(family, sql, pg_numbers):
    """avg of exact numbers and `/` of numbers are DuckDB's DOUBLE, bit for bit; extract is DuckDB's BIGINT."""
    written = numbers_to_postgres(sql)
    same_values_and_kinds(numbers_postgres(pg_numbers, written)[1], numbers_duckdb(sql)[1])
