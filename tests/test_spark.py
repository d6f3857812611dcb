"""The Spark target on a real local session (one per pytest process, tests/spark_env.py) and through
a locally started Spark Connect server: the demo builds and tests on Spark with every mart equal to
DuckDB's build; incremental marts (merge and append) stay equal to DuckDB's over later runs; a rebuild
keeps one previous version and drops the rest; the state says up to date only for what was built."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import write_project
from spark_env import PYTHON_ENV

sys.path.insert(0, str(Path(__file__).parent / "conformance"))
from conformance_compare import differences  # noqa: E402

pytestmark = pytest.mark.spark
REPO = Path(__file__).resolve().parent.parent


def _demo(root: Path, spark: dict) -> Path:
    """The repository's demo project with a DuckDB target `local` and the given spark target."""
    root.mkdir(parents=True)
    for part in ("marts", "seeds"):
        shutil.copytree(REPO / part, root / part)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["targets"] = {"local": {"type": "duckdb", "path": "wh.duckdb", "threads": 2}, "spark": {"type": "spark", **spark}}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def _spark_rows(sql: str):
    from pyspark.sql import SparkSession

    frame = SparkSession.getActiveSession().sql(sql)
    return tuple(frame.columns), [tuple(r) for r in frame.collect()]


def _duck_rows(root: Path, sql: str):
    import duckdb

    with duckdb.connect(str(root / "wh.duckdb"), read_only=True) as con:
        cursor = con.execute(sql)
        return tuple(d[0] for d in cursor.description), cursor.fetchall()


def _assert_equal_marts(root: Path, prefix: str, read_spark=_spark_rows) -> int:
    import martctl

    keys = [m.name for m in martctl.open(root).ls()]  # area.name
    for key in keys:
        duck_columns, duck = _duck_rows(root, f"SELECT * FROM {key}")
        columns, rows = read_spark(f"SELECT * FROM {prefix}{key}")
        assert columns == duck_columns, key
        assert duck, f"{key}: no rows on DuckDB, the comparison proves nothing"
        diff = differences(duck, rows)
        assert not diff, f"{key}: Spark differs from DuckDB\n" + "\n".join(diff)
    return len(keys)


@pytest.fixture(scope="module")
def demo(spark_warehouse, tmp_path_factory):
    import martctl

    root = _demo(tmp_path_factory.mktemp("demo") / "p", {"warehouse": str(spark_warehouse), "schema_prefix": "demo_", "threads": 2})
    duck = martctl.open(root, target="local").build()
    assert duck.exit_code() == 0
    report = martctl.open(root, target="spark").build()
    return root, duck, report


def test_demo_builds_and_tests_on_spark_equal_to_duckdb(demo):
    root, duck, report = demo
    assert report.exit_code() == 0, [(r.key, r.error) for r in report.failed]
    assert {k: r.status for k, r in report.results.items()} == {k: r.status for k, r in duck.results.items()}
    tests = lambda rep: sorted((k, t["name"], t["status"]) for k, r in rep.results.items() for t in r.tests)  # noqa: E731
    assert tests(report) == tests(duck) and tests(report)
    assert _assert_equal_marts(root, "demo_") >= 9


def test_demo_rebuild_is_up_to_date_then_forced_keeps_one_previous_version(demo):
    import martctl

    root, _, _ = demo
    again = martctl.open(root, target="spark").build()
    assert {r.status for r in again.results.values()} == {"up to date"}
    forced = martctl.open(root, target="spark").build(select=["data_analyst.customer_orders"], force=True)
    assert forced.exit_code() == 0
    _, tables = _spark_rows("SHOW TABLES IN demo_data_analyst LIKE 'customer_orders*'")
    names = sorted(t[1] for t in tables)
    assert names == ["customer_orders", "customer_orders__martctl_v1", "customer_orders__martctl_v2"], names
    _, text = _spark_rows("DESCRIBE TABLE EXTENDED demo_data_analyst.customer_orders")
    assert "customer_orders__martctl_v2" in dict((r[0], r[1]) for r in text)["View Text"]
    _, state = _spark_rows("SELECT status, run_id FROM demo_martctl_state.marts WHERE key = 'data_analyst.customer_orders'")
    assert state == [("ok", forced.run_id)]


def test_run_results_show_the_session_start_up(demo):
    import json

    root, _, report = demo
    results = json.loads((root / "target" / "run_results.json").read_text())
    assert results["target"] == "spark" and "session_startup_seconds" in results


INCREMENTAL = {
    "seeds/events.csv": "id,v,updated_at\n1,10,2024-01-01 00:00:00\n2,20,2024-01-02 00:00:00\n",
    "marts/inc/merged.yml": "materialized: incremental\nincremental: {unique_key: id, cursor: updated_at}\n"
                            "sql: select id, v, updated_at from raw.events\n",
    "marts/inc/appended.yml": "materialized: incremental\nincremental: {cursor: updated_at, strategy: append}\n"
                              "sql: select id, v, updated_at from raw.events\n",
}
LATER = "id,v,updated_at\n1,10,2024-01-01 00:00:00\n2,25,2024-01-05 00:00:00\n3,30,2024-01-04 00:00:00\n"
BACKFILLED = "id,v,updated_at\n1,11,2024-01-01 00:00:00\n2,26,2024-01-05 00:00:00\n3,33,2024-01-04 00:00:00\n"


def test_incremental_merge_and_append_equal_duckdb_over_two_runs(spark_warehouse, tmp_path):
    import martctl

    config = ("name: inc\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n"
              f"  spark: {{type: spark, warehouse: '{spark_warehouse}', schema_prefix: inc_, threads: 2}}\n")
    root = write_project(tmp_path / "p", {**INCREMENTAL, "config.yaml": config})
    for step in (1, 2):
        if step == 2:
            (root / "seeds" / "events.csv").write_text(LATER)
        for target in ("local", "spark"):
            report = martctl.open(root, target=target).build()
            assert report.exit_code() == 0, [(r.key, r.error) for r in report.failed]
            assert report.results["inc.merged"].incremental == ("full" if step == 1 else "batch")
        _assert_equal_marts(root, "inc_")
    _, merged = _spark_rows("SELECT id, v FROM inc_inc.merged ORDER BY id")
    assert merged == [(1, 10), (2, 25), (3, 30)]  # id 2 replaced, not doubled
    _, appended = _spark_rows("SELECT count(*) FROM inc_inc.appended")
    assert appended == [(4,)]  # both of id 2's versions kept
    (root / "seeds" / "events.csv").write_text(BACKFILLED)
    for target in ("local", "spark"):  # the seed, then exactly [Jan 4, Jan 5) of `merged` replaced
        assert martctl.open(root, target=target).seed().exit_code() == 0
        report = martctl.open(root, target=target).run(["inc.merged"], start="2024-01-04", end="2024-01-05")
        assert report.results["inc.merged"].incremental == "backfill", report.results["inc.merged"]
    _assert_equal_marts(root, "inc_")
    _, merged = _spark_rows("SELECT id, v FROM inc_inc.merged ORDER BY id")
    assert merged == [(1, 10), (2, 25), (3, 33)]  # only id 3's day was read again


def test_demo_through_a_spark_connect_server(spark_connect, tmp_path, monkeypatch):
    """`martctl build` (the CLI, its own process: a Connect client, no JVM) against a server started here."""
    from pyspark.sql import SparkSession

    root = _demo(tmp_path / "p", {"remote": spark_connect, "schema_prefix": "c_", "threads": 2})
    for target in ("local", "spark"):
        run = subprocess.run([sys.executable, "-m", "martctl", "build", "-t", target, "--project-dir", str(root)],
                             capture_output=True, text=True, env=PYTHON_ENV, timeout=600)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "session start-up" in run.stdout
    # a remote session switches the whole process to Connect mode (an environment variable):
    # monkeypatch puts it back as it was after the test, for the process's local session
    monkeypatch.setenv("SPARK_CONNECT_MODE_ENABLED", "")
    monkeypatch.delenv("SPARK_CONNECT_MODE_ENABLED")
    client = SparkSession.builder.remote(spark_connect).create()
    try:
        def read(sql):
            frame = client.sql(sql)
            return tuple(frame.columns), [tuple(r) for r in frame.collect()]

        assert _assert_equal_marts(root, "c_", read) >= 9
        _, lock = read("SHOW TABLES IN c_martctl_state LIKE 'run_lock'")
        assert lock == []  # released
    finally:
        client.stop()


LOCK_CHECK = """
import sys
import pytest
from martctl.engine.adapters.base import get_adapter
from martctl.errors import LockBusy
from martctl.project.model import Target

target = Target("cluster", "spark", {"remote": sys.argv[1], "schema_prefix": "lk_"})
first, second = get_adapter(target, "."), get_adapter(target, ".")
first.acquire_lock(info={"pid": 1, "host": "h", "started_at": "then", "command": "martctl build"})
waited = []
with pytest.raises(LockBusy, match="pid 1 on h"):
    second.acquire_lock(wait_seconds=1.0, on_wait=waited.append)
assert waited and "pid 1 on h" in waited[0], waited
first.release_lock()
second.acquire_lock()
second.release_lock()
print("lock ok")
"""


def test_connect_lock_table_second_run_is_busy(spark_connect):
    """Two adapters on one Connect server (in a process of their own: a process runs either a local
    or a remote session): the second run's lock is busy and names the first, until the first releases
    it; waiting reports who holds it."""
    run = subprocess.run([sys.executable, "-c", LOCK_CHECK, spark_connect], capture_output=True, text=True,
                         env=PYTHON_ENV, timeout=300)
    assert run.returncode == 0 and "lock ok" in run.stdout, run.stdout[-2000:] + run.stderr[-3000:]
