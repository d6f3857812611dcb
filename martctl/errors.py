"""One error family: every problem a user can cause carries where it is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path


class MartctlError(Exception):
    """Base of every error martctl raises on purpose."""


@dataclass
class Problem:
    """One thing wrong with the project: what, where, and how to fix it."""

    message: str
    file: Path | str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    snippet: str | None = None
    severity: str = "error"
    ref: str | None = None  # for an unknown table: the name as written (not rendered)

    def where(self) -> str:
        if self.file is None:
            return ""
        place = str(self.file)
        if self.line:
            place += f":{self.line}"
            if self.column:
                place += f":{self.column}"
        return place

    def render(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.snippet:
            snippet, column = clip(self.snippet, self.column)
            text += f"\n    {snippet}"
            if column:
                text += "\n    " + " " * (column - 1) + "^"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "message": self.message,
            "file": str(self.file) if self.file else None,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
        }


def clip(line: str, column: int | None, width: int = 100) -> tuple[str, int | None]:
    """A long source line cut to `width` characters around `column` (and the column within the cut)."""
    if len(line) <= width:
        return line, column
    start = max(0, min((column or 1) - 1 - width // 2, len(line) - width))
    head = "..." if start else ""
    tail = "..." if start + width < len(line) else ""
    return head + line[start:start + width] + tail, (column - start + len(head)) if column else None


class ProjectError(MartctlError):
    """The project (files, config, command line) is invalid: exit code 2."""

    def __init__(self, problems: list[Problem] | Problem | str, file=None, line=None, hint=None):
        if isinstance(problems, str):
            problems = [Problem(problems, file, line, hint=hint)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = [p for p in problems if p.severity == "error"] or problems
        super().__init__("\n".join(p.render() for p in self.problems))


class CompileError(ProjectError):
    """A mart's SQL cannot be parsed or rendered faithfully in the target dialect."""


class CycleError(ProjectError):
    """The marts depend on each other in a circle."""

    def __init__(self, path: list[str], file=None, line=None):
        self.path = path
        super().__init__(
            Problem(
                "dependency cycle: " + " -> ".join(path),
                file,
                line,
                hint="each reads the next: one of these marts must stop reading the next to break the cycle",
            )
        )


class AdapterError(MartctlError):
    """The warehouse refused or failed: connection, SQL at run time."""


class LockLost(AdapterError):
    """The run's lock was lost mid-run (its session ended): another run may have started, so this
    one must not swap anything more."""


class LockBusy(MartctlError):
    """Another run holds the target's lock."""

    def __init__(self, message: str, holder: dict | None = None):
        self.holder = holder or {}
        super().__init__(message)


def did_you_mean(word: str, choices) -> str | None:
    """'did you mean X?' for the closest choice, or None."""
    close = get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
