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
