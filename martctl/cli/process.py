"""The martctl process's entry point (the console script and `python -m martctl`)."""

from __future__ import annotations


def main() -> None:
    """main() of martctl.cli.app, with the garbage collector paused for start-up (see collector.py)."""
    from martctl.cli import collector

    collector.starting()
    try:
        from martctl.cli.app import main as run

        run()
    finally:
        collector.exiting()
