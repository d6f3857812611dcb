"""A data or unit test's result: plain data the CLI renders (table, JUnit, JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from martctl.quality.checks import ERROR, FAIL, PASS, SKIPPED, WARN

STATUSES = (PASS, WARN, FAIL, ERROR, SKIPPED)


@dataclass
class TestResult:
    """One data test or unit test, as run."""

    __test__ = False  # not a pytest class

    name: str
    mart: str
    kind: str  # the data test's kind, or "unit"
    status: str  # PASS | WARN | FAIL | ERROR | SKIPPED
    severity: str = "error"
    failures: int | None = None  # failing rows (data) or mismatched rows (unit)
    columns: list[str] = field(default_factory=list)  # of the sample rows
    sample: list[tuple] = field(default_factory=list)  # a few failing rows
    sql: str | None = None  # the query that returns the failing rows (data tests)
    seconds: float = 0.0
    message: str | None = None
    file: str | None = None
    line: int | None = None
    missing: list[tuple] = field(default_factory=list)  # unit tests: expected rows not returned
    unexpected: list[tuple] = field(default_factory=list)  # unit tests: rows returned, not expected

    @property
    def blocking(self) -> bool:
        """Fails the run (exit 1) and, in a build, stops the mart's downstream."""
        return self.status == FAIL or (self.status == ERROR and self.severity == "error")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("sample", "missing", "unexpected"):
            data[key] = [list(row) for row in data[key]]
        return data


def summary(results: Iterable[TestResult]) -> dict[str, int]:
    """Counts per status, plus the total."""
    counts = {status: 0 for status in STATUSES}
    for result in results:
        counts[result.status] += 1
    counts["total"] = sum(counts.values())
    return counts


def failed(results: Iterable[TestResult]) -> bool:
    """True when an error-level test failed (the run exits 1)."""
    return any(r.blocking for r in results)


def from_dict(data: dict) -> TestResult:
    """A result back from its as_dict() form (build events and run_results.json carry dicts)."""
    known = {k: v for k, v in data.items() if k in TestResult.__dataclass_fields__}
    for key in ("sample", "missing", "unexpected"):
        known[key] = [tuple(row) for row in known.get(key) or ()]
    return TestResult(**known)
