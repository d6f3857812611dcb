"""Environments on Postgres: promote and rollback of most of a generated project, in-process.

    .venv/bin/python benchmarks/bench_envs_pg.py [--marts 1000] [--repeat 3] [--dsn postgresql://...]

Without --dsn it starts a throwaway cluster (tests/pg_server.py). The project (benchmarks/generate.py,
a `pg` target added) is built on prod without environments, then `build --env dev` (the upgrade in
place, dev pointing at every version), then a seed gets one more row and dev rebuilds what reads it;
then `promote dev` and `rollback` alternate on a Workspace opened once (lock, connection, reads and the
one transaction timed). Wall times of a shared machine: its load is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from bench_envs import spread, timed  # noqa: E402
from bench_postgres import add_pg_target, databases  # noqa: E402
from generate import generate_project  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", help="an existing, empty database (default: a throwaway cluster)")
    args = parser.parse_args()
    import martctl

    with databases(args.dsn) as new_database:
        os.environ["MARTCTL_PG_DSN"] = new_database()
        root = generate_project(Path(tempfile.mkdtemp(prefix="martctl-envs-pg-")) / "p", args.marts, seed=0)
        add_pg_target(root, 2)
        build = timed(lambda: martctl.open(root, target="pg").build())[0]
        upgrade = timed(lambda: martctl.open(root, target="pg", env="dev").build())[0]
        seed = next((root / "seeds").glob("*.csv"))
        seed.write_text(seed.read_text() + seed.read_text().splitlines()[-1] + "\n")
        dev, report = timed(lambda: martctl.open(root, target="pg", env="dev").build())
        ws = martctl.open(root, target="pg")
        promotes, rollbacks, changed = [], [], 0
        for _ in range(args.repeat):
            seconds, done = timed(lambda: ws.promote("dev"))
            promotes.append(seconds)
            changed = len(done.changes)
            rollbacks.append(timed(ws.rollback)[0])
    built = sum(1 for r in report.results.values() if r.status == "success")
    print(f"{args.marts} marts on Postgres, median (min-max) of {args.repeat}; load average {os.getloadavg()[0]:.1f}")
    print(f"prod build, no environments (in-process)          {build:7.2f} s")
    print(f"first env-aware run: upgrade + dev points at all  {upgrade:7.2f} s")
    print(f"dev build after a seed edit                       {dev:7.2f} s  built {built}")
    print(f"promote dev -> prod, {changed} marts (in-process)     {spread(promotes)}")
    print(f"rollback prod, {changed} marts (in-process)           {spread(rollbacks)}")


if __name__ == "__main__":
    main()
