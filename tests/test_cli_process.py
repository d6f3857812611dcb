"""The martctl process's garbage collector (martctl/cli/collector.py): paused while a command starts
up, on for every command once its project is open (a command never runs without it), start-up's
objects frozen; a program that calls main() in-process keeps its collector as it was."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_project

FILES = {
    "seeds/items.csv": "id,price\n1,10\n2,20\n",
    "marts/a/base.yml": "sql: select id, price from raw.items\n",
    "marts/a/top.yml": "sql: select max(price) as top from a.base\n",
}

# the martctl process, with a record of the collector while the project opens and at exit
PROCESS = """
import atexit, gc, json, sys
import martctl.api.workspace as workspace
seen = {}
opening = workspace.Workspace.__init__
def init(self, *args, **kwargs):
    seen["paused_while_opening"] = not gc.isenabled()
    opening(self, *args, **kwargs)
workspace.Workspace.__init__ = init
atexit.register(lambda: print("GC " + json.dumps({**seen, "on_at_exit": gc.isenabled(), "frozen": gc.get_freeze_count(),
                                                  "full_pass_after": gc.get_threshold()[2]}), file=sys.stderr))
sys.argv = ["martctl", *sys.argv[1:]]
from martctl.cli.process import main
main()
"""


def collector_seen(root: Path, *args: str) -> dict:
    run = subprocess.run([sys.executable, "-c", PROCESS, *args, "--project-dir", str(root)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stderr.rsplit("GC ", 1)[1])


@pytest.mark.parametrize("command", ["seed", "run", "build", "plan", "ls", "compile", "validate"])
def test_the_collector_is_paused_for_start_up_and_on_for_the_command(tmp_path: Path, command: str):
    """seed/run/build/plan open their project with the collector paused and run without full passes;
    every other command turns it on (as it was) before it starts; all end with it on, objects frozen."""
    from martctl.cli import collector
    from martctl.cli.app import OPEN_THEN_COLLECT

    root = write_project(tmp_path / "p", FILES)
    if command != "seed":
        assert collector_seen(root, "seed")["on_at_exit"]
    seen = collector_seen(root, command)
    assert seen["on_at_exit"] and seen["frozen"] > 0, seen
    assert seen["full_pass_after"] == (collector.FULL_PASS_AFTER if command in OPEN_THEN_COLLECT else 10), seen
    if command != "validate":  # validate reads the folder without opening a workspace
        assert seen["paused_while_opening"] == (command in OPEN_THEN_COLLECT), seen


def test_main_called_in_process_leaves_the_collector_alone(tmp_path: Path):
    from tests.test_validate import cli

    root = write_project(tmp_path / "p", FILES)
    before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
    assert cli("ls", "--project-dir", str(root))[0] == 0
    assert cli("build", "--project-dir", str(root))[0] == 0
    assert (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()) == before
