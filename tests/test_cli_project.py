"""validate, ls, compile, init and --version through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlglot

from martctl import __version__
from tests.test_validate import cli


def martctl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "martctl", *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=120)


def test_version_and_help(tmp_path):
    run = martctl("--version", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == f"martctl {__version__}"
    run = martctl("--help", cwd=tmp_path)
    assert run.returncode == 0
    for command in ("validate", "ls", "compile", "init"):
        assert command in run.stdout


COMMANDS = ("validate", "ls", "compile", "init", "seed", "run", "build", "test", "lineage")


def test_every_command_takes_debug_and_lists_it(tmp_path):
    """--debug is declared once for all commands (main() reads it from argv): each --help lists it,
    and on a broken project it turns the one-line error into the traceback."""
    for command in COMMANDS:
        code, output = cli(command, "--help")
        assert code == 0 and "--debug" in output and "Show tracebacks." in output, (command, output)
    (tmp_path / "config.yaml").write_text("name: x\ndialcet: duckdb\n")
    plain = martctl("validate", "--project-dir", str(tmp_path), cwd=tmp_path)
    debug = martctl("ls", "--project-dir", str(tmp_path), "--debug", cwd=tmp_path)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr and "unknown key 'dialcet'" in plain.stderr
    assert "Traceback" in debug.stderr and "ProjectError" in debug.stderr and "No such option" not in debug.stderr


def test_validate_demo(demo_dir):
    run = martctl("validate", cwd=demo_dir)
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines()[-1] == "ok: 9 marts, 5 sources, no problems", run.stderr


def test_ls_table_and_json(demo_dir):
    code, output = cli("ls", "--project-dir", str(demo_dir), "-s", "+customer_ltv")
    assert code == 0 and "data_analyst.customer_ltv" in output and "data_analyst.customer_orders" in output
    run = martctl("ls", "--json", cwd=demo_dir)
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    by_name = {row["name"]: row for row in rows}
    assert len(rows) == 9
    ltv = by_name["data_analyst.customer_ltv"]
    assert ltv["upstream"] == ["data_analyst.customer_orders"] and ltv["area"] == "data_analyst"
    assert {"materialized", "tags", "owner", "description", "dialect", "file"} <= set(ltv)
    names = [row["name"] for row in rows]
    assert names.index("data_analyst.customer_orders") < names.index("data_analyst.customer_ltv")  # dependency order


def test_compile_prints_and_writes(demo_dir):
    run = martctl("compile", "-s", "marketing.campaign_roas", "--dialect", "snowflake", cwd=demo_dir)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("-- marketing.campaign_roas (table) -> marketing.campaign_roas")
    written = demo_dir / "target" / "compiled-snowflake" / "marketing" / "campaign_roas.sql"
    text = written.read_text()
    assert text.rstrip().endswith(";") and sqlglot.parse_one(text, read="snowflake")
    assert not (demo_dir / "target" / "compiled" / "marketing" / "channel_daily.sql").exists()


def test_compile_json_and_target(demo_dir):
    run = martctl("compile", "--json", "-t", "local", "-s", "tag:weekly", cwd=demo_dir)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert list(data) == ["marketing.weekly_acquisition"]
    assert "DISTINCT ON" in data["marketing.weekly_acquisition"]  # postgres syntax, transpiled to DuckDB's


def test_init_makes_a_project_that_validates_and_compiles(tmp_path):
    target = tmp_path / "new_shop"
    code, output = cli("init", str(target))
    assert code == 0, output
    assert (target / "config.yaml").is_file() and list((target / "marts").rglob("*.yml"))
    run = martctl("validate", cwd=target)
    assert run.returncode == 0, run.stderr
    run = martctl("compile", "--dialect", "postgres", "-q", cwd=target)
    assert run.returncode == 0, run.stderr
    code, output = cli("init", str(target))
    assert code == 2 and "already exists" in output and "Traceback" not in output


def test_init_project_builds(tmp_path):
    target = tmp_path / "fresh"
    assert cli("init", str(target))[0] == 0
    run = martctl("build", cwd=target)
    assert run.returncode == 0, run.stdout + run.stderr
    import duckdb

    con = duckdb.connect(str(target / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from sales.revenue_by_country").fetchone()[0] == 2
    finally:
        con.close()


def test_bad_command_line_is_exit_2(tmp_path):
    run = martctl("compile", "--no-such-option", cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr


def test_help_imports_no_heavy_module(tmp_path):
    """`martctl --help` stays fast: sqlglot, duckdb, psycopg and yaml are imported by the commands that use them."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "martctl", "--help"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    heavy = {m for m in imported if m.split(".")[0] in ("sqlglot", "sqlglotc", "duckdb", "psycopg", "yaml")}
    assert not heavy, sorted(heavy)


def test_generated_benchmark_project_validates_and_builds(tmp_path):
    """benchmarks/generate.py: every generated mart is valid and builds (with its data tests passing)."""
    import duckdb

    from benchmarks.generate import generate_project

    root = generate_project(tmp_path / "gen", 60, seed=3)
    run = martctl("validate", cwd=root)
    assert run.returncode == 0 and "ok: 60 marts" in run.stderr, run.stderr
    run = martctl("build", cwd=root)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        relations = con.execute("select count(*) from information_schema.tables where table_schema like 'area_%'").fetchone()
    finally:
        con.close()
    assert relations[0] == 60


def _invoke(group, args: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    buffer = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            group(args=args, prog_name="martctl")
        except SystemExit as exc:
            code = exc.code or 0
    return code, buffer.getvalue()


def test_the_app_built_for_one_command_answers_as_the_whole_app():
    """main() builds only the command its line names (converting every command's options costs more
    than a small command's work): each command's help, --debug and bad options read the same as
    through the whole app, and a line that names no command gets the whole app."""
    from martctl.cli.app import _cli

    whole = _cli(None)
    names = list(whole.commands)
    assert {"run", "build", "seed", "ls", "docs", "plan", "promote"} <= set(names), names
    for name in names:
        alone = _cli(name)
        assert list(alone.commands) == [name], (name, list(alone.commands))
        for args in ([name, "--help"], [name, "--no-such-option"]):
            assert _invoke(alone, args) == _invoke(whole, args), args
        assert "--debug" in _invoke(alone, [name, "--help"])[1]
    assert _invoke(_cli("docs"), ["docs", "build", "--help"]) == _invoke(whole, ["docs", "build", "--help"])
    assert list(_cli("rn").commands) == list(_cli("--help").commands) == names
