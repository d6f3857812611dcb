"""Building only what is due, on a generated project (benchmarks/generate.py), in one run:

    .venv/bin/python benchmarks/bench_state.py [--marts 1000] [--repeat 5]

- raw: every compiled statement run with duckdb directly (connect + CREATE OR REPLACE ... AS), once;
- `martctl build` with nothing due (a fresh process, everything included);
- `martctl plan` (a fresh process);
- a one-mart change: one mart of the middle layer edited, `martctl build` (process), against the raw
  time of that mart and its downstream (the same statements, run directly).
Medians (min-max) of `repeat` runs; the machine's load is printed (shared machines inflate wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def martctl(root: Path, *args: str) -> tuple[float, float, str]:
    """Wall and user+sys seconds of one `martctl ARGS` process, and its stdout."""
    started = time.perf_counter()
    before = os.times()
    done = subprocess.run([sys.executable, "-m", "martctl", *args, "--project-dir", str(root)], capture_output=True, text=True)
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"martctl {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return time.perf_counter() - started, cpu, done.stdout


def raw_seconds(statements: list[str], db: Path) -> float:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db))
    for sql in statements:
        con.execute(sql)
    con.close()
    return time.perf_counter() - started


def compiled_statements(root: Path) -> tuple[list[str], list[str], dict[str, str]]:
    """Schemas, and per mart (graph order) the statement martctl would run for it."""
    from bench_run import statements

    plan = statements(root)
    return plan["schemas"], [m["key"] for m in plan["marts"]], {m["key"]: m["sql"] for m in plan["marts"]}


def middle_mart(root: Path) -> tuple[str, Path, list[str]]:
    """A table mart of a middle layer with downstream marts, its YAML file and its downstream keys."""
    from martctl.api import Workspace

    ws = Workspace(root)
    graph = ws.graph.graph
    order = graph.topological_order()
    for key in order[len(order) // 2:]:
        mart = ws.project.marts[key]
        down = graph.downstream({key})
        if mart.materialized == "table" and mart.sql_file is None and 3 <= len(down) <= 40:
            return key, mart.file, [k for k in order if k in down]
    raise SystemExit("no middle mart with a few downstream marts")


def median(values: list[float]) -> float:
    return statistics.median(values)


def built_project(description: str, prefix: str):
    """--marts/--repeat read, the generated project built once (recorded in the state), its compiled
    statements and a copy of its warehouse for the raw runs: (args, root, schemas, order, sql, raw_db)."""
    import shutil

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--marts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from bench_run import compile_bytecode
    from generate import generate_project

    compile_bytecode()
    work = Path(tempfile.mkdtemp(prefix=prefix))
    root = generate_project(work / "project", args.marts, seed=0)
    martctl(root, "build", "--quiet")
    schemas, order, sql = compiled_statements(root)
    raw_db = work / "baseline.duckdb"
    shutil.copy(root / "warehouse.duckdb", raw_db)
    return args, root, schemas, order, sql, raw_db


def main() -> None:
    args, root, schemas, order, sql, raw_db = built_project(__doc__.splitlines()[0], "martctl-state-bench-")
    raw_all = raw_seconds(schemas + [sql[k] for k in order], raw_db)

    noop = [martctl(root, "build", "--quiet") for _ in range(args.repeat)]
    assert all("up to date" in out and "success" not in out for _, _, out in noop), noop[0][2]
    plans = [martctl(root, "plan", "--json") for _ in range(args.repeat)]
    assert json.loads(plans[0][2])["to_build"] == 0

    key, file, down = middle_mart(root)
    original = file.read_text()
    changes, raws = [], []
    for i in range(args.repeat):
        file.write_text(original.replace("select ", f"select {i} as bench_edit, ", 1))
        wall, cpu, out = martctl(root, "build", "--quiet")
        changes.append((wall, cpu))
        raws.append(raw_seconds(schemas + [sql[k] for k in [key, *down]], raw_db))
        file.write_text(original)
        martctl(root, "build", "--quiet")  # back to the original
    load = os.getloadavg()
    print(f"{args.marts} marts ({len(order)} compiled), median (min-max) of {args.repeat}; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"raw duckdb, every mart                       {raw_all:8.2f} s")
    print(f"martctl build, nothing due (process)         {spread([w for w, _, _ in noop])} wall  "
          f"{spread([c for _, c, _ in noop])} cpu")
    print(f"martctl plan (process)                       {spread([w for w, _, _ in plans])} wall  "
          f"{spread([c for _, c, _ in plans])} cpu")
    print(f"one-mart change ({key} + {len(down)} downstream):")
    print(f"  raw duckdb, those {1 + len(down)} marts                  {spread(raws)}")
    print(f"  martctl build (process)                    {spread([w for w, _ in changes])} wall  "
          f"{spread([c for _, c in changes])} cpu")
    over = [w - r for (w, _), r in zip(changes, raws)]
    print(f"  overhead over raw (paired)                 {spread(over)} wall")


def spread(values: list[float]) -> str:
    """median (min-max), in seconds."""
    return f"{median(values):6.2f} s ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    main()
