"""Build what is due on the real Postgres server: one database, one sequence of builds."""

from __future__ import annotations

from pathlib import Path

from conftest import write_project
from test_state import FILES, built, edit, statuses

import martctl
from martctl.api import CANNOT_TELL

CONFIG = ("name: s\ndialect: duckdb\ndefault_target: pg\n"
          "targets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\", threads: 2, schema_prefix: dev_}\n"
          "vars: {bad: '1', max_id: 2}\n")


def test_postgres_builds_what_is_due_and_records_it_with_the_swap(pg_server, tmp_path: Path, monkeypatch):
    import psycopg

    dsn = pg_server.new_database()
    monkeypatch.setenv("MARTCTL_PG_DSN", dsn)
    root = write_project(tmp_path / "p", {**FILES, "config.yaml": CONFIG})
    assert set(statuses(martctl.open(root).build()).values()) == {"success"}
    assert set(statuses(martctl.open(root).build()).values()) == {"up to date"}
    edit(root, "marts/a/base.yml", "sql: |\n  /* a comment */ SELECT \"id\", amount\n  FROM raw.events -- all\n")
    assert built(martctl.open(root).build()) == set()
    edit(root, "marts/a/base.yml", "sql: select id, amount, 'new' as added from raw.events\n")
    assert built(martctl.open(root).build()) == {"a.base"}  # an added column nobody reads does not cascade
    edit(root, "marts/a/mid.yml", "sql: select id, amount * 3 as amount2, cast(:bad as integer) as flag from a.base\n")
    assert built(martctl.open(root).build()) == {"a.mid", "a.top"}
    failed = martctl.open(root, vars={"bad": "x"}).build()
    assert statuses(failed)["a.mid"] == "error" and statuses(failed)["a.top"] == "skipped"
    # retried as it stood before the failure: nothing to do; fixed another way: the failed and the skipped
    assert set(statuses(martctl.open(root).retry()).values()) == {"up to date"}
    edit(root, "marts/a/mid.yml", "sql: select id, amount * 4 as amount2, cast(:bad as bigint) as flag from a.base\n")
    failed = martctl.open(root, vars={"bad": "x"}).build()
    assert statuses(martctl.open(root).retry()) == {"a.mid": "success", "a.top": "success"}
    with psycopg.connect(dsn) as con:  # the state sits behind the target's schema_prefix
        recorded = dict(con.execute("SELECT key, row_count FROM dev_martctl_state.marts").fetchall())
        outcomes = [r[0] for r in con.execute("SELECT outcome FROM dev_martctl_state.runs ORDER BY started_at")]
        total = con.execute("SELECT total FROM dev_a.top").fetchone()[0]
    assert recorded["a.base"] == 3 and recorded["a.top"] == 1 and len(recorded) == 7
    assert outcomes == ["success"] * 5 + ["error", "success", "error", "success"]
    assert total == 240
    assert set(statuses(martctl.open(root).build()).values()) == {"up to date"}


def load(dsn: str, *statements: str) -> None:
    """Someone else's loader; its change counters published before it returns (flushed as the session
    goes idle after pg_stat_force_next_flush: an event, not a wait)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        for statement in statements:
            con.execute(statement)
        con.execute("SELECT pg_stat_force_next_flush()")
        con.execute("SELECT 1")


def pg_project(pg_server, tmp_path: Path, monkeypatch, extra: str, marts: dict[str, str]) -> tuple[str, Path]:
    """A new database and a project on it: CONFIG + `extra` (sources, areas), marts as {x.name: sql}."""
    dsn = pg_server.new_database()
    monkeypatch.setenv("MARTCTL_PG_DSN", dsn)
    files = {f"marts/{key.replace('.', '/')}.yml": f"sql: {sql}\n" for key, sql in marts.items()}
    return dsn, write_project(tmp_path / "p", {**files, "config.yaml": CONFIG + extra})


def test_postgres_new_rows_in_a_loaded_at_or_data_version_source_rebuild_its_readers(pg_server, tmp_path: Path, monkeypatch):
    dsn, root = pg_project(pg_server, tmp_path, monkeypatch,
                           "sources:\n  ext:\n    tables:\n      feed: {loaded_at: loaded}\n"
                           "      other: {data_version: 'select max(loaded) // 1, count(*) from this'}\n",
                           {"x.reads_feed": "select count(*) as n from ext.feed", "x.fixed": "select 1 as one",
                            "x.reads_other": "select count(*) as n from ext.other"})
    load(dsn, "CREATE SCHEMA ext; CREATE TABLE ext.feed (i int, loaded timestamptz); CREATE TABLE ext.other (loaded int)",
         "INSERT INTO ext.feed VALUES (1, '2026-01-01T00:00:00Z')")
    martctl.open(root).build()
    assert set(statuses(martctl.open(root).build()).values()) == {"up to date"}
    load(dsn, "INSERT INTO ext.feed VALUES (2, '2026-01-02T00:00:00Z')")
    report = martctl.open(root).build()
    assert built(report) == {"x.reads_feed"}
    assert "ext.feed's data changed: max loaded" in report.results["x.reads_feed"].decision
    load(dsn, "INSERT INTO ext.other VALUES (7)")  # the query, in the project's dialect, runs on Postgres
    report = martctl.open(root).build()
    assert built(report) == {"x.reads_other"}
    assert report.results["x.reads_other"].decision == \
        "source ext.other's data changed: data_version = 7, 1 (was: data_version = None, 0)"


def test_postgres_change_counters_tell_a_source_without_loaded_at(pg_server, tmp_path: Path, monkeypatch):
    dsn, root = pg_project(pg_server, tmp_path, monkeypatch, "sources:\n  ext:\n    tables: [plain, other, shown]\n",
                           {f"x.reads_{name}": f"select count(*) as n from ext.{table}"
                            for name, table in (("plain", "plain"), ("other", "other"), ("view", "shown"))})
    load(dsn, "CREATE SCHEMA ext; CREATE TABLE ext.plain (i int); CREATE TABLE ext.other (i int)",
         "CREATE VIEW ext.shown AS SELECT i FROM ext.plain", "INSERT INTO ext.plain VALUES (1)")
    martctl.open(root).build()
    again = martctl.open(root).build()
    # a view has no counters: it cannot tell, and counts as changed; the tables are up to date
    assert statuses(again) == {"x.reads_plain": "up to date", "x.reads_other": "up to date", "x.reads_view": "success"}
    plan = martctl.open(root).plan()
    assert plan.sources["ext.plain"].startswith("Postgres change counters (pg_stat_user_tables")
    assert plan.sources["ext.shown"].startswith("cannot tell")

    reasons: dict[str, str] = {}

    def rebuilt(*statements: str) -> set[str]:
        load(dsn, *statements)
        report = martctl.open(root).build(exclude=["x.reads_view"])
        reasons.update({key: r.decision for key, r in report.results.items()})
        return built(report)

    assert rebuilt("INSERT INTO ext.plain VALUES (2)") == {"x.reads_plain"}
    assert reasons["x.reads_plain"].startswith("source ext.plain's data changed: counters: 2 inserted, 0 updated")
    assert rebuilt("UPDATE ext.other SET i = i") == set()  # no rows: nothing updated
    assert rebuilt("INSERT INTO ext.other VALUES (1)", "UPDATE ext.other SET i = 5") == {"x.reads_other"}
    assert rebuilt("DELETE FROM ext.other") == {"x.reads_other"}
    assert rebuilt("TRUNCATE ext.plain") == {"x.reads_plain"}  # not counted as deletes: a new relfilenode
    assert rebuilt("SELECT count(*) FROM ext.plain") == set()  # reads change nothing
    # counters reset (one table's): the database's stats_reset moves, every table counts as changed
    assert rebuilt("SELECT pg_stat_reset_single_table_counters('ext.other'::regclass)") == {"x.reads_other", "x.reads_plain"}
    import psycopg

    with psycopg.connect(dsn) as con:
        assert con.execute("SELECT n FROM dev_x.reads_plain").fetchone() == (0,)
    # counters that never move cannot be trusted: with track_counts off, the tables cannot tell
    load(dsn, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET track_counts = off', current_database()); END $$")
    plan = martctl.open(root).plan()
    assert plan.sources["ext.plain"] == f"{CANNOT_TELL} (Postgres change counters not used: track_counts is off)"
    assert plan.decisions["x.reads_plain"].build and "cannot tell" in plan.decisions["x.reads_plain"].reason


def test_postgres_a_daily_mart_builds_once_a_day_however_often_cron_fires(pg_server, tmp_path: Path, monkeypatch):
    from datetime import datetime, timedelta, timezone

    dsn, root = pg_project(pg_server, tmp_path, monkeypatch,
                           "sources:\n  ext:\n    tables: [feed]\nareas:\n  daily: {schedule: '@daily'}\n",
                           {key: "select count(*) as n from ext.feed" for key in ("daily.rollup", "live.reader")})
    load(dsn, "CREATE SCHEMA ext; CREATE TABLE ext.feed (i int)")
    start = datetime(2026, 3, 4, 22, 50, tzinfo=timezone.utc)
    daily, live = [], []
    for quarter in range(8):  # cron every 15 minutes, over midnight
        now = start + timedelta(minutes=15 * quarter)
        if quarter == 3:
            load(dsn, "INSERT INTO ext.feed VALUES (1)")  # new rows: the live reader follows, the daily one waits
        report = martctl.open(root).build(now=now)
        daily += [f"{now:%H:%M}"] if report.results["daily.rollup"].status == "success" else []
        live += [f"{now:%H:%M}"] if report.results["live.reader"].status == "success" else []
    assert daily == ["22:50", "00:05"]
    assert live == ["22:50", "23:35"]


def test_postgres_counters_wiped_by_a_crash_count_as_changed(pg_server, tmp_path: Path, monkeypatch):
    """A backend SIGKILLed: the server discards every counter and they start again at 0, so the same
    number of new rows would give the same counters; the shared statistics' reset stamp tells. On a
    private cluster (a crash ends every session of the server)."""
    import os
    import signal
    import time

    import psycopg
    from pg_server import start_server

    private = start_server()
    try:
        dsn, root = pg_project(private, tmp_path, monkeypatch, "sources:\n  ext:\n    tables: [plain]\n",
                               {"x.reads_plain": "select count(*) as n from ext.plain"})
        load(dsn, "CREATE SCHEMA ext; CREATE TABLE ext.plain (i int)", "INSERT INTO ext.plain VALUES (1), (2)")
        martctl.open(root).build()
        assert statuses(martctl.open(root).build()) == {"x.reads_plain": "up to date"}
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute("CHECKPOINT")  # the test cluster runs with synchronous_commit off: make what it did durable
            os.kill(con.execute("SELECT pg_backend_pid()").fetchone()[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:  # the server restarts its backends (crash recovery): wait until it accepts a session
            try:
                load(dsn, "INSERT INTO ext.plain VALUES (3), (4)")  # 2 inserted again, as before the crash
                break
            except psycopg.OperationalError:
                assert time.monotonic() < deadline, "the server did not come back after the crash"
                time.sleep(0.1)
        report = martctl.open(root).build()
        assert statuses(report) == {"x.reads_plain": "success"}
        assert report.results["x.reads_plain"].decision.startswith("source ext.plain's data changed: counters: 2 inserted")
        with psycopg.connect(dsn) as con:
            assert con.execute("SELECT n FROM dev_x.reads_plain").fetchone() == (4,)
    finally:
        private.stop()
