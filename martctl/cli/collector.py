"""Python's cyclic garbage collector in the martctl process.

A command's start-up (imports, the project's model from the load cache, the plan cache) allocates
about 100,000 objects that live until the process ends, and the collector would walk them again and
again: its passes took 50-90 ms of a one-mart edit's `run -s m+` on the 1,000-mart project, 0.27 s of
a warm full run and 0.85 s of a cold one, and the interpreter's exit walks every object once more
(about 65 ms). So the process entry pauses the collector (`starting`); seed/run/build/plan turn it
on once their project is open, every other command before it starts (`started`): what exists then is
frozen (never walked again), and seed/run/build/plan collect without full passes (a run's objects live
until its end; a cold build's peak memory is the same); at exit every object is frozen (`exiting`).
Only the process entry does this: a program that calls the CLI's main() or the API keeps its
collector as it was.
"""

from __future__ import annotations

import gc

FULL_PASS_AFTER = 1000  # young-generation passes (default 10): a full pass walks every live object

_paused = False


def starting() -> None:
    """At the process entry, before the imports."""
    global _paused
    _paused = True
    gc.disable()


def started(full_passes: bool = False) -> None:
    """The project is open: freeze what start-up allocated, collect what comes next (once per process);
    without full passes unless asked (a run; a server, `docs serve`, keeps them)."""
    global _paused
    if not _paused:
        return
    _paused = False
    gc.freeze()
    if not full_passes:
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_PASS_AFTER)
    gc.enable()


def exiting() -> None:
    """The command is over: nothing is left to free that the exit's walk over every object would find."""
    gc.freeze()
