"""The public API (martctl.open -> Workspace): every command in-process, events streamed, typed errors."""

from __future__ import annotations

import logging
import re

import duckdb
import pytest
from conftest import REPO, write_project

import martctl
from martctl.api import (
    SUCCESS,
    MartInfo,
    NodeFinished,
    NodeStarted,
    RunFinished,
    RunStarted,
    TestFinished,
    TestReport,
    Warned,
)

DEMO_MARTS = 9
DEMO_SEEDS = 5


def test_build_streams_events_in_order_and_returns_the_report(demo_dir, capsys):
    events = []
    report = martctl.open(demo_dir).build(on_event=events.append)
    assert report.exit_code() == 0 and report.count(SUCCESS) == DEMO_MARTS + DEMO_SEEDS
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    started = [e.key for e in events if isinstance(e, NodeStarted)]
    finished = [e.result.key for e in events if isinstance(e, NodeFinished)]
    assert sorted(started) == sorted(finished) == sorted(report.results)
    at = {("start", e.key) if isinstance(e, NodeStarted) else ("end", e.result.key): i
          for i, e in enumerate(events) if isinstance(e, (NodeStarted, NodeFinished))}
    plan = {s.key: s for s in martctl.open(demo_dir).plan()}
    for key in report.results:  # a node starts after everything it reads has finished, and ends after it starts
        assert at["start", key] < at["end", key]
        assert all(at["end", up] < at["start", key] for up in plan[key].upstream), key
    tests = [t for r in report.results.values() for t in r.tests]
    assert len(tests) > 40 and {t["status"] for t in tests} == {"PASS"}
    assert capsys.readouterr() == ("", "")  # the API never prints
    assert (demo_dir / "target" / "run_results.json").exists()


def test_seed_run_test_and_lineage_through_one_workspace(demo_dir, capsys):
    ws = martctl.open(demo_dir)
    seeded = ws.seed()
    assert [r.kind for r in seeded.results.values()] == ["seed"] * DEMO_SEEDS
    ran = ws.run(["+marketing.campaign_roas"])
    assert set(ran.results) == {"marketing.campaign_performance", "marketing.campaign_roas"}
    assert ran.exit_code() == 0
    streamed = []
    tested = ws.test(["marketing.campaign_roas"], on_event=streamed.append)
    assert isinstance(tested, TestReport) and not tested.failed and tested.results
    assert sorted(e.result.name for e in streamed if isinstance(e, TestFinished)) == sorted(r.name for r in tested.results)
    unbuilt = ws.test(["data_analyst.customer_ltv"], kind="data")
    assert unbuilt.failed and {r.status for r in unbuilt.results} == {"ERROR"}
    assert "does not exist: build it first" in unbuilt.results[0].message
    lineage = ws.lineage()
    graph = lineage.column_upstream(*lineage.resolve("marketing.campaign_roas.spend"))
    assert "raw.ad_spend.spend" in graph["sources"]
    answer = ws.lineage_question(["marketing.campaign_roas"])
    assert answer.kind == "table" and "marketing.campaign_performance" in answer.graph["nodes"]
    listed = ws.ls(["tag:daily"])
    assert listed and all(isinstance(m, MartInfo) and "daily" in m.tags for m in listed)
    assert capsys.readouterr() == ("", "")


def test_a_workspace_builds_twice_and_releases_its_lock(demo_dir):
    ws = martctl.open(demo_dir)
    assert ws.build().exit_code() == 0
    assert ws.build(["customer_ltv"]).exit_code() == 0  # the lock and the file are free again
    con = duckdb.connect(str(demo_dir / "warehouse.duckdb"))  # nothing holds the DuckDB file
    assert con.execute("select count(*) from data_analyst.customer_ltv").fetchone()[0] > 0
    con.close()


def test_a_second_run_during_a_build_gets_lock_busy(demo_dir):
    ws = martctl.open(demo_dir)
    caught = []

    def on_event(event):
        if isinstance(event, NodeStarted) and not caught:
            with pytest.raises(martctl.LockBusy) as raised:
                martctl.open(demo_dir).run()
            caught.append(str(raised.value))

    assert ws.build(on_event=on_event).exit_code() == 0
    assert caught and f"pid {__import__('os').getpid()}" in caught[0]


def test_a_caller_stops_a_build_from_an_event(demo_dir):
    stop = martctl.Stop()

    def on_event(event):
        if isinstance(event, NodeFinished) and event.result.kind == "mart":
            stop.stop("caller")

    report = martctl.open(demo_dir).build(on_event=on_event, stop=stop, threads=1)
    assert report.interrupted == "caller"
    statuses = [r.status for r in report.results.values()]
    assert statuses.count(SUCCESS) == DEMO_SEEDS + 1 and "cancelled" in statuses
    assert report.exit_code() == 1  # an unfinished run is not a success; not a signal either (130/143)


def test_typed_errors(tmp_path, demo_dir):
    with pytest.raises(martctl.ProjectError, match="unknown target 'nope'|target 'nope'"):
        martctl.open(demo_dir, target="nope")
    with pytest.raises(martctl.ProjectError, match="--vars"):
        martctl.open(demo_dir, vars=["no_equals_sign"])
    broken = write_project(tmp_path / "broken", {"marts/a/x.yml": "sql: select * from nowhere.table_x\n"})
    with pytest.raises(martctl.ProjectError, match="nowhere.table_x"):
        martctl.open(broken).build()
    with pytest.raises(martctl.ProjectError, match="MARTCTL_PG_DSN"):  # the pg target's ${ENV} is unset
        martctl.open(demo_dir, target="pg").run()
    assert not martctl.validate(broken).ok and martctl.validate(demo_dir).ok


def test_warnings_are_events_not_prints(demo_dir, capsys):
    events = []
    martctl.open(demo_dir, vars={"lookbak_days": 3}).run(["marketing.channel_daily"], on_event=events.append)
    warned = [e.message for e in events if isinstance(e, Warned)]
    assert any("lookbak_days" in w and "lookback_days" in w for w in warned)
    assert capsys.readouterr() == ("", "")


def test_build_and_test_on_postgres_through_the_api(demo_dir, pg_server, monkeypatch):
    monkeypatch.setenv("MARTCTL_PG_DSN", pg_server.new_database())
    ws = martctl.open(demo_dir, target="pg")
    events = []
    first = ws.build(on_event=events.append)
    assert first.exit_code() == 0, [r.error for r in first.failed]
    assert sum(isinstance(e, NodeFinished) for e in events) == DEMO_MARTS + DEMO_SEEDS
    again = ws.build(["data_analyst.customer_ltv+"])  # the advisory lock and connections were released
    assert again.exit_code() == 0
    tested = ws.test()
    assert not tested.failed and {r.status for r in tested.results} == {"PASS"}
    monkeypatch.setenv("MARTCTL_PG_DSN", pg_server.dsn(password="wrong-password-Secret-17"))
    with pytest.raises(martctl.AdapterError) as raised:
        martctl.open(demo_dir, target="pg").run()
    assert "Secret-17" not in str(raised.value)


def readme_python_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_readme_orchestrator_example_runs(demo_dir, caplog, monkeypatch):
    blocks = [b for b in readme_python_blocks() if "run_selection" in b]
    assert len(blocks) == 1, "the README's orchestrator example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    with caplog.at_level(logging.INFO, logger="martctl.example"):
        code = namespace["run_selection"](str(demo_dir), ["+marketing.campaign_roas"])
    assert code == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "martctl.example"]
    assert any("marketing.campaign_roas" in line and "success" in line for line in lines), lines


def test_public_docstrings_are_written():
    from martctl.api import workspace

    for name in ("open", "validate"):
        assert getattr(workspace, name).__doc__
    for name, member in vars(workspace.Workspace).items():
        if callable(member) and not name.startswith("_"):
            assert member.__doc__, name


def test_martctl_module_exports_resolve():
    import martctl.api

    for name in martctl.__all__:
        assert getattr(martctl, name) is not None
    for name in martctl.api.__all__:
        assert getattr(martctl.api, name) is not None
