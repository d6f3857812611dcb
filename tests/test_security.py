"""Security on DuckDB and in the loader (issue 10, items 2 and 3): a project cannot make martctl
read or write outside its folder, names are identifiers on every engine, DSN secrets in pieces."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from conftest import write_project
from test_run import martctl

from martctl.errors import ProjectError
from martctl.project.dsnsecrets import password_parts

SECRET_LINE = "TOP-SECRET-LINE of a file outside the project"


def _outside(tmp_path: Path) -> Path:
    """Files outside the project that a hostile project points at."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.sql").write_text(SECRET_LINE + "\n")
    (folder / "secret.csv").write_text(f"id,note\n1,{SECRET_LINE}\n")
    (folder / "secret.yml").write_text(f"sql: select '{SECRET_LINE}' as x\n")
    return folder


def _problems(root: Path) -> tuple[int, str, list[dict]]:
    run = martctl(root, "validate", "--json")
    return run.returncode, run.stdout + run.stderr, json.loads(run.stdout)["problems"]


def _where(problems: list[dict], needle: str) -> tuple[str, int | None]:
    [found] = [p for p in problems if p["message"].startswith(needle)]
    return Path(found["file"]).name, found["line"]


def test_nothing_outside_the_project_is_read(tmp_path):
    """Item 2: a sql_file going up or absolute, a symlinked mart, SQL file, seed and test SQL are
    each one problem at the YAML line that names them (or at the link), and none is read:
    the secret line never shows and never reaches the warehouse."""
    outside = _outside(tmp_path)
    root = write_project(tmp_path / "p", {
        "marts/a/up.yml": "sql_file: ../../../outside/secret.sql\n",
        "marts/a/absolute.yml": f"name: absolute\nsql_file: {outside / 'secret.sql'}\n",
        "marts/a/fine.yml": (
            "sql: select 1 as x\n"
            "tests:\n  - sql: {sql_file: ../../../outside/secret.sql}\n"
        ),
        "seeds/kept.csv": "id\n1\n",
    })
    (root / "marts" / "a" / "linked.yml").write_text("sql: select 1 as x\n")
    (root / "marts" / "a" / "linked.sql").symlink_to(outside / "secret.sql")  # a sibling .sql
    (root / "marts" / "a" / "aliased.yml").symlink_to(outside / "secret.yml")
    (root / "seeds" / "passwd.csv").symlink_to(outside / "secret.csv")

    code, output, problems = _problems(root)
    assert code == 2, output
    assert SECRET_LINE not in output
    assert all("leads outside the project folder, to " in p["message"] for p in problems), problems
    assert _where(problems, "sql_file '../../../outside/secret.sql'") == ("up.yml", 1)
    assert _where(problems, f"sql_file '{outside / 'secret.sql'}'") == ("absolute.yml", 2)
    assert _where(problems, "test sql_file") == ("fine.yml", 3)
    assert _where(problems, "this SQL file") == ("linked.sql", None)
    assert _where(problems, "this mart file") == ("aliased.yml", None)
    assert _where(problems, "this seed") == ("passwd.csv", None)
    assert len(problems) == 6

    for command in ("seed", "build"):
        run = martctl(root, command)
        assert run.returncode == 2 and SECRET_LINE not in run.stdout + run.stderr, run.stdout + run.stderr
    assert not (root / "wh.duckdb").exists()  # the warehouse was never opened

    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "config.yaml").symlink_to(outside / "secret.sql")  # not YAML: its line would be quoted
    run = martctl(linked, "validate")
    assert run.returncode == 2 and "this config file leads outside the project folder" in run.stderr, run.stderr
    assert SECRET_LINE not in run.stdout + run.stderr


HOSTILE_NAMES = {
    "config.yaml": (
        "name: names\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n"
        "  pg: {type: postgres, dsn: 'postgresql://u:p@h/db', schema_prefix: Dev-}\n"
    ),
    "marts/a/list.yml": (
        "marts:\n"
        "  - name: ../../escaped\n    sql: select 1 as x\n"
        "  - name: Upper\n    sql: select 1 as x\n"
        "  - name: user\n    sql: select 1 as x\n"
        "  - name: " + "x" * 49 + "\n    sql: select 1 as x\n"
        "  - name: " + "y" * 48 + "\n    sql: select 1 as x\n"  # the longest name that fits
        "  - name: values\n    sql: select 1 as x\n"  # not reserved by the engines; sqlglot cannot read it
    ),
    "marts/order/m.yml": "sql: select 1 as x\n",
    "seeds/Select.csv": "id\n1\n",
}


def test_names_are_identifiers_on_every_engine(tmp_path):
    """Item 2: validate reports (file:line) a name that is not a plain lowercase identifier, a
    reserved word (Postgres or DuckDB, as schema or table), or too long for Postgres once martctl's
    build suffix is added, and an area that schema_prefix turns into a bad schema name."""
    root = write_project(tmp_path / "p", HOSTILE_NAMES)
    code, output, problems = _problems(root)
    assert code == 2, output
    found = {(Path(p["file"]).name, p["line"], p["message"]) for p in problems}
    assert found == {
        ("list.yml", 2, "mart name '../../escaped' is not a plain identifier"),
        ("list.yml", 4, "mart name 'Upper' is not a plain identifier"),
        ("list.yml", 6, "mart name 'user' is a reserved word in Postgres"),
        ("list.yml", 8, f"mart name '{'x' * 49}' is 49 bytes long, at most 48"),
        ("list.yml", 12, "mart name 'values' is a reserved word in sqlglot"),
        ("list.yml", None, "area (folder) 'a' becomes schema 'Dev-a' (schema_prefix 'Dev-'), which is not a plain identifier"),
        ("config.yaml", None, "seeds schema 'raw' becomes schema 'Dev-raw' (schema_prefix 'Dev-'), which is not a plain identifier"),
        ("m.yml", None, "area (folder) 'order' is a reserved word in Postgres and DuckDB"),
        ("Select.csv", None, "seed name 'Select' is not a plain identifier"),
    }, problems


def test_compiled_sql_is_never_written_outside_target(tmp_path):
    """Item 2: a mart named ../../escaped is refused before anything is written, and
    write_compiled itself refuses a path that would leave target/compiled."""
    from martctl.compiler.compile import write_compiled

    root = write_project(tmp_path / "p", {"marts/a/list.yml": "marts:\n  - {name: ../../../escaped, sql: select 1 as x}\n"})
    for command in ("compile", "build"):
        run = martctl(root, command)
        assert run.returncode == 2 and "not a plain identifier" in run.stderr, run.stdout + run.stderr
    assert [p for p in tmp_path.rglob("escaped*")] == []

    item = SimpleNamespace(mart=SimpleNamespace(area="a", name="../../../escaped"), sql="select 1")
    with pytest.raises(ProjectError, match="outside target/compiled"):
        write_compiled(SimpleNamespace(marts={"a.escaped": item}), root / "target")
    assert [p for p in tmp_path.rglob("escaped*")] == []


def test_reserved_words_are_the_engines_own():
    """The committed DuckDB list is what this DuckDB reserves (Postgres: tests/test_security_pg.py)."""
    from martctl.project.names import DUCKDB_RESERVED

    live = duckdb.sql("select keyword_name from duckdb_keywords() "
                      "where keyword_category in ('reserved', 'type_function')").fetchall()
    assert DUCKDB_RESERVED == {row[0] for row in live}


@pytest.mark.parametrize("dsn, pieces", [
    ("postgresql://me:Pct%zzSecret55@h:5432/db", {"Pct%zzSecret55", "zzSecret55"}),
    ("host=h password=pw Secret44 dbname=db", {"pw Secret44", "Secret44"}),
    ("postgresql://me:pw@Secret66@h/db", {"pw@Secret66", "Secret66"}),
    ("host=h password='open Secret77 dbname=x", {"Secret77"}),  # unterminated: to the end
    ("postgresql://h/db?sslmode=require&password=Qu3ry-Secret&user=me", {"Qu3ry-Secret"}),
    ("postgresql://me:p%40ssw0rd@h/db", {"p%40ssw0rd", "p@ssw0rd", "ssw0rd"}),
    ("postgresql://me@h/db", set()),
])
def test_every_piece_of_a_dsn_password_is_a_secret(dsn, pieces):
    """Item 3, the parser: each piece an error could quote (the CLI tests are in test_security_pg)."""
    found = set(password_parts(dsn))
    assert pieces <= found
    assert not {"sslmode", "require", "user", "db", "dbname=db"} & found  # the rest of the DSN stays readable


def test_a_dsn_written_in_config_yaml_is_masked_too(tmp_path):
    """Item 3: a DSN typed into config.yaml (no ${ENV}) still has its password pieces masked."""
    from martctl.project.loader import load_project

    root = write_project(tmp_path / "p", {"config.yaml": (
        "name: x\ntargets:\n  pg: {type: postgres, dsn: 'host=h password=pw Secret44 dbname=db'}\n")})
    assert "Secret44" in load_project(root, environ=os.environ).target("pg").secrets


def test_a_folder_named_in_allow_outside_may_be_read(tmp_path):
    """Item 2: `allow_outside:` in config.yaml lets a symlinked seed from that folder load; a file
    from any other folder is still refused."""
    shared, other = tmp_path / "shared", tmp_path / "other"
    for folder in (shared, other):
        folder.mkdir()
        (folder / "rates.csv").write_text("id,rate\n1,0.5\n")
    root = write_project(tmp_path / "p", {"config.yaml": (
        "name: allowed\nallow_outside: [../shared]\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n")})
    (root / "seeds").mkdir()
    (root / "seeds" / "rates.csv").symlink_to(shared / "rates.csv")
    (root / "seeds" / "others.csv").symlink_to(other / "rates.csv")
    run = martctl(root, "validate")
    assert run.returncode == 2 and "seeds/others.csv: this seed leads outside" in run.stderr, run.stderr
    assert "rates.csv: this seed" not in run.stderr
    (root / "seeds" / "others.csv").unlink()
    run = martctl(root, "seed")
    assert run.returncode == 0, run.stdout + run.stderr
    with duckdb.connect(str(root / "wh.duckdb"), read_only=True) as con:
        assert con.execute("select id, rate from raw.rates").fetchall() == [(1, 0.5)]


@pytest.mark.parametrize("text", ["password=pw1", "PASSWORD = 'pw 1'", "Password= pw1", "pas\u017fword=pw1"])
def test_a_password_setting_is_masked_in_any_case(text):
    """mask() looks for `password` case-blind before running its regex: every spelling the regex
    matches (Python's case-blind `s` matches the long s) is still masked."""
    from martctl.project.envvars import mask

    assert "pw" not in mask(f"dsn: {text} host=h", ()) and "host=h" in mask(f"dsn: {text} host=h", ())


@pytest.mark.parametrize("url", ["postgresql://me:hunter22@db:5432/x", "postgres://me:hun@ter22@db/x",
                                 "spark://me:hunter22@cluster:7077"])
def test_a_password_in_any_url_is_masked_without_being_a_known_secret(url):
    """A URL's password is masked even when no ${ENV} named it (a DSN quoted in a server's message, one
    written in config.yaml): up to the last '@', since a password may hold one."""
    from martctl.project.envvars import mask

    masked = mask(f"cannot connect to {url}: refused", ())
    assert "hunter22" not in masked and "ter22" not in masked and "me:****@" in masked and masked.endswith(": refused")
