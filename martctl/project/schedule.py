"""Schedules: a cron expression (minute hour day-of-month month day-of-week) or @hourly, @daily,
@weekly, @monthly, @yearly; times in UTC. `latest_tick` is the last time at or before `now` that the
schedule fires: a mart whose last build is older than that tick is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

ALIASES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
           "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
LOOK_BACK_DAYS = 366 * 5


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month is *
    any_weekday: bool  # day of week is *

    def day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        in_month, in_week = day.day in self.days, (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week  # both restricted: either (cron's rule)


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"{name}: step '{step_text}' is not a positive number")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            if not (first.isdigit() and last.isdigit()):
                raise ValueError(f"{name}: '{body}' is not a range of numbers")
            start, end = int(first), int(last)
        elif body.isdigit():
            start = end = int(body)
            if step:
                end = high
        else:
            raise ValueError(f"{name}: '{body}' is not a number, a range or *")
        if not (low <= start <= end <= high):
            raise ValueError(f"{name}: '{part}' is outside {low}-{high}")
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


@lru_cache(maxsize=256)
def parse(expression: str) -> Cron:
    """Raise ValueError saying which field is wrong."""
    text = ALIASES.get(expression.strip().lower(), expression.strip())
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"'{expression}' has {len(parts)} fields; a cron expression has 5 (minute hour "
                         "day-of-month month day-of-week) or is one of " + ", ".join(ALIASES))
    values = [_field(p, *spec) for p, spec in zip(parts, FIELDS)]
    weekdays = frozenset(d % 7 for d in values[4])
    return Cron(values[0], values[1], values[2], values[3], weekdays, parts[2] == "*", parts[4] == "*")


def latest_tick(expression: str, now: datetime) -> datetime | None:
    """The last time at or before `now` (UTC, to the minute) the schedule fires; None if not within 5 years."""
    cron = parse(expression)
    now = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
    day = now.replace(hour=0, minute=0)
    for back in range(LOOK_BACK_DAYS):
        candidate = day - timedelta(days=back)
        if not cron.day_matches(candidate):
            continue
        for hour in sorted(cron.hours, reverse=True):
            if back == 0 and hour > now.hour:
                continue
            for minute in sorted(cron.minutes, reverse=True):
                tick = candidate.replace(hour=hour, minute=minute)
                if tick <= now:
                    return tick
    return None


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def seconds(text: str) -> int:
    """'30m', '12h', '2d' -> seconds; raise ValueError otherwise."""
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in UNITS or not text[:-1].isdigit():
        raise ValueError(f"'{text}' is not a duration")
    return int(text[:-1]) * UNITS[text[-1]]
