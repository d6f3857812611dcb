"""Each transpile fix in martctl/transforms.py: the SQL it writes, and that Postgres runs it and
returns what DuckDB returns for the original query."""

from __future__ import annotations

import datetime

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from martctl.compiler.sql import generate, typed
from martctl.compiler.transforms import apply_transforms, date_trunc_of_date_is_timestamp, expand_group_by_all

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
