"""The adapter protocol: the only way the runner touches a warehouse.

An adapter is built from a Target (and the project root, for relative paths) by `get_adapter`.
It is used from several worker threads at once: implementations keep one connection (or
cursor) per thread and must make `cancel()` safe to call from any thread.

DDL is built as sqlglot ASTs (see martctl/sql.py), never by pasting strings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledMart
    from martctl.project.model import SourceTable, Target


# given a build's row count, the statements to run last in its transaction (the state's record)
Then = Callable[[Optional[int]], Sequence[Any]]


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class Adapter(ABC):
    """A handful of methods; everything else (ordering, threads, events) is the runner's job."""

    type: str = ""
    read_only: bool = False  # set before connect: only read (martctl plan); nothing is created or cleaned
    close_in_background: bool = False  # close() may run in a thread beside the caller's Python work

    def __init__(self, target: "Target", project_root: Path):
        self.target = target
        self.project_root = project_root

    @property
    def dialect(self) -> str:
        return self.target.dialect

    # -- connection -------------------------------------------------------------
    @abstractmethod
    def connect(self) -> None:
        """Open the connection (import the driver here). Raise AdapterError with a masked message."""

    def require_existing(self) -> None:
        """Raise ProjectError when the warehouse does not exist yet (for commands that only read it,
        which must not create an empty one). Server warehouses always exist."""

    @abstractmethod
    def close(self) -> None:
        """Close every connection this adapter opened."""

    @abstractmethod
    def cancel(self) -> None:
        """Interrupt every running statement (called from another thread on Ctrl-C or --fail-fast)."""

    # -- run lock ----------------------------------------------------------------
    @abstractmethod
    def acquire_lock(self, wait_seconds: float = 0.0, info: dict | None = None,
                     on_wait: Callable[[str], None] | None = None) -> None:
        """Take the target's run lock or raise LockBusy naming the holder (pid, host, start time).
        While waiting (`wait_seconds`), `on_wait(message)` says who holds it, at once and every minute."""

    @abstractmethod
    def release_lock(self) -> None: ...

    # -- work --------------------------------------------------------------------
    @abstractmethod
    def query(self, sql: str, limit: int | None = None) -> QueryResult:
        """Run a query in the target dialect and fetch its rows (at most `limit`)."""

    @abstractmethod
    def materialize(self, compiled: "CompiledMart", full_refresh: bool = False, then: Then | None = None) -> int | None:
        """Build one mart as its materialization says (view | table | incremental) and return
        its row count (None where unknown). A table is built aside and swapped in one
        transaction: readers see the old or the new version, never none and never half.
        `then(rows)` returns statements (the state's record) to run last in that same transaction."""

    @abstractmethod
    def load_seed(self, source: "SourceTable", then: Then | None = None) -> int:
        """Load a seed CSV into its table (built aside and swapped like a table); return rows."""

    def execute(self, statements: Sequence[Any]) -> None:
        """Run statements (sqlglot ASTs) in one transaction."""
        raise NotImplementedError

    def replace_views(self, views: Sequence[tuple[tuple[str, str], Any]], then: Sequence[Any] = (),
                      first: Sequence[Any] = ()) -> None:
        """In one transaction: `first`, then each (relation, query) made a view (replacing the view or
        table there; on engines that bind views, the views depending on it are kept), then `then`."""
        raise NotImplementedError

    def view_definition(self, schema: str, name: str) -> str | None:
        """The SELECT of a view as the warehouse keeps it (None when there is no such view)."""
        raise NotImplementedError

    def relations(self) -> set[tuple[str, str]]:
        """Every (schema, name) in the warehouse, lowercased."""
        raise NotImplementedError

    @abstractmethod
    def columns(self, schema: str, table: str) -> dict[str, str] | None:
        """Column name -> type of a relation in the warehouse, or None when it does not exist."""

    def exists(self, schema: str, table: str) -> bool:
        return self.columns(schema, table) is not None

    def workers_building(self, count: int, quick: int = 0) -> None:
        """How many of the run's workers are building now (the others wait for their upstream), `quick`
        of them a build its last run says is quick (batch.solo); 0 once the run is over. An engine whose
        own threads every query shares (DuckDB) sizes that pool so that the workers and its threads
        together do not outnumber the cores. Default: nothing."""

    # -- batches: consecutive builds committed together (see engine/batch.py) -------------------
    batches: bool = False  # True: the adapter implements the four methods below

    def begin_batch(self, schemas: Sequence[str] = ()) -> None:
        """Open a transaction on this thread's connection; what this thread runs goes into it until
        commit_batch or rollback_batch (`schemas` are created first, outside it)."""
        raise NotImplementedError

    def log_full(self) -> bool:
        """The engine's write-ahead log waits for a checkpoint that open batches prevent (batch.WAL_BYTES)."""
        return False

    def checkpoint(self) -> bool:
        """Checkpoint the log now (no batch open on this thread); True when it is short again."""
        return True

    def batch_failed(self) -> bool:
        """A statement of this thread's open batch failed: the batch can only be rolled back."""
        raise NotImplementedError

    def commit_batch(self, statements: Sequence[Any] = ()) -> None:
        """Run `statements` (the builds' records) in the open batch and commit it; on a failure the
        whole batch is rolled back and AdapterError raised."""
        raise NotImplementedError

    def rollback_batch(self) -> None:
        """Roll this thread's open batch back (nothing it ran is kept)."""
        raise NotImplementedError

    def change_counters(self, relations: Sequence[tuple[str, str]]) -> tuple[dict[tuple[str, str], str], str]:
        """A data version per table from the engine's own change counters, for the tables it can vouch
        for, and what was read (or why nothing). DuckDB keeps no such counters: ({}, why)."""
        return {}, f"{self.type} keeps no change counters"


ADAPTERS = {
    "duckdb": "martctl.engine.adapters.duckdb:DuckDBAdapter",
    "postgres": "martctl.engine.adapters.postgres:PostgresAdapter",
    "spark": "martctl.engine.adapters.spark:SparkAdapter",
}


def get_adapter(target: "Target", project_root: Path) -> Adapter:
    """The adapter for a target's type (imported only when asked for)."""
    from martctl.errors import ProjectError

    spec = ADAPTERS.get(target.type)
    if spec is None:
        raise ProjectError(f"target '{target.name}': no adapter for type '{target.type}' yet",
                           hint=f"supported: {', '.join(ADAPTERS)}; other dialects can still be compiled to")
    module, _, cls = spec.partition(":")
    return getattr(import_module(module), cls)(target, project_root)


def row_list(rows: Sequence) -> list[tuple]:
    return [tuple(r) for r in rows]
