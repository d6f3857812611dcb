"""A failure between the statements of a swap or an incremental merge keeps the old version whole.

Each multi-statement change (DuckDB: a view replaced by a table, the incremental delete+insert;
Postgres: the table swap, the incremental delete+insert) runs in one transaction. These tests fail
it half-way on a real engine and check that the old version survives, and that a reader looking
while it is half done sees the old version: never none, never half.

DuckDB is failed through the adapter's `between_statements` seam; Postgres through its own
features: an event trigger or a row-less statement trigger that waits on an advisory lock the test
holds (so the test looks while the transaction is open), then raises.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import write_project

from martctl.api import Workspace
from martctl.compiler.compile import compile_project
from martctl.engine.adapters.base import get_adapter
from martctl.errors import AdapterError


class Fault(Exception):
    """Raised by a test between two statements."""


def fail(index: int, statement: str) -> None:
    raise Fault(statement)


def compiled(root: Path, **vars) -> tuple[Workspace, dict]:
    ws = Workspace(root, vars=vars)
    return ws, compile_project(ws.graph, target=ws.target).marts


def build(root: Path, key: str, **vars):
    """Compile the project with `vars` and build one mart through a fresh adapter."""
    ws, marts = compiled(root, **vars)
    adapter = get_adapter(ws.target, root)
    adapter.connect()
    try:
        return adapter.materialize(marts[key])
    finally:
        adapter.close()


# -- DuckDB ----------------------------------------------------------------------------------------
DUCK = {
    "config.yaml": "name: f\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\nvars: {version: 1, n: 10}\n",
    "marts/f/wide.yml": "materialized: view\nsql: select i, :version as version from range(100) t(i)\n",
    "marts/f/inc.yml": (
        "materialized: incremental\nincremental: {unique_key: id, cursor: updated_at}\n"
        "sql: |\n"
        "  select i as id, case when i < 10 then :version end as amount, :version as updated_at\n"
        "  from range(:n) t(i)\n"
    ),
}


def duck_rows(root: Path, relation: str) -> list[tuple]:
    """What a reader in its own connection sees now (same process: DuckDB shares the database)."""
    con = duckdb.connect(str(root / "wh.duckdb"))
    try:
        return con.execute(f"select * from {relation} order by all").fetchall()
    finally:
        con.close()


def duck_kind(root: Path, relation: str) -> list[tuple]:
    schema, name = relation.split(".")
    con = duckdb.connect(str(root / "wh.duckdb"))
    try:
        return con.execute("select table_name, table_type from information_schema.tables "
                           "where table_schema = ? and table_name like ? || '%' order by all", [schema, name]).fetchall()
    finally:
        con.close()


def faulty_build(root: Path, key: str, fail_at: int | None, **vars) -> list[tuple[int, str, list]]:
    """Build `key` with a reader looking between every two statements; raise Fault before statement
    `fail_at` (None: let it finish). Returns (index, statement, rows seen) for each pause."""
    ws, marts = compiled(root, **vars)
    adapter = get_adapter(ws.target, root)
    seen: list[tuple[int, str, list]] = []
    relation = ".".join(marts[key].relation)

    def pause(index: int, statement: str) -> None:
        seen.append((index, statement, duck_rows(root, relation)))
        if index == fail_at:
            raise Fault(statement)

    adapter.between_statements = pause
    adapter.connect()
    try:
        adapter.materialize(marts[key])
    finally:
        adapter.close()
    return seen


@pytest.fixture
def duck_project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "duck", DUCK)
    build(root, "f.wide")
    build(root, "f.inc")
    return root


def test_duckdb_view_replaced_by_a_table_fails_half_way_and_keeps_the_view(duck_project: Path):
    """create aside -> drop view -> rename: failed before the drop and before the rename."""
    root = duck_project
    old = duck_rows(root, "f.wide")
    assert len(old) == 100 and {r[1] for r in old} == {1}
    (root / "marts/f/wide.yml").write_text(DUCK["marts/f/wide.yml"].replace("view", "table"))
    for fail_at in (1, 2):
        with pytest.raises(Fault):
            faulty_build(root, "f.wide", fail_at, version=2)
        assert duck_rows(root, "f.wide") == old
        assert duck_kind(root, "f.wide") == [("wide", "VIEW")]  # no aside table left behind
    seen = faulty_build(root, "f.wide", None, version=2)
    assert [(i, s.split()[0]) for i, s, _ in seen] == [(1, "DROP"), (2, "ALTER")]
    assert all(rows == old for _, _, rows in seen)  # a reader mid-swap sees the old version whole
    assert {r[1] for r in duck_rows(root, "f.wide")} == {2} and duck_kind(root, "f.wide") == [("wide", "BASE TABLE")]


def test_duckdb_incremental_merge_fails_half_way_and_keeps_the_old_rows(duck_project: Path):
    """create batch -> delete the rows it replaces -> insert -> drop batch, failed at each step."""
    root = duck_project
    old = duck_rows(root, "f.inc")
    assert len(old) == 10
    for fail_at in (1, 2, 3):
        with pytest.raises(Fault):
            faulty_build(root, "f.inc", fail_at, version=2, n=12)
        assert duck_rows(root, "f.inc") == old
        assert duck_kind(root, "f.inc") == [("inc", "BASE TABLE")]  # no batch table left behind
    seen = faulty_build(root, "f.inc", None, version=2, n=12)
    assert [s.split()[0] for _, s, _ in seen] == ["DELETE", "INSERT", "DROP"]
    assert all(rows == old for _, _, rows in seen)  # after the delete, before the insert: still all old rows
    assert duck_rows(root, "f.inc") == [(i, 2 if i < 10 else None, 2) for i in range(12)]


def test_duckdb_insert_refused_by_the_engine_keeps_the_deleted_rows(duck_project: Path):
    """No seam: a NOT NULL constraint makes the engine refuse the insert that follows the delete."""
    root = duck_project
    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute("alter table f.inc alter column amount set not null")
    con.close()
    old = duck_rows(root, "f.inc")
    with pytest.raises(AdapterError, match="NOT NULL constraint failed"):
        build(root, "f.inc", version=2, n=12)  # ids 10, 11 have no amount
    assert duck_rows(root, "f.inc") == old
    assert duck_kind(root, "f.inc") == [("inc", "BASE TABLE")]


def test_duckdb_adapter_is_usable_after_a_fault_mid_transaction(duck_project: Path):
    """A non-engine exception mid-way rolls back too: the same thread's next build starts clean."""
    root = duck_project
    ws, marts = compiled(root, version=2, n=12)
    adapter = get_adapter(ws.target, root)
    adapter.between_statements = fail
    adapter.connect()
    try:
        with pytest.raises(Fault):
            adapter.materialize(marts["f.inc"])
        adapter.between_statements = None
        assert adapter.materialize(marts["f.inc"]) == 12
    finally:
        adapter.close()
    assert len(duck_rows(root, "f.inc")) == 12


# -- Postgres --------------------------------------------------------------------------------------
PAUSE_KEY = 7_000_001  # the advisory lock the injected triggers wait on while the test looks

PG_MARTS = {
    "marts/f/t.yml": "materialized: table\nsql: select g as id, :version as version from generate_series(1, 50) as g\n",
    "marts/f/shown.yml": "materialized: view\nsql: select id, version from f.t where id <= 10\n",
    "marts/f/inc.yml": (
        "materialized: incremental\nincremental: {unique_key: id, cursor: updated_at}\n"
        "sql: select g as id, :version as amount, :version as updated_at from generate_series(1, :n) as g\n"
    ),
}

PAUSE_THEN_FAIL = f"""
CREATE FUNCTION pause_then_fail() RETURNS {{returns}} LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({PAUSE_KEY});
  RAISE EXCEPTION 'injected fault';
END $$
"""


@pytest.fixture
def pg_project(pg_server, tmp_path: Path):
    """The project built once at version 1 on a fresh database; (root, dsn)."""
    dsn = pg_server.new_database("faults")
    config = f'name: f\ndialect: postgres\ntargets:\n  pg: {{type: postgres, dsn: "{dsn}"}}\nvars: {{version: 1, n: 10}}\n'
    root = write_project(tmp_path / "pg", {"config.yaml": config, **PG_MARTS})
    for key in ("f.t", "f.shown", "f.inc"):
        build(root, key)
    return root, dsn


def pg_rows(con, relation: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {relation} ORDER BY 1").fetchall()


def wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def paused_build(root: Path, dsn: str, key: str, look, **vars) -> AdapterError:
    """Build `key` in a thread while the test holds PAUSE_KEY; once the build waits on it (an
    injected trigger runs), call look(); then let the trigger raise. Returns the build's error."""
    import psycopg

    errors: list[BaseException] = []

    def run() -> None:
        try:
            build(root, key, **vars)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    with psycopg.connect(dsn, autocommit=True) as control:
        control.execute("SELECT pg_advisory_lock(%s)", [PAUSE_KEY])
        worker = threading.Thread(target=run)
        worker.start()
        waiting = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                   "AND objid = %s AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        wait_until(lambda: not worker.is_alive() or control.execute(waiting, [PAUSE_KEY]).fetchone()[0] == 1,
                   "the build to reach the injected trigger")
        try:
            look()
        finally:
            control.execute("SELECT pg_advisory_unlock(%s)", [PAUSE_KEY])
            worker.join(60)
    assert not worker.is_alive() and len(errors) == 1 and isinstance(errors[0], AdapterError), errors
    return errors[0]


def test_postgres_table_swap_fails_after_the_drop_and_keeps_the_table_and_its_view(pg_project):
    """An event trigger fails the rename that follows the DROP ... CASCADE: the old table and the
    view on it survive, and a reader that came while the swap was half done gets the old rows."""
    import psycopg

    root, dsn = pg_project
    with psycopg.connect(dsn, autocommit=True) as con:
        old_table, old_view = pg_rows(con, "f.t"), pg_rows(con, "f.shown")
        con.execute(PAUSE_THEN_FAIL.format(returns="event_trigger"))
        con.execute("CREATE EVENT TRIGGER fail_rename ON ddl_command_start WHEN TAG IN ('ALTER TABLE') "
                    "EXECUTE FUNCTION pause_then_fail()")
    read: list = []

    def reader() -> None:
        with psycopg.connect(dsn, autocommit=True) as con:
            try:
                read.append(pg_rows(con, "f.t"))
            except psycopg.Error as exc:
                read.append(exc)

    readers = [threading.Thread(target=reader)]

    def look() -> None:  # the old table is dropped inside the open transaction: a reader waits
        readers[0].start()
        blocked = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT * FROM f.t %'"
        with psycopg.connect(dsn, autocommit=True) as con:
            wait_until(lambda: read or con.execute(blocked).fetchone()[0] == 1, "the reader to wait for the swap")

    error = paused_build(root, dsn, "f.t", look, version=2)
    readers[0].join(60)
    assert "injected fault" in str(error)
    assert read == [old_table]  # it waited, then read the old version: never "relation does not exist"
    with psycopg.connect(dsn, autocommit=True) as con:
        assert pg_rows(con, "f.t") == old_table and pg_rows(con, "f.shown") == old_view
        assert con.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%%martctl%%'").fetchone()[0] == 0
        con.execute("DROP EVENT TRIGGER fail_rename")
    build(root, "f.t", version=2)  # without the fault the same swap goes through, the view kept
    with psycopg.connect(dsn, autocommit=True) as con:
        assert {r[1] for r in pg_rows(con, "f.t")} == {2} and {r[1] for r in pg_rows(con, "f.shown")} == {2}


def test_postgres_incremental_merge_fails_after_the_delete_and_keeps_the_old_rows(pg_project):
    """A statement trigger fails the INSERT that follows the DELETE of the rows it replaces: a
    reader in between sees every old row, and they all survive."""
    import psycopg

    root, dsn = pg_project
    with psycopg.connect(dsn, autocommit=True) as con:
        old = pg_rows(con, "f.inc")
        assert len(old) == 10
        con.execute(PAUSE_THEN_FAIL.format(returns="trigger"))
        con.execute("CREATE TRIGGER fail_insert BEFORE INSERT ON f.inc FOR EACH STATEMENT EXECUTE FUNCTION pause_then_fail()")
    seen: list = []

    def look() -> None:  # the DELETE has run inside the open transaction; readers are not blocked
        with psycopg.connect(dsn, autocommit=True) as con:
            seen.append(pg_rows(con, "f.inc"))

    error = paused_build(root, dsn, "f.inc", look, version=2, n=12)
    assert "injected fault" in str(error)
    assert seen == [old]
    with psycopg.connect(dsn, autocommit=True) as con:
        assert pg_rows(con, "f.inc") == old
        assert con.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%%martctl%%'").fetchone()[0] == 0
        con.execute("DROP TRIGGER fail_insert ON f.inc")
    build(root, "f.inc", version=2, n=12)
    with psycopg.connect(dsn, autocommit=True) as con:
        assert pg_rows(con, "f.inc") == [(i, 2, 2) for i in range(1, 13)]


def test_postgres_errors_are_one_line_without_the_statement_echo_or_caret(pg_project):
    """The server's "LINE 1: ..." echo and its "   ^" pointer line are not part of the message."""
    root, _ = pg_project
    ws, _ = compiled(root)
    adapter = get_adapter(ws.target, root)
    adapter.connect()
    try:
        for sql, said in [("SELECT a,, b", 'syntax error at or near ","'), ("SELECT nope FROM f.t", 'column "nope" does not exist')]:
            with pytest.raises(AdapterError) as caught:
                adapter.query(sql)
            assert str(caught.value) == f"postgres target 'pg': query failed: {said}"
    finally:
        adapter.close()
