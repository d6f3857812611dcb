"""What the API returns and streams besides the engine's run events: listings, test reports, notices."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from martctl.engine.events import Event, iso
from martctl.quality.results import TestResult, failed, summary


@dataclass(frozen=True)
class MartInfo:
    """One mart as `martctl ls` lists it."""

    name: str
    area: str
    materialized: str
    tags: list[str]
    owner: str | None
    description: str | None
    dialect: str
    upstream: list[str]
    file: str

    @classmethod
    def of(cls, mart, parsed) -> "MartInfo":
        return cls(mart.key, mart.area, mart.materialized, list(mart.tags), mart.owner, mart.description, mart.dialect,
                   list(parsed.upstream_marts) + list(parsed.upstream_sources), str(mart.file))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Warned(Event):
    """Something a person should know before the run starts (an undeclared var, a lock taken over...)."""

    message: str


@dataclass
class LockWaiting(Event):
    """The run waits for another run's lock (`wait`): who holds it; said at once and every minute."""

    message: str


@dataclass
class TestFinished(Event):
    """One data or unit test ran (`martctl test`)."""

    __test__ = False  # not a pytest class
    result: TestResult

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.name, "at": iso(self.at), **self.result.as_dict()}


@dataclass
class TestReport:
    """What `martctl test` found: every result, in mart order."""

    __test__ = False
    target: str
    selection: list[str]
    results: list[TestResult] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def seconds(self) -> float:
        return self.finished_at - self.started_at

    @property
    def failed(self) -> bool:
        """An error-level test failed (the command exits 1)."""
        return failed(self.results)

    def exit_code(self) -> int:
        from martctl.exitcodes import ExitCode

        return int(ExitCode.FAILED if self.failed else ExitCode.OK)

    def summary(self) -> dict[str, int]:
        return summary(self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": "test",
            "target": self.target,
            "selection": self.selection,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "elapsed_seconds": round(self.seconds, 4),
            "exit_code": self.exit_code(),
            "counts": self.summary(),
            "tests": [r.as_dict() for r in self.results],
        }

    def write(self, target_dir: Path) -> Path:
        """target/run_results.json."""
        path = Path(target_dir) / "run_results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        return path
