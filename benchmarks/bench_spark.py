"""martctl's overhead on Spark: `run` of a generated project (benchmarks/generate.py) on one local
session against the same compiled statements sent through `spark.sql` directly, in the same run.

    python benchmarks/bench_spark.py [N_MARTS] [--rounds 3] [--threads 2]

The session starts once (its start-up is printed apart, as martctl's summary does) and serves
both sides. Rounds alternate raw / martctl so that a loaded machine weighs on both alike. Raw =
per mart, in dependency order, on one thread: CREATE TABLE <version> AS <compiled SQL> and
CREATE OR REPLACE VIEW <mart> over it (the statements that make the mart, nothing else); martctl =
ws.run(force=True) in the same process with --threads workers (the plan, the version count, the
state's appends, the old versions dropped, the events). Prints medians, min-max of the per-round
ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.generate import generate_project  # noqa: E402


def add_spark_target(root: Path, threads: int) -> None:
    config = root / "config.yaml"
    line = f"  spark: {{type: spark, master: 'local[2]', warehouse: wh, threads: {threads}}}\n"
    config.write_text(config.read_text(encoding="utf-8").replace("targets:\n", "targets:\n" + line, 1), encoding="utf-8")


def raw_round(session, compiled, order: list[str], round_no: int) -> float:
    from martctl.engine import ddl
    from martctl.engine.adapters import spark_versions

    start = time.perf_counter()
    for key in order:
        item = compiled.marts[key]
        relation = (item.relation[0], "raw_" + item.relation[1])
        if item.mart.materialized == "view":
            session.sql(ddl.create_view(relation, item.sql).sql("spark"))
            continue
        physical = spark_versions.versioned(relation, round_no)
        session.sql(ddl.create_table_as(physical, item.sql).sql("spark"))
        session.sql(spark_versions.point_view(relation, round_no).sql("spark"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n_marts", nargs="?", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import martctl
    from martctl.compiler.compile import compile_project
    from martctl.engine.adapters import spark_session

    root = generate_project(Path(tempfile.mkdtemp(prefix="bench_spark_")) / "p", args.n_marts)
    add_spark_target(root, args.threads)
    ws = martctl.open(root, target="spark")
    session, _, startup = spark_session.start(ws.target, root)
    print(f"session start-up: {startup:.2f}s")
    first = ws.build(force=True)  # seeds, and a first build that warms the JVM
    assert first.exit_code() == 0, [(r.key, r.error) for r in first.failed]
    compiled = compile_project(ws.graph, target=ws.target)
    order = [k for k in ws.graph.graph.topological_order() if k in compiled.marts]
    raws, mines = [], []
    for round_no in range(1, args.rounds + 1):
        raws.append(raw_round(session, compiled, order, round_no))
        start = time.perf_counter()
        report = martctl.open(root, target="spark").run(force=True, threads=args.threads)
        mines.append(time.perf_counter() - start)
        assert report.exit_code() == 0
        print(f"round {round_no}: raw spark.sql {raws[-1]:.2f}s, martctl run {mines[-1]:.2f}s")
    ratios = [m / r for m, r in zip(mines, raws)]
    print(f"{len(order)} marts, {args.threads} threads, {args.rounds} rounds: raw median {statistics.median(raws):.2f}s, "
          f"martctl median {statistics.median(mines):.2f}s; martctl/raw median {statistics.median(ratios):.2f} "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
    session.stop()


if __name__ == "__main__":
    main()
