"""Run data tests through an adapter; results are plain data the CLI renders (table, JUnit, JSON)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Sequence

from martctl.project.envvars import mask
from martctl.quality.checks import ERROR, PASS, CompiledTest
from martctl.quality.results import TestResult

SAMPLE_ROWS = 5


def run_test(test: CompiledTest, adapter, secrets: Sequence[str] = (), sample_size: int = SAMPLE_ROWS) -> TestResult:
    """Count the failing rows; fetch a few of them when there are any. Engine errors become ERROR."""
    spec = test.spec
    result = TestResult(
        name=test.name, mart=test.mart, kind=spec.kind, status=PASS, severity=spec.severity, sql=test.sql,
        file=str(spec.file) if spec.file else None, line=spec.line,
    )
    started = time.perf_counter()
    try:
        counted = adapter.query(test.count_sql)
        result.failures = int(counted.rows[0][0])
        result.status = test.status(result.failures)
        if result.failures:
            sample = adapter.query(test.sql, limit=sample_size)
            result.columns, result.sample = list(sample.columns), [tuple(r) for r in sample.rows]
            result.message = _failure_message(test, result.failures)
    except Exception as exc:  # the engine's reason, whatever the driver raised
        result.status = ERROR
        result.message = mask(str(exc).strip(), secrets) or type(exc).__name__
    result.seconds = time.perf_counter() - started
    return result


def _failure_message(test: CompiledTest, failures: int) -> str:
    spec = test.spec
    noun = "duplicated key" if spec.kind == "unique" else "failing row"
    text = f"{failures} {noun}{'s' if failures != 1 else ''}"
    if spec.kind in ("row_count", "freshness"):
        text = {"row_count": "row count out of bounds", "freshness": "data older than " + str(spec.args.get("max_age"))}[spec.kind]
    thresholds = [f"{k} {getattr(spec, k)}" for k in ("warn_if", "error_if") if getattr(spec, k)]
    return text + (f" ({', '.join(thresholds)})" if thresholds else "")


def run_data_tests(
    tests: Iterable[CompiledTest],
    adapter,
    threads: int = 1,
    on_result: Callable[[TestResult], None] | None = None,
    secrets: Sequence[str] = (),
) -> list[TestResult]:
    """Run tests in parallel (read-only queries); results come back in the tests' order."""
    tests = list(tests)

    def one(test: CompiledTest) -> TestResult:
        result = run_test(test, adapter, secrets)
        if on_result:
            on_result(result)
        return result

    if threads <= 1 or len(tests) <= 1:
        return [one(t) for t in tests]
    adapter.workers_building(min(threads, len(tests)))  # they run side by side (see Adapter.workers_building)
    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="martctl-test") as pool:
            return list(pool.map(one, tests))
    finally:
        adapter.workers_building(0)


def not_built(tests: Sequence[CompiledTest], relations: dict, adapter) -> tuple[list[CompiledTest], list[TestResult]]:
    """Split tests into those whose mart exists in the warehouse and ERRORs for the others."""
    exists = {key: adapter.exists(*relation) for key, relation in relations.items()}
    runnable, missing = [], []
    for test in tests:
        if exists.get(test.mart, True):
            runnable.append(test)
            continue
        relation = ".".join(relations[test.mart])
        missing.append(TestResult(
            name=test.name, mart=test.mart, kind=test.spec.kind, status=ERROR, severity=test.severity, sql=test.sql,
            message=f"{relation} does not exist: build it first (martctl build -s {test.mart})",
            file=str(test.spec.file) if test.spec.file else None, line=test.spec.line,
        ))
    return runnable, missing


def in_mart_order(results: Iterable[TestResult], keys: Sequence[str]) -> list[TestResult]:
    """Results grouped by mart in selection order; data tests before unit tests, stable otherwise."""
    rank = {key: i for i, key in enumerate(keys)}
    return sorted(results, key=lambda r: (rank.get(r.mart, len(rank)), r.kind == "unit"))


def prepare(compiled, keys: Sequence[str] | None = None) -> list[CompiledTest]:
    """The data tests of the given marts, compiled; tests naming unknown columns or marts raise
    ProjectError (file, line) before anything runs."""
    from martctl.errors import ProjectError
    from martctl.quality.checks import compile_tests, test_problems

    problems = [p for p in test_problems(compiled, keys) if p.severity == "error"]
    if problems:
        raise ProjectError(problems)
    return compile_tests(compiled, keys)


def build_hook(compiled, keys: Sequence[str], secrets: Sequence[str] = (),
               on_results: Callable[[str, list[TestResult]], None] | None = None):
    """The runner's `after_mart` hook for `martctl build`: run the mart's data tests right after
    it is built (its unit tests ran before the build); an error-level failure skips its downstream."""
    from martctl.quality.unit import run_unit_tests

    by_mart: dict[str, list[CompiledTest]] = {}
    for test in prepare(compiled, keys):
        by_mart.setdefault(test.mart, []).append(test)
    units: dict[str, list[TestResult]] = {}
    for result in run_unit_tests(compiled.graph, keys):
        units.setdefault(result.mart, []).append(result)

    def after_mart(key: str, adapter):
        from martctl.engine.execute import AfterMartResult

        results = units.get(key, []) + [run_test(t, adapter, secrets) for t in by_mart.get(key, ())]
        if on_results:
            on_results(key, results)
        failed_tests = [r.name for r in results if r.blocking]
        return AfterMartResult(tests=[r.as_dict() for r in results], failed_tests=failed_tests,
                               skip_downstream=bool(failed_tests))

    return after_mart
