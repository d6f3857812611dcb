"""validate, ls, compile, init: commands over the project model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from typing_extensions import Annotated

from martctl.cli.options import Debug, Exclude, Json, ProjectDir, Select, TargetOpt, Vars


def _warnings(messages) -> None:
    from martctl.cli import render

    for message in messages:
        render.warn(message)


def validate(
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    dialect: Annotated[Optional[str], typer.Option("--dialect", help="Check compiling to this dialect instead of the target's.")] = None,
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Load the whole project and report every problem (exit 2 when any)."""
    from martctl.api.validate import validate_project
    from martctl.cli import render
    from martctl.exitcodes import ExitCode

    project, problems = validate_project(project_dir, target, dialect)
    errors = [p for p in problems if p.severity == "error"]
    if json_output:
        render.print_json({"valid": not errors, "problems": [p.as_dict() for p in problems]})
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
    debug: Debug = False,
) -> None:
    """List marts: kind, tags, owner, upstream."""
    from martctl.api.context import open_project
    from martctl.cli import render

    ctx = open_project(project_dir, target, select, exclude, need_target=False)
    _warnings(ctx.warnings)
    rows = []
    for key in ctx.selected:
        mart = ctx.project.marts[key]
        parsed = ctx.graph.parsed[key]
        rows.append(
            {
                "name": key,
                "area": mart.area,
                "materialized": mart.materialized,
                "tags": list(mart.tags),
                "owner": mart.owner,
                "description": mart.description,
                "dialect": mart.dialect,
                "upstream": list(parsed.upstream_marts) + list(parsed.upstream_sources),
                "file": str(mart.file),
            }
        )
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
    dialect: Annotated[Optional[str], typer.Option("--dialect", "-d", help="Any sqlglot dialect (postgres, snowflake, bigquery, spark, trino …), no target needed.")] = None,
    allow_unsupported: Annotated[bool, typer.Option("--allow-unsupported", help="Warn instead of failing on constructs the dialect cannot express.")] = False,
    vars: Vars = None,
    json_output: Json = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Write target/compiled only, print nothing.")] = False,
    debug: Debug = False,
) -> None:
    """Print the SQL as the target will run it; also written to target/compiled/."""
    from martctl.api.context import open_project
    from martctl.cli import render
    from martctl.compiler.compile import compile_project, write_compiled

    ctx = open_project(project_dir, target, select, exclude, vars, need_target=False)
    if dialect:
        from martctl.errors import ProjectError
        from martctl.project.loader import dialect_problems

        if dialect_problems(dialect):
            raise ProjectError(dialect_problems(dialect))
    _warnings(ctx.warnings)
    catalog = {}
    if not dialect:  # sources that declare no columns: their types from the target's catalog, if reachable
        from martctl.engine.catalog import catalog_types

        catalog = catalog_types(ctx.project, ctx.target)
    compiled = compile_project(
        ctx.graph,
        dialect=dialect,
        target=None if dialect else ctx.target,
        select=ctx.selected,
        strict=not allow_unsupported,
        source_columns=catalog,
    )
    write_compiled(compiled, ctx.target_dir)
    _warnings(compiled.warnings)
    if json_output:
        render.print_json({key: item.sql for key, item in compiled.marts.items()})
        return
    if quiet:
        return
    for key, item in compiled.marts.items():
        render.sql(f"-- {key} ({item.mart.materialized}) -> {'.'.join(item.relation)}\n{item.sql};\n", compiled.dialect)


def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new project.")] = Path("."),
    debug: Debug = False,
) -> None:
    """Scaffold a new project that builds at once."""
    from martctl.cli import render
    from martctl.project.scaffold import init_project

    written = init_project(directory)
    render.info(f"created {len(written)} files in {directory}")
    render.info(f"next: cd {directory} && martctl build")


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command("ls")(ls)
    app.command()(compile)
    app.command()(init)
