"""A Spark build killed (SIGKILL of martctl and its JVM) while it writes a mart's new version
leaves every mart at its old or its new version, whole; the next build succeeds without manual
cleanup and leaves no stray version. While a build holds the warehouse, a second one exits 3
naming it. The kills land by events: the folder of the table being written appears (inotify).

Each build is a process of its own with its own JVM and local warehouse (one Derby metastore
per JVM); the marts are read back by a small probe process on the same warehouse."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_project
from gate import Created
from spark_env import PYTHON_ENV

pytestmark = pytest.mark.spark
N_MARTS = 5
ROWS = 1000

PROBE = """
import json, sys
import martctl
from martctl.engine.adapters.base import get_adapter
ws = martctl.open(sys.argv[1], target="spark")
adapter = get_adapter(ws.target, ws.root)
adapter.connect()
out = {"marts": {}, "tables": sorted(n for n in adapter._catalog("k"))}
for i in range(int(sys.argv[2])):
    out["marts"][f"k.m{i}"] = [list(r) for r in adapter.query(f"select version, count(*) from k.m{i} group by version").rows]
out["state"] = {k: v for k, v in adapter.query("select key, run_id from martctl_state.marts").rows}
adapter.close()
print(json.dumps(out))
"""


def _project(root: Path) -> Path:
    files = {"config.yaml": "name: k\ndialect: duckdb\ntargets:\n  spark: {type: spark, master: 'local[2]', warehouse: wh, threads: 2}\n"
                            "vars: {version: 1}\n"}
    for i in range(N_MARTS):
        upstream = f"from k.m{i - 1} as u" if i else f"from range({ROWS}) u(i)"
        files[f"marts/k/m{i}.yml"] = f"sql: select u.i, cast(:version as integer) as version {upstream}\n"
    return write_project(root, files)


def _build(root: Path, version: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "martctl", "build", "--project-dir", str(root), "--vars", f"version={version}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=PYTHON_ENV, start_new_session=True)


def _probe(root: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE, str(root), str(N_MARTS)], capture_output=True, text=True,
                         env=PYTHON_ENV, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    for key, rows in found["marts"].items():
        assert len(rows) == 1 and rows[0][1] == ROWS, (key, rows)  # one whole version, never half
    return found


def _versions(found: dict) -> dict[str, int]:
    return {key: rows[0][0] for key, rows in found["marts"].items()}


def test_sigkill_while_writing_a_version_leaves_old_or_new_and_a_second_build_exits_3(tmp_path: Path):
    root = _project(tmp_path / "p")
    tables = root / "wh" / "tables" / "k.db"
    writing = Created(tables, "m2__martctl_v1")
    first = _build(root, 1)
    writing.wait(first)  # the first build holds the warehouse, mid-way through its marts
    second = subprocess.run([sys.executable, "-m", "martctl", "build", "--project-dir", str(root)],
                            capture_output=True, text=True, env=PYTHON_ENV, timeout=120)
    assert second.returncode == 3, second.stdout + second.stderr
    assert f"pid {first.pid}" in second.stdout + second.stderr
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]  # every mart at version 1

    killed_at = Created(tables, "m3__martctl_v2")
    proc = _build(root, 2)
    killed_at.wait(proc)  # m3's new version is being written; m0..m2 are swapped in already
    os.killpg(proc.pid, signal.SIGKILL)  # martctl and its JVM: a crash of the whole build
    proc.wait(timeout=60)
    after = _probe(root)
    versions = _versions(after)
    assert versions["k.m2"] == 2 and versions["k.m3"] == 1 and versions["k.m4"] == 1, versions
    assert after["state"]["k.m2"] != after["state"]["k.m3"]  # m3's record is still its first build's

    done = _build(root, 99)
    out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err[-3000:]
    final = _probe(root)
    assert set(_versions(final).values()) == {99}
    for i in range(N_MARTS):  # the view and at most one previous version; no unswapped leftover
        kept = [t for t in final["tables"] if t.startswith(f"m{i}__")]
        assert len(kept) <= 2 and not any("batch" in t for t in kept), final["tables"]
