"""Security on the real Postgres server (issue 10, items 1, 3 and 4): vars cannot inject SQL,
a malformed DSN's password never shows, a lost run lock stops the run."""

from __future__ import annotations

import json
import math

import psycopg
import pytest
from conftest import write_project
from test_postgres import mart_rows_pg, martctl

# the attack of issue 10: under standard_conforming_strings = off the backslash escaped
# sqlglot's closing quote, and the rest became SQL
INJECTION = "\\' AS TEXT) AS s, (select max(rolname) from pg_roles) AS leak, --"

VARS_PROJECT = {
    "config.yaml": (
        "name: vars\ndialect: duckdb\ndefault_target: pg\n"
        "targets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\", threads: 1}\n"
        "  local: {type: duckdb, path: wh.duckdb}\n"
        "vars: {s: plain, x: 1.0, y: 1.0, z: 1.0}\n"
    ),
    # a hostile first mart turns the setting off for the rest of its session (the same worker
    # connection builds a.echo next, threads: 1)
    "marts/a/flip.yml": "sql: select set_config('standard_conforming_strings', 'off', false) as was\n",
    "marts/a/echo.yml": (
        "sql: select cast(:s as text) as s, :x as x, :y as y, :z as z from a.flip\n"
        "tests:\n  - expression: {expression: \"s = :s\"}\n"
    ),
}


def _database(dsn: str) -> str:
    return dsn.rsplit("/", 1)[1]


def test_vars_are_literals_under_every_server_setting(pg_server, tmp_path):
    """Item 1: a var holding a backslash and a quote stays one literal on a database with
    standard_conforming_strings = off; inf, -inf and nan vars are numbers on Postgres and DuckDB."""
    dsn = pg_server.new_database()
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"ALTER DATABASE {_database(dsn)} SET standard_conforming_strings = off")
    with psycopg.connect(dsn) as con:  # the planted setting is really what a new session gets
        assert con.info.parameter_status("standard_conforming_strings") == "off"
    root = write_project(tmp_path / "vars", VARS_PROJECT)
    args = ("--vars", f"s={INJECTION}", "--vars", "x=.inf", "--vars", "y=-.inf", "--vars", "z=.nan")
    run = martctl(root, "build", *args, dsn=dsn)
    assert run.returncode == 0, run.stdout + run.stderr
    columns, rows = mart_rows_pg(dsn, "a.echo")
    assert columns == ["s", "x", "y", "z"]  # no `leak` column
    (s, x, y, z), = rows
    assert s == INJECTION
    assert (x, y) == (math.inf, -math.inf) and math.isnan(z)
    tests = json.loads((root / "target" / "run_results.json").read_text())["results"][1]["tests"]
    assert [t["status"] for t in tests] == ["PASS"]  # the var in a test's SQL is the same literal

    import duckdb

    with duckdb.connect(str(root / "wh.duckdb")) as con:  # DuckDB has no set_config: a.flip by hand
        con.execute("create schema a; create table a.flip as select 'on' as was")
    local = martctl(root, "build", "-t", "local", "-s", "a.echo", *args)
    assert local.returncode == 0, local.stdout + local.stderr
    with duckdb.connect(str(root / "wh.duckdb"), read_only=True) as con:
        (s, x, y, z), = con.execute("select s, x, y, z from a.echo").fetchall()
    assert s == INJECTION and (x, y) == (math.inf, -math.inf) and math.isnan(z)


# -- item 3: secrets in errors ------------------------------------------------------------------
ONE_MART = {
    "config.yaml": "name: dsn\ndefault_target: pg\ntargets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\"}\n",
    "marts/a/one.yml": "sql: select 1 as x\n",
}

# malformed DSNs whose error messages quote a piece of the password (issue 10), exit 2 or 1
MALFORMED = [
    ("postgresql://me:Pct%zzSecret55@127.0.0.1:5432/db", "Secret55", 2, "invalid percent-encoded token"),
    ("host=127.0.0.1 user=me password=pw Secret44 dbname=db", "Secret44", 2, 'missing "=" after'),
    ("postgresql://me:pw@Secret66@127.0.0.1/db", "Secret66", 1, "failed to resolve host"),
]


@pytest.mark.parametrize("dsn, secret, code, said", MALFORMED)
def test_a_malformed_dsn_never_shows_its_password(tmp_path, dsn, secret, code, said):
    """Item 3: text, JSON logs and --debug tracebacks; the driver's message really holds the secret
    (the `said` part is what carries it), and the rest of the message is kept."""
    root = write_project(tmp_path / "p", ONE_MART)
    for extra in ((), ("--log-format", "json"), ("--debug",)):
        run = martctl(root, "run", *extra, dsn=dsn)
        output = run.stdout + run.stderr
        assert run.returncode != 0, output
        if "--debug" not in extra:  # (the exit code under --debug is item 5's)
            assert run.returncode == code, output
        assert said in output.replace('\\"', '"') and "****" in output, output  # (JSON escapes the quotes)
        assert secret not in output, (extra, output)
    assert not (root / "target" / "run_results.json").exists()


def test_a_password_in_a_run_time_error_is_masked_in_logs_and_artifacts(pg_server, tmp_path):
    """Item 3: an engine error that quotes the password (here a cast of it) shows **** in the text
    log, the JSON events and run_results.json (the DSN comes whole from the environment, so only
    its password part can match)."""
    dsn = pg_server.new_database()
    password = pg_server.password
    root = write_project(tmp_path / "p", {**ONE_MART, "marts/a/one.yml": f"sql: select cast('{password}' as int) as x\n"})
    for extra in ((), ("--log-format", "json")):
        run = martctl(root, "run", *extra, dsn=dsn)
        output = run.stdout + run.stderr
        assert run.returncode == 1 and "invalid input syntax for type integer" in output, output
        assert password not in output, output
        results = (root / "target" / "run_results.json").read_text()
        assert "invalid input syntax" in results and password not in results


# -- item 4: a lost run lock ---------------------------------------------------------------------
LOCK_PROJECT = {
    "config.yaml": (
        "name: lost\ndialect: postgres\ndefault_target: pg\n"
        "targets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\", threads: 1}\n"
        # the feed says when it changed by a query: the Postgres change counters are published lazily,
        # and the build right after the test's INSERT must see it
        "sources:\n  ext:\n    tables: [{name: feed, data_version: \"select count(*) from this\"}, gate]\n"
    ),
    # reading ext.gate blocks while the test holds an exclusive lock on it: the run is then
    # mid-mart, at a point the test chooses, with no sleep
    "marts/a/events.yml": (
        "materialized: incremental\nincremental: {cursor: id}\n"
        "sql: select f.id from ext.feed as f cross join ext.gate as g\n"
    ),
    "marts/a/later.yml": "sql: select 1 as x\n",
}


def _wait_for(con, sql: str, timeout: float = 60) -> None:
    """Poll until `sql` returns a row (the build reached the state it describes)."""
    import time

    deadline = time.monotonic() + timeout
    while con.execute(sql).fetchone() is None:
        assert time.monotonic() < deadline, f"never true: {sql}"
        time.sleep(0.02)


def test_a_lost_run_lock_stops_the_run_before_the_next_swap(pg_server, tmp_path):
    """Item 4: the lock's session is terminated while a.events builds; the run notices before
    swapping, rolls a.events back (its batch is not inserted), starts nothing more and exits 3.
    Then the next run inserts that batch exactly once."""
    import subprocess
    import sys

    from test_postgres import mart_rows_pg

    dsn = pg_server.new_database()
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE SCHEMA ext; CREATE TABLE ext.feed AS SELECT generate_series(1, 3) AS id;"
                    "CREATE TABLE ext.gate AS SELECT 1 AS open")
    root = write_project(tmp_path / "lost", LOCK_PROJECT)
    first = martctl(root, "build", dsn=dsn)
    assert first.returncode == 0, first.stdout + first.stderr
    (root / "marts" / "a" / "later.yml").write_text("sql: select 2 as x\n")

    with psycopg.connect(dsn, autocommit=True) as admin, psycopg.connect(dsn) as gate:
        admin.execute("INSERT INTO ext.feed VALUES (4), (5)")
        gate.execute("LOCK TABLE ext.gate IN ACCESS EXCLUSIVE MODE")  # held until gate.commit()
        env = {**__import__("os").environ, "MARTCTL_PG_DSN": dsn, "NO_COLOR": "1"}
        build = subprocess.Popen([sys.executable, "-m", "martctl", "build", "--project-dir", str(root)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(admin, "SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'ext.gate'::regclass")
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE application_name LIKE 'martctl run pid=%%'").fetchone()[0]
            assert killed == 1
            _wait_for(admin, "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory')")
            gate.commit()
            out, err = build.communicate(timeout=120)
        finally:
            build.kill()
    assert build.returncode == 3, out + err
    assert "the run lock was lost" in out + err and "Traceback" not in err, out + err
    results = {r["key"]: r for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}
    assert results["a.events"]["status"] == "error" and "rolled back" in results["a.events"]["error"]
    assert results["a.later"]["status"] == "cancelled"
    assert results["a.later"]["reason"] == "not started: the run lock was lost"
    assert sorted(mart_rows_pg(dsn, "a.events")[1]) == [(1,), (2,), (3,)]  # the batch was not inserted
    assert mart_rows_pg(dsn, "a.later")[1] == [(1,)]  # not swapped

    again = martctl(root, "build", dsn=dsn)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(mart_rows_pg(dsn, "a.events")[1]) == [(1,), (2,), (3,), (4,), (5,)]  # once
    assert mart_rows_pg(dsn, "a.later")[1] == [(2,)]


def test_a_run_taking_the_lock_over_waits_for_a_swap_that_passed_its_check(pg_server, tmp_path):
    """Item 4, the race: a run that lost its lock may have checked it a moment before losing it and
    be about to COMMIT. It holds the shared swap fence from its check to its COMMIT; the next run
    takes the lock, then waits for that fence before it builds anything."""
    import threading

    from test_postgres import adapter_for

    dsn = pg_server.new_database()
    adapter = adapter_for(dsn, tmp_path)
    acquired = threading.Event()
    with psycopg.connect(dsn) as old_swap:  # the old run's worker, between its check and its COMMIT
        old_swap.execute("SELECT pg_advisory_xact_lock_shared(%s)", [adapter._fence_key])
        taker = threading.Thread(target=lambda: (adapter.acquire_lock(), acquired.set()))
        taker.start()
        with psycopg.connect(dsn, autocommit=True) as admin:
            _wait_for(admin, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        assert not acquired.is_set()  # it holds the run lock, and waits for the fence
        old_swap.commit()
    taker.join(30)
    assert acquired.is_set()
    adapter.release_lock()
    adapter.close()


def test_reserved_words_are_the_servers_own(pg_server):
    """Item 2: the committed Postgres list is what the server reserves (DuckDB: test_security.py)."""
    from martctl.project.names import POSTGRES_RESERVED

    with psycopg.connect(pg_server.dsn()) as con:
        live = con.execute("SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')").fetchall()
    assert POSTGRES_RESERVED == {row[0] for row in live}
