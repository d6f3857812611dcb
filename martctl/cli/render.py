"""Rich views: messages and progress on stderr, results on stdout. Plain text without a TTY."""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache

from rich.console import Console

OFF_TTY_WIDTH = 1000  # logs and pipes: a table is as wide as its content, no word is broken


@lru_cache(maxsize=None)
def out() -> Console:
    """Results: tables, trees, SQL. Off a terminal, as wide as the content needs."""
    tty = sys.stdout.isatty()
    return Console(highlight=False, soft_wrap=not tty, no_color=_no_color(), width=None if tty else OFF_TTY_WIDTH)


@lru_cache(maxsize=None)
def err() -> Console:
    """Messages and progress."""
    return Console(stderr=True, highlight=False, soft_wrap=True, no_color=_no_color())


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def print_json_line(data) -> None:
    """One JSON object on one line (--log-format json)."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    err().print(f"[yellow]warning:[/yellow] {escape(message)}")


def error(message: str) -> None:
    err().print(f"[bold red]error:[/bold red] {escape(message)}")


def info(message: str) -> None:
    err().print(escape(message))


def escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def problems(items) -> None:
    """Every problem, one block each: file:line: message, the offending line, the hint."""
    console = err()
    for problem in items:
        where = problem.where()
        label = "[yellow]warning[/yellow]" if problem.severity == "warn" else "[bold red]error[/bold red]"
        head = f"{label}: " + (f"[bold]{escape(where)}[/bold]: " if where else "") + escape(problem.message)
        console.print(head)
        if problem.snippet:
            from martctl.errors import clip

            snippet, column = clip(problem.snippet, problem.column)  # a 5,000-character line: its part near the column
            console.print("    " + escape(snippet))
            if column:
                console.print("    " + " " * (column - 1) + "[red]^[/red]")
        if problem.hint:
            console.print(f"  [cyan]hint:[/cyan] {escape(problem.hint)}")


def sql(text: str, dialect: str) -> None:
    """Syntax-highlighted SQL in a terminal, plain text elsewhere."""
    console = out()
    if console.is_terminal:
        from rich.syntax import Syntax

        console.print(Syntax(text, "sql", theme="ansi_dark", word_wrap=True, background_color="default"))
    else:
        sys.stdout.write(text + "\n")
