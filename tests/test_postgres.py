"""The Postgres target against a real server (the session's throwaway cluster, tests/pg_server.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from conftest import write_project

from martctl.adapters.base import get_adapter
from martctl.errors import AdapterError, LockBusy
from martctl.project import Target


@pytest.fixture
def pg_dsn(pg_server) -> str:
    """A fresh database on the session's server."""
    return pg_server.new_database()


def adapter_for(dsn: str, root: Path = Path(".")):
    password = dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    return get_adapter(Target("pg", "postgres", {"dsn": dsn}, 4, (dsn, password)), root)


@pytest.fixture
def adapter(pg_dsn, tmp_path):
    adapter = adapter_for(pg_dsn, tmp_path)
    adapter.connect()
    yield adapter
    adapter.close()


def compiled_marts(root: Path, target: str = "pg", vars: dict | None = None):
    from martctl.compile import compile_project
    from martctl.context import open_project

    ctx = open_project(root, target=target, vars=vars or {})
    compiled = compile_project(ctx.graph, target=ctx.target)
    order = [k for k in ctx.graph.graph.topological_order() if k in compiled.marts]
    return ctx, [compiled.marts[k] for k in order]


def leftovers(adapter) -> list:
    return adapter.query("SELECT relname FROM pg_class WHERE relname LIKE '%%martctl%%'").rows


# -- connection errors ------------------------------------------------------------------
def test_wrong_password_is_one_masked_line(pg_server, tmp_path):
    dsn = pg_server.dsn(password="not-the-Secret-42")
    adapter = adapter_for(dsn, tmp_path)
    with pytest.raises(AdapterError) as caught:
        adapter.connect()
    message = str(caught.value)
    assert "\n" not in message
    assert "password authentication failed" in message
    assert "not-the-Secret-42" not in message


def test_unreachable_host_is_one_line(tmp_path):
    from pg_server import free_port

    adapter = adapter_for(f"postgresql://u:hunter22@127.0.0.1:{free_port()}/db", tmp_path)
    with pytest.raises(AdapterError) as caught:
        adapter.connect()
    assert "cannot connect" in str(caught.value) and "\n" not in str(caught.value)
    assert "hunter22" not in str(caught.value)


# -- run lock ---------------------------------------------------------------------------
def test_second_lock_names_the_holder_and_waits(pg_dsn, tmp_path):
    first, second = adapter_for(pg_dsn, tmp_path), adapter_for(pg_dsn, tmp_path)
    first.acquire_lock(info={"pid": 4242, "host": "cronbox"})
    try:
        with pytest.raises(LockBusy) as caught:
            second.acquire_lock()
        message = str(caught.value)
        assert "pid=4242" in message and "cronbox" in message and "backend pid" in message
        assert caught.value.holder["backend_start"]
        threading.Timer(0.5, first.release_lock).start()
        started = time.monotonic()
        second.acquire_lock(wait_seconds=10)
        assert 0.3 < time.monotonic() - started < 5
    finally:
        first.release_lock()
        second.release_lock()
        first.close()
        second.close()


# -- cancel and broken connections ----------------------------------------------------------
def test_cancel_interrupts_a_running_statement(adapter):
    errors = []

    def run():
        try:
            adapter.query("SELECT pg_sleep(30)")
        except AdapterError as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    started = time.monotonic()
    worker.start()
    time.sleep(0.5)
    adapter.cancel()
    worker.join(10)
    assert time.monotonic() - started < 5
    assert errors and errors[0].cancelled
    assert adapter.query("SELECT 1").rows == [(1,)]  # the connection is usable afterwards


SLOW_PROJECT = {
    "config.yaml": (
        "name: slow\ndialect: postgres\ndefault_target: pg\n"
        "targets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\"}\n"
        "vars: {version: 1, nap: 0}\n"
    ),
    "marts/a/first.yml": "materialized: table\nsql: select g as id, :version as version from generate_series(1, 50) as g\n",
    "marts/a/slow.yml": (
        "materialized: table\n"
        "sql: select f.id, f.version from a.first as f cross join pg_sleep(:nap) as s\n"
    ),
    "marts/a/shown.yml": "materialized: view\nsql: select id, version from a.slow where id <= 10\n",
}


def kill_when_sleeping(dsn: str, timeout: float = 20) -> int:
    """Terminate the backend that runs pg_sleep (from another connection); return how many."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as con:
        while time.monotonic() < deadline:
            killed = con.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query ILIKE '%%pg_sleep%%' AND pid <> pg_backend_pid() AND state = 'active'"
            ).fetchone()[0]
            if killed:
                return killed
            time.sleep(0.05)
    return 0


def test_terminated_backend_keeps_the_old_version(pg_dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("MARTCTL_PG_DSN", pg_dsn)
    root = write_project(tmp_path / "slow", SLOW_PROJECT)
    _, marts = compiled_marts(root)
    adapter = adapter_for(pg_dsn, root)
    for mart in marts:
        adapter.materialize(mart)
    _, marts = compiled_marts(root, vars={"version": 2, "nap": 30})
    adapter.materialize(marts[0])  # a.first is at version 2
    killer = threading.Thread(target=kill_when_sleeping, args=(pg_dsn,))
    killer.start()
    with pytest.raises(AdapterError) as caught:
        adapter.materialize(marts[1])
    killer.join()
    assert "connection to the server was lost" in str(caught.value)
    assert pg_dsn.split("@")[0].split(":")[-1] not in str(caught.value)
    # a.slow stayed at version 1, and its view still reads it; nothing half-built is left
    assert adapter.query("SELECT DISTINCT version FROM a.slow").rows == [(1,)]
    assert adapter.query("SELECT count(*) FROM a.shown").rows == [(10,)]
    assert adapter.query("SELECT DISTINCT version FROM a.first").rows == [(2,)]
    assert leftovers(adapter) == []
    adapter.close()


# -- building ---------------------------------------------------------------------------------
def test_swapping_a_table_keeps_the_views_on_it(pg_dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("MARTCTL_PG_DSN", pg_dsn)
    root = write_project(tmp_path / "slow", SLOW_PROJECT)
    _, marts = compiled_marts(root)
    adapter = adapter_for(pg_dsn, root)
    for mart in marts:
        adapter.materialize(mart)
    adapter.query("CREATE VIEW a.user_view AS SELECT count(*) AS n FROM a.shown")  # a user's own view, two levels up
    _, marts = compiled_marts(root, vars={"version": 3})
    adapter.materialize(marts[0])
    assert adapter.materialize(marts[1]) == 50
    assert adapter.query("SELECT DISTINCT version FROM a.shown").rows == [(3,)]
    assert adapter.query("SELECT n FROM a.user_view").rows == [(10,)]
    adapter.close()


def test_seeds_load_with_copy_and_the_sniffed_types(adapter, demo_dir, monkeypatch, pg_dsn):
    monkeypatch.setenv("MARTCTL_PG_DSN", pg_dsn)
    ctx, _ = compiled_marts(demo_dir)
    counts = {key: adapter.load_seed(source) for key, source in ctx.project.sources.items() if source.seed}
    assert counts["raw.orders"] == 1683 and counts["raw.sessions"] == 4500
    columns = adapter.columns("raw", "orders")
    assert columns == {"order_id": "bigint", "customer_id": "bigint", "session_id": "bigint",
                       "ordered_at": "timestamp without time zone", "amount": "numeric(12,2)", "status": "text"}
    assert adapter.columns("raw", "nope") is None
    assert adapter.query("SELECT count(*) FROM raw.orders WHERE session_id IS NULL").rows[0][0] > 0  # empty -> NULL
    adapter.query("CREATE VIEW raw.recent AS SELECT * FROM raw.orders WHERE amount > 10")
    assert adapter.load_seed(ctx.project.sources["raw.orders"]) == 1683  # reloaded under its view
    assert adapter.exists("raw", "recent")
