"""`martctl test` and the tests inside `martctl build`, end to end on the demo project (DuckDB)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import duckdb
import pytest


def martctl(*args, cwd):
    return subprocess.run([sys.executable, "-m", "martctl", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def built(demo_dir):
    run = martctl("build", "--threads", "2", cwd=demo_dir)
    assert run.returncode == 0, run.stdout + run.stderr
    return demo_dir


def plant(root, *statements):
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def test_the_demo_passes_every_test_and_writes_run_results(built):
    run = martctl("test", cwd=built)
    assert run.returncode == 0, run.stdout + run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("OK: ") and "FAIL" not in last and "ERROR" not in last
    results = json.loads((built / "target/run_results.json").read_text())
    assert results["command"] == "test" and results["exit_code"] == 0
    tests = results["tests"]
    marts = {t["mart"] for t in tests if t["kind"] != "unit"}
    assert len(marts) == 9  # every mart of the demo carries data tests
    assert {t["status"] for t in tests} == {"PASS"}
    assert len({t["mart"] for t in tests if t["kind"] == "unit"}) >= 2


def test_failures_show_rows_and_sql_and_junit_counts_match(built, tmp_path):
    plant(built,
          "update data_analyst.customer_orders set revenue = -5 where customer_id in (1, 2, 3)",
          "update marketing.campaign_roas set roas = -1 where campaign_id = 1")  # a warn-severity test
    junit = tmp_path / "ci" / "junit.xml"
    run = martctl("test", "--junit-xml", str(junit), "--json", cwd=built)
    assert run.returncode == 1, run.stderr
    data = json.loads(run.stdout)
    by_name = {(r["mart"], r["name"]): r for r in data["results"]}
    revenue = by_name[("data_analyst.customer_orders", "expression__revenue")]
    assert (revenue["status"], revenue["failures"]) == ("FAIL", 3)
    assert sorted(row[revenue["columns"].index("customer_id")] for row in revenue["sample"]) == [1, 2, 3]
    assert by_name[("marketing.campaign_roas", "expression__roas")]["status"] == "WARN"
    counts = data["summary"]
    assert (counts["FAIL"], counts["WARN"], counts["ERROR"]) == (1, 1, 0)

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == int(root.get("tests")) == counts["total"] == len(data["results"])
    assert int(root.get("failures")) == len(root.findall(".//failure")) == counts["FAIL"]
    assert int(root.get("errors")) == counts["ERROR"]
    assert sum(int(s.get("tests")) for s in root.findall("testsuite")) == counts["total"]
    failure = root.find(".//testcase[@name='expression__revenue']/failure")
    assert failure.get("message") == "3 failing rows"
    assert "customer_id" in failure.text and "NOT (" in failure.text

    text = martctl("test", "-s", "customer_orders", cwd=built)
    assert text.returncode == 1
    assert "FAIL expression__revenue on data_analyst.customer_orders" in text.stdout
    assert "failing rows (all)" in text.stdout
    # the printed SQL is copy-pasteable: run it, get the 3 rows
    printed = text.stdout.split("SQL returning the failing rows:")[1]
    statement = printed[: printed.index(";") + 1]
    con = duckdb.connect(str(built / "warehouse.duckdb"), read_only=True)
    try:
        assert len(con.execute(statement).fetchall()) == 3
    finally:
        con.close()
    assert text.stdout.strip().splitlines()[-1].startswith("FAILED: ")


def test_a_warn_only_failure_exits_0(built):
    plant(built, "update marketing.campaign_roas set roas = -1 where campaign_id = 1")
    run = martctl("test", "-s", "campaign_roas", cwd=built)
    assert run.returncode == 0, run.stdout
    assert "WARN expression__roas on marketing.campaign_roas" in run.stdout
    assert "1 WARN" in run.stdout.strip().splitlines()[-1]


def test_an_unbuilt_mart_is_an_error_that_says_to_build_it(demo_dir):
    import duckdb

    duckdb.connect(str(demo_dir / "warehouse.duckdb")).close()  # a warehouse, without the mart
    run = martctl("test", "-s", "channel_daily", "--json", cwd=demo_dir)
    assert run.returncode == 1
    results = json.loads(run.stdout)["results"]
    assert {r["status"] for r in results} == {"ERROR"}
    assert "marketing.channel_daily does not exist: build it first" in results[0]["message"]


def test_no_warehouse_at_all_says_so_and_creates_none(demo_dir):
    run = martctl("test", "-s", "channel_daily", cwd=demo_dir)
    assert run.returncode == 2, run.stderr
    assert "config.yaml:6: target 'local': there is no warehouse at " in run.stderr
    assert "build it first" in run.stderr and "Traceback" not in run.stderr
    assert not (demo_dir / "warehouse.duckdb").exists()


def test_a_bad_test_is_exit_2_with_file_and_line(demo_dir):
    path = demo_dir / "marts/marketing/channel_daily.yml"
    path.write_text(path.read_text().replace("conversion_rate: {tests", "conversion_rat: {tests"))
    run = martctl("test", cwd=demo_dir)
    assert run.returncode == 2
    assert "marts/marketing/channel_daily.yml:" in run.stderr
    assert "'conversion_rat' is not a column of marketing.channel_daily" in run.stderr
    assert "did you mean 'conversion_rate'" in run.stderr
    assert "Traceback" not in run.stderr


def test_build_skips_the_downstream_of_an_error_level_test_failure(demo_dir):
    customers = demo_dir / "seeds/customers.csv"
    customers.write_bytes(customers.read_bytes() + b"1,Chen Garcia,chen.garcia1@example.com,DE,2026-04-25\r\n")
    run = martctl("build", "--threads", "2", cwd=demo_dir)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAIL unique__customer_id on data_analyst.customer_orders" in run.stdout
    assert "customer_id" in run.stdout and "HAVING" in run.stdout  # failing rows and their SQL
    report = json.loads((demo_dir / "target/run_results.json").read_text())
    nodes = {r["key"]: r for r in report["results"]}
    failing = nodes["data_analyst.customer_orders"]
    assert failing["test_failure"] and "unique__customer_id" in failing["test_failure"]
    unique = next(t for t in failing["tests"] if t["name"] == "unique__customer_id")
    assert (unique["status"], unique["failures"]) == ("FAIL", 1)
    downstream = {"data_analyst.customer_ltv", "data_analyst.top_customers"}
    assert {k for k, r in nodes.items() if r["status"] == "skipped"} == downstream
    assert all("unique__customer_id" in nodes[k]["reason"] for k in downstream)
    built = {k for k, r in nodes.items() if r["status"] == "success"}
    assert len(built) == len(nodes) - 2 and "marketing.campaign_roas" in built
    con = duckdb.connect(str(demo_dir / "warehouse.duckdb"), read_only=True)
    try:
        tables = {(s, t) for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()}
    finally:
        con.close()
    assert ("data_analyst", "customer_ltv") not in tables and ("marketing", "campaign_roas") in tables


def test_build_stops_downstream_of_a_failing_unit_test(demo_dir):
    path = demo_dir / "marts/marketing/campaign_performance.yml"
    path.write_text(path.read_text().replace("round(s.clicks / nullif(s.impressions, 0), 4) as ctr",
                                             "round(s.impressions / nullif(s.clicks, 0), 4) as ctr"))
    run = martctl("build", "-s", "campaign_performance+", cwd=demo_dir)
    assert run.returncode == 1
    assert "FAIL ctr_and_sessions on marketing.campaign_performance" in run.stdout
    report = json.loads((demo_dir / "target/run_results.json").read_text())
    nodes = {r["key"]: r for r in report["results"]}
    assert nodes["marketing.campaign_roas"]["status"] == "skipped"


def test_unknown_kind_option_is_exit_2(demo_dir):
    run = martctl("test", "--kind", "everything", cwd=demo_dir)
    assert run.returncode == 2 and "test kind must be one of all, data, unit" in run.stderr


def test_quiet_prints_only_what_did_not_pass_and_the_summary(built):
    plant(built, "update data_analyst.customer_orders set revenue = -5 where customer_id = 1")
    loud = martctl("test", cwd=built)
    quiet = martctl("test", "--quiet", cwd=built)
    assert loud.returncode == quiet.returncode == 1, quiet.stdout + quiet.stderr
    passing = "not_null__customer_id"  # a test that passes: a row of the table, not a failure
    assert passing in loud.stdout and passing not in quiet.stdout
    assert "FAIL expression__revenue on data_analyst.customer_orders" in quiet.stdout
    assert "failing rows (all)" in quiet.stdout and "SQL returning the failing rows:" in quiet.stdout
    summary = quiet.stdout.strip().splitlines()[-1]
    assert summary.rsplit(" in ", 1)[0] == loud.stdout.strip().splitlines()[-1].rsplit(" in ", 1)[0]
    assert summary.startswith("FAILED: ") and "1 FAIL" in summary
    clean = martctl("test", "-q", "-s", "campaign_roas", cwd=built)
    assert clean.returncode == 0 and len(clean.stdout.strip().splitlines()) == 1
    assert clean.stdout.startswith("OK: ")
