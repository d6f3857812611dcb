"""Walk the graph with N worker threads, build each node through the adapter, emit events.

The runner knows warehouses only through `martctl.engine.adapters.base.Adapter`. Events are emitted
from the calling thread only (never from workers), in the order things happen; workers take the next
ready node themselves, so rendering events never holds the build up.
"""

from __future__ import annotations

import heapq
import queue
import signal
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from martctl.engine.batch import GATE_SECONDS, Batch, Entry, solo
from martctl.engine.events import (
    CANCELLED,
    ERROR,
    LOCK_LOST,
    SKIPPED,
    SUCCESS,
    UP_TO_DATE,
    Event,
    MartFinished,
    MartStarted,
    NodeResult,
    RunFinished,
    RunReport,
    RunStarted,
    SeedFinished,
    SeedStarted,
)
from martctl.errors import AdapterError, LockLost

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledMart, CompiledProject
    from martctl.engine.adapters.base import Adapter
    from martctl.engine.state import Recorder
    from martctl.project.model import SourceTable


@dataclass
class AfterMartResult:
    """What the `after_mart` hook found (e.g. the mart's data tests)."""

    tests: list[dict] = field(default_factory=list)  # JSON-able results, one per test: kept in events and run_results
    failed_tests: list[str] = field(default_factory=list)  # error-level tests that failed
    skip_downstream: bool = False  # True: skip everything downstream of the mart, and the run exits 1


AfterMart = Callable[[str, "Adapter"], AfterMartResult]


@dataclass
class Step:
    """One node of the run: a seed to load or a compiled mart to build."""

    key: str
    kind: str  # seed | mart
    upstream: tuple[str, ...] = ()
    compiled: "CompiledMart | None" = None
    seed: "SourceTable | None" = None
    sql_path: str | None = None

    @property
    def materialized(self) -> str:
        return self.compiled.mart.materialized if self.compiled else "seed"

    @property
    def relation(self) -> tuple[str, str]:
        return self.compiled.relation if self.compiled else (self.seed.schema, self.seed.name)


def plan(
    compiled: "CompiledProject | None", seeds: Sequence["SourceTable"] = (), compiled_dir: Path | None = None,
    also_waits_for: Mapping[str, Iterable[str]] | None = None,
) -> list[Step]:
    """Seeds first, then marts in dependency order; a mart waits for the seeds it reads, and for
    `also_waits_for[key]` (what its tests read) where that makes no cycle."""
    steps = [Step(s.key, "seed", seed=s) for s in seeds]
    seed_keys = {s.key for s in seeds}
    if compiled is not None:
        from martctl.compiler.compile import compiled_file

        marts = compiled.marts
        for key in compiled.graph.graph.topological_order():
            item = marts.get(key)
            if item is None:
                continue
            upstream = tuple(u for u in item.upstream if u in marts) + tuple(s for s in item.sources if s in seed_keys)
            extra = set((also_waits_for or {}).get(key, ())) - set(upstream)
            if extra:
                downstream = compiled.graph.graph.downstream(key)
                upstream += tuple(sorted(k for k in extra if (k in marts or k in seed_keys) and k not in downstream))
            path = str(compiled_file(compiled_dir, item)) if compiled_dir else None
            steps.append(Step(key, "mart", upstream, compiled=item, sql_path=path))
    return steps


class Stop:
    """Why the run must stop (SIGINT, SIGTERM, fail-fast, a caller's reason), set from any thread or a
    signal handler. Callbacks registered with `on_stop` (the adapter's cancel) run when it is set."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None
        self._callbacks: list[Callable[[], None]] = []

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def stop(self, reason: str) -> None:
        if self._event.is_set():
            return
        self.reason = reason
        self._event.set()
        for callback in self._callbacks:
            callback()

    def __bool__(self) -> bool:
        return self._event.is_set()


@contextmanager
def handle_signals(stop: Stop, enabled: bool = True):
    """While inside: SIGINT/SIGTERM stop the run (main thread only; `stop`'s callbacks cancel the
    running statements)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        stop.stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _error_text(step: Step, exc: Exception) -> str:
    """The engine's message, where the mart's SQL is written (the YAML or .sql file the user edits),
    and, where the engine named a line, that line of the compiled SQL."""
    text = str(exc)
    if step.compiled is None:
        return text
    mart = step.compiled.mart
    text += f"\n  in {_shown(mart.sql_path)}:{mart.sql_line} (the mart's SQL)"
    line = getattr(exc, "line", None)
    lines = step.compiled.sql.splitlines()
    if line and 0 < line <= len(lines):
        where = f"{step.sql_path}:{line}" if step.sql_path else f"line {line}"
        text += f"\n  compiled SQL {where}: {lines[line - 1].strip()}"
    return text


def _shown(path) -> str:
    """A path relative to the working folder when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _build(step: Step, adapter: "Adapter", full_refresh: bool, after_mart: AfterMart | None, stop: Stop,
           recorder: "Recorder | None" = None, batched: dict[str, dict] | None = None) -> NodeResult:
    """Run one node on a worker thread; never raises. A lost run lock stops the whole run. With a
    `recorder`, the state's record of the build is written in the build's own transaction, or, when
    the build runs in a batch (see batch.py), kept in `batched` to be written when the batch commits."""
    result = NodeResult(step.key, step.kind, step.materialized, step.relation, sql_path=step.sql_path)
    result.started_at = time.time()
    clock = time.perf_counter()
    record = {}
    if recorder is not None and batched is None:
        record = {"then": lambda rows: recorder.built(step.key, rows, time.perf_counter() - clock)}
    try:
        if step.seed is not None:
            result.rows = adapter.load_seed(step.seed, **record)
        else:
            if step.materialized == "incremental":
                batch = not full_refresh and adapter.exists(*step.relation)
                result.incremental = ("backfill" if step.compiled.backfill else "batch") if batch else "full"
            result.rows = adapter.materialize(step.compiled, full_refresh=full_refresh, **record)
        result.status = SUCCESS
        row = recorder.row(step.key, result.rows, time.perf_counter() - clock) if batched is not None and recorder else None
        if row is not None:
            batched[step.key] = row
    except LockLost as exc:
        result.status, result.error = ERROR, str(exc)
        stop.stop(LOCK_LOST)
        adapter.cancel()  # the others roll back too: another run may be building the same marts
    except AdapterError as exc:
        if getattr(exc, "cancelled", False):
            result.status, result.reason = CANCELLED, "cancelled while running (rolled back)"
        else:
            result.status, result.error = ERROR, _error_text(step, exc)
    except Exception as exc:  # a bug or an unexpected driver error: report it on this node
        result.status, result.error = ERROR, f"{type(exc).__name__}: {exc}"
    if result.status == SUCCESS and after_mart is not None and step.kind == "mart":
        try:
            found = after_mart(step.key, adapter)
        except Exception as exc:
            result.status, result.error = ERROR, f"after-mart checks failed: {type(exc).__name__}: {exc}"
        else:
            result.tests = list(found.tests)
            if found.skip_downstream or found.failed_tests:
                names = ", ".join(found.failed_tests) or "a test"
                result.test_failure = f"test {names} failed on {step.key}"
            _record_tests(recorder, adapter, result, batched)
    result.seconds = time.perf_counter() - clock
    return result


def _record_tests(recorder: "Recorder | None", adapter: "Adapter", result: NodeResult,
                  batched: dict[str, dict] | None) -> None:
    """After the mart's tests: its state record says whether they passed (a failed write fails the node)."""
    if recorder is None:
        return
    if batched is not None:
        status = recorder.tests_status(result.key, result.test_failure is None)
        if status and result.key in batched:
            batched[result.key]["status"] = status
        return
    try:
        statements = recorder.tests_done(result.key, result.test_failure is None)
        if statements:
            adapter.execute(statements)
    except Exception as exc:
        result.status, result.error = ERROR, f"cannot record its tests in martctl's state: {exc}"


def _descendants(children: dict[str, list[str]], key: str) -> list[str]:
    seen: dict[str, None] = {}
    frontier = list(children.get(key, ()))
    while frontier:
        node = frontier.pop()
        if node not in seen:
            seen[node] = None
            frontier.extend(children.get(node, ()))
    return list(seen)


def run(
    adapter: "Adapter",
    steps: Sequence[Step],
    *,
    threads: int = 1,
    on_event: Callable[[Event], None] | None = None,
    full_refresh: bool = False,
    fail_fast: bool = False,
    after_mart: AfterMart | None = None,
    stop: Stop | None = None,
    command: str = "run",
    target: str = "",
    selection: Iterable[str] = (),
    run_id: str | None = None,
    decisions: Mapping[str, tuple[bool | None, str]] | None = None,
    recorder: "Recorder | None" = None,
) -> RunReport:
    """Build `steps` in dependency order with `threads` workers; return what happened to each.

    A node starts as soon as its upstream is done. A failed node skips everything downstream
    ("upstream X failed") and independent branches still build; with `fail_fast` the first
    failure stops the run and cancels running statements. `stop` (see handle_signals) stops the
    run from outside: nothing new starts, running statements are cancelled and rolled back.

    `after_mart(key, adapter)` runs on the worker right after each mart (not seeds) is built,
    before its downstream may start. It returns an AfterMartResult: `tests` are kept on the
    node (events, run_results.json); `failed_tests` or `skip_downstream` mark an error-level
    failure: the node keeps status success with `test_failure` set ("test Y failed on X"),
    its downstream is skipped with that reason, and the run exits 1. If the hook raises, the
    node is reported as an error. The hook is called from several threads at once.

    `decisions[key] = (build, reason)`: a node not to build finishes at once as "up to date" (build
    None: "skipped", e.g. over a stale source); the
    reason is kept on every node (events, run_results.json). `recorder` writes each build's record
    into martctl's state within the build's transaction (see engine/state.py).
    """
    run_ = _Run(adapter, steps, max(1, int(threads)), on_event or (lambda event: None), stop if stop is not None else Stop(),
                fail_fast, decisions or {}, recorder)
    report = RunReport(run_id or uuid.uuid4().hex, command, target, list(selection), run_.threads, time.time())
    return run_.execute(report, lambda step, batched=None: _build(step, adapter, full_refresh, after_mart, run_.stop,
                                                                  recorder, batched))


class _Run:
    """One walk of the graph. Workers take the next ready node themselves (no hand-over through the
    calling thread), and queue their events; the calling thread only emits them, in queue order, so
    a slow renderer never stalls a worker and events still come in the order things happened."""

    def __init__(self, adapter: "Adapter", steps: Sequence[Step], threads: int, emit: Callable[[Event], None],
                 stop: Stop, fail_fast: bool, decisions: Mapping[str, tuple[bool | None, str]],
                 recorder: "Recorder | None" = None) -> None:
        self.adapter, self.threads, self.emit, self.stop, self.fail_fast = adapter, threads, emit, stop, fail_fast
        self.decisions = decisions
        self.recorder = recorder
        self.batching = bool(getattr(adapter, "batches", False))  # see batch.py
        records = recorder.records if recorder is not None else {}
        self.expected = {key: record.seconds for key, record in records.items()}  # each node's last build time
        self.release_early = threads == 1  # one worker sees its own open batch: downstream need not wait
        self.commits = 0  # batches committed so far
        self.committed: dict[str, int] = {}  # key -> the commit count that made its build visible
        self.released: set[str] = set()  # keys given to the sorter as done
        self.by_key = {s.key: s for s in steps}
        self.position = {s.key: i for i, s in enumerate(steps, 1)}
        self.children: dict[str, list[str]] = {}
        for step in steps:
            for up in step.upstream:
                if up in self.by_key:
                    self.children.setdefault(up, []).append(step.key)
        self.blocked: dict[str, str] = {}  # key -> why it will be skipped
        self.sorter = TopologicalSorter({s.key: [u for u in s.upstream if u in self.by_key] for s in steps})
        self.report: RunReport | None = None
        self.state = threading.Condition()  # guards everything below and the sorter
        self.ready: list[tuple[int, str]] = []  # heap of (plan position, key): the earliest ready node first
        self.pending = len(self.by_key)  # nodes not finished yet
        self.closed = False  # the calling thread gave up (its on_event raised): take nothing more
        self.crash: BaseException | None = None
        self.events: queue.SimpleQueue = queue.SimpleQueue()  # Event, or None once every node finished
        self.building = 0  # workers holding a node they took (the state lock held; see Adapter.workers_building)
        self.quick = 0  # ... of which a node whose last build was quick (batch.solo says no)
        self.open_batches = 0  # workers whose batch is open (its transaction begun, not committed or rolled back)
        self.gate = False  # a worker waits for every batch to commit, to checkpoint the log (see _checkpoint)

    def execute(self, report: RunReport, build: Callable[[Step], NodeResult]) -> RunReport:
        self.report = report
        self.emit(RunStarted(report.run_id, report.command, report.target, self.threads, list(self.by_key)))
        self.sorter.prepare()
        self._queue_ready()
        if not self.pending:
            self.events.put(None)
        if self.threads == 1:  # the calling thread builds, and emits each node's events as it goes
            self._work(build, self._emit_queued)
            workers = []
        else:
            workers = [threading.Thread(target=self._work, args=(build,), name=f"martctl-{i}", daemon=True)
                       for i in range(min(self.threads, self.pending))]
        for worker in workers:
            worker.start()
        try:
            while workers and (event := self._next_event()) is not None:
                self.emit(event)
        finally:
            with self.state:
                self.closed = True
                self.state.notify_all()
            for worker in workers:
                worker.join()
            self.adapter.workers_building(0)
        if self.crash is not None:
            raise self.crash
        report.results = {key: report.results[key] for key in self.by_key if key in report.results}  # plan order
        if self.stop.reason:
            report.interrupted = self.stop.reason
        report.finished_at = time.time()
        self.emit(RunFinished(report))
        return report

    def _next_event(self) -> Event | None:
        """The next queued event; waits in short slices so that signal handlers run on this thread."""
        while True:
            try:
                return self.events.get(timeout=0.25)
            except queue.Empty:
                continue

    def _emit_queued(self) -> None:
        """One thread: emit what the last node queued, before the next starts."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return
            if event is not None:
                self.emit(event)

    def _queue_ready(self) -> None:
        for key in self.sorter.get_ready():
            heapq.heappush(self.ready, (self.position[key], key))

    def _work(self, build: Callable[..., NodeResult], after_each: Callable[[], None] | None = None) -> None:
        """A worker: take the earliest ready node, build it, finish it; until every node is finished.
        `after_each` runs outside the lock after each start and finish (one thread: emitting there).
        Where the adapter has batches, quick builds commit together (see batch.py)."""
        batch = Batch() if self.batching else None
        try:
            while True:
                if after_each is not None:
                    after_each()
                holding = batch is not None and bool(batch.entries)  # nothing to take: commit it, others may wait on it
                with self.state:
                    waiting = False
                    while not self.ready and self.pending and not self.closed and not holding:
                        if not waiting:  # while it waits for an upstream, the others may use its core
                            waiting = True
                            self.adapter.workers_building(self.building, self.quick)
                        self.state.wait()
                    key = None
                    if not self.closed and self.ready:
                        _, key = heapq.heappop(self.ready)
                        if not self._start(key):
                            continue
                        self._count_building(key, 1)  # told the adapter here, not at the end of each build:
                        self.adapter.workers_building(self.building, self.quick)  # the pool changes rarely
                if key is None:
                    if batch is not None and batch.entries:
                        self._end_batch(batch, build)
                        continue
                    return
                if after_each is not None:
                    after_each()
                if batch is None:
                    result = build(self.by_key[key])
                    with self.state:
                        self._count_building(key, -1)
                        self._finish(result)
                else:
                    self._build_batched(batch, self.by_key[key], build)
                    with self.state:
                        self._count_building(key, -1)
        except BaseException as exc:  # a bug: end the run and raise it on the calling thread
            if batch is not None and batch.entries:
                try:
                    self.adapter.rollback_batch()
                except Exception:  # the bug is the error to raise; closing the connection rolls back too
                    pass
            with self.state:
                self.crash, self.closed = exc, True
                self.state.notify_all()
            self.events.put(None)

    def _count_building(self, key: str, change: int) -> None:
        """A worker took `key` (1) or is done with it (-1); the state lock held."""
        self.building += change
        if not solo(self.expected, key):
            self.quick += change

    # -- batches (see batch.py) -------------------------------------------------------------------

    def _build_batched(self, batch: Batch, step: Step, build: Callable[..., NodeResult]) -> None:
        alone = solo(self.expected, step.key)
        if self.gate or (not alone and self.adapter.log_full()):  # room for a checkpoint first (see batch.py)
            if batch.entries:
                self._end_batch(batch, build)
            alone = not self._checkpoint() or alone
        if batch.entries and (alone or any(self.committed.get(u, 0) > batch.snapshot for u in step.upstream)):
            self._end_batch(batch, build)  # before a slow build, or one that reads what was committed since
        if alone:
            result = build(step)
            with self.state:
                self._finish(result)
            return
        if not batch.entries:
            with self.state:  # counted before it begins: a checkpoint never starts beside it (see _checkpoint)
                while self.gate and not self.closed and not self.stop:
                    self.state.wait(0.25)
                self.open_batches += 1
                snapshot = self.commits  # read first: the transaction then sees at least these commits
            self.adapter.begin_batch()
            batch.open(snapshot)
        entry = Entry(step, NodeResult(step.key, step.kind, step.materialized, step.relation))
        batch.entries.append(entry)
        entry.result = build(step, entry.rows)
        if entry.result.status != SUCCESS or self.adapter.batch_failed():
            self._replay(batch, build)
            return
        if self.release_early and _downstream_cause(entry.result) is None:  # else its downstream is skipped at commit
            with self.state:
                self._release(entry.result)
        if batch.old:
            self._end_batch(batch, build)

    def _end_batch(self, batch: Batch, build: Callable[..., NodeResult]) -> None:
        """Commit the batch with its builds' state records, then finish its nodes."""
        rows = [row for entry in batch.entries for row in entry.rows.values()]
        try:
            self.adapter.commit_batch(self.recorder.built_together(rows) if self.recorder is not None else [])
        except Exception:  # rolled back: each build runs again in its own transaction
            self._replay(batch, build, rolled_back=True)
            return
        entries = batch.take()
        with self.state:
            self.open_batches -= 1
            self.commits += 1
            for entry in entries:
                self.committed[entry.step.key] = self.commits
                self._finish(entry.result)

    def _replay(self, batch: Batch, build: Callable[..., NodeResult], rolled_back: bool = False) -> None:
        """A failure rolled the batch back: what it built runs again, each build in its own transaction
        (or is cancelled if the run is stopping); failed builds keep their result."""
        if not rolled_back:
            self.adapter.rollback_batch()
        with self.state:
            self.open_batches -= 1
            self.state.notify_all()
        for entry in batch.take():
            result = entry.result
            if result.status == SUCCESS:
                if self.stop:
                    result = NodeResult(entry.step.key, entry.step.kind, entry.step.materialized, entry.step.relation,
                                        status=CANCELLED, reason="rolled back with its batch when the run stopped",
                                        sql_path=entry.step.sql_path)
                elif entry.step.key in self.blocked:
                    result = NodeResult(entry.step.key, entry.step.kind, entry.step.materialized, entry.step.relation,
                                        status=SKIPPED, reason=self.blocked[entry.step.key], sql_path=entry.step.sql_path)
                else:
                    result = build(entry.step)
            with self.state:
                self._finish(result)

    def _checkpoint(self) -> bool:
        """The log is long and DuckDB checkpoints it only while no other write transaction is open, which
        two workers' overlapping batches never allow: this worker (its batch committed) raises the gate,
        so that each worker commits its batch at its next build and begins none, and checkpoints once none
        is open (at most GATE_SECONDS: a batched build may turn out slow); a worker that finds the gate up
        waits until it is down. True when the log is short again; False (build alone) when another
        worker's build kept its transaction open, or on a stop."""
        with self.state:
            if self.gate:
                while self.gate and not self.closed and not self.stop:
                    self.state.wait(0.25)
                return not self.gate and not self.adapter.log_full()
            self.gate = True
            until = time.monotonic() + GATE_SECONDS  # a batched build that turns out slow: build alone meanwhile
            while self.open_batches and not self.closed and not self.stop and time.monotonic() < until:
                self.state.wait(0.05)
            ready = not self.open_batches
        try:
            return ready and not self.closed and not self.stop and self.adapter.checkpoint()
        finally:
            with self.state:
                self.gate = False
                self.state.notify_all()

    def _start(self, key: str) -> bool:
        """Queue the node's start event and return True, or finish it at once as cancelled/skipped."""
        if self.stop:
            self._not_run(key, CANCELLED, _stop_reason(self.stop, self.report))
            return False
        if key in self.blocked:
            self._not_run(key, SKIPPED, self.blocked[key])
            return False
        build, why = self.decisions.get(key, (True, None))
        if not build:  # None: skipped by the plan (a stale source), False: up to date
            self._not_run(key, SKIPPED if build is None else UP_TO_DATE, why)
            return False
        step = self.by_key[key]
        started = SeedStarted if step.kind == "seed" else MartStarted
        self.events.put(started(key, step.kind, step.materialized, ".".join(step.relation), self.position[key],
                                len(self.by_key)))
        return True

    def _finish(self, result: NodeResult) -> None:
        """Record the node (the state lock held), queue its event, release what waited for it."""
        result.decision = self.decisions.get(result.key, (True, None))[1]
        self.report.results[result.key] = result
        cls = SeedFinished if result.kind == "seed" else MartFinished
        self.events.put(cls(result, self.position[result.key], len(self.by_key)))
        cause = _downstream_cause(result)
        if cause:
            for node in _descendants(self.children, result.key):
                self.blocked.setdefault(node, cause)
        if self.fail_fast and result.failed:
            self.stop.stop("fail-fast")
            self.adapter.cancel()  # also when the caller's Stop has no callback
        self._release(result)
        self.pending -= 1
        if not self.pending:
            self.events.put(None)
        self.state.notify_all()

    def _release(self, result: NodeResult) -> None:
        """Let what waited for the node start (once; the state lock held)."""
        if result.key not in self.released:
            self.released.add(result.key)
            self.sorter.done(result.key)
            self._queue_ready()
            self.state.notify_all()

    def _not_run(self, key: str, status: str, reason: str) -> None:
        step = self.by_key[key]
        self._finish(NodeResult(key, step.kind, step.materialized, step.relation, status=status, reason=reason,
                                sql_path=step.sql_path))


def _downstream_cause(result: NodeResult) -> str | None:
    """Why the node's downstream must be skipped, if it must."""
    if result.status == ERROR:
        return f"upstream {result.key} failed"
    if result.test_failure:
        return result.test_failure
    if result.status == CANCELLED:
        return f"upstream {result.key} was cancelled"
    return None


def _stop_reason(stop: Stop, report: RunReport) -> str:
    if stop.reason == "fail-fast":
        failed = next((r.key for r in report.results.values() if r.failed), None)
        return f"not started: --fail-fast after {failed} failed" if failed else "not started: --fail-fast"
    if stop.reason == LOCK_LOST:
        return "not started: the run lock was lost"
    return f"not started: run stopped by {stop.reason}"
