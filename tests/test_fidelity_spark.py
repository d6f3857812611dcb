"""The Spark refusals and rewrites at compile (no Spark session): each refusal names its construct,
the mart and the line where it was written; portable neighbours of a refused construct still
compile for Spark; the rewrites emit the Spark function that computes DuckDB's value. The rows
themselves are compared on a real Spark session by tests/conformance/test_conformance_spark.py."""

from __future__ import annotations

import pytest
from conftest import write_project

from martctl.compiler.compile import compile_project
from martctl.compiler.resolve import build_graph
from martctl.errors import CompileError
from martctl.project.loader import load_project

CONFIG = (
    "name: fx\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n"
    "sources:\n  raw: {tables: [{name: t, columns: {id: INTEGER, i: INTEGER, b: BIGINT, s: VARCHAR, l: 'INTEGER[]', "
    "ts: TIMESTAMP, tz: TIMESTAMPTZ, v: DOUBLE}}]}\n"
)


def compiled(tmp_path, expression: str, dialect: str = "spark") -> str:
    mart = f"description: x\nsql: |\n  select id,\n    {expression} as x\n  from raw.t\n"
    root = write_project(tmp_path, {"config.yaml": CONFIG, "marts/m/one.yml": mart})
    return compile_project(build_graph(load_project(root)), dialect=dialect).marts["m.one"].sql


@pytest.mark.parametrize(("expression", "construct"), [
    ("upper(s)", "upper() / ucase()"),
    ("arg_max(id, v)", "arg_max() / max_by()"),
    ("(i, b) = (1, 2)", "a row comparison"),
    ("s[1]", "s[i] on a string"),
    ("l[2:3]", "slices l[a:b]"),
    ("left(s, -2)", "left(s, n) with a negative"),
    ("cast(ts as timestamptz)", "cast(timestamp as timestamptz)"),
    ("cast(tz as varchar)", "cast(timestamptz as varchar)"),
    ("tz at time zone 'America/New_York'", "timestamptz AT TIME ZONE"),
    ("epoch_ms(1710037800000)", "epoch_ms() / to_timestamp(epoch)"),
    ("printf('%s', s)", "printf()"),
    ("s glob 'h*'", "GLOB"),
])
def test_a_construct_spark_runs_differently_is_refused_naming_it(tmp_path, expression, construct):
    with pytest.raises(CompileError) as caught:
        compiled(tmp_path, expression)
    [problem] = caught.value.problems
    assert construct in problem.message and "spark" in problem.message and "'m.one'" in problem.message
    assert problem.file.name == "one.yml" and problem.line == 4
    assert compiled(tmp_path, expression, "duckdb")  # DuckDB itself is untouched


@pytest.mark.parametrize("expression", ["lower(s)", "sum(i)", "left(s, 2)", "cast(tz as timestamptz)",
                                        "ts at time zone 'UTC'", "i in (1, 2)", "lag(v, 1, 0.0) over (order by id)"])
def test_portable_neighbours_still_compile_for_spark(tmp_path, expression):
    assert compiled(tmp_path, expression)


@pytest.mark.parametrize(("expression", "spark"), [
    ("len(l)", "ARRAY_SIZE(t.l)"),
    ("sum(b)", "SUM(CAST(t.b AS DECIMAL(38, 0)))"),
    ("i / 2", "CAST(t.i AS DOUBLE) / CAST(2 AS DOUBLE)"),
    ("avg(b)", "AVG(CAST(t.b AS DOUBLE))"),
    ("quantile_cont(i, 0.25)", "PERCENTILE(t.i, 0.25)"),
    ("log10(i)", "LOG10(t.i)"),
    ("epoch(ts)", "UNIX_MICROS(CAST(t.ts AS TIMESTAMP_LTZ))"),
    ("i is true", "CAST(t.i AS BOOLEAN) IS TRUE"),
])
def test_rewrites_emit_the_function_that_computes_duckdbs_value(tmp_path, expression, spark):
    assert spark in compiled(tmp_path, expression)


def test_a_bigint_sum_read_downstream_still_divides_as_a_double(tmp_path):
    """Spark holds the sum as DECIMAL(38, 0) while the compiler knows it as BIGINT: s / 3 must not
    become a DECIMAL division rounded to 6 digits (DuckDB: a DOUBLE)."""
    root = write_project(tmp_path, {"config.yaml": CONFIG,
                                    "marts/m/one.yml": "description: x\nsql: select id, sum(b) as s from raw.t group by id\n",
                                    "marts/m/two.yml": "description: x\nsql: select id, s / 3 as h from m.one\n"})
    marts = compile_project(build_graph(load_project(root)), dialect="spark").marts
    assert "SUM(CAST(t.b AS DECIMAL(38, 0)))" in marts["m.one"].sql
    assert "CAST(one.s AS DOUBLE) / CAST(3 AS DOUBLE)" in marts["m.two"].sql
