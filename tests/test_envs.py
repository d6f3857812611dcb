"""Environments on DuckDB: a dev build builds only what changed and reads prod's versions for the rest,
promote and rollback re-point everything at once (a reader sees all old or all new, a kill leaves prod
whole), refusals, gc, the upgrade of a warehouse built before environments, seeds.

The scenarios take a `Warehouse` (how a test reads the engine) so tests/test_envs_pg.py runs the same
ones on Postgres. Readers and kills are placed by events: DuckDB's `between_statements` seam, Postgres
triggers that wait on an advisory lock the test holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import write_project

import martctl
from martctl.engine.adapters.base import get_adapter
from martctl.engine.adapters.duckdb import DuckDBAdapter
from martctl.errors import LockBusy

FILES = {
    "seeds/events.csv": "id,amount\n1,10\n2,20\n3,30\n",
    "marts/a/base.yml": "sql: select id, amount from raw.events\n",
    "marts/a/mid.yml": "sql: select id, amount * 2 as amount2 from a.base\n",
    "marts/a/top.yml": "materialized: view\nsql: select count(*) as n, sum(amount2) as total from a.mid\n",
    "marts/b/other.yml": ("sql: select id from raw.events where id > 1\n"
                          "columns:\n  id: {tests: [{accepted_values: [2, 3]}]}\n"),
    "marts/t/x.yml": "sql: select 1 as v\n",
    "marts/t/y.yml": "sql: select 1 as v\n",
}
DUCK_CONFIG = "name: e\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb, threads: 2}\n"
TABLES = {"a.base", "a.mid", "b.other", "t.x", "t.y", "raw.events"}  # a physical table each


class Duck:
    """How the tests read a DuckDB warehouse (a connection of their own in this process)."""

    def __init__(self, root: Path):
        self.root = root

    def rows(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.root / "wh.duckdb"))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def execute(self, sql: str) -> None:
        self.rows(sql)

    def kind(self, schema: str, name: str) -> str | None:
        found = self.rows(f"select table_type from information_schema.tables where table_schema = '{schema}' "
                          f"and table_name = '{name}'")
        return found[0][0] if found else None


def statuses(report) -> dict[str, str]:
    return {key: r.status for key, r in report.results.items()}


def built(report) -> set[str]:
    return {key for key, r in report.results.items() if r.status == "success"}


def edit(root: Path, relative: str, text: str) -> None:
    (root / relative).write_text(text, encoding="utf-8")


def pointers(wh, env: str) -> dict[str, str | None]:
    return dict(wh.rows(f"select key, physical from martctl_state.environments where env = '{env}'"))


def physical_tables(wh) -> set[str]:
    return {f"{s}.{n}" for s, n in wh.rows("select table_schema, table_name from information_schema.tables "
                                          "where table_schema like 'martctl\\_\\_%' escape '\\'")}


def tied(wh, env_suffix: str = "") -> tuple:
    return wh.rows(f"select (select v from t{env_suffix}.x), (select v from t{env_suffix}.y)")[0]


@pytest.fixture
def duck(tmp_path: Path) -> Duck:
    return Duck(write_project(tmp_path / "p", {**FILES, "config.yaml": DUCK_CONFIG}))


# -- scenarios shared with Postgres ----------------------------------------------------------------

def dev_builds_only_what_changed(wh) -> None:
    root = wh.root
    assert set(statuses(martctl.open(root).build()).values()) == {"success"}  # before environments: plain tables
    edit(root, "marts/a/mid.yml", "sql: select id, amount * 3 as amount2 from a.base\n")
    dev = martctl.open(root, env="dev").build()
    assert built(dev) == {"a.mid", "a.top"}  # the edited mart and its downstream; the rest is prod's
    assert wh.rows("select total from a__dev.top") == [(180,)] and wh.rows("select total from a.top") == [(120,)]
    prod, mine = pointers(wh, "prod"), pointers(wh, "dev")
    assert {k for k in prod if prod[k] != mine[k]} == {"a.mid"}  # every other table: prod's physical table
    assert physical_tables(wh) == {p for p in prod.values() if p} | {mine["a.mid"]}  # one copy of each, one new
    assert wh.rows("select * from a__dev.base order by id") == wh.rows("select * from a.base order by id")
    assert set(statuses(martctl.open(root, env="dev").build()).values()) == {"up to date"}
    assert built(martctl.open(root).build()) == set()  # prod's own build points at dev's tested versions
    assert wh.rows("select total from a.top") == [(180,)] and pointers(wh, "prod") == pointers(wh, "dev")


def an_edit_two_levels_up_reaches_dev(wh) -> None:
    """A mart reads a mart whose input was edited: its own SQL and its input's SQL are unchanged, but
    its rows are not, so dev builds it too (a fingerprint is its inputs' whole fingerprints, not their SQL's)."""
    root = wh.root
    martctl.open(root).build()
    edit(root, "marts/a/base.yml", "sql: select id, amount * 10 as amount from raw.events\n")
    assert built(martctl.open(root, env="dev").build()) == {"a.base", "a.mid", "a.top"}
    assert wh.rows("select total from a__dev.top") == [(1200,)] and wh.rows("select total from a.top") == [(120,)]


def promoted_view_reads_prods_layer(wh) -> None:
    """A view mart promoted from dev reads prod's names: dev's later builds do not leak into prod."""
    root = wh.root
    martctl.open(root).build()
    edit(root, "marts/a/mid.yml", "sql: select id, amount * 3 as amount2 from a.base\n")
    martctl.open(root, env="dev").build()
    assert martctl.open(root).promote("dev").exit_code() == 0
    assert wh.rows("select total from a.top") == [(180,)]
    edit(root, "marts/a/mid.yml", "sql: select id, amount * 4 as amount2 from a.base\n")
    assert built(martctl.open(root, env="dev").build()) == {"a.mid", "a.top"}
    assert wh.rows("select total from a__dev.top") == [(240,)] and wh.rows("select total from a.top") == [(180,)]


def promote_a_renamed_column(wh) -> None:
    """dev renames a column a view mart reads: both move together (Postgres: the view that depends on
    the old column is not recreated from its old text but replaced by dev's)."""
    root = wh.root
    martctl.open(root).build()
    edit(root, "marts/a/mid.yml", "sql: select id, amount * 3 as tripled from a.base\n")
    edit(root, "marts/a/top.yml", "materialized: view\nsql: select count(*) as n, sum(tripled) as total from a.mid\n")
    martctl.open(root, env="dev").build()
    report = martctl.open(root).promote("dev")
    assert report.exit_code() == 0 and {c.key for c in report.changes} == {"a.mid", "a.top"}
    assert wh.rows("select total from a.top") == [(180,)]
    assert martctl.open(root).rollback().exit_code() == 0 and wh.rows("select total from a.top") == [(120,)]


def upgrade_in_place(wh) -> None:
    """A warehouse of plain tables: its data moves behind views, nothing rebuilt, nothing lost."""
    root = wh.root
    martctl.open(root).build()
    wh.execute("insert into a.base values (99, 990)")  # rows only the warehouse has: they must survive
    assert wh.kind("a", "base") == "BASE TABLE"
    report = martctl.open(root, env="dev").build()
    assert built(report) == set()
    assert wh.kind("a", "base") == "VIEW" and wh.kind("a__dev", "base") == "VIEW"
    assert wh.rows("select count(*), max(id) from a.base") == [(4, 99)]
    assert wh.rows("select count(*) from a__dev.base") == [(4,)]
    assert wh.rows("select total from a.top") == [(120,)]  # the view mart over a.mid still reads
    assert set(statuses(martctl.open(root).build()).values()) == {"up to date"}


def seeds_in_dev_leave_prods_alone(wh) -> None:
    root = wh.root
    martctl.open(root).build()
    edit(root, "seeds/events.csv", "id,amount\n1,10\n2,20\n3,30\n4,40\n")
    dev = martctl.open(root, env="dev").build()
    assert {"raw.events", "a.base", "a.mid", "a.top", "b.other"} <= built(dev)
    assert wh.rows("select count(*) from raw.events") == [(3,)] and wh.rows("select count(*) from raw__dev.events") == [(4,)]
    assert wh.rows("select total from a.top") == [(120,)] and wh.rows("select total from a__dev.top") == [(200,)]


def dev_changes_the_tied_pair(wh) -> dict:
    """prod built (x = y = 1), then dev builds x = y = 2; prod's pointers."""
    martctl.open(wh.root).build()
    edit(wh.root, "marts/t/x.yml", "sql: select 2 as v\n")
    edit(wh.root, "marts/t/y.yml", "sql: select 2 as v\n")
    assert built(martctl.open(wh.root, env="dev").build()) == {"t.x", "t.y"}
    assert tied(wh) == (1, 1) and tied(wh, "__dev") == (2, 2)
    return pointers(wh, "prod")


def promote_then_rollback(wh, during) -> None:
    """dev changes the two tied marts; `during(expected, action)` runs the action while the engine's test looks mid-way."""
    root = wh.root
    dev_changes_the_tied_pair(wh)
    report = during((1, 1), lambda: martctl.open(root).promote("dev"))
    assert report.exit_code() == 0 and {c.key for c in report.changes} == {"t.x", "t.y"}
    assert tied(wh) == (2, 2) and pointers(wh, "prod")["t.x"] == pointers(wh, "dev")["t.x"]
    again = martctl.open(root).promote("dev")  # nothing left to move: no generation, so rollback undoes the first
    assert again.exit_code() == 0 and again.changes == [] and again.generation is None
    back = during((2, 2), lambda: martctl.open(root).rollback())
    assert {c.key for c in back.changes} == {"t.x", "t.y"} and tied(wh) == (1, 1)
    assert built(martctl.open(root).build()) == set()  # prod's records came back too: the edit's versions are dev's
    assert tied(wh) == (2, 2)  # ... so prod's own build points at them (built and tested in dev), nothing rebuilt


def refusals(wh) -> None:
    root = wh.root
    martctl.open(root).build()
    edit(root, "marts/b/other.yml", FILES["marts/b/other.yml"].replace("id > 1", "id > 0"))  # id 1: test fails
    assert statuses(martctl.open(root, env="dev").build())["b.other"] == "success"
    refused = martctl.open(root).promote("dev")
    assert refused.exit_code() == 1 and "tests of dev failed" in refused.refused and "b.other" in refused.refused
    assert wh.rows("select count(*) from b.other") == [(2,)]  # nothing moved
    edit(root, "marts/b/other.yml", FILES["marts/b/other.yml"])
    edit(root, "marts/t/x.yml", "sql: select 3 as v\n")
    martctl.open(root, env="dev").build()  # dev: x = 3, built from prod's current generation
    edit(root, "marts/t/x.yml", "sql: select 5 as v\n")
    martctl.open(root, env="hotfix").build()
    assert martctl.open(root).promote("hotfix").exit_code() == 0  # prod moved (x = 5) after dev was built
    clash = martctl.open(root).promote("dev")
    assert clash.exit_code() == 1 and "prod changed since dev" in clash.refused and "t.x" in clash.refused
    assert tied(wh) == (5, 1)
    forced = martctl.open(root).promote("dev", force=True)
    assert forced.exit_code() == 0 and forced.forced and tied(wh) == (3, 1)


def gc_keeps_what_is_used(wh) -> None:
    root = wh.root
    martctl.open(root).build()
    for version in (2, 3):
        edit(root, "marts/t/x.yml", f"sql: select {version} as v\n")
        martctl.open(root, env="dev").build()
    used = set(pointers(wh, "prod").values()) | set(pointers(wh, "dev").values())
    kept = martctl.open(root).gc(7 * 86400)  # x's version 2 was dev's within the window: kept
    assert kept.dropped == []
    collected = martctl.open(root).gc(0)
    assert len(collected.dropped) == 1 and "t.x__" in collected.dropped[0] and collected.dropped[0] not in used
    assert collected.freed_bytes is not None and collected.freed_bytes >= 0
    assert physical_tables(wh) == {p for p in used if p}
    for env_suffix in ("", "__dev"):  # every environment still reads every mart
        assert wh.rows(f"select count(*) from a{env_suffix}.top") == [(1,)]
    assert tied(wh) == (1, 1) and tied(wh, "__dev") == (3, 1)


def second_promote_exits_3(wh) -> None:
    root = wh.root
    martctl.open(root).build()
    edit(root, "marts/t/x.yml", "sql: select 2 as v\n")
    martctl.open(root, env="dev").build()
    ws = martctl.open(root)
    holder = get_adapter(ws.target, root)
    holder.acquire_lock(0, {"command": "martctl promote dev"})
    try:
        with pytest.raises(LockBusy):
            ws.promote("dev")
        other = subprocess.run([sys.executable, "-m", "martctl", "promote", "dev", "--project-dir", str(root)],
                               capture_output=True, text=True, timeout=120, env={**os.environ})
        assert other.returncode == 3, other.stderr
    finally:
        holder.release_lock()
    assert tied(wh) == (1, 1)
    assert martctl.open(root).promote("dev").exit_code() == 0 and tied(wh) == (2, 1)


INCREMENTAL = {"marts/i/inc.yml": "materialized: incremental\nincremental: {cursor: id}\nsql: select id from ext.feed\n"}
FEED = "sources:\n  ext:\n    tables: [feed]\n"


def incremental_copied_first(wh) -> None:
    """A physical table another environment reads is never changed: dev's new rows go to a copy."""
    root = wh.root
    wh.execute("create schema ext")
    wh.execute("create table ext.feed as select 1 as id")
    martctl.open(root, env="dev").build()  # environments on from the start
    assert martctl.open(root).promote("dev").exit_code() == 0
    assert pointers(wh, "prod")["i.inc"] == pointers(wh, "dev")["i.inc"]
    wh.execute("insert into ext.feed values (2)")
    report = martctl.open(root, env="dev").build()  # the source cannot tell: due; its version is prod's too
    assert built(report) == {"i.inc"} and report.results["i.inc"].rows == 1
    assert wh.rows("select id from i__dev.inc order by id") == [(1,), (2,)]
    assert wh.rows("select id from i.inc order by id") == [(1,)]  # prod's table was never touched
    assert pointers(wh, "prod")["i.inc"] != pointers(wh, "dev")["i.inc"]


# -- DuckDB ----------------------------------------------------------------------------------------

def test_dev_builds_only_what_changed_and_reads_prods_versions(duck):
    dev_builds_only_what_changed(duck)


def test_an_edit_two_levels_up_reaches_dev(duck):
    an_edit_two_levels_up_reaches_dev(duck)


def test_an_old_warehouse_upgrades_in_place_and_a_reader_never_misses_a_mart(duck, monkeypatch):
    con = duckdb.connect(str(duck.root / "wh.duckdb"))  # a reader in this process, its own connection
    seen: list = []

    def look(index: int, text: str) -> None:
        seen.append(con.execute("select count(*) from a.base").fetchone()[0])

    martctl.open(duck.root).build()
    con.execute("insert into a.base values (99, 990)")
    monkeypatch.setattr(DuckDBAdapter, "between_statements", staticmethod(look))
    martctl.open(duck.root, env="dev").build()
    monkeypatch.setattr(DuckDBAdapter, "between_statements", None)
    con.close()
    assert seen and set(seen) == {4}  # mid-upgrade, between every two statements: the whole table
    assert duck.kind("a", "base") == "VIEW" and duck.rows("select count(*) from a.base") == [(4,)]


def test_a_promoted_view_mart_reads_prods_layer(duck):
    promoted_view_reads_prods_layer(duck)


def test_promote_a_renamed_column_and_the_view_that_reads_it(duck):
    promote_a_renamed_column(duck)


def test_upgrade_keeps_the_rows_only_the_warehouse_has(duck):
    upgrade_in_place(duck)


def test_seeds_in_dev_never_touch_prods(duck):
    seeds_in_dev_leave_prods_alone(duck)


def test_promote_and_rollback_are_all_or_nothing_for_a_reader_between_every_two_statements(duck, monkeypatch):
    def during(expected, action):
        seen: list = []
        reader = duckdb.connect(str(duck.root / "wh.duckdb"))
        monkeypatch.setattr(DuckDBAdapter, "between_statements", staticmethod(lambda i, t: seen.append(
            reader.execute("select (select v from t.x), (select v from t.y)").fetchone())))
        try:
            result = action()
        finally:
            monkeypatch.setattr(DuckDBAdapter, "between_statements", None)
            reader.close()
        assert len(seen) >= 4 and set(seen) == {expected}, seen  # the old pair, at every step; never a mix
        return result

    promote_then_rollback(duck, during)


def test_promote_refuses_failed_tests_and_conflicts_unless_forced(duck):
    refusals(duck)


def test_gc_never_drops_a_version_in_use(duck):
    gc_keeps_what_is_used(duck)


def _promote_killed_at(root: Path, statement: int) -> subprocess.CompletedProcess:
    """`martctl promote dev` in a process that SIGKILLs itself before statement N of the promote's transaction."""
    code = ("import os, signal, sys\n"
            "from martctl.engine.adapters.duckdb import DuckDBAdapter\n"
            "def kill(index, text):\n"
            f"    if index == {statement}:\n"
            "        os.kill(os.getpid(), signal.SIGKILL)\n"
            "DuckDBAdapter.between_statements = staticmethod(kill)\n"
            "from martctl.cli.app import main\n"
            f"sys.argv = ['martctl', 'promote', 'dev', '--project-dir', {str(root)!r}]\n"
            "main()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_sigkill_during_promote_leaves_prod_entirely_old_then_promote_succeeds(duck):
    root = duck.root
    before = dev_changes_the_tied_pair(duck)
    for statement in (1, 2, 4):  # after the first view, after the second, while writing the pointers
        killed = _promote_killed_at(root, statement)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert tied(duck) == (1, 1) and pointers(duck, "prod") == before
    assert martctl.open(root).promote("dev").exit_code() == 0 and tied(duck) == (2, 2)


def test_a_second_promote_while_one_holds_the_lock_exits_3(duck):
    second_promote_exits_3(duck)


def test_an_incremental_version_prod_reads_is_copied_before_dev_adds_rows(tmp_path: Path):
    incremental_copied_first(Duck(write_project(tmp_path / "p", {**INCREMENTAL, "config.yaml": DUCK_CONFIG + FEED})))


def test_environment_names_are_checked(duck):
    from martctl.errors import ProjectError

    for bad in ("Dev", "a b", "x__y", "1st", ""):
        with pytest.raises(ProjectError):
            martctl.open(duck.root, env=bad)
    run = subprocess.run([sys.executable, "-m", "martctl", "rollback", "--project-dir", str(duck.root)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr


def test_a_failure_between_a_dev_build_and_its_repoint_keeps_the_old_version(duck, monkeypatch):
    root = duck.root
    martctl.open(root).build()
    martctl.open(root, env="dev").build()
    edit(root, "marts/t/x.yml", "sql: select 2 as v\n")

    def fail(index: int, text: str) -> None:
        if "environments" in text and "'t.x'" in text:
            raise RuntimeError("killed between the physical table and the view")

    monkeypatch.setattr(DuckDBAdapter, "between_statements", staticmethod(fail))
    report = martctl.open(root, env="dev").build()
    monkeypatch.setattr(DuckDBAdapter, "between_statements", None)
    assert statuses(report)["t.x"] == "error"
    assert tied(duck, "__dev") == (1, 1) and pointers(duck, "dev")["t.x"] == pointers(duck, "prod")["t.x"]
    assert built(martctl.open(root, env="dev").build()) == {"t.x"} and tied(duck, "__dev") == (2, 1)
    assert tied(duck) == (1, 1)
