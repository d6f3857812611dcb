"""Showing a run as it goes: a live rich view in a terminal, timestamped plain lines under cron,
or one JSON object per event with --log-format json. Progress goes to stderr; JSON lines and the
final summary go to stdout."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Sequence, TextIO

from martctl.api import (
    CANCELLED,
    ERROR,
    SKIPPED,
    SUCCESS,
    UP_TO_DATE,
    Event,
    LockWaiting,
    NodeFinished,
    NodeResult,
    NodeStarted,
    RunFinished,
    RunReport,
    RunStarted,
    Warned,
    mask,
)

LABELS = {SUCCESS: "OK", ERROR: "ERROR", SKIPPED: "SKIP", CANCELLED: "CANCEL", UP_TO_DATE: "FRESH"}
STATUSES = (SUCCESS, ERROR, SKIPPED, CANCELLED, UP_TO_DATE)


def _rows(rows: int | None) -> str:
    return "" if rows is None else f"{rows:,} row{'s' if rows != 1 else ''}"


def _test_counts(tests) -> dict[str, int]:
    counts: dict[str, int] = {}
    for test in tests:
        counts[test.get("status", "?")] = counts.get(test.get("status", "?"), 0) + 1
    return counts


def tests_summary(tests) -> str:
    """'6 tests passed' or '6 tests: 4 PASS, 1 WARN, 1 FAIL' ('' when there were none)."""
    counts = _test_counts(tests)
    total = sum(counts.values())
    if not total:
        return ""
    noun = "test" if total == 1 else "tests"
    if set(counts) == {"PASS"}:
        return f"{total} {noun} passed"
    return f"{total} {noun}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def _outcome(result: NodeResult) -> str:
    """One line of detail: timing, rows and tests, or why it failed/was skipped."""
    if result.status == SUCCESS:
        rows = _rows(result.rows)
        if rows and result.incremental == "batch":
            rows = rows.replace("row", "new row")
        parts = (f"{result.seconds:.2f}s", rows, tests_summary(result.tests))
        text = ", ".join(p for p in parts if p)
        if result.test_failure:
            text += f"; {result.test_failure}"
        return text + (f" [{result.decision}]" if result.decision else "")
    if result.status == ERROR:
        return result.error or "failed"
    return result.reason or ""


def _took(report: RunReport, seconds: float | None) -> str:
    """'4.20s (engine 2.20s)': the whole command's wall time, and the part the engine's run took
    (and, where the engine has a session to start, Spark, the seconds that took)."""
    startup = f", session start-up {report.startup_seconds:.2f}s" if report.startup_seconds else ""
    if seconds is None:
        return f"{report.seconds:.2f}s{startup}"
    return f"{max(seconds, report.seconds):.2f}s (engine {report.seconds:.2f}s{startup})"


class JsonLines:
    """--log-format json: one JSON object per event on stdout (secrets masked)."""

    def __init__(self, secrets: Sequence[str] = (), stream: TextIO | None = None):
        self.secrets = secrets
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(mask(json.dumps(event.as_dict(), default=str), self.secrets) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass

    def summary(self, report: RunReport, seconds: float | None = None) -> None:
        pass  # RunFinished already said it


class PlainLines:
    """No TTY: timestamped lines on stderr, no colour, no spinner; a plain summary on stdout."""

    def __init__(self, secrets: Sequence[str] = (), quiet: bool = False, stream: TextIO | None = None):
        self.secrets = secrets
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.finished = 0

    def line(self, text: str, stream: TextIO | None = None) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        (stream or self.stream).write(mask(f"{stamp} {text}", self.secrets) + "\n")

    def __call__(self, event: Event) -> None:
        if isinstance(event, Warned):
            from martctl.cli import render

            render.warn(mask(event.message, self.secrets))
        elif isinstance(event, LockWaiting):
            self.line(event.message)
        elif isinstance(event, RunStarted):
            if not self.quiet:
                self.line(f"START run {event.run_id[:8]}: {event.command} on target {event.target}, "
                          f"{len(event.nodes)} nodes, {event.threads} threads")
        elif isinstance(event, NodeStarted):
            if not self.quiet:
                self.line(f"RUN    {event.key} ({event.materialized}), {self.finished}/{event.total} done")
        elif isinstance(event, NodeFinished):
            self.finished += 1  # the counter counts finished nodes, whatever order they finish in
            result = event.result
            if self.quiet and not result.failed:
                return
            label = "FAIL" if result.test_failure else LABELS[result.status]
            detail = _outcome(result).replace("\n", "\n    ")
            self.line(f"{label:<6} {self.finished}/{event.total} {result.key} ({result.materialized}) {detail}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()

    def summary(self, report: RunReport, seconds: float | None = None) -> None:
        """'Done in <the command's wall time> (engine <the run's>): counts; exit N', then each failure."""
        out = sys.stdout
        counts = ", ".join(f"{report.count(s)} {s}" for s in STATUSES if report.count(s))
        tail = f" (stopped: {report.interrupted})" if report.interrupted else ""
        tests = tests_summary([t for r in report.results.values() for t in r.tests])
        tests = f"; {tests}" if tests else ""
        out.write(f"Done in {_took(report, seconds)}: {counts or 'nothing to do'}{tests}{tail}; exit {int(report.exit_code())}\n")
        for result in report.failed:
            out.write(mask(f"  {result.key}: {_outcome(result)}", self.secrets).replace("\n", "\n    ") + "\n")
        out.flush()


class LiveView:
    """A TTY: finished nodes scroll above a live panel of what runs now, then a summary table."""

    STYLES = {SUCCESS: "green", ERROR: "bold red", SKIPPED: "yellow", CANCELLED: "magenta", UP_TO_DATE: "dim"}

    def __init__(self, secrets: Sequence[str] = (), quiet: bool = False):
        from rich.live import Live

        from martctl.cli import render

        self.secrets = secrets
        self.quiet = quiet
        self.console = render.err()
        self.running: dict[str, tuple[str, float]] = {}
        self.done: dict[str, int] = {}
        self.total = 0
        # started by the first event, not here: its refresh thread would keep a cold parse from forking
        # a second core's parser (compiler/prefill.py forks only a single-threaded process)
        self.live = Live(self._panel(), console=self.console, refresh_per_second=8, transient=True,
                         get_renderable=self._panel)

    def _panel(self):
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        now = time.perf_counter()
        for key, (kind, since) in list(self.running.items())[:12]:
            table.add_row("[cyan]running[/cyan]", key, kind, f"{now - since:.1f}s")
        if len(self.running) > 12:
            table.add_row("", f"… and {len(self.running) - 12} more", "", "")
        finished = sum(self.done.values())
        queued = max(0, self.total - finished - len(self.running))
        counts = "  ".join(f"{n} {s}" for s, n in self.done.items() if n)
        table.add_row("", f"[bold]{finished}/{self.total}[/bold] done, {len(self.running)} running, {queued} queued  {counts}", "", "")
        return table

    def __call__(self, event: Event) -> None:
        from rich.markup import escape

        if isinstance(event, Warned):
            self.live.console.print(f"[yellow]warning:[/yellow] {escape(mask(event.message, self.secrets))}")
        elif isinstance(event, LockWaiting):
            self.live.console.print(escape(mask(event.message, self.secrets)))
        elif isinstance(event, RunStarted):
            self.total = len(event.nodes)
        elif isinstance(event, NodeStarted):
            self.running[event.key] = (event.materialized, time.perf_counter())
        elif isinstance(event, NodeFinished):
            result = event.result
            self.running.pop(result.key, None)
            self.done[result.status] = self.done.get(result.status, 0) + 1
            if self.quiet and not result.failed:
                return
            style = "bold red" if result.test_failure else self.STYLES[result.status]
            label = "FAIL" if result.test_failure else LABELS[result.status]
            detail = escape(mask(_outcome(result), self.secrets)).replace("\n", "\n    ")
            self.live.console.print(f"[{style}]{label:<6}[/{style}] {escape(result.key)} [dim]({result.materialized})[/dim] {detail}")
        elif isinstance(event, RunFinished):
            self.close()
            return
        if not self.live.is_started:  # drawn at once: its counters know the run's size
            self.live.start(refresh=True)

    def close(self) -> None:
        if self.live.is_started:
            self.live.stop()

    def summary(self, report: RunReport, seconds: float | None = None) -> None:
        from rich import box
        from rich.markup import escape
        from rich.table import Table

        from martctl.cli import render

        table = Table(title=f"{report.command} on {report.target}: {_took(report, seconds)}", title_justify="left",
                      box=box.SIMPLE_HEAD)
        for column in ("node", "kind", "status", "time", "rows", "detail"):
            table.add_column(column, overflow="fold", no_wrap=column != "detail",
                             justify="right" if column in ("time", "rows") else "left")
        for result in report.results.values():
            if self.quiet and not result.failed:
                continue
            style = self.STYLES[result.status]
            detail = tests_summary(result.tests) if result.status == SUCCESS and not result.test_failure else _outcome(result)
            table.add_row(escape(result.key), result.materialized, f"[{style}]{result.status}[/{style}]",
                          f"{result.seconds:.2f}s", "" if result.rows is None else f"{result.rows:,}",
                          escape(mask(detail, self.secrets)))
        render.out().print(table)
        counts = ", ".join(f"{report.count(s)} {s}" for s in STATUSES if report.count(s))
        tail = f" (stopped: {report.interrupted})" if report.interrupted else ""
        tests = tests_summary([t for r in report.results.values() for t in r.tests])
        render.out().print(f"{counts or 'nothing to do'}{'; ' + tests if tests else ''}{tail}")


def make(log_format: str = "text", quiet: bool = False, secrets: Sequence[str] = ()):
    """The view for this run: JSON lines, a live view in a terminal, or plain lines."""
    if log_format == "json":
        return JsonLines(secrets)
    if not sys.stderr.isatty() and not os.environ.get("FORCE_COLOR") and os.environ.get("TTY_COMPATIBLE") != "1":
        return PlainLines(secrets, quiet)  # what rich would decide, without importing it (cron, pipes)
    from martctl.cli import render

    if render.err().is_terminal and not render.err().is_dumb_terminal:
        return LiveView(secrets, quiet)
    return PlainLines(secrets, quiet)


def make_warner(log_format: str = "text", secrets: Sequence[str] = ()):
    """For commands without a run view: warnings on stderr (none with --log-format json, whose
    output is one JSON document)."""
    if log_format == "json":
        return lambda event: None

    def warn(event: Event) -> None:
        if isinstance(event, Warned):
            from martctl.cli import render

            render.warn(mask(event.message, secrets))

    return warn
