"""The Postgres target against a real server (the session's throwaway cluster, tests/pg_server.py)."""

from __future__ import annotations

import datetime
import decimal
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import write_project

from martctl.engine.adapters.base import get_adapter
from martctl.errors import AdapterError, LockBusy
from martctl.project.model import Target


@pytest.fixture
def pg_dsn(pg_server) -> str:
    """A fresh database on the session's server."""
    return pg_server.new_database()


def adapter_for(dsn: str, root: Path = Path(".")):
    password = dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    return get_adapter(Target("pg", "postgres", {"dsn": dsn}, 4, (dsn, password)), root)


@pytest.fixture
def adapter(pg_dsn, tmp_path):
    adapter = adapter_for(pg_dsn, tmp_path)
    adapter.connect()
    yield adapter
    adapter.close()


def compiled_marts(root: Path, target: str = "pg", vars: dict | None = None):
    from martctl.api import Workspace
    from martctl.compiler.compile import compile_project

    ctx = Workspace(root, target=target, vars=vars or {})
    compiled = compile_project(ctx.graph, target=ctx.target)
    order = [k for k in ctx.graph.graph.topological_order() if k in compiled.marts]
    return ctx, [compiled.marts[k] for k in order]


def leftovers(adapter) -> list:
    return adapter.query("SELECT relname FROM pg_class WHERE relname LIKE '%%martctl%%'").rows


# -- connection errors ------------------------------------------------------------------
def test_wrong_password_is_one_masked_line(pg_server, tmp_path):
    dsn = pg_server.dsn(password="not-the-Secret-42")
    adapter = adapter_for(dsn, tmp_path)
    with pytest.raises(AdapterError) as caught:
        adapter.connect()
    message = str(caught.value)
    assert "\n" not in message
    assert "password authentication failed" in message
    assert "not-the-Secret-42" not in message


def test_unreachable_host_is_one_line(tmp_path):
    from pg_server import free_port

    adapter = adapter_for(f"postgresql://u:hunter22@127.0.0.1:{free_port()}/db", tmp_path)
    with pytest.raises(AdapterError) as caught:
        adapter.connect()
    assert "cannot connect" in str(caught.value) and "\n" not in str(caught.value)
    assert "hunter22" not in str(caught.value)


# -- run lock ---------------------------------------------------------------------------
def test_second_lock_names_the_holder_and_waits(pg_dsn, tmp_path):
    first, second = adapter_for(pg_dsn, tmp_path), adapter_for(pg_dsn, tmp_path)
    first.acquire_lock(info={"pid": 4242, "host": "cronbox"})
    try:
        with pytest.raises(LockBusy) as caught:
            second.acquire_lock()
        message = str(caught.value)
        assert "pid=4242" in message and "cronbox" in message and "backend pid" in message
        assert caught.value.holder["backend_start"]
        threading.Timer(0.5, first.release_lock).start()
        started = time.monotonic()
        second.acquire_lock(wait_seconds=10)
        assert 0.3 < time.monotonic() - started < 5
    finally:
        first.release_lock()
        second.release_lock()
        first.close()
        second.close()


# -- cancel and broken connections ----------------------------------------------------------
def test_cancel_interrupts_a_running_statement(adapter):
    errors = []

    def run():
        try:
            adapter.query("SELECT pg_sleep(30)")
        except AdapterError as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    started = time.monotonic()
    worker.start()
    time.sleep(0.5)
    adapter.cancel()
    worker.join(10)
    assert time.monotonic() - started < 5
    assert errors and errors[0].cancelled
    assert adapter.query("SELECT 1").rows == [(1,)]  # the connection is usable afterwards


SLOW_PROJECT = {
    "config.yaml": (
        "name: slow\ndialect: postgres\ndefault_target: pg\n"
        "targets:\n  pg: {type: postgres, dsn: \"${MARTCTL_PG_DSN}\"}\n"
        "vars: {version: 1, nap: 0}\n"
    ),
    "marts/a/first.yml": "materialized: table\nsql: select g as id, :version as version from generate_series(1, 50) as g\n",
    "marts/a/slow.yml": (
        "materialized: table\n"
        "sql: select f.id, f.version from a.first as f cross join pg_sleep(:nap) as s\n"
    ),
    "marts/a/shown.yml": "materialized: view\nsql: select id, version from a.slow where id <= 10\n",
}


def kill_when_sleeping(dsn: str, timeout: float = 20) -> int:
    """Terminate the backend that runs pg_sleep (from another connection); return how many."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as con:
        while time.monotonic() < deadline:
            killed = con.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query ILIKE '%%pg_sleep%%' AND pid <> pg_backend_pid() AND state = 'active'"
            ).fetchone()[0]
            if killed:
                return killed
            time.sleep(0.05)
    return 0


def built_slow_project(pg_dsn, tmp_path, monkeypatch):
    """SLOW_PROJECT built once at version 1 on the server; its root and a connected adapter."""
    monkeypatch.setenv("MARTCTL_PG_DSN", pg_dsn)
    root = write_project(tmp_path / "slow", SLOW_PROJECT)
    _, marts = compiled_marts(root)
    adapter = adapter_for(pg_dsn, root)
    for mart in marts:
        adapter.materialize(mart)
    return root, adapter


def test_terminated_backend_keeps_the_old_version(pg_dsn, tmp_path, monkeypatch):
    root, adapter = built_slow_project(pg_dsn, tmp_path, monkeypatch)
    _, marts = compiled_marts(root, vars={"version": 2, "nap": 30})
    adapter.materialize(marts[0])  # a.first is at version 2
    killer = threading.Thread(target=kill_when_sleeping, args=(pg_dsn,))
    killer.start()
    with pytest.raises(AdapterError) as caught:
        adapter.materialize(marts[1])
    killer.join()
    assert "connection to the server was lost" in str(caught.value)
    assert pg_dsn.split("@")[0].split(":")[-1] not in str(caught.value)
    # a.slow stayed at version 1, and its view still reads it; nothing half-built is left
    assert adapter.query("SELECT DISTINCT version FROM a.slow").rows == [(1,)]
    assert adapter.query("SELECT count(*) FROM a.shown").rows == [(10,)]
    assert adapter.query("SELECT DISTINCT version FROM a.first").rows == [(2,)]
    assert leftovers(adapter) == []
    adapter.close()


# -- building ---------------------------------------------------------------------------------
def test_swapping_a_table_keeps_the_views_on_it(pg_dsn, tmp_path, monkeypatch):
    root, adapter = built_slow_project(pg_dsn, tmp_path, monkeypatch)
    adapter.query("CREATE VIEW a.user_view AS SELECT count(*) AS n FROM a.shown")  # a user's own view, two levels up
    _, marts = compiled_marts(root, vars={"version": 3})
    adapter.materialize(marts[0])
    assert adapter.materialize(marts[1]) == 50
    assert adapter.query("SELECT DISTINCT version FROM a.shown").rows == [(3,)]
    assert adapter.query("SELECT n FROM a.user_view").rows == [(10,)]
    adapter.close()


def test_seeds_load_with_copy_and_the_sniffed_types(adapter, demo_dir, monkeypatch, pg_dsn):
    monkeypatch.setenv("MARTCTL_PG_DSN", pg_dsn)
    ctx, _ = compiled_marts(demo_dir)
    counts = {key: adapter.load_seed(source) for key, source in ctx.project.sources.items() if source.seed}
    assert counts["raw.orders"] == 1683 and counts["raw.sessions"] == 4500
    columns = adapter.columns("raw", "orders")
    assert columns == {"order_id": "bigint", "customer_id": "bigint", "session_id": "bigint",
                       "ordered_at": "timestamp without time zone", "amount": "numeric(12,2)", "status": "text"}
    assert adapter.columns("raw", "nope") is None
    assert adapter.query("SELECT count(*) FROM raw.orders WHERE session_id IS NULL").rows[0][0] > 0  # empty -> NULL
    adapter.query("CREATE VIEW raw.recent AS SELECT * FROM raw.orders WHERE amount > 10")
    assert adapter.load_seed(ctx.project.sources["raw.orders"]) == 1683  # reloaded under its view
    assert adapter.exists("raw", "recent")


# -- the CLI, end to end ----------------------------------------------------------------------
def martctl(root: Path, *args: str, dsn: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "MARTCTL_PG_DSN": dsn or "", "NO_COLOR": "1"}
    env.pop("MARTCTL_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "martctl", *args, "--project-dir", str(root)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def _numeric(value) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _sort_key(row: tuple) -> tuple:
    """Rows sorted by their non-numeric and integer columns first, then by rounded numbers."""
    exact = tuple(repr(v) if not (_numeric(v) and not isinstance(v, int)) else "" for v in row)
    return exact, tuple(round(float(v), 6) if _numeric(v) else 0 for v in row)


def mart_rows_pg(dsn: str, relation: str) -> tuple[list[str], list[tuple]]:
    import psycopg

    with psycopg.connect(dsn) as con:
        cur = con.execute(f"SELECT * FROM {relation}")  # relation: a demo mart's schema.name
        return [d.name for d in cur.description], cur.fetchall()


def test_demo_builds_on_postgres_like_on_duckdb(demo_dir, pg_dsn):
    import duckdb

    built = martctl(demo_dir, "build", "-t", "pg", dsn=pg_dsn)
    assert built.returncode == 0, built.stdout + built.stderr
    again = martctl(demo_dir, "build", "-t", "pg", dsn=pg_dsn)  # swaps under views, incremental path
    assert again.returncode == 0, again.stdout + again.stderr
    local = martctl(demo_dir, "build", dsn=pg_dsn)
    assert local.returncode == 0, local.stdout + local.stderr

    from martctl.project.loader import load_project

    project = load_project(demo_dir)
    con = duckdb.connect(str(demo_dir / "warehouse.duckdb"), read_only=True)
    try:
        for key in project.marts:
            columns, pg_rows = mart_rows_pg(pg_dsn, key)
            duck = con.execute(f"SELECT * FROM {key}")
            assert columns == [d[0] for d in duck.description], key
            duck_rows = duck.fetchall()
            assert len(pg_rows) == len(duck_rows) > 0, key
            for pg_row, duck_row in zip(sorted(pg_rows, key=_sort_key), sorted(duck_rows, key=_sort_key)):
                assert pg_row == duck_row, (key, pg_row, duck_row)  # exactly: rounded values included
    finally:
        con.close()

    def results(*target: str) -> dict:
        run = martctl(demo_dir, "test", *target, "--json", dsn=pg_dsn)
        assert run.returncode == 0, run.stdout + run.stderr
        return {(r["mart"], r["name"]): (r["status"], r["failures"]) for r in json.loads(run.stdout)["results"]}

    on_pg, on_duckdb = results("-t", "pg"), results()
    assert on_pg == on_duckdb and len(on_pg) > 20


def test_a_failing_test_on_postgres_fails_the_build(demo_dir, pg_dsn):
    """Planted bad data is caught on Postgres too: a negative spend in the seed."""
    seed = demo_dir / "seeds" / "ad_spend.csv"
    lines = seed.read_text().splitlines()
    head, first = lines[0], lines[1].split(",")
    first[-1] = "-5.00"
    seed.write_text("\n".join([head, ",".join(first), *lines[2:]]) + "\n")
    built = martctl(demo_dir, "build", "-t", "pg", dsn=pg_dsn)
    tested = martctl(demo_dir, "test", "-t", "pg", "--json", dsn=pg_dsn)
    assert tested.returncode == 1, tested.stdout + tested.stderr
    failing = [r for r in json.loads(tested.stdout)["results"] if r["status"] == "FAIL"]
    assert any(r["mart"] == "marketing.campaign_performance" and r["failures"] == 1 for r in failing), failing
    assert built.returncode == 1, built.stdout + built.stderr  # the build ran the same test right after the mart
    assert "FAIL expression__spend on marketing.campaign_performance" in built.stdout
    skipped = [line for line in built.stderr.splitlines() if " SKIP " in line]  # its downstream mart is not built
    assert len(skipped) == 1 and "marketing.campaign_roas" in skipped[0] and "test expression__spend failed" in skipped[0], built.stderr


def test_wrong_password_on_the_cli_is_one_masked_line(demo_dir, pg_server):
    secret = "Wr0ng-Pa55word"
    run = martctl(demo_dir, "build", "-t", "pg", dsn=pg_server.dsn(password=secret))
    assert run.returncode == 1
    assert secret not in run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "password authentication failed" in errors[0], run.stderr


def test_unreachable_server_exits_1_and_a_bad_dsn_exits_2(demo_dir):
    from pg_server import free_port

    down = martctl(demo_dir, "build", "-t", "pg", dsn=f"postgresql://me:s3cr3t-x@127.0.0.1:{free_port()}/db")
    assert down.returncode == 1 and "s3cr3t-x" not in down.stdout + down.stderr
    assert "cannot connect" in down.stderr and len(down.stderr.strip().splitlines()) == 1, down.stderr
    bad = martctl(demo_dir, "build", "-t", "pg", dsn="postgresql://me:s3cr3t-x@127.0.0.1:notaport/db")
    assert bad.returncode == 2 and "invalid dsn" in bad.stderr and "s3cr3t-x" not in bad.stdout + bad.stderr


def test_terminated_backend_during_a_build(pg_dsn, tmp_path):
    root = write_project(tmp_path / "slow", SLOW_PROJECT)
    assert martctl(root, "build", dsn=pg_dsn).returncode == 0
    killer = threading.Thread(target=kill_when_sleeping, args=(pg_dsn,))
    killer.start()
    run = martctl(root, "build", "--vars", "version=2", "--vars", "nap=30", dsn=pg_dsn)
    killer.join()
    assert run.returncode == 1, run.stdout + run.stderr
    assert "connection to the server was lost" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    versions = {key: sorted({row[1] for row in mart_rows_pg(pg_dsn, key)[1]}) for key in ("a.first", "a.slow", "a.shown")}
    assert all(v in ([1], [2]) for v in versions.values()), versions  # each mart: old or new, never mixed
    assert versions["a.first"] == [2] and versions["a.slow"] == [1] and versions["a.shown"] == [1]
    import psycopg

    with psycopg.connect(pg_dsn) as con:
        assert con.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%%martctl%%'").fetchone()[0] == 0


def test_a_second_build_waits_or_exits_3_naming_the_holder(demo_dir, pg_dsn, tmp_path):
    holder = adapter_for(pg_dsn, tmp_path)
    holder.acquire_lock(info={"pid": 777, "host": "nightly-cron"})
    try:
        busy = martctl(demo_dir, "build", "-t", "pg", dsn=pg_dsn)
        assert busy.returncode == 3, busy.stdout + busy.stderr
        assert "pid=777" in busy.stderr and "nightly-cron" in busy.stderr
        released = []

        def release():
            released.append(time.time())
            holder.release_lock()

        threading.Timer(1.5, release).start()
        waited = martctl(demo_dir, "build", "-t", "pg", "--wait", "60", dsn=pg_dsn)
        assert waited.returncode == 0, waited.stdout + waited.stderr
        started = json.loads((demo_dir / "target" / "run_results.json").read_text())["started_at"]
        assert released and datetime.datetime.fromisoformat(started).timestamp() >= released[0] - 0.5
    finally:
        holder.release_lock()
        holder.close()


def test_two_concurrent_builds_never_interleave(demo_dir, pg_dsn, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(demo_dir, other)
    env = {**os.environ, "MARTCTL_PG_DSN": pg_dsn}
    procs = [subprocess.Popen([sys.executable, "-m", "martctl", "build", "-t", "pg", "--wait", "120", "--project-dir", str(root)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for root in (demo_dir, other)]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, out + err
    spans = []
    for root in (demo_dir, other):
        results = json.loads((root / "target" / "run_results.json").read_text())
        spans.append((datetime.datetime.fromisoformat(results["started_at"]), datetime.datetime.fromisoformat(results["finished_at"])))
    (a_start, a_end), (b_start, b_end) = sorted(spans)
    assert a_end <= b_start, spans


# -- the fixture itself ------------------------------------------------------------------------
@pytest.mark.parametrize("ci, code, said", [("1", 1, "CI: the throwaway PostgreSQL server did not start"),
                                            ("", 0, "POSTGRES TESTS SKIPPED")])
def test_without_server_binaries_ci_fails_and_local_skips_loudly(ci, code, said):
    """No silent skip in CI: with CI set, a server that cannot start fails the Postgres tests."""
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "CI": ci, "MARTCTL_PG_BINDIR": "/nonexistent/bin"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-ra",
                          "tests/test_transforms.py::test_group_by_all_is_expanded_and_runs_on_postgres"],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == code, run.stdout + run.stderr
    assert said in run.stdout and "no PostgreSQL server binaries" in run.stdout
