"""DuckDB runs each query on the calling thread and on its own pool of threads, which every query
shares. With several workers building at once, martctl sizes that pool so that the workers and the
pool's threads together do not outnumber the cores (Adapter.workers_building): builds side by side get
cores - workers + 1, a build left alone (the other worker waits for it) gets DuckDB's whole default
back while it still runs, and so does whatever comes after the run; builds whose last run was quick
run each on its calling thread alone. A mart's SQL reads the pool's
size when it starts (`current_setting('threads')`), and the builds meet by events, never by sleeps."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest
from conftest import write_project

import martctl
from martctl.engine.adapters.duckdb import DuckDBAdapter

CORES = 4  # DuckDB's default as the adapter reads it at connect, set so that the test means the same on any machine


def _project(root: Path, threads: int) -> Path:
    pool = "cast(current_setting('threads') as integer) as pool"
    return write_project(root, {
        "config.yaml": f"name: k\ndialect: duckdb\ntargets:\n  local: {{type: duckdb, path: wh.duckdb, threads: {threads}}}\n",
        "marts/k/slow.yml": f"sql: select 1 as id, {pool}\n",
        "marts/k/quick.yml": f"sql: select 2 as id, {pool}\n",
        "marts/k/last.yml": f"sql: select {pool}, (select count(*) from k.slow) + (select count(*) from k.quick) as n\n",
    })


def _pools(root: Path, report) -> dict[str, int]:
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    try:
        return {key.split(".")[1]: con.execute(f'select pool from "{result.relation[0]}"."{result.relation[1]}"').fetchone()[0]
                for key, result in report.results.items()}
    finally:
        con.close()


@pytest.fixture
def engine(monkeypatch):
    """DuckDB's default pool is CORES; `slow` and `quick` start only once both are taken, and `slow`
    only once the pool has grown back after shrinking (its worker alone then), or after 10 s."""
    both_taken = threading.Barrier(2, timeout=10)
    grown = threading.Event()
    sizes: list[int] = []  # the pool after each call, in order
    counts: list[int] = []  # the workers building, as each call said
    connect, size, materialize = DuckDBAdapter.connect, DuckDBAdapter.workers_building, DuckDBAdapter.materialize

    def connected(self):
        connect(self)
        self._con.execute(f"SET threads = {CORES}")
        self._cores = self._pool = CORES

    def sized(self, count, quick=0):
        size(self, count, quick)
        if sizes and min(sizes) < CORES and self._pool == CORES:
            grown.set()
        sizes.append(self._pool)
        counts.append(count)

    def meeting(self, compiled, full_refresh=False, then=None):
        if compiled.key in ("k.slow", "k.quick") and compiled.relation and self.target.threads > 1:
            both_taken.wait()
            if compiled.key == "k.slow":
                grown.wait(10)
        return materialize(self, compiled, full_refresh, then)

    monkeypatch.setattr(DuckDBAdapter, "connect", connected)
    monkeypatch.setattr(DuckDBAdapter, "workers_building", sized)
    monkeypatch.setattr(DuckDBAdapter, "materialize", meeting)
    return {"sizes": sizes, "counts": counts, "grown": grown}


@pytest.mark.parametrize("env", [None, "dev"])  # dev: builds through the environment's adapter (no batches)
def test_two_workers_share_the_cores_and_a_lone_build_gets_them_all(tmp_path: Path, engine, env):
    root = _project(tmp_path / "p", threads=2)
    report = martctl.open(root, env=env).run()
    assert not report.failed and len(report.results) == 3
    pools = _pools(root, report)
    assert pools["quick"] == CORES - 1  # built beside `slow`: each worker and the pool's threads on a core
    assert engine["grown"].is_set()  # `quick` done, its worker waits for `slow`: the pool grows back at once
    assert pools["slow"] == CORES  # ... so `slow`, left alone, runs on all of them
    assert pools["last"] == CORES  # alone too
    assert engine["counts"][-1] == 0 and engine["sizes"][-1] == CORES  # the run over (also when it stops
    # with builds side by side, nobody waiting): DuckDB's default again, for its close and other connections


def test_one_worker_never_shrinks_the_pool(tmp_path: Path, engine):
    root = _project(tmp_path / "p", threads=1)
    report = martctl.open(root).run()
    assert not report.failed
    assert _pools(root, report) == {"slow": CORES, "quick": CORES, "last": CORES}
    assert set(engine["sizes"]) == {CORES}


@pytest.mark.parametrize("threads", [1, 2])
def test_builds_known_to_be_quick_run_each_on_one_thread(tmp_path: Path, engine, threads: int):
    root = _project(tmp_path / "p", threads=threads)
    first = martctl.open(root).run()  # never timed: not known to be quick
    assert _pools(root, first)["last"] == CORES
    report = martctl.open(root).run(force=True)  # each took milliseconds: quick (batch.solo)
    assert not report.failed and report.results["k.last"].decision == "--force"
    assert _pools(root, report) == {"slow": 1, "quick": 1, "last": 1}
    assert engine["sizes"][-1] == CORES  # and the default back after the run


@pytest.mark.parametrize("threads", [1, 2])
def test_data_tests_side_by_side_share_the_cores(tmp_path: Path, engine, threads: int):
    """`martctl test` runs every test at once on `threads` workers: the pool is sized for them, then given back."""
    expected = CORES - 1 if threads == 2 else CORES
    check = f"select 1 as wrong_pool where cast(current_setting('threads') as integer) <> {expected}"
    root = write_project(tmp_path / "p", {
        "config.yaml": "name: k\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n",
        "marts/k/m.yml": f'sql: select 1 as id\ntests:\n  - sql: {{name: first, sql: "{check}"}}\n'
                         f'  - sql: {{name: second, sql: "{check}"}}\n',
    })
    ws = martctl.open(root)
    assert not ws.run().failed  # (build would run the tests after the mart, one worker)
    report = ws.test(threads=threads)
    assert [(r.name, r.status) for r in report.results] == [("first", "PASS"), ("second", "PASS")]
    assert engine["sizes"][-1] == CORES
