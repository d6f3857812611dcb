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
        assert said in output and "****" in output, output
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
