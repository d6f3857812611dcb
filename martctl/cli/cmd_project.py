"""validate, ls, compile, init: commands over the project model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from martctl.cli.options import End, Exclude, Json, ProjectDir, Select, Start, TargetOpt, Vars


def validate(
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    dialect: Annotated[Optional[str], typer.Option("--dialect", metavar="DIALECT", help="Check compiling to this dialect instead of the target's.")] = None,
    json_output: Json = False,
) -> None:
    """Load the whole project and report every problem (exit 2 when any)."""
    import martctl
    from martctl.cli import render
    from martctl.exitcodes import ExitCode

    found = martctl.validate(project_dir, target, dialect)
    project, problems, errors = found.project, found.problems, found.errors
    if json_output:
        render.print_json(found.as_dict())
    else:
        render.problems(problems)
        if not errors:
            warned = len(problems)
            verdict = "no problems" if not warned else f"no errors, {warned} warning{'s' if warned != 1 else ''}"
            render.info(f"ok: {len(project.marts)} marts, {len(project.sources)} sources, {verdict}")
        else:
            render.info(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found")
    raise typer.Exit(ExitCode.INVALID if errors else ExitCode.OK)


def ls(
    project_dir: ProjectDir = Path("."),
    select: Select = None,
    exclude: Exclude = None,
    target: TargetOpt = None,
    json_output: Json = False,
) -> None:
    """List marts: kind, tags, owner, upstream."""
    import martctl
    from martctl.cli import progress, render

    ws = martctl.open(project_dir, target)
    rows = [info.as_dict() for info in ws.ls(select, exclude, on_event=progress.make_warner())]
    if json_output:
        render.print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} marts", title_justify="left")
    longest = max((len(u) for row in rows for u in row["upstream"]), default=8)
    table.add_column("mart", no_wrap=True)  # names are never cut: tags and owner wrap first
    table.add_column("kind", no_wrap=True)
    table.add_column("tags", overflow="fold")
    table.add_column("owner", overflow="fold")
    table.add_column("upstream", min_width=min(longest, 40), overflow="fold")
    for row in rows:
        table.add_row(row["name"], row["materialized"], ", ".join(row["tags"]), row["owner"] or "", "\n".join(row["upstream"]))
    render.out().print(table)


def compile(
    project_dir: ProjectDir = Path("."),
    select: Select = None,
    exclude: Exclude = None,
    target: TargetOpt = None,
    dialect: Annotated[Optional[str], typer.Option("--dialect", "-d", metavar="DIALECT", help="Any sqlglot dialect (postgres, snowflake, bigquery, spark, trino …), no target needed.")] = None,
    allow_unsupported: Annotated[bool, typer.Option("--allow-unsupported", help="Warn instead of failing on constructs the dialect cannot express.")] = False,
    vars: Vars = None,
    json_output: Json = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Write target/compiled only, print nothing.")] = False,
    start: Start = None,
    end: End = None,
) -> None:
    """Print the SQL as the target will run it; also written to target/compiled/."""
    import martctl
    from martctl.cli import progress, render

    ws = martctl.open(project_dir, target, vars)
    compiled = ws.compile(select, exclude, dialect=dialect, allow_unsupported=allow_unsupported,
                          start=start, end=end, on_event=progress.make_warner())
    if json_output:
        render.print_json({key: item.sql for key, item in compiled.marts.items()})
        return
    if quiet:
        return
    from martctl.api import later_run_statements

    for key, item in compiled.marts.items():
        text = f"-- {key} ({item.mart.materialized}) -> {'.'.join(item.relation)}\n{item.sql};\n"
        later = later_run_statements(item)
        if later and item.backfill:
            text += (f"-- the backfill of [{item.backfill[0]}, {item.backfill[1]}) replaces the rows of that range, "
                     "in one transaction:\n" + ";\n".join(later) + ";\n")
        elif later:
            text += "-- later runs insert only the new rows, in one transaction:\n" + ";\n".join(later) + ";\n"
        render.sql(text, compiled.dialect)


def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder for the new project.")] = Path("."),
) -> None:
    """Scaffold a new project that builds at once."""
    from martctl.api import init_project
    from martctl.cli import render

    written = init_project(directory)
    render.info(f"created {len(written)} files in {directory}")
    render.info(f"next: cd {directory} && martctl build")


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command("ls")(ls)
    app.command()(compile)
    app.command()(init)
