"""A cold build parses on two cores (martctl/compiler/prefill.py, forked.py): a forked child parses,
compiles and canonicalises the plan cache's misses from the last one back while the process parses
from the first one on. Whatever the child does or fails to do, the results are the serial ones: the
same compiled SQL, fingerprints, plan cache entries and errors."""

from __future__ import annotations

import marshal
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from martctl.api import Workspace
from martctl.compiler import forked, plancache, prefill
from martctl.compiler.fingerprint import fingerprints
from martctl.errors import ProjectError

REPO = Path(__file__).resolve().parent.parent
MARTS = 60  # with THRESHOLD lowered to 20: forks, and keeps the test quick


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    sys.path.insert(0, str(REPO))
    from benchmarks.generate import generate_project

    return generate_project(tmp_path_factory.mktemp("gen") / "project", MARTS, seed=5)


@pytest.fixture
def project(generated: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(generated, tmp_path / "project"))


@pytest.fixture
def forks(monkeypatch) -> list:
    """Fork above 20 misses; the list of children started (their Forked ends)."""
    monkeypatch.setattr(prefill, "THRESHOLD", 20)
    monkeypatch.delenv(prefill.SWITCH, raising=False)
    started: list = []
    real = forked.start

    def start(*args, **kwargs):
        child = real(*args, **kwargs)
        started.append((child, child.pid))
        return child

    monkeypatch.setattr(forked, "start", start)
    return started


@pytest.fixture
def child_does_all(monkeypatch, forks) -> list:
    """The parent waits for everything the child sends before it parses anything itself, so the
    child's share is every mart it could do (the test does not depend on the two cores' speeds)."""
    real = forked.Forked.get

    def get(self, key):
        if self._fd is not None:
            os.set_blocking(self._fd, True)
        return real(self, key)

    monkeypatch.setattr(forked.Forked, "get", get)
    return forks


def cold(root: Path, **kwargs) -> dict:
    """From a cold target/: what a run reads of the front half (compiled SQL, fingerprints, the plan
    cache afterwards) and which marts the child delivered (their trees never parsed here)."""
    shutil.rmtree(root / "target", ignore_errors=True)
    ws = Workspace(root, **kwargs)
    graph = ws.graph
    delivered = {k for k, item in graph.parsed.items() if item._tree is None}
    compiled = ws.compile_keys(list(ws.project.marts))
    prints = fingerprints(graph, list(compiled.marts), ws.target.dialect, ws.project.sources)
    plan = marshal.loads((root / "target" / plancache.FILE).read_bytes())
    return {"sql": {k: m.sql for k, m in compiled.marts.items()}, "columns": {k: dict(m.columns) for k, m in compiled.marts.items()},
            "prints": {k: (p.own, p.full) for k, p in prints.items()}, "marts": plan["marts"], "compiled": plan["compiled"],
            "order": (list(plan["marts"]), list(plan["compiled"]), [list(e) for e in plan["marts"].values()]),
            "delivered": delivered}


def serial(root: Path, monkeypatch, **kwargs) -> dict:
    with monkeypatch.context() as patch:
        patch.setenv(prefill.SWITCH, "0")
        return cold(root, **kwargs)


def same_front_half(parallel: dict, alone: dict) -> None:
    for part in ("sql", "columns", "prints", "marts", "compiled", "order"):
        assert parallel[part] == alone[part], part


def test_a_child_that_does_every_mart_gives_the_serial_results(project, monkeypatch, child_does_all):
    alone = serial(project, monkeypatch)
    assert not child_does_all and not alone["delivered"]
    parallel = cold(project)
    assert len(child_does_all) == 1
    assert parallel["delivered"] == set(alone["sql"])  # the parent parsed no mart itself
    same_front_half(parallel, alone)
    assert all("canon" in entry for entry in parallel["marts"].values())


def test_parent_and_child_meeting_halfway_give_the_serial_results(project, monkeypatch, forks):
    alone = serial(project, monkeypatch)
    for _ in range(3):  # wherever they meet
        same_front_half(cold(project), alone)
    assert len(forks) == 3


def test_a_warm_run_after_a_parallel_cold_one_parses_nothing(project, child_does_all):
    first = cold(project)
    ws = Workspace(project)
    assert all(item._tree is None for item in ws.graph.parsed.values())
    compiled = ws.compile_keys(list(ws.project.marts))
    assert {k: m.sql for k, m in compiled.marts.items()} == first["sql"]
    assert all(item._tree is None for item in ws.graph.parsed.values())  # the compiled forms came from the cache
    assert len(child_does_all) == 1  # the warm graph did not fork


BAD = {  # at the end of the project (the child's first) and at its start (the parent's), each a different problem
    "marts/aa/first.yml": "sql: select from raw.orders\n",
    "marts/zz/broken.yml": "sql: select id, from raw.orders where\n",
    "marts/zz/duckdb_only.yml": "sql: select a,, b from raw.orders\n",
    "marts/zz/unknown.yml": "sql: select * from raw.nowhere\n",
    "marts/zz/selfish.yml": "sql: select 1 as x from zz.selfish\n",
}


def error_of(root: Path) -> list:
    shutil.rmtree(root / "target", ignore_errors=True)
    with pytest.raises(ProjectError) as caught:
        Workspace(root).graph
    return [(p.message, p.file, p.line, p.column, p.hint) for p in caught.value.problems]


def test_bad_marts_in_the_childs_share_give_the_serial_errors(project, monkeypatch, child_does_all):
    for relative, text in BAD.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    with monkeypatch.context() as patch:
        patch.setenv(prefill.SWITCH, "0")
        alone = error_of(project)
    assert all(any(Path(bad).stem in message for message, *_ in alone) for bad in BAD)  # each reported
    assert error_of(project) == alone
    assert len(child_does_all) == 1


def test_bad_marts_give_the_same_output_and_exit_2_from_the_command_line(project, monkeypatch):
    for relative, text in BAD.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    script = ("import os, sys, logging; from martctl.compiler import forked, prefill; prefill.THRESHOLD = 20\n"
              "def speak(key):  # a child that tries to print: nothing of it may reach the output\n"
              "    print('child', key); print('child', key, file=sys.stderr); os.write(2, b'child'); logging.warning('child')\n"
              "forked.in_child = speak; sys.argv = ['martctl', *sys.argv[1:]]\n"
              "from martctl.cli.process import main; main()")

    def compile_output(switch: str):
        env = {**os.environ, prefill.SWITCH: switch, "NO_COLOR": "1"}
        run = subprocess.run([sys.executable, "-c", script, "compile", "--project-dir", str(project)], capture_output=True,
                             text=True, timeout=120, env=env)
        shutil.rmtree(project / "target", ignore_errors=True)
        return run.returncode, run.stdout, run.stderr

    alone = compile_output("0")
    assert alone[0] == 2 and "broken" in alone[1] + alone[2] and "Traceback" not in alone[2]
    assert compile_output("1") == alone


def crash_at(count: int, how):
    """An in_child hook: after `count` marts, the child does `how`."""
    seen = []

    def hook(key: str) -> None:
        seen.append(key)
        if len(seen) > count:
            how()

    return hook


@pytest.mark.parametrize("how", [lambda: os._exit(1), lambda: os.kill(os.getpid(), signal.SIGKILL),
                                 lambda: 1 / 0], ids=["exit", "killed", "raises"])
def test_a_child_that_dies_midway_leaves_the_serial_results(project, monkeypatch, child_does_all, how):
    alone = serial(project, monkeypatch)
    monkeypatch.setattr(forked, "in_child", crash_at(10, how))
    parallel = cold(project)
    assert len(parallel["delivered"]) == 10  # the child's first 10, then the parent did the rest
    same_front_half(parallel, alone)


def test_a_child_that_hangs_is_not_waited_for_and_is_killed(project, monkeypatch, forks):
    alone = serial(project, monkeypatch)
    monkeypatch.setattr(forked, "in_child", crash_at(0, lambda: threading.Event().wait()))

    def waited(*_):
        raise AssertionError("the parent waited for a hung child")

    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(120)  # a bound on the test, not a timing: the work takes a second or two
    try:
        parallel = cold(project)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not parallel["delivered"]
    same_front_half(parallel, alone)
    with pytest.raises(ProcessLookupError):
        os.kill(forks[0][1], 0)  # killed and reaped: not even a zombie is left


def test_a_child_that_sends_garbage_is_dropped(project, monkeypatch, child_does_all):
    alone = serial(project, monkeypatch)
    sent = []
    real = forked._frame

    def frame(key, value):  # the 6th frame is the wrong shape, the rest fine
        sent.append(key)
        return real(key, {"deps": "nonsense"} if len(sent) == 6 else value)

    monkeypatch.setattr(forked, "_frame", frame)
    parallel = cold(project)
    assert len(parallel["delivered"]) == 5  # what came before the garbage; after it, nothing more is read
    same_front_half(parallel, alone)


def test_bytes_that_are_not_marshal_are_garbage(project, monkeypatch, child_does_all):
    alone = serial(project, monkeypatch)
    monkeypatch.setattr(forked, "_frame", lambda key, value: len(b"\xfe\x00garbage").to_bytes(4, "little") + b"\xfe\x00garbage")
    parallel = cold(project)
    assert not parallel["delivered"]
    same_front_half(parallel, alone)


STARS = {
    "marts/zz/wide.yml": "sql: select * from area_00.mart_00000\n",
    "marts/zz/wider.yml": "sql: select w.*, 1 as one from zz.wide as w\n",
}


def test_a_star_is_expanded_by_the_parent_against_its_inputs(project, monkeypatch, child_does_all):
    for relative, text in STARS.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    alone = serial(project, monkeypatch)
    parallel = cold(project)
    assert {"zz.wide", "zz.wider"} <= parallel["delivered"]  # parsed by the child...
    same_front_half(parallel, alone)  # ...compiled here, where its inputs' columns are known
    assert "*" not in parallel["sql"]["zz.wide"] and "*" not in parallel["sql"]["zz.wider"]


def test_another_target_does_not_take_the_childs_compiled_sql(project, monkeypatch, child_does_all):
    config = project / "config.yaml"
    config.write_text(config.read_text().replace("targets:\n", "targets:\n  dev: {type: duckdb, path: dev.duckdb, "
                                                               "schema_prefix: dev_}\n"))
    alone = serial(project, monkeypatch, target="dev")
    parallel = cold(project, target="dev")
    assert parallel["delivered"] == set(alone["sql"])
    same_front_half(parallel, alone)
    assert all("dev_area_" in sql for sql in parallel["sql"].values() if "area_" in sql)


def test_no_fork_below_the_threshold_when_switched_off_or_beside_another_thread(project, monkeypatch, forks):
    monkeypatch.setattr(prefill, "THRESHOLD", MARTS + 1)
    cold(project)
    assert not forks
    monkeypatch.setattr(prefill, "THRESHOLD", 20)
    monkeypatch.setenv(prefill.SWITCH, "0")
    cold(project)
    assert not forks
    monkeypatch.delenv(prefill.SWITCH)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        cold(project)
    finally:
        release.set()
        other.join()
    assert not forks
    cold(project)
    assert len(forks) == 1


def test_no_fork_while_duckdb_runs_threads_in_the_process(project, forks, tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "other.duckdb"))  # an API user's open connection: its threads
    try:
        cold(project)
    finally:
        con.close()
    assert not forks


def test_a_fork_that_fails_leaves_a_serial_parse(project, monkeypatch, forks):
    alone = serial(project, monkeypatch)

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    before = len(os.listdir("/proc/self/fd"))
    same_front_half(cold(project), alone)
    assert len(os.listdir("/proc/self/fd")) == before  # the pipe was closed


def test_another_dialect_takes_no_compiled_sql_from_the_child(project, monkeypatch, child_does_all):
    shutil.rmtree(project / "target", ignore_errors=True)
    with monkeypatch.context() as patch:
        patch.setenv(prefill.SWITCH, "0")
        alone = Workspace(project).compile_keys(list(Workspace(project).project.marts), dialect="postgres")
    shutil.rmtree(project / "target")
    ws = Workspace(project)
    assert len(ws.graph.precompiled) == MARTS  # for the default target, DuckDB...
    parallel = ws.compile_keys(list(ws.project.marts), dialect="postgres")
    assert {k: m.sql for k, m in parallel.marts.items()} == {k: m.sql for k, m in alone.marts.items()}  # ...not used here
