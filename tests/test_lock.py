"""The run lock: one holder at a time, a clear message naming it, --wait, takeover of a dead holder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import write_project
from gate import ROW, FileOpens, Gate

from martctl.engine.lock import FileLock, holder_info
from martctl.errors import LockBusy
from martctl.exitcodes import ExitCode


def test_second_holder_is_refused_with_the_holders_name(tmp_path: Path):
    first, second = FileLock(tmp_path / "wh.duckdb.martctl.lock"), FileLock(tmp_path / "wh.duckdb.martctl.lock")
    first.acquire(info=holder_info(command="martctl build"))
    try:
        with pytest.raises(LockBusy) as caught:
            second.acquire()
        assert caught.value.holder["pid"] == os.getpid()
        assert f"pid {os.getpid()} on {socket.gethostname()}" in str(caught.value)
        assert "martctl build" in str(caught.value)
    finally:
        first.release()
    second.acquire()
    second.release()


def test_wait_gets_the_lock_once_released(tmp_path: Path):
    path = tmp_path / "x.lock"
    first = FileLock(path)
    first.acquire(info={"holder": "first"})
    opens = FileOpens(path)
    second = FileLock(path)
    waiter = threading.Thread(target=second.acquire, kwargs={"wait_seconds": 120, "info": {"holder": "second"}})
    waiter.start()
    try:
        opens.wait()  # the second tried while the first holds it
        assert not second.held and json.loads(path.read_text()) == {"holder": "first"}
    finally:
        opens.close()
        first.release()
    waiter.join(120)
    assert second.held and json.loads(path.read_text()) == {"holder": "second"}
    second.release()
    with pytest.raises(LockBusy, match="after waiting 0.2s"):
        first.acquire()
        FileLock(path).acquire(wait_seconds=0.2)
    first.release()


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    path = tmp_path / "x.lock"
    path.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started_at": "yesterday"}))
    lock = FileLock(path)
    lock.acquire()
    assert lock.taken_over["pid"] == pid
    lock.release()
    assert path.read_text() == ""  # released: nobody named


def _gated_project(root: Path) -> tuple[Path, Gate]:
    """A project whose one mart reads `gate` (var): a regular CSV by default, the FIFO when asked."""
    root.mkdir(parents=True)
    (root / "open.csv").write_text(ROW)
    config = f"name: p\ndialect: duckdb\ntargets:\n  local: {{type: duckdb, path: wh.duckdb}}\nvars: {{gate: '{root / 'open.csv'}'}}\n"
    write_project(root, {"config.yaml": config, "marts/a/gated.yml": "sql: select x from read_csv(:gate, header = true)\n"})
    return root, Gate(root / "gate.fifo")


def _build(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "martctl", "build", "--project-dir", str(root), "--log-format", "json", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_builds_never_interleave(tmp_path: Path):
    root, gate = _gated_project(tmp_path / "p")
    first = _build(root, "--vars", f"gate={gate.path}")
    gate.wait_for_reader(first)  # first holds the run lock and is inside its mart's statement
    try:
        second = subprocess.run([sys.executable, "-m", "martctl", "build", "--project-dir", str(root)],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == ExitCode.LOCKED, second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stderr and "martctl build" in second.stderr
        opens = FileOpens(root / "wh.duckdb.martctl.lock")
        try:
            waiting = _build(root, "--wait", "120")
            opens.wait()  # it tried the lock while first holds it: it is waiting now
        finally:
            opens.close()
    finally:
        gate.release()
    out_first, err_first = first.communicate(timeout=120)
    out_wait, err_wait = waiting.communicate(timeout=120)
    assert first.returncode == 0 and waiting.returncode == 0, err_first + err_wait
    first_end = json.loads(out_first.splitlines()[-1])["finished_at"]
    lines = [json.loads(line) for line in out_wait.splitlines()]
    assert lines[0]["event"] == "LockWaiting" and f"pid {first.pid}" in lines[0]["message"]  # said at once
    second_start = next(line["at"] for line in lines if line["event"] == "RunStarted")
    assert first_end <= second_start  # ISO timestamps in UTC: the waiting run started after the first ended


def test_test_during_a_build_is_locked_out_with_the_holder_named(tmp_path: Path):
    root, gate = _gated_project(tmp_path / "p")
    mart = root / "marts/a/gated.yml"
    mart.write_text(mart.read_text() + "columns: {x: {tests: [not_null]}}\n")
    first = _build(root, "--vars", f"gate={gate.path}")
    gate.wait_for_reader(first)  # the build has the warehouse open for writing, inside its mart
    try:
        tested = subprocess.run([sys.executable, "-m", "martctl", "test", "--project-dir", str(root)],
                                capture_output=True, text=True, timeout=60)
        assert tested.returncode == ExitCode.LOCKED, tested.stderr
        assert f"pid {first.pid}" in tested.stderr and "martctl build" in tested.stderr
        assert "Could not set lock" not in tested.stderr and "Traceback" not in tested.stderr
        as_json = subprocess.run([sys.executable, "-m", "martctl", "build", "--project-dir", str(root), "--log-format", "json"],
                                 capture_output=True, text=True, timeout=60)
        assert as_json.returncode == ExitCode.LOCKED
        (event,) = [json.loads(line) for line in as_json.stdout.splitlines()]  # one JSON object, nothing else
        assert event["kind"] == "locked" and event["exit_code"] == 3 and f"pid {first.pid}" in event["message"]
    finally:
        gate.release()
        first.communicate(timeout=120)


def test_a_waiting_run_says_who_holds_the_lock_at_once_and_again(tmp_path: Path, monkeypatch):
    import martctl
    from martctl.api import LockWaiting
    from martctl.engine import lock as lock_module

    root = write_project(tmp_path / "p", {"marts/a/m.yml": "sql: select 1 as x\n"})
    monkeypatch.setattr(lock_module, "REPORT_WAITING_EVERY", 0.1)
    holder = FileLock(root / "wh.duckdb.martctl.lock")
    holder.acquire(info=holder_info(command="martctl build"))
    said = []
    try:
        with pytest.raises(LockBusy, match="after waiting 0.5s"):
            martctl.open(root).run(wait=0.5, on_event=lambda e: said.append(e) if isinstance(e, LockWaiting) else None)
    finally:
        holder.release()
    assert len(said) >= 2 and all(f"pid {os.getpid()}" in e.message and "martctl build" in e.message for e in said)
    assert said[0].message.startswith("waiting for the run lock (0s of 0.5s)")
