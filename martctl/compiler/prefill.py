"""A cold build parses on two cores. When the plan cache misses many marts, a forked child (forked.py)
works through the missing marts from the last one back while this process parses them from the
first one on, until they meet. For each mart the child sends what this process would have put in
the plan cache: its parse entry (dependencies, references, canonical SQL) and, when the mart's
compiled form cannot depend on its inputs' columns (in the target's dialect, no star), its compiled
entry for the target. The parent installs them as if read from the plan cache and never parses
those marts (unless something asks for a tree). A mart with any problem is not sent: this process
parses it and reports its problems as a serial parse does, in the same order.

`MARTCTL_PARALLEL_PARSE=0` turns it off. It forks only where that is safe and pays: Linux, at
least THRESHOLD misses, two usable CPUs, and no other thread in the process (DuckDB's included:
the scratch connection is closed first and reopened after).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, Callable

from martctl.compiler import forked
from martctl.compiler.compile import cache_settings, independent_entry, naming
from martctl.compiler.fingerprint import canonical_of
from martctl.compiler.graph import Graph
from martctl.compiler.parsed import ParsedMart, ProjectGraph
from martctl.errors import ProjectError
from martctl.project.model import Project, Target
from martctl.project.scratch import close_scratch

SWITCH = "MARTCTL_PARALLEL_PARSE"
THRESHOLD = 200  # misses below which a serial parse is as quick (the fork and the child's DuckDB cost ~30 ms)


def settings(target: Target) -> tuple:
    """The compile settings the child's compiled entries hold for (independent_entry's)."""
    return cache_settings(target.dialect, naming(target), True, False, False)


def settle(project: Project, values, key: str, item: ParsedMart, target: Target | None) -> dict | None:
    """What the plan cache keeps of a freshly parsed mart beyond its parse entry, so that its tree need
    not be kept: its canonical SQL and, when its inputs' columns cannot change it, its compiled entry for
    `target` (see settings). None when compiling it raises: it is then compiled and reported as usual."""
    graph = ProjectGraph(project, Graph({}), {key: item}, values)  # the one mart compile reads
    compiled = None
    if target is not None:
        try:
            compiled = independent_entry(graph, key, target)
        except ProjectError:
            return None
    return {"canon": canonical_of(item), "compiled": compiled}


def start(project: Project, values, misses: list[str], parse: Callable[[str], tuple[ParsedMart, dict] | None],
          target: Target | None) -> forked.Forked | None:
    """A child parsing `misses` (parse(key): the parsed mart and its parse entry, None on any problem),
    or None when forking is off, unsafe or not worth it."""
    if not _usable(len(misses)):
        return None
    _import_before_fork(project, misses)

    def work(key: str) -> dict | None:
        parsed = parse(key)
        if parsed is None:
            return None
        item, entry = parsed
        settled = settle(project, values, key, item, target)
        return None if settled is None else {**entry, **settled}  # None: the parent compiles it and reports it

    try:
        return forked.start(misses, work, _valid)
    except OSError:  # no fork (a process limit, no memory): the parse is serial, as without it
        return None


def _usable(misses: int) -> bool:
    if os.environ.get(SWITCH, "1") == "0" or misses < THRESHOLD:
        return False
    if not sys.platform.startswith("linux") or threading.active_count() != 1 or len(os.sched_getaffinity(0)) < 2:
        return False
    close_scratch()  # its DuckDB threads would be forked mid-life; each process opens its own
    return _os_threads() == 1


def _os_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def _import_before_fork(project: Project, misses: list[str]) -> None:
    """What both processes will load, loaded once: DuckDB (its parser checks DuckDB marts), the dialects."""
    from sqlglot.dialects.dialect import Dialect

    dialects = {project.marts[key].dialect for key in misses}
    if "duckdb" in dialects:
        import duckdb  # noqa: F401
    for dialect in dialects:
        Dialect.get_or_raise(dialect)


def _strings(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


def _valid(value: Any) -> bool:
    """The shape of what work() returns (a child that sends anything else is not trusted)."""
    if not isinstance(value, dict) or set(value) != {"deps", "refs", "canon", "compiled"}:
        return False
    deps, refs, compiled = value["deps"], value["refs"], value["compiled"]
    if not (isinstance(deps, list) and len(deps) == 2 and all(_strings(d) for d in deps)):
        return False
    if not (isinstance(refs, list) and all(_strings(r) and len(r) == 4 for r in refs) and isinstance(value["canon"], str)):
        return False
    if compiled is None:
        return True
    return (isinstance(compiled, dict) and isinstance(compiled.get("sql"), str) and _strings(compiled.get("relation"))
            and isinstance(compiled.get("columns"), dict) and _strings(compiled.get("warnings"))
            and isinstance(compiled.get("inputs"), dict) and all(_strings(v) for v in compiled["inputs"].values()))
