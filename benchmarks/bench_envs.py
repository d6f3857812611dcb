"""Environments on a generated project (benchmarks/generate.py), in one run:

    .venv/bin/python benchmarks/bench_envs.py [--marts 1000] [--repeat 5]

- full build: `martctl build --force` on prod (a fresh process, everything included);
- the first `build --env dev` on a warehouse built before environments: the upgrade in place (each
  table moved behind a view) plus pointing dev at every version (nothing built);
- a dev build with one middle mart edited: what it builds, against the full build and against raw
  DuckDB running the same statements (that mart and its downstream);
- promote dev -> prod and rollback of those marts, in-process (`Workspace.promote` on a project opened
  once: lock, connection, reads, the transaction) and as a `martctl promote` process (everything);
- promote and rollback when dev changed every mart downstream of a seed (most of the project).
Medians (min-max) of `repeat` runs; the machine's load is printed.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_state import built_project, martctl, middle_mart, raw_seconds  # noqa: E402


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} s ({min(values):.3f}-{max(values):.3f})"


def built_count(out: str) -> int:
    found = re.search(r"(\d+) success", out)
    return int(found.group(1)) if found else 0


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def promote_rollback(root: Path, repeat: int) -> tuple[list[float], list[float], list[float], int]:
    """Promote then roll back `repeat` times: in-process times, process times of promote, marts re-pointed."""
    import martctl as api

    promotes, rollbacks, processes, changed = [], [], [], 0
    ws = api.open(root)  # the project loaded once: what remains is the lock, the reads, the one transaction
    for i in range(repeat):
        seconds, report = timed(lambda: ws.promote("dev"))
        assert report.exit_code() == 0, report.refused
        promotes.append(seconds)
        changed = len(report.changes)
        rollbacks.append(timed(lambda: ws.rollback())[0])
        if i < 2:
            processes.append(martctl(root, "promote", "dev")[0])
            api.open(root).rollback()
    return promotes, rollbacks, processes, changed


def main() -> None:  # the project is first built without environments, as before them
    args, root, schemas, order, sql, raw_db = built_project(__doc__.splitlines()[0], "martctl-envs-bench-")
    upgrade = martctl(root, "build", "--env", "dev", "--quiet")
    assert built_count(upgrade[2]) == 0, upgrade[2]
    full = [martctl(root, "build", "--force", "--quiet") for _ in range(max(1, args.repeat // 2))]

    key, file, down = middle_mart(root)
    original = file.read_text()
    edits, raws, counts = [], [], set()
    for i in range(args.repeat):
        file.write_text(original.replace("select ", f"select {i} as bench_edit, ", 1))
        wall, cpu, out = martctl(root, "build", "--env", "dev", "--quiet")
        edits.append(wall)
        counts.add(built_count(out))
        raws.append(raw_seconds(schemas + [sql[k] for k in [key, *down]], raw_db))
    promotes, rollbacks, processes, changed = promote_rollback(root, args.repeat)
    file.write_text(original)

    seed = next((root / "seeds").glob("*.csv"))
    seed.write_text(seed.read_text() + seed.read_text().splitlines()[-1] + "\n")  # one more row: its readers change
    wide = martctl(root, "build", "--env", "dev", "--quiet")
    wide_promotes, wide_rollbacks, _, wide_changed = promote_rollback(root, args.repeat)

    load = os.getloadavg()[0]
    print(f"{args.marts} marts ({len(order)} compiled), median (min-max) of {args.repeat}; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"full build, prod (--force, process)                {spread([w for w, _, _ in full])}")
    print(f"first env-aware run: upgrade + dev points at all   {upgrade[0]:7.3f} s (built 0)")
    print(f"dev build, {key} edited (process)  {spread(edits)}  built {sorted(counts)} marts "
          f"(the mart + {len(down)} downstream)")
    print(f"  raw duckdb, those {1 + len(down)} statements                  {spread(raws)}")
    print(f"promote dev -> prod, {changed} marts (in-process)        {spread(promotes)}")
    print(f"rollback prod, {changed} marts (in-process)              {spread(rollbacks)}")
    print(f"promote as a process                               {spread(processes)}")
    print(f"dev build after a seed edit (process)              {wide[0]:7.3f} s  built {built_count(wide[2])} marts")
    print(f"promote dev -> prod, {wide_changed} marts (in-process)      {spread(wide_promotes)}")
    print(f"rollback prod, {wide_changed} marts (in-process)            {spread(wide_rollbacks)}")


if __name__ == "__main__":
    main()
