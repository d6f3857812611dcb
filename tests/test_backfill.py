"""Backfills: `run -s m --start A --end B` replaces exactly the rows of an incremental mart whose cursor
is in [A, B), in one transaction, on DuckDB and Postgres."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from conftest import write_project

import martctl
from martctl.cli.cmd_run import execute_command
from martctl.engine.adapters.duckdb import DuckDBAdapter
from martctl.errors import ProjectError
from tests.test_validate import cli

MART = ("materialized: incremental\nincremental: {unique_key: id, cursor: day}\n"
        "sql: select id, day, amount * :factor as amount from raw.sales\n")
FILES = {
    "marts/m/daily.yml": MART,
    "marts/m/after.yml": "sql: select sum(amount) as total from m.daily\n",
    "marts/m/whole.yml": "sql: select id from raw.sales\n",
    "marts/m/no_cursor.yml": "materialized: incremental\nincremental: {unique_key: id}\nsql: select id from raw.sales\n",
}
DUCK = ("name: b\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb, threads: 1}\n"
        "sources:\n  raw: {tables: [sales]}\nvars: {factor: 1}\n")
PG = ("name: b\ndialect: duckdb\ndefault_target: pg\n"
      "targets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\", threads: 1}\n"
      "sources:\n  raw: {tables: [sales]}\nvars: {factor: 1}\n")
# December, January (the range), February; id 4 leaves the source, id 6 arrives in January
BEFORE = [(1, "2025-12-31", 10), (2, "2026-01-01", 20), (3, "2026-01-15", 30), (4, "2026-01-31", 40), (5, "2026-02-01", 50)]
AFTER = [(1, "2025-12-31", 11), (2, "2026-01-01", 21), (3, "2026-01-15", 31), (6, "2026-01-20", 61), (5, "2026-02-01", 51)]
JANUARY = {"start": "2026-01-01", "end": "2026-02-01"}


def _load(run, rows) -> None:
    """Replace raw.sales with `rows` through `run(sql, params)` (someone else's loader)."""
    run("create schema if not exists raw", None)
    run("drop table if exists raw.sales", None)
    run("create table raw.sales (id integer, day date, amount integer)", None)
    for row in rows:
        run("insert into raw.sales values (%s, %s, %s)", list(row))


def _duck(root: Path):
    def run(sql: str, params) -> None:
        con = duckdb.connect(str(root / "wh.duckdb"))
        try:
            con.execute(sql.replace("%s", "?"), params)
        finally:
            con.close()
    return run


def _rows(fetch) -> list[tuple]:
    return [(i, str(d), a) for i, d, a in fetch("select id, day, amount from m.daily order by id")]


def _expected_after_january() -> list[tuple]:
    """December and February as first built; January as the source has it now."""
    return [(1, "2025-12-31", 10), (2, "2026-01-01", 21), (3, "2026-01-15", 31), (5, "2026-02-01", 50),
            (6, "2026-01-20", 61)]


@pytest.fixture
def duck_project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", {**FILES, "config.yaml": DUCK})
    _load(_duck(root), BEFORE)
    assert martctl.open(root).run().exit_code() == 0
    _load(_duck(root), AFTER)
    return root


def _duck_fetch(root: Path):
    def fetch(sql: str):
        con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    return fetch


def test_a_backfill_replaces_exactly_the_range_and_is_recorded(duck_project: Path):
    root = duck_project
    report = martctl.open(root).run(["m.daily"], start="2026-01-01", end="2026-02-01")
    result = report.results["m.daily"]
    assert result.status == "success" and result.incremental == "backfill" and result.rows == 3
    assert "backfill" in result.decision and "[2026-01-01, 2026-02-01)" in result.decision
    fetch = _duck_fetch(root)
    assert _rows(fetch) == _expected_after_january()
    assert report.backfill == JANUARY
    saved = json.loads((root / "target" / "run_results.json").read_text())
    assert saved["backfill"] == JANUARY and saved["results"][0]["incremental"] == "backfill"
    state = fetch("select backfill from martctl_state.runs where backfill is not null")
    assert [json.loads(r[0]) for r in state] == [JANUARY]
    assert json.loads(fetch("select backfill from martctl_state.marts where key = 'm.daily'")[0][0]) == JANUARY
    # its downstream was not selected: the next run rebuilds it, its input having changed
    again = martctl.open(root).run(["m.after"])
    assert again.results["m.after"].decision == "input m.daily changed since its last build"


def test_bounds_are_literals_cast_to_the_cursor_type(duck_project: Path, monkeypatch):
    ran = []
    monkeypatch.setattr(DuckDBAdapter, "between_statements", staticmethod(lambda index, text: ran.append(text)))
    martctl.open(duck_project).run(["m.daily"], start="2026-01-01", end="2026-02-01")
    assert "DELETE FROM m.daily WHERE day >= CAST('2026-01-01' AS DATE) AND day < CAST('2026-02-01' AS DATE)" in ran
    # a value that would break out of the literal is refused, and would stay one literal anyway
    with pytest.raises(ProjectError, match="neither a number nor a date"):
        martctl.open(duck_project).run(["m.daily"], start="2026-01-01", end="2026-02-01' or '1'='1")
    from martctl.engine import ddl

    assert ddl.in_range("day", "x' or '1'='1", "y", "DATE", "postgres").sql("postgres") == \
        "day >= CAST('x'' or ''1''=''1' AS DATE) AND day < CAST('y' AS DATE)"


def test_the_cli_dry_run_and_plan_show_the_backfill(duck_project: Path, capsys):
    assert execute_command("run", duck_project, select=["m.daily"], dry_run=True, log_format="json",
                           start="2026-01-01", end="2026-02-01") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["backfill"] == JANUARY
    statements = " ".join(shown["plan"][0]["incremental_statements"])
    # no warehouse read: the cursor's type is unknown here, the run casts to the one its table has
    assert "DELETE FROM m.daily WHERE day >= '2026-01-01' AND day < '2026-02-01'" in statements
    plan = martctl.open(duck_project).plan("run", ["m.daily"], start="2026-01-01", end="2026-02-01")
    assert plan.decisions["m.daily"].build and plan.decisions["m.daily"].reason.startswith("backfill")
    assert plan.as_dict()["backfill"] == JANUARY
    code, output = cli("plan", "--project-dir", str(duck_project), "-s", "m.daily", "--start", "2026-01-01", "--end",
                       "2026-02-01")
    assert code == 0 and "backfill of [2026-01-01, 2026-02-01)" in output and "m.daily" in output
    assert _rows(_duck_fetch(duck_project))[1] == (2, "2026-01-01", 20)  # nothing touched


@pytest.mark.parametrize("select, start, end, words", [
    (["m.whole"], "2026-01-01", "2026-02-01", ["m.whole", "incremental marts with a cursor"]),
    (["m.no_cursor"], "2026-01-01", "2026-02-01", ["m.no_cursor"]),
    (["m.daily"], "2026-01-01", None, ["both --start and --end"]),
    (["m.daily"], "2026-02-01", "2026-01-01", ["not before"]),
    (["m.daily"], "2026-01-01", "7", ["not of one kind"]),
    (["m.daily"], "yesterday", "2026-01-01", ["--start 'yesterday'"]),
])
def test_a_wrong_backfill_is_one_clear_message_and_touches_nothing(duck_project: Path, select, start, end, words):
    before = _duck_fetch(duck_project)("select count(*) from martctl_state.runs")
    with pytest.raises(ProjectError) as caught:
        martctl.open(duck_project).run(select, start=start, end=end)
    assert all(w in str(caught.value) for w in words), str(caught.value)
    assert _duck_fetch(duck_project)("select count(*) from martctl_state.runs") == before
    args = ["run", "--project-dir", str(duck_project), "-s", *select, "--start", start] + (["--end", end] if end else [])
    code, output = cli(*args)
    assert code == 2 and words[0] in output and "Traceback" not in output


def test_a_backfill_with_full_refresh_or_before_the_first_build_is_refused(tmp_path: Path):
    root = write_project(tmp_path / "p", {**FILES, "config.yaml": DUCK})
    _load(_duck(root), BEFORE)
    with pytest.raises(ProjectError, match="no table on this target yet"):
        martctl.open(root).run(["m.daily"], start="2026-01-01", end="2026-02-01")
    with pytest.raises(ProjectError, match="--full-refresh"):
        martctl.open(root).run(["m.daily"], start="2026-01-01", end="2026-02-01", full_refresh=True)


def test_a_failure_mid_backfill_keeps_the_old_rows_and_retry_backfills_again(duck_project: Path, monkeypatch):
    root = duck_project
    before = _rows(_duck_fetch(root))
    seen = []

    def fail_at_insert(index: int, text: str) -> None:
        seen.append(text.split()[0])
        if text.startswith("INSERT INTO m.daily"):  # after the range was deleted
            raise RuntimeError("planted failure mid-backfill")

    monkeypatch.setattr(DuckDBAdapter, "between_statements", staticmethod(fail_at_insert))
    report = martctl.open(root).run(["m.daily"], start="2026-01-01", end="2026-02-01")
    monkeypatch.setattr(DuckDBAdapter, "between_statements", None)
    assert report.results["m.daily"].status == "error" and "DELETE" in seen
    assert _rows(_duck_fetch(root)) == before
    retried = martctl.open(root).retry()
    assert retried.backfill == JANUARY and retried.results["m.daily"].status == "success"
    assert _rows(_duck_fetch(root)) == _expected_after_january()


def _pg_project(pg_server, tmp_path: Path, monkeypatch):
    """A new database, the project on it, and run(sql, params) / fetch(sql) there."""
    import psycopg

    dsn = pg_server.new_database()
    monkeypatch.setenv("MARTCTL_PG_DSN", dsn)

    def run(sql: str, params) -> None:
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(sql, params)

    def fetch(sql: str):
        with psycopg.connect(dsn) as con:
            return con.execute(sql).fetchall()

    return dsn, write_project(tmp_path / "p", {**FILES, "config.yaml": PG}), run, fetch


def test_postgres_backfill_replaces_the_range_and_a_failure_keeps_the_old_rows(pg_server, tmp_path: Path, monkeypatch):
    dsn, root, run, fetch = _pg_project(pg_server, tmp_path, monkeypatch)
    _load(run, BEFORE)
    assert martctl.open(root).run().exit_code() == 0
    before = _rows(fetch)
    _load(run, AFTER)
    # someone else's constraint refuses one January row: the insert fails after the delete, all rolls back
    run("alter table m.daily add constraint small check (amount < 60)", None)
    failed = martctl.open(root).run(["m.daily"], start="2026-01-01", end="2026-02-01")
    assert failed.results["m.daily"].status == "error" and "small" in failed.results["m.daily"].error
    assert _rows(fetch) == before
    run("alter table m.daily drop constraint small", None)
    report = martctl.open(root).run(["m.daily"], start="2026-01-01", end="2026-02-01")
    assert report.results["m.daily"].status == "success" and report.results["m.daily"].rows == 3
    assert _rows(fetch) == _expected_after_january()
    assert [json.loads(r[0]) for r in fetch("select backfill from martctl_state.runs where backfill is not null")] \
        == [JANUARY, JANUARY]
    with pytest.raises(ProjectError, match="m.whole"):
        martctl.open(root).run(["m.whole"], start="2026-01-01", end="2026-02-01")


def test_sigkill_mid_backfill_on_postgres_keeps_the_old_rows(pg_server, tmp_path: Path, monkeypatch):
    """Held at its DELETE (the test holds m.daily in SHARE mode: reads go on, writes wait), after the
    range's rows went into the batch table, and killed there: the old rows stay; a backfill then works."""
    import os
    import subprocess
    import sys

    from test_state_kill import kill_while_held

    dsn, root, run, fetch = _pg_project(pg_server, tmp_path, monkeypatch)

    def backfill() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "martctl", "run", "--project-dir", str(root), "-s", "m.daily",
                                 "--start", "2026-01-01", "--end", "2026-02-01"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=os.environ)

    _load(run, BEFORE)
    assert martctl.open(root).run().exit_code() == 0
    before = _rows(fetch)
    _load(run, AFTER)
    kill_while_held(dsn, "m.daily", "SHARE", backfill)
    assert _rows(fetch) == before
    done = backfill()
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, out + err
    assert _rows(fetch) == _expected_after_january()
