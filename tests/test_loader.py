"""The project format: config.yaml and marts/<area>/*.yml into the typed, immutable model; dependencies."""

from __future__ import annotations

import dataclasses

import pytest

from martctl.compiler.resolve import build_graph
from martctl.errors import ProjectError
from martctl.project.loader import load_project, missing_env_problems
from tests.conftest import write_project

CONFIG = """\
name: shop
dialect: duckdb
default_target: dev
targets:
  dev: {type: duckdb, path: dev.duckdb, threads: 2}
  pg: {type: postgres, dsn: "postgresql://app:${SHOP_PG_PASSWORD}@db/shop", schema_prefix: "${SHOP_PREFIX:-ci_}"}
sources:
  raw:
    schema: landing
    description: What the apps write.
    tables:
      - orders
      - {name: customers, columns: {customer_id: int, country: varchar}}
  crm: {tables: {accounts: {description: Accounts, columns: [id, owner]}}}
vars: {lookback_days: 30}
"""


def test_demo_loads_into_the_model(demo_dir):
    project = load_project(demo_dir)
    assert project.name == "examplecorp" and project.dialect == "duckdb" and project.default_target == "local"
    areas = {m.area for m in project.marts.values()}
    assert areas == {"marketing", "data_analyst"}
    assert sum(m.area == "marketing" for m in project.marts.values()) >= 4
    assert sum(m.area == "data_analyst" for m in project.marts.values()) >= 4
    assert {"raw.customers", "raw.orders", "raw.campaigns", "raw.ad_spend", "raw.sessions"} <= set(project.sources)
    assert all(s.seed is not None for s in project.sources.values())
    assert project.marts["marketing.weekly_acquisition"].dialect == "postgres"
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.marts["marketing.weekly_acquisition"].name = "x"  # type: ignore[misc]


def test_config_targets_sources_vars_and_env(tmp_path):
    root = write_project(tmp_path, {"config.yaml": CONFIG})
    project = load_project(root, environ={"SHOP_PG_PASSWORD": "s3cret!"})
    assert set(project.targets) == {"dev", "pg"}
    dev, pg = project.target(), project.target("pg")
    assert (dev.name, dev.type, dev.threads, dev.settings["path"]) == ("dev", "duckdb", 2, "dev.duckdb")
    assert pg.dialect == "postgres" and pg.settings["dsn"] == "postgresql://app:s3cret!@db/shop"
    assert pg.settings["schema_prefix"] == "ci_"  # ${VAR:-default}
    assert project.secrets() == ("s3cret!",)
    assert missing_env_problems(project, pg) == []
    assert project.sources["raw.orders"].schema == "landing"
    assert project.sources["raw.customers"].columns == {"customer_id": "int", "country": "varchar"}
    assert project.sources["crm.accounts"].columns == {"id": None, "owner": None}
    assert project.sources["crm.accounts"].description == "Accounts"
    assert project.vars == {"lookback_days": 30}


def test_missing_env_var_is_a_problem_of_its_target_only(tmp_path):
    root = write_project(tmp_path, {"config.yaml": CONFIG})
    project = load_project(root, environ={})
    assert missing_env_problems(project, project.target()) == []
    [problem] = missing_env_problems(project, project.target("pg"))
    assert "SHOP_PG_PASSWORD" in problem.message and problem.line == 6


def test_mart_keys_inline_sql_and_details(tmp_path):
    yml = """\
description: Orders per day.
owner: sales
materialized: view
tags: [daily, core]
meta: {tier: gold}
sql: |
  select cast(ordered_at as date) as day, count(*) as orders
  from raw.orders
  group by 1
columns:
  day: {description: The day, type: date, tests: [not_null, unique]}
  orders:
    tests:
      - expression: "orders > 0"
      - accepted_values: {values: [1, 2], severity: warn}
tests:
  - unique: [day]
  - row_count: {min: 1}
unit_tests:
  - name: counts
    given:
      raw.orders: [{ordered_at: "2026-01-01 10:00:00"}]
    expect: [{day: 2026-01-01, orders: 1}]
"""
    root = write_project(tmp_path, {"config.yaml": CONFIG, "marts/sales/daily_orders.yml": yml})
    mart = load_project(root).marts["sales.daily_orders"]
    assert (mart.name, mart.area, mart.key, mart.materialized, mart.owner) == (
        "daily_orders", "sales", "sales.daily_orders", "view", "sales")
    assert mart.tags == ("daily", "core") and mart.meta == {"tier": "gold"}
    assert mart.sql.startswith("select cast(") and mart.sql_file is None
    assert mart.sql_line == 7  # the YAML line where the SQL text starts
    assert mart.columns["day"].type == "date" and mart.columns["day"].line == 11
    kinds = [(t.kind, t.column, t.severity) for t in mart.all_tests()]
    assert kinds == [("not_null", "day", "error"), ("unique", "day", "error"), ("expression", "orders", "error"),
                     ("accepted_values", "orders", "warn"), ("unique", None, "error"), ("row_count", None, "error")]
    assert mart.tests[0].args["columns"] == ("day",)
    assert mart.unit_tests[0].name == "counts" and mart.unit_tests[0].given["raw.orders"][0]["ordered_at"]


def test_sibling_sql_file_and_several_marts_per_file(tmp_path):
    root = write_project(tmp_path, {
        "config.yaml": CONFIG,
        "marts/sales/big.yml": "description: SQL beside me\n",
        "marts/sales/big.sql": "select *\nfrom raw.orders\n",
        "marts/ops/many.yml": (
            "marts:\n"
            "  - name: first\n    sql: select 1 as x\n"
            "  - name: second\n    dialect: snowflake\n    sql: |\n      select x from ops.first\n"
            "  - name: third\n    description: in third.sql\n"
        ),
        "marts/ops/third.sql": "select x from second\n",
    })
    project = load_project(root)
    big = project.marts["sales.big"]
    assert big.sql_file.name == "big.sql" and big.sql_line == 1 and big.sql_path == big.sql_file
    assert set(project.marts) == {"sales.big", "ops.first", "ops.second", "ops.third"}
    second = project.marts["ops.second"]
    assert second.dialect == "snowflake" and second.line == 4 and second.sql_line == 7
    assert project.marts["ops.third"].sql_file.name == "third.sql"
    graph = build_graph(project)
    assert graph.parsed["ops.third"].upstream_marts == ("ops.second",)  # bare name, unambiguous
    assert graph.graph.topological_order().index("ops.first") < graph.graph.topological_order().index("ops.third")


def test_sql_both_inline_and_beside_is_a_problem(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "sql: select 1 as x\n", "marts/a/m.sql": "select 2 as x\n"})
    with pytest.raises(ProjectError, match="both inline and in m.sql"):
        load_project(root)


def test_mart_file_outside_an_area(tmp_path):
    root = write_project(tmp_path, {"marts/m.yml": "sql: select 1 as x\n"})
    with pytest.raises(ProjectError, match="must sit in an area folder"):
        load_project(root)


DEPS = """\
with orders as (select * from raw.orders),
     recent as (select * from orders where ordered_at > now() - interval 3 day)
select r.*, sub.n, (select max(x) from a.scalar_src s where s.x = r.order_id) as biggest
from recent r
join (select customer_id, count(*) as n from base group by 1) sub using (customer_id)
where exists (select 1 from b.flags f where f.id = r.order_id)
"""


def test_dependencies_are_scope_aware(tmp_path):
    root = write_project(tmp_path, {
        "config.yaml": CONFIG,
        "marts/a/orders.yml": "sql: select 1 as x\n",  # a mart named like the CTE: not a dependency
        "marts/a/recent.yml": "sql: select 1 as x\n",
        "marts/a/base.yml": "sql: select 1 as customer_id\n",
        "marts/a/scalar_src.yml": "sql: select 1 as x\n",
        "marts/b/flags.yml": "sql: select 1 as id\n",
        "marts/c/reader.yml": "sql: |\n" + "".join("  " + line + "\n" for line in DEPS.splitlines()),
    })
    parsed = build_graph(load_project(root)).parsed["c.reader"]
    assert set(parsed.upstream_marts) == {"a.base", "a.scalar_src", "b.flags"}
    assert parsed.upstream_sources == ("raw.orders",)


def test_tables_the_scope_walk_misses_are_still_dependencies(tmp_path):
    """DuckDB's FROM-first query nested in a FROM escapes sqlglot's scope walk: still a dependency."""
    root = write_project(tmp_path, {
        "config.yaml": CONFIG,
        "marts/a/base.yml": "sql: select 1 as x\n",
        "marts/c/reader.yml": "sql: select x from (from a.base)\n",  # a FROM holding a FROM-first query
        "marts/c/listed.yml": "sql: select * from (values (1), (2)) as v(x)\n",
    })
    graph = build_graph(load_project(root))
    assert graph.parsed["c.reader"].upstream_marts == ("a.base",)
    assert graph.parsed["c.listed"].upstream_marts == ()
    # the bare form (DuckDB's parser refuses it, so no mart gets this far) escapes the scope walk
    import sqlglot

    from martctl.compiler.sql import table_references

    bare = sqlglot.parse_one("select x from from a.base", read="duckdb")
    assert [t.sql() for t in table_references(bare)] == ["a.base"]


def test_vars_become_literals(tmp_path):
    root = write_project(tmp_path, {
        "config.yaml": CONFIG,
        "marts/a/m.yml": "sql: select * from raw.orders where amount > :lookback_days and note = :label\n",
    })
    project = load_project(root)
    graph = build_graph(project, {"label": "x'; drop table t; --"})
    sql = graph.parsed["a.m"].tree.sql("duckdb")
    assert "amount > 30" in sql and "note = 'x''; drop table t; --'" in sql
    with pytest.raises(ProjectError, match="unknown var ':label'"):
        build_graph(project)
