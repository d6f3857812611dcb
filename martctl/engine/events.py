"""What a run reports as it goes: plain dataclasses, rendered by the CLI (rich, plain text or JSON)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# node statuses
SUCCESS, ERROR, SKIPPED, CANCELLED = "success", "error", "skipped", "cancelled"
UP_TO_DATE = "up to date"  # not built: nothing that decides its rows changed since its last build
LOCK_LOST = "lost run lock"  # RunReport.interrupted when the run lock was lost mid-run (exit 3)


@dataclass
class Event:
    at: float = field(default_factory=time.time, kw_only=True)

    @property
    def name(self) -> str:
        return type(self).__name__

    def as_dict(self) -> dict[str, Any]:
        data = {"event": self.name, **asdict(self)}
        data["at"] = iso(self.at)
        return data


@dataclass
class NodeResult:
    """What happened to one node (a seed or a mart)."""

    key: str
    kind: str  # seed | mart
    materialized: str  # seed | view | table | incremental
    relation: tuple[str, str]
    status: str = SKIPPED
    started_at: float | None = None
    seconds: float = 0.0
    rows: int | None = None
    error: str | None = None  # the engine's message (masked), with the compiled SQL line where known
    reason: str | None = None  # why it was skipped or cancelled ("upstream X failed", "test Y failed on X")
    test_failure: str | None = None  # an error-level test failed on it (the mart itself was built)
    tests: list[dict] = field(default_factory=list)  # test results from the after_mart hook
    sql_path: str | None = None  # target/compiled/<area>/<name>.sql
    incremental: str | None = None  # full | batch | backfill (incremental marts)
    decision: str | None = None  # why it was built ("never built", "SQL changed", ...) or is up to date

    @property
    def failed(self) -> bool:
        return self.status == ERROR or self.test_failure is not None

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}  # asdict's deep copy costs 0.5 ms a node
        data["tests"] = [dict(t) for t in self.tests]
        data["relation"] = ".".join(self.relation)
        data["started_at"] = iso(self.started_at) if self.started_at else None
        data["seconds"] = round(self.seconds, 4)
        return data


@dataclass
class RunStarted(Event):
    run_id: str
    command: str
    target: str
    threads: int
    nodes: list[str]


@dataclass
class NodeStarted(Event):
    key: str
    kind: str
    materialized: str
    relation: str
    index: int  # 1-based position in the plan
    total: int


@dataclass
class MartStarted(NodeStarted):
    pass


@dataclass
class SeedStarted(NodeStarted):
    pass


@dataclass
class NodeFinished(Event):
    result: NodeResult
    index: int
    total: int

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.name, "at": iso(self.at), "index": self.index, "total": self.total, **self.result.as_dict()}


@dataclass
class MartFinished(NodeFinished):
    """A mart was built, failed, or was skipped/cancelled (see result.status)."""


@dataclass
class SeedFinished(NodeFinished):
    pass


@dataclass
class RunReport:
    run_id: str
    command: str
    target: str
    selection: list[str]
    threads: int
    started_at: float
    finished_at: float = 0.0
    results: dict[str, NodeResult] = field(default_factory=dict)
    interrupted: str | None = None  # SIGINT | SIGTERM | fail-fast | lost run lock
    warnings: list[str] = field(default_factory=list)
    startup_seconds: float = 0.0  # starting the engine's session (Spark), before the nodes ran
    backfill: dict[str, str] | None = None  # {start, end}: the cursor range a backfill replaced

    @property
    def seconds(self) -> float:
        return (self.finished_at or time.time()) - self.started_at

    def count(self, status: str) -> int:
        return sum(1 for r in self.results.values() if r.status == status)

    @property
    def failed(self) -> list[NodeResult]:
        return [r for r in self.results.values() if r.failed]

    def exit_code(self) -> int:
        from martctl.exitcodes import ExitCode

        if self.interrupted == "SIGINT":
            return ExitCode.INTERRUPTED
        if self.interrupted == "SIGTERM":
            return ExitCode.TERMINATED
        if self.interrupted == LOCK_LOST:  # another run may be going
            return ExitCode.LOCKED
        return ExitCode.FAILED if self.failed or self.interrupted else ExitCode.OK  # stopped early: not a success

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "command": self.command,
            "target": self.target,
            "selection": self.selection,
            "backfill": self.backfill,
            "threads": self.threads,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at) if self.finished_at else None,
            "elapsed_seconds": round(self.seconds, 4),
            "session_startup_seconds": round(self.startup_seconds, 4),
            "interrupted": self.interrupted,
            "exit_code": int(self.exit_code()),
            "counts": {s: self.count(s) for s in (SUCCESS, ERROR, SKIPPED, CANCELLED, UP_TO_DATE)},
            "warnings": self.warnings,
            "results": [r.as_dict() for r in self.results.values()],
        }


@dataclass
class RunFinished(Event):
    report: RunReport

    def as_dict(self) -> dict[str, Any]:
        data = self.report.as_dict()
        data.pop("results")
        return {"event": self.name, "at": iso(self.at), **data}


def iso(stamp: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="milliseconds")
