"""Build what is due on the real Postgres server: one database, one sequence of builds."""

from __future__ import annotations

from pathlib import Path

from conftest import write_project
from test_state import FILES, built, edit, statuses

import martctl

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


def test_postgres_new_rows_in_a_loaded_at_source_rebuild_its_readers(pg_server, tmp_path: Path, monkeypatch):
    import psycopg

    dsn = pg_server.new_database()
    monkeypatch.setenv("MARTCTL_PG_DSN", dsn)
    root = write_project(tmp_path / "p", {
        "config.yaml": CONFIG + "sources:\n  ext:\n    tables: {feed: {loaded_at: loaded}, plain: {}}\n",
        "marts/x/reads_feed.yml": "sql: select count(*) as n from ext.feed\n",
        "marts/x/reads_plain.yml": "sql: select count(*) as n from ext.plain\n",
        "marts/x/fixed.yml": "sql: select 1 as one\n",
    })
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE SCHEMA ext; CREATE TABLE ext.feed (i int, loaded timestamptz); CREATE TABLE ext.plain (i int)")
        con.execute("INSERT INTO ext.feed VALUES (1, '2026-01-01T00:00:00Z')")
    martctl.open(root).build()
    again = martctl.open(root).build()
    assert statuses(again) == {"x.reads_feed": "up to date", "x.reads_plain": "success", "x.fixed": "up to date"}
    assert "no loaded_at" in again.results["x.reads_plain"].decision
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("INSERT INTO ext.feed VALUES (2, '2026-01-02T00:00:00Z')")
    assert built(martctl.open(root).build()) == {"x.reads_feed", "x.reads_plain"}
