"""How a source tells that its data changed (data_version, loaded_at, engine counters: none on DuckDB)
and what a stale source does to its readers (on_stale), on DuckDB (Postgres: tests/test_state_pg.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import write_project
from test_state import CONFIG, built, statuses
from test_test_command import plant as change  # statements run on the warehouse by someone else

import martctl
from martctl.errors import ProjectError

LATER = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)


def test_a_data_version_query_decides_whether_its_readers_rebuild(tmp_path: Path):
    root = write_project(tmp_path / "dv", {
        "config.yaml": CONFIG + "sources:\n  ext:\n    tables:\n"
                                "      orders: {data_version: 'select max(id), count(*) from this'}\n"
                                "      items: {data_version: 'select max(batch) from ext.loads'}\n"
                                "      loads: {}\n",
        "marts/x/orders.yml": "sql: select count(*) as n from ext.orders\n",
        "marts/x/items.yml": "sql: select count(*) as n from ext.items\n",
    })
    change(root, "create schema ext", "create table ext.orders (id int)", "insert into ext.orders values (1)",
           "create table ext.items (i int)", "create table ext.loads (batch int)", "insert into ext.loads values (7)")
    martctl.open(root).build()
    assert set(statuses(martctl.open(root).build()).values()) == {"up to date"}
    change(root, "insert into ext.items values (5)")  # items' version is the load log: not changed yet
    assert built(martctl.open(root).build()) == set()
    change(root, "insert into ext.loads values (8)", "update ext.orders set id = 1")  # same max, same count
    assert martctl.open(root).select(["source_status:fresher"])[0] == ["x.items"]
    report = martctl.open(root).build()
    assert built(report) == {"x.items"}
    assert report.results["x.items"].decision == "source ext.items's data changed: data_version = 8 (was: data_version = 7)"
    change(root, "delete from ext.orders")
    assert built(martctl.open(root).build()) == {"x.orders"}
    plan = martctl.open(root).plan()
    assert plan.sources == {"ext.items": "data_version query", "ext.orders": "data_version query"}


def test_a_data_version_that_cannot_be_read_counts_as_changed_and_says_why(tmp_path: Path):
    from martctl.api import Warned

    root = write_project(tmp_path / "unread", {
        "config.yaml": CONFIG + "sources:\n  ext:\n    data_version: 'select max(batch) from ext.gone'\n    tables: [feed]\n",
        "marts/x/reader.yml": "sql: select count(*) as n from ext.feed\n",
    })
    change(root, "create schema ext; create table ext.feed as select 1 as i")
    martctl.open(root).build()
    events = []
    report = martctl.open(root).build(on_event=events.append)
    assert built(report) == {"x.reader"} and "cannot tell" in report.results["x.reader"].decision
    said = [e.message for e in events if isinstance(e, Warned)]
    assert any(m.startswith("source ext.feed: cannot read its data_version query (counts as changed)") for m in said), said


def _stale_project(tmp_path: Path, project: str = "", source: str = "", table: str = "") -> Path:
    root = write_project(tmp_path / "stale", {
        "config.yaml": CONFIG + project + "sources:\n  ext:\n    freshness: {loaded_at: loaded, error_after: 1d}\n" + source
                       + "    tables:\n      old: {" + table + "}\n      new: {}\n",
        "marts/x/reads_old.yml": "sql: select count(*) as n from ext.old\n",
        "marts/x/reads_new.yml": "sql: select count(*) as n from ext.new\n",
    })
    change(root, "create schema ext", "create table ext.old (loaded timestamp)", "create table ext.new (loaded timestamp)",
           "insert into ext.old values ('2026-03-01 00:00:00')", "insert into ext.new values ('2026-03-04 09:00:00')")
    return root


@pytest.mark.parametrize("project, source, table, status, warned", [
    ("", "", "", "skipped", False),                                   # the default: skip
    ("on_stale: warn\n", "", "", "success", True),                    # the project's default
    ("on_stale: warn\n", "    on_stale: skip\n", "", "skipped", False),  # the source's wins over the project's
    ("", "    on_stale: skip\n", "on_stale: build", "success", False),    # the table's wins over the source's
])
def test_on_stale_skips_warns_or_builds_the_readers_of_a_stale_source(tmp_path, project, source, table, status, warned):
    from martctl.api import Warned

    root = _stale_project(tmp_path, project, source, table)
    events = []
    report = martctl.open(root).build(now=LATER, on_event=events.append)
    assert statuses(report) == {"x.reads_old": status, "x.reads_new": "success"}
    warnings = [e.message for e in events if isinstance(e, Warned) and "stale" in e.message]
    assert bool(warnings) == warned
    shown = json.loads(subprocess.run([sys.executable, "-m", "martctl", "freshness", "--json", "--project-dir", str(root)],
                                      capture_output=True, text=True).stdout)
    assert {f["source"]: f["on_stale"] for f in shown["sources"]}["ext.old"] == ("skip" if status == "skipped" else
                                                                                   "warn" if warned else "build")
    if warned:
        assert "source ext.old is stale" in warnings[0] and "on_stale: warn" in warnings[0] and "x.reads_old" in warnings[0]
        assert report.exit_code() == 0


@pytest.mark.parametrize("where, text, words", [
    ("config", "on_stale: later\n", ["config.yaml: on_stale must be one of skip, warn, build, not 'later'"]),
    ("source", "    on_stale: maybe\n", ["source 'ext'", "not 'maybe'"]),
    ("table", "data_version: 'delete from this'", ["source table 'ext.old'", "data_version must be one SELECT"]),
    ("table", "data_version: 'select max(id) from'", ["data_version is not valid SQL"]),
])
def test_bad_source_change_settings_are_one_clear_message_at_their_line(tmp_path, where, text, words):
    args = {"config": (text, "", ""), "source": ("", text, ""), "table": ("", "", text)}[where]
    root = _stale_project(tmp_path, *args)
    with pytest.raises(ProjectError) as caught:
        martctl.open(root)
    message = str(caught.value)
    assert all(w in message for w in words), message
    config_lines = (root / "config.yaml").read_text().splitlines()
    found = caught.value.problems[0]
    assert found.file.name == "config.yaml" and found.line is not None
    key = {"config": "on_stale", "source": "on_stale", "table": "data_version"}[where]
    assert key in config_lines[found.line - 1], (found.line, config_lines)
    done = subprocess.run([sys.executable, "-m", "martctl", "validate", "--project-dir", str(root)], capture_output=True,
                          text=True)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
