"""seed, run, build: materialize the selected marts (and seeds) on the target."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path
from typing import Optional

import typer
from typing_extensions import Annotated

from martctl.cli.options import (
    Debug,
    DryRun,
    Exclude,
    FailFast,
    FullRefresh,
    LogFormat,
    ProjectDir,
    Quiet,
    Select,
    TargetOpt,
    Threads,
    Vars,
)

Wait = Annotated[Optional[float], typer.Option("--wait", min=0, help="If another run holds the target's lock, wait up to SECONDS for it (default: exit 3 at once).")]
LOG_FORMATS = ("text", "json")


def _seeds_for(command: str, ctx, compiled, selectors) -> list:
    """seed: every seed (or those whose name/key matches --select); build: the seeds the selected
    marts read (every seed when nothing is selected); run: none."""
    seeds = list(ctx.project.seeds)
    if command == "run":
        return []
    if command == "seed":
        if not selectors:
            return seeds
        patterns = [p for s in selectors for p in s.replace(",", " ").split()]
        return [s for s in seeds if any(fnmatch(s.key, p) or fnmatch(s.name, p) for p in patterns)]
    if not selectors:
        return seeds
    read = {src for item in compiled.marts.values() for src in item.sources}
    return [s for s in seeds if s.key in read]


def _after_mart(command: str, ctx, compiled):
    """build: data tests run right after each mart (see execute.run's after_mart contract)."""
    if command != "build":
        return None
    from martctl.quality.runner import after_mart_hook

    return after_mart_hook(ctx, compiled)


def _plan(command: str, compiled, seeds) -> list:
    """The run's steps; in a build a mart also waits for what its tests read (a relationships
    parent, the tables of a custom SQL test)."""
    from martctl.engine import execute

    waits = None
    if command == "build" and compiled is not None:
        from martctl.quality.checks import inputs_of_tests

        waits = {key: inputs_of_tests(item, compiled) for key, item in compiled.marts.items()}
    return execute.plan(compiled, seeds, Path("target") / "compiled", waits)  # paths relative to the project


def _needs_catalog(ctx, compiled) -> bool:
    """A mart transpiled from another dialect reads a source whose columns nobody declared."""
    return any(
        item.mart.dialect != compiled.dialect and not ctx.project.sources[key].columns
        for item in compiled.marts.values()
        for key in item.sources
    )


def _catalog_first(command: str, ctx) -> dict | None:
    """Types of the sources that declare no columns, read from the target's catalog before the first
    compile: a transpiled mart with a correlated subquery cannot be typed without them. (Stopgap until
    the API flow reads the catalog once for every command.)"""
    if command == "seed" or all(s.columns for s in ctx.project.sources.values()):
        return None
    if all(ctx.project.marts[k].dialect == ctx.target.dialect for k in ctx.selected):
        return None
    from martctl.engine.catalog import catalog_types

    return catalog_types(ctx.project, ctx.target)


def _print_plan(steps, log_format: str) -> None:
    from martctl.cli import render

    rows = [
        {"order": i, "node": s.key, "kind": s.kind, "materialized": s.materialized,
         "relation": ".".join(s.relation), "upstream": list(s.upstream)}
        for i, s in enumerate(steps, 1)
    ]
    if log_format == "json":
        render.print_json({"dry_run": True, "plan": rows})
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
) -> int:
    """The whole of seed/run/build; returns the exit code."""
    from martctl.api.context import open_project
    from martctl.cli import progress, render
    from martctl.compiler.compile import compile_project, write_compiled
    from martctl.engine import artifacts, execute
    from martctl.engine.adapters.base import get_adapter
    from martctl.engine.lock import holder_info
    from martctl.errors import ProjectError

    if log_format not in LOG_FORMATS:
        raise ProjectError(f"--log-format: unknown format '{log_format}'", hint="use text or json")
    ctx = open_project(project_dir, target, None if command == "seed" else select, None if command == "seed" else exclude, vars)
    if log_format != "json":
        for message in ctx.warnings:
            render.warn(message)
    catalog = _catalog_first(command, ctx)
    compiled = None if command == "seed" else compile_project(ctx.graph, target=ctx.target, select=ctx.selected, source_columns=catalog)
    seeds = _seeds_for(command, ctx, compiled, select)
    steps = _plan(command, compiled, seeds)
    if dry_run:
        _print_plan(steps, log_format)
        return 0
    secrets = ctx.project.secrets()
    after_mart = _after_mart(command, ctx, compiled)  # validates the tests before anything is touched
    adapter = get_adapter(ctx.target, ctx.project.root)
    adapter.acquire_lock(wait or 0.0, holder_info(command=f"martctl {command}", target=ctx.target.name))
    writer = view = None
    try:
        adapter.connect()
        if compiled is not None and not catalog and _needs_catalog(ctx, compiled):  # type them from the warehouse, then recompile
            from martctl.engine.catalog import catalog_types

            catalog = catalog_types(ctx.project, ctx.target, adapter)
            compiled = compile_project(ctx.graph, target=ctx.target, select=ctx.selected, source_columns=catalog)
            steps = _plan(command, compiled, seeds)
            after_mart = _after_mart(command, ctx, compiled)
        if compiled is not None:  # target/compiled/ is written beside the run (file I/O, off its path)
            import threading

            writer = threading.Thread(target=write_compiled, args=(compiled, ctx.target_dir), daemon=True)
            writer.start()
        for note in (compiled.warnings if compiled is not None else []) + _adapter_notes(adapter):
            if log_format != "json":
                render.warn(note)
        view = progress.make(log_format, quiet, secrets)
        stop = execute.Stop()
        with execute.handle_signals(stop, adapter):
            report = execute.run(
                adapter,
                steps,
                threads=threads or ctx.target.threads,
                on_event=view,
                full_refresh=full_refresh,
                fail_fast=fail_fast,
                after_mart=after_mart,
                stop=stop,
                command=command,
                target=ctx.target.name,
                selection=ctx.selected if command != "seed" else [s.key for s in seeds],
            )
    finally:
        if view is not None:
            view.close()
        try:
            adapter.close()
        finally:
            adapter.release_lock()
        if writer is not None:
            writer.join()
    report.warnings = list(ctx.warnings) + _adapter_notes(adapter)
    artifacts.write_run_results(report, ctx.target_dir, ctx.project.root, secrets)
    artifacts.write_manifest(ctx.graph, ctx.target_dir, ctx.target.name, ctx.target.type, ctx.target.dialect, compiled, secrets)
    if command == "build" and log_format != "json":
        from martctl.cli.cmd_test import show_build_failures  # failing rows + SQL of the tests that did not pass

        show_build_failures(report)
    view.summary(report)
    return int(report.exit_code())


def _adapter_notes(adapter) -> list[str]:
    from martctl.engine.lock import describe

    notes = []
    holder = getattr(adapter, "lock_taken_over", None)
    if holder:
        notes.append(f"took over the run lock left by a process that is gone: {describe(holder)}")
    cleaned = getattr(adapter, "cleaned", None)
    if cleaned:
        notes.append(f"dropped {len(cleaned)} leftover relation(s) of an interrupted run: {', '.join(cleaned[:5])}")
    return notes


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
        debug: Debug = False,
    ) -> None:
        code = execute_command(name, project_dir, target, select, exclude, threads, vars, fail_fast, full_refresh,
                               dry_run, log_format, quiet, wait)
        raise typer.Exit(code)

    command.__doc__ = doc
    command.__name__ = name
    return command


def register(app: typer.Typer) -> None:
    app.command("seed")(_command("seed", "Load seeds/ CSVs into the warehouse (built aside, swapped in)."))
    app.command("run")(_command("run", "Materialize the selected marts in dependency order."))
    app.command("build")(_command("build", "Seeds, then the selected marts in dependency order, each tested right after it is built."))
