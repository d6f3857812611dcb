"""A cold build parses on two cores (martctl/compiler/prefill.py, forked.py): a forked child parses,
compiles and canonicalises the plan cache's misses from the last one back while the process parses
from the first one on. Whatever the child does or fails to do, the results are the serial ones: the
same compiled SQL, fingerprints, plan cache entries and errors.

martctl forks only from a process that runs no other thread, which a pytest process that ran other
tests is not (DuckDB's threads, Spark's, servers'): each scenario runs in a fresh Python (`fresh`)."""

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


def fresh(root: Path, scenario: str, *args: str) -> None:
    """Run `scenario(root, *args)` of this module in a fresh Python; its assertions fail the test."""
    code = (f"import sys; sys.path[:0] = [{str(REPO / 'tests')!r}, {str(REPO)!r}]; import test_prefill; "
            f"from pathlib import Path; test_prefill.{scenario}(Path(sys.argv[1]), *sys.argv[2:])")
    env = {k: v for k, v in os.environ.items() if k != "MARTCTL_PARALLEL_PARSE"}
    run = subprocess.run([sys.executable, "-c", code, str(root), *args], capture_output=True, text=True, timeout=300,
                         env=env)
    assert run.returncode == 0, run.stdout + run.stderr


# -- in the fresh process -------------------------------------------------------------------------------

def forks() -> list:
    """Fork above 20 misses; the list of children started (their Forked ends and pids)."""
    from martctl.compiler import forked, prefill

    prefill.THRESHOLD = 20
    started: list = []
    real = forked.start

    def start(*args, **kwargs):
        child = real(*args, **kwargs)
        started.append((child, child.pid))
        return child

    forked.start = start
    return started


def child_does_all() -> list:
    """The parent waits for everything the child sends before it parses anything itself, so the
    child's share is every mart it could do (the test does not depend on the two cores' speeds)."""
    from martctl.compiler import forked

    real = forked.Forked.get

    def get(self, key):
        if self._fd is not None:
            os.set_blocking(self._fd, True)
        return real(self, key)

    forked.Forked.get = get
    return forks()


def cold(root: Path, keep_trees: bool = False, **kwargs) -> dict:
    """From a cold target/: what a run reads of the front half (compiled SQL, fingerprints, the plan
    cache afterwards; the graph built as a run builds it, unless `keep_trees`) and which marts the
    child delivered (the parent took its entries)."""
    from martctl.api import Workspace
    from martctl.compiler import forked, plancache
    from martctl.compiler.fingerprint import fingerprints

    shutil.rmtree(root / "target", ignore_errors=True)
    ws = Workspace(root, **kwargs)
    delivered: set[str] = set()
    get = forked.Forked.get

    def taken(self, key):
        value = get(self, key)
        if value is not None:
            delivered.add(key)
        return value

    forked.Forked.get = taken
    try:
        graph = ws._graph_of(keep_trees)
    finally:
        forked.Forked.get = get
    trees = sum(1 for item in graph.parsed.values() if item._tree is not None)
    compiled = ws.compile_keys(list(ws.project.marts))
    prints = fingerprints(graph, list(compiled.marts), ws.target.dialect, ws.project.sources)
    plan = marshal.loads((root / "target" / plancache.FILE).read_bytes())
    return {"sql": {k: m.sql for k, m in compiled.marts.items()}, "columns": {k: dict(m.columns) for k, m in compiled.marts.items()},
            "prints": {k: (p.own, p.full) for k, p in prints.items()}, "marts": plan["marts"], "compiled": plan["compiled"],
            "order": (list(plan["marts"]), list(plan["compiled"]), [list(e) for e in plan["marts"].values()]),
            "delivered": delivered, "trees": trees}


def switched_off(function, *args, **kwargs):
    os.environ["MARTCTL_PARALLEL_PARSE"] = "0"
    try:
        return function(*args, **kwargs)
    finally:
        del os.environ["MARTCTL_PARALLEL_PARSE"]


def same_front_half(parallel: dict, alone: dict) -> None:
    for part in ("sql", "columns", "prints", "marts", "compiled", "order"):
        assert parallel[part] == alone[part], part


def child_does_every_mart(root: Path) -> None:
    started = child_does_all()
    alone = switched_off(cold, root)
    assert not started and not alone["delivered"]
    parallel = cold(root)
    assert len(started) == 1
    assert parallel["delivered"] == set(alone["sql"])  # the parent parsed no mart itself
    same_front_half(parallel, alone)
    assert all("canon" in entry for entry in parallel["marts"].values())


def meeting_halfway(root: Path) -> None:
    started = forks()
    alone = switched_off(cold, root)
    for _ in range(3):  # wherever they meet
        parallel = cold(root)
        same_front_half(parallel, alone)
        assert parallel["trees"] == 0  # a run's parent keeps no tree either (memory): it settles each mart as the child does
    assert alone["trees"] == MARTS
    kept = cold(root, keep_trees=True)  # lineage, docs, other dialects: the trees the parent parsed are kept
    same_front_half(kept, alone)
    assert kept["trees"] == MARTS - len(kept["delivered"]) > 0
    assert len(started) == 4


def warm_after_parallel(root: Path) -> None:
    from martctl.api import Workspace

    started = child_does_all()
    first = cold(root)
    ws = Workspace(root)
    assert all(item._tree is None for item in ws.graph.parsed.values())
    compiled = ws.compile_keys(list(ws.project.marts))
    assert {k: m.sql for k, m in compiled.marts.items()} == first["sql"]
    assert all(item._tree is None for item in ws.graph.parsed.values())  # the compiled forms came from the cache
    assert len(started) == 1  # the warm graph did not fork


def error_of(root: Path) -> list:
    from martctl.api import Workspace
    from martctl.errors import ProjectError

    shutil.rmtree(root / "target", ignore_errors=True)
    try:
        Workspace(root).graph
    except ProjectError as exc:
        return [(p.message, p.file, p.line, p.column, p.hint) for p in exc.problems]
    raise AssertionError("no error")


def bad_marts(root: Path) -> None:
    started = child_does_all()
    alone = switched_off(error_of, root)
    assert all(any(Path(bad).stem in message for message, *_ in alone) for bad in BAD)  # each reported
    assert error_of(root) == alone
    assert len(started) == 1


def crash_at(count: int, how):
    """An in_child hook: after `count` marts, the child does `how`."""
    seen = []

    def hook(key: str) -> None:
        seen.append(key)
        if len(seen) > count:
            how()

    return hook


DEATHS = {"exit": lambda: os._exit(1), "killed": lambda: os.kill(os.getpid(), signal.SIGKILL), "raises": lambda: 1 / 0}


def dies_midway(root: Path, how: str) -> None:
    from martctl.compiler import forked

    child_does_all()
    alone = switched_off(cold, root)
    forked.in_child = crash_at(10, DEATHS[how])
    parallel = cold(root)
    assert len(parallel["delivered"]) == 10  # the child's first 10, then the parent did the rest
    same_front_half(parallel, alone)


def hangs(root: Path) -> None:
    from martctl.compiler import forked

    started = forks()
    alone = switched_off(cold, root)
    forked.in_child = crash_at(0, lambda: threading.Event().wait())

    def waited(*_):
        raise AssertionError("the parent waited for a hung child")

    signal.signal(signal.SIGALRM, waited)
    signal.alarm(120)  # a bound on the test, not a timing: the work takes a second or two
    parallel = cold(root)
    signal.alarm(0)
    assert not parallel["delivered"]
    same_front_half(parallel, alone)
    try:
        os.kill(started[0][1], 0)
    except ProcessLookupError:  # killed and reaped: not even a zombie is left
        return
    raise AssertionError("the child is still there")


def sends_garbage(root: Path, kind: str) -> None:
    from martctl.compiler import forked

    child_does_all()
    alone = switched_off(cold, root)
    sent = []
    real = forked._frame

    def wrong_shape(key, value):  # the 6th frame is the wrong shape, the rest fine
        sent.append(key)
        return real(key, {"deps": "nonsense"} if len(sent) == 6 else value)

    def not_marshal(key, value):
        return len(b"\xfe\x00garbage").to_bytes(4, "little") + b"\xfe\x00garbage"

    forked._frame = wrong_shape if kind == "shape" else not_marshal
    parallel = cold(root)
    assert len(parallel["delivered"]) == (5 if kind == "shape" else 0)  # after garbage, nothing more is read
    same_front_half(parallel, alone)


def stars(root: Path) -> None:
    child_does_all()
    alone = switched_off(cold, root)
    parallel = cold(root)
    assert {"zz.wide", "zz.wider"} <= parallel["delivered"]  # parsed by the child...
    same_front_half(parallel, alone)  # ...compiled here, where its inputs' columns are known
    assert "*" not in parallel["sql"]["zz.wide"] and "*" not in parallel["sql"]["zz.wider"]


def another_target(root: Path) -> None:
    child_does_all()
    alone = switched_off(cold, root, target="dev")
    parallel = cold(root, target="dev")
    assert parallel["delivered"] == set(alone["sql"])
    same_front_half(parallel, alone)
    assert all("dev_area_" in sql for sql in parallel["sql"].values() if "area_" in sql)


def another_dialect(root: Path) -> None:
    from martctl.api import Workspace

    child_does_all()

    def to_postgres():
        shutil.rmtree(root / "target", ignore_errors=True)
        ws = Workspace(root)
        return ws, {k: m.sql for k, m in ws.compile_keys(list(ws.project.marts), dialect="postgres").marts.items()}

    alone = switched_off(to_postgres)[1]
    ws, parallel = to_postgres()
    assert len(ws.graph.precompiled) == MARTS  # made for DuckDB, the default target...
    assert parallel == alone  # ...not used here


def when_it_forks(root: Path) -> None:
    from martctl.compiler import prefill

    started = forks()
    prefill.THRESHOLD = MARTS + 1
    cold(root)
    assert not started
    prefill.THRESHOLD = 20
    switched_off(cold, root)
    assert not started
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        cold(root)
    finally:
        release.set()
        other.join()
    assert not started
    cold(root)
    assert len(started) == 1


def beside_duckdb_threads(root: Path) -> None:
    import duckdb

    started = forks()
    con = duckdb.connect(str(root / "other.duckdb"))  # an API user's open connection: its threads
    cold(root)
    assert not started
    con.close()
    cold(root)
    assert len(started) == 1


def children_reaped_by_the_system(root: Path) -> None:
    started = forks()
    alone = switched_off(cold, root)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # a host program that never waits for its children
    same_front_half(cold(root), alone)
    assert len(started) == 1


def fork_fails(root: Path) -> None:
    started = forks()
    alone = switched_off(cold, root)

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    os.fork = no_fork
    before = len(os.listdir("/proc/self/fd"))
    same_front_half(cold(root), alone)
    assert not started and len(os.listdir("/proc/self/fd")) == before  # the pipe was closed


def a_run_keeps_no_tree(root: Path) -> None:
    """A cold build forks, and afterwards no parsed tree is held: each mart was settled into its plan
    cache entries by whichever process parsed it, and nothing in the run parsed it again."""
    from martctl.api import Workspace

    started = forks()
    shutil.rmtree(root / "target", ignore_errors=True)
    ws = Workspace(root)
    assert ws.build().exit_code() == 0
    assert len(started) == 1
    assert [key for key, item in ws.graph.parsed.items() if item._tree is not None] == []


def in_a_terminal(root: Path) -> None:
    """`martctl build` in a terminal: its live view starts with the run's first event, after the graph is
    built, so the cold parse still forks (a view started first would be a second thread)."""
    os.environ.update(FORCE_COLOR="1", TERM="xterm-256color")  # a terminal, as rich and martctl decide it
    from martctl.cli import progress
    from martctl.cli.cmd_run import execute_command

    started = forks()
    views: list = []
    make = progress.make
    progress.make = lambda *args, **kwargs: views.append(make(*args, **kwargs)) or views[-1]
    shutil.rmtree(root / "target", ignore_errors=True)
    assert execute_command("build", root) == 0  # seeds, marts and their tests
    assert [type(view).__name__ for view in views] == ["LiveView"]
    assert len(started) == 1
    assert not views[0].live.is_started  # stopped when the run finished


# -- the tests ------------------------------------------------------------------------------------------

def test_a_child_that_does_every_mart_gives_the_serial_results(project):
    fresh(project, "child_does_every_mart")


def test_parent_and_child_meeting_halfway_give_the_serial_results(project):
    fresh(project, "meeting_halfway")


def test_a_warm_run_after_a_parallel_cold_one_parses_nothing(project):
    fresh(project, "warm_after_parallel")


BAD = {  # at the end of the project (the child's first) and at its start (the parent's), each a different problem
    "marts/aa/first.yml": "sql: select from raw.orders\n",
    "marts/zz/broken.yml": "sql: select id, from raw.orders where\n",
    "marts/zz/duckdb_only.yml": "sql: select a,, b from raw.orders\n",
    "marts/zz/unknown.yml": "sql: select * from raw.nowhere\n",
    "marts/zz/selfish.yml": "sql: select 1 as x from zz.selfish\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def test_bad_marts_in_the_childs_share_give_the_serial_errors(project):
    write(project, BAD)
    fresh(project, "bad_marts")


def test_bad_marts_give_the_same_output_and_exit_2_from_the_command_line(project):
    write(project, BAD)
    script = ("import os, sys, logging; from martctl.compiler import forked, prefill; prefill.THRESHOLD = 20\n"
              "def speak(key):  # a child that tries to print: nothing of it may reach the output\n"
              "    print('child', key); print('child', key, file=sys.stderr); os.write(2, b'child'); logging.warning('child')\n"
              "forked.in_child = speak; sys.argv = ['martctl', *sys.argv[1:]]\n"
              "from martctl.cli.process import main; main()")

    def compile_output(switch: str):
        env = {**os.environ, "MARTCTL_PARALLEL_PARSE": switch, "NO_COLOR": "1"}
        run = subprocess.run([sys.executable, "-c", script, "compile", "--project-dir", str(project)], capture_output=True,
                             text=True, timeout=120, env=env)
        shutil.rmtree(project / "target", ignore_errors=True)
        return run.returncode, run.stdout, run.stderr

    alone = compile_output("0")
    assert alone[0] == 2 and "broken" in alone[1] + alone[2] and "Traceback" not in alone[2]
    assert compile_output("1") == alone


@pytest.mark.parametrize("how", sorted(DEATHS))
def test_a_child_that_dies_midway_leaves_the_serial_results(project, how):
    fresh(project, "dies_midway", how)


def test_a_child_that_hangs_is_not_waited_for_and_is_killed(project):
    fresh(project, "hangs")


@pytest.mark.parametrize("kind", ["shape", "bytes"])
def test_a_child_that_sends_garbage_is_dropped(project, kind):
    fresh(project, "sends_garbage", kind)


def test_a_star_is_expanded_by_the_parent_against_its_inputs(project):
    write(project, {"marts/zz/wide.yml": "sql: select * from area_00.mart_00000\n",
                    "marts/zz/wider.yml": "sql: select w.*, 1 as one from zz.wide as w\n"})
    fresh(project, "stars")


def test_another_target_does_not_take_the_childs_compiled_sql(project):
    config = project / "config.yaml"
    config.write_text(config.read_text().replace("targets:\n", "targets:\n  dev: {type: duckdb, path: dev.duckdb, "
                                                               "schema_prefix: dev_}\n"))
    fresh(project, "another_target")


def test_another_dialect_takes_no_compiled_sql_from_the_child(project):
    fresh(project, "another_dialect")


def test_no_fork_below_the_threshold_when_switched_off_or_beside_another_thread(project):
    fresh(project, "when_it_forks")


def test_no_fork_while_duckdb_runs_threads_in_the_process(project):
    fresh(project, "beside_duckdb_threads")


def test_a_fork_that_fails_leaves_a_serial_parse(project):
    fresh(project, "fork_fails")


def test_a_host_program_that_ignores_sigchld(project):
    fresh(project, "children_reaped_by_the_system")


def test_a_run_in_a_terminal_forks_too(project):
    fresh(project, "in_a_terminal")


def test_a_cold_run_keeps_no_parsed_tree(project):
    fresh(project, "a_run_keeps_no_tree")
