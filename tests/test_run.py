"""martctl seed / run / build end to end, on real DuckDB files (CLI in a subprocess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import write_project

from martctl.exitcodes import ExitCode


def martctl(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "martctl", *args, "--project-dir", str(root)],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def results(root: Path) -> dict[str, dict]:
    data = json.loads((root / "target" / "run_results.json").read_text())
    return {r["key"]: r for r in data["results"]}


def test_demo_builds_from_scratch_then_again(demo_dir: Path):
    first = martctl(demo_dir, "build")
    assert first.returncode == 0, first.stdout + first.stderr
    second = martctl(demo_dir, "build", "--force")  # every mart replaced, not skipped as up to date
    assert second.returncode == 0, second.stdout + second.stderr
    marts = json.loads((demo_dir / "target" / "manifest.json").read_text())["marts"]
    assert len(marts) >= 9
    assert marts["data_analyst.customer_ltv"]["file"] == "marts/data_analyst/customer_ltv.yml"  # relative to the project
    for key, mart in marts.items():
        (count,) = rows(demo_dir / "warehouse.duckdb", f"select count(*) from {mart['relation']}")[0]
        assert count > 0, f"{key} is empty"
    nodes = results(demo_dir)
    assert all(n["status"] == "success" for n in nodes.values())
    assert nodes["data_analyst.customer_ltv"]["sql_path"] == "target/compiled/data_analyst/customer_ltv.sql"
    for key, node in nodes.items():  # written beside the run, complete before the process ends
        if node["kind"] == "mart":
            text = (demo_dir / node["sql_path"]).read_text()
            assert "select" in text.lower() and text.endswith(";\n"), key
    # the incremental mart found no new rows the second time and kept its rows
    assert nodes["data_analyst.order_facts"]["rows"] == 0
    types = dict(rows(demo_dir / "warehouse.duckdb", "select column_name, data_type from information_schema.columns "
                                                    "where table_schema = 'raw' and table_name = 'orders'"))
    assert types["amount"] == "DECIMAL(12,2)"  # seeds.column_types override applied


BRANCHES = {
    "marts/a/base.yml": "materialized: table\nsql: select i, i * 2 as doubled from range(10) t(i)\n",
    "marts/a/middle.yml": "materialized: table\nsql: |\n  select i,\n         doubled + 1 as v\n  from a.base\n",
    "marts/a/tail.yml": "materialized: view\nsql: select count(*) as n from a.middle\n",
    "marts/b/other.yml": "materialized: table\nsql: select 42 as answer\n",
}


def test_runtime_error_keeps_previous_table_skips_downstream_builds_the_rest(tmp_path: Path):
    root = write_project(tmp_path / "p", BRANCHES)
    assert martctl(root, "run").returncode == 0
    # break middle at run time (the SQL compiles; DuckDB refuses the cast on line 2)
    (root / "marts/a/middle.yml").write_text(
        "materialized: table\nsql: |\n  select i,\n         cast('x' || doubled as integer) as v\n  from a.base\n"
    )
    (root / "marts/b/other.yml").write_text("materialized: table\nsql: select 43 as answer\n")
    done = martctl(root, "run")
    assert done.returncode == ExitCode.FAILED
    nodes = results(root)
    assert nodes["a.middle"]["status"] == "error"
    assert "Could not convert" in nodes["a.middle"]["error"]
    assert "compiled SQL target/compiled/a/middle.sql:3" in nodes["a.middle"]["error"]  # the line DuckDB pointed at
    assert nodes["a.tail"]["status"] == "skipped" and nodes["a.tail"]["reason"] == "upstream a.middle failed"
    assert nodes["b.other"]["status"] == "success"
    db = root / "wh.duckdb"
    assert rows(db, "select sum(v) from a.middle") == [(sum(2 * i + 1 for i in range(10)),)]  # previous version, intact
    assert rows(db, "select answer from b.other") == [(43,)]
    assert "a.middle" in done.stdout and "Could not convert" in done.stdout  # the summary names the failure
    assert "Traceback" not in done.stderr


def test_compiled_sql_that_cannot_be_written_is_one_clear_error(tmp_path: Path):
    """The compiled files are written beside the run, in a thread: what goes wrong there
    reaches the command (exit 2, the file, a hint), and the marts the run built stay built and are in
    run_results.json."""
    root = write_project(tmp_path / "p", BRANCHES)
    (root / "target").mkdir()
    (root / "target" / "compiled").write_text("in the way")  # a file where the folder goes
    done = martctl(root, "run")
    assert done.returncode == ExitCode.INVALID, done.stdout + done.stderr
    assert "cannot write the compiled SQL" in done.stderr and "target/compiled" in done.stderr
    assert "hint: make target/compiled a writable folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert rows(root / "wh.duckdb", "select answer from b.other") == [(42,)]
    assert {n["status"] for n in results(root).values()} == {"success"}  # the run's artifacts are written all the same
    (root / "target" / "compiled").unlink()
    assert martctl(root, "run", "--force").returncode == 0
    assert (root / "target/compiled/b/other.sql").read_text() == "SELECT\n  42 AS answer;\n"


def test_an_up_to_date_run_after_target_was_removed_writes_the_compiled_files_it_names(tmp_path: Path):
    """run_results.json names each mart's compiled file: an up-to-date mart's is written again when
    target/ was removed, and a file still there is left alone."""
    root = write_project(tmp_path / "p", BRANCHES)
    assert martctl(root, "run").returncode == 0
    kept = root / "target/compiled/b/other.sql"
    kept.write_text("-- still here\n")
    for path in (root / "target/compiled/a").iterdir():
        path.unlink()
    (root / "target/run_results.json").unlink()
    again = martctl(root, "run")
    assert again.returncode == 0, again.stdout + again.stderr
    nodes = results(root)
    assert {n["status"] for n in nodes.values()} == {"up to date"}
    for key, node in nodes.items():
        assert (root / node["sql_path"]).is_file(), key
    assert (root / "target/compiled/a/middle.sql").read_text().startswith("SELECT")
    assert kept.read_text() == "-- still here\n"  # up to date, its file there: not rewritten


def test_no_ansi_without_a_tty_and_json_lines_parse(tmp_path: Path):
    root = write_project(tmp_path / "p", BRANCHES)
    text = martctl(root, "build", env={"TERM": "xterm-256color", "FORCE_COLOR": ""})
    assert text.returncode == 0
    assert "\x1b" not in text.stdout + text.stderr
    assert "OK" in text.stderr and "a.middle" in text.stderr
    # the summary's time is the whole command's (start-up, imports, artifacts), the engine's share beside it
    whole, engine = map(float, re.search(r"^Done in ([\d.]+)s \(engine ([\d.]+)s\): ", text.stdout, re.M).groups())
    assert whole > engine > 0
    as_json = martctl(root, "build", "--log-format", "json", "--force")
    assert as_json.returncode == 0
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "RunStarted" and names[-1] == "RunFinished"
    assert names.count("MartFinished") == 4 and names.count("MartStarted") == 4
    assert events[-1]["exit_code"] == 0


def test_dry_run_touches_nothing(tmp_path: Path):
    root = write_project(tmp_path / "p", BRANCHES)
    done = martctl(root, "build", "--dry-run", "--log-format", "json")
    assert done.returncode == 0
    plan = json.loads(done.stdout)["plan"]
    order = [p["node"] for p in plan]
    assert order.index("a.base") < order.index("a.middle") < order.index("a.tail")
    assert {p["node"]: p["materialized"] for p in plan}["a.tail"] == "view"
    assert not (root / "wh.duckdb").exists()


def test_vars_become_literals(tmp_path: Path):
    root = write_project(tmp_path / "p", {
        "config.yaml": "name: v\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\nvars: {label: a}\n",
        "marts/a/labelled.yml": "sql: select cast(:label as varchar) as label\n",
    })
    done = martctl(root, "run", "--vars", "label=it's; drop table x")
    assert done.returncode == 0, done.stderr
    assert rows(root / "wh.duckdb", "select label from a.labelled") == [("it's; drop table x",)]


def test_fail_fast_stops_at_the_first_failure(tmp_path: Path):
    files = dict(BRANCHES)
    files["marts/a/base.yml"] = "materialized: table\nsql: select cast('x' as integer) as i, 1 as doubled\n"
    root = write_project(tmp_path / "p", files)
    done = martctl(root, "run", "--fail-fast", "--threads", "1")
    assert done.returncode == ExitCode.FAILED
    nodes = results(root)
    assert nodes["a.base"]["status"] == "error"
    assert {nodes[k]["status"] for k in ("a.middle", "a.tail", "b.other")} <= {"cancelled", "skipped"}
    assert nodes["b.other"]["status"] == "cancelled"


def test_seed_loads_seeds_alone(demo_dir: Path):
    done = martctl(demo_dir, "seed")
    assert done.returncode == 0, done.stderr
    db = demo_dir / "warehouse.duckdb"
    assert rows(db, "select count(*) from raw.customers")[0][0] > 0
    assert rows(db, "select count(*) from information_schema.tables where table_schema = 'marketing'") == [(0,)]
    nodes = results(demo_dir)
    assert set(nodes) == {f"raw.{p.stem}" for p in (demo_dir / "seeds").glob("*.csv")}


def test_leftovers_of_an_interrupted_run_are_dropped(tmp_path: Path):
    root = write_project(tmp_path / "p", BRANCHES)
    assert martctl(root, "run").returncode == 0
    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute("create table a.middle__martctl_new as select 1 as junk")
    con.close()
    done = martctl(root, "run")
    assert done.returncode == 0
    assert "leftover" in done.stderr
    assert rows(root / "wh.duckdb", "select count(*) from information_schema.tables where table_name like '%martctl%'") == [(0,)]


def test_run_types_undeclared_sources_from_the_warehouse_catalog(tmp_path: Path):
    """A Postgres-dialect mart on DuckDB reading a source nobody declared columns for: run reads the
    source's types from the warehouse, so Postgres integer division keeps its meaning (7 / 2 = 3)."""
    root = write_project(tmp_path / "p", {
        "config.yaml": "name: p\ndialect: postgres\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n"
                       "sources:\n  ext: {tables: [items]}\n",
        "marts/a/unit_price.yml": "sql: select id, total / qty as unit from ext.items\n",
    })
    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute("create schema ext; create table ext.items as select 1 as id, 7 as total, 2 as qty")
    con.close()
    done = martctl(root, "run")
    assert done.returncode == ExitCode.OK, done.stderr
    assert "without the columns" not in done.stderr  # typed from the catalog, so no warning
    assert rows(root / "wh.duckdb", "select id, unit from a.unit_price") == [(1, 3)]


def test_terminal_gets_the_live_view_and_a_summary_table(demo_dir: Path):
    """With a TTY (a pseudo-terminal here), build shows rich's live view, then the summary table."""
    import pty
    import select as select_module

    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "martctl", "build", "--project-dir", str(demo_dir)],
                            stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select_module.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == ExitCode.OK
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[" in screen  # colours and cursor moves: a live view, not plain lines
    assert "done," in screen and "running" in screen  # the live panel's counters
    assert "build on local" in screen and "data_analyst.customer_ltv" in screen  # the summary table
    assert "42 tests passed" in screen


def test_the_live_view_starts_with_the_run_and_draws_its_size_at_once(monkeypatch):
    """No thread before the first event (a cold parse may fork then), and the first panel drawn knows
    how many nodes the run has."""
    import io
    import threading

    from rich.console import Console

    from martctl.cli import progress, render
    from martctl.engine.events import RunStarted

    screen = io.StringIO()
    monkeypatch.setattr(render, "err", lambda: Console(file=screen, force_terminal=True, width=100))
    before = threading.active_count()
    view = progress.LiveView()
    assert threading.active_count() == before and not view.live.is_started
    view(RunStarted("r1", "run", "local", 1, ["a.x", "a.y", "a.z"]))
    try:
        assert view.live.is_started and "0/3 done" in re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", screen.getvalue())
    finally:
        view.close()


@pytest.mark.parametrize("path, expected", [
    ("/p/proj/marts/a/m.yml", "marts/a/m.yml"),  # below the project: relative
    ("/p/proj2/marts/a/m.yml", "/p/proj2/marts/a/m.yml"),  # a sibling folder that starts with the same name
    ("/p/proj/marts/../seeds/s.csv", "seeds/s.csv"),  # normalised as relpath does
    ("/p/other/s.csv", "/p/other/s.csv"),  # outside: kept absolute
    ("marts/a/m.yml", "marts/a/m.yml"),  # already relative
])
def test_artifact_paths_are_relative_to_the_project(path, expected):
    from martctl.engine.artifacts import _relative

    assert _relative(path, "/p/proj") == expected
