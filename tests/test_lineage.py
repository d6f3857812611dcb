"""Lineage: hand-verified answers on the demo and on small fixture projects, the cache, the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from martctl.lineage.export import to_dot, to_mermaid
from martctl.lineage.trace import project_lineage
from martctl.project.loader import load_project
from tests.conftest import REPO, write_project


def lineage_of(root: Path, cache: bool = False):
    project = load_project(root)
    return project_lineage(project, cache_dir=(project.root / "target") if cache else None)


def sources_of(lin, text: str) -> set[str]:
    relation, column = lin.resolve(text)
    return set(lin.column_upstream(relation, column)["sources"])


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "martctl", "lineage", "--project-dir", str(root), *args],
                          capture_output=True, text=True, env={"NO_COLOR": "1", "COLUMNS": "200", "PATH": ""})


@pytest.fixture(scope="module")
def demo(tmp_path_factory):

    root = tmp_path_factory.mktemp("demo")
    for name in ("config.yaml",):
        (root / name).write_text((REPO / name).read_text())
    import shutil

    shutil.copytree(REPO / "marts", root / "marts")
    shutil.copytree(REPO / "seeds", root / "seeds")
    return root


@pytest.fixture(scope="module")
def demo_lineage(demo):
    return lineage_of(demo)


# --- the demo, hand-verified ------------------------------------------------------------------------


def test_through_a_cte_and_a_mart_on_a_mart(demo_lineage):
    graph = demo_lineage.column_upstream("marketing.campaign_roas", "spend")
    nodes = graph["nodes"]
    assert graph["sources"] == ["raw.ad_spend.spend"]
    cte = nodes["marketing.campaign_roas:spend.spend"]
    assert (cte["kind"], cte["scope"], cte["expression"]) == ("cte", "spend", "SUM(campaign_performance.spend)")
    assert nodes["marketing.campaign_performance.spend"]["expression"] == "s.spend"
    edges = {(e["from"], e["to"]) for e in graph["edges"]}
    assert edges == {
        ("raw.ad_spend.spend", "marketing.campaign_performance.spend"),
        ("marketing.campaign_performance.spend", "marketing.campaign_roas:spend.spend"),
        ("marketing.campaign_roas:spend.spend", "marketing.campaign_roas.spend"),
    }
    assert graph["marts"] == ["marketing.campaign_performance", "marketing.campaign_roas"]


def test_ratio_of_two_ctes(demo_lineage):
    assert sources_of(demo_lineage, "marketing.campaign_roas.roas") == {"raw.ad_spend.spend", "raw.orders.amount"}
    ctr = demo_lineage.column_upstream("marketing.campaign_performance", "ctr")
    assert ctr["nodes"][ctr["root"]]["expression"] == "ROUND(s.clicks / NULLIF(s.impressions, 0), 4)"
    assert ctr["sources"] == ["raw.ad_spend.clicks", "raw.ad_spend.impressions"]


def test_window_function_reads_its_partition_and_order_columns(demo_lineage):
    assert sources_of(demo_lineage, "data_analyst.customer_ltv.rank_in_country") == {
        "raw.customers.country", "raw.customers.customer_id", "raw.orders.amount", "raw.orders.status",
    }
    running = demo_lineage.column_upstream("marketing.campaign_roas", "channel_running_spend")
    assert running["nodes"][running["root"]]["expression"].startswith("SUM(sp.spend) OVER (PARTITION BY sp.channel")
    # ordered by first_day = min(day) of campaign_performance, i.e. raw.ad_spend.day
    assert running["sources"] == ["raw.ad_spend.day", "raw.ad_spend.spend", "raw.campaigns.campaign_id",
                                  "raw.campaigns.channel"]


def test_select_star_of_a_mart_expands(demo_lineage):
    assert demo_lineage.columns("data_analyst.top_customers") == demo_lineage.columns("data_analyst.customer_ltv")
    graph = demo_lineage.column_upstream("data_analyst.top_customers", "tier")
    assert ("data_analyst.customer_ltv.tier", "data_analyst.top_customers.tier") in {(e["from"], e["to"]) for e in graph["edges"]}
    assert graph["sources"] == ["raw.orders.amount", "raw.orders.status"]


def test_mart_in_another_dialect(demo_lineage):
    """weekly_acquisition is written in Postgres: DISTINCT ON, ::casts, ILIKE."""
    week = demo_lineage.column_upstream("marketing.weekly_acquisition", "week")
    assert week["sources"] == ["raw.customers.signed_up_at"]
    assert week["nodes"][week["root"]]["expression"] == "CAST(DATE_TRUNC('WEEK', CAST(c.signed_up_at AS TIMESTAMP)) AS DATE)"
    revenue = demo_lineage.column_upstream("marketing.weekly_acquisition", "first_order_revenue")
    assert revenue["nodes"]["marketing.weekly_acquisition:first_orders.first_order_amount"]["expression"] == "orders.amount"
    assert revenue["sources"] == ["raw.orders.amount"]
    count = demo_lineage.column_upstream("marketing.weekly_acquisition", "new_customers")
    assert count["sources"] == [] and count["unresolved"] == []  # count(*) reads no column


def test_impact_of_a_source_column_is_exact(demo_lineage):
    impact = demo_lineage.impact("raw.ad_spend", "spend")
    assert {(d["mart"], d["column"]) for d in impact["dependents"]} == {
        ("marketing.campaign_performance", "spend"),
        ("marketing.campaign_roas", "spend"),
        ("marketing.campaign_roas", "roas"),
        ("marketing.campaign_roas", "channel_running_spend"),
        ("marketing.campaign_roas", "roas_rank"),
    }
    roas = next(d for d in impact["dependents"] if d["column"] == "roas")
    assert roas["distance"] == 2 and roas["via"] == ["marketing.campaign_performance.spend"]


def test_impact_counts_select_expressions_not_filters(demo_lineage):
    """orders.status is read by FILTER (WHERE ...) inside select expressions, and by plain WHERE clauses."""
    impact = demo_lineage.impact("raw.orders", "status")
    got = {(d["mart"], d["column"]) for d in impact["dependents"]}
    derived = {"completed_orders", "revenue", "net_revenue", "avg_order_value", "rank_in_country", "tier"}
    assert got == (
        {("data_analyst.customer_orders", c) for c in ("completed_orders", "revenue", "refunded")}
        | {("data_analyst.customer_ltv", c) for c in derived}
        | {("data_analyst.top_customers", c) for c in derived}
        | {("data_analyst.order_facts", "status")}
    )
    assert impact["marts"] == ["data_analyst.customer_ltv", "data_analyst.customer_orders",
                               "data_analyst.order_facts", "data_analyst.top_customers"]
    assert demo_lineage.impact("raw.orders", "status", depth=1)["marts"] == [
        "data_analyst.customer_orders", "data_analyst.order_facts"]


def test_impact_of_a_mart_column(demo_lineage):
    impact = demo_lineage.impact("data_analyst.customer_ltv", "net_revenue")
    assert {(d["mart"], d["column"]) for d in impact["dependents"]} == {("data_analyst.top_customers", "net_revenue")}


def test_table_lineage_with_depth(demo_lineage):
    both = demo_lineage.tables(["data_analyst.customer_ltv"])
    assert set(both["nodes"]) == {"data_analyst.customer_ltv", "data_analyst.customer_orders", "raw.customers",
                                  "raw.orders", "data_analyst.top_customers"}
    assert both["nodes"]["data_analyst.top_customers"] == {
        "kind": "mart", "materialized": "view", "owner": "data_analyst", "tags": ["daily"],
        "description": "The ten best customers of each country by net revenue."}
    up1 = demo_lineage.tables(["data_analyst.customer_ltv"], downstream=False, depth=1)
    assert set(up1["nodes"]) == {"data_analyst.customer_ltv", "data_analyst.customer_orders"}
    down = demo_lineage.tables(["raw.sessions"], upstream=False)
    assert set(down["nodes"]) == {"raw.sessions", "marketing.campaign_performance", "marketing.campaign_roas",
                                  "marketing.channel_daily", "data_analyst.order_facts"}


def test_resolve_errors_say_did_you_mean(demo_lineage):
    from martctl.errors import ProjectError

    with pytest.raises(ProjectError) as err:
        demo_lineage.resolve("marketing.campaign_roas.spnd")
    assert "did you mean 'spend'" in str(err.value)
    with pytest.raises(ProjectError) as err:
        demo_lineage.resolve("marketing.campain_roas")
    assert "did you mean 'marketing.campaign_roas'" in str(err.value)
    assert demo_lineage.resolve("campaign_roas.spend") == ("marketing.campaign_roas", "spend")


# --- fixture projects ------------------------------------------------------------------------------

CONFIG = """\
name: fx
dialect: duckdb
targets:
  local: {type: duckdb, path: wh.duckdb}
sources:
  src:
    tables:
      a: {columns: [id, x, day]}
      b: {columns: [id, y]}
      opaque: {}
"""


@pytest.fixture
def fixture_project(tmp_path):
    return write_project(tmp_path / "fx", {
        "config.yaml": CONFIG,
        "marts/m/joined.yml": "sql: select id, a.x, b.y, a.x + b.y as total from src.a join src.b using (id)\n",
        "marts/m/starred.yml": "sql: select * from m.joined\n",
        "marts/m/nested.yml": (
            "sql: |\n"
            "  select t.id, t.doubled, (select max(y) from src.b) as top_y\n"
            "  from (select id, x * 2 as doubled from src.a) as t\n"
        ),
        "marts/m/unioned.yml": "sql: select id, x as v from src.a union all select id, y from src.b\n",
        "marts/m/ranked.yml": (
            "sql: select id, row_number() over (partition by a.x order by day) as rn, "
            "lag(total) over (order by id) as prev_total from m.starred join src.a using (id)\n"
        ),
        "marts/m/blind.yml": "sql: select * from src.opaque\ncolumns:\n  k: {}\n",
        "marts/m/guess.yml": "sql: select a.x, z from src.a join src.opaque o on o.k = a.id\n",
    })


def test_using_join_takes_the_key_from_both_sides(fixture_project):
    lin = lineage_of(fixture_project)
    graph = lin.column_upstream("m.joined", "id")
    assert graph["sources"] == ["src.a.id", "src.b.id"]
    assert graph["nodes"]["m.joined.id"]["expression"] == "COALESCE(a.id, b.id)"
    assert sources_of(lin, "m.joined.total") == {"src.a.x", "src.b.y"}


def test_select_star_mart_on_mart_and_window_through_using(fixture_project):
    lin = lineage_of(fixture_project)
    assert lin.columns("m.starred") == ["id", "x", "y", "total"]
    assert sources_of(lin, "m.starred.total") == {"src.a.x", "src.b.y"}
    assert sources_of(lin, "m.ranked.rn") == {"src.a.x", "src.a.day"}
    # lag(total) over (order by id): total, and the using key id from both sides of both joins
    assert sources_of(lin, "m.ranked.prev_total") == {"src.a.x", "src.b.y", "src.a.id", "src.b.id"}
    assert sources_of(lin, "m.ranked.id") == {"src.a.id", "src.b.id"}


def test_derived_table_and_scalar_subquery(fixture_project):
    lin = lineage_of(fixture_project)
    graph = lin.column_upstream("m.nested", "doubled")
    step = graph["nodes"]["m.nested:t.doubled"]
    assert (step["kind"], step["expression"]) == ("subquery", "a.x * 2")
    assert graph["sources"] == ["src.a.x"]
    assert sources_of(lin, "m.nested.top_y") == {"src.b.y"}


def test_union_takes_each_branch(fixture_project):
    lin = lineage_of(fixture_project)
    graph = lin.column_upstream("m.unioned", "v")
    assert graph["sources"] == ["src.a.x", "src.b.y"]
    assert graph["nodes"]["m.unioned.v"]["expression"] == "UNION ALL"
    assert graph["nodes"]["m.unioned:union 1.v"]["expression"] == "a.x"
    assert graph["nodes"]["m.unioned:union 2.y"]["expression"] == "b.y"


def test_unknown_schema_is_reported_not_dropped(fixture_project):
    lin = lineage_of(fixture_project)
    blind = lin.column_upstream("m.blind", "k")
    assert blind["sources"] == []
    assert [u["relation"] for u in blind["unresolved"]] == ["m.blind"]
    assert "src.opaque" in blind["unresolved"][0]["reason"] and "unknown" in blind["unresolved"][0]["reason"]
    guess = lin.column_upstream("m.guess", "z")
    assert guess["sources"] == [] and len(guess["unresolved"]) == 1
    assert sources_of(lin, "m.guess.x") == {"src.a.x"}
    assert any("m.blind" in p for p in lin.problems())


def test_cache_answers_and_invalidates(fixture_project):
    first = lineage_of(fixture_project, cache=True)
    assert not first.from_cache and (fixture_project / "target" / "lineage.json").exists()
    second = lineage_of(fixture_project, cache=True)
    assert second.from_cache and second.hops == first.hops
    path = fixture_project / "marts/m/joined.yml"
    path.write_text("sql: select id, a.x, b.y, a.x * b.y as total, b.y as y2 from src.a join src.b using (id)\n")
    third = lineage_of(fixture_project, cache=True)
    assert not third.from_cache
    assert third.columns("m.starred") == ["id", "x", "y", "total", "y2"]  # the change flows downstream
    assert third.hops["m.nested"] is not first.hops["m.nested"] and third.hops["m.nested"] == first.hops["m.nested"]


def test_corrupt_cache_is_recomputed(fixture_project):
    (fixture_project / "target").mkdir()
    (fixture_project / "target" / "lineage.json").write_text("{not json")
    assert not lineage_of(fixture_project, cache=True).from_cache
    assert lineage_of(fixture_project, cache=True).from_cache


def test_mermaid_and_dot(demo_lineage):
    graph = demo_lineage.column_upstream("marketing.campaign_roas", "roas")
    mermaid = to_mermaid(graph)
    assert mermaid.startswith("flowchart LR\n")
    assert 'subgraph g0["marketing.campaign_roas"]' in mermaid
    assert mermaid.count(" --> ") == len(graph["edges"])
    labels = re.findall(r'^\s*n\d+\[\(?"(.*)"\)?\]$', mermaid, flags=re.MULTILINE)
    assert len(labels) == len(graph["nodes"]) and not any('"' in label for label in labels), mermaid
    dot = to_dot(demo_lineage.tables(["marketing.campaign_roas"]))
    assert dot.startswith("digraph lineage {") and '"marketing.campaign_performance" -> "marketing.campaign_roas";' in dot


def test_mermaid_escapes_what_would_end_or_break_a_label():
    expression = 'CASE WHEN "a b" > 1 AND x < 2 THEN \'p|q\' ELSE a & b END'
    graph = {"kind": "column", "root": "m.c", "edges": [],
             "nodes": {"m.c": {"kind": "mart", "relation": "s.m", "column": "c", "expression": expression}}}
    label = re.search(r'n0\["(.*)"\]', to_mermaid(graph)).group(1)
    assert label == "c<br/>CASE WHEN #quot;a b#quot; #gt; 1 AND x #lt; 2 THEN 'p#124;q' ELSE a #amp; b END"


# --- the command ----------------------------------------------------------------------------------


def test_cli_column_tree(demo):
    result = run_cli(demo, "marketing.campaign_roas.spend")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("marketing.campaign_roas.spend") and "= sp.spend" in lines[0]
    assert "cte spend.spend  = SUM(campaign_performance.spend)" in result.stdout
    assert "raw.ad_spend.spend" in lines[3]
    assert "1 source column: raw.ad_spend.spend" in result.stdout


def test_cli_impact_json_and_table_tree(demo):
    result = run_cli(demo, "--impact", "raw.ad_spend.spend", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["kind"], data["direction"], data["root"]) == ("column", "downstream", "raw.ad_spend.spend")
    assert len(data["dependents"]) == 5
    tree = run_cli(demo, "tag:finance", "--upstream", "--depth", "1")
    assert tree.returncode == 0, tree.stderr
    assert "marketing.campaign_roas  table · owner marketing · tags daily, finance" in tree.stdout
    assert "marketing.campaign_performance" in tree.stdout and "raw.ad_spend" not in tree.stdout
    assert "downstream" not in tree.stdout


def test_cli_bad_names_exit_2_with_did_you_mean(demo):
    result = run_cli(demo, "marketing.campaign_roas.spnd")
    assert result.returncode == 2
    assert "has no column 'spnd'" in result.stderr and "did you mean 'spend'" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli(demo, "--impact", "raw.ad_spnd.spend")
    assert result.returncode == 2 and "did you mean 'raw.ad_spend.spend'" in result.stderr
    result = run_cli(demo, "marketing.campaign_roas", "--format", "svg")
    assert result.returncode == 2 and "one of tree, json, mermaid, dot" in result.stderr


def test_columns_of_an_undeclared_source_come_from_the_warehouse(fixture_project):
    import duckdb

    blind = json.loads(run_cli(fixture_project, "m.blind.k", "--format", "json").stdout)
    assert blind["sources"] == [] and blind["unresolved"]
    con = duckdb.connect(str(fixture_project / "wh.duckdb"))
    con.execute("create schema src")
    con.execute("create table src.opaque (k integer, label varchar)")
    con.close()
    result = run_cli(fixture_project, "m.blind.k", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["sources"] == ["src.opaque.k"] and data["unresolved"] == []
    guess = json.loads(run_cli(fixture_project, "m.guess.z", "--format", "json").stdout)
    assert guess["sources"] == [] and guess["unresolved"]  # z is in neither input: still said plainly
