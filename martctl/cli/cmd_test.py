"""`martctl test`: the selected marts' data tests (on the warehouse) and unit tests (in-memory DuckDB)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from martctl.cli.options import Env, Exclude, Json, ProjectDir, Select, TargetOpt, Threads, Vars

STATUS_STYLE = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red", "ERROR": "bold red", "SKIPPED": "dim"}


def test(
    project_dir: ProjectDir = Path("."),
    select: Select = None,
    exclude: Exclude = None,
    target: TargetOpt = None,
    threads: Threads = None,
    vars: Vars = None,
    kind: Annotated[str, typer.Option("--kind", metavar="all|data|unit", help="all, data (warehouse) or unit (in-memory DuckDB).")] = "all",
    junit_xml: Annotated[Optional[Path], typer.Option("--junit-xml", metavar="FILE", help="Also write JUnit XML here (for CI).")] = None,
    json_output: Json = False,
    env: Env = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table of every test: only the tests that did not pass (rows, SQL) and the summary.")] = False,
) -> None:
    """Run data tests and unit tests of the selected marts; exit 1 when an error-level test fails."""
    import martctl
    from martctl.cli import progress, render

    ws = martctl.open(project_dir, target, vars, env)
    report = ws.test(select, exclude, threads=threads, kind=kind, on_event=progress.make_warner("text"))
    if junit_xml:
        from martctl.api import write_junit

        write_junit(report.results, junit_xml)
    if json_output:
        render.print_json({"summary": report.summary(), "exit_code": report.exit_code(),
                           "results": [r.as_dict() for r in report.results]})
    else:
        show(report.results, report.seconds, quiet)
    raise typer.Exit(report.exit_code())


# -- rendering --------------------------------------------------------------------------------------


def show(results, seconds: float, quiet: bool = False) -> None:
    """The results table (not when quiet), then each failure's rows and SQL, then a one-line summary."""
    from rich.markup import escape
    from rich.table import Table


    console = _console()
    if results and not quiet:
        table = Table(title=_count(len(results), "test"), title_justify="left")
        for column, justify in (("test", "left"), ("mart", "left"), ("status", "left"), ("failing rows", "right"), ("seconds", "right")):
            table.add_column(column, justify=justify, overflow="fold")
        for r in results:
            style = STATUS_STYLE.get(r.status, "")
            failures = "" if r.failures is None else str(r.failures)
            table.add_row(escape(r.name), r.mart, f"[{style}]{r.status}[/{style}]", failures, f"{r.seconds:.2f}")
        console.print(table)
    for r in results:
        if r.status in ("FAIL", "ERROR", "WARN"):
            show_failure(r)
    console.print(summary_line(results, seconds))


def show_failure(result) -> None:
    from rich.markup import escape
    from rich.table import Table

    from martctl.cli import render

    console = _console()
    style = STATUS_STYLE.get(result.status, "")
    where = f"  ({result.file}:{result.line})" if result.file and result.line else ""
    console.print()
    console.print(f"[{style}]{result.status}[/{style}] [bold]{escape(result.name)}[/bold] on {result.mart}{escape(where)}")
    if result.message:
        console.print("  " + escape(result.message))
    if result.kind == "unit":
        if result.missing or result.unexpected:
            diff = Table(title="row diff: - expected, not returned   + returned, not expected", title_justify="left")
            diff.add_column("")
            for column in result.columns:
                diff.add_column(escape(column))
            for sign, rows, color in (("-", result.missing, "red"), ("+", result.unexpected, "green")):
                for row in rows:
                    diff.add_row(f"[{color}]{sign}[/{color}]", *(f"[{color}]{escape(_cell(v))}[/{color}]" for v in row))
            console.print(diff)
        return
    if result.sample:
        shown = f"first {len(result.sample)} of {result.failures}" if (result.failures or 0) > len(result.sample) else "all"
        rows = Table(title=f"failing rows ({shown})", title_justify="left")
        for column in result.columns:
            rows.add_column(escape(str(column)))
        for row in result.sample:
            rows.add_row(*(escape(_cell(v)) for v in row))
        console.print(rows)
    if result.sql:
        console.print("  SQL returning the failing rows:")
        render.sql(result.sql.rstrip() + ";", "sql")


def _console():
    from martctl.cli import render

    return render.out()


def _cell(value) -> str:
    return "NULL" if value is None else str(value)


def summary_line(results, seconds: float) -> str:
    from martctl.api import summary

    counts = summary(results)
    parts = [f"{counts[s]} {s}" for s in ("PASS", "WARN", "FAIL", "ERROR", "SKIPPED") if counts[s] or s == "PASS"]
    verdict = "[bold red]FAILED[/bold red]" if any(r.blocking for r in results) else "[green]OK[/green]"
    return f"{verdict}: {_count(counts['total'], 'test')}, " + ", ".join(parts) + f" in {seconds:.2f}s"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def register(app) -> None:
    app.command("test")(test)


def show_build_failures(report) -> None:
    """After `martctl build`: each test that did not pass, with its failing rows and SQL."""
    from martctl.api import from_dict

    for node in report.results.values():
        for data in node.tests:
            result = from_dict(data)
            if result.status in ("FAIL", "ERROR", "WARN"):
                show_failure(result)
