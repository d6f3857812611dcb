"""Every bad input of the project format: one clear message (file, line, fix), exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from martctl.api.validate import validate_project
from tests.conftest import REPO, write_project


def cli(*args: str) -> tuple[int, str]:
    """Run the CLI in-process through its entry point (errors rendered, exit code returned)."""
    import contextlib
    import io

    from martctl.cli.app import main

    buffer = io.StringIO()
    argv, sys.argv = sys.argv, ["martctl", *args]
    code = 0
    try:
        with contextlib.redirect_stderr(buffer), contextlib.redirect_stdout(buffer):
            main()
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = argv
    return code, buffer.getvalue()


def run_subprocess(*args: str, cwd: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "martctl", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "200", "PYTHONPATH": str(REPO)},
    )
    return proc.returncode, proc.stdout + proc.stderr


def problems_of(root: Path, target: str | None = None):
    _, problems = validate_project(root, target)
    return [p for p in problems if p.severity == "error"]


def assert_clean_failure(code: int, output: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    assert "internal error" not in output


SOURCES = "name: fx\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\nsources:\n  raw: {tables: [orders, customers]}\n"


def test_malformed_yaml_names_file_and_line(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "description: x\ntags: [daily\nsql: select 1\n"})
    code, output = run_subprocess("validate", cwd=root)
    assert_clean_failure(code, output)
    assert "marts/a/m.yml:3" in output and "invalid YAML" in output


def test_malformed_config_yaml(tmp_path):
    root = write_project(tmp_path, {"config.yaml": "name: x\ntargets: {local: {type: duckdb\n"})
    code, output = cli("validate", "--project-dir", str(root))
    assert_clean_failure(code, output)
    assert "config.yaml:" in output and "invalid YAML" in output


def test_unknown_key_with_did_you_mean(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "descriptoin: hi\nsql: select 1 as x\n"})
    [problem] = problems_of(root)
    assert problem.message == "unknown key 'descriptoin' in mart"
    assert problem.line == 1 and problem.file.name == "m.yml"
    assert problem.hint == "did you mean 'description'?"
    code, output = cli("validate", "--project-dir", str(root))
    assert_clean_failure(code, output)
    assert "did you mean 'description'?" in output


def test_unknown_key_in_config(tmp_path):
    root = write_project(tmp_path, {"config.yaml": "name: x\ndialcet: duckdb\n"})
    [problem] = problems_of(root)
    assert "unknown key 'dialcet' in config.yaml" in problem.message and problem.line == 2
    assert "did you mean 'dialect'?" in problem.hint


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tags: 3\nsql: select 1 as x\n", "'tags' in mart must be a list, got int 3"),
        ("columns: [a, b]\nsql: select 1 as a\n", "'columns' in mart must be a mapping, got list ['a', 'b']"),
        ("owner: [x]\nsql: select 1 as a\n", "'owner' in mart must be a string, got list ['x']"),
        ("tags: {a: 1}\nsql: select 1 as a\n", "'tags' in mart must be a list, got mapping {'a': 1}"),
        ("materialized: tabel\nsql: select 1 as a\n", "unknown materialization 'tabel'"),
    ],
)
def test_wrong_value_type(tmp_path, text, expected):
    root = write_project(tmp_path, {"marts/a/m.yml": text})
    problems = problems_of(root)
    assert [p.message for p in problems] == [expected]
    assert problems[0].line == 1
    code, output = cli("validate", "--project-dir", str(root))
    assert_clean_failure(code, output)


def test_wrong_type_in_target(tmp_path):
    root = write_project(tmp_path, {"config.yaml": "name: x\ntargets:\n  local: {type: duckdb, threads: many}\n"})
    [problem] = problems_of(root)
    assert "'threads' in target 'local' must be a whole number" in problem.message and problem.line == 3


def test_missing_sql(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "description: no sql here\n"})
    [problem] = problems_of(root)
    assert problem.message == "mart 'm' has no SQL"
    assert "m.sql beside this file" in problem.hint


def test_missing_sql_file(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "sql_file: query.sql\n"})
    [problem] = problems_of(root)
    assert "sql_file 'query.sql' not found" in problem.message and problem.line == 1


def test_unparsable_inline_sql_maps_to_yaml_lines(tmp_path):
    yml = "description: x\nsql: |\n  select a,\n         b\n  from raw.orders\n  where (a = 1\n"
    root = write_project(tmp_path, {"config.yaml": SOURCES, "marts/a/m.yml": yml})
    [problem] = problems_of(root)
    assert problem.file.name == "m.yml"
    assert "SQL does not parse" in problem.message and "mart 'a.m'" in problem.message
    assert problem.line == 6  # the YAML file's line of `where (a = 1`
    assert problem.snippet == "where (a = 1"
    assert problem.column is not None
    code, output = run_subprocess("validate", cwd=root)
    assert_clean_failure(code, output)
    assert "marts/a/m.yml:6:" in output and "where (a = 1" in output and "^" in output


def test_unparsable_sibling_sql_maps_to_sql_file_lines(tmp_path):
    root = write_project(tmp_path, {
        "config.yaml": SOURCES,
        "marts/a/m.yml": "description: the SQL is beside me\nowner: me\n",
        "marts/a/m.sql": "-- header\nselect o.id\nfrom raw.orders o\nwhere o.id in (select 1\n",
    })
    [problem] = problems_of(root)
    assert problem.file.name == "m.sql" and problem.line == 4
    assert problem.snippet == "where o.id in (select 1"


def test_parse_error_column_points_at_the_token(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "sql: |\n  select 1 as x\n  from t where )\n"})
    [problem] = problems_of(root)
    assert problem.line == 3 and problem.snippet == "from t where )"
    assert problem.snippet[problem.column - 1] == ")"
    assert "<class" not in problem.message


def test_not_a_query(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "sql: delete from raw.orders\n"})
    [problem] = problems_of(root)
    assert "must be one query" in problem.message


def test_duplicate_mart_names(tmp_path):
    root = write_project(tmp_path, {
        "marts/a/m.yml": "sql: select 1 as x\n",
        "marts/a/more.yml": "marts:\n  - name: other\n    sql: select 2 as x\n  - name: m\n    sql: select 3 as x\n",
    })
    [problem] = problems_of(root)
    assert "duplicate mart 'a.m'" in problem.message
    assert problem.file == root / "marts/a/more.yml" and problem.line == 4  # the second declaration
    assert f"also declared in {root / 'marts/a/m.yml'}:1" in problem.message  # points at the first
    assert problem.hint.startswith("rename one")


def test_same_name_in_two_areas_is_fine_but_bare_name_is_ambiguous(tmp_path):
    root = write_project(tmp_path, {
        "marts/a/m.yml": "sql: select 1 as x\n",
        "marts/b/m.yml": "sql: select 2 as x\n",
        "marts/c/reader.yml": "sql: |\n  select x\n  from m\n",
    })
    [problem] = problems_of(root)
    assert "reads 'm', which is ambiguous: a.m, b.m" in problem.message
    assert problem.line == 3 and "qualify it" in problem.hint


def test_unknown_table_with_did_you_mean(tmp_path):
    root = write_project(tmp_path, {
        "config.yaml": SOURCES,
        "marts/a/m.yml": "description: x\nsql: |\n  select *\n  from raw.ordrs\n",
    })
    [problem] = problems_of(root)
    assert problem.message == "mart 'a.m' reads unknown table 'raw.ordrs'"
    assert problem.file.name == "m.yml" and problem.line == 4
    assert problem.hint == "did you mean 'raw.orders'?"
    code, output = run_subprocess("validate", cwd=root)
    assert_clean_failure(code, output)
    assert "did you mean 'raw.orders'?" in output


def test_unknown_bare_table(tmp_path):
    root = write_project(tmp_path, {"config.yaml": SOURCES, "marts/a/m.yml": "sql: select * from nowhere\n"})
    [problem] = problems_of(root)
    assert "reads unknown table 'nowhere'" in problem.message
    assert "area.name" in problem.hint


def test_dependency_cycle_prints_its_path(tmp_path):
    root = write_project(tmp_path, {
        "marts/a/x.yml": "sql: select * from a.y\n",
        "marts/a/y.yml": "sql: select * from a.z\n",
        "marts/a/z.yml": "sql: |\n  with q as (select 1 as k)\n  select * from a.x, q\n",
    })
    [problem] = problems_of(root)
    assert "dependency cycle:" in problem.message
    path = problem.message.split(": ", 1)[1].split(" -> ")
    assert path[0] == path[-1] and set(path) == {"a.x", "a.y", "a.z"} and len(path) == 4
    for reader, read in zip(path, path[1:]):  # each mart reads the next
        assert read in (root / "marts" / "a" / f"{reader[2:]}.yml").read_text()
    assert "each reads the next" in problem.hint
    code, output = cli("validate", "--project-dir", str(root))
    assert_clean_failure(code, output)
    assert "dependency cycle: " in output


def test_missing_env_var_only_when_its_target_is_used(tmp_path):
    config = SOURCES + "  pg: {type: postgres, dsn: \"${MARTCTL_TEST_NOT_SET_DSN}\"}\n"
    config = config.replace("targets:\n  local: {type: duckdb, path: wh.duckdb}\n", "targets:\n  local: {type: duckdb, path: wh.duckdb}\n  pg: {type: postgres, dsn: \"${MARTCTL_TEST_NOT_SET_DSN}\"}\n")
    config = config.rsplit("  pg:", 1)[0]
    root = write_project(tmp_path, {"config.yaml": config, "marts/a/m.yml": "sql: select 1 as x\n"})
    assert problems_of(root) == []  # the default target needs no variable
    [problem] = problems_of(root, "pg")
    assert "environment variable MARTCTL_TEST_NOT_SET_DSN is not set (target 'pg')" in problem.message
    assert problem.file.name == "config.yaml" and problem.line == 5
    code, output = run_subprocess("validate", "-t", "pg", cwd=root)
    assert_clean_failure(code, output)
    assert "MARTCTL_TEST_NOT_SET_DSN" in output


def test_no_config_says_where_it_looked(tmp_path):
    stray = next((folder / "config.yaml" for folder in tmp_path.resolve().parents if (folder / "config.yaml").is_file()), None)
    assert stray is None, f"{stray} is above pytest's temporary folder and martctl looks upwards (as git does): move it away"
    code, output = run_subprocess("validate", cwd=tmp_path)
    assert_clean_failure(code, output)
    assert f"no config.yaml in {tmp_path.resolve()}" in output
    assert "martctl init" in output


def test_unknown_target(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "sql: select 1 as x\n"})
    code, output = cli("ls", "--project-dir", str(root), "-t", "prod")
    assert_clean_failure(code, output)
    assert "unknown target 'prod'" in output
    code, output = cli("validate", "--project-dir", str(root), "-t", "locl")
    assert_clean_failure(code, output)
    assert "did you mean 'local'?" in output


def test_selector_matching_nothing_is_an_error(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "sql: select 1 as x\n"})
    code, output = cli("ls", "--project-dir", str(root), "-s", "a.n")
    assert_clean_failure(code, output)
    assert "selector 'a.n' matches no mart" in output and "did you mean 'a.m'?" in output
    code, output = cli("compile", "--project-dir", str(root), "-s", "a.m", "--exclude", "tag:nope", "-q")
    assert_clean_failure(code, output)
    assert "selector 'tag:nope' matches no mart" in output


def test_unknown_dialect(tmp_path):
    root = write_project(tmp_path, {"marts/a/m.yml": "dialect: postgress\nsql: select 1 as x\n"})
    [problem] = problems_of(root)
    assert problem.message == "unknown SQL dialect 'postgress'" and problem.hint == "did you mean 'postgres'?"
    code, output = cli("compile", "--project-dir", str(REPO), "--dialect", "snowflak", "-q")
    assert_clean_failure(code, output)
    assert "did you mean 'snowflake'?" in output


def test_validate_reports_every_problem_at_once(tmp_path):
    root = write_project(tmp_path, {
        "config.yaml": SOURCES,
        "marts/a/one.yml": "descriptoin: typo\nsql: select 1 as x\n",
        "marts/a/two.yml": "sql: |\n  select * from raw.ordrs\n",
        "marts/b/three.yml": "sql: |\n  select\n  from (\n",
        "marts/b/fine.yml": "sql: select * from a.one\n",
    })
    problems = problems_of(root)
    assert len(problems) == 3, [p.render() for p in problems]
    assert {p.file.name for p in problems} == {"one.yml", "two.yml", "three.yml"}
    code, output = run_subprocess("validate", cwd=root)
    assert_clean_failure(code, output)
    assert "3 problems found" in output
    for name in ("one.yml", "two.yml", "three.yml"):
        assert name in output


def test_broken_mart_is_reported_once_not_again_at_its_readers(tmp_path):
    root = write_project(tmp_path, {
        "marts/a/base.yml": "description: forgot the SQL\n",
        "marts/a/top.yml": "sql: select * from a.base\n",
    })
    problems = problems_of(root)
    assert [p.message for p in problems] == ["mart 'base' has no SQL"]


def test_cycle_and_other_problems_together(tmp_path):
    root = write_project(tmp_path, {
        "marts/a/x.yml": "sql: select * from a.y\n",
        "marts/a/y.yml": "sql: select * from a.x\n",
        "marts/a/w.yml": "sql: select * from a.nothing\n",
    })
    messages = [p.message for p in problems_of(root)]
    assert any("unknown table 'a.nothing'" in m for m in messages)
    assert any(m.startswith("dependency cycle") for m in messages)


def test_validate_json(tmp_path):
    import json

    root = write_project(tmp_path, {"marts/a/m.yml": "sql: select * from a.nope\n"})
    code, output = run_subprocess("validate", "--json", cwd=root)
    assert code == 2
    data = json.loads(output[: output.rindex("}") + 1])
    assert data["valid"] is False and data["problems"][0]["file"].endswith("m.yml")


def test_demo_validates(demo_dir):
    code, output = run_subprocess("validate", cwd=demo_dir)
    assert code == 0, output
    assert "no problems" in output


MALFORMED_MARTS = [
    "columns: {a: 3}\nsql: select 1 as a\n",
    "columns: {a: {tests: 3}}\nsql: select 1 as a\n",
    "columns: {a: {tests: [{accepted_values: 3}]}}\nsql: select 1 as a\n",
    "tests: [{unique: 3}]\nsql: select 1 as a\n",
    "tests: [{row_count: {min: x}}]\nsql: select 1 as a\n",
    "tests: [3]\nsql: select 1 as a\n",
    "tests: [{sql: {sql_file: 3}}]\nsql: select 1 as a\n",
    "tests: {unique: [a]}\nsql: select 1 as a\n",
    "unit_tests: [3]\nsql: select 1 as a\n",
    "unit_tests: [{given: {x: [3]}, expect: [3]}]\nsql: select 1 as a\n",
    "unit_tests: [{given: {}, expect: 3}]\nsql: select 1 as a\n",
    "incremental: {unique_key: 3}\nmaterialized: incremental\nsql: select 1 as a\n",
    "materialized: 3\nsql: select 1 as a\n",
    "sql: 3\n",
    "name: 3\nsql: select 1\n",
    "marts: 3\n",
    "marts: [{sql: select 1}]\n",
    "[1, 2]\n",
    "tags: [[1]]\nsql: select 1\n",
    "sql: select 1 as a; select 2 as b\n",
]
MALFORMED_CONFIGS = [
    "name: s\ntargets: 3\n",
    "name: s\ntargets:\n  local: 3\n",
    "name: s\nsources: [a]\n",
    "name: s\nsources:\n  raw: {tables: 3}\n",
    "name: s\nsources:\n  raw: {tables: {t: 3}}\n",
    "name: s\nvars: [1]\n",
    "name: s\nseeds: 3\n",
    "name: s\ntargets:\n  local: {type: nope}\n",
    "- a\n- b\n",
]


@pytest.mark.parametrize("text", MALFORMED_MARTS)
def test_malformed_mart_is_a_problem_never_a_crash(tmp_path, text):
    root = write_project(tmp_path, {"marts/a/m.yml": text})
    problems = problems_of(root)
    assert problems and all(p.file is not None for p in problems), text


@pytest.mark.parametrize("text", MALFORMED_CONFIGS)
def test_malformed_config_is_a_problem_never_a_crash(tmp_path, text):
    from martctl.errors import ProjectError

    root = write_project(tmp_path, {"config.yaml": text, "marts/a/m.yml": "sql: select 1 as a\n"})
    try:
        problems = problems_of(root)
    except ProjectError as exc:  # a config that is not a mapping at all stops loading
        problems = exc.problems
    assert problems and problems[0].file.name == "config.yaml", text
