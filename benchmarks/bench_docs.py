"""`martctl docs build` on a generated project, and how fast its pages load in headless Chromium.

    python benchmarks/bench_docs.py [N_MARTS=1000] [--keep DIR]

Budgets (issue 14): docs build of 1,000 marts < 10 s (with the lineage and compile caches an earlier
run leaves, before and after `martctl build` fills the warehouse; the first, cold, build is reported
too); the index page loads in < 2 s. Exits 1 when missed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

BUILD_BUDGET = 10.0
LOAD_BUDGET = 2.0


def _wall(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def _load_seconds(page, url: str) -> float:
    """Navigation start to the end of the load event (every script run), as the browser measures it."""
    page.goto(url)
    return page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000


def bench(root: Path, n_marts: int) -> dict:
    from browser import Browser

    from benchmarks.generate import generate_project

    generate_project(root, n_marts)
    martctl = [sys.executable, "-m", "martctl", "docs", "build"]
    cold = _wall(martctl, root)  # nothing cached: every mart compiled and traced
    warm = min(_wall(martctl, root) for _ in range(2))  # as after a build or an earlier docs build
    subprocess.run([sys.executable, "-m", "martctl", "build", "-q"], cwd=root, check=True, capture_output=True)
    with_warehouse = min(_wall(martctl, root) for _ in range(2))  # + row counts and types of 1,003 relations
    site = root / "target" / "docs"
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    with Browser.start() as browser:
        page = browser.open("about:blank")
        index = min(_load_seconds(page, (site / "index.html").as_uri()) for _ in range(3))
        marts = sorted((site / "marts").glob("*.html"))
        mart = min(_load_seconds(page, marts[len(marts) // 2].as_uri()) for _ in range(3))
        page.goto((site / "index.html").as_uri())
        page.click("#search")
        start = time.perf_counter()
        page.type("area_03")
        search = time.perf_counter() - start
        shown = page.evaluate("document.querySelectorAll('tr.entry:not(.hidden)').length")
    return {"marts": n_marts, "cold_build_s": cold, "build_s": warm, "build_with_warehouse_s": with_warehouse, "files": len(list(site.rglob("*.html"))),
            "site_mb": size / 1e6, "index_load_s": index, "mart_page_load_s": mart, "search_s": search,
            "search_hits": shown}


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--keep"]
    keep = "--keep" in sys.argv[1:]
    n_marts = int(args[0]) if args and args[0].isdigit() else 1000
    root = Path(args[1]) if keep and len(args) > 1 else Path(tempfile.mkdtemp(prefix="martctl-docs-bench-"))
    try:
        result = bench(root, n_marts)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    for key, value in result.items():
        print(f"{key:>22}: {value:.3f}" if isinstance(value, float) else f"{key:>22}: {value}")
    slowest = max(result["build_s"], result["build_with_warehouse_s"])
    missed = [f"docs build {slowest:.2f}s > {BUILD_BUDGET}s"] * (slowest > BUILD_BUDGET) + \
        [f"index load {result['index_load_s']:.2f}s > {LOAD_BUDGET}s"] * (result["index_load_s"] > LOAD_BUDGET)
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
