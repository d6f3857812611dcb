"""`martctl run` (a fresh process, everything included) against the same compiled statements run
directly with duckdb, alternating in one sitting.

    .venv/bin/python benchmarks/bench_run.py [--marts 1000] [--rows 10000] [--repeat 5]

The project comes from benchmarks/generate.py (`--rows` orders and sessions in the seeds). Seeds are
loaded once into both databases. Then, `repeat` rounds, each running every variant once in turn:

- raw, 1 thread / 2 threads: the compiled statements (`CREATE OR REPLACE ... AS <compiled select>`)
  executed with duckdb in a child process; its time counts only connect + the execution loop + close
  (no Python start-up, no import), so the ratios are strict for martctl;
- raw, 1 thread / 2 threads, pool sized: the same, with DuckDB's pool sized as martctl sizes it for
  builds its last run found quick, as every mart here is (one thread: see Adapter.workers_building):
  martctl's runs are also divided by it, which leaves out what martctl gains by that setting and shows
  its own cost only;
- `martctl run --threads 1|2`, cold (target/ deleted first: no plan cache, no compiled files) and
  warm (the plan cache of the previous run), the whole process timed from outside;
- edit: one mid-DAG mart's SQL changed (alternating between two versions), then
  `martctl run -s mart+`, against raw running the statements of the same marts.

Each martctl run is paired with the raw run of its round: the ratio is taken pair by pair, and the
median and min-max of those ratios are printed (pairing keeps a ratio meaningful when the shared
machine's speed drifts), with the medians of seconds and of peak RSS, and peak RSS paired the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZED = {1: "raw, 1 thread, pool sized", 2: "raw, 2 threads, pool sized"}  # DuckDB's pool as martctl sizes it
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


def raw_exec(plan_file: Path, db: Path, threads: int, only: set[str] | None = None, sized: bool = False) -> float:
    """Run the statements (those of `only`, when given) with duckdb directly; return seconds (connect +
    execute + close). `sized`: DuckDB's pool set as martctl sets it for builds its last run found
    quick, as every mart here is: one thread (each query on its calling thread alone)."""
    import duckdb

    plan = json.loads(plan_file.read_text())
    marts = [m for m in plan["marts"] if only is None or m["key"] in only]
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    if sized:
        con.execute("SET threads = 1")
    for sql in plan["schemas"]:
        con.execute(sql)
    if threads == 1:
        for item in marts:
            con.execute(item["sql"])
    else:
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
        from graphlib import TopologicalSorter
        from threading import local

        by_key = {m["key"]: m for m in marts}
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


def compile_bytecode() -> None:
    """martctl's modules compiled to bytecode once, as `pip install` does: otherwise a process started
    with PYTHONDONTWRITEBYTECODE set (or from a checkout it cannot write) compiles every module changed
    since its last .pyc at each start (0.08 s of CPU for a one-mart edit run), which no installed martctl pays."""
    import compileall

    compileall.compile_dir(str(HERE.parent / "martctl"), quiet=1)


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of a child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()  # --quiet: little on either stream
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.decode()}\n{err.decode()}")
    return elapsed, usage.ru_maxrss / 1024, out.decode()


def mid_dag_mart(root: Path, size: int = 8) -> tuple[str, list[str]]:
    """A mart in the middle of the DAG whose `mart+` selection is closest to `size` marts, its SQL in a
    sibling .sql file (easy to edit); and that selection."""
    from martctl.api import Workspace

    ws = Workspace(root)
    order = [k for k in ws.graph.graph.topological_order() if k in ws.project.marts]
    best = None
    for key in order[len(order) // 3: 2 * len(order) // 3]:
        mart = ws.project.marts[key]
        if not str(mart.sql_path).endswith(".sql"):
            continue
        selected, _ = ws.select([f"{key}+"])
        if best is None or abs(len(selected) - size) < abs(len(best[1]) - size):
            best = (key, selected)
    return best


class Edit:
    """Toggles a mart's .sql file between its own SQL and the same rows through a subquery."""

    def __init__(self, root: Path, key: str):
        area, name = key.split(".")
        self.path = root / "marts" / area / f"{name}.sql"
        self.original = self.path.read_text()
        self.edited = f"select * from (\n{self.original.rstrip()}\n) as edited where n >= 0\n"

    def apply(self, round_: int) -> None:
        self.path.write_text(self.edited if round_ % 2 == 0 else self.original)


def _summary(runs: dict[str, list[tuple[float, float]]], pairs: dict[str, str]) -> list[str]:
    """One line a variant: seconds, and for martctl's its paired ratios to raw's time and peak memory."""
    lines = [f"{'variant':<34} {'median s':>9} {'min s':>7} {'max s':>7} {'x raw (median, min-max)':>26} {'peak MiB':>9}"
             f" {'peak x raw':>17}"]
    for name, values in runs.items():
        seconds = [s for s, _ in values]
        peak = statistics.median(m for _, m in values)
        ratio = peak_ratio = ""
        if name in pairs:
            ratio = _ratios(_paired(values, runs[pairs[name]], 0))
            peak_ratio = _ratios(_paired(values, runs[pairs[name]], 1))
        lines.append(f"{name:<34} {statistics.median(seconds):9.2f} {min(seconds):7.2f} {max(seconds):7.2f} {ratio:>26} {peak:9.0f}"
                     f" {peak_ratio:>17}")
    return lines


def _paired(values: list[tuple[float, float]], raw: list[tuple[float, float]], index: int) -> list[float]:
    """Each round's martctl figure over raw's (index 0: seconds, 1: peak memory)."""
    return [a[index] / b[index] for a, b in zip(values, raw)]


def _ratios(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marts", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=10000, help="orders and sessions in the seeds (0: the tiny seeds)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--raw-exec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--sized", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_exec:  # child mode: one raw execution, seconds on stdout
        only = set(json.loads(args.only)) if args.only else None
        print(raw_exec(args.raw_exec, args.db, args.threads, only, args.sized))
        return

    from benchmarks.generate import generate_project

    compile_bytecode()
    work = Path(tempfile.mkdtemp(prefix="martctl-bench-"))
    root = work / "project"
    generate_project(root, args.marts, seed=0, rows=args.rows or None)
    martctl = [sys.executable, "-m", "martctl"]
    subprocess.run([*martctl, "seed", "--project-dir", str(root), "--quiet"], check=True, capture_output=True)
    raw_db = work / "baseline.duckdb"  # not raw.duckdb: a catalog named like the raw schema is ambiguous
    shutil.copy(root / "warehouse.duckdb", raw_db)
    plan_file = work / "statements.json"
    plan_file.write_text(json.dumps(statements(root)))
    edited, selection = mid_dag_mart(root)
    edit = Edit(root, edited)
    # warm up both (first builds create everything; the measured runs replace)
    subprocess.run([*martctl, "run", "--project-dir", str(root), "--quiet"], check=True, capture_output=True)
    raw_exec(plan_file, raw_db, 1)

    def run(*options: str, cold: bool = False):
        def measure():
            if cold:
                shutil.rmtree(root / "target", ignore_errors=True)
            return timed([*martctl, "run", "--project-dir", str(root), "--quiet", "--force", *options])[:2]  # every mart
        return measure

    variants = {
        "raw, 1 thread": lambda: _raw(plan_file, raw_db, 1),
        SIZED[1]: lambda: _raw(plan_file, raw_db, 1, sized=True),
        "martctl run --threads 1, cold": run("--threads", "1", cold=True),
        "martctl run --threads 1, warm": run("--threads", "1"),
        "raw, 2 threads": lambda: _raw(plan_file, raw_db, 2),
        SIZED[2]: lambda: _raw(plan_file, raw_db, 2, sized=True),
        "martctl run --threads 2, cold": run("--threads", "2", cold=True),
        "martctl run --threads 2, warm": run("--threads", "2"),
        f"raw, the {len(selection)} marts of {edited}+": lambda: _raw(plan_file, raw_db, 1, selection),
        f"edit + martctl run -s {edited}+": None,  # below: the edit comes first, untimed
    }
    pairs = {name: ("raw, 2 threads" if "threads 2" in name else "raw, 1 thread") for name in variants if name.startswith("martctl")}
    edit_raw, edit_run = list(variants)[-2:]
    pairs[edit_run] = edit_raw
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    try:
        for round_ in range(args.repeat):
            for name, measure in variants.items():
                if measure is None:
                    edit.apply(round_)
                    measure = run("--threads", "1", "-s", f"{edited}+")
                runs[name].append(measure())
    finally:
        edit.apply(1)
    print(f"{args.marts} marts over {args.rows or 'tiny'}-row seeds, {args.repeat} alternating rounds (project in {root})")
    print("\n".join(_summary(runs, pairs)))
    extra = [a - b for (a, _), (b, _) in zip(runs[edit_run], runs[edit_raw])]
    print(f"edit + run -s {edited}+ minus raw on the same marts: median {statistics.median(extra):.2f} s "
          f"({min(extra):.2f}-{max(extra):.2f})")
    for name in (n for n in pairs if "edit" not in n):  # martctl's own cost, the engine set up alike
        sized = SIZED[2 if "threads 2" in name else 1]
        print(f"{name} over {sized}: median {_ratios(_paired(runs[name], runs[sized], 0))}")
    peaks = {name: _paired(runs[name], runs[pairs[name]], 1) for name in pairs if "edit" not in name}
    worst = max(peaks, key=lambda name: statistics.median(peaks[name]))
    print(f"highest peak RSS over raw's: {worst}, median {_ratios(peaks[worst])}")


def _raw(plan_file: Path, db: Path, threads: int, only: list[str] | None = None, sized: bool = False) -> tuple[float, float]:
    """Raw execution in its own process (for its peak memory); the time is the execution loop only."""
    command = [sys.executable, __file__, "--raw-exec", str(plan_file), "--db", str(db), "--threads", str(threads)]
    if only:
        command += ["--only", json.dumps(list(only))]
    if sized:
        command.append("--sized")
    _, peak, out = timed(command)
    return float(out.strip()), peak


if __name__ == "__main__":
    main()
