"""promote, rollback, gc: move an environment's views between versions, drop versions nobody uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from martctl.cli.cmd_run import Wait
from martctl.cli.options import DryRun, Json, ProjectDir, TargetOpt

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _show(report, json_out: bool) -> None:
    from martctl.cli import render

    if json_out:
        render.print_json(report.as_dict())
        return
    if report.refused:
        render.error(f"{report.command} refused: {report.refused} (--force to {report.command} anyway)")
        return
    console = render.out()
    for reason in report.forced:
        console.print(f"forced past: {reason}", markup=False, highlight=False)
    if report.command == "promote" and not report.changes:
        console.print(f"nothing to promote: {report.env} already reads every version of {report.source}",
                      markup=False, highlight=False)
        return
    verb = "now reads" if report.command == "promote" else "rolled back to"
    console.print(f"{report.env} {verb} {report.source}: {len(report.changes)} mart(s) re-pointed"
                  + (f", generation {report.generation}" if report.generation else ""), markup=False, highlight=False)
    for change in report.changes:
        console.print(f"  {change.key} ({change.kind}): {change.before or 'new'} -> {change.after}", markup=False, highlight=False)


def promote(
    env: Annotated[str, typer.Argument(metavar="ENV", help="The environment whose versions to promote.")],
    to: Annotated[str, typer.Option("--to", metavar="ENV", help="The environment that reads them from now on.")] = "prod",
    force: Annotated[bool, typer.Option("--force", help="Promote even when ENV's tests failed or prod changed since ENV was built.")] = False,
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    wait: Wait = None,
    json_out: Json = False,
) -> None:
    """Point --to (prod) at the versions ENV built and tested: every mart at once, one transaction, nothing recomputed."""
    import martctl

    report = martctl.open(project_dir, target).promote(env, to, force=force, wait=wait)
    _show(report, json_out)
    raise typer.Exit(report.exit_code())


def rollback(
    env: Annotated[str, typer.Option("--env", "-e", metavar="NAME", help="The environment to roll back.")] = "prod",
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    wait: Wait = None,
    json_out: Json = False,
) -> None:
    """Point the environment at the versions of its previous generation again (one transaction)."""
    import martctl

    report = martctl.open(project_dir, target).rollback(env, wait=wait)
    _show(report, json_out)
    raise typer.Exit(report.exit_code())


def _seconds(text: str) -> float:
    from martctl.errors import ProjectError

    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", text.strip())
    if not match:
        raise ProjectError(f"--older-than: cannot read '{text}'", hint="a number and a unit: 30m, 12h, 7d, 2w")
    return float(match.group(1)) * _UNITS[match.group(2)]


def gc(
    older_than: Annotated[str, typer.Option("--older-than", metavar="AGE", help="Keep versions some generation used within AGE (30m, 12h, 7d).")] = "7d",
    dry_run: DryRun = False,
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    wait: Wait = None,
    json_out: Json = False,
) -> None:
    """Drop physical versions no environment points at and none used within --older-than; report the space freed."""
    import martctl
    from martctl.cli import render

    found = martctl.open(project_dir, target).gc(_seconds(older_than), dry_run=dry_run, wait=wait)
    if json_out:
        render.print_json(found.as_dict())
        raise typer.Exit(0)
    console = render.out()
    verb = "would drop" if dry_run else "dropped"
    freed = f", {found.freed_bytes / 1e6:.1f} MB freed" if found.freed_bytes is not None else ""
    console.print(f"gc {verb} {len(found.dropped)} version(s), kept {found.kept} in use{freed}", markup=False, highlight=False)
    for name in found.dropped:
        console.print(f"  {name}", markup=False, highlight=False)
    raise typer.Exit(0)


def register(app: typer.Typer) -> None:
    app.command("promote")(promote)
    app.command("rollback")(rollback)
    app.command("gc")(gc)
