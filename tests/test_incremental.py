"""Incremental marts: fed in several batches, they equal the same mart built with --full-refresh."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
from conftest import write_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from martctl.cli.cmd_run import execute_command

CONFIG = """\
name: inc
dialect: duckdb
targets:
  local: {type: duckdb, path: wh.duckdb, threads: 2}
sources:
  raw: {tables: [events]}
"""

MARTS = {
    # merge on a key, new rows by cursor
    "marts/m/by_cursor.yml": "materialized: incremental\nincremental: {unique_key: id, cursor: updated_at}\n"
                             "sql: select id, value * 2 as doubled, updated_at from raw.events\n",
    # merge on a two-column key, new rows by a filter comparing to the current table
    "marts/m/by_filter.yml": "materialized: incremental\n"
                             "incremental:\n  unique_key: [id, bucket]\n"
                             "  filter: updated_at > (select coalesce(max(updated_at), -1) from this)\n"
                             "sql: select id, id % 3 as bucket, value, updated_at from raw.events\n",
    # append-only log of every version seen
    "marts/m/log.yml": "materialized: incremental\nincremental: {strategy: append, cursor: updated_at}\n"
                       "sql: select id, value, updated_at from raw.events_log\n",
}

batches = st.lists(st.lists(st.tuples(st.integers(0, 15), st.integers(-5, 5)), max_size=8), min_size=1, max_size=5)


def _feed(db: Path, batch: list[tuple[int, int]], stamp: int) -> None:
    """Upsert the batch into raw.events (one row per id) and append it to raw.events_log."""
    con = duckdb.connect(str(db))
    try:
        con.execute("create schema if not exists raw")
        con.execute("create table if not exists raw.events (id integer, value integer, updated_at integer)")
        con.execute("create table if not exists raw.events_log (id integer, value integer, updated_at integer)")
        latest = dict(batch)  # the last value of an id in the batch wins
        for id_, value in latest.items():
            con.execute("delete from raw.events where id = ?", [id_])
            con.execute("insert into raw.events values (?, ?, ?)", [id_, value, stamp])
            con.execute("insert into raw.events_log values (?, ?, ?)", [id_, value, stamp])
    finally:
        con.close()


def _snapshot(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(f"select * from m.{name} order by all").fetchall() for name in ("by_cursor", "by_filter", "log")}
    finally:
        con.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches)
def test_batches_equal_full_refresh(feed):
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp), {"config.yaml": CONFIG.replace("[events]", "[events, events_log]"), **MARTS})
        db = root / "wh.duckdb"
        for stamp, batch in enumerate(feed, 1):
            _feed(db, batch, stamp)
            assert execute_command("run", root, quiet=True) == 0
        incremental = _snapshot(db)
        assert execute_command("run", root, quiet=True, full_refresh=True) == 0
        assert incremental == _snapshot(db)


def test_first_run_builds_whole_then_only_new_rows(tmp_path: Path):
    root = write_project(tmp_path / "p", {"config.yaml": CONFIG.replace("[events]", "[events, events_log]"), **MARTS})
    db = root / "wh.duckdb"
    _feed(db, [(1, 1), (2, 2)], 1)
    assert execute_command("run", root, quiet=True) == 0
    _feed(db, [(2, 5), (3, 3)], 2)
    assert execute_command("run", root, quiet=True) == 0
    import json

    results = {r["key"]: r for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}
    assert results["m.by_cursor"]["rows"] == 2  # only the batch: id 2 (updated) and id 3
    assert _snapshot(db)["by_cursor"] == [(1, 2, 1), (2, 10, 2), (3, 6, 2)]
    assert len(_snapshot(db)["log"]) == 4
