"""Quick DuckDB builds commit together (engine/batch.py): one transaction holds consecutive swaps and
their state records. These tests plant failures and a kill inside a batch and check that every mart
ends at its old or its new version, that the state records exactly the builds that were committed,
and that nothing is skipped that should have been built."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from conftest import failing_state_write, write_project
from gate import ROW, kill_inside_gate

import martctl
from martctl.engine import batch
from martctl.engine.adapters.duckdb import DuckDBAdapter

CHAIN = 6  # k.m0 -> k.m1 -> ... each carries m0's version down
SIDE = 12  # k.i0 .. k.i11, independent


def _project(root: Path, threads: int, m2_extra: str = "", gate: Path | None = None) -> Path:
    files = {"config.yaml": (f"name: k\ndialect: duckdb\ntargets:\n  local: {{type: duckdb, path: wh.duckdb, threads: {threads}}}\n"
                             f"vars: {{version: 1, fail: 0, gate: '{gate or ''}'}}\n"),
             "marts/k/m0.yml": "sql: select 1 as id, cast(:version as integer) as version\n"}
    for i in range(1, CHAIN):
        extra = m2_extra if i == 2 else ""
        gated = " cross join read_csv(:gate, header = true) as g" if gate and i == 3 else ""
        files[f"marts/k/m{i}.yml"] = f"sql: select u.id, u.version{extra} from k.m{i - 1} as u{gated}\n"
    for j in range(SIDE):
        files[f"marts/k/i{j}.yml"] = f"sql: select {j} as id, cast(:version as integer) as version\n"
    return write_project(root, files)


def _versions(root: Path) -> dict[str, int]:
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    try:
        names = [f"m{i}" for i in range(CHAIN)] + [f"i{j}" for j in range(SIDE)]
        return {f"k.{n}": con.execute(f"select version from k.{n}").fetchone()[0] for n in names}
    finally:
        con.close()


def _recorded_runs(root: Path) -> dict[str, str]:
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    try:
        return dict(con.execute("select key, run_id from martctl_state.marts").fetchall())
    finally:
        con.close()


@pytest.fixture
def spy(monkeypatch):
    """Counts the batches committed (or tried) and rolled back (the real methods run)."""
    calls = {"commit": 0, "rollback": 0}
    commit, rollback = DuckDBAdapter.commit_batch, DuckDBAdapter.rollback_batch

    def counted_commit(self, statements=()):
        calls["commit"] += 1
        commit(self, statements)

    def counted_rollback(self):
        calls["rollback"] += 1
        rollback(self)

    monkeypatch.setattr(DuckDBAdapter, "commit_batch", counted_commit)
    monkeypatch.setattr(DuckDBAdapter, "rollback_batch", counted_rollback)
    monkeypatch.setattr(batch, "BATCH_SECONDS", 3600.0)  # one batch for the whole run, whatever the machine's speed
    return calls


@pytest.mark.parametrize("threads", [1, 2])
def test_quick_builds_commit_together_and_are_recorded(tmp_path: Path, spy, threads: int):
    root = _project(tmp_path / "p", threads)
    first = martctl.open(root).build()
    assert spy["commit"] == 0  # never timed: each build in its own transaction
    second = martctl.open(root, vars={"version": 2}).build()
    assert spy["commit"] >= 1 and spy["rollback"] == 0
    assert set(_versions(root).values()) == {2}  # downstream read its upstream's new version
    assert all(r.status == "success" for r in second.results.values())
    assert set(_recorded_runs(root).values()) == {second.run_id} and first.run_id != second.run_id
    third = martctl.open(root, vars={"version": 2}).build()
    assert {r.status for r in third.results.values()} == {"up to date"}


def test_two_workers_read_what_the_other_committed(tmp_path: Path, spy):
    """A worker whose batch began before another worker committed an upstream commits and begins
    again before building its downstream (a transaction reads the data as it was when it began)."""
    files = {"config.yaml": "name: k\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb, threads: 2}\n"
                            "vars: {version: 1}\n"}
    for chain in "abcd":
        files[f"marts/k/{chain}0.yml"] = "sql: select cast(:version as integer) as version\n"
        for i in range(1, 6):
            files[f"marts/k/{chain}{i}.yml"] = f"sql: select version from k.{chain}{i - 1}\n"
    root = write_project(tmp_path / "p", files)
    martctl.open(root).build()
    for version in range(2, 8):
        martctl.open(root, vars={"version": version}).build()
        con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
        found = {f"{c}{i}": con.execute(f"select version from k.{c}{i}").fetchone()[0] for c in "abcd" for i in range(6)}
        con.close()
        assert set(found.values()) == {version}, found
    assert spy["commit"] >= 4 and spy["rollback"] == 0  # no conflict between the two workers' commits


def test_builds_commit_one_by_one_while_the_log_waits_for_a_checkpoint(tmp_path: Path, spy, monkeypatch):
    root = _project(tmp_path / "p", 2)
    martctl.open(root).build()
    monkeypatch.setattr(batch, "WAL_BYTES", 0)  # never small enough: every build alone
    report = martctl.open(root, vars={"version": 2}).build()
    assert spy["commit"] == 0 and not any(r.failed for r in report.results.values())
    assert set(_versions(root).values()) == {2}
    monkeypatch.setattr(batch, "WAL_BYTES", 2**40)
    martctl.open(root, vars={"version": 3}).build()
    assert spy["commit"] >= 1 and set(_versions(root).values()) == {3}


def test_two_workers_checkpoint_the_log_with_no_batch_open(tmp_path: Path, spy, monkeypatch):
    """Past WAL_BYTES a worker raises a gate: each worker commits its batch and begins none, and DuckDB's
    CHECKPOINT runs once none is open (two overlapping batches would refuse it all run long)."""
    root = _project(tmp_path / "p", 2)
    martctl.open(root).build()  # timed: the next run batches
    monkeypatch.setattr(batch, "WAL_BYTES", 1)  # any write fills the log: a checkpoint at almost every build
    guard, open_on = threading.Lock(), set()  # the threads whose batch is open
    seen: list[tuple[bool, bool]] = []  # each checkpoint: (succeeded, another thread's batch open)
    begin, commit, rollback, checkpoint = (DuckDBAdapter.begin_batch, DuckDBAdapter.commit_batch,
                                           DuckDBAdapter.rollback_batch, DuckDBAdapter.checkpoint)

    def began(self, schemas=()):
        begin(self, schemas)
        with guard:
            open_on.add(threading.get_ident())

    def ended(real):
        def end(self, *args):
            try:
                real(self, *args)
            finally:
                with guard:
                    open_on.discard(threading.get_ident())
        return end

    def checkpointed(self):
        with guard:
            others = bool(open_on - {threading.get_ident()})
        done = checkpoint(self)
        seen.append((done, others))
        return done

    monkeypatch.setattr(DuckDBAdapter, "begin_batch", began)
    monkeypatch.setattr(DuckDBAdapter, "commit_batch", ended(commit))
    monkeypatch.setattr(DuckDBAdapter, "rollback_batch", ended(rollback))
    monkeypatch.setattr(DuckDBAdapter, "checkpoint", checkpointed)
    report = martctl.open(root, vars={"version": 2}).build()
    assert not any(r.failed for r in report.results.values())
    assert set(_versions(root).values()) == {2} and set(_recorded_runs(root).values()) == {report.run_id}
    assert len(seen) >= 4 and not any(others for _, others in seen)  # never beside another worker's batch
    assert sum(done for done, _ in seen) >= len(seen) // 2 and spy["commit"] >= 2 and spy["rollback"] == 0


def test_a_worker_commits_its_own_batch_before_it_waits_for_the_checkpoint(tmp_path: Path, spy, monkeypatch):
    """The log fills while this worker's batch is open: it commits it first (with it open, it would wait
    for itself until GATE_SECONDS and checkpoint nothing), the other worker joins the gate, one checkpoint
    runs and succeeds, the run goes on."""
    root = _project(tmp_path / "p", 2)
    martctl.open(root).build()
    fired, seen = threading.Event(), []
    checkpoint = DuckDBAdapter.checkpoint

    def log_full(self):  # full once: at the first build of a worker whose batch is open
        if not fired.is_set() and self._in_batch():
            fired.set()
            return True
        return False

    def checkpointed(self):
        seen.append(checkpoint(self))
        return seen[-1]

    monkeypatch.setattr(DuckDBAdapter, "log_full", log_full)
    monkeypatch.setattr(DuckDBAdapter, "checkpoint", checkpointed)
    reports = []
    run = threading.Thread(target=lambda: reports.append(martctl.open(root, vars={"version": 2}).build()), daemon=True)
    run.start()
    run.join(60)
    assert not run.is_alive(), "the run hangs"
    assert fired.is_set() and seen == [True]
    assert not any(r.failed for r in reports[0].results.values()) and set(_versions(root).values()) == {2}


def test_a_run_stopped_between_builds_commits_what_its_batch_built(tmp_path: Path, spy):
    from martctl.engine.events import MartStarted

    root = _project(tmp_path / "p", 1)
    martctl.open(root).build()
    stop = martctl.Stop()

    def on_event(event):
        if isinstance(event, MartStarted) and event.key == "k.m2":
            stop.stop("caller")

    report = martctl.open(root, vars={"version": 2}).build(on_event=on_event, stop=stop)
    assert report.interrupted == "caller" and spy["rollback"] == 0
    built = {k for k, r in report.results.items() if r.status == "success"}
    assert {"k.m0", "k.m1", "k.m2"} <= built and any(r.status == "cancelled" for r in report.results.values())
    versions, runs = _versions(root), _recorded_runs(root)
    for key, version in versions.items():  # what finished is kept and recorded; the rest is untouched
        assert (version == 2) == (key in built) == (runs[key] == report.run_id), key


def test_a_failure_inside_a_batch_rebuilds_the_others_one_by_one(tmp_path: Path, spy):
    root = _project(tmp_path / "p", 1, ", case when :fail = 1 then error('planted failure') end as boom")
    first = martctl.open(root).build()
    report = martctl.open(root, vars={"version": 2, "fail": 1}).build()
    assert spy["rollback"] == 1
    status = {k: r.status for k, r in report.results.items()}
    assert status["k.m2"] == "error" and "planted failure" in report.results["k.m2"].error
    assert {status[f"k.m{i}"] for i in range(3, CHAIN)} == {"skipped"}
    assert {k for k, s in status.items() if s == "success"} == {"k.m0", "k.m1"} | {f"k.i{j}" for j in range(SIDE)}
    versions, runs = _versions(root), _recorded_runs(root)
    for key, version in versions.items():  # built and recorded together, or neither
        assert (version == 2) == (status[key] == "success") == (runs[key] == report.run_id), key
        assert version == 2 or runs[key] == first.run_id, key
    again = martctl.open(root, vars={"version": 2, "fail": 0}).build()
    assert {k for k, r in again.results.items() if r.status == "success"} == {f"k.m{i}" for i in range(2, CHAIN)}
    assert set(_versions(root).values()) == {2}


@pytest.mark.parametrize("threads", [1, 2])
def test_every_batch_counted_open_is_counted_closed(tmp_path: Path, spy, monkeypatch, threads: int):
    """A batch rolled back by a failure is no longer counted open (else every later checkpoint would wait
    for it in vain and the log grow all run long), and no worker is counted building after the run."""
    from martctl.engine import execute

    runs = []
    execute_run = execute._Run.execute

    def recorded(self, report, build):
        runs.append(self)
        return execute_run(self, report, build)

    monkeypatch.setattr(execute._Run, "execute", recorded)
    root = _project(tmp_path / "p", threads, ", case when :fail = 1 then error('planted failure') end as boom")
    martctl.open(root).build()
    report = martctl.open(root, vars={"version": 2, "fail": 1}).build()
    assert report.results["k.m2"].status == "error" and spy["rollback"] >= 1
    assert [(r.open_batches, r.building, r.quick, r.gate) for r in runs] == [(0, 0, 0, False)] * 2


def test_a_failing_state_write_rolls_its_batch_back_and_only_that_build_fails(tmp_path: Path, spy, monkeypatch):
    root = _project(tmp_path / "p", 1)
    martctl.open(root).build()

    with failing_state_write(monkeypatch, "k.i4", "the disk filled up while writing k.i4's record"):
        report = martctl.open(root, vars={"version": 2}).build()
    assert spy["commit"] == 1 and spy["rollback"] == 1  # the batch failed at commit; then each build alone
    failed = {k for k, r in report.results.items() if r.failed}
    assert failed == {"k.i4"}
    versions = _versions(root)
    assert versions["k.i4"] == 1 and {v for k, v in versions.items() if k != "k.i4"} == {2}


def test_a_failed_test_inside_a_batch_skips_its_downstream(tmp_path: Path, spy):
    root = _project(tmp_path / "p", 1)
    (root / "marts" / "k" / "m1.yml").write_text(
        "sql: select u.id, u.version from k.m0 as u\ntests:\n  - expression: version < 2\n")
    martctl.open(root).build()
    report = martctl.open(root, vars={"version": 2}).build()
    status = {k: r.status for k, r in report.results.items()}
    assert report.results["k.m1"].test_failure
    assert {status[f"k.m{i}"] for i in range(2, CHAIN)} == {"skipped"}
    assert _versions(root)["k.m2"] == 1
    assert {status[f"k.i{j}"] for j in range(SIDE)} == {"success"}


def test_sigkill_inside_a_batch_leaves_old_or_new_versions_recorded_as_they_are(tmp_path: Path):
    """Killed while k.m3 (in the same open batch as the builds before it) reads a FIFO: each mart is at
    its old or new version, its state record says which, and the next build finishes the work."""
    gate_file = tmp_path / "gate.csv"
    root = _project(tmp_path / "p", 1, gate=gate_file)
    gate_file.write_text(ROW)
    first = martctl.open(root).build()  # every build timed: quick, so batched next time
    assert not any(r.failed for r in first.results.values())
    kill_inside_gate(gate_file, lambda: subprocess.Popen(
        [sys.executable, "-m", "martctl", "build", "--project-dir", str(root), "--vars", "version=2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    before, runs = _versions(root), _recorded_runs(root)
    assert before["k.m3"] == 1
    for key, version in before.items():
        assert (runs[key] == first.run_id) == (version == 1), (key, version, runs[key])
    again = martctl.open(root, vars={"version": 2}).build()
    assert set(_versions(root).values()) == {2}
    built = {k for k, r in again.results.items() if r.status == "success"}
    assert built == {k for k, v in before.items() if v == 1}
    assert {k for k, r in again.results.items() if r.status == "up to date"} == {k for k, v in before.items() if v == 2}
    last = json.loads((root / "target" / "run_results.json").read_text())
    assert last["run_id"] == again.run_id
    assert {r.status for r in martctl.open(root, vars={"version": 2}).build().results.values()} == {"up to date"}
