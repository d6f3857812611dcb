"""Data tests (martctl/checks.py + testing.py) on a real warehouse: each kind passes on good data
and fails on planted bad data with the exact failing-row count; thresholds and severity decide
PASS / WARN / FAIL; bad tests are caught at load time with file and line."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import write_project

from martctl.api import Workspace
from martctl.api.validate import validate_project
from martctl.compiler.compile import compile_project
from martctl.engine.adapters.base import get_adapter
from martctl.errors import ProjectError
from martctl.project.model import TestSpec as Spec
from martctl.quality.checks import parse_duration, status_for
from martctl.quality.runner import prepare, run_data_tests

NOW = datetime.now().replace(microsecond=0)
FRESH, OLD = NOW - timedelta(hours=1), NOW - timedelta(days=3)

CUSTOMERS = "customer_id,name\n1,Ann\n2,Bob\n3,Cy\n"
HEADER = "item_id,customer_id,status,amount,ordered_at\n"
GOOD = [
    (1, 1, "placed", 10.5, FRESH),
    (2, 2, "shipped", 20, FRESH),
    (3, 3, "shipped", 0, FRESH),
    (4, "", "placed", 5, FRESH),  # no customer: relationships ignores nulls
]
BAD = [
    (1, 1, "placed", 10, OLD),
    (2, 1, "placed", 10, OLD),
    (2, 2, "shipped", 10, OLD),  # item 2 twice
    ("", 2, "shipped", 10, OLD),  # null item_id
    ("", 3, "lost", 10, OLD),  # null item_id, status not accepted
    (5, 9, "lost", -1, OLD),  # orphan customer, status not accepted, negative amount
    (5, 9, "placed", "", OLD),  # orphan customer; a null amount passes the expression
    (5, 3, "", 2000, OLD),  # item 5 three times; null status is not checked; amount > 1000
]
ITEMS_MART = """\
sql: select * from raw.items
columns:
  item_id:
    tests:
      - not_null
      - unique
      - not_null: {where: "status = 'lost'", name: item_id_of_lost_items}
  status: {tests: [{accepted_values: [placed, shipped]}]}
  customer_id: {tests: [{relationships: {to: raw.customers.customer_id}}]}
  amount: {tests: [{expression: "amount >= 0"}]}
  ordered_at: {tests: [{freshness: {max_age: 24h}}]}
tests:
  - row_count: {min: 1, max: 5}
  - unique: [customer_id, status]
  - sql: select * from shop.items where amount > 1000
"""
# failing rows on BAD, by test name (all 0 on GOOD)
EXPECTED_BAD = {
    "not_null__item_id": 2,
    "unique__item_id": 2,  # one failing row per duplicated key: 2 and 5
    "item_id_of_lost_items": 1,
    "accepted_values__status": 2,
    "relationships__customer_id": 2,
    "expression__amount": 1,
    "freshness__ordered_at": 1,
    "row_count": 1,
    "unique__customer_id_status": 2,  # (1, placed) and (2, shipped)
    "sql": 1,
}


def csv_rows(rows) -> str:
    return HEADER + "".join(",".join(str(v) for v in row) + "\n" for row in rows)


def project(root, rows, mart_yaml=ITEMS_MART, config=None):
    files = {"seeds/items.csv": csv_rows(rows), "seeds/customers.csv": CUSTOMERS, "marts/shop/items.yml": mart_yaml}
    if config:
        files["config.yaml"] = config
    return write_project(root, files)


def build_and_test(root, target=None, keys=None):
    """Seed and build every mart through the target's adapter, then run the data tests."""
    ctx = Workspace(root, target)
    compiled = compile_project(ctx.graph, target=ctx.target)
    adapter = get_adapter(ctx.target, ctx.project.root)
    adapter.connect()
    try:
        for seed in ctx.project.seeds:
            adapter.load_seed(seed)
        for key in ctx.graph.graph.topological_order():
            adapter.materialize(compiled.marts[key])
        results = run_data_tests(prepare(compiled, keys), adapter, threads=2)
    finally:
        adapter.close()
    return {r.name: r for r in results}


@pytest.fixture(params=["duckdb", "postgres"])
def target(request, monkeypatch):
    """(config.yaml text or None, target name) for DuckDB and the throwaway PostgreSQL server."""
    if request.param == "duckdb":
        return None, None
    server = request.getfixturevalue("pg_server")
    monkeypatch.setenv("MARTCTL_TEST_PG_DSN", server.new_database(f"checks_{len(request.node.name)}_{id(request)}"[:60]))
    config = "name: fixture\ntargets:\n  pg: {type: postgres, dsn: \"${MARTCTL_TEST_PG_DSN}\"}\n"
    return config, "pg"


def test_every_kind_passes_on_good_data(tmp_path, target):
    config, name = target
    results = build_and_test(project(tmp_path / "p", GOOD, config=config), name)
    assert set(results) == set(EXPECTED_BAD)
    assert {n: (r.status, r.failures) for n, r in results.items()} == {n: ("PASS", 0) for n in EXPECTED_BAD}
    assert all(not r.sample for r in results.values())


def test_every_kind_fails_on_planted_bad_data_with_the_exact_count(tmp_path, target):
    config, name = target
    results = build_and_test(project(tmp_path / "p", BAD, config=config), name)
    assert {n: r.failures for n, r in results.items()} == EXPECTED_BAD
    assert {r.status for r in results.values()} == {"FAIL"}
    nulls = results["not_null__item_id"]
    assert len(nulls.sample) == 2 and all(row[nulls.columns.index("item_id")] is None for row in nulls.sample)
    dupes = results["unique__item_id"]
    assert sorted(dupes.sample) == [(2, 2), (5, 3)] and dupes.columns == ["item_id", "n_records"]
    orphans = results["relationships__customer_id"]
    assert {row[orphans.columns.index("customer_id")] for row in orphans.sample} == {9}


def test_the_failing_rows_sql_is_the_target_dialect_and_reproduces_the_rows(tmp_path):
    import duckdb

    root = project(tmp_path / "p", BAD)
    results = build_and_test(root)
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    try:
        for name, result in results.items():
            assert len(con.execute(result.sql).fetchall()) == EXPECTED_BAD[name], name
    finally:
        con.close()
    assert "INTERVAL" in results["freshness__ordered_at"].sql


THRESHOLDS = """\
sql: select * from raw.items
columns:
  item_id:
    tests:
      - not_null: {name: plain}
      - not_null: {name: warn_severity, severity: warn}
      - not_null: {name: error_above_2, error_if: ">2"}
      - not_null: {name: error_from_2, error_if: ">=2"}
      - not_null: {name: warn_above_5, warn_if: ">5"}
      - not_null: {name: both_above_5, warn_if: ">5", error_if: ">5"}
      - not_null: {name: warn_severity_ignores_error_if, severity: warn, error_if: ">=1"}
      - not_null: {name: error_up_to_2, error_if: "<=2"}
      - not_null: {name: error_below_2, error_if: "<2"}
      - not_null: {name: error_at_2, error_if: "==2"}
      - not_null: {name: warn_up_to_2, warn_if: "<=2", error_if: ">9"}
      - not_null: {name: warn_below_2, warn_if: "<2", error_if: ">9"}
      - not_null: {name: warn_at_3, warn_if: "==3", error_if: ">9"}
"""


def test_thresholds_and_severity_decide_the_status(tmp_path):
    results = build_and_test(project(tmp_path / "p", BAD, THRESHOLDS))  # 2 null item_ids
    assert {n: r.status for n, r in results.items()} == {
        "plain": "FAIL",
        "warn_severity": "WARN",
        "error_above_2": "WARN",
        "error_from_2": "FAIL",
        "warn_above_5": "FAIL",  # error_if (default !=0) is checked first
        "both_above_5": "PASS",
        "warn_severity_ignores_error_if": "WARN",
        "error_up_to_2": "FAIL",  # 2 <= 2
        "error_below_2": "WARN",  # not 2 < 2: the default warn_if (!=0) holds
        "error_at_2": "FAIL",
        "warn_up_to_2": "WARN",
        "warn_below_2": "PASS",
        "warn_at_3": "PASS",
    }
    assert {r.failures for r in results.values()} == {2}
    assert [n for n, r in results.items() if r.blocking] == ["plain", "error_from_2", "warn_above_5", "error_up_to_2", "error_at_2"]


@pytest.mark.parametrize(
    "options, failures, status",
    [
        ({}, 0, "PASS"),
        ({}, 1, "FAIL"),
        ({"severity": "warn"}, 7, "WARN"),
        ({"error_if": ">10"}, 10, "WARN"),
        ({"error_if": ">10"}, 11, "FAIL"),
        ({"error_if": ">10", "warn_if": ">5"}, 5, "PASS"),
        ({"error_if": ">10", "warn_if": ">5"}, 6, "WARN"),
        ({"error_if": "!=3"}, 3, "WARN"),
        ({"warn_if": "<>0", "error_if": "=4"}, 4, "FAIL"),
        # each comparison on both sides of its edge: <= vs <, == vs =/!=
        ({"error_if": "<=2"}, 2, "FAIL"),
        ({"error_if": "<=2"}, 3, "WARN"),
        ({"error_if": "<2"}, 1, "FAIL"),
        ({"error_if": "<2"}, 2, "WARN"),
        ({"error_if": "==2"}, 2, "FAIL"),
        ({"error_if": "==2"}, 1, "WARN"),
        ({"error_if": "==2"}, 3, "WARN"),
        ({"error_if": " <= 2 "}, 2, "FAIL"),
        ({"error_if": ">9", "warn_if": "<=3"}, 3, "WARN"),
        ({"error_if": ">9", "warn_if": "<=3"}, 4, "PASS"),
        ({"error_if": ">9", "warn_if": "<3"}, 2, "WARN"),
        ({"error_if": ">9", "warn_if": "<3"}, 3, "PASS"),
        ({"error_if": ">9", "warn_if": "==3"}, 3, "WARN"),
        ({"error_if": ">9", "warn_if": "==3"}, 4, "PASS"),
    ],
)
def test_status_rule(options, failures, status):
    assert status_for(Spec("not_null", column="x", **options), failures) == status


def test_durations():
    assert parse_duration("24h") == (24, "HOUR")
    assert parse_duration("7d") == (7, "DAY")
    assert parse_duration("2w") == (14, "DAY")
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_a_test_whose_sql_fails_is_an_error_and_the_others_still_run(tmp_path):
    mart = """\
sql: select * from raw.items
columns:
  status: {tests: [{expression: "cast(status as integer) > 0"}, not_null]}
  item_id: {tests: [unique]}
"""
    results = build_and_test(project(tmp_path / "p", GOOD, mart))
    broken = results["expression__status"]
    assert broken.status == "ERROR" and broken.failures is None
    assert "Conversion Error" in broken.message and "placed" in broken.message
    assert (results["not_null__status"].status, results["unique__item_id"].status) == ("PASS", "PASS")


def test_where_and_vars_in_predicates(tmp_path):
    config = "name: fixture\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\nvars: {big: 15}\n"
    mart = """\
sql: select * from raw.items
tests:
  - expression: {expression: "amount < :big", name: below_big}
  - expression: {expression: "amount < :big", where: "status = 'placed'", name: placed_below_big}
"""
    results = build_and_test(project(tmp_path / "p", GOOD, mart, config=config))
    assert (results["below_big"].failures, results["placed_below_big"].failures) == (1, 0)


def problems_of(root) -> list[str]:
    _, problems = validate_project(root)
    return [p.render() for p in problems if p.severity == "error"]


@pytest.mark.parametrize(
    "tests, expected",
    [
        ("columns:\n  item_idd: {tests: [not_null]}\n", "column 'item_idd' is not a column of shop.items (did you mean 'item_id'?)"),
        ("tests:\n  - unique: [item_id, statuss]\n", "'statuss' is not a column"),
        ("columns:\n  customer_id: {tests: [{relationships: {to: raw.customer.customer_id}}]}\n", "'raw.customer.customer_id' names no mart or source (did you mean 'raw.customers'?)"),
        ("columns:\n  customer_id: {tests: [{relationships: {to: raw.customers.id}}]}\n", "'id' is not a column of raw.customers"),
        ("tests:\n  - expression: \"amount > 0 and colour = 'red'\"\n", "expression reads 'colour'"),
        ("columns:\n  item_id: {tests: [{not_null: {error_if: 'lots'}}]}\n", "error_if: cannot read 'lots'"),
        ("columns:\n  ordered_at: {tests: [{freshness: {max_age: soon}}]}\n", "cannot read duration 'soon'"),
        ("tests:\n  - sql: select * from shop.itemz\n", "reads unknown table 'shop.itemz'"),
        ("tests:\n  - expression: \"amount >\"\n", "expression does not parse"),
    ],
)
def test_bad_tests_are_load_time_errors_with_file_and_line(tmp_path, tests, expected):
    mart = "sql: select * from raw.items\n" + tests
    root = project(tmp_path / "p", GOOD, mart)
    found = problems_of(root)
    assert len(found) == 1 and expected in found[0], found
    assert "marts/shop/items.yml:" in found[0]
    ctx = Workspace(root)
    with pytest.raises(ProjectError) as raised:  # what test and build do before running anything
        prepare(compile_project(ctx.graph, target=ctx.target))
    assert expected in str(raised.value)


def test_unknown_kind_has_a_did_you_mean(tmp_path):
    root = project(tmp_path / "p", GOOD, "sql: select * from raw.items\ncolumns:\n  item_id: {tests: [not_nul]}\n")
    with pytest.raises(ProjectError) as raised:
        Workspace(root)
    assert "unknown test kind 'not_nul'" in str(raised.value) and "did you mean 'not_null'" in str(raised.value)


def test_a_relationship_to_an_unselected_mart_is_checked_against_its_real_columns(tmp_path):
    root = write_project(tmp_path / "p", {
        "seeds/customers.csv": CUSTOMERS,
        "marts/shop/people.yml": "sql: select customer_id as person_id, name from raw.customers\ncolumns:\n  name: {tests: [not_null]}\n",
        "marts/shop/pairs.yml": "sql: select person_id from shop.people\n"
                                "columns:\n  person_id: {tests: [{relationships: {to: shop.people.person_id}}]}\n",
    })
    ctx = Workspace(root)
    selected = ctx.select(["pairs"])[0]
    assert [t.name for t in prepare(compile_project(ctx.graph, target=ctx.target, select=selected))] == ["relationships__person_id"]
    path = root / "marts/shop/pairs.yml"
    path.write_text(path.read_text().replace("shop.people.person_id", "shop.people.persn_id"))
    assert "'persn_id' is not a column of shop.people (did you mean 'person_id'?)" in problems_of(root)[0]


def test_a_custom_test_from_a_sql_file_with_a_where(tmp_path):
    mart = """\
sql: select * from raw.items
tests:
  - sql: {sql_file: checks/expensive.sql, name: expensive}
  - sql: {sql_file: checks/expensive.sql, where: "status = 'placed'", name: expensive_placed}
"""
    root = project(tmp_path / "p", BAD, mart)
    (root / "marts/shop/checks").mkdir()
    (root / "marts/shop/checks/expensive.sql").write_text("select item_id, amount, status from shop.items where amount >= 10\n")
    results = build_and_test(root)
    assert (results["expensive"].failures, results["expensive_placed"].failures) == (6, 2)
