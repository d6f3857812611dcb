"""The command line around the API: help, argument habits, errors as JSON, output off a terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import write_project

from martctl.cli.app import join_selector_words


def martctl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "martctl", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_help_has_short_flag_and_real_metavars():
    short, long = martctl("build", "-h"), martctl("build", "--help")
    assert short.returncode == 0 and short.stdout == long.stdout
    for metavar in ("--select SELECTOR", "--threads N", "--wait SECONDS", "--log-format text|json", "--vars KEY=VALUE"):
        assert metavar in short.stdout, metavar
    assert "<list[str]>" not in short.stdout and "<int range>" not in short.stdout


def test_unquoted_space_separated_selectors_are_one_selection(demo_dir):
    listed = martctl("ls", "--project-dir", str(demo_dir), "-s", "customer_ltv", "top_customers", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [m["name"] for m in json.loads(listed.stdout)] == ["data_analyst.customer_ltv", "data_analyst.top_customers"]
    assert join_selector_words(["lineage", "-s", "a", "b"]) == ["lineage", "-s", "a", "b"]  # lineage's words are names
    assert join_selector_words(["run", "-s", "a", "b", "--exclude", "c", "d", "-t", "x"]) == \
        ["run", "-s", "a b", "--exclude", "c d", "-t", "x"]


def test_config_is_found_in_a_parent_folder_like_git(demo_dir):
    listed = martctl("ls", "--json", cwd=demo_dir / "marts" / "marketing")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 9


def test_a_selector_typo_fails_with_a_did_you_mean(demo_dir):
    run = martctl("build", "--project-dir", str(demo_dir), "-s", "custmer_ltv")
    assert run.returncode == 2 and "did you mean 'customer_ltv'?" in run.stderr
    assert not (demo_dir / "warehouse.duckdb").exists()  # nothing was touched


def test_errors_are_json_with_log_format_json_and_debug_keeps_the_exit_code(demo_dir):
    run = martctl("run", "--project-dir", str(demo_dir), "-s", "nope", "--log-format", "json")
    assert run.returncode == 2
    (event,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert event["event"] == "Error" and event["kind"] == "invalid" and event["problems"][0]["message"].startswith("selector 'nope'")
    debug = martctl("run", "--project-dir", str(demo_dir), "-s", "nope", "--debug")
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_tables_off_a_terminal_do_not_break_words(tmp_path):
    owner = "the-marketing-analytics-team-in-the-north-east-region"
    root = write_project(tmp_path / "p", {
        "marts/a_rather_long_area_name/a_rather_long_mart_name_indeed.yml":
            f"owner: {owner}\ntags: [daily, finance, reviewed, quarterly]\nsql: select 1 as x\n"})
    listed = martctl("ls", "--project-dir", str(root))
    assert listed.returncode == 0, listed.stderr
    assert owner in listed.stdout and "a_rather_long_area_name.a_rather_long_mart_name_indeed" in listed.stdout


def test_a_run_time_error_points_at_the_file_the_user_wrote(tmp_path):
    root = write_project(tmp_path / "p", {"marts/a/bad.yml": "name: bad\nsql: |\n  select cast('abc' as int) as x\n"})
    run = martctl("run", cwd=root)
    assert run.returncode == 1
    assert "in marts/a/bad.yml:3 (the mart's SQL)" in run.stderr + run.stdout, run.stderr


def test_compile_for_another_dialect_keeps_the_last_runs_sql(demo_dir):
    assert martctl("compile", "--project-dir", str(demo_dir), "-q").returncode == 0
    ours = (demo_dir / "target/compiled/marketing/campaign_roas.sql").read_text()
    other = martctl("compile", "--project-dir", str(demo_dir), "--dialect", "snowflake", "-q")
    assert other.returncode == 0, other.stderr
    assert (demo_dir / "target/compiled/marketing/campaign_roas.sql").read_text() == ours
    assert (demo_dir / "target/compiled-snowflake/marketing/campaign_roas.sql").read_text() != ours


def test_progress_counts_finished_nodes(tmp_path):
    root = write_project(tmp_path / "p", {f"marts/a/m{i}.yml": f"sql: select {i} as x\n" for i in range(3)})
    run = martctl("run", "--threads", "3", cwd=root)
    assert run.returncode == 0, run.stderr
    counters = [line.split()[2] for line in run.stderr.splitlines() if line.split()[1] == "OK"]
    assert counters == ["1/3", "2/3", "3/3"]


def test_compile_and_dry_run_show_what_an_incremental_run_executes(tmp_path):
    root = write_project(tmp_path / "p", {"marts/a/events.yml": (
        "materialized: incremental\nincremental: {unique_key: id, cursor: loaded_at}\n"
        "sql: select 1 as id, current_date as loaded_at\n")})
    compiled = martctl("compile", cwd=root)
    assert compiled.returncode == 0, compiled.stderr
    later = compiled.stdout.split("later runs insert only the new rows")[1]
    assert "DELETE FROM a.events" in later and "MAX(loaded_at)" in later and "INSERT INTO a.events" in later
    plan = martctl("run", "--dry-run", "--log-format", "json", cwd=root)
    (row,) = json.loads(plan.stdout)["plan"]
    statements = row["incremental_statements"]
    assert [s.split()[0] for s in statements] == ["CREATE", "DELETE", "INSERT", "DROP"]
    assert not (root / "wh.duckdb").exists()
