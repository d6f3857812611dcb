"""The fuzz test of issue 10: hundreds of malformed projects (invalid UTF-8, alias bombs, deep nesting,
duplicate keys, wrong types, bad CSV rows and headers, SQL that is no query, hostile paths and names,
random truncations and byte flips; tests/fuzz_projects.py) go through `validate` and `build`, each case
with a time limit: no traceback, no "internal error", no hang; a malformed project exits 2 from both,
and the warehouse is byte for byte what it was."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from tests.conftest import REPO
from tests.fuzz_projects import base_files, generate, write_files
from tests.test_validate import cli

SEED = int(os.environ.get("MARTCTL_FUZZ_SEED", "20261202"))
CASE_SECONDS = 30  # one case (validate + build) on a loaded 2-core machine takes well under a second


def _lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line)
    out.put(None)


def run_worker(cases: Path, warehouse: Path) -> dict[str, dict]:
    """Every case through the worker; a case that outlives CASE_SECONDS fails the test, named."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz_projects", str(cases), str(warehouse)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONPATH": str(REPO)})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    results: dict[str, dict] = {}
    current = None
    try:
        while True:
            try:
                line = lines.get(timeout=CASE_SECONDS)
            except queue.Empty:
                raise AssertionError(f"case {current} ran longer than {CASE_SECONDS}s (a hang)") from None
            if line is None:
                break
            event = json.loads(line)
            if "start" in event:
                current = event["start"]
            else:
                results[event["case"]] = event
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode in (0, -9), proc.stderr.read()[-3000:]
    return results


def test_malformed_projects_are_refused_cleanly_and_touch_nothing(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    write_files(tmp_path / "base", base_files(warehouse))
    code, output = cli("build", "--project-dir", str(tmp_path / "base"))
    assert code == 0, output  # the unmutated project is valid: what each case breaks is its mutation

    expected = generate(tmp_path / "cases", SEED, warehouse)
    results = run_worker(tmp_path / "cases", warehouse)
    assert set(results) == set(expected)

    failures = []
    for name, must_refuse in sorted(expected.items()):
        r = results[name]
        output = r["validate_out"] + r["build_out"]
        problems = []
        if "Traceback" in output or "internal error" in output:
            problems.append("a traceback or internal error")
        if must_refuse and (r["validate"], r["build"]) != (2, 2):
            problems.append(f"malformed, yet validate={r['validate']} build={r['build']}")
        if r["validate"] == 2 and r["build"] != 2:
            problems.append(f"validate refused it but build exited {r['build']}")
        if r["validate"] == 0 and r["build"] == 2:
            problems.append("build refused what validate passed")
        if r["validate"] not in (0, 2) or r["build"] not in (0, 1, 2):
            problems.append(f"exit codes validate={r['validate']} build={r['build']}")
        if r["build"] == 2 and not r["untouched"]:
            problems.append("the warehouse changed")
        if problems:
            failures.append(f"{name} (seed {SEED}): {'; '.join(problems)}\n  validate: {r['validate_out'][-600:]}\n"
                            f"  build: {r['build_out'][-600:]}")
    assert not failures, f"{len(failures)} of {len(expected)} cases:\n" + "\n".join(failures[:15])

    refused = Counter(name.rsplit("-", 1)[0] for name, r in results.items() if r["validate"] == 2)
    assert sum(refused.values()) >= 300, refused
