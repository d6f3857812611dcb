"""One in-memory DuckDB per process for checking files and SQL (it stores nothing, touches no warehouse)."""

from __future__ import annotations

import threading
from contextlib import contextmanager

_lock = threading.Lock()
_con = None


@contextmanager
def scratch_duckdb():
    """The process's scratch connection, for one thread at a time."""
    global _con
    with _lock:
        if _con is None:
            import duckdb

            _con = duckdb.connect(":memory:")
        yield _con


def close_scratch() -> None:
    """Close the scratch connection (with it go DuckDB's threads: a process about to fork has only its
    own); the next use opens a fresh one."""
    global _con
    with _lock:
        if _con is not None:
            _con.close()
            _con = None
