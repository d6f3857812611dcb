"""`martctl diff` on a large mart against the raw time of one `select count(*)` over it, same run:

    .venv/bin/python benchmarks/bench_diff.py [--rows 5000000] [--repeat 5] [--postgres 500000]

A one-mart project (key `id`); the mart's prod table and its dev table are generated in DuckDB
(dev: 1 % of rows changed, in one or two columns; 0.1 % deleted, 0.1 % added). Each round times, in turn:
- raw count: connect, `select count(*)` over the prod table, close;
- raw join: connect, the hand-written FULL OUTER JOIN that counts added, removed and changed rows, close;
- diff: `Workspace.diff` of the mart (connect, schema, summaries of every column on both sides, the keyed
  pass, a sample of 5 changed rows, close), in this process;
- diff, counts only: the same without summaries and sample (what `martctl diff` without a mart does per mart);
- `martctl diff MART --env dev --json` as a fresh process (start-up and imports included).
Each is divided by the raw count (and by the raw join) of its own round; medians and min-max of those
ratios are printed.
`--postgres N` does the same on a throwaway Postgres server (tests/pg_server.py) with N rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

MART = "marts/bench/orders.yml"
COLUMNS = "id BIGINT, customer_id INTEGER, amount DECIMAL(12,2), status VARCHAR, day DATE, score DOUBLE"
GENERATE = """
create schema if not exists bench; create schema if not exists bench__dev;
create or replace table bench.orders ({columns});
insert into bench.orders
  select i, (i * 7919) % 100000, (((i * 31) % 100000) / 100)::decimal(12,2), ['new', 'paid', 'shipped', 'returned'][1 + i % 4],
         date '2026-01-01' + (i % 365)::int, (i % 1000) / 7.0
  from range({rows}) t(i);
create or replace table bench__dev.orders ({columns});
insert into bench__dev.orders
  select id, customer_id, case when id % 100 = 7 then amount + 1 else amount end,
         case when id % 200 = 7 then null else status end, day, score
  from bench.orders where id % 1000 <> 999
  union all
  select {rows} + i, 1, 1.00, 'new', date '2026-01-01', 0.5 from range({rows} // 1000) t(i);
"""
RAW_JOIN = """
select count(case when o.id is null then 1 end), count(case when n.id is null then 1 end),
       count(case when o.id is not null and n.id is not null and (o.customer_id is distinct from n.customer_id
             or o.amount is distinct from n.amount or o.status is distinct from n.status or o.day is distinct from n.day
             or o.score is distinct from n.score) then 1 end)
from bench.orders o full outer join bench__dev.orders n on o.id = n.id
"""


def project(root: Path, target: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text("name: bench\ndialect: duckdb\ntargets:\n" + target, encoding="utf-8")
    (root / MART).parent.mkdir(parents=True, exist_ok=True)
    (root / MART).write_text("sql: select 1 as id\nprimary_key: id\n", encoding="utf-8")
    return root


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def cli_diff(root: Path, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "martctl", "diff", "orders", "--env", "dev", "--json",
                           "--project-dir", str(root)], capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode != 0:
        raise SystemExit(f"martctl diff failed:\n{done.stdout}\n{done.stderr}")


def measure(name: str, variants: dict[str, Callable[[], object]], repeat: int) -> None:
    """Every variant once per round, in turn; each divided by the raw count of its round."""
    times: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(repeat):
        for variant, work in variants.items():
            times[variant].append(timed(work))
    print(f"\n{name} (load average {os.getloadavg()[0]:.1f}, {repeat} rounds)")
    print(f"{'variant':28} {'median s':>9} {'min-max s':>15}   {'x raw count(*): median (min-max)':>32}   {'x raw join: median (min-max)':>28}")
    for variant, seconds in times.items():
        ratios = [_ratios(seconds, times[base]) for base in ("raw count(*)", "raw FULL OUTER JOIN by key")]
        print(f"{variant:28} {statistics.median(seconds):9.3f} {min(seconds):7.3f}-{max(seconds):<7.3f}   "
              + "   ".join(f"{statistics.median(r):14.2f} ({min(r):6.2f}-{max(r):6.2f})" for r in ratios))


def _ratios(seconds: list[float], base: list[float]) -> list[float]:
    """Each run divided by the base's run of the same round."""
    return [s / b for s, b in zip(seconds, base)]


def check(report, rows: int) -> None:
    """The diff found what was planted (else the timing means nothing)."""
    found = report.marts[0].diff
    removed = rows // 1000
    assert (found.added, found.removed) == (rows // 1000, removed), (found.added, found.removed)
    changed = {c: n for c, n in found.column_changes.items() if n}
    kept = rows - removed
    print(f"found: {found.old_rows} -> {found.new_rows} rows, +{found.added} -{found.removed} ~{found.changed} "
          f"({100 * found.changed / kept:.2f} % of the rows both sides hold), per column {changed}")


def duckdb_bench(rows: int, repeat: int, folder: Path) -> None:
    import duckdb


    root = project(folder / "duck", "  local: {type: duckdb, path: wh.duckdb}\n")
    db = str(root / "wh.duckdb")
    started = time.perf_counter()
    with duckdb.connect(db) as con:
        con.execute(GENERATE.format(rows=rows, columns=COLUMNS))
    print(f"DuckDB: generated {rows:,} rows (and the dev copy) in {time.perf_counter() - started:.1f} s")

    def raw(sql: str) -> Callable[[], object]:
        def run() -> object:
            with duckdb.connect(db, read_only=True) as con:
                return con.execute(sql).fetchall()
        return run

    measure_diff(f"DuckDB, {rows:,} rows", raw, root, {}, rows, repeat)


def measure_diff(label: str, raw: Callable[[str], Callable[[], object]], root: Path, env: dict[str, str],
                 rows: int, repeat: int) -> None:
    """Check the diff finds what was planted, then time it against the raw queries on the same engine."""
    import martctl

    ws = martctl.open(root)
    check(ws.diff("orders", env="dev"), rows)
    measure(label, {
        "raw count(*)": raw("select count(*) from bench.orders"),
        "raw FULL OUTER JOIN by key": raw(RAW_JOIN),
        "diff (Workspace.diff)": lambda: ws.diff("orders", env="dev"),
        "diff, counts only": lambda: ws.diff(env="dev"),
        "martctl diff (process)": lambda: cli_diff(root, env),
    }, repeat)


def postgres_bench(rows: int, repeat: int, folder: Path) -> None:
    import duckdb
    import psycopg
    from pg_server import start_server


    server = start_server()
    try:
        dsn = server.new_database("bench")
        root = project(folder / "pg", '  pg: {type: postgres, dsn: "${MARTCTL_PG_DSN}"}\n')
        started = time.perf_counter()
        with duckdb.connect() as source, psycopg.connect(dsn, autocommit=True) as con:
            source.execute(GENERATE.format(rows=rows, columns=COLUMNS))
            pg_columns = COLUMNS.replace("DOUBLE", "double precision").replace("VARCHAR", "text")
            for schema in ("bench", "bench__dev"):
                con.execute(f"create schema {schema}; create table {schema}.orders ({pg_columns})")
                with con.cursor().copy(f"copy {schema}.orders from stdin") as copy:
                    for row in source.execute(f"select * from {schema}.orders").fetchall():
                        copy.write_row(row)
                con.execute(f"analyze {schema}.orders")
        print(f"\nPostgres: loaded {rows:,} rows (and the dev copy) in {time.perf_counter() - started:.1f} s")

        def raw(sql: str) -> Callable[[], object]:
            def run() -> object:
                with psycopg.connect(dsn) as con:
                    return con.execute(sql).fetchall()
            return run

        os.environ["MARTCTL_PG_DSN"] = dsn
        measure_diff(f"Postgres, {rows:,} rows", raw, root, {"MARTCTL_PG_DSN": dsn}, rows, repeat)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", type=int, default=0, metavar="ROWS", help="also on Postgres with this many rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        duckdb_bench(args.rows, args.repeat, Path(folder))
        if args.postgres:
            postgres_bench(args.postgres, args.repeat, Path(folder))


if __name__ == "__main__":
    main()
