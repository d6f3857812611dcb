"""The typer app: global options, command registration, errors -> exit codes."""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer
from typing_extensions import Annotated

from martctl import __version__
from martctl.exitcodes import ExitCode

app = typer.Typer(
    name="martctl",
    help="Build, test and explain SQL data marts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"martctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = None,
) -> None:
    """Build, test and explain SQL data marts."""


COMMAND_MODULES = ("project", "run", "test", "lineage")


def _register() -> None:
    from importlib import import_module

    for name in COMMAND_MODULES:
        import_module(f"martctl.cli.cmd_{name}").register(app)


_register()


def _debug() -> bool:
    return "--debug" in sys.argv or bool(os.environ.get("MARTCTL_DEBUG"))


def _debug_flag(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.", expose_value=False)] = False) -> None:
    """Declares --debug once; main() reads it from argv, so it also covers errors raised before a
    command runs, and no command function takes it."""


def _cli():
    """The app as it runs: every command also accepts --debug (and lists it in its --help)."""
    declared = typer.Typer(add_completion=False)
    declared.command()(_debug_flag)
    flag = typer.main.get_command(declared).params
    group = typer.main.get_command(app)
    for command in group.commands.values():
        command.params.extend(flag)
    return group


def main() -> None:
    """Entry point: every expected failure ends in a clear message and its exit code."""
    from martctl.errors import AdapterError, LockBusy, ProjectError

    try:
        _cli()()  # click exits itself: 0, a command's typer.Exit(code), or 2 for a bad command line
    except ProjectError as exc:
        if _debug():
            raise
        from martctl.cli import render

        render.problems(exc.problems)
        sys.exit(ExitCode.INVALID)
    except LockBusy as exc:
        from martctl.cli import render

        render.error(str(exc))
        sys.exit(ExitCode.LOCKED)
    except AdapterError as exc:
        if _debug():
            raise
        from martctl.cli import render

        render.error(str(exc))
        sys.exit(ExitCode.FAILED)
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    except Exception:
        if _debug():
            raise
        import traceback

        from martctl.cli import render

        render.error("internal error (a bug in martctl); rerun with --debug for the traceback")
        render.info(traceback.format_exc().strip().splitlines()[-1])
        sys.exit(ExitCode.FAILED)
