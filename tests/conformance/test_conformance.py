"""Conformance: each one-construct DuckDB mart (cases/*.yaml) built by martctl on real DuckDB and
on the real Postgres, in a database whose TimeZone is UTC and in one whose TimeZone is
America/New_York; each case gives the same rows and column names everywhere, or is refused at
compile with a message naming its construct. Never a run-time failure, never a silent difference.

All cases are built in one DuckDB file and one Postgres database per time zone (no per-case
process). Deselect with `-m "not conformance"`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conformance_cases import Case, load_cases
from conformance_compare import differences
from conformance_data import ROWS, TABLES, config_sources, ddl

from martctl.errors import CompileError

pytestmark = pytest.mark.conformance

CASES = load_cases()
ZONES = {"pg_utc": "UTC", "pg_new_york": "America/New_York"}


@dataclass
class Outcome:
    kind: str  # rows | refused | failed
    message: str = ""
    columns: tuple = ()
    rows: list = ()


def write_cases_project(root: Path, cases: list[Case]) -> Path:
    """A project with one table mart per case (area `c`, one YAML file per family)."""
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(
        "name: conformance\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n" + config_sources(),
        encoding="utf-8",
    )
    families: dict[str, list] = {}
    for case in cases:
        families.setdefault(case.family, []).append({"name": case.id, "materialized": "table", "sql": case.sql})
    (root / "marts" / "c").mkdir(parents=True, exist_ok=True)
    for family, marts in families.items():
        (root / "marts" / "c" / f"{family}.yml").write_text(yaml.safe_dump({"marts": marts}, allow_unicode=True), encoding="utf-8")
    return root


def build_duckdb(root: Path, graph) -> dict[str, Outcome]:
    import duckdb

    from martctl.engine.adapters.base import get_adapter
    from martctl.project.model import Target

    con = duckdb.connect(str(root / "wh.duckdb"))
    for statement in ddl("duckdb"):
        con.execute(statement)
    for table, rows in ROWS.items():
        con.executemany(f"INSERT INTO raw.{table} VALUES ({', '.join(['?'] * len(TABLES[table]))})", rows)
    con.close()
    adapter = get_adapter(Target("local", "duckdb", {"path": "wh.duckdb"}, 1), root)

    def read(key: str) -> Outcome:
        result = adapter.query(f"SELECT * FROM {key}")
        return Outcome("rows", columns=tuple(result.columns), rows=result.rows)

    return build_each(adapter, compile_each(graph, "duckdb"), read)


def build_each(adapter, compiled: dict, read) -> dict[str, Outcome]:
    """Materialize each compiled case with martctl's adapter and read it back; a failure is its outcome."""
    adapter.connect()
    out = {}
    try:
        for key, item in compiled.items():
            if isinstance(item, Outcome):
                out[key] = item
                continue
            try:
                adapter.materialize(item)
            except Exception as exc:  # noqa: BLE001 - a run-time failure is this case's outcome
                out[key] = Outcome("failed", f"{type(exc).__name__}: {exc}")
                continue
            out[key] = read(key)
    finally:
        adapter.close()
    return out


def compile_each(graph, dialect: str) -> dict[str, object]:
    """Each case compiled alone: its CompiledMart, or the refusal (CompileError) as an Outcome."""
    from martctl.compiler.compile import compile_project

    out = {}
    for key in graph.project.marts:
        try:
            out[key] = compile_project(graph, dialect=dialect, select=[key]).marts[key]
        except CompileError as exc:
            out[key] = Outcome("refused", str(exc))
        except Exception as exc:  # noqa: BLE001 - a crash while compiling is a failure, not a refusal
            out[key] = Outcome("failed", f"compile crashed: {type(exc).__name__}: {exc}")
    return out


def build_postgres(root: Path, dsn: str, zone: str, compiled: dict) -> dict[str, Outcome]:
    import psycopg

    from martctl.engine.adapters.base import get_adapter
    from martctl.project.model import Target

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"ALTER DATABASE {con.info.dbname} SET TimeZone = '{zone}'")
    with psycopg.connect(dsn, autocommit=True) as con:
        for statement in ddl("postgres"):
            con.execute(statement)
        with con.cursor() as cur:
            for table, rows in ROWS.items():
                cur.executemany(f"INSERT INTO raw.{table} VALUES ({', '.join(['%s'] * len(TABLES[table]))})", rows)
    password = dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    adapter = get_adapter(Target("pg", "postgres", {"dsn": dsn}, 1, (password,)), root)
    with psycopg.connect(dsn, autocommit=True) as reader:  # reads in the database's own TimeZone
        assert reader.execute("SHOW TimeZone").fetchone()[0] == zone

        def read(key: str) -> Outcome:
            cur = reader.execute(f"SELECT * FROM {key}")
            return Outcome("rows", columns=tuple(d.name for d in cur.description), rows=cur.fetchall())

        return build_each(adapter, compiled, read)


@pytest.fixture(scope="module")
def outcomes(pg_server, tmp_path_factory) -> dict[str, dict[str, Outcome]]:
    from martctl.compiler.resolve import build_graph
    from martctl.project.loader import load_project

    root = write_cases_project(tmp_path_factory.mktemp("conformance"), CASES)
    graph = build_graph(load_project(root))
    results = {"duckdb": build_duckdb(root, graph)}
    compiled = compile_each(graph, "postgres")
    for engine, zone in ZONES.items():
        results[engine] = build_postgres(root, pg_server.new_database("conf"), zone, compiled)
    return {case.id: {engine: by_key[f"c.{case.id}"] for engine, by_key in results.items()} for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, outcomes):
    got = outcomes[case.id]
    duck = got["duckdb"]
    if case.refused and duck.kind == "refused":  # refused on every engine (e.g. duplicate names)
        assert case.refused.lower() in duck.message.lower(), duck.message
        assert all(got[engine].kind == "refused" for engine in ZONES), got
        return
    assert duck.kind == "rows", f"the case itself fails on DuckDB: {duck.message}\n{case.sql}"
    for engine in ZONES:
        pg = got[engine]
        if case.refused:
            assert pg.kind == "refused", f"{engine}: expected a refusal naming {case.refused!r}, got {pg.kind} {pg.message}"
            assert case.refused.lower() in pg.message.lower(), pg.message
            continue
        assert pg.kind == "rows", f"{engine}: {pg.kind}: {pg.message}\n{case.sql}"
        assert pg.columns == duck.columns, f"{engine}: column names differ\n{case.sql}"
        diff = differences(list(duck.rows), list(pg.rows), ulps=case.ulps)
        assert not diff, f"{engine}: silent difference\n{case.sql}\n" + "\n".join(diff)


def test_every_family_has_cases_and_ids_are_unique():
    assert len(CASES) >= 300
    assert len({c.id for c in CASES}) == len(CASES)
