"""The 22 TPC-H queries as marts (tests/tpch) over sources that declare no columns: `martctl build` on
DuckDB and `martctl build -t pg` on the real Postgres give the same marts, column for column and row for
row, with exactly equal values of the same kind (a DOUBLE on DuckDB is a double on Postgres, not a NUMERIC).

The tables are loaded into both warehouses before martctl runs (not as seeds), from the seeded
generator in tests/tpch/datagen.py; martctl learns their columns from each warehouse's catalog.
One build per engine for the whole module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot
from tpch import datagen

TPCH = Path(__file__).resolve().parent / "tpch"
SCALE = 0.005  # 1,000 parts, 7,500 orders, about 30,000 lines: every query returns rows
QUERIES = [f"queries.q{i:02d}" for i in range(1, 23)]


def _load_duckdb(path: Path, tables: dict[str, Path]) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA tpch")
        for statement in datagen.create_statements("tpch"):
            con.execute(statement)
        for name, csv in tables.items():
            con.execute(f"COPY tpch.{name} FROM '{csv}' (DELIMITER '|', HEADER false)")
    finally:
        con.close()


def _load_postgres(dsn: str, tables: dict[str, Path]) -> None:
    """The tables, keyed and indexed as a TPC-H database is (Q17 and Q20 scan lineitem per part otherwise)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE SCHEMA tpch")
        for statement in datagen.create_statements("tpch"):
            con.execute(statement)
        for name, csv in tables.items():
            with con.cursor().copy(f"COPY tpch.{name} FROM STDIN (DELIMITER '|')") as copy:
                copy.write(csv.read_bytes())
        con.execute("CREATE INDEX ON tpch.lineitem (l_partkey, l_suppkey)")
        con.execute("CREATE INDEX ON tpch.lineitem (l_orderkey)")
        con.execute("ANALYZE")


def _martctl(root: Path, *args: str, dsn: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MARTCTL_PG_DSN": dsn, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "martctl", *args, "--project-dir", str(root)], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def built(pg_server, tmp_path_factory):
    """The project built on DuckDB and on Postgres: (project dir, Postgres DSN)."""
    base = tmp_path_factory.mktemp("tpch")
    root = base / "project"
    shutil.copytree(TPCH, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    tables = datagen.write_tables(base / "data", SCALE)
    dsn = pg_server.new_database("tpch")
    _load_duckdb(root / "warehouse.duckdb", tables)
    _load_postgres(dsn, tables)
    for target in ((), ("-t", "pg")):
        run = _martctl(root, "build", *target, dsn=dsn)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "22 success" in run.stdout + run.stderr
    return root, dsn


def _rows_duckdb(root: Path, relation: str):
    import duckdb

    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        cursor = con.execute(f"SELECT * FROM {relation}")  # relation: one of QUERIES
        return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        con.close()


def _rows_postgres(dsn: str, relation: str):
    import psycopg

    with psycopg.connect(dsn) as con:
        cursor = con.execute(f"SELECT * FROM {relation}")
        return [d.name for d in cursor.description], cursor.fetchall()


def _ordered(root: Path, key: str) -> bool:
    """Does the mart's outermost query order its rows (then the tables keep that order on both engines)?"""
    sql = (root / "marts" / "queries" / f"{key.split('.')[1]}.sql").read_text()
    return sqlglot.parse_one(sql, read="duckdb").args.get("order") is not None


@pytest.mark.parametrize("key", QUERIES)
def test_tpch_query_is_the_same_on_postgres_as_on_duckdb(built, key):
    root, dsn = built
    duck_columns, duck_rows = _rows_duckdb(root, key)
    pg_columns, pg_rows = _rows_postgres(dsn, key)
    assert pg_columns == duck_columns
    assert len(duck_rows) > 0, f"{key}: the generated data gives no rows, so the comparison proves nothing"
    if not _ordered(root, key):
        duck_rows, pg_rows = sorted(duck_rows, key=repr), sorted(pg_rows, key=repr)
    assert pg_rows == duck_rows
    kinds = {(type(p).__name__, type(d).__name__) for pg_row, duck_row in zip(pg_rows, duck_rows)
             for p, d in zip(pg_row, duck_row) if p is not None and d is not None and type(p) is not type(d)}
    assert not kinds, f"{key}: values equal but of other kinds (postgres, duckdb): {kinds}"


def test_the_marts_read_undeclared_sources(built):
    """The premise: no source declares columns, and the correlated-subquery marts were typed from the catalog."""
    from martctl.project.loader import load_project

    root, _ = built
    sources = load_project(root).sources
    assert len(sources) == 8 and not any(source.columns for source in sources.values())
    q17 = (root / "target" / "compiled" / "queries" / "q17.sql").read_text()
    assert "lineitem.l_partkey = part.p_partkey" in q17  # the correlated column resolved to its table
