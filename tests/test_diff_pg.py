"""martctl diff on a real Postgres server: the same planted changes as on DuckDB, found exactly."""

from __future__ import annotations

from pathlib import Path

from conftest import write_project
from test_diff import SEEDS, check_against_brute_force, planted
from test_validate import cli

import martctl

PG_TYPES = {"INTEGER": "integer", "DOUBLE": "double precision", "VARCHAR": "text", "DATE": "date"}
CONFIG = ("name: d\ndialect: duckdb\ndefault_target: pg\n"
          "targets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\", schema_prefix: ci_}\n")


def load_postgres(dsn: str, tables: dict) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as con, con.cursor() as cur:
        for (schema, name), (columns, rows) in tables.items():
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            spec = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[t])) for c, t in columns.items())
            cur.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(schema, name), spec))
            holes = sql.SQL(", ").join(sql.Placeholder() * len(columns))
            cur.executemany(sql.SQL("INSERT INTO {} VALUES ({})").format(sql.Identifier(schema, name), holes), rows)


def test_planted_changes_are_found_exactly_on_postgres(pg_server, tmp_path: Path, monkeypatch):
    """Every seed's tables in one database; each diffed through the API with explicit relations."""
    dsn = pg_server.new_database()
    monkeypatch.setenv("MARTCTL_PG_DSN", dsn)
    root = write_project(tmp_path / "p", {"config.yaml": CONFIG, "marts/a/m.yml": "sql: select 1 as id\nprimary_key: id\n"})
    cases = {seed: planted(seed) for seed in SEEDS}
    tables = {}
    for seed, case in cases.items():
        tables[(f"old{seed}", "m")] = (case.old_columns, case.old_rows)
        tables[(f"new{seed}", "m")] = (case.new_columns, case.new_rows)
    load_postgres(dsn, tables)
    ws = martctl.open(root)
    for seed, case in cases.items():
        report = ws.diff("a.m", env="dev", relations=((f"old{seed}", "m"), (f"new{seed}", "m")), sample=4)
        check_against_brute_force(report.marts[0].diff, case, 4, PG_TYPES)


def test_postgres_cli_by_env_behind_the_schema_prefix(pg_server, tmp_path: Path, monkeypatch):
    dsn = pg_server.new_database()
    monkeypatch.setenv("MARTCTL_PG_DSN", dsn)
    root = write_project(tmp_path / "p", {"config.yaml": CONFIG, "marts/a/m.yml": "sql: select 1 as id\nprimary_key: id\n",
                                          "marts/a/same.yml": "sql: select 1 as id\n"})
    case = planted(3)
    load_postgres(dsn, {("ci_a", "m"): (case.old_columns, case.old_rows), ("ci_a__dev", "m"): (case.new_columns, case.new_rows),
                        ("ci_a", "same"): ({"id": "INTEGER"}, [(1,), (1,)]), ("ci_a__dev", "same"): ({"id": "INTEGER"}, [(1,), (1,)])})
    code, out = cli("diff", "--env", "dev", "--fail-on-change", "--project-dir", str(root))
    assert code == 1 and out.splitlines()[0].startswith("a.m  rows 120 -> ") and "1 of 2 mart(s) differ" in out
    code, out = cli("diff", "m", "--env", "dev", "--project-dir", str(root))
    assert code == 0 and "a.m: dev (ci_a__dev.m) against prod (ci_a.m)" in out and "column code retyped: integer -> text" in out
    assert cli("diff", "same", "--env", "dev", "--fail-on-change", "--project-dir", str(root))[0] == 0
    code, out = cli("diff", "m", "--env", "stage", "--project-dir", str(root))
    assert code == 2 and "unknown environment 'stage'" in out and "environments on this target: dev, prod" in out


def test_a_diff_never_shows_the_dsn(pg_server, tmp_path: Path, monkeypatch):
    dsn = pg_server.new_database()
    monkeypatch.setenv("MARTCTL_PG_DSN", dsn)
    root = write_project(tmp_path / "p", {"config.yaml": CONFIG, "marts/a/m.yml": "sql: select 1 as id\n"})
    load_postgres(dsn, {("ci_a", "m"): ({"id": "INTEGER"}, [(1,)]), ("ci_a__dev", "m"): ({"id": "INTEGER"}, [(2,)])})
    code, out = cli("diff", "m", "--env", "dev", "--json", "--project-dir", str(root))
    password = dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[-1]
    assert code == 0 and password not in out and '"added": 1' in out


def test_postgres_types_without_equality_or_order_are_compared_by_text(pg_server, tmp_path: Path, monkeypatch):
    """json has no = in Postgres, arrays and uuids no min: each is still compared, and summarised as far as it can be."""
    import psycopg

    dsn = pg_server.new_database()
    monkeypatch.setenv("MARTCTL_PG_DSN", dsn)
    root = write_project(tmp_path / "p", {"config.yaml": CONFIG, "marts/a/m.yml": "sql: select 1 as id\nprimary_key: id\n"})
    rows = "(1, '{\"a\": 1}', '{\"a\": 1}', '{1,2}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, 1.50)"
    with psycopg.connect(dsn, autocommit=True) as con:
        for schema, extra in (("ci_a", ""), ("ci_a__dev", ", (2, '{\"b\": 2}', null, '{3}', null, false, 2.25)")):
            con.execute(f"create schema {schema}; create table {schema}.m (id int, j json, jb jsonb, arr int[], u uuid, "
                        f"flag boolean, amount numeric(12,2)); insert into {schema}.m values {rows}{extra}")
        con.execute("update ci_a__dev.m set j = '{\"a\": 2}', arr = '{1,2,3}' where id = 1")
    report = martctl.open(root).diff("m", env="dev")
    found = report.marts[0].diff
    assert (found.added, found.removed, found.changed) == (1, 0, 1)
    assert found.column_changes == {"j": 1, "jb": 0, "arr": 1, "u": 0, "flag": 0, "amount": 0}
    assert found.summaries["flag"]["new"] == {"nulls": 0, "distinct": 2}
    assert found.summaries["j"]["new"] == {"nulls": 0}
    assert float(found.summaries["amount"]["new"]["sum"]) == 3.75
    assert found.sample[0]["changes"]["arr"] == {"old": [1, 2], "new": [1, 2, 3]}
