"""A DuckDB run closes its warehouse (the checkpoint) in a thread while the main thread writes the
artifacts; the run returns only once the warehouse is closed, and releases its lock after that. The
close below waits for the manifest, so it can only finish if it really runs beside it. The compiled
files are written by a thread beside the run itself: the first build below waits for them (and finds
the checks' in-memory DuckDB closed)."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
from conftest import write_project

import martctl
from martctl.compiler import compile as compile_module
from martctl.engine import artifacts
from martctl.engine.adapters.duckdb import DuckDBAdapter
from martctl.engine.events import MartStarted
from martctl.project import scratch

FILES = {"marts/a/one.yml": "sql: select 1 as id\n", "marts/a/two.yml": "sql: select id + 1 as id from a.one\n"}


def test_close_runs_beside_the_artifacts_and_the_lock_waits_for_it(tmp_path: Path, monkeypatch):
    root = write_project(tmp_path / "p", FILES)
    events: list[str] = []
    manifest_written = threading.Event()
    close, release, write_manifest = DuckDBAdapter.close, DuckDBAdapter.release_lock, artifacts.write_manifest

    def close_after_the_manifest(self):
        if self._con is not None:  # the run's close (not a second one)
            assert manifest_written.wait(10), "the close did not run beside the artifacts"
            close(self)
            events.append("closed")
        else:
            close(self)

    def manifest(*args, **kwargs):
        write_manifest(*args, **kwargs)
        events.append("manifest")
        manifest_written.set()

    def released(self):
        events.append("released")
        release(self)

    monkeypatch.setattr(DuckDBAdapter, "close", close_after_the_manifest)
    monkeypatch.setattr(DuckDBAdapter, "release_lock", released)
    monkeypatch.setattr(artifacts, "write_manifest", manifest)
    report = martctl.open(root).run()
    assert report.exit_code() == 0
    assert events == ["manifest", "closed", "released"]
    assert (root / "target/compiled/a/two.sql").is_file() and (root / "target/run_results.json").is_file()
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)  # closed: another connection may open it
    try:
        assert con.execute("select id from a.two").fetchall() == [(2,)]
    finally:
        con.close()


def test_a_failing_close_is_reported_and_the_lock_is_released(tmp_path: Path, monkeypatch):
    root = write_project(tmp_path / "p", FILES)

    def broken_close(self):
        close(self)
        raise duckdb.IOException("IO Error: could not write the checkpoint (planted)")

    close = DuckDBAdapter.close
    monkeypatch.setattr(DuckDBAdapter, "close", broken_close)
    try:
        martctl.open(root).run()
    except duckdb.IOException as exc:
        assert "planted" in str(exc)
    else:
        raise AssertionError("a failing close must not pass silently")
    monkeypatch.setattr(DuckDBAdapter, "close", close)
    assert martctl.open(root).run(force=True).exit_code() == 0  # the lock was released


def test_compiled_files_are_written_beside_the_run(tmp_path: Path, monkeypatch):
    root = write_project(tmp_path / "p", FILES)
    written = threading.Event()
    write_compiled = compile_module.write_compiled

    def write(*args, **kwargs):
        files = write_compiled(*args, **kwargs)
        written.set()
        return files

    def on_event(event):  # one thread: the run waits here, before its first build
        if isinstance(event, MartStarted):
            assert written.wait(10), "the compiled files were not written beside the run"
            assert scratch._con is None, "the checks' in-memory DuckDB is still open during the run"

    monkeypatch.setattr(compile_module, "write_compiled", write)
    report = martctl.open(root).run(threads=1, on_event=on_event)
    assert report.exit_code() == 0 and written.is_set()
    assert (root / "target/compiled/a/one.sql").read_text() == "SELECT\n  1 AS id;\n"
