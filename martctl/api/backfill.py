"""Backfills: `run -s m --start A --end B` replaces the rows of incremental marts whose cursor is in [A, B)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from martctl.errors import ProjectError

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledProject


def checked_window(command: str, start: str | None, end: str | None, full_refresh: bool = False) -> tuple[str, str] | None:
    """(start, end) checked: a run or build without --full-refresh, both given, both numbers or both
    dates/times, start before end; None: no backfill."""
    if start is None and end is None:
        return None
    if command == "seed" or full_refresh:
        raise ProjectError(f"--start/--end (a backfill) cannot go with {'seed' if command == 'seed' else '--full-refresh'}",
                           hint="a backfill replaces a range of incremental marts: martctl run -s MART --start A --end B")
    if start is None or end is None:
        raise ProjectError("a backfill needs both --start and --end", hint="e.g. --start 2026-01-01 --end 2026-02-01 "
                           "(rows whose cursor is >= start and < end are replaced)")
    low, high = _comparable(start, "--start"), _comparable(end, "--end")
    if type(low) is not type(high):
        raise ProjectError(f"--start {start} and --end {end} are not of one kind",
                           hint="give two numbers or two dates/timestamps (YYYY-MM-DD[ HH:MM:SS])")
    if not low < high:
        raise ProjectError(f"--start {start} is not before --end {end}: the range [start, end) is empty",
                           hint="the end is excluded: --start 2026-01-01 --end 2026-02-01 is January")
    return start, end


def _comparable(value: str, option: str):
    try:
        return float(value)
    except ValueError:
        pass
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise ProjectError(f"{option} '{value}' is neither a number nor a date/timestamp",
                           hint="a cursor value: 2026-01-01, '2026-01-01 06:00:00' or a number") from None
    return found.replace(tzinfo=None)


def apply(compiled: "CompiledProject", keys, found: tuple[str, str]) -> tuple["CompiledProject", dict[str, str]]:
    """The compiled project with each selected mart set to backfill `found`, and the reason each is
    built; a selected mart that is not incremental with a cursor is an error naming it."""
    wrong = [key for key in keys if key in compiled.marts and not backfillable(compiled.marts[key].mart)]
    if wrong:
        raise ProjectError(
            f"--start/--end backfill incremental marts with a cursor; not: {', '.join(wrong)}",
            hint="select only such marts (-s area.mart), or drop --start/--end; declare "
                 "`materialized: incremental` with `incremental: {cursor: column}` to backfill a mart")
    marts = dict(compiled.marts)
    reasons = {}
    for key in keys:
        item = marts[key]
        marts[key] = replace(item, backfill=found)
        reasons[key] = f"backfill: rows whose {item.mart.incremental['cursor']} is in [{found[0]}, {found[1]})"
    return replace(compiled, marts=marts), reasons


def backfillable(mart) -> bool:
    return mart.materialized == "incremental" and bool((mart.incremental or {}).get("cursor"))


def require_tables(adapter, compiled: "CompiledProject", keys) -> None:
    """A backfill replaces a range of an existing table: a mart not built yet is an error (nothing touched)."""
    missing = [key for key in keys if not adapter.exists(*compiled.marts[key].relation)]
    if missing:
        raise ProjectError(f"cannot backfill {', '.join(missing)}: no table on this target yet",
                           hint=f"build it whole first (martctl run -s {missing[0]}), then backfill a range")
