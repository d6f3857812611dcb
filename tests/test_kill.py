"""SIGKILL in the middle of table swaps leaves every mart at its old or its new version.

The kill lands by an event: two marts read a gate (tests/gate.py) after their upstream chain; the
build is killed while one of them is inside its CREATE OR REPLACE, the marts before it already
swapped in, other threads' marts in flight.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import write_project
from gate import ROW, Gate

N_MARTS = 24
GATED = {"gate_a": "k.m5", "gate_b": "k.m14"}  # gate var -> the mart reading it (after 5 / 2 marts of its chain)


def _project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "open.csv").write_text(ROW)
    gates = ", ".join(f"{var}: '{root / 'open.csv'}'" for var in GATED)
    files = {"config.yaml": "name: k\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb, threads: 3}\n"
                            f"vars: {{version: 1, {gates}}}\n"}
    readers = {mart: var for var, mart in GATED.items()}
    for i in range(N_MARTS):
        upstream = f"from k.m{i - 1} as u" if i % 4 else "from range(200000) u(i)"
        if f"k.m{i}" in readers:
            upstream += f" cross join read_csv(:{readers[f'k.m{i}']}, header = true) as g"
        files[f"marts/k/m{i}.yml"] = f"sql: select u.i, cast(:version as integer) as version {upstream}\n"
    return write_project(root, files)


def _build(root: Path, version: int, *vars: str) -> subprocess.Popen:
    args = [arg for var in (f"version={version}", *vars) for arg in ("--vars", var)]
    return subprocess.Popen([sys.executable, "-m", "martctl", "build", "--project-dir", str(root), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _versions(root: Path) -> tuple[dict[str, int], int]:
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
    for version, (var, mart) in enumerate(GATED.items(), start=2):
        before, _ = _versions(root)
        gate = Gate(root / f"{var}.fifo")
        proc = _build(root, version, f"{var}={gate.path}")
        gate.wait_for_reader(proc)  # the gated mart's statement runs; its upstream chain is built
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        gate.release()
        after, _ = _versions(root)
        assert all(after[key] in (before[key], version) for key in after), (before, after)  # each: old or new
        upstream = f"k.m{int(mart.split('m')[-1]) - 1}"
        assert after[mart] == before[mart] and after[upstream] == version, after  # killed mid-swap / swapped before
    done = _build(root, 99)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    versions, leftovers = _versions(root)
    assert set(versions.values()) == {99} and leftovers == 0
