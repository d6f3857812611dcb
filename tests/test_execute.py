"""The runner: order, parallel workers, failures, the after_mart hook, stopping; on real DuckDB files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import write_project

from martctl.api import Workspace
from martctl.compiler.compile import compile_project
from martctl.engine.adapters.duckdb import DuckDBAdapter
from martctl.engine.events import MartFinished, MartStarted, RunFinished, RunStarted
from martctl.engine.execute import AfterMartResult, Stop, plan, run
from martctl.exitcodes import ExitCode

DIAMOND = {
    "marts/a/root.yml": "sql: select range as i from range(100)\n",
    "marts/a/evens.yml": "sql: select i from a.root where i % 2 = 0\n",
    "marts/a/odds.yml": "materialized: view\nsql: select i from a.root where i % 2 = 1\n",
    "marts/a/joined.yml": "sql: select count(*) as n from (select i from a.evens union all select i from a.odds)\n",
    "marts/b/alone.yml": "sql: select 1 as one\n",
}


def build(root: Path, **options):
    ctx = Workspace(root)
    compiled = compile_project(ctx.graph, target=ctx.target)
    adapter = DuckDBAdapter(ctx.target, ctx.project.root)
    adapter.connect()
    events: list = []
    try:
        report = run(adapter, plan(compiled), on_event=events.append, **options)
    finally:
        adapter.close()
    return report, events


def scalar(root: Path, sql: str):
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("threads", [1, 4])
def test_upstream_finishes_before_downstream_starts(tmp_path: Path, threads: int):
    root = write_project(tmp_path / "p", DIAMOND)
    report, events = build(root, threads=threads)
    assert report.exit_code() == ExitCode.OK
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    seen = [(type(e).__name__, getattr(e, "key", None) or getattr(getattr(e, "result", None), "key", None)) for e in events]
    finished_at = {key: i for i, (name, key) in enumerate(seen) if name == "MartFinished"}
    started_at = {key: i for i, (name, key) in enumerate(seen) if name == "MartStarted"}
    for child, parents in {"a.evens": ["a.root"], "a.odds": ["a.root"], "a.joined": ["a.evens", "a.odds"]}.items():
        assert all(finished_at[p] < started_at[child] for p in parents)
    assert scalar(root, "select n from a.joined") == 100
    assert report.results["a.root"].rows == 100 and report.results["a.odds"].rows is None
    assert list(report.results) == [s.key for s in plan(compile_project(Workspace(root).graph))]


def test_failure_skips_downstream_with_its_reason(tmp_path: Path):
    files = dict(DIAMOND)
    files["marts/a/evens.yml"] = "sql: select cast('no' as integer) as i from a.root\n"
    root = write_project(tmp_path / "p", files)
    report, events = build(root, threads=2)
    results = report.results
    assert results["a.evens"].status == "error" and "Could not convert" in results["a.evens"].error
    assert results["a.joined"].status == "skipped" and results["a.joined"].reason == "upstream a.evens failed"
    assert results["a.odds"].status == results["b.alone"].status == "success"
    assert report.exit_code() == ExitCode.FAILED
    skipped = [e for e in events if isinstance(e, MartFinished) and e.result.status == "skipped"]
    assert [e.result.key for e in skipped] == ["a.joined"]
    assert not any(isinstance(e, MartStarted) and e.key == "a.joined" for e in events)


def test_after_mart_hook_failure_skips_downstream(tmp_path: Path):
    root = write_project(tmp_path / "p", DIAMOND)
    calls: list[str] = []

    def hook(key, adapter):
        calls.append(key)
        assert adapter.query(f"select count(*) from {key}").rows[0][0] >= 1  # the mart is there to test
        if key == "a.evens":
            return AfterMartResult(tests=[{"name": "not_null__a.evens__i", "status": "FAIL", "failures": 3}],
                                   failed_tests=["not_null__a.evens__i"])
        return AfterMartResult(tests=[{"name": f"row_count__{key}", "status": "PASS"}])

    report, _ = build(root, threads=2, after_mart=hook)
    results = report.results
    assert results["a.evens"].status == "success"
    assert results["a.evens"].test_failure == "test not_null__a.evens__i failed on a.evens"
    assert results["a.joined"].status == "skipped"
    assert results["a.joined"].reason == "test not_null__a.evens__i failed on a.evens"
    assert results["a.root"].tests == [{"name": "row_count__a.root", "status": "PASS"}]
    assert "a.joined" not in calls and report.exit_code() == ExitCode.FAILED


def test_hook_that_raises_is_an_error_on_its_mart(tmp_path: Path):
    root = write_project(tmp_path / "p", DIAMOND)

    def hook(key, adapter):
        if key == "b.alone":
            raise RuntimeError("boom")
        return AfterMartResult()

    report, _ = build(root, after_mart=hook)
    assert report.results["b.alone"].status == "error" and "boom" in report.results["b.alone"].error
    assert report.results["a.joined"].status == "success"


def test_a_stopped_run_starts_nothing(tmp_path: Path):
    root = write_project(tmp_path / "p", DIAMOND)
    stop = Stop()
    stop.stop("SIGTERM")
    report, _ = build(root, stop=stop)
    assert {r.status for r in report.results.values()} == {"cancelled"}
    assert report.exit_code() == ExitCode.TERMINATED
    assert not (root / "wh.duckdb").exists() or scalar(root, "select count(*) from information_schema.tables") == 0


SLOW = "sql: select sum(i * i) as s from range(20000000000) t(i)\n"


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, ExitCode.INTERRUPTED), (signal.SIGTERM, ExitCode.TERMINATED)])
def test_signals_cancel_running_statements_and_keep_the_old_table(tmp_path: Path, signum, code):
    root = write_project(tmp_path / "p", {"marts/a/slow.yml": "sql: select 1 as s\n", "marts/a/after.yml": "sql: select * from a.slow\n"})
    command = [sys.executable, "-m", "martctl", "run", "--project-dir", str(root), "--log-format", "json"]
    assert subprocess.run(command, capture_output=True).returncode == 0
    (root / "marts/a/slow.yml").write_text(SLOW)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:  # wait until the slow mart runs
        if json.loads(line)["event"] == "MartStarted":
            break
    time.sleep(0.3)
    started = time.monotonic()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert time.monotonic() - started < 15
    events = [json.loads(line) for line in out.splitlines()]
    finished = {e["key"]: e for e in events if e["event"] == "MartFinished"}
    assert finished["a.slow"]["status"] == "cancelled"
    assert finished["a.after"]["status"] in ("cancelled", "skipped")
    assert events[-1]["event"] == "RunFinished" and events[-1]["interrupted"] == signal.Signals(signum).name
    assert scalar(root, "select s from a.slow") == 1  # the previous version, intact
    assert json.loads((root / "target" / "run_results.json").read_text())["exit_code"] == code


def test_a_slow_event_consumer_does_not_stall_the_workers(tmp_path: Path):
    """The calling thread blocks in on_event on the first finished mart until the workers have built
    every mart: they take the next ready mart themselves. Events still come in the order things happened."""
    import threading

    root = write_project(tmp_path / "p", DIAMOND)
    built: list[str] = []
    all_built = threading.Event()

    def hook(key, adapter):
        built.append(key)
        if len(built) == len(DIAMOND):
            all_built.set()
        return AfterMartResult()

    waited: list[bool] = []
    events: list = []

    def on_event(event):
        events.append(event)
        if isinstance(event, MartFinished) and not waited:
            waited.append(all_built.wait(timeout=60))  # set by a worker, never by this thread

    ctx = Workspace(root)
    adapter = DuckDBAdapter(ctx.target, ctx.project.root)
    adapter.connect()
    try:
        report = run(adapter, plan(compile_project(ctx.graph, target=ctx.target)), threads=2, on_event=on_event,
                     after_mart=hook)
    finally:
        adapter.close()
    assert waited == [True] and report.exit_code() == ExitCode.OK
    order = [(type(e).__name__, getattr(e, "key", None) or e.result.key) for e in events[1:-1]]
    assert len(order) == 2 * len(DIAMOND) and len(set(order)) == len(order)
    for key in DIAMOND_KEYS:
        assert order.index(("MartStarted", key)) < order.index(("MartFinished", key))
    for child, parent in (("a.evens", "a.root"), ("a.odds", "a.root"), ("a.joined", "a.evens")):
        assert order.index(("MartFinished", parent)) < order.index(("MartStarted", child))


DIAMOND_KEYS = ("a.root", "a.evens", "a.odds", "a.joined", "b.alone")


def test_one_thread_builds_in_plan_order(tmp_path: Path):
    root = write_project(tmp_path / "p", DIAMOND)
    report, events = build(root, threads=1)
    started = [e.key for e in events if isinstance(e, MartStarted)]
    assert started == [s.key for s in plan(compile_project(Workspace(root).graph))] and len(started) == len(DIAMOND)
