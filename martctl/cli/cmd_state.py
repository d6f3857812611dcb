"""plan and retry: what a build would do and why; rerun what the last run did not finish."""

from __future__ import annotations

from pathlib import Path

import typer

from martctl.cli.options import (
    End,
    Exclude,
    FailFast,
    Force,
    FullRefresh,
    Json,
    LogFormat,
    ProjectDir,
    Quiet,
    Select,
    Start,
    TargetOpt,
    Threads,
    Vars,
)


def _tree(plan, title: str):
    """Nodes built because an input is built hang under that input; the rest at the top."""
    from rich.markup import escape
    from rich.tree import Tree

    tree = Tree(escape(title))
    branches = {}
    for step in plan.steps:
        decision = plan.decisions.get(step.key)
        if decision is None or not decision.build:
            continue
        cause = decision.reason.removeprefix("input ").removesuffix(" is built in this run")
        parent = branches.get(cause, tree) if cause != decision.reason else tree
        label = f"[bold]{escape(step.key)}[/bold] [dim]({step.materialized})[/dim]: {escape(decision.reason)}"
        branches[step.key] = parent.add(label)
        if decision.diff:
            branches[step.key].add(escape(decision.diff))
    return tree


def _sources(tree, sources: dict[str, str], show_all: bool) -> None:
    """How each source read tells that its data changed; those that cannot tell always (they rebuild their readers)."""
    from rich.markup import escape

    from martctl.api import CANNOT_TELL

    shown = {key: how for key, how in sources.items() if show_all or how.startswith(CANNOT_TELL)}
    if shown:
        branch = tree.add("sources (how each tells that its data changed)")
        for key, how in shown.items():
            style = "yellow" if how.startswith(CANNOT_TELL) else "dim"
            branch.add(f"[{style}]{escape(key)}: {escape(how)}[/{style}]")


def plan(
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    select: Select = None,
    exclude: Exclude = None,
    vars: Vars = None,
    full_refresh: FullRefresh = False,
    force: Force = False,
    show_all: bool = typer.Option(False, "--all", help="Also list the up-to-date marts."),
    json_out: Json = False,
    start: Start = None,
    end: End = None,
) -> None:
    """What `martctl build` would build and why (never built, SQL changed, input X changed, ...); touches nothing."""
    import martctl
    from martctl.cli import collector, progress, render

    ws = martctl.open(project_dir, target, vars)
    collector.started()  # start-up's objects frozen, not walked again (see collector.py)
    found = ws.plan("build", select, exclude, full_refresh=full_refresh, force=force, start=start, end=end,
                    on_event=progress.make_warner("json" if json_out else "text"))
    if json_out:
        render.print_json(found.as_dict())
        raise typer.Exit(0)
    fresh = [s for s in found.steps if not found.decisions[s.key].build]
    title = f"plan on {ws.target.name}: {len(found.to_build)} to build, {len(fresh)} up to date"
    if not found.state_found:
        title += " (no state in the warehouse yet)"
    if found.backfill:
        title += f" (backfill of [{found.backfill['start']}, {found.backfill['end']}))"
    tree = _tree(found, title)
    if show_all and fresh:
        branch = tree.add("[dim]up to date[/dim]")
        for step in fresh:
            branch.add(f"[dim]{step.key}[/dim]")
    _sources(tree, found.sources, show_all)
    render.out().print(tree)
    raise typer.Exit(0)


def retry(
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    vars: Vars = None,
    threads: Threads = None,
    fail_fast: FailFast = False,
    log_format: LogFormat = "text",
    quiet: Quiet = False,
) -> None:
    """Rerun what errored, failed its tests or was skipped in the last run or build, and its downstream."""
    import martctl
    from martctl.cli import progress

    ws = martctl.open(project_dir, target, vars)
    view = progress.make(log_format, quiet, ws.project.secrets())
    try:
        report = ws.retry(threads=threads, fail_fast=fail_fast, on_event=view, handle_signals=True)
    finally:
        view.close()
    view.summary(report)
    raise typer.Exit(int(report.exit_code()))


def _age(seconds) -> str:
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def freshness(
    names: list[str] = typer.Argument(None, metavar="[SOURCE]...", help="source.table keys or globs (default: all)."),
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    json_out: Json = False,
) -> None:
    """How old each source's newest row is, against its freshness limits; exit 1 when one is past error_after."""
    import martctl
    from martctl.cli import render

    ws = martctl.open(project_dir, target)
    found = ws.freshness(names or None)
    failed = any(f.status == "error" for f in found)
    if json_out:
        render.print_json({"sources": [f.as_dict() for f in found], "exit_code": int(failed)})
        raise typer.Exit(int(failed))
    from rich.table import Table

    table = Table(title=f"source freshness on {ws.target.name}", title_justify="left")
    for column in ("source", "newest row", "age", "warn after", "error after", "status", "readers if stale"):
        table.add_column(column)
    styles = {"pass": "green", "warn": "yellow", "error": "bold red", "unknown": "dim"}
    for f in found:
        status = f"[{styles[f.status]}]{f.status}[/{styles[f.status]}]" + (f" {f.message}" if f.message else "")
        table.add_row(f.source, f.newest or "", _age(f.age_seconds), _age(f.warn_after), _age(f.error_after), status,
                      {"skip": "skipped", "warn": "built, warned", "build": "built"}[f.on_stale])
    render.out().print(table)
    raise typer.Exit(int(failed))


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("retry")(retry)
    app.command("freshness")(freshness)
