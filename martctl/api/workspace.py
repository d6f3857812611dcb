"""The public API: a project opened once, and every command the CLI has as a method.

    import martctl

    ws = martctl.open("path/to/project", target="pg", vars={"lookback_days": 7})
    report = ws.build(select=["+campaign_performance"], on_event=print)
    if report.exit_code():
        ...

Methods return the objects the CLI renders (RunReport, TestReport, CompiledProject,
ProjectLineage, Validation) and raise the CLI's typed errors (ProjectError: bad input, exit 2;
LockBusy: another run holds the target, exit 3; AdapterError: the warehouse failed, exit 1).
Nothing here prints, exits or installs signal handlers unless asked (`handle_signals=True`).
A Workspace may run several commands, one after the other: each opens and closes its own
connections and releases its lock.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from martctl.api.backfill import checked_window
from martctl.api.compiling import compile_for_target, needs_catalog
from martctl.api.results import LockWaiting, MartInfo, TestReport, Warned
from martctl.api.vars import parse_vars, var_warnings
from martctl.errors import ProjectError
from martctl.project.loader import load_project, missing_env_problems
from martctl.project.model import Project, SourceTable, Target

if TYPE_CHECKING:
    from datetime import datetime

    from martctl.api.debug import DebugReport
    from martctl.api.diff import DiffReport
    from martctl.api.docs import DocsSite, Preview
    from martctl.api.due import BuildPlan
    from martctl.api.gc import Collected
    from martctl.api.lineage_question import LineageAnswer
    from martctl.api.promote import Repointed
    from martctl.compiler.compile import CompiledProject
    from martctl.compiler.resolve import ProjectGraph
    from martctl.engine.adapters.base import Adapter
    from martctl.engine.events import Event, RunReport
    from martctl.engine.execute import Step, Stop
    from martctl.lineage.trace import ProjectLineage

EventCallback = Callable[["Event"], None]
COMMANDS = ("seed", "run", "build")
TEST_KINDS = ("all", "data", "unit")


class Workspace:
    """A project, the target its commands use, and the vars its SQL sees."""

    def __init__(self, project_dir: str | Path = ".", target: str | None = None,
                 vars: Mapping[str, Any] | Iterable[str] | None = None, env: str | None = None) -> None:
        from martctl.api.environments import env_target

        self.project: Project = load_project(project_dir, cache=True)
        self.env = env  # None: prod (the target's own schemas)
        self.target: Target = env_target(self.project.target(target), env)
        self.vars: dict[str, Any] = dict(vars) if isinstance(vars, Mapping) else parse_vars(vars)
        self.warnings: list[str] = var_warnings(self.project, self.vars)
        self._graph: ProjectGraph | None = None

    @property
    def root(self) -> Path:
        return self.project.root

    @property
    def target_dir(self) -> Path:
        return self.project.root / "target"

    @property
    def graph(self) -> "ProjectGraph":
        """Every mart parsed and its references resolved (built once, on first use)."""
        return self._graph_of(keep_trees=True)

    def _graph_of(self, keep_trees: bool) -> "ProjectGraph":
        """The graph; built without keeping parsed trees (see build_graph) when a run builds it."""
        if self._graph is None:
            from martctl.compiler.resolve import build_graph

            self._graph = build_graph(self.project, self.vars, self.target_dir, self.target, keep_trees)
        return self._graph

    # -- selection and listing ---------------------------------------------------------------------

    def select(self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
        """The mart keys a selection picks, in dependency order, and warnings about it. The methods
        state:, result: and source_status: read the warehouse's state (read-only)."""
        from martctl.compiler.select import select as run_select
        from martctl.compiler.select import uses_state

        extra = None
        if uses_state(select) or uses_state(exclude):
            from martctl.api.state_select import state_methods

            extra = state_methods(self)
        return run_select(self.project, self.graph.graph, select, exclude, extra)

    def ls(self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None, *,
           on_event: EventCallback | None = None) -> list[MartInfo]:
        """The selected marts in dependency order, with what `martctl ls` shows of each."""
        keys, warnings = self.select(select, exclude)
        _warn(on_event, warnings)
        return [MartInfo.of(self.project.marts[k], self.graph.parsed[k]) for k in keys]

    # -- compiling ---------------------------------------------------------------------------------

    def compile(self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None, *,
                dialect: str | None = None, allow_unsupported: bool = False, write: bool = True,
                start: str | None = None, end: str | None = None,
                on_event: EventCallback | None = None) -> "CompiledProject":
        """The selected marts' SQL as the target (or `dialect`) will run it; with `write`, also
        target/compiled/<area>/<name>.sql (target/compiled-<dialect>/ for another dialect). For the target, sources that declare no columns are
        typed from its catalog when it is reachable. `start`/`end`: each mart set to that backfill
        (its statements show it; its SQL is the same)."""
        from martctl.compiler.compile import write_compiled

        if dialect:
            from martctl.project.loader import dialect_problems

            if dialect_problems(dialect):
                raise ProjectError(dialect_problems(dialect))
        keys, warnings = self.select(select, exclude)
        _warn(on_event, self.warnings + warnings)
        compiled = self.compile_keys(keys, dialect=dialect, strict=not allow_unsupported)
        window = checked_window("compile", start, end)
        if window:
            from martctl.api.backfill import apply

            compiled = apply(compiled, keys, window)[0]
        if write:  # --dialect D: beside, not over, the SQL the last run executed
            write_compiled(compiled, self.target_dir, f"compiled-{dialect}" if dialect else "compiled")
        _warn(on_event, compiled.warnings)
        return compiled

    def compile_keys(self, keys: Sequence[str], *, dialect: str | None = None, strict: bool = True,
                     adapter: "Adapter | None" = None, types: bool = False) -> "CompiledProject":
        """Compile `keys` for the target (or `dialect`). The one place that decides whether the
        warehouse's catalog is read first: when a mart is transpiled from another dialect and reads
        a source that declares no columns, those sources are typed from the target's catalog (through
        `adapter` when connected, else a short connection), so that no mart is refused for columns
        the warehouse can tell."""
        return compile_for_target(self.graph, keys, None if dialect else self.target, dialect=dialect, strict=strict,
                                  adapter=adapter, types=types)

    # -- seed / run / build ------------------------------------------------------------------------

    def plan(self, command: str = "build", select: Sequence[str] | None = None,
             exclude: Sequence[str] | None = None, *, full_refresh: bool = False, force: bool = False,
             now: "datetime | None" = None, read_state: bool = True, start: str | None = None,
             end: str | None = None, on_event: EventCallback | None = None) -> "BuildPlan":
        """What `command` would do, in order, and why: each step built (never built, SQL changed, input X
        changed, ...) or up to date, decided against the state in the warehouse, which is only read
        (`read_state=False`: the warehouse is not contacted and every step counts as never built).
        Iterating the plan yields its steps. `start`/`end`: a backfill (see `execute`)."""
        from martctl.api import backfill
        from martctl.api.due import build_plan

        window = checked_window(command, start, end, full_refresh)
        keys, warnings = self._keys(command, select, exclude)
        _warn(on_event, warnings)
        compiled = None if command == "seed" else self.compile_keys(keys)
        compiled, forced = backfill.apply(compiled, keys, window) if window else (compiled, None)
        seeds = self._checked_seeds(command, compiled, select)
        steps = self._steps(command, compiled, seeds)
        adapter = self._reader() if read_state else None
        try:
            found = build_plan(self.graph, compiled, seeds, steps, self.target, adapter,
                               force=_forced(full_refresh, force), tested=self._tested(command, compiled), now=now,
                               forced=forced)
            _warn(on_event, found.notes)
            return found
        finally:
            if adapter is not None:
                adapter.close()

    def freshness(self, select: Sequence[str] | None = None, *, now: "datetime | None" = None) -> list:
        """The freshness of each source that declares `freshness:` (or those whose key matches `select`):
        its newest row's age against warn_after / error_after (see api/freshness.py)."""
        from martctl.api.freshness import check

        self._require_target()
        patterns = [p for s in select or () for p in s.replace(",", " ").split()]
        sources = [s for s in self.project.sources.values() if s.freshness and s.seed is None
                   and (not patterns or any(fnmatch(s.key, p) for p in patterns))]
        adapter = self._reader()
        if adapter is None:
            raise ProjectError("there is no warehouse on this target yet", hint="martctl build, or check --target")
        try:
            return check(adapter, sources, now)
        finally:
            adapter.close()

    def retry(self, **options: Any) -> "RunReport":
        """Rerun what errored, failed its tests, was skipped or cancelled in the last run or build (and
        what is downstream of it), with that run's command. Options as for `build`."""
        from martctl.api.due import prefix_of
        from martctl.engine import state

        self._require_target()
        adapter = self._reader()
        if adapter is None:
            raise ProjectError("nothing to retry: this target has no warehouse yet", hint="run martctl build")
        try:
            last = state.last_run(adapter, prefix_of(self.target))
        finally:
            adapter.close()
        if last is None:
            raise ProjectError("nothing to retry: no run or build is recorded on this target", hint="run martctl build")
        results = last["results"]
        if results is None:  # killed or lost before it finished: every node it selected is decided again
            again = list(last["selection"])
        else:
            again = [key for key, status in results.items() if status not in ("success", "up to date")]
        again = [key for key in again if key in self.project.marts]
        window = last.get("backfill")  # a failed backfill is retried as that backfill (of the marts it selected)
        if window:
            from martctl.api.backfill import backfillable

            again = [key for key in again if backfillable(self.project.marts[key])]
        if not again:
            from martctl.engine.events import RunReport

            now = time.time()
            return RunReport(last["run_id"], "retry", self.target.name, [], 0, now, now)
        if window:
            return self.execute(last["command"], [" ".join(again)], **{**options, **window})
        return self.execute(last["command"], [" ".join(f"{key}+" for key in again)], **options)

    def seed(self, select: Sequence[str] | None = None, **options: Any) -> "RunReport":
        """Load seeds/*.csv (those whose name or key matches `select`, or all). See `build` for options."""
        return self.execute("seed", select, None, **options)

    def run(self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None, **options: Any) -> "RunReport":
        """Materialize the selected marts in dependency order. See `build` for options."""
        return self.execute("run", select, exclude, **options)

    def build(self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None, **options: Any) -> "RunReport":
        """The seeds the selection reads, then the selected marts, each tested right after it is built.

        Options: threads (default: the target's), fail_fast, full_refresh, wait (seconds to wait for
        another run's lock), on_event (called with each Event, from the calling thread), stop (a
        martctl.Stop another thread may trigger: running statements are cancelled and rolled back),
        handle_signals (SIGINT/SIGTERM stop the run; main thread only)."""
        return self.execute("build", select, exclude, **options)

    def execute(self, command: str, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None, *,
                threads: int | None = None, fail_fast: bool = False, full_refresh: bool = False, force: bool = False,
                now: "datetime | None" = None, wait: float | None = None, on_event: EventCallback | None = None, stop: "Stop | None" = None,
                handle_signals: bool = False, start: str | None = None, end: str | None = None) -> "RunReport":
        """seed, run or build: lock the target, connect, decide what is due (the rest is up to date;
        `force`/`full_refresh` build everything selected; `now`: the clock schedules read, default the
        time), build it, record each build in the warehouse's state, write the artifacts.
        `start`/`end`: backfill the selected incremental marts: replace the rows whose cursor is in
        [start, end) with the query's rows of that range, in one transaction per mart."""
        from martctl.api import backfill
        from martctl.api.due import build_plan
        from martctl.api.environments import adopted_note
        from martctl.compiler.compile import unwritten, write_compiled
        from martctl.engine import execute
        from martctl.engine.adapters.base import get_adapter
        from martctl.engine.lock import holder_info
        from martctl.project.scratch import close_scratch

        emit = on_event or (lambda event: None)
        self._require_target()
        window = checked_window(command, start, end, full_refresh)
        if command != "seed":
            self._graph_of(keep_trees=False)  # a run needs no parsed tree once its marts are compiled
        keys, warnings = self._keys(command, select, exclude)
        catalog_first = command != "seed" and needs_catalog(self.project, self.graph, keys, self.target.dialect)
        compiled = None if command == "seed" or catalog_first else self.compile_keys(keys)
        adapter = get_adapter(self.target, self.root)
        fresh = not _has_warehouse(adapter)
        seeds, after_mart, checked = [], None, False
        if not catalog_first:  # into a new warehouse: seeds and tests checked before anything is touched
            seeds = self._seeds(command, compiled, select)
            if fresh:
                seeds, after_mart, checked = self._checked_seeds(command, compiled, select), self._after_mart(command, compiled), True
        adapter.acquire_lock(wait or 0.0, holder_info(command=f"martctl {command}", target=self.target.name),
                             on_wait=lambda message: emit(LockWaiting(message)))
        stop = stop if stop is not None else execute.Stop()
        stop.on_stop(adapter.cancel)
        writing = finished = None  # waits for the compiled files being written to target/compiled/; the run's report
        try:
            adapter.connect()
            if catalog_first:  # sources typed from the warehouse's catalog, then compiled and checked
                compiled = self.compile_keys(keys, adapter=adapter)
                seeds = self._seeds(command, compiled, select)
            forced = None
            if window:  # checked before anything is written
                compiled, forced = backfill.apply(compiled, keys, window)
                backfill.require_tables(adapter, compiled, keys)
            steps = self._steps(command, compiled, seeds)
            virtual = self._environment(adapter, compiled, seeds)
            plan = build_plan(self.graph, compiled, seeds, steps, self.target, adapter,
                              force=_forced(full_refresh, force), tested=self._tested(command, compiled), now=now,
                              forced=forced)
            if not checked:  # the seeds and tests of what is due, checked before the state is written
                after_mart = self._check_due(command, compiled, seeds, plan)
            # the SQL this run executes; and an up-to-date mart's whose file is gone (target/ removed), so that
            # every sql_path in run_results.json names a file
            written = _only(compiled, set(plan.to_build) | unwritten(compiled, self.target_dir, set(keys) - set(plan.to_build))) \
                if compiled is not None else None
            warnings += (compiled.warnings if compiled is not None else []) + adapter_notes(adapter) + plan.notes
            warnings += adopted_note(virtual)
            _warn(emit, warnings)
            selection = keys if command != "seed" else [s.key for s in seeds]
            # written in a thread beside the run: creating 1,000 files is mostly system calls, made without the
            # GIL (0.03 s, up to 0.3 s just after `rm -rf target` on a busy disk), and unchanged files are only read
            writing = _in_background(write_compiled, written, self.target_dir) if written is not None else None
            close_scratch()  # the checks' in-memory DuckDB (its threads and memory) is not needed by the run
            with execute.handle_signals(stop, enabled=handle_signals):
                report = self._recorded_run(virtual or adapter, plan, command, selection, steps,
                                            threads=threads or self.target.threads, on_event=on_event,
                                            full_refresh=full_refresh, fail_fast=fail_fast, after_mart=after_mart, stop=stop)
            if virtual is not None:
                from martctl.api.environments import finish

                finish(self.target, adapter, virtual, command)
            report.warnings = warnings
            report.startup_seconds = getattr(adapter, "startup_seconds", 0.0)
            finished = report
        finally:
            # closing (DuckDB's checkpoint runs without the GIL) beside the Python work that follows the run:
            # the end of the compiled files and the artifacts of a finished run, written under the lock
            closing = _in_background(adapter.close) if adapter.close_in_background else None
            try:
                try:
                    if closing is None:
                        adapter.close()
                finally:
                    self._write_artifacts(writing, finished, compiled)
            finally:
                try:
                    if closing is not None:
                        closing()
                finally:
                    adapter.release_lock()
        return finished

    def _write_artifacts(self, writing, finished: "RunReport | None", compiled) -> None:
        """Wait for the compiled files (`writing`), and write run_results.json and manifest.json for a
        finished run, also when a compiled file could not be written: that error is raised after them."""
        from martctl.engine import artifacts

        try:
            if writing is not None:
                writing()
        finally:
            if finished is not None:
                secrets = self.project.secrets()
                artifacts.write_run_results(finished, self.target_dir, self.root, secrets)
                artifacts.write_manifest(self.graph, self.target_dir, self.target.name, self.target.type,
                                         self.target.dialect, compiled, secrets)

    def _environment(self, adapter, compiled, seeds):
        """With --env, or on a warehouse that uses environments: the adapter that builds into physical
        tables behind the environment's views (the warehouse upgraded and unchanged versions pointed at
        first, see api/environments.py); else None (plain tables, as before environments)."""
        from martctl.api.environments import prepare, schema_prefix
        from martctl.engine import envstate

        if self.env is None and not envstate.enabled(adapter, schema_prefix(self.target)):
            return None
        return prepare(self.project, self.graph, self.target, adapter, compiled, seeds)

    def promote(self, env: str, to: str = "prod", *, force: bool = False, wait: float | None = None) -> "Repointed":
        """`to` reads the versions `env` built and tested, all marts in one transaction (see api/promote.py)."""
        from martctl.api.promote import promote

        with self._locked(f"martctl promote {env}", wait) as adapter:
            return promote(self, env, to, force, adapter)

    def rollback(self, env: str = "prod", *, wait: float | None = None) -> "Repointed":
        """`env` reads the versions of its previous generation again, in one transaction."""
        from martctl.api.promote import rollback

        with self._locked(f"martctl rollback {env}", wait) as adapter:
            return rollback(self, env, adapter)

    def gc(self, older_than: float = 7 * 86400, *, dry_run: bool = False, wait: float | None = None) -> "Collected":
        """Drop the physical versions no environment points at and none used in the last `older_than` seconds."""
        from martctl.api.gc import collect

        with self._locked("martctl gc", wait) as adapter:
            return collect(self, adapter, older_than, dry_run)

    @contextmanager
    def _locked(self, command: str, wait: float | None):
        """The target's run lock and a connection, for a command that changes the warehouse outside a run."""
        from martctl.engine.adapters.base import get_adapter
        from martctl.engine.lock import holder_info

        self._require_target()
        adapter = get_adapter(self.target, self.root)
        adapter.require_existing()
        adapter.acquire_lock(wait or 0.0, holder_info(command=command, target=self.target.name))
        try:
            adapter.connect()
            yield adapter
        finally:
            try:
                adapter.close()
            finally:
                adapter.release_lock()

    def _check_due(self, command: str, compiled, seeds, plan):
        """The seeds and tests of what is due, checked (exit 2 on a problem); the build's after-mart hook."""
        from martctl.project.seedfile import check_seeds

        due = set(plan.to_build)
        check_seeds([s for s in seeds if s.key in due], self.project.config_file)
        after_mart = self._after_mart(command, compiled, [k for k in plan.to_build if k in compiled.marts]
                                      if compiled is not None else None)
        self._check_declared_tests(command, compiled, due)
        return after_mart

    def _recorded_run(self, adapter, plan, command: str, selection: list[str], steps, **run_options) -> "RunReport":
        """Run the steps; the run is recorded in the warehouse's state (each mart's build in its own swap)."""
        from martctl.api.due import prefix_of
        from martctl.engine import execute, state

        prefix = prefix_of(self.target)
        state.ensure(adapter, prefix)
        adapter.execute(state.run_started(prefix, plan.run_id, command, self.target.name, selection, plan.backfill))
        report = execute.run(adapter, steps, command=command, target=self.target.name, selection=selection,
                             run_id=plan.run_id, decisions=plan.runner_decisions(), recorder=plan.recorder, **run_options)
        report.backfill = plan.backfill
        outcome = report.interrupted or ("error" if report.failed else "success")
        adapter.execute([state.run_finished(prefix, plan.run_id, outcome, {
            k: "fail" if r.test_failure else r.status for k, r in report.results.items()})])
        return report

    # -- tests -------------------------------------------------------------------------------------

    def test(self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None, *,
             threads: int | None = None, kind: str = "all", on_event: EventCallback | None = None,
             write_results: bool = True) -> TestReport:
        """Run the selected marts' data tests (on the warehouse) and unit tests (in-memory DuckDB).
        `kind`: all, data or unit. Each result is also passed to `on_event` as a TestFinished."""
        from martctl.api.results import TestFinished
        from martctl.engine.adapters.base import get_adapter
        from martctl.quality.runner import in_mart_order, not_built, prepare, run_data_tests
        from martctl.quality.unit import run_unit_tests

        if kind not in TEST_KINDS:
            raise ProjectError(f"test kind must be one of {', '.join(TEST_KINDS)}, got '{kind}'",
                               hint="martctl test --kind data (the warehouse) or --kind unit (in-memory DuckDB)")
        emit = on_event or (lambda event: None)
        started = time.time()
        if kind != "unit":
            self._require_target()
        keys, warnings = self.select(select, exclude)
        compiled = self.compile_keys(keys)
        tests = prepare(compiled, keys) if kind != "unit" else []
        _warn(emit, self.warnings + warnings + compiled.warnings)
        results = []
        if kind in ("all", "unit"):
            results += run_unit_tests(self.graph, keys, on_result=lambda r: emit(TestFinished(r)))
        if tests:
            adapter = get_adapter(self.target, self.root)
            adapter.require_existing()  # no warehouse yet: say so, do not create an empty one
            adapter.connect()
            try:
                relations = {key: compiled.marts[key].relation for key in {t.mart for t in tests}}
                runnable, missing = not_built(tests, relations, adapter)
                for result in missing:
                    emit(TestFinished(result))
                results += missing
                results += run_data_tests(runnable, adapter, threads or self.target.threads,
                                          on_result=lambda r: emit(TestFinished(r)), secrets=self.project.secrets())
            finally:
                adapter.close()
        report = TestReport(self.target.name, keys, in_mart_order(results, keys), started, time.time())
        if write_results:
            report.write(self.target_dir)
        return report

    # -- lineage -----------------------------------------------------------------------------------

    def lineage(self, *, use_cache: bool = True) -> "ProjectLineage":
        """Table and column lineage of the whole project (cached in target/lineage.json).
        Sources that declare no columns are read from the target's catalog when it is reachable."""
        from martctl.engine.catalog import catalog_columns
        from martctl.lineage.trace import project_lineage

        catalog = catalog_columns(self.project, self.target)
        return project_lineage(self.project, self.vars, cache_dir=self.target_dir if use_cache else None, catalog=catalog,
                               get_graph=lambda: self.graph)

    def lineage_question(self, names: Sequence[str] = (), *, upstream: bool = False, downstream: bool = False,
                         depth: int | None = None, impact: str | None = None, select: Sequence[str] | None = None,
                         exclude: Sequence[str] | None = None, use_cache: bool = True,
                         any_table: bool = False) -> "LineageAnswer":
        """What `martctl lineage` answers: a column's lineage (area.mart.column, source.table.column) or
        its impact, or the table lineage of marts, sources and selectors (see lineage_question.answer)."""
        from martctl.api.lineage_question import answer

        return answer(self.lineage(use_cache=use_cache), names, upstream=upstream, downstream=downstream, depth=depth,
                      impact=impact, select=select, exclude=exclude, any_table=any_table)

    # -- docs, show, debug -------------------------------------------------------------------------

    def docs_build(self, out_dir: str | Path | None = None, *, warehouse: bool = True) -> "DocsSite":
        """Write the static docs site (default target/docs/): the project, its lineage, the last run and,
        with `warehouse` and when reachable, row counts and types from the target."""
        from martctl.api.docs import build_docs

        return build_docs(self, Path(out_dir) if out_dir else None, warehouse=warehouse)

    def docs_server(self, port: int = 8080, site_dir: str | Path | None = None):
        """An HTTP server on 127.0.0.1:port for the built site (serve_forever() to run it; port 0: any free port)."""
        from martctl.api.docs import docs_server

        return docs_server(self, port, Path(site_dir) if site_dir else None)

    def show(self, mart: str, limit: int = 20) -> "Preview":
        """The first `limit` rows of a mart as built on the target."""
        from martctl.api.docs import show

        return show(self, mart, limit)

    def diff(self, mart: str | None = None, *, env: str, against: str = "prod", sample: int = 5,
             select: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
             relations: "tuple[tuple[str, str], tuple[str, str]] | None" = None) -> "DiffReport":
        """What env `env` changes in the data against `against`: for `mart`, row counts, rows added, removed
        and changed by key, per-column changes and summaries, schema changes and `sample` changed rows;
        without one, every selected mart that differs (see martctl.api.diff). Only reads the warehouse."""
        from martctl.api.diff import diff

        return diff(self, mart, env=env, against=against, sample=sample, select=select, exclude=exclude,
                    relations=relations)

    def debug(self) -> "DebugReport":
        """Config, target, connection, dependencies and versions, each as a check (see martctl.debug)."""
        return debug(self.root, self.target.name)

    # -- internals ---------------------------------------------------------------------------------

    def _require_target(self) -> None:
        problems = missing_env_problems(self.project, self.target)
        if problems:
            raise ProjectError(problems)

    def _keys(self, command: str, select, exclude) -> tuple[list[str], list[str]]:
        """The selected mart keys (none for seed) and the warnings about the selection and the vars."""
        if command not in COMMANDS:
            raise ProjectError(f"unknown command '{command}'", hint=f"one of {', '.join(COMMANDS)}")
        if command == "seed":
            return [], list(self.warnings)
        keys, warnings = self.select(select, exclude)
        return keys, self.warnings + warnings

    def _seeds(self, command: str, compiled, selectors) -> list[SourceTable]:
        """seed: every seed (or those whose name/key matches the selectors); build: the seeds the
        selected marts read (every seed when nothing is selected); run: none."""
        from martctl.compiler.compile import target_seeds

        seeds = target_seeds(self.project, self.target)  # behind the target's schema_prefix
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

    def _checked_seeds(self, command: str, compiled, selectors) -> list[SourceTable]:
        """The command's seeds, every row of each checked (fields, encoding, types) before anything is touched."""
        from martctl.project.seedfile import check_seeds

        seeds = self._seeds(command, compiled, selectors)
        check_seeds(seeds, self.project.config_file)
        return seeds

    def _after_mart(self, command: str, compiled, keys: Sequence[str] | None = None):
        """build: each mart's data tests run right after it (see execute.run's after_mart contract);
        those of `keys` (default: every compiled mart)."""
        if command != "build":
            return None
        from martctl.quality.runner import build_hook

        return build_hook(compiled, list(compiled.marts) if keys is None else list(keys), self.project.secrets())

    def _reader(self) -> "Adapter | None":
        """A connection that only reads the warehouse, or None when it does not exist yet."""
        from martctl.engine.adapters.base import get_adapter

        adapter = get_adapter(self.target, self.root)
        try:
            adapter.require_existing()
        except ProjectError:
            return None
        adapter.read_only = True
        adapter.connect()
        return adapter

    @staticmethod
    def _check_declared_tests(command: str, compiled, due: set[str]) -> None:
        """build: the tests of the marts that are not due are checked too, from their declarations (a
        broken test is refused whether or not its mart is built)."""
        if command != "build" or compiled is None:
            return
        from martctl.quality.checks import test_problems

        problems = [p for p in test_problems(compiled, [k for k in compiled.marts if k not in due], compile=False)
                    if p.severity == "error"]
        if problems:
            raise ProjectError(problems)

    @staticmethod
    def _tested(command: str, compiled) -> list[str]:
        """The marts whose data tests run right after they are built (build only)."""
        if command != "build" or compiled is None:
            return []
        return [key for key, item in compiled.marts.items() if item.mart.all_tests()]

    @staticmethod
    def _steps(command: str, compiled, seeds) -> list["Step"]:
        """The run's steps; in a build a mart also waits for what its tests read (a relationships
        parent, the tables of a custom SQL test)."""
        from martctl.engine import execute

        waits = None
        if command == "build" and compiled is not None:
            from martctl.quality.checks import inputs_of_tests

            waits = {key: inputs_of_tests(item, compiled) for key, item in compiled.marts.items()}
        return execute.plan(compiled, seeds, Path("target") / "compiled", waits)  # paths relative to the project


def _in_background(function, *args):
    """Start `function(*args)` in a thread; return a call that waits for it and raises what it raised."""
    import threading

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="martctl-background", daemon=True)
    thread.start()

    def wait():
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    return wait


def _only(compiled, keys: set[str]):
    """The compiled project cut down to `keys` (None stays None)."""
    if compiled is None:
        return None
    from dataclasses import replace

    return replace(compiled, marts={k: v for k, v in compiled.marts.items() if k in keys})


def _has_warehouse(adapter: "Adapter") -> bool:
    try:
        adapter.require_existing()
    except ProjectError:
        return False
    return True


def _forced(full_refresh: bool, force: bool) -> str | None:
    """The reason every selected node is built, when one is asked for."""
    return "--full-refresh" if full_refresh else ("--force" if force else None)


def _warn(on_event: EventCallback | None, messages: Iterable[str]) -> None:
    for message in messages if on_event else ():
        on_event(Warned(message))


def adapter_notes(adapter: "Adapter") -> list[str]:
    """What the adapter did on the way in that a person should know (a lock taken over, leftovers dropped)."""
    from martctl.engine.lock import describe

    notes = []
    holder = getattr(adapter, "lock_taken_over", None)
    if holder:
        notes.append(f"took over the run lock left by a process that is gone: {describe(holder)}")
    cleaned = getattr(adapter, "cleaned", None)
    if cleaned:
        notes.append(f"dropped {len(cleaned)} leftover relation(s) of an interrupted run: {', '.join(cleaned[:5])}")
    return notes


@dataclass
class Validation:
    """What `validate` found: every problem, errors and warnings."""

    project: Project | None
    problems: list = field(default_factory=list)

    @property
    def errors(self) -> list:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.ok, "problems": [p.as_dict() for p in self.problems]}


def validate(project_dir: str | Path = ".", target: str | None = None, dialect: str | None = None) -> Validation:
    """Load the whole project and gather every problem (a project with errors cannot be opened as a
    Workspace, so this is a function of the folder)."""
    from martctl.api.validate import validate_project

    project, problems = validate_project(project_dir, target, dialect)
    return Validation(project, problems)


def debug(project_dir: str | Path = ".", target: str | None = None) -> "DebugReport":
    """`martctl debug`: the config, the target and its connection, the dependencies and their versions,
    each a Check (a project that does not load is a failed check, not an exception)."""
    from martctl.api.debug import run_checks

    return run_checks(project_dir, target, Workspace, validate)


def open(project_dir: str | Path = ".", target: str | None = None,  # noqa: A001  (martctl.open reads well)
         vars: Mapping[str, Any] | Iterable[str] | None = None, env: str | None = None) -> Workspace:
    """Open a project: martctl.open("path", target="pg", vars={"day": "2026-01-01"}, env="dev")."""
    return Workspace(project_dir, target, vars, env)
