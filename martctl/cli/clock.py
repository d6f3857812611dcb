"""How long this process has run: the time a command's summary shows, start-up and imports included."""

from __future__ import annotations

import os
import time

_IMPORTED = time.monotonic()  # the fallback's origin: martctl.cli.app imports this first thing


def process_seconds() -> float:
    """Wall seconds since this process started (from /proc on Linux, so the interpreter's start-up
    counts too), else since this module was imported."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime, in clock ticks
        with open("/proc/uptime", encoding="ascii") as uptime:
            since_boot = float(uptime.read().split()[0])
        seconds = since_boot - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED
    fallback = time.monotonic() - _IMPORTED
    if not fallback - 0.05 <= seconds < fallback + 3600:  # /proc counts in 10 ms ticks; anything odder: our own clock
        return fallback
    return max(seconds, fallback)
