"""Median time (of 5) to load + build the graph + compile generated projects, and `martctl --help`.

    python benchmarks/bench_compile.py [N ...]        # default: 100 1000 5000

Each run is a fresh process (no warm caches but the on-disk parse cache, which the first
warm-up run fills; `--cold` clears it before every run).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.generate import generate_project  # noqa: E402

RUNS = 5
STEP = """
import json, sys, time
t0 = time.perf_counter()
from martctl.project.loader import load_project
from martctl.compiler.resolve import build_graph
from martctl.compiler.compile import compile_project
t1 = time.perf_counter()
project = load_project(sys.argv[1])
t2 = time.perf_counter()
graph = build_graph(project)
t3 = time.perf_counter()
compiled = compile_project(graph, dialect=sys.argv[2] if len(sys.argv) > 2 else None)
t4 = time.perf_counter()
assert len(compiled.marts) == len(project.marts)
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "graph": t3 - t2, "compile": t4 - t3, "total": t4 - t0}))
"""


def _once(root: Path, dialect: str | None, cold: bool) -> dict:
    if cold:
        shutil.rmtree(root / "target", ignore_errors=True)
    args = [sys.executable, "-c", STEP, str(root)] + ([dialect] if dialect else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=HERE.parent).stdout
    return json.loads(out)


def measure(root: Path, dialect: str | None = None, cold: bool = False) -> dict:
    _once(root, dialect, cold)  # warm-up: OS file cache (and the parse cache unless cold)
    runs = [_once(root, dialect, cold) for _ in range(RUNS)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def cli_time(*args: str, cwd: Path | None = None) -> float:
    """Median wall time of `martctl ARGS` in a fresh process (after one warm-up run)."""
    command = [sys.executable, "-m", "martctl", *args]
    subprocess.run(command, capture_output=True, check=True, cwd=cwd)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    cold = "--cold" in argv
    sizes = [int(a) for a in argv if a.isdigit()] or [100, 1000, 5000]
    print(f"median of {RUNS} runs, each a fresh process; python {sys.version.split()[0]}")
    print(f"{'marts':>6} {'dialect':>9} {'import':>7} {'load':>7} {'graph':>7} {'compile':>8} {'total':>7} {'ms/mart':>8}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            root = generate_project(Path(tmp) / f"p{n}", n)
            for dialect in (None, "postgres"):
                t = measure(root, dialect, cold)
                per = 1000 * (t["total"] - t["import"]) / n
                base = base or per
                print(
                    f"{n:>6} {dialect or 'duckdb':>9} {t['import']:>7.2f} {t['load']:>7.2f} {t['graph']:>7.2f} "
                    f"{t['compile']:>8.2f} {t['total']:>7.2f} {per:>8.2f}  (x{per / base:.2f} per mart vs first row)"
                )
            validate, compile_ = cli_time("validate", cwd=root), cli_time("compile", "-q", cwd=root)
            print(f"{n:>6} marts: `martctl validate` {validate:.2f} s, `martctl compile -q` {compile_:.2f} s (whole CLI)")
    print(f"martctl --help: {cli_time('--help'):.3f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
