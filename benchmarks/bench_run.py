"""`martctl run` (a fresh process, everything included) against the same compiled statements run
directly with duckdb in one Python process.

    /work/venv/bin/python benchmarks/bench_run.py [--marts 1000] [--repeat 5]

The project comes from benchmarks/generate.py. Seeds are loaded once into both databases; then,
interleaved, `repeat` times each: raw sequential, raw with 2 threads (cursors, graph order),
`martctl run --threads 1`, `martctl run --threads 2`. Raw time counts only the execution loop
(connect + CREATE OR REPLACE ... AS <compiled select>); martctl's counts the whole process
(start, imports, load, parse, compile, lock, build, artifacts). Medians and peak RSS are printed.
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


def statements(root: Path) -> dict:
    """The compiled marts as (key, upstream, statement) in graph order, from martctl itself."""
    from martctl.api import Workspace
    from martctl.compiler.compile import compile_project
    from martctl.engine import ddl

    ctx = Workspace(root)
    compiled = compile_project(ctx.graph, target=ctx.target)
    order = [k for k in ctx.graph.graph.topological_order() if k in compiled.marts]
    items = []
    for key in order:
        item = compiled.marts[key]
        make = ddl.create_view if item.mart.materialized == "view" else ddl.create_table_as
        sql = (make(item.relation, item.sql, replace=True)).sql("duckdb")
        items.append({"key": key, "upstream": list(item.upstream), "sql": sql})
    schemas = sorted({compiled.marts[k].relation[0] for k in order})
    return {"schemas": [ddl.create_schema(s).sql("duckdb") for s in schemas], "marts": items}


def raw_exec(plan_file: Path, db: Path, threads: int) -> float:
    """Run the statements with duckdb directly; return seconds (connect + execute)."""
    import duckdb

    plan = json.loads(plan_file.read_text())
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    for sql in plan["schemas"]:
        con.execute(sql)
    if threads == 1:
        for item in plan["marts"]:
            con.execute(item["sql"])
    else:
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
        from graphlib import TopologicalSorter
        from threading import local

        by_key = {m["key"]: m for m in plan["marts"]}
        sorter = TopologicalSorter({k: [u for u in m["upstream"] if u in by_key] for k, m in by_key.items()})
        sorter.prepare()
        cursors = local()

        def work(key):
            if not hasattr(cursors, "c"):
                cursors.c = con.cursor()
            cursors.c.execute(by_key[key]["sql"])
            return key

        with ThreadPoolExecutor(threads) as pool:
            running = set()
            while sorter.is_active():
                running |= {pool.submit(work, k) for k in sorter.get_ready()}
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    sorter.done(future.result())
    con.close()
    return time.perf_counter() - started


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of a child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.decode()}\n{err.decode()}")
    return elapsed, usage.ru_maxrss / 1024, out.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--raw-exec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_exec:  # child mode: one raw execution, seconds on stdout
        print(raw_exec(args.raw_exec, args.db, args.threads))
        return

    from generate import generate_project

    work = Path(tempfile.mkdtemp(prefix="martctl-bench-"))
    root = work / "project"
    generate_project(root, args.marts, seed=0)
    martctl = [sys.executable, "-m", "martctl"]
    subprocess.run([*martctl, "seed", "--project-dir", str(root), "--quiet"], check=True, capture_output=True)
    raw_db = work / "baseline.duckdb"  # not raw.duckdb: a catalog named like the raw schema is ambiguous
    import shutil

    shutil.copy(root / "warehouse.duckdb", raw_db)
    plan_file = work / "statements.json"
    plan_file.write_text(json.dumps(statements(root)))
    # warm up both (first builds create everything; the measured runs replace)
    subprocess.run([*martctl, "run", "--project-dir", str(root), "--quiet"], check=True, capture_output=True)
    raw_exec(plan_file, raw_db, 1)

    runs: dict[str, list[tuple[float, float]]] = {}
    variants = {
        "raw, 1 thread": lambda: _raw(plan_file, raw_db, 1),
        "raw, 2 threads": lambda: _raw(plan_file, raw_db, 2),
        "martctl run --threads 1": lambda: timed([*martctl, "run", "--project-dir", str(root), "--quiet", "--threads", "1"])[:2],
        "martctl run --threads 2": lambda: timed([*martctl, "run", "--project-dir", str(root), "--quiet", "--threads", "2"])[:2],
    }
    for _ in range(args.repeat):
        for name, measure in variants.items():
            runs.setdefault(name, []).append(measure())
    medians = {name: (statistics.median(t for t, _ in v), max(m for _, m in v)) for name, v in runs.items()}
    base = medians["raw, 1 thread"][0]
    print(f"{args.marts} marts, median of {args.repeat} (project in {root})")
    print(f"{'variant':<26} {'seconds':>8} {'x raw 1t':>9} {'peak MiB':>9}")
    for name, (seconds, peak) in medians.items():
        print(f"{name:<26} {seconds:8.2f} {seconds / base:9.2f} {peak:9.0f}")
    print(f"martctl 2 threads vs raw 2 threads: {medians['martctl run --threads 2'][0] / medians['raw, 2 threads'][0]:.2f}x")


def _raw(plan_file: Path, db: Path, threads: int) -> tuple[float, float]:
    """Raw execution in its own process (for its peak memory); the time is the execution loop only."""
    _, peak, out = timed([sys.executable, __file__, "--raw-exec", str(plan_file), "--db", str(db), "--threads", str(threads)])
    return float(out.strip()), peak


if __name__ == "__main__":
    main()
