"""martctl's overhead on Postgres: `martctl run -t pg` against the same compiled statements run
directly with psycopg (one connection, in dependency order, each table built aside and swapped
in one transaction, each view replaced in one transaction: what martctl does, minus martctl).

    python benchmarks/bench_postgres.py [N_MARTS ...] [--dsn postgresql://...] [--runs 3]

Without --dsn it starts a throwaway cluster (tests/pg_server.py; needs Debian's postgresql
package). The project is benchmarks/generate.py's, with a `pg` target added. Times are wall
clock, median of --runs: martctl in a fresh process (interpreter start, load, compile, lock,
run, artifacts) and in-process (execute.run only); direct psycopg for the statements alone.
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
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from benchmarks.generate import generate_project  # noqa: E402


def add_pg_target(root: Path, threads: int) -> None:
    config = root / "config.yaml"
    text = config.read_text(encoding="utf-8")
    line = f'  pg: {{type: postgres, dsn: "${{MARTCTL_PG_DSN}}", threads: {threads}}}\n'
    config.write_text(text.replace("targets:\n", "targets:\n" + line, 1), encoding="utf-8")


def martctl(root: Path, dsn: str, *args: str) -> float:
    env = {**os.environ, "MARTCTL_PG_DSN": dsn}
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "martctl", *args, "-t", "pg", "--project-dir", str(root), "--quiet"],
                         env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"martctl {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    return elapsed


def statements(root: Path, dsn: str) -> list[list[str]]:
    """Per mart, in dependency order, the transaction martctl runs for it (ddl.py's statements)."""
    from martctl.api import Workspace
    from martctl.compiler.compile import compile_project
    from martctl.engine import ddl

    os.environ["MARTCTL_PG_DSN"] = dsn
    ctx = Workspace(root, target="pg")
    compiled = compile_project(ctx.graph, target=ctx.target)
    plan = []
    for key in ctx.graph.graph.topological_order():
        item = compiled.marts.get(key)
        if item is None:
            continue
        relation = item.relation
        if item.mart.materialized == "view":
            steps = [ddl.drop(relation, "VIEW", cascade=True), ddl.create_view(relation, item.sql, replace=False)]
        else:
            steps = [ddl.drop(ddl.aside(relation)), ddl.create_table_as(ddl.aside(relation), item.sql),
                     ddl.drop(relation, cascade=True), ddl.rename(ddl.aside(relation), relation[1])]
        plan.append([s.sql("postgres") for s in steps])
    return plan


def direct(dsn: str, plan: list[list[str]]) -> float:
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as con:
        for transaction in plan:
            with con.transaction():
                for text in transaction:
                    con.execute(text)
    return time.perf_counter() - start


def in_process(root: Path, dsn: str, threads: int) -> float:
    """execute.run alone (project already loaded and compiled), like the CLI calls it."""
    from martctl.api import Workspace
    from martctl.compiler.compile import compile_project
    from martctl.engine import execute
    from martctl.engine.adapters.base import get_adapter

    os.environ["MARTCTL_PG_DSN"] = dsn
    ctx = Workspace(root, target="pg")
    compiled = compile_project(ctx.graph, target=ctx.target)
    steps = execute.plan(compiled, [], ctx.target_dir / "compiled")
    adapter = get_adapter(ctx.target, ctx.project.root)
    adapter.connect()
    start = time.perf_counter()
    report = execute.run(adapter, steps, threads=threads, on_event=lambda event: None)
    elapsed = time.perf_counter() - start
    adapter.close()
    if report.exit_code():
        raise SystemExit("in-process run failed")
    return elapsed


@contextmanager
def databases(dsn: str | None):
    """A function that gives an empty database at each call: `dsn` itself, or a new one of a throwaway
    cluster (tests/pg_server.py), stopped on the way out."""
    if dsn is not None:
        yield lambda: dsn
        return
    from pg_server import start_server

    server = start_server()
    try:
        yield lambda: server.new_database("bench")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 500])
    parser.add_argument("--dsn", help="an existing database (default: a throwaway cluster)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with databases(args.dsn) as new_database:
        with tempfile.TemporaryDirectory() as tmp:
            for n in args.sizes:
                dsn = new_database()
                root = generate_project(Path(tmp) / f"p{n}", n)
                add_pg_target(root, threads=1)
                martctl(root, dsn, "seed")
                martctl(root, dsn, "run")  # warm-up: every relation exists, as in a nightly run
                plan = statements(root, dsn)
                timings: dict[str, list[float]] = {"direct": [], "in_process": [], "cli": []}
                for _ in range(args.runs):
                    timings["direct"].append(direct(dsn, plan))
                    timings["in_process"].append(in_process(root, dsn, threads=1))
                    timings["cli"].append(martctl(root, dsn, "run", "--threads", "1", "--force"))
                med = {k: statistics.median(v) for k, v in timings.items()}
                rows.append({"marts": n, **med, "overhead_in_process_ms_per_mart": 1000 * (med["in_process"] - med["direct"]) / n,
                             "overhead_cli_ms_per_mart": 1000 * (med["cli"] - med["direct"]) / n})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"median of {args.runs}; one thread everywhere; PostgreSQL at {'--dsn' if args.dsn else 'a local throwaway cluster'}")
    print(f"{'marts':>6} {'psycopg':>8} {'martctl':>8} {'(cli)':>8} {'overhead ms/mart':>17} {'(cli)':>8}")
    for r in rows:
        print(f"{r['marts']:>6} {r['direct']:>8.2f} {r['in_process']:>8.2f} {r['cli']:>8.2f} "
              f"{r['overhead_in_process_ms_per_mart']:>17.2f} {r['overhead_cli_ms_per_mart']:>8.2f}")


if __name__ == "__main__":
    main()
