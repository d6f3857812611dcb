"""The fidelity machinery itself: the function check on the output's tokens, the refusal messages
(mart, file, line as written, rewrite), output names, pattern translators, and DuckDB's rounding
on a real Postgres. The conformance suite (tests/conformance) covers each construct end to end."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest
from conftest import write_project
from sqlglot.dialects.dialect import Dialect

from martctl.compiler import surface
from martctl.compiler.compile import compile_project
from martctl.compiler.fidelity.text import glob_to_regex, re2_to_postgres, strftime_to_char
from martctl.compiler.resolve import build_graph
from martctl.errors import CompileError
from martctl.project.loader import load_project

CONFIG = (
    "name: fx\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n"
    "sources:\n  raw: {tables: [{name: t, columns: {a: INTEGER, s: VARCHAR, d: DOUBLE, ts: TIMESTAMP}}]}\n"
)


def calls(sql: str, dialect: str = "postgres") -> list[tuple[str, int]]:
    return [(c.name, c.args) for c in surface.calls(Dialect.get_or_raise(dialect).tokenize(sql))]


# -- the function check ------------------------------------------------------------------------
def test_calls_count_arguments_as_the_engine_does():
    sql = ("WITH w(a, b) AS (SELECT 1, 2) SELECT STRING_AGG(x, ',' ORDER BY y, z), COUNT(*), COUNT(DISTINCT a), "
           "EXTRACT(YEAR FROM d), NOW(), PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY a), s.f(1, 2), "
           "pg_catalog.lower(x), ROUND(COALESCE(a, 1), 2) FROM t AS q(a, b)")
    assert calls(sql) == [("string_agg", 2), ("count", 0), ("count", 1), ("extract", 1), ("now", 0),
                          ("percentile_cont", 1), ("lower", 1), ("round", 2), ("coalesce", 2)]


def test_missing_names_functions_and_wrong_arities():
    tokens = Dialect.get_or_raise("postgres").tokenize(
        "SELECT STRLEN(s), ROUND(a, 1, 2), LENGTH(s), MODE() WITHIN GROUP (ORDER BY a), CAST(a AS TEXT) FROM t")
    assert [(c.name, c.args) for c in surface.missing(tokens, "postgres")] == [("strlen", 1), ("round", 3)]
    assert surface.missing(Dialect.get_or_raise("duckdb").tokenize("SELECT strlen(s), list_sort(l)"), "duckdb") == []


def test_a_function_postgres_lacks_is_refused_where_the_user_wrote_it(tmp_path):
    mart = "description: x\nsql: |\n  select a,\n    jArO_similarity(s, s) as n\n  from raw.t\n"
    root = write_project(tmp_path, {"config.yaml": CONFIG, "marts/m/one.yml": mart})
    with pytest.raises(CompileError) as caught:
        compile_project(build_graph(load_project(root)), dialect="postgres")
    [problem] = caught.value.problems
    assert problem.file.name == "one.yml" and problem.line == 4  # the line of sTrLen in the YAML file
    assert "jArO_similarity() with 2 argument(s)" in problem.message and "'m.one'" in problem.message
    assert problem.snippet == "jArO_similarity(s, s) as n"
    assert compile_project(build_graph(load_project(root)), dialect="duckdb").marts  # fine on its own engine


def test_refusals_exit_2_with_one_message_and_no_traceback(tmp_path):
    mart = "sql: |\n  select a, s\n  from raw.t\n  asof join raw.t as u on t.a >= u.a\n"
    root = write_project(tmp_path, {"config.yaml": CONFIG, "marts/m/one.yml": mart})
    run = subprocess.run([sys.executable, "-m", "martctl", "compile", "--dialect", "postgres", "-q"], cwd=root,
                         capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "one.yml:4" in run.stderr and "ASOF JOIN" in run.stderr and "hint:" in run.stderr


# -- output names ------------------------------------------------------------------------------
@pytest.mark.parametrize("sql, said", [
    ("select a, count(*) from raw.t group by a", "output column `COUNT(*)` has no name"),
    ("select a, s as A from raw.t", "two output columns are named 'a' and 'A'"),
])
def test_output_names_must_be_portable_on_every_engine(tmp_path, sql, said):
    root = write_project(tmp_path, {"config.yaml": CONFIG, "marts/m/one.yml": f"sql: {sql}\n"})
    for dialect in ("duckdb", "postgres"):
        with pytest.raises(CompileError) as caught:
            compile_project(build_graph(load_project(root)), dialect=dialect)
        assert said in str(caught.value) and "hint:" in str(caught.value)


def test_an_alias_keeps_its_case_on_postgres(tmp_path):
    root = write_project(tmp_path, {"config.yaml": CONFIG,
                                    "marts/m/one.yml": 'sql: select a as MyCol, s as "Quoted Name", d as plain from raw.t\n'})
    compiled = compile_project(build_graph(load_project(root)), dialect="postgres").marts["m.one"]
    assert list(compiled.columns) == ["MyCol", "Quoted Name", "plain"]
    assert 'AS "MyCol"' in compiled.sql and 'AS "Quoted Name"' in compiled.sql and "AS plain" in compiled.sql


# -- pattern languages --------------------------------------------------------------------------
@pytest.mark.parametrize("re2, are", [
    (r"\w+ \d", "[0-9A-Za-z_]+ [0-9]"),
    (r"[\w-]x", "[0-9A-Za-z_-]x"),
    ("[[:upper:]].", "[A-Z][^\\n]"),
    (r"\bword\b", r"\yword\y"),
    ("(?:ab)+$", "(?:ab)+$"),
    ("(?i)abc", None),
    (r"\pL", None),
    (r"[\W]", None),
])
def test_re2_patterns_become_postgres_patterns_with_the_same_matches(re2, are):
    assert re2_to_postgres(re2) == are


def test_globs_and_strftime_formats():
    assert glob_to_regex("data_[!0-9]?.c*") == "^data_[^0-9].\\.c.*$"
    assert strftime_to_char("%Y-%m-%d %H:%M") == ('YYYY"-"MM"-"DD" "HH24":"MI', None)
    assert strftime_to_char("week %W") == (None, "%W")


# -- DuckDB's rounding, on a real Postgres ----------------------------------------------------------
def test_rounding_a_double_on_postgres_is_duckdbs_for_thousands_of_values(pg_server):
    """Ties, binary near-ties (2.675), negatives: round(x, n) transpiled equals DuckDB's round(x, n)."""
    import duckdb
    import psycopg
    import sqlglot

    from martctl.compiler.sql import generate, typed
    from martctl.compiler.transforms import apply_transforms

    rng = random.Random(7)
    values = [2.675, 1.005, 0.285, 0.125, 2.5, -2.5, 0.5, -0.5, 1.5, 0.49999999999999994, 1e15 + 0.5, 0.0, -0.0]
    values += [round(rng.uniform(-1000, 1000), rng.randint(1, 6)) for _ in range(1500)]
    values += [rng.uniform(-10, 10) for _ in range(500)]
    sql = "select id, " + ", ".join(f"round(x, {n}) as r{n + 1}" for n in range(-1, 6)) + " from raw.v"
    schema = {"raw": {"v": {"id": "INTEGER", "x": "DOUBLE"}}}
    pg_sql = generate(apply_transforms(typed(sqlglot.parse_one(sql, read="duckdb"), schema, "duckdb"), "duckdb", "postgres"),
                      "postgres")[0]
    rows = list(enumerate(values))
    con = duckdb.connect()
    con.execute("create schema raw; create table raw.v (id integer, x double)")
    con.executemany("insert into raw.v values (?, ?)", rows)
    want = sorted(con.execute(sql).fetchall())
    with psycopg.connect(pg_server.new_database("round")) as pg:
        pg.execute("create schema raw; create table raw.v (id integer, x double precision)")
        pg.cursor().executemany("insert into raw.v values (%s, %s)", rows)
        got = sorted(pg.execute(pg_sql).fetchall())
    assert got == want
