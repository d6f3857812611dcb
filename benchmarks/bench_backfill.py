"""A backfill against raw DuckDB doing the same work, in one run:

    .venv/bin/python benchmarks/bench_backfill.py [--rows 2000000] [--repeat 5]

An incremental mart (unique_key id, cursor day) over `rows` source rows spread over 2025, built once.
Each round, alternating:
- raw: one month replaced directly with duckdb (connect, one transaction: batch of the month, delete the
  month and the batch's keys, insert, drop);
- `martctl run -s m.sales --start 2025-06-01 --end 2025-07-01` (a fresh process, everything included);
- raw: the whole mart rebuilt (CREATE OR REPLACE TABLE ... AS), what a --full-refresh costs the engine;
- `martctl run -s m.sales --full-refresh` (process);
- `martctl run` with nothing due (process): what every command costs before any work.
Medians of `repeat` rounds, min-max of each round's martctl/raw ratio; the machine's load is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

MONTH = ("2025-06-01", "2025-07-01")
QUERY = "SELECT id, day, amount * 2 AS amount FROM raw.sales"
RAW_BACKFILL = [
    "BEGIN TRANSACTION",
    f"CREATE TABLE m.sales__raw_batch AS SELECT * FROM ({QUERY}) AS n "
    f"WHERE n.day >= CAST('{MONTH[0]}' AS DATE) AND n.day < CAST('{MONTH[1]}' AS DATE)",
    f"DELETE FROM m.sales WHERE day >= CAST('{MONTH[0]}' AS DATE) AND day < CAST('{MONTH[1]}' AS DATE)",
    "DELETE FROM m.sales WHERE EXISTS (SELECT 1 FROM m.sales__raw_batch AS b WHERE b.id = sales.id)",
    "INSERT INTO m.sales (id, day, amount) SELECT id, day, amount FROM m.sales__raw_batch",
    "DROP TABLE m.sales__raw_batch",
    "COMMIT",
]
RAW_FULL = [f"CREATE OR REPLACE TABLE m.sales AS {QUERY}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import duckdb
    from bench_state import martctl, raw_seconds

    root = Path(tempfile.mkdtemp(prefix="martctl-backfill-bench-")) / "project"
    for relative, text in ({
        "config.yaml": "name: bench\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb, threads: 2}\n"
                       "sources:\n  raw:\n    tables:\n      sales: {data_version: 'select count(*) from this'}\n",
        "marts/m/sales.yml": f"materialized: incremental\nincremental: {{unique_key: id, cursor: day}}\nsql: {QUERY.lower()}\n",
    }).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute("CREATE SCHEMA raw")
    con.execute(f"CREATE TABLE raw.sales AS SELECT i AS id, DATE '2025-01-01' + CAST(i % 365 AS INTEGER) AS day, "
                f"i % 1000 AS amount FROM range({args.rows}) AS t(i)")
    con.close()
    martctl(root, "run", "--quiet")
    raw_db = root.parent / "baseline.duckdb"
    import shutil

    shutil.copy(root / "wh.duckdb", raw_db)
    rounds = []
    for _ in range(args.repeat):
        raw_month = raw_seconds(RAW_BACKFILL, raw_db)
        month = martctl(root, "run", "-s", "m.sales", "--start", MONTH[0], "--end", MONTH[1], "--quiet")[0]
        raw_full = raw_seconds(RAW_FULL, raw_db)
        full = martctl(root, "run", "-s", "m.sales", "--full-refresh", "--quiet")[0]
        noop = martctl(root, "run", "--quiet")[0]  # the process alone: nothing is due
        rounds.append((raw_month, month, raw_full, full, noop))
    load = os.getloadavg()[0]
    print(f"{args.rows:,} source rows, one month of 12 backfilled; median of {args.repeat} alternating rounds; "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    for label, raw_index, ours_index in (("backfill of a month", 0, 1), ("whole mart (--full-refresh)", 2, 3)):
        raw = statistics.median(r[raw_index] for r in rounds)
        ours = statistics.median(r[ours_index] for r in rounds)
        ratios = [r[ours_index] / r[raw_index] for r in rounds]
        print(f"{label:28} raw duckdb {raw:6.2f} s   martctl (process) {ours:6.2f} s   "
              f"ratio {statistics.median(ratios):.2f} (min-max {min(ratios):.2f}-{max(ratios):.2f})")
    print(f"{'martctl run, nothing due':28} {'':17} martctl (process) {statistics.median(r[4] for r in rounds):6.2f} s"
          "   (start-up, state, plan: the floor of every command)")


if __name__ == "__main__":
    main()
