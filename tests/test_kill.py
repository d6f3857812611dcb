"""SIGKILL in the middle of table swaps leaves every mart at its old or its new version."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from conftest import write_project

N_MARTS = 24


def _project(root: Path) -> Path:
    files = {"config.yaml": "name: k\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb, threads: 3}\n"
                            "vars: {version: 1}\n"}
    for i in range(N_MARTS):
        upstream = f"from k.m{i - 1} " if i % 4 else "from range(200000) t(i) "
        files[f"marts/k/m{i}.yml"] = f"sql: select i, cast(:version as integer) as version {upstream}\n"
    return write_project(root, files)


def _build(root: Path, version: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "martctl", "build", "--project-dir", str(root), "--vars", f"version={version}", "--log-format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _versions(root: Path) -> dict[str, set]:
    con = duckdb.connect(str(root / "wh.duckdb"))
    try:
        leftovers = con.execute("select count(*) from information_schema.tables where table_name like '%martctl%'").fetchone()[0]
        found = {}
        for i in range(N_MARTS):
            rows = con.execute(f"select version, count(*) from k.m{i} group by version").fetchall()
            assert len(rows) == 1 and rows[0][1] == 200000, (i, rows)  # one whole version, never half
            found[f"k.m{i}"] = rows[0][0]
        return found, leftovers
    finally:
        con.close()


def test_sigkill_during_swaps_leaves_old_or_new_and_next_build_succeeds(tmp_path: Path):
    root = _project(tmp_path / "p")
    assert _build(root, 1).wait(timeout=120) == 0
    mixed = False
    for attempt, delay in enumerate((0.05, 0.15, 0.3, 0.5)):
        version = attempt + 2
        proc = _build(root, version)
        finished = 0
        for line in proc.stdout:  # kill once some marts are built and others are being swapped
            if json.loads(line)["event"] == "MartFinished":
                finished += 1
                if finished >= 2 + attempt * 4:
                    break
        time.sleep(delay / 10)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        versions, _ = _versions(root)
        assert set(versions.values()) <= set(range(1, version + 1))
        mixed |= len(set(versions.values())) > 1
    assert mixed, "no kill landed in the middle of a build"
    done = _build(root, 99)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    versions, leftovers = _versions(root)
    assert set(versions.values()) == {99} and leftovers == 0
