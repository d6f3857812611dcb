"""Unit tests (martctl/unit_tests.py): given rows in, expected rows out, on an in-memory DuckDB."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal

import pytest
from conftest import write_project

from martctl.api import Workspace
from martctl.api.validate import validate_project
from martctl.quality.results import TestResult
from martctl.quality.unit import compare_into, run_unit_tests, same


def unit_results(root, target=None):
    ctx = Workspace(root, target)
    return {(r.mart, r.name): r for r in run_unit_tests(ctx.graph, ctx.select()[0])}


def martctl(*args, cwd):
    return subprocess.run([sys.executable, "-m", "martctl", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_demo_unit_tests_pass(demo_dir):
    results = unit_results(demo_dir)
    assert len({mart for mart, _ in results}) >= 2
    assert {k: r.status for k, r in results.items()} == {k: "PASS" for k in results}


def test_a_planted_bug_is_caught_with_a_row_diff(demo_dir):
    path = demo_dir / "marts/data_analyst/customer_ltv.yml"
    path.write_text(path.read_text().replace("revenue - refunded >= 500 then 'gold'", "revenue - refunded >= 700 then 'gold'"))
    result = unit_results(demo_dir)[("data_analyst.customer_ltv", "tiers_and_average")]
    assert result.status == "FAIL" and result.failures == 2
    tier = result.columns.index("tier")
    assert [(row[0], row[tier]) for row in result.missing] == [(1, "gold")]
    assert [(row[0], row[tier]) for row in result.unexpected] == [(1, "silver")]

    run = martctl("test", "--kind", "unit", "-s", "customer_ltv", cwd=demo_dir)
    assert run.returncode == 1, run.stderr
    assert "FAIL tiers_and_average on data_analyst.customer_ltv" in run.stdout
    assert "1 missing, 1 unexpected" in run.stdout
    lines = [line for line in run.stdout.splitlines() if "gold" in line or "silver" in line]
    assert any("-" in line.split("│")[1] and "gold" in line for line in lines), run.stdout
    assert any("+" in line.split("│")[1] and "silver" in line for line in lines), run.stdout


def test_unit_tests_never_touch_the_warehouse_whatever_the_target(demo_dir):
    run = martctl("test", "--kind", "unit", "-t", "pg", cwd=demo_dir)  # $MARTCTL_PG_DSN is not set
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 PASS" in run.stdout
    local = martctl("test", "--kind", "unit", cwd=demo_dir)  # the DuckDB target: opening it would create the file
    assert local.returncode == 0, local.stdout + local.stderr
    assert "3 PASS" in local.stdout
    assert not (demo_dir / "warehouse.duckdb").exists()


POSTGRES_MART = """\
dialect: postgres
sql: |
  SELECT DISTINCT ON (customer_id) customer_id, amount::numeric(10, 2) AS first_amount,
         ordered_at::date AS first_day, note
  FROM raw.orders
  ORDER BY customer_id, ordered_at
unit_tests:
  - name: first_order_per_customer
    given:
      raw.orders:
        - {customer_id: 1, amount: 10.123, ordered_at: "2026-01-02 10:00:00"}
        - {customer_id: 1, amount: 99, ordered_at: "2026-01-05 10:00:00"}
        - {customer_id: 2, amount: 7, ordered_at: 2026-01-03 08:00:00, note: hello}
    expect:
      - {customer_id: 2, first_amount: 7.0, first_day: 2026-01-03, note: hello}
      - {customer_id: 1, first_amount: 10.12, first_day: "2026-01-02", note: null}
"""
ORDERS_SEED = "customer_id,amount,ordered_at,note\n1,5.5,2026-01-01 00:00:00,x\n"


def test_a_postgres_mart_runs_on_duckdb_with_unlisted_columns_null(tmp_path):
    root = write_project(tmp_path / "p", {"seeds/orders.csv": ORDERS_SEED, "marts/shop/firsts.yml": POSTGRES_MART})
    result = unit_results(root)[("shop.firsts", "first_order_per_customer")]
    assert (result.status, result.message) == ("PASS", None)


def test_an_input_left_out_is_empty_when_its_columns_are_known(tmp_path):
    mart = """\
sql: |
  select c.id, count(o.id) as orders from raw.customers c left join raw.orders o on o.customer_id = c.id group by c.id
unit_tests:
  - name: no_orders
    given:
      raw.customers: [{id: 1}, {id: 2}]
    expect: [{id: 1, orders: 0}, {id: 2, orders: 0}]
"""
    root = write_project(tmp_path / "p", {
        "seeds/customers.csv": "id,name\n1,a\n", "seeds/orders.csv": "id,customer_id\n1,1\n", "marts/shop/counts.yml": mart,
    })
    assert unit_results(root)[("shop.counts", "no_orders")].status == "PASS"


def test_inputs_get_the_types_of_the_marts_they_stand_for(tmp_path):
    """An upstream mart's DATE column given as a YAML string is a DATE in the unit test, as in the
    warehouse: year() works on it (a VARCHAR input would make DuckDB reject the mart's SQL)."""
    root = write_project(tmp_path, {
        "seeds/people.csv": "id,signed_up\n1,2024-03-01\n",
        "marts/a/dates.yml": "sql: select id, cast(signed_up as date) as signed_up from raw.people\n",
        "marts/a/years.yml": (
            "sql: select id, year(signed_up) as y from a.dates\n"
            "unit_tests:\n  - name: year_of_date\n"
            "    given: {a.dates: [{id: 1, signed_up: '2024-03-01'}]}\n"
            "    expect: [{id: 1, y: 2024}]\n"
        ),
    })
    result = unit_results(root)[("a.years", "year_of_date")]
    assert result.status == "PASS", result.message


def test_sql_that_fails_on_duckdb_is_an_error(tmp_path):
    mart = """\
sql: select cast(name as integer) as n from raw.customers
unit_tests:
  - {name: cast_fails, given: {raw.customers: [{id: 1, name: abc}]}, expect: [{n: 1}]}
"""
    root = write_project(tmp_path / "p", {"seeds/customers.csv": "id,name\n1,a\n", "marts/shop/casting.yml": mart})
    result = unit_results(root)[("shop.casting", "cast_fails")]
    assert result.status == "ERROR" and "Conversion Error" in result.message


def test_bad_unit_tests_are_load_time_errors(tmp_path):
    mart = """\
sql: select id, name from raw.customers
unit_tests:
  - name: wrong
    given: {raw.customer: [{id: 1}]}
    expect: [{id: 1, nme: a}]
"""
    root = write_project(tmp_path / "p", {"seeds/customers.csv": "id,name\n1,a\n", "marts/shop/c.yml": mart})
    _, problems = validate_project(root)
    text = "\n".join(p.render() for p in problems)
    assert "marts/shop/c.yml:3: unit test 'wrong': 'raw.customer' is not an input of shop.c" in text
    assert "did you mean 'raw.customers'?" in text
    assert "expects column 'nme', which shop.c does not return" in text


@pytest.mark.parametrize(
    "expected, actual",
    [
        (0.3, 0.1 + 0.2),
        (150, Decimal("150.00")),
        (2.0, 2),
        ("2026-01-02", date(2026, 1, 2)),
        (date(2026, 1, 2), datetime(2026, 1, 2)),
        ("2026-01-02 10:00:00", datetime(2026, 1, 2, 10)),
        (True, True),
        (None, None),
        (100.0, 100.00005),  # relative 5e-7: inside the README's 1e-6
        (-2.5, Decimal("-2.5000015")),
        (0, 1e-10),  # near zero: absolute 1e-9
    ],
)
def test_values_that_are_the_same(expected, actual):
    assert same(expected, actual)


@pytest.mark.parametrize("expected, actual", [
    (0.3, 0.31), (None, 0), (1, "1x"), ("2026-01-02", date(2026, 1, 3)), (True, False),
    (100.0, 100.0002),  # relative 2e-6: outside 1e-6 (a looser tolerance would accept it)
    (1.0, 1.005),  # relative 5e-3: a 1e-2 tolerance would accept it
    (-2.5, Decimal("-2.5001")),
    (0, 1e-7),  # near zero: outside the absolute 1e-9
])
def test_values_that_differ(expected, actual):
    assert not same(expected, actual)


def compared(expect, actual, names=("a", "b")) -> TestResult:
    result = TestResult("t", "m", "unit", "PASS")
    compare_into(result, expect, [dict(zip(names, row)) for row in actual], list(names))
    return result


def test_rows_compare_as_a_multiset_in_any_order():
    assert compared([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], [(2, "y"), (1, "x")]).status == "PASS"
    twice = compared([{"a": 1, "b": "x"}, {"a": 1, "b": "x"}], [(1, "x")])
    assert (twice.status, twice.missing, twice.unexpected) == ("FAIL", [(1, "x")], [])
    extra = compared([{"a": 1}], [(1, "x"), (3, "z")])  # only the expected columns are compared
    assert (extra.columns, extra.missing, extra.unexpected) == (["a"], [], [(3,)])


def test_expecting_a_column_the_mart_lacks_is_an_error():
    result = compared([{"c": 1}], [(1, "x")])
    assert result.status == "ERROR" and "expected column c not returned" in result.message
