"""seed, run, build: materialize the selected marts (and seeds) on the target."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from martctl.cli.options import (
    DryRun,
    End,
    Env,
    Exclude,
    FailFast,
    Force,
    FullRefresh,
    LogFormat,
    ProjectDir,
    Quiet,
    Select,
    Start,
    TargetOpt,
    Threads,
    Vars,
)

Wait = Annotated[Optional[float], typer.Option("--wait", min=0, metavar="SECONDS", help="If another run holds the target's lock, wait up to SECONDS for it (default: exit 3 at once).")]
LOG_FORMATS = ("text", "json")


def _print_plan(steps, log_format: str) -> None:
    from martctl.api import later_run_statements
    from martctl.cli import render

    rows = [
        {"order": i, "node": s.key, "kind": s.kind, "materialized": s.materialized,
         "relation": ".".join(s.relation), "upstream": list(s.upstream),
         "incremental_statements": later_run_statements(s.compiled) if s.compiled else []}
        for i, s in enumerate(steps, 1)
    ]
    if log_format == "json":
        render.print_json({"dry_run": True, "backfill": getattr(steps, "backfill", None), "plan": rows})
        return
    from rich.table import Table

    table = Table(title=f"dry run: {len(rows)} nodes would be built, in this order (nothing touched)", title_justify="left")
    columns = ["#", "node", "materialized", "relation", "upstream"]
    if all(row["relation"] == row["node"] for row in rows):
        columns.remove("relation")  # no schema_prefix: the relation is the node's name
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column != "upstream")
    for row in rows:
        cells = {"#": str(row["order"]), "node": row["node"], "materialized": row["materialized"],
                 "relation": row["relation"], "upstream": ", ".join(row["upstream"])}
        table.add_row(*(cells[c] for c in columns))
    render.out().print(table)
    backfill = getattr(steps, "backfill", None)
    when = (f"the backfill of [{backfill['start']}, {backfill['end']})" if backfill
            else "when its table exists (no --full-refresh)")
    for row in rows:
        if row["incremental_statements"]:
            render.sql(f"-- {row['node']}: {when}, in one transaction:\n"
                       + ";\n".join(row["incremental_statements"]) + ";", "sql")


def execute_command(
    command: str,
    project_dir: Path,
    target: str | None = None,
    select: list[str] | None = None,
    exclude: list[str] | None = None,
    threads: int | None = None,
    vars: list[str] | None = None,
    fail_fast: bool = False,
    full_refresh: bool = False,
    dry_run: bool = False,
    log_format: str = "text",
    quiet: bool = False,
    wait: float | None = None,
    force: bool = False,
    start: str | None = None,
    end: str | None = None,
    env: str | None = None,
) -> int:
    """seed/run/build through the API, rendered; returns the exit code."""
    import martctl
    from martctl.cli import collector, progress
    from martctl.errors import ProjectError

    if log_format not in LOG_FORMATS:
        raise ProjectError(f"--log-format: unknown format '{log_format}'", hint="use text or json")
    ws = martctl.open(project_dir, target, vars, env)
    collector.started()  # start-up's objects frozen, not walked again (see collector.py)
    exclude = None if command == "seed" else exclude
    if dry_run:
        warn = progress.make_warner(log_format)
        _print_plan(ws.plan(command, select, exclude, read_state=False, start=start, end=end, full_refresh=full_refresh,
                            on_event=warn), log_format)  # see `martctl plan`
        return 0
    view = progress.make(log_format, quiet, ws.project.secrets())
    try:
        report = ws.execute(command, select, exclude, threads=threads, fail_fast=fail_fast,
                            full_refresh=full_refresh, force=force, wait=wait, on_event=view, handle_signals=True,
                            start=start, end=end)
    finally:
        view.close()
    if command == "build" and log_format != "json":
        from martctl.cli.cmd_test import show_build_failures  # failing rows + SQL of the tests that did not pass

        show_build_failures(report)
    from martctl.cli.clock import process_seconds

    view.summary(report, process_seconds())
    return int(report.exit_code())


def _command(name: str, doc: str):
    def command(
        project_dir: ProjectDir = Path("."),
        target: TargetOpt = None,
        select: Select = None,
        exclude: Exclude = None,
        threads: Threads = None,
        vars: Vars = None,
        fail_fast: FailFast = False,
        full_refresh: FullRefresh = False,
        dry_run: DryRun = False,
        log_format: LogFormat = "text",
        quiet: Quiet = False,
        wait: Wait = None,
        force: Force = False,
        start: Start = None,
        end: End = None,
        env: Env = None,
    ) -> None:
        code = execute_command(name, project_dir, target, select, exclude, threads, vars, fail_fast, full_refresh,
                               dry_run, log_format, quiet, wait, force, start, end, env)
        raise typer.Exit(code)

    command.__doc__ = doc
    command.__name__ = name
    return command


def register(app: typer.Typer) -> None:
    app.command("seed")(_command("seed", "Load seeds/ CSVs into the warehouse (built aside, swapped in)."))
    app.command("run")(_command("run", "Materialize the selected marts in dependency order."))
    app.command("build")(_command("build", "Seeds, then the selected marts in dependency order, each tested right after it is built."))
