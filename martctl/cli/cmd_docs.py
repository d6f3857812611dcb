"""martctl docs build|serve, martctl show, martctl debug."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from martctl.cli.options import Json, ProjectDir, TargetOpt, Vars

docs_app = typer.Typer(help="The static docs site: build it, serve it.", no_args_is_help=True, add_completion=False)


@docs_app.command("build")
def docs_build(
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    vars: Vars = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Folder to write (default: target/docs).")] = None,
    no_warehouse: Annotated[bool, typer.Option("--no-warehouse", help="Do not read row counts and types from the target.")] = False,
    json_output: Json = False,
) -> None:
    """Write a static site of the project (catalog, columns, tests, SQL, lineage pictures) to target/docs/."""
    import martctl
    from martctl.cli import render

    ws = martctl.open(project_dir, target, vars)
    site = ws.docs_build(out, warehouse=not no_warehouse)
    if json_output:
        render.print_json(site.as_dict())
        return
    for warning in site.warnings:
        render.warn(warning)
    render.info(f"wrote {site.files} files ({site.marts} marts, {site.sources} sources) to {site.path} in {site.seconds:.2f}s")
    render.info(f"open {site.index}, or: martctl docs serve")


@docs_app.command("serve")
def docs_serve(
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port on 127.0.0.1 (0: any free one).")] = 8080,
) -> None:
    """Serve the built site on http://127.0.0.1:PORT until Ctrl-C."""
    import martctl
    from martctl.cli import render

    server = martctl.open(project_dir, target).docs_server(port)
    host, bound = server.server_address[:2]
    render.info(f"serving {server.RequestHandlerClass.keywords['directory']} on http://{host}:{bound}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def show(
    mart: Annotated[str, typer.Argument(metavar="MART", help="area.name (or a bare name when unambiguous).")],
    limit: Annotated[int, typer.Option("-n", "--limit", min=0, metavar="N", help="How many rows.")] = 20,
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    json_output: Json = False,
) -> None:
    """Print a mart's first rows as the target holds them."""
    import martctl
    from martctl.cli import render

    preview = martctl.open(project_dir, target).show(mart, limit)
    if json_output:
        render.print_json(preview.as_dict())
        return
    from rich.table import Table

    where = f" ({preview.relation})" if preview.relation != preview.mart else ""
    table = Table(title=f"{preview.mart}{where}: first {len(preview.rows)} rows", title_justify="left")
    for column in preview.columns:
        table.add_column(column, overflow="fold")
    for row in preview.rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    render.out().print(table)


def debug(
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    json_output: Json = False,
) -> None:
    """Check the config, the target and its connection, the dependencies and their versions (exit 1 if one fails)."""
    import martctl
    from martctl.cli import render

    report = martctl.debug(project_dir, target)
    if json_output:
        render.print_json(report.as_dict())
    else:
        console = render.out()
        console.print("versions: " + ", ".join(f"{k} {v or 'missing'}" for k, v in report.versions.items()), soft_wrap=True)
        for check in report.checks:
            mark = "[green]OK[/green]  " if check.ok else "[bold red]FAIL[/bold red]"
            console.print(f"{mark} {check.name}: {render.escape(check.detail)}", soft_wrap=True)
            if check.hint and not check.ok:
                console.print(f"      [cyan]hint:[/cyan] {render.escape(check.hint)}", soft_wrap=True)
        console.print("All checks passed!" if report.ok else f"{sum(not c.ok for c in report.checks)} check(s) failed")
    raise typer.Exit(report.exit_code())


def register(app: typer.Typer) -> None:
    app.add_typer(docs_app, name="docs")
    app.command()(show)
    app.command()(debug)
