"""Compiling: typed transpiling (read/write tables), golden SQL of demo marts per dialect,
unsupported constructs, re-parsing, target/compiled files, a real Postgres run of the typed output.

Regenerate the golden files after an intended change: MARTCTL_UPDATE_GOLDEN=1 pytest tests/test_compile.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot

from martctl.compiler.compile import compile_project, write_compiled
from martctl.compiler.resolve import build_graph
from martctl.errors import CompileError
from martctl.project.loader import load_project
from tests.conftest import REPO, write_project

GOLDEN = Path(__file__).parent / "golden"
DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark", "trino")
GOLDEN_MARTS = (
    "marketing.campaign_performance",  # CTE, FILTER, round(int / int)
    "marketing.weekly_acquisition",  # written in postgres (DISTINCT ON, ILIKE)
    "data_analyst.customer_ltv",  # a mart on a mart, window
    "data_analyst.monthly_cohorts",  # date_trunc / date_diff
)

CONFIG = """\
name: fx
dialect: duckdb
targets:
  local: {type: duckdb, path: wh.duckdb}
  pg: {type: postgres, dsn: "postgresql://u@h/db", schema_prefix: dev_}
sources:
  raw:
    tables:
      - name: t
        columns: {a: int, b: int, price: "decimal(12,2)", ts: timestamp, label: varchar}
"""


def compiled_sql(sql: str, dialect: str, *, mart_dialect: str | None = None, strict: bool = True) -> str:
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as tmp:
        head = f"dialect: {mart_dialect}\n" if mart_dialect else ""
        root = write_project(Path(tmp), {"config.yaml": CONFIG, "marts/a/m.yml": head + "sql: |\n" + _indent(sql)})
        compiled = compile_project(build_graph(load_project(root)), dialect=dialect, strict=strict)
        return compiled.marts["a.m"].sql


def _indent(sql: str) -> str:
    return "".join("  " + line + "\n" for line in sql.splitlines())


def flat(sql: str) -> str:
    return " ".join(sql.split())


# sqlglot-style read/write table: duckdb SQL over raw.t -> what each dialect must get
TRANSPILE = [
    (
        "select round(a / b, 2) as r from raw.t",
        {
            "postgres": "SELECT (SIGN(CAST(CAST(t.a AS DOUBLE PRECISION) / t.b AS DOUBLE PRECISION)) * (FLOOR(ABS(CAST(CAST(t.a AS DOUBLE PRECISION) / t.b AS DOUBLE PRECISION)) * 100) + CASE SIGN(ABS(CAST(CAST(t.a AS DOUBLE PRECISION) / t.b AS DOUBLE PRECISION)) * 100 - FLOOR(ABS(CAST(CAST(t.a AS DOUBLE PRECISION) / t.b AS DOUBLE PRECISION)) * 100) - 0.5) WHEN 1 THEN 1 WHEN 0 THEN (SELECT CASE WHEN (_r.hi * 100 - _r.v * 100) + (_r.v - _r.hi) * 100 >= 0 THEN 1 ELSE 0 END FROM (SELECT _q.v, 134217729 * _q.v - (134217729 * _q.v - _q.v) AS hi FROM (SELECT ABS(CAST(CAST(t.a AS DOUBLE PRECISION) / t.b AS DOUBLE PRECISION)) AS v) AS _q) AS _r) ELSE 0 END) / 100) AS r FROM raw.t AS t",  # DuckDB's rounding of a double (fidelity)
            "duckdb": "SELECT ROUND(a / b, 2) AS r FROM raw.t",
            "trino": "SELECT ROUND(CAST(t.a AS DOUBLE) / t.b, 2) AS r FROM raw.t AS t",
        },
    ),
    (
        "select 7 / 2 as half, 7 // 2 as whole from raw.t",
        {
            "postgres": "SELECT CAST(7 AS DOUBLE PRECISION) / 2 AS half, CAST(DIV(7, 2) AS INT) AS whole FROM raw.t AS t",
            "duckdb": "SELECT 7 / 2 AS half, 7 // 2 AS whole FROM raw.t",
        },
    ),
    (
        "select label, count(*) filter (where a > 1) as n from raw.t group by all",
        {
            "postgres": "SELECT t.label AS label, COUNT(*) FILTER(WHERE t.a > 1) AS n FROM raw.t AS t GROUP BY t.label",
            "bigquery": "SELECT t.label AS label, COUNTIF(t.a > 1) AS n FROM raw.t AS t GROUP BY ALL",
        },
    ),
    (
        "with x as (select a, price from raw.t) select a, sum(price) over (order by a) as running from x",
        {
            "snowflake": "WITH x AS (SELECT t.a AS a, t.price AS price FROM raw.t AS t) "
            "SELECT x.a AS a, SUM(x.price) OVER (ORDER BY x.a) AS running FROM x AS x",
        },
    ),
]


@pytest.mark.parametrize("sql, expected", TRANSPILE, ids=[t[0][:40] for t in TRANSPILE])
def test_transpile_table(sql, expected):
    for dialect, want in expected.items():
        got = compiled_sql(sql, dialect)
        assert sqlglot.parse_one(got, read=dialect).sql(dialect) == want, dialect  # re-parses, and says this


def test_references_become_physical_names_with_the_target_prefix(tmp_path):
    root = write_project(tmp_path, {
        "config.yaml": CONFIG,
        "marts/a/base.yml": "sql: select a, b from raw.t\n",
        "marts/a/top.yml": "sql: select sum(a) as a from base\n",
    })
    project = load_project(root)
    compiled = compile_project(build_graph(project), target=project.target("pg"))
    assert compiled.dialect == "postgres"
    assert compiled.marts["a.top"].relation == ("dev_a", "top")
    assert "FROM dev_a.base AS base" in compiled.marts["a.top"].sql
    assert compiled.marts["a.top"].inputs == {"a.base": ("dev_a", "base")}
    assert compiled.marts["a.base"].columns == {"a": "INT", "b": "INT"}


def test_same_dialect_is_not_rewritten():
    sql = "select a, b / 2 as h from raw.t where label like 'x%'"
    assert flat(compiled_sql(sql, "duckdb")) == "SELECT a, b / 2 AS h FROM raw.t WHERE label LIKE 'x%'"


def test_mart_in_another_dialect_is_transpiled():
    got = compiled_sql("select a from raw.t where label ilike 'x%' limit 1", "duckdb", mart_dialect="snowflake")
    assert "ILIKE" in got and sqlglot.parse_one(got, read="duckdb")


PIVOT = "select *\nfrom raw.t pivot (sum(b) for a in (1, 2))"


def test_unsupported_construct_is_an_error_naming_mart_and_construct():
    with pytest.raises(CompileError) as info:
        compiled_sql(PIVOT, "postgres")
    [problem] = info.value.problems
    assert "mart 'a.m'" in problem.message and "PIVOT" in problem.message and "postgres" in problem.message
    assert "--allow-unsupported" in problem.hint
    assert problem.file.name == "m.yml"


def test_allow_unsupported_downgrades_to_a_warning(tmp_path):
    root = write_project(tmp_path, {"config.yaml": CONFIG, "marts/a/m.yml": "sql: |\n" + _indent(PIVOT)})
    run = subprocess.run([sys.executable, "-m", "martctl", "compile", "--dialect", "trino", "-q"], cwd=root,
                         capture_output=True, text=True)
    assert run.returncode == 2 and "PIVOT unsupported" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "martctl", "compile", "--dialect", "trino", "--allow-unsupported", "-q"],
                         cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "warning: a.m: PIVOT unsupported" in run.stderr


def _demo_compiled(demo: Path, dialect: str):
    return compile_project(build_graph(load_project(demo)), dialect=dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_demo_golden(dialect):
    compiled = _demo_compiled(REPO, dialect)
    update = os.environ.get("MARTCTL_UPDATE_GOLDEN")
    for key in GOLDEN_MARTS:
        text = compiled.marts[key].sql.rstrip() + "\n"
        path = GOLDEN / dialect / f"{key}.sql"
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.is_file(), f"missing {path}: run with MARTCTL_UPDATE_GOLDEN=1"
        assert text == path.read_text(encoding="utf-8"), f"{key} in {dialect} changed (MARTCTL_UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compile_cli_every_dialect_on_the_demo(demo_dir, dialect):
    run = subprocess.run([sys.executable, "-m", "martctl", "compile", "--dialect", dialect], cwd=demo_dir,
                         capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 0, run.stderr
    project = load_project(demo_dir)
    for key, mart in project.marts.items():
        path = demo_dir / "target" / f"compiled-{dialect}" / mart.area / f"{mart.name}.sql"
        text = path.read_text(encoding="utf-8")
        assert sqlglot.parse_one(text, read=dialect), key  # re-parses in the dialect it was written for
        assert f"-- {key} " in run.stdout
    assert "Traceback" not in run.stderr


def test_compile_selection_writes_only_selected(demo_dir):
    compiled = compile_project(build_graph(load_project(demo_dir)), dialect="postgres",
                               select=["data_analyst.customer_ltv"])
    assert list(compiled.marts) == ["data_analyst.customer_ltv"]
    written = write_compiled(compiled, demo_dir / "target")
    assert [p.relative_to(demo_dir).as_posix() for p in written] == ["target/compiled/data_analyst/customer_ltv.sql"]
    # typed from the upstream mart's inferred columns (revenue is a decimal): divided in double, as DuckDB does
    assert ("CAST(customer_orders.revenue AS DOUBLE PRECISION) / CAST(customer_orders.completed_orders AS DOUBLE PRECISION)"
            in compiled.marts["data_analyst.customer_ltv"].sql)


def test_typed_output_runs_on_postgres_like_on_duckdb(tmp_path, pg_server):
    """`round(a / b, 2)` written for DuckDB gives the same answer on a real Postgres."""
    import duckdb
    import psycopg

    sql = "select a, b, round(a / b, 2) as r, 7 / 2 as half, 7 // 2 as whole from raw.t"
    root = write_project(tmp_path, {"config.yaml": CONFIG, "marts/a/m.yml": "sql: |\n" + _indent(sql)})
    graph = build_graph(load_project(root))
    pg_sql = compile_project(graph, dialect="postgres").marts["a.m"].sql
    duck_sql = compile_project(graph, dialect="duckdb").marts["a.m"].sql
    rows = [(7, 2), (1, 3), (10, 4)]
    con = duckdb.connect()
    con.execute("create schema raw; create table raw.t (a int, b int, price decimal(12,2), ts timestamp, label varchar)")
    con.executemany("insert into raw.t (a, b) values (?, ?)", rows)
    expected = sorted(con.execute(duck_sql).fetchall())
    with psycopg.connect(pg_server.new_database()) as pg:
        pg.execute("create schema raw")
        pg.execute("create table raw.t (a int, b int, price decimal(12,2), ts timestamp, label varchar)")
        pg.cursor().executemany("insert into raw.t (a, b) values (%s, %s)", rows)
        got = sorted(pg.execute(pg_sql).fetchall())
    assert [row[2:] for row in expected] == [(0.33, 3.5, 3), (3.5, 3.5, 3), (2.5, 3.5, 3)]
    assert expected == [(a, b, r, float(h), int(w)) for a, b, r, h, w in got]  # the same doubles, exactly


def test_compile_for_a_target_types_sources_from_its_catalog(tmp_path, pg_server):
    """A source that declares no columns is typed from the warehouse: the output runs on Postgres."""
    import psycopg

    dsn = pg_server.new_database()
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("create schema raw")
        pg.execute("create table raw.t (a int, b int)")
        pg.execute("insert into raw.t values (7, 2), (1, 3)")
    config = ("name: fx\ndialect: duckdb\ndefault_target: pg\ntargets:\n  pg: {type: postgres, dsn: \"${FX_DSN}\"}\n"
              "sources:\n  raw: {tables: [t]}\n")
    root = write_project(tmp_path, {"config.yaml": config, "marts/a/m.yml": "sql: select round(a / b, 2) as r from raw.t\n"})
    run = subprocess.run([sys.executable, "-m", "martctl", "compile", "-q"], cwd=root, capture_output=True, text=True,
                         env={**os.environ, "FX_DSN": dsn})
    assert run.returncode == 0, run.stderr
    sql = (root / "target" / "compiled" / "a" / "m.sql").read_text()
    assert "CAST(t.a AS DOUBLE PRECISION) / t.b" in sql  # typed from the catalog: a and b are integers
    with psycopg.connect(dsn) as pg:
        assert sorted(pg.execute(sql.rstrip().rstrip(";")).fetchall()) == [(0.33,), (3.5,)]  # DuckDB's doubles


def test_transpiling_without_input_columns_warns(tmp_path):
    config = "name: fx\nsources:\n  raw: {tables: [t]}\n"
    root = write_project(tmp_path, {"config.yaml": config, "marts/a/m.yml": "sql: select round(a / b, 2) as r from raw.t\n"})
    graph = build_graph(load_project(root))
    [warning] = compile_project(graph, dialect="postgres").warnings
    assert warning.startswith("a.m: transpiled from duckdb without the columns of raw.t")
    assert compile_project(graph, dialect="duckdb").warnings == []  # same dialect: nothing to lose


def test_postgres_integer_division_keeps_its_meaning_on_duckdb():
    """Postgres `7 / 2` is 3: written for Postgres, compiled for DuckDB, it still is (run on DuckDB)."""
    import duckdb

    sql = compiled_sql("select a / b as q, round(a::numeric / b, 2) as r from raw.t", "duckdb", mart_dialect="postgres")
    assert flat(sql) == ("SELECT CAST(TRUNC(t.a / t.b) AS BIGINT) AS q, ROUND(CAST(t.a AS DECIMAL) / t.b, 2) AS r "
                         "FROM raw.t AS t")
    con = duckdb.connect()
    con.execute("create schema raw; create table raw.t as select * from (values (7, 2), (-7, 2), (1, 3)) v(a, b)")
    assert con.execute(sql).fetchall() == [(3, 3.5), (-3, -3.5), (0, 0.33)]  # truncated toward zero, like Postgres


def test_a_run_writes_only_the_compiled_files_that_changed(tmp_path):
    """target/compiled/ after a run holds what ran; an unchanged mart's file is not rewritten (its
    mtime, set to the epoch, stays), an edited mart's file is, and a hand-edited file is restored."""
    import martctl

    root = write_project(tmp_path / "p", {"marts/a/one.yml": "sql: select 1 as x\n",
                                          "marts/a/two.yml": "sql: select x + 1 as y from a.one\n"})
    assert martctl.open(root).run().exit_code() == 0
    one, two = (root / "target/compiled/a" / f"{name}.sql" for name in ("one", "two"))
    os.utime(one, (0, 0))
    os.utime(two, (0, 0))
    (root / "marts/a/two.yml").write_text("sql: select x + 2 as y from a.one\n")
    assert martctl.open(root).run().exit_code() == 0
    assert one.stat().st_mtime_ns == 0  # unchanged SQL: left alone
    assert "x + 2" in two.read_text() and two.stat().st_mtime_ns != 0
    one.write_text("-- edited by hand\n")
    assert martctl.open(root).run(select=["a.two"]).exit_code() == 0
    assert one.read_text() == "-- edited by hand\n"  # not selected: not compiled, not written
    assert martctl.open(root).run().exit_code() == 0
    assert one.read_text() == "-- edited by hand\n"  # up to date: it did not run, its file is not what ran
    assert martctl.open(root).run(force=True).exit_code() == 0
    assert one.read_text().startswith("SELECT") and one.read_text().rstrip().endswith(";")
