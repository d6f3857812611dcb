"""martctl diff on DuckDB: planted changes found exactly, checked against a brute-force comparison in Python.

The generator plants additions, deletions and changes (NULL -> value, value -> NULL, value -> value),
a retyped, an added and a removed column, and on some seeds a repeated or a NULL key. The same rows
go to Postgres in test_diff_pg.py.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import write_project
from test_validate import cli

import martctl
from martctl.engine.datadiff import diff_relations

OLD_COLUMNS = {"id": "INTEGER", "qty": "INTEGER", "price": "DOUBLE", "label": "VARCHAR", "day": "DATE", "code": "INTEGER"}
NUMBERS = {"INTEGER", "DOUBLE"}
SEEDS = range(6)


@dataclass
class Case:
    old_columns: dict[str, str]
    new_columns: dict[str, str]
    old_rows: list[tuple]
    new_rows: list[tuple]


def _value(rng: random.Random, column: str):
    if column != "id" and rng.random() < 0.15:
        return None
    import datetime

    return {"qty": lambda: rng.randrange(100), "price": lambda: round(rng.uniform(0, 500), 2),
            "label": lambda: f"l{rng.randrange(40):02d}", "day": lambda: datetime.date(2026, 1, 1 + rng.randrange(28)),
            "code": lambda: rng.randrange(10)}[column]()


def planted(seed: int, rows: int = 120) -> Case:
    """Old rows; new rows with some deleted, some added, some changed, and per seed a schema change,
    a repeated key (seed % 3 == 1) or a NULL key (seed % 3 == 2 and odd seeds)."""
    rng = random.Random(seed)
    old = [{c: (i if c == "id" else _value(rng, c)) for c in OLD_COLUMNS} for i in range(1, rows + 1)]
    new = [dict(r) for r in old if rng.random() > 0.1]  # ~10 % deleted
    for row in rng.sample(new, len(new) // 5):  # ~20 % changed in one or two columns
        for column in rng.sample(["qty", "price", "label", "day", "code"], rng.choice([1, 2])):
            was = row[column]
            while row[column] == was:  # NULL -> value, value -> NULL or value -> another value
                row[column] = None if was is not None and rng.random() < 0.3 else _value(rng, column)
    new += [{c: (rows + i if c == "id" else _value(rng, c)) for c in OLD_COLUMNS} for i in range(1, 1 + rng.randrange(5, 15))]
    new_columns = dict(OLD_COLUMNS)
    if seed % 2:  # code retyped to text, day removed, note added
        new_columns.update(code="VARCHAR", note="VARCHAR")
        del new_columns["day"]
        for row in new:
            row["code"] = None if row["code"] is None else str(row["code"])
            row["note"] = rng.choice([None, "x", "y"])
            del row["day"]
    if seed % 3 == 1:
        new.append({**rng.choice(new), "qty": 999})
    if seed % 3 == 2 and seed % 2:
        new.append({**rng.choice(new), "id": None})
    rng.shuffle(new)
    return Case(OLD_COLUMNS, new_columns, [tuple(r[c] for c in OLD_COLUMNS) for r in old],
                [tuple(r[c] for c in new_columns) for r in new])


def brute_force(case: Case, key: str = "id") -> dict:
    """The expected diff, row by row in Python."""
    common = [c for c in case.new_columns if c in case.old_columns]

    def comparable(column: str, value):
        old_type, new_type = case.old_columns[column], case.new_columns[column]
        text = old_type != new_type and not {old_type, new_type} <= NUMBERS
        return str(value) if text and value is not None else value

    def projected(rows, columns):
        return [{c: comparable(c, v) for c, v in zip(columns, r) if c in common} for r in rows]

    old, new = projected(case.old_rows, case.old_columns), projected(case.new_rows, case.new_columns)
    old_keys, new_keys = [r[key] for r in old], [r[key] for r in new]
    usable = None not in old_keys + new_keys and len(set(old_keys)) == len(old_keys) and len(set(new_keys)) == len(new_keys)
    if not usable:
        as_tuples = [Counter(tuple(r[c] for c in common) for r in side) for side in (old, new)]
        return {"by_key": False, "added": sum((as_tuples[1] - as_tuples[0]).values()),
                "removed": sum((as_tuples[0] - as_tuples[1]).values())}
    by_old, by_new = {r[key]: r for r in old}, {r[key]: r for r in new}
    both = set(by_old) & set(by_new)
    per_column = {c: sum(by_old[k][c] != by_new[k][c] for k in both) for c in common if c != key}
    changed = {k for k in both if any(by_old[k][c] != by_new[k][c] for c in per_column)}
    return {"by_key": True, "added": len(set(by_new) - set(by_old)), "removed": len(set(by_old) - set(by_new)),
            "changed": len(changed), "column_changes": per_column, "changed_keys": changed, "old": by_old, "new": by_new}


def summary(rows: list[tuple], columns: dict[str, str], column: str) -> dict:
    values = [r[list(columns).index(column)] for r in rows]
    present = [v for v in values if v is not None]
    found = {"nulls": len(values) - len(present), "distinct": len(set(present)),
             "min": min(present, default=None), "max": max(present, default=None)}
    if columns[column] in NUMBERS:
        found["sum"] = sum(present) if present else None
    return found


def check_against_brute_force(found, case: Case, sample: int, types: dict[str, str] | None = None) -> None:
    """Every figure of the engine's diff equals the brute-force comparison of the same rows (`types`: the
    engine's names of the case's column types)."""
    expected = brute_force(case)
    types = types or {}
    assert (found.old_rows, found.new_rows) == (len(case.old_rows), len(case.new_rows))
    assert found.by_key == expected["by_key"], found.key_problems
    assert (found.added, found.removed) == (expected["added"], expected["removed"])
    assert found.schema.added == {c: types.get(t, t) for c, t in case.new_columns.items() if c not in case.old_columns}
    assert found.schema.removed == {c: types.get(t, t) for c, t in case.old_columns.items() if c not in case.new_columns}
    assert set(found.schema.retyped) == {c for c in case.new_columns if case.old_columns.get(c, case.new_columns[c]) != case.new_columns[c]}
    for side, rows, columns in (("old", case.old_rows, case.old_columns), ("new", case.new_rows, case.new_columns)):
        for column in columns:
            stats = found.summaries[column][side]
            want = summary(rows, columns, column)
            if "sum" in want and want["sum"] is not None:
                assert float(stats.pop("sum")) == pytest.approx(want.pop("sum"))
            got = {k: v for k, v in stats.items() if k in want}
            assert got == want, (side, column)
    if not expected["by_key"]:
        assert found.changed is None and found.key_problems and found.sample == []
        return
    assert found.changed == expected["changed"]
    assert found.column_changes == expected["column_changes"]
    keys = [row["key"]["id"] for row in found.sample]
    assert keys == sorted(expected["changed_keys"])[:sample]  # the lowest keys, in order
    for row in found.sample:
        k = row["key"]["id"]
        want = {c: (expected["old"][k][c], expected["new"][k][c]) for c in expected["column_changes"]
                if expected["old"][k][c] != expected["new"][k][c]}
        got = {c: (v["old"], v["new"]) for c, v in row["changes"].items()}
        assert {c: tuple(map(str, p)) for c, p in got.items()} == {c: tuple(map(str, p)) for c, p in want.items()}


def load_duckdb(path: Path, tables: dict[tuple[str, str], tuple[dict[str, str], list[tuple]]]) -> None:
    import duckdb

    with duckdb.connect(str(path)) as con:
        for (schema, name), (columns, rows) in tables.items():
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create or replace table "{schema}"."{name}" ({", ".join(f"{c} {t}" for c, t in columns.items())})')
            if rows:
                con.executemany(f'insert into "{schema}"."{name}" values ({", ".join("?" * len(columns))})', rows)


def duckdb_adapter(path: Path):
    from martctl.engine.adapters.duckdb import DuckDBAdapter
    from martctl.project.model import Target

    adapter = DuckDBAdapter(Target("local", "duckdb", {"path": str(path)}), path.parent)
    adapter.connect()
    return adapter


@pytest.mark.parametrize("seed", SEEDS)
def test_planted_changes_are_found_exactly_on_duckdb(tmp_path: Path, seed: int):
    case = planted(seed)
    path = tmp_path / "w.duckdb"
    load_duckdb(path, {("a", "m"): (case.old_columns, case.old_rows), ("a__dev", "m"): (case.new_columns, case.new_rows)})
    adapter = duckdb_adapter(path)
    try:
        found = diff_relations(adapter, ("a", "m"), ("a__dev", "m"), ["id"], sample=4)
    finally:
        adapter.close()
    check_against_brute_force(found, case, 4)
    assert found.differs


def test_the_generator_plants_what_the_tests_rely_on():
    """Each kind of change, and each kind of broken key, occurs in some seed (else the tests prove less)."""
    cases = [planted(seed) for seed in SEEDS]
    expected = [brute_force(c) for c in cases]
    assert {e["by_key"] for e in expected} == {True, False}
    keyed = [(c, e) for c, e in zip(cases, expected) if e["by_key"]]
    transitions = set()
    for case, e in keyed:
        for k in e["changed_keys"]:
            for column in e["column_changes"]:
                was, now = e["old"][k][column], e["new"][k][column]
                if was != now:
                    transitions.add("null->value" if was is None else "value->null" if now is None else "value->value")
    assert transitions == {"null->value", "value->null", "value->value"}
    assert any(c.new_columns != c.old_columns for c, _ in keyed)  # a retyped column compared by key
    assert any(None in [r[0] for r in c.new_rows] for c in cases) and any(
        len({r[0] for r in c.new_rows}) < len(c.new_rows) and None not in [r[0] for r in c.new_rows] for c in cases)


def test_identical_relations_do_not_differ_and_a_composite_key_works(tmp_path: Path):
    case = planted(0)
    columns = {"a": "INTEGER", "b": "INTEGER", "v": "VARCHAR"}
    rows = [(i % 7, i // 7, f"v{i}") for i in range(50)]  # (a, b) is unique, a and b alone are not
    changed = [(a, b, "new" if (a, b) == (3, 2) else v) for a, b, v in rows]
    path = tmp_path / "w.duckdb"
    load_duckdb(path, {("a", "m"): (case.old_columns, case.old_rows), ("b", "m"): (case.old_columns, case.old_rows),
                       ("a", "c"): (columns, rows), ("b", "c"): (columns, changed)})
    adapter = duckdb_adapter(path)
    try:
        same = diff_relations(adapter, ("a", "m"), ("b", "m"), ["id"])
        multiset = diff_relations(adapter, ("a", "m"), ("b", "m"), [])
        composite = diff_relations(adapter, ("a", "c"), ("b", "c"), ["a", "b"])
    finally:
        adapter.close()
    assert not same.differs and same.by_key and (same.added, same.removed, same.changed) == (0, 0, 0)
    assert not multiset.differs and not multiset.key and multiset.changed is None
    assert composite.by_key and (composite.added, composite.removed, composite.changed) == (0, 0, 1)
    assert composite.sample == [{"key": {"a": 3, "b": 2}, "changes": {"v": {"old": "v17", "new": "new"}}}]


def test_repeated_rows_are_counted_as_a_multiset(tmp_path: Path):
    """Without a key, a row present twice in new and once in old is one addition (EXCEPT ALL, not EXCEPT)."""
    path = tmp_path / "w.duckdb"
    columns = {"id": "INTEGER", "v": "VARCHAR"}
    load_duckdb(path, {("a", "m"): (columns, [(1, "x"), (2, None), (2, None)]),
                       ("b", "m"): (columns, [(1, "x"), (1, "x"), (2, None), (3, "y")])})
    adapter = duckdb_adapter(path)
    try:
        found = diff_relations(adapter, ("a", "m"), ("b", "m"), ["id"])
    finally:
        adapter.close()
    assert not found.by_key and (found.added, found.removed) == (2, 1)
    assert found.key_problems == ["1 row(s) of the old side repeat a key (id) another row has",
                                  "1 row(s) of the new side repeat a key (id) another row has"]


@pytest.mark.parametrize("old_ids, new_ids, problems", [
    ([1, 2], [1, 2, 3, 3], ["1 row(s) of the new side repeat a key (id) another row has"]),  # unmatched, new
    ([1, 2, 4, 4, 4], [1, 2], ["2 row(s) of the old side repeat a key (id) another row has"]),  # unmatched, old
    ([1, 1, 2], [1, 2], ["1 row(s) of the old side repeat a key (id) another row has"]),  # matched, old
    ([1, 1, 2], [1, 1, 2], ["1 row(s) of the old side repeat a key (id) another row has",
                            "1 row(s) of the new side repeat a key (id) another row has"]),  # matched, both
    ([1, None], [1, 2], ["1 row(s) of the old side have a NULL in the key (id)"]),
    ([1, None, None, 3, 3], [1, 2], ["2 row(s) of the old side have a NULL in the key (id)",
                                     "1 row(s) of the old side repeat a key (id) another row has"]),
])
def test_a_repeated_or_null_key_is_said_exactly_and_never_counted_by_key(tmp_path: Path, old_ids, new_ids, problems):
    columns = {"id": "INTEGER", "v": "INTEGER"}
    case = Case(columns, columns, [(i, n) for n, i in enumerate(old_ids)], [(i, n % 2) for n, i in enumerate(new_ids)])
    path = tmp_path / "w.duckdb"
    load_duckdb(path, {("a", "m"): (columns, case.old_rows), ("b", "m"): (columns, case.new_rows)})
    adapter = duckdb_adapter(path)
    try:
        found = diff_relations(adapter, ("a", "m"), ("b", "m"), ["id"])
    finally:
        adapter.close()
    assert found.key_problems == problems
    check_against_brute_force(found, case, 5)
    old_distinct = len({i for i in old_ids if i is not None})
    assert found.summaries["id"]["old"]["distinct"] == old_distinct


# -- the API and the CLI: a project whose env dev is read at <area>__dev ------------------------------

PROJECT = {
    "marts/a/m.yml": "sql: select 1 as id\nprimary_key: id\n",
    "marts/a/same.yml": "sql: select 1 as id\ncolumns:\n  id: {tests: [unique]}\n",
    "marts/a/fresh.yml": "sql: select 1 as id\n",
    "marts/a/gone.yml": "sql: select 1 as id\n",
    "marts/a/unbuilt.yml": "sql: select 1 as id\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", PROJECT)
    case = planted(0)
    small = {"id": "INTEGER", "v": "INTEGER"}
    load_duckdb(root / "wh.duckdb", {
        ("a", "m"): (case.old_columns, case.old_rows), ("a__dev", "m"): (case.new_columns, case.new_rows),
        ("a", "same"): (small, [(1, 1), (2, None)]), ("a__dev", "same"): (small, [(2, None), (1, 1)]),
        ("a__dev", "fresh"): (small, [(1, 1)]), ("a", "gone"): (small, [(1, 1), (2, 2)]),
    })
    return root


def test_cli_diff_of_one_mart_by_env(project: Path):
    code, out = cli("diff", "a.m", "--env", "dev", "--project-dir", str(project))
    expected = brute_force(planted(0))
    assert code == 0, out
    assert "a.m: dev (a__dev.m) against prod (a.m)" in out
    assert f"by key (id): {expected['added']} added, {expected['removed']} removed, {expected['changed']} changed" in out
    assert "changed rows (first 5 by key)" in out


def test_cli_without_a_mart_lists_each_mart_that_differs_once(project: Path):
    code, out = cli("diff", "--env", "dev", "--project-dir", str(project))
    lines = [line for line in out.splitlines() if line.strip()]
    assert code == 0
    assert [line.split()[0] for line in lines[:-1]] == ["a.fresh", "a.gone", "a.m"]  # same and unbuilt are not listed
    assert "only in dev (1 rows), not in prod" in lines[0] and "not in dev, only in prod (2 rows)" in lines[1]
    assert lines[-1] == "3 of 5 mart(s) differ between dev and prod"


def test_fail_on_change_exit_code(project: Path):
    assert cli("diff", "a.m", "--env", "dev", "--fail-on-change", "--project-dir", str(project))[0] == 1
    assert cli("diff", "a.same", "--env", "dev", "--fail-on-change", "--project-dir", str(project))[0] == 0
    assert cli("diff", "--env", "dev", "-s", "a.same", "--fail-on-change", "--project-dir", str(project))[0] == 0
    assert cli("diff", "--env", "dev", "--fail-on-change", "--project-dir", str(project))[0] == 1


def test_json_shape(project: Path):
    code, out = cli("diff", "same", "--env", "dev", "--json", "--project-dir", str(project))
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"target", "env", "against", "differs", "compared", "marts", "exit_code"}
    assert (data["env"], data["against"], data["differs"], data["exit_code"]) == ("dev", "prod", False, 0)
    (mart,) = data["marts"]
    assert (mart["mart"], mart["status"], mart["relation"], mart["against_relation"]) == ("a.same", "same", "a__dev.same", "a.same")
    diff = mart["diff"]
    assert set(diff) == {"old", "new", "differs", "rows", "key", "by_key", "key_problems", "added", "removed", "changed",
                         "schema", "column_changes", "summaries", "sample"}
    assert diff["key"] == ["id"] and diff["by_key"] and diff["rows"] == {"old": 2, "new": 2}  # the unique test's column
    assert diff["summaries"]["v"] == {"old": {"nulls": 1, "distinct": 1, "min": 1, "max": 1, "sum": 1, "avg": 1.0},
                                      "new": {"nulls": 1, "distinct": 1, "min": 1, "max": 1, "sum": 1, "avg": 1.0}}
    code, out = cli("diff", "a.m", "--env", "dev", "--json", "--fail-on-change", "--sample", "2", "--project-dir", str(project))
    data = json.loads(out)
    assert code == 1 and data["exit_code"] == 1 and len(data["marts"][0]["diff"]["sample"]) == 2
    assert set(data["marts"][0]["diff"]["sample"][0]) == {"key", "changes"}


def test_api_with_explicit_relations(project: Path):
    report = martctl.open(project).diff("a.m", env="dev", relations=(("a", "m"), ("a__dev", "m")), sample=3)
    check_against_brute_force(report.marts[0].diff, planted(0), 3)
    reverse = martctl.open(project).diff("a.m", env="dev", relations=(("a__dev", "m"), ("a", "m")))
    assert (reverse.marts[0].diff.added, reverse.marts[0].diff.removed) == (
        report.marts[0].diff.removed, report.marts[0].diff.added)


@pytest.mark.parametrize("args, message, hint", [
    (["a.mm", "--env", "dev"], "unknown mart 'a.mm'", "did you mean 'a.m'?"),
    (["a.m", "--env", "dve"], "unknown environment 'dve' on target 'local'", "did you mean 'dev'?"),
    (["a.m", "--env", "dev", "--against", "prood"], "unknown environment 'prood'", "did you mean 'prod'?"),
    (["a.m", "--env", "Dev-1"], "environment 'Dev-1' is not a plain lowercase name", "dev, ci_42"),
    (["a.m", "--env", "prod"], "--env and --against are both 'prod'", "--env dev --against prod"),
    (["a.m", "--env", "dev", "--sample", "-1"], "--sample must be 0 or more", None),
    (["a.unbuilt", "--env", "dev"], "'a.unbuilt' exists neither in dev nor in prod", "martctl build -s a.unbuilt"),
    (["a.m", "--env", "dev", "-s", "a.same"], "name one mart ('a.m') or select marts", "martctl diff a.m --env dev"),
    (["--env", "dev", "-s", "a.nope"], "selector 'a.nope' matches no mart", "did you mean"),
])
def test_bad_input_is_one_message_and_exit_2(project: Path, args, message, hint):
    code, out = cli("diff", *args, "--project-dir", str(project))
    assert code == 2 and message in out and "Traceback" not in out
    assert hint is None or hint in out


def test_a_declared_primary_key_wins_and_an_unknown_one_points_at_its_line(project: Path):
    (project / "marts/a/same.yml").write_text("sql: select 1 as id\nprimary_key: [v]\ncolumns:\n  id: {tests: [unique]}\n")
    report = martctl.open(project).diff("a.same", env="dev")
    assert report.marts[0].diff.key == ("v",) and not report.marts[0].diff.by_key  # v holds a NULL: said, not counted by key
    assert report.marts[0].diff.key_problems[0] == "1 row(s) of the old side have a NULL in the key (v)"
    code, out = cli("diff", "a.same", "--env", "dev", "--project-dir", str(project))
    assert code == 0 and ("1 row(s) of the old side have a NULL in the key (v); 1 row(s) of the new side have a NULL "
                          "in the key (v): compared as multisets, 0 row(s) only in dev, 0 only in prod") in out
    (project / "marts/a/same.yml").write_text("sql: select 1 as id\n\nprimary_key: [idd]\n")
    code, out = cli("diff", "a.same", "--env", "dev", "--project-dir", str(project))
    assert code == 2 and "same.yml:3" in out and "primary_key column 'idd' is not a column of a.same" in out
    assert "did you mean 'id'?" in out


@pytest.mark.parametrize("value", ["[]", "[id, id]", "[{a: 1}]", "3"])
def test_a_bad_primary_key_is_refused_at_its_line(tmp_path: Path, value: str):
    root = write_project(tmp_path / "p", {"marts/a/m.yml": f"sql: select 1 as id\nprimary_key: {value}\n"})
    code, out = cli("validate", "--project-dir", str(root))
    assert code == 2 and "m.yml:2" in out and "primary_key" in out


def test_a_unique_test_with_where_is_not_a_key(tmp_path: Path):
    root = write_project(tmp_path / "p", {"marts/a/m.yml": (
        "sql: select 1 as id, 2 as b\ntests:\n  - unique: {columns: [id], where: b > 0}\n  - unique: [id, b]\n")})
    assert martctl.open(root).project.marts["a.m"].key_columns() == ("id", "b")


def test_validate_reports_a_primary_key_the_mart_does_not_return(tmp_path: Path):
    root = write_project(tmp_path / "p", {"marts/a/m.yml": "sql: select 1 as id, 2 as b\n\nprimary_key: [id, bb]\n"})
    code, out = cli("validate", "--project-dir", str(root))
    assert code == 2 and "m.yml:3" in out and "primary_key column 'bb' is not a column of a.m" in out
    assert "did you mean 'b'?" in out and "'id'" not in out


def test_a_build_writing_the_duckdb_file_makes_a_diff_exit_3(project: Path):
    """DuckDB allows one writing process or many readers: while another process writes, diff says who holds it."""
    import subprocess
    import sys

    writer = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); sys.stdin.readline()", str(project / "wh.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        code, out = cli("diff", "a.m", "--env", "dev", "--project-dir", str(project))
    finally:
        writer.communicate("\n")
    assert code == 3 and "another run is using" in out
    assert cli("diff", "a.m", "--env", "dev", "--project-dir", str(project))[0] == 0
