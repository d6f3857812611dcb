"""Fixtures shared by the suite. Helpers for one area live in that area's test module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A private copy of the repository's demo project (config.yaml, marts/, seeds/)."""
    dest = tmp_path / "demo"
    dest.mkdir()
    shutil.copy(REPO / "config.yaml", dest / "config.yaml")
    shutil.copytree(REPO / "marts", dest / "marts")
    shutil.copytree(REPO / "seeds", dest / "seeds")
    return dest


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write a small fixture project: {relative path: text}. A config.yaml is added if missing."""
    root.mkdir(parents=True, exist_ok=True)
    files = dict(files)
    files.setdefault("config.yaml", "name: fixture\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL cluster for the whole session (tests/pg_server.py), stopped at the end.

    When it cannot start: with $CI set the tests FAIL (CI must never skip them silently);
    locally they skip with the reason."""
    import os

    from pg_server import ServerUnavailable, start_server

    try:
        server = start_server()
    except ServerUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI: the throwaway PostgreSQL server did not start: {exc}", pytrace=False)
        pytest.skip(f"POSTGRES TESTS SKIPPED: the throwaway PostgreSQL server did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory):
    """The local Spark session of this pytest process (tests/spark_env.py): its warehouse folder.
    Each test builds into it with a schema_prefix of its own."""
    from spark_env import start_local

    warehouse = tmp_path_factory.mktemp("spark") / "warehouse"
    session = start_local(warehouse)
    yield warehouse
    session.stop()


@pytest.fixture(scope="session")
def spark_connect(tmp_path_factory):
    """A Spark Connect server started from the pyspark package for this pytest session: its sc:// URL."""
    from spark_env import ConnectServer

    server = ConnectServer(tmp_path_factory.mktemp("spark_connect"))
    server.wait_ready()
    yield server.url
    server.stop()

def failing_state_write(monkeypatch, key: str, why: str):
    """While inside: the DuckDB adapter raises `why` where it writes `key`'s state record (after the
    build's own statements, in the same transaction), as a crash or a full disk there would."""
    from contextlib import contextmanager

    from martctl.engine.adapters.duckdb import DuckDBAdapter

    def fail_on_record(index: int, text: str) -> None:
        if "martctl_state" in text and f"'{key}'" in text:
            raise RuntimeError(why)

    @contextmanager
    def held():
        monkeypatch.setattr(DuckDBAdapter, "between_statements", staticmethod(fail_on_record))
        try:
            yield
        finally:
            monkeypatch.setattr(DuckDBAdapter, "between_statements", None)

    return held()
