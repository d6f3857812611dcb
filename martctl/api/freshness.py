"""Source freshness: the age of each source's newest row (`freshness.loaded_at`) against its limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Sequence

from sqlglot import exp

from martctl.engine import ddl

if TYPE_CHECKING:
    from martctl.engine.adapters.base import Adapter
    from martctl.project.model import SourceTable

PASS, WARN, ERROR, UNKNOWN = "pass", "warn", "error", "unknown"


@dataclass
class Freshness:
    source: str
    loaded_at: str | None
    newest: str | None = None  # ISO time of the newest row
    age_seconds: float | None = None
    warn_after: int | None = None
    error_after: int | None = None
    status: str = UNKNOWN  # pass | warn | error | unknown (empty table, unreadable)
    message: str = ""
    on_stale: str = "skip"  # what a build does to its readers past error_after: skip | warn | build

    def as_dict(self) -> dict:
        return asdict(self)


def _utc(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return None


def check(adapter: "Adapter", sources: Sequence["SourceTable"], now: datetime | None = None) -> list[Freshness]:
    """One Freshness per source that declares `freshness:` (an unreadable one is `unknown`, with why)."""
    from martctl.errors import AdapterError

    now = now or datetime.now(timezone.utc)
    found = []
    for source in sources:
        limits = source.freshness
        column = limits.get("loaded_at") or source.loaded_at
        item = Freshness(source.key, column, warn_after=limits.get("warn_after"), error_after=limits.get("error_after"),
                         on_stale=source.on_stale)
        found.append(item)
        if not column:
            item.message = "no loaded_at column"
            continue
        query = exp.select(exp.Max(this=exp.column(exp.to_identifier(column)))).from_(ddl.table((source.schema, source.name)))
        try:
            newest = _utc(adapter.query(query.sql(adapter.dialect)).rows[0][0])
        except AdapterError as exc:
            item.message = str(exc).splitlines()[0]
            continue
        if newest is None:
            item.message = "no rows (or no time) yet"
            continue
        item.newest, item.age_seconds = newest.isoformat(), max(0.0, (now - newest).total_seconds())
        item.status = PASS
        if item.warn_after is not None and item.age_seconds > item.warn_after:
            item.status = WARN
        if item.error_after is not None and item.age_seconds > item.error_after:
            item.status = ERROR
    return found
