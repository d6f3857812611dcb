"""Build what is due: the state in the warehouse, fingerprints, up-to-date marts skipped with a reason,
plan and retry, on DuckDB (Postgres: tests/test_state_pg.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import write_project
from test_test_command import plant as change  # statements run on the warehouse by someone else

import martctl

BASE = "sql: select id, amount from raw.events\n"
FILES = {
    "seeds/events.csv": "id,amount\n1,10\n2,20\n3,30\n",
    "marts/a/base.yml": BASE,
    "marts/a/mid.yml": "sql: select id, amount * 2 as amount2, cast(:bad as integer) as flag from a.base\n",
    "marts/a/top.yml": "sql: select count(*) as n, sum(amount2) as total from a.mid\n",
    "marts/a/side.yml": "materialized: view\nsql: select id from raw.events where id > 1\n",
    "marts/b/tested.yml": ("sql: select id from a.base where id <= :max_id\n"
                           "columns:\n  id: {tests: [{accepted_values: [1, 2]}]}\n"),
    "marts/b/after_tested.yml": "sql: select count(*) as n from b.tested\n",
}
CONFIG = ("name: s\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: warehouse.duckdb, threads: 2}\n"
          "vars: {bad: '1', max_id: 2}\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", {**FILES, "config.yaml": CONFIG})


def statuses(report) -> dict[str, str]:
    return {key: r.status for key, r in report.results.items()}


def built(report) -> set[str]:
    return {key for key, r in report.results.items() if r.status == "success"}


def query(root: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def edit(root: Path, relative: str, text: str) -> None:
    (root / relative).write_text(text, encoding="utf-8")


def test_nothing_changed_or_only_comments_case_and_quoting_builds_nothing(project: Path):
    first = martctl.open(project).build()
    assert set(statuses(first).values()) == {"success"}
    assert first.results["a.base"].decision == "never built"
    again = martctl.open(project).build()
    assert set(statuses(again).values()) == {"up to date"}, statuses(again)
    assert again.exit_code() == 0
    # same tree: a comment, keyword case, whitespace and quotes that change nothing
    edit(project, "marts/a/base.yml", 'sql: |\n  -- the events\n  SELECT "id",\n         amount  FROM raw.events /* all */\n')
    assert set(statuses(martctl.open(project).build()).values()) == {"up to date"}
    # the state: one row per node, with its fingerprint, rows and duration, and the run rows
    rows = dict(query(project, "select key, row_count from martctl_state.marts"))
    assert rows["a.base"] == 3 and rows["raw.events"] == 3 and rows["a.top"] == 1
    runs = query(project, "select outcome, results from martctl_state.runs order by started_at")
    assert [r[0] for r in runs] == ["success"] * 3
    assert json.loads(runs[-1][1])["a.base"] == "up to date"
    results = json.loads((project / "target" / "run_results.json").read_text())
    assert {n["status"] for n in results["results"]} == {"up to date"}
    assert results["counts"]["up to date"] == 7


def test_an_edit_mid_dag_builds_it_and_its_downstream_only(project: Path):
    martctl.open(project).build()
    edit(project, "marts/a/mid.yml", "sql: select id, amount * 3 as amount2, cast(:bad as integer) as flag from a.base\n")
    plan = martctl.open(project).plan()
    assert plan.to_build == ["a.mid", "a.top"]
    assert "amount * 3" in plan.decisions["a.mid"].diff and "amount * 2" in plan.decisions["a.mid"].diff
    report = martctl.open(project).build()
    assert built(report) == {"a.mid", "a.top"}
    assert report.results["a.mid"].decision == "SQL changed (columns changed: amount2)"
    assert report.results["a.top"].decision == "input a.mid is built in this run"
    assert query(project, "select total from a.top") == [(180,)]
    # a var the SQL reads is part of its fingerprint; one it does not read is not
    assert built(martctl.open(project, vars={"bad": "2"}).build()) == {"a.mid"}  # a.top does not read flag
    assert built(martctl.open(project, vars={"bad": "2", "unused": 5}).build()) == set()


def test_seed_content_and_settings_changes_rebuild_what_reads_them(project: Path):
    martctl.open(project).build()
    edit(project, "seeds/events.csv", "id,amount\n1,10\n2,20\n3,30\n4,40\n")
    report = martctl.open(project).build()
    assert report.results["raw.events"].decision == "seed file changed"
    assert built(report) == {"raw.events", "a.base", "a.mid", "a.top", "a.side", "b.tested", "b.after_tested"}
    edit(project, "marts/a/top.yml", "materialized: view\n" + FILES["marts/a/top.yml"])
    report = martctl.open(project).build()
    assert built(report) == {"a.top"} and report.results["a.top"].decision.startswith("settings changed")


def test_force_full_refresh_and_a_dropped_table_build_again(project: Path):
    martctl.open(project).build()
    assert len(built(martctl.open(project).build(force=True))) == 7
    assert len(built(martctl.open(project).run(full_refresh=True))) == 6
    change(project, "drop table a.top")
    report = martctl.open(project).build()
    assert built(report) == {"a.top"} and "missing" in report.results["a.top"].decision


def test_a_rebuild_replaces_the_state_row_of_each_mart(project: Path):
    martctl.open(project).build()
    first = dict(query(project, "select key, version from martctl_state.marts"))
    edit(project, "seeds/events.csv", "id,amount\n1,10\n2,20\n3,30\n4,40\n")
    report = martctl.open(project).build()
    rows = query(project, "select key, version, row_count, status from martctl_state.marts")
    assert sorted(k for k, *_ in rows) == sorted(first)  # one row per node: replaced, not added
    now = {k: (version, count, status) for k, version, count, status in rows}
    assert all(now[k][0] != first[k] and now[k][0].startswith(report.run_id) for k in built(report))
    assert now["a.base"][1] == 4 and now["raw.events"][1] == 4 and now["b.tested"][2] == "ok"


def test_a_failed_test_is_built_again_until_it_passes(project: Path):
    first = martctl.open(project, vars={"max_id": 3}).build()  # id 3 is not an accepted value
    assert first.results["b.tested"].test_failure and first.results["b.after_tested"].status == "skipped"
    again = martctl.open(project, vars={"max_id": 3}).build()
    assert again.results["b.tested"].decision == "its last build's tests failed"
    assert again.results["b.after_tested"].status == "skipped"


def test_retry_builds_exactly_what_failed_and_was_skipped(project: Path):
    failed = martctl.open(project, vars={"bad": "x"}).build()  # cast('x' as integer) fails on a.mid
    assert statuses(failed)["a.mid"] == "error" and statuses(failed)["a.top"] == "skipped"
    retried = martctl.open(project).retry()  # fixed: a.mid and a.top, nothing else
    assert statuses(retried) == {"a.mid": "success", "a.top": "success"}
    assert martctl.open(project).retry().results == {}  # the last run succeeded: nothing to retry
    assert set(statuses(martctl.open(project).build()).values()) == {"up to date"}


def test_plan_touches_nothing_and_says_never_built(project: Path):
    plan = martctl.open(project).plan()
    assert not (project / "warehouse.duckdb").exists()
    assert {d.reason for d in plan.decisions.values()} == {"never built"}
    done = subprocess.run([sys.executable, "-m", "martctl", "plan", "--json", "--project-dir", str(project)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["to_build"] == 7 and data["state_found"] is False
    assert not (project / "warehouse.duckdb").exists()


def test_an_older_state_is_upgraded_in_place(project: Path):
    change(project, "create schema martctl_state", "create table martctl_state.marts (key text, fingerprint text, version text)", "insert into martctl_state.marts values ('a.base', 'old', 'v0')")
    report = martctl.open(project).build()
    assert len(built(report)) == 7  # the old record's fingerprint matches nothing: rebuilt
    columns = {r[0] for r in query(project, "select column_name from information_schema.columns "
                                            "where table_schema = 'martctl_state' and table_name = 'marts'")}
    assert {"sql", "status", "inputs", "row_count", "built_at"} <= columns
    assert set(statuses(martctl.open(project).build()).values()) == {"up to date"}


def test_a_source_that_cannot_tell_counts_as_changed(tmp_path: Path):
    root = write_project(tmp_path / "src", {
        "config.yaml": CONFIG + "sources:\n  ext:\n    tables: [feed]\n",
        "marts/x/reads_feed.yml": "sql: select count(*) as n from ext.feed\n",
        "marts/x/plain.yml": "sql: select 1 as one\n",
    })
    change(root, "create schema ext; create table ext.feed as select 1 as i")
    martctl.open(root).build()
    report = martctl.open(root).build()
    assert statuses(report) == {"x.plain": "up to date", "x.reads_feed": "success"}
    assert "cannot tell" in report.results["x.reads_feed"].decision
    # DuckDB keeps no change counters; martctl plan says the source counts as changed on every run
    plan = martctl.open(root).plan()
    assert plan.decisions["x.reads_feed"].build and "cannot tell" in plan.decisions["x.reads_feed"].reason
    assert plan.sources["ext.feed"].startswith("cannot tell") and "duckdb keeps no change counters" in plan.sources["ext.feed"]
    done = subprocess.run([sys.executable, "-m", "martctl", "plan", "--project-dir", str(root)], capture_output=True, text=True)
    assert done.returncode == 0 and "ext.feed: cannot tell" in done.stdout and "counts as changed on every run" in done.stdout
    shown = json.loads(subprocess.run([sys.executable, "-m", "martctl", "plan", "--json", "--project-dir", str(root)],
                                      capture_output=True, text=True).stdout)
    assert shown["sources"]["ext.feed"].startswith("cannot tell")


def test_new_rows_in_a_source_with_loaded_at_rebuild_its_readers_only(tmp_path: Path):
    root = write_project(tmp_path / "src", {
        "config.yaml": CONFIG + "sources:\n  ext:\n    loaded_at: loaded\n    tables: [feed, other]\n",
        "marts/x/reads_feed.yml": "sql: select count(*) as n from ext.feed\n",
        "marts/x/reads_other.yml": "sql: select count(*) as n from ext.other\n",
    })
    change(root, "create schema ext; create table ext.feed (i int, loaded timestamp); create table ext.other (loaded date)", "insert into ext.feed values (1, '2026-01-01 00:00:00')")
    martctl.open(root).build()
    assert set(statuses(martctl.open(root).build()).values()) == {"up to date"}
    change(root, "insert into ext.feed values (2, '2026-01-02 00:00:00')")
    report = martctl.open(root).build()
    assert statuses(report) == {"x.reads_feed": "success", "x.reads_other": "up to date"}
    assert "ext.feed's data changed" in report.results["x.reads_feed"].decision
    assert query(root, "select n from x.reads_feed") == [(2,)]
    change(root, "delete from ext.feed where i = 1")  # fewer rows, same max: still a change
    assert built(martctl.open(root).build()) == {"x.reads_feed"}


def test_a_daily_mart_builds_once_a_day_however_often_cron_fires(tmp_path: Path):
    from datetime import datetime, timedelta, timezone

    root = write_project(tmp_path / "sched", {
        "config.yaml": CONFIG + "sources:\n  ext:\n    tables: [feed]\nareas:\n  daily: {schedule: '@daily'}\n",
        "marts/daily/rollup.yml": "sql: select count(*) as n from ext.feed\n",
        "marts/daily/hourly.yml": "schedule: '0 * * * *'\nsql: select count(*) as n from ext.feed\n",
        "marts/live/reader.yml": "sql: select count(*) as n from ext.feed\n",
    })
    change(root, "create schema ext; create table ext.feed as select 1 as i")
    start = datetime(2026, 3, 4, 22, 50, tzinfo=timezone.utc)
    built_daily, built_hourly, reasons = [], [], {}
    for quarter in range(8):  # cron every 15 minutes, over midnight
        now = start + timedelta(minutes=15 * quarter)
        report = martctl.open(root).build(now=now)
        assert report.results["live.reader"].status == "success"  # cannot tell, no schedule: every run
        if report.results["daily.rollup"].status == "success":
            built_daily.append(f"{now:%H:%M}")
            reasons[f"{now:%H:%M}"] = report.results["daily.rollup"].decision
        if report.results["daily.hourly"].status == "success":
            built_hourly.append(f"{now:%H:%M}")
    assert built_daily == ["22:50", "00:05"]
    assert reasons["00:05"] == "due by schedule @daily (it fired at 2026-03-05 00:00 UTC)"
    assert built_hourly == ["22:50", "23:05", "00:05"]


def test_a_bad_schedule_is_one_clear_message(tmp_path: Path):
    root = write_project(tmp_path / "bad", {"config.yaml": CONFIG, "marts/a/m.yml": "schedule: '61 * * * *'\nsql: select 1 as x\n"})
    done = subprocess.run([sys.executable, "-m", "martctl", "plan", "--project-dir", str(root)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "m.yml:1" in done.stderr and "minute: '61' is outside 0-59" in done.stderr and "Traceback" not in done.stderr


def test_selector_methods_read_the_state(project: Path):
    def selected(*selectors: str) -> set[str]:
        return set(martctl.open(project, vars={"max_id": 3}).select(list(selectors))[0])

    assert selected("state:new") == set(martctl.open(project).project.marts)  # no warehouse yet
    martctl.open(project, vars={"max_id": 3}).build()  # b.tested's test fails, b.after_tested is skipped
    assert selected("state:new") == {"b.after_tested"} and selected("state:modified") == {"b.after_tested"}
    assert selected("result:fail") == {"b.tested"} and selected("result:skipped") == {"b.after_tested"}
    assert selected("result:error") == set() and "a.top" in selected("result:success")
    edit(project, "marts/a/mid.yml", "sql: select id, amount * 5 as amount2, cast(:bad as integer) as flag from a.base\n")
    assert selected("state:modified+") == {"a.mid", "a.top", "b.after_tested"}
    assert selected("state:modified,area:a") == {"a.mid"}
    with pytest.raises(martctl.errors.ProjectError, match="result:oops"):
        selected("result:oops")


def test_an_added_column_or_one_nobody_reads_does_not_cascade(project: Path):
    martctl.open(project).build()
    edit(project, "marts/a/base.yml", "sql: select id, amount, 'x' as note from raw.events\n")  # an added column
    plan = martctl.open(project).plan()
    assert plan.to_build == ["a.base"]
    assert plan.decisions["a.mid"].reason.startswith("up to date: reads none of the columns a.base's edit changed")
    report = martctl.open(project).build()
    assert built(report) == {"a.base"} and query(project, "select note from a.base limit 1") == [("x",)]
    assert set(statuses(martctl.open(project).build()).values()) == {"up to date"}  # the carried state holds
    edit(project, "marts/a/base.yml", "sql: select id, amount, 'y' as note from raw.events\n")  # nobody reads note
    assert built(martctl.open(project).build()) == {"a.base"}
    edit(project, "marts/a/base.yml", "sql: select id, amount + 1 as amount, 'y' as note from raw.events\n")
    assert built(martctl.open(project).build()) == {"a.base", "a.mid", "a.top"}  # b.tested reads id only
    assert query(project, "select total from a.top") == [(126,)]
    edit(project, "marts/a/base.yml", "sql: select id, amount + 1 as amount, 'y' as note from raw.events where id < 3\n")
    assert len(built(martctl.open(project).build())) == 5  # fewer rows: every reader


@pytest.mark.parametrize("before, after, changed", [
    ("select id, amount from t", "select id, amount, 1 as extra from t", set()),
    ("select id, amount from t", "select id, amount * 2 as amount from t", {"amount"}),
    ("select id, amount from t", "select id from t", {"amount"}),  # removed
    ("select id, amount from t", "select id, amount from t where id > 1", None),  # rows
    ("select id, amount from t", "select id, sum(amount) as amount from t group by id", None),
    ("select id, amount from t", "select *, 1 as x from t", None),
    ("select a, count(*) as n from t group by 1", "select a, count(*) as n, 2 as k from t group by 1", None),
    ("select 1 as x from t", "select 1 as x, count(*) as n from t", None),  # an aggregate collapses the rows
])
def test_changed_columns_is_sure_or_says_it_is_not(before, after, changed):
    from martctl.compiler.columnchange import changed_columns

    assert changed_columns(before, after, "duckdb") == changed


def test_freshness_reports_ages_and_a_build_skips_marts_over_a_stale_source(tmp_path: Path):
    from datetime import datetime, timezone

    root = write_project(tmp_path / "fresh", {
        "config.yaml": CONFIG + "sources:\n  ext:\n    freshness: {loaded_at: loaded, warn_after: 12h, error_after: 1d}\n"
                                "    tables: [feed, other]\n  quiet:\n    tables: [plain]\n",
        "marts/x/reads_feed.yml": "sql: select count(*) as n from ext.feed\n",
        "marts/x/reads_other.yml": "sql: select count(*) as n from ext.other\n",
    })
    change(root, "create schema ext", "create table ext.feed (loaded timestamp)", "create table ext.other (loaded timestamp)",
           "insert into ext.feed values ('2026-03-04 00:00:00')", "insert into ext.other values ('2026-03-03 09:00:00')")
    now = datetime(2026, 3, 4, 6, 0, tzinfo=timezone.utc)
    found = {f.source: f for f in martctl.open(root).freshness(now=now)}
    assert (found["ext.feed"].status, found["ext.feed"].age_seconds) == ("pass", 6 * 3600)
    assert (found["ext.other"].status, found["ext.other"].age_seconds) == ("warn", 21 * 3600)
    later = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)
    assert {f.source: f.status for f in martctl.open(root).freshness(now=later)} == {"ext.feed": "pass", "ext.other": "error"}
    report = martctl.open(root).build(now=later)
    assert statuses(report) == {"x.reads_feed": "success", "x.reads_other": "skipped"}
    assert report.results["x.reads_other"].reason.startswith("skipped: source ext.other is stale")
    done = subprocess.run([sys.executable, "-m", "martctl", "freshness", "--json", "--project-dir", str(root)],
                          capture_output=True, text=True)  # the real clock: both are months old
    assert done.returncode == 1 and json.loads(done.stdout)["exit_code"] == 1, done.stderr


def test_the_canonical_sql_leaves_the_parsed_tree_as_it_was():
    import sqlglot

    from martctl.compiler.fingerprint import canonical_sql

    tree = sqlglot.parse_one('select "id", "Amount" from "raw"."events" -- note', read="duckdb")
    before = tree.sql("duckdb")
    assert canonical_sql(tree, "duckdb") == 'SELECT id, "Amount" FROM raw.events'
    assert tree.sql("duckdb") == before and '"id"' in before  # unquoted for the text only


def test_incremental_settings_and_seed_column_types_are_changes(tmp_path: Path):
    """`incremental:` is part of a mart's settings, and a seed's column types of its content."""
    root = write_project(tmp_path / "p", {
        "config.yaml": CONFIG,
        "seeds/events.csv": FILES["seeds/events.csv"],
        "marts/a/inc.yml": "materialized: incremental\nincremental: {unique_key: id}\nsql: select id, amount from raw.events\n",
    })
    assert built(martctl.open(root).build()) == {"raw.events", "a.inc"}
    edit(root, "marts/a/inc.yml", "materialized: incremental\nincremental: {unique_key: [id, amount]}\n"
                                  "sql: select id, amount from raw.events\n")
    plan = martctl.open(root).plan()
    assert plan.to_build == ["a.inc"] and plan.decisions["a.inc"].reason.startswith("settings changed")
    assert built(martctl.open(root).build()) == {"a.inc"}
    edit(root, "config.yaml", CONFIG + "seeds:\n  column_types:\n    events: {amount: 'decimal(10,2)'}\n")
    report = martctl.open(root).build()
    assert built(report) == {"raw.events", "a.inc"}
    assert query(root, "select data_type from information_schema.columns where table_schema = 'raw' "
                       "and table_name = 'events' and column_name = 'amount'") == [("DECIMAL(10,2)",)]
