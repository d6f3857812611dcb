"""Unit tests: given rows for a mart's inputs, the rows expected out, on an in-memory DuckDB.

The mart's SQL is compiled to DuckDB (whatever the target), its inputs are created as small
tables holding the given rows, and the output is compared with the expected rows
order-insensitively, numbers with a tolerance. The warehouse is never touched.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import time
from typing import Any, Callable, Iterable, Mapping

from sqlglot import exp

from martctl.compiler.compile import CompiledMart, CompiledProject, compile_project
from martctl.compiler.resolve import ProjectGraph
from martctl.project.model import UnitTest
from martctl.quality.checks import ERROR, FAIL, PASS, resolve_table
from martctl.quality.results import TestResult

DIALECT = "duckdb"
REL_TOL = 1e-6
ABS_TOL = 1e-9


def run_unit_tests(graph: ProjectGraph, keys: Iterable[str], on_result: Callable[[TestResult], None] | None = None) -> list[TestResult]:
    """Every unit test of the given marts (those that have some), each on its own in-memory DuckDB."""
    wanted = [k for k in keys if graph.project.marts[k].unit_tests]
    if not wanted:
        return []
    needed = set(wanted) | {p for k in wanted for p in graph.graph.parents(k)}
    compiled = compile_project(graph, dialect=DIALECT, select=needed, types=True)  # inputs typed like the real ones
    results = []
    for key in wanted:
        for unit in graph.project.marts[key].unit_tests:
            result = run_unit_test(unit, compiled.marts[key], compiled)
            if on_result:
                on_result(result)
            results.append(result)
    return results


def run_unit_test(unit: UnitTest, item: CompiledMart, project: CompiledProject) -> TestResult:
    import duckdb

    result = TestResult(name=unit.name, mart=item.key, kind="unit", status=PASS, sql=item.sql,
                        file=str(unit.file) if unit.file else None, line=unit.line)
    started = time.perf_counter()
    con = duckdb.connect(":memory:")
    try:
        given = _given_by_input(unit, item, project)
        for key, relation in item.inputs.items():
            rows = given.get(key)
            columns = input_columns(project, key, rows or ())
            if rows is None and not columns:
                raise _Invalid(f"give rows for '{key}' (its columns are unknown, so it cannot be left empty)")
            _create(con, relation, columns, rows or ())
        cursor = con.execute(item.sql)
        names = [d[0] for d in cursor.description]
        actual = [dict(zip(names, row)) for row in cursor.fetchall()]
        compare_into(result, unit.expect, actual, names)
    except _Invalid as exc:
        result.status, result.message = ERROR, str(exc)
    except duckdb.Error as exc:
        result.status, result.message = ERROR, f"DuckDB: {str(exc).strip()}"
    finally:
        con.close()
    result.seconds = time.perf_counter() - started
    return result


class _Invalid(Exception):
    pass


def _given_by_input(unit: UnitTest, item: CompiledMart, project: CompiledProject) -> dict[str, tuple]:
    """The unit test's given rows keyed by the mart or source they stand for."""
    given = {}
    for name, rows in unit.given.items():
        db, _, table = name.rpartition(".")
        key = resolve_table(project, db, table)
        if key not in item.inputs:
            inputs = ", ".join(item.inputs) or "none"
            raise _Invalid(f"'{name}' is not an input of {item.key} (its inputs: {inputs})")
        given[key] = rows
    return given


# -- input tables ---------------------------------------------------------------------------------


def input_columns(project: CompiledProject, key: str, rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Column -> DuckDB type of an input: the known schema, widened by columns the rows name."""
    model = project.graph.project
    if key in project.marts:
        known = dict(project.marts[key].columns)
    elif key in model.marts:
        known = {c: col.type for c, col in model.marts[key].columns.items()}
    else:
        source = model.sources[key]
        known = dict(source.columns)
        if source.seed is not None and not all(known.values()):
            from martctl.project.loader import seed_column_types

            known = {**seed_column_types(source.seed), **{c: t for c, t in known.items() if t}}
    columns: dict[str, str] = {}
    rows = list(rows)
    for name, kind in known.items():
        columns[name] = _duckdb_type(kind) or _infer([r.get(name) for r in rows])
    lowered = {c.lower() for c in columns}
    for row in rows:
        for name in row:
            if name.lower() not in lowered:
                lowered.add(name.lower())
                columns[name] = _infer([r.get(name) for r in rows])
    return columns


def _duckdb_type(kind: str | None) -> str | None:
    if not kind or kind.upper() == "UNKNOWN":
        return None
    try:
        return exp.DataType.build(kind, dialect=DIALECT).sql(DIALECT)
    except Exception:  # a type sqlglot cannot read: let the values decide
        return None


_PY_TYPES = ((bool, "BOOLEAN"), (int, "BIGINT"), (float, "DOUBLE"), (decimal.Decimal, "DOUBLE"),
             (dt.datetime, "TIMESTAMP"), (dt.date, "DATE"), (dt.time, "TIME"), (str, "VARCHAR"))


def _infer(values: list[Any]) -> str:
    kinds = set()
    for value in values:
        if value is not None:
            kinds.add(next((name for py, name in _PY_TYPES if isinstance(value, py)), "VARCHAR"))
    if kinds == {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    if kinds == {"DATE", "TIMESTAMP"}:
        return "TIMESTAMP"
    return kinds.pop() if len(kinds) == 1 else "VARCHAR"


def _create(con, relation: tuple[str, str], columns: Mapping[str, str], rows) -> None:
    schema, name = relation
    table = exp.table_(exp.to_identifier(name), db=exp.to_identifier(schema))
    con.execute(exp.Create(this=exp.Table(db=exp.to_identifier(schema)), kind="SCHEMA", exists=True).sql(DIALECT))
    defs = [exp.ColumnDef(this=exp.to_identifier(c), kind=exp.DataType.build(t, dialect=DIALECT)) for c, t in columns.items()]
    con.execute(exp.Create(this=exp.Schema(this=table, expressions=defs), kind="TABLE").sql(DIALECT))
    if not rows:
        return
    names = list(columns)
    lookup = [{k.lower(): v for k, v in row.items()} for row in rows]
    insert = exp.insert(exp.values([tuple(exp.Placeholder() for _ in names)]), table.copy(),
                        columns=[exp.to_identifier(c) for c in names])
    con.executemany(insert.sql(DIALECT), [[row.get(c.lower()) for c in names] for row in lookup])


# -- comparing ------------------------------------------------------------------------------------


def same(expected: Any, actual: Any) -> bool:
    """Equal as a person means it: numbers within a tolerance, dates against ISO strings."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    if isinstance(actual, (int, float, decimal.Decimal)):
        try:
            return math.isclose(float(expected), float(actual), rel_tol=REL_TOL, abs_tol=ABS_TOL)
        except (TypeError, ValueError):
            return False
    if isinstance(actual, (dt.date, dt.time)):
        return _same_moment(expected, actual)
    return actual == expected or str(actual) == str(expected)


def _same_moment(expected: Any, actual: dt.date | dt.time) -> bool:
    if isinstance(expected, str):
        try:
            expected = type(actual).fromisoformat(expected.strip())
        except ValueError:
            try:
                expected = dt.datetime.fromisoformat(expected.strip())
            except ValueError:
                return False
    if isinstance(actual, dt.datetime) and not isinstance(expected, dt.datetime) and isinstance(expected, dt.date):
        expected = dt.datetime.combine(expected, dt.time())
    elif isinstance(expected, dt.datetime) and not isinstance(actual, dt.datetime) and isinstance(actual, dt.date):
        actual = dt.datetime.combine(actual, dt.time())
    if isinstance(actual, dt.datetime) and isinstance(expected, dt.datetime) and (actual.tzinfo is None) != (expected.tzinfo is None):
        actual, expected = actual.replace(tzinfo=None), expected.replace(tzinfo=None)
    return actual == expected


def compare_into(result: TestResult, expect: Iterable[Mapping[str, Any]], actual: list[dict[str, Any]], names: list[str]) -> None:
    """Fill the result's missing/unexpected rows (a multiset match) and set its status."""
    expect = list(expect)
    lowered = {n.lower(): n for n in names}
    columns = list(dict.fromkeys(c for row in expect for c in row)) or names
    unknown = [c for c in columns if c.lower() not in lowered]
    if unknown:
        result.status = ERROR
        result.message = f"expected column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} not returned by the mart (it returns {', '.join(names)})"
        return
    projected = [tuple(row[lowered[c.lower()]] for c in columns) for row in actual]
    wanted = [tuple(row.get(c) for c in columns) for row in expect]
    unmatched = list(range(len(projected)))
    missing = []
    for row in wanted:
        hit = next((i for i in unmatched if all(same(e, a) for e, a in zip(row, projected[i]))), None)
        if hit is None:
            missing.append(row)
        else:
            unmatched.remove(hit)
    result.columns = columns
    result.missing = missing
    result.unexpected = [projected[i] for i in unmatched]
    result.failures = len(result.missing) + len(result.unexpected)
    if result.failures:
        result.status = FAIL
        result.message = f"{len(result.missing)} missing, {len(result.unexpected)} unexpected row(s) (of {len(wanted)} expected, {len(projected)} returned)"
