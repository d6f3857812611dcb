"""Environments on the real Postgres server: the scenarios of tests/test_envs.py, and promote under a
concurrent reader and under SIGKILL, held mid-transaction by an event trigger that waits on an
advisory lock the test holds (seen in pg_locks, never a sleep)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import write_project
from test_envs import (
    FEED,
    FILES,
    INCREMENTAL,
    an_edit_two_levels_up_reaches_dev,
    dev_builds_only_what_changed,
    dev_changes_the_tied_pair,
    gc_keeps_what_is_used,
    incremental_copied_first,
    pointers,
    promote_a_renamed_column,
    promote_then_rollback,
    promoted_view_reads_prods_layer,
    refusals,
    second_promote_exits_3,
    seeds_in_dev_leave_prods_alone,
    tied,
    upgrade_in_place,
)
from test_faults import wait_until

import martctl

PAUSE_KEY = 7_000_012
PAUSE = """
CREATE FUNCTION pause_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE seen int := coalesce(nullif(current_setting('envs_test.views', true), ''), '0')::int + 1;
BEGIN
  PERFORM set_config('envs_test.views', seen::text, false);  -- this session's CREATE VIEWs so far
  IF seen >= {after} THEN PERFORM pg_advisory_xact_lock({key}); END IF;
END $$;
CREATE EVENT TRIGGER pause_views ON ddl_command_end WHEN TAG IN ('CREATE VIEW') EXECUTE FUNCTION pause_ddl();
"""
WAITING = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s "
           "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


class Pg:
    """How the tests read a Postgres warehouse."""

    def __init__(self, root: Path, dsn: str):
        self.root, self.dsn = root, dsn

    def rows(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as con:
            return [tuple(r) for r in con.execute(sql).fetchall()]

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as con:
            con.execute(sql)

    def kind(self, schema: str, name: str) -> str | None:
        found = self.rows(f"SELECT table_type FROM information_schema.tables WHERE table_schema = '{schema}' "
                          f"AND table_name = '{name}'")
        return found[0][0] if found else None


def _pg(pg_server, tmp_path: Path, files: dict) -> Pg:
    dsn = pg_server.new_database("envs")
    config = f'name: e\ndialect: duckdb\ntargets:\n  pg: {{type: postgres, dsn: "{dsn}", threads: 2}}\n'
    extra = files.pop("config_extra", "")
    return Pg(write_project(tmp_path / "p", {**files, "config.yaml": config + extra}), dsn)


@pytest.fixture
def pg(pg_server, tmp_path: Path) -> Pg:
    return _pg(pg_server, tmp_path, dict(FILES))


def test_postgres_dev_builds_only_what_changed_and_reads_prods_versions(pg):
    dev_builds_only_what_changed(pg)


def test_postgres_an_edit_two_levels_up_reaches_dev(pg):
    an_edit_two_levels_up_reaches_dev(pg)


def test_postgres_a_promoted_view_mart_reads_prods_layer(pg):
    promoted_view_reads_prods_layer(pg)


def test_postgres_promote_a_renamed_column_and_the_view_that_reads_it(pg):
    promote_a_renamed_column(pg)


def test_postgres_upgrade_in_place_keeps_rows_and_dependent_views(pg):
    upgrade_in_place(pg)


def test_postgres_seeds_in_dev_never_touch_prods(pg):
    seeds_in_dev_leave_prods_alone(pg)


def test_postgres_promote_refuses_failed_tests_and_conflicts_unless_forced(pg):
    refusals(pg)


def test_postgres_gc_never_drops_a_version_in_use(pg):
    gc_keeps_what_is_used(pg)


def test_postgres_a_second_promote_while_one_holds_the_lock_exits_3(pg):
    second_promote_exits_3(pg)


def test_postgres_an_incremental_version_prod_reads_is_copied_before_dev_adds_rows(pg_server, tmp_path: Path):
    incremental_copied_first(_pg(pg_server, tmp_path, {**INCREMENTAL, "config_extra": FEED}))


def _held(pg: Pg, start, look, after: int = 1) -> None:
    """Hold a session's CREATE VIEW number `after` at its end (its transaction open) while `look()` runs."""
    import psycopg

    pg.execute(PAUSE.format(after=after, key=PAUSE_KEY))
    with psycopg.connect(pg.dsn, autocommit=True) as control:
        control.execute("SELECT pg_advisory_lock(%s)", [PAUSE_KEY])
        try:
            alive = start()
            wait_until(lambda: not alive() or control.execute(WAITING, [PAUSE_KEY]).fetchone()[0] == 1,
                       "the promote to be held inside its transaction")
            assert alive(), "the promote ended before it was held"
            look()
        finally:
            control.execute("SELECT pg_advisory_unlock(%s)", [PAUSE_KEY])


def test_postgres_promote_and_rollback_are_all_or_nothing_for_concurrent_readers(pg):
    def during(expected, action):
        result: list = []
        worker = threading.Thread(target=lambda: result.append(action()))
        read: list = []

        def reader() -> None:
            read.append(pg.rows("SELECT (SELECT v FROM t.x), (SELECT v FROM t.y)")[0])

        readers = [threading.Thread(target=reader) for _ in range(8)]

        def start():
            worker.start()
            return worker.is_alive

        def look() -> None:  # mid-transaction: y still reads the old version; readers of both wait or see old
            assert pg.rows("SELECT v FROM t.y") == [(expected[1],)]
            for thread in readers:
                thread.start()

        _held(pg, start, look)
        worker.join(60)
        for thread in readers:
            thread.join(60)
        new = tied(pg)
        assert len(read) == 8 and set(read) <= {expected, new} and new != expected, (read, new)
        pg.execute("DROP EVENT TRIGGER pause_views; DROP FUNCTION pause_ddl()")
        return result[0]

    promote_then_rollback(pg, during)


def test_postgres_sigkill_during_promote_leaves_prod_entirely_old(pg):
    root = pg.root
    before = dev_changes_the_tied_pair(pg)
    proc = subprocess.Popen([sys.executable, "-m", "martctl", "promote", "dev", "--project-dir", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def kill() -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    _held(pg, lambda: (lambda: proc.poll() is None), kill, after=2)  # t.x re-pointed, held at t.y
    assert proc.returncode == -signal.SIGKILL
    wait_until(lambda: pg.rows(WAITING % PAUSE_KEY)[0][0] == 0, "the killed session to end")
    assert tied(pg) == (1, 1) and pointers(pg, "prod") == before
    pg.execute("DROP EVENT TRIGGER pause_views; DROP FUNCTION pause_ddl()")
    assert martctl.open(root).promote("dev").exit_code() == 0 and tied(pg) == (2, 2)
