"""A kill at any point of a build, then a normal build: every mart correct and up to date, nothing
skipped that should have been built. The state's record of a build is committed with its swap.

DuckDB: the build is held inside a mart's statement by a FIFO gate (tests/gate.py) and SIGKILLed
there; the state write itself is failed through the adapter's `between_statements` seam.
Postgres: the build is held by a table lock the test owns (seen in pg_locks), then SIGKILLed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import failing_state_write, write_project
from gate import ROW, kill_inside_gate

import martctl

CHAIN = 6
GATED = 3  # k.m3 waits at the gate: m0..m2 are built (and recorded) before the kill


def _chain(root: Path, config: str, gate_from: str) -> Path:
    files = {"config.yaml": config}
    for i in range(CHAIN):
        upstream = f"k.m{i - 1}" if i else "(select 1 as id)"
        gate = f" cross join {gate_from} as g" if i == GATED else ""
        files[f"marts/k/m{i}.yml"] = f"sql: select u.id, cast(:version as integer) as version from {upstream} as u{gate}\n"
    return write_project(root, files)


def _build(root: Path, version: int, target: str | None = None, env: dict | None = None) -> subprocess.Popen:
    args = ["--target", target] if target else []
    return subprocess.Popen([sys.executable, "-m", "martctl", "build", "--project-dir", str(root), "--vars",
                             f"version={version}", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _finish(proc: subprocess.Popen) -> None:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err


def _statuses(root: Path) -> dict[str, str]:
    import json

    return {n["key"]: n["status"] for n in json.loads((root / "target" / "run_results.json").read_text())["results"]}


def _assert_recovered(root: Path, versions) -> None:
    """After the kill: every mart already at version 2 is up to date, the others are built; all end at 2."""
    before = versions()
    assert set(before.values()) == {1, 2} and before["k.m0"] == 2 and before[f"k.m{GATED}"] == 1, before
    _finish(_build(root, 2, *_target_args(root)))
    statuses = _statuses(root)
    assert versions() == {f"k.m{i}": 2 for i in range(CHAIN)}
    assert {k for k, s in statuses.items() if s == "success"} == {k for k, v in before.items() if v == 1}
    assert {k for k, s in statuses.items() if s == "up to date"} == {k for k, v in before.items() if v == 2}
    _finish(_build(root, 2, *_target_args(root)))
    assert set(_statuses(root).values()) == {"up to date"}


def _target_args(root: Path) -> tuple:
    return ("pg", {"MARTCTL_PG_DSN": (root / "dsn").read_text()}) if (root / "dsn").exists() else ()


def test_sigkill_inside_a_build_then_a_build_leaves_every_mart_built_and_up_to_date(tmp_path: Path):
    gate_file = tmp_path / "gate.csv"
    config = ("name: k\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb, threads: 2}\n"
              f"vars: {{version: 1, gate: '{gate_file}'}}\n")
    root = _chain(tmp_path / "p", config, "read_csv(:gate, header = true)")
    gate_file.write_text(ROW)
    _finish(_build(root, 1))
    kill_inside_gate(gate_file, lambda: _build(root, 2))  # k.m3 reads the gate

    def versions() -> dict[str, int]:
        con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
        try:
            return {f"k.m{i}": con.execute(f"select version from k.m{i}").fetchone()[0] for i in range(CHAIN)}
        finally:
            con.close()

    _assert_recovered(root, versions)


def test_a_failure_between_the_swap_and_its_record_keeps_neither(tmp_path: Path, monkeypatch):
    config = "name: k\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb, threads: 1}\nvars: {version: 1}\n"
    root = _chain(tmp_path / "p", config, "(select 1)")
    martctl.open(root).build()

    with failing_state_write(monkeypatch, "k.m2", "killed between the swap and its record"):
        report = martctl.open(root, vars={"version": 2}).build()
    assert report.results["k.m2"].status == "error" and report.results["k.m1"].status == "success"
    con = duckdb.connect(str(root / "wh.duckdb"))
    assert con.execute("select version from k.m2").fetchone() == (1,)  # the swap rolled back with the record
    con.close()
    again = martctl.open(root, vars={"version": 2}).build()
    assert {k for k, r in again.results.items() if r.status == "success"} == {"k.m2", "k.m3", "k.m4", "k.m5"}


def waiting_on_lock(dsn: str, proc: subprocess.Popen, relation: str = "gate.block", timeout: float = 120) -> None:
    """Return once a session of the build waits for the lock the test holds on `relation` (pg_locks, not a sleep)."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as con:
        while time.monotonic() < deadline:
            if con.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                           [relation]).fetchone()[0]:
                return
            if proc.poll() is not None:
                raise AssertionError(f"the build ended before the gate: {proc.communicate()}")
            time.sleep(0.02)
    raise AssertionError("the build did not reach the gate")


def kill(dsn: str, proc: subprocess.Popen) -> None:
    """SIGKILL the build; the server ends the dead client's sessions (their transactions roll back)."""
    import psycopg

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name LIKE 'martctl%%' AND pid <> pg_backend_pid()")


def kill_while_held(dsn: str, relation: str, mode: str, start) -> None:
    """Lock `relation` in `mode`, start the build (`start()` -> Popen), SIGKILL it once it waits for that lock."""
    import psycopg

    holder = psycopg.connect(dsn)
    holder.execute(f"LOCK TABLE {relation} IN {mode} MODE")
    proc = start()
    try:
        waiting_on_lock(dsn, proc, relation)
        kill(dsn, proc)
    finally:
        holder.rollback()
        holder.close()


def test_sigkill_inside_a_postgres_build_then_a_build_recovers(pg_server, tmp_path: Path):
    import psycopg

    dsn = pg_server.new_database()
    config = ("name: k\ndialect: postgres\ndefault_target: pg\ntargets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\", "
              "threads: 2}\nvars: {version: 1}\nsources:\n  gate:\n    tables: [block]\n")
    root = _chain(tmp_path / "p", config, "(select count(*) as c from gate.block)")
    (root / "dsn").write_text(dsn)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE SCHEMA gate; CREATE TABLE gate.block (x int)")
    _finish(_build(root, 1, *_target_args(root)))
    kill_while_held(dsn, "gate.block", "ACCESS EXCLUSIVE", lambda: _build(root, 2, *_target_args(root)))  # k.m3 waits

    def versions() -> dict[str, int]:
        with psycopg.connect(dsn) as con:
            return {f"k.m{i}": con.execute(f"SELECT version FROM k.m{i}").fetchone()[0] for i in range(CHAIN)}

    _assert_recovered(root, versions)  # gate.block tells by its change counters: none moved


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("MARTCTL_DEBUG", raising=False)


def test_sigkill_between_a_postgres_swap_and_its_record_keeps_neither(pg_server, tmp_path: Path):
    """The build is held at its first state write (the test holds martctl_state.marts), after m0's swap
    statements in that same transaction, and killed there: m0 keeps its old version, and nothing is recorded."""
    import psycopg

    dsn = pg_server.new_database()
    config = ("name: k\ndialect: postgres\ndefault_target: pg\ntargets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\", "
              "threads: 2}\nvars: {version: 1}\n")
    root = _chain(tmp_path / "p", config, "(select 1)")
    (root / "dsn").write_text(dsn)
    _finish(_build(root, 1, *_target_args(root)))
    # reads go on, the record's write waits
    kill_while_held(dsn, "martctl_state.marts", "SHARE", lambda: _build(root, 2, *_target_args(root)))
    with psycopg.connect(dsn) as con:
        assert {con.execute(f"SELECT version FROM k.m{i}").fetchone()[0] for i in range(CHAIN)} == {1}
    _finish(_build(root, 2, *_target_args(root)))
    assert set(_statuses(root).values()) == {"success"}
    with psycopg.connect(dsn) as con:
        assert {con.execute(f"SELECT version FROM k.m{i}").fetchone()[0] for i in range(CHAIN)} == {2}
    _finish(_build(root, 2, *_target_args(root)))
    assert set(_statuses(root).values()) == {"up to date"}
