"""The typer app: global options, command registration, errors -> exit codes."""

from __future__ import annotations

import os
import sys
from copy import copy
from functools import lru_cache
from typing import Annotated, Optional

import typer

from martctl import __version__
from martctl.cli import clock  # noqa: F401  (first: its fallback clock starts with the process)
from martctl.exitcodes import ExitCode

app = typer.Typer(
    name="martctl",
    help="Build, test and explain SQL data marts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)


def _version(value: bool) -> None:
    if value:
        print(f"martctl {__version__}")
        raise typer.Exit()


OPEN_THEN_COLLECT = ("seed", "run", "build", "plan")  # they start the garbage collector once their project is open


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = None,
) -> None:
    """Build, test and explain SQL data marts."""
    if ctx.invoked_subcommand not in OPEN_THEN_COLLECT:
        from martctl.cli import collector

        collector.started(full_passes=True)  # paused by the process entry (collector.py): on from here


COMMAND_MODULES = ("project", "run", "test", "lineage", "docs", "state", "diff", "envs")


def _register() -> None:
    from importlib import import_module

    for name in COMMAND_MODULES:
        import_module(f"martctl.cli.cmd_{name}").register(app)


_register()


SELECTOR_OPTIONS = ("-s", "--select", "--exclude")
POSITIONAL_COMMANDS = ("lineage", "init", "show")  # their bare words are arguments, not more selectors


def join_selector_words(args: list[str]) -> list[str]:
    """`-s a b` means `-s "a b"` (dbt's habit): the words after a selector option, up to the next
    option, are one space-separated selection."""
    if not args or args[0] in POSITIONAL_COMMANDS:
        return args
    joined: list[str] = []
    i = 0
    while i < len(args):
        joined.append(args[i])
        i += 1
        if joined[-1] in SELECTOR_OPTIONS:
            words = []
            while i < len(args) and not args[i].startswith("-"):
                words.append(args[i])
                i += 1
            if words:
                joined.append(" ".join(words))
    return joined


def _debug() -> bool:
    return "--debug" in sys.argv or bool(os.environ.get("MARTCTL_DEBUG"))


def _debug_flag(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.", expose_value=False)] = False) -> None:
    """Declares --debug once; main() reads it from argv, so it also covers errors raised before a
    command runs, and no command function takes it."""


def _named(name: str | None) -> typer.Typer:
    """The app with only the command (or command group) `name`, when the command line names one:
    typer converts each command's options when it builds the app, which costs more than a small
    command's own work. Else the whole app (top-level help, a mistyped command's suggestions)."""
    commands = [c for c in app.registered_commands
                if (c.name or typer.main.get_command_name(c.callback.__name__)) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    narrowed = copy(app)
    narrowed.registered_commands, narrowed.registered_groups = commands, groups
    return narrowed


@lru_cache(maxsize=None)
def _cli(name: str | None = None):
    """The app as it runs (built once per process), for the command `name` alone when there is one
    (see _named): every command also accepts --debug (and lists it in its --help)."""
    declared = typer.Typer(add_completion=False)
    declared.command()(_debug_flag)
    flag = typer.main.get_command(declared).params
    group = typer.main.get_command(_named(name))
    todo = list(group.commands.values())
    while todo:
        command = todo.pop()
        command.params.extend(flag)
        todo += list(getattr(command, "commands", {}).values())  # `docs build` too
    return group


def _json_logs(args: list[str]) -> bool:
    """--log-format json (or =json): errors too are one JSON object on stdout."""
    pairs = zip(args, args[1:] + [""])
    return "--log-format=json" in args or any(a == "--log-format" and b == "json" for a, b in pairs)


def main() -> None:
    """Entry point: every expected failure ends in a clear message and its exit code."""
    args = join_selector_words(sys.argv[1:])
    try:
        _cli(args[0] if args else None)(args=args, prog_name="martctl")  # click exits itself: 0, a command's typer.Exit(code), or 2 for a bad command line
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message and an exit code
        sys.exit(report_failure(exc, _json_logs(args), _debug()))


def report_failure(exc: Exception, json_logs: bool = False, debug: bool = False) -> int:
    """Render a failure (text on stderr, or one JSON object on stdout) and return its exit code:
    bad input 2, another run holds the lock 3, the warehouse failed 1, a bug in martctl 1."""
    from martctl.cli import render
    from martctl.errors import AdapterError, LockBusy, ProjectError

    if isinstance(exc, ProjectError):
        code, kind, message = ExitCode.INVALID, "invalid", str(exc)
    elif isinstance(exc, LockBusy):
        code, kind, message = ExitCode.LOCKED, "locked", str(exc)
    elif isinstance(exc, AdapterError):
        code, kind, message = ExitCode.FAILED, "failed", str(exc)
    else:
        code, kind = ExitCode.FAILED, "internal"
        message = "internal error (a bug in martctl); rerun with --debug for the traceback: " + \
            (f"{type(exc).__name__}: {exc}".strip())
    if debug:
        import traceback

        traceback.print_exception(exc)
    if json_logs:
        event = {"event": "Error", "kind": kind, "message": message, "exit_code": int(code)}
        if isinstance(exc, ProjectError):
            event["problems"] = [p.as_dict() for p in exc.problems]
        render.print_json_line(event)
    elif isinstance(exc, ProjectError):
        render.problems(exc.problems)
    else:
        render.error(message)
    return int(code)
