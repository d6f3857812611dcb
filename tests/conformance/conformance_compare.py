"""Rows from two engines compared exactly: same kind of value (number, text, date, naive or aware
timestamp, list ...) and the same value; numbers of different Python types by exact value."""

from __future__ import annotations

import datetime as dt
import math
import struct
from decimal import Decimal


def kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, dt.datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _number(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return Decimal(value)


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def same_value(a, b, ulps: int = 0) -> bool:
    """Exactly the same; `ulps` > 0 lets doubles differ in their last bits (order-dependent aggregates)."""
    if kind(a) != kind(b):
        return False
    if kind(a) == "number":
        x, y = _number(a), _number(b)
        if isinstance(x, str) or isinstance(y, str):
            return str(x) == str(y)
        if isinstance(x, float) or isinstance(y, float):
            x, y = float(x), float(y)
            if x == y or (ulps and abs(x - y) <= ulps * math.ulp(max(abs(x), abs(y)))):
                return True
            # a REAL: DuckDB widens the float32 exactly (0.10000000149011612), psycopg reads its text (0.1)
            return _float32(x) == x and _float32(y) == _float32(x) or _float32(y) == y and _float32(x) == _float32(y)
        return x == y
    if kind(a) == "timestamptz":  # compare instants (Python's cross-zone == is False for times in a DST fold)
        return a.astimezone(dt.timezone.utc) == b.astimezone(dt.timezone.utc)
    if kind(a) == "list":
        return len(a) == len(b) and all(same_value(x, y, ulps) for x, y in zip(a, b))
    return a == b


def _key(value) -> str:
    k = kind(value)
    if k == "number":
        return f"number:{float(value) + 0.0!r}"  # -0.0 sorts with 0.0 (they compare equal)
    if k == "list":
        return "list:[" + ",".join(_key(v) for v in value) + "]"
    if k == "timestamptz":
        return f"tz:{value.astimezone(dt.timezone.utc).isoformat()}"
    return f"{k}:{value!r}"


def normalized(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple(_key(v) for v in row))


def differences(want: list[tuple], got: list[tuple], limit: int = 3, ulps: int = 0) -> list[str]:
    """Up to `limit` descriptions of rows that differ (order-insensitive); [] when the same."""
    if len(want) != len(got):
        return [f"{len(want)} rows on DuckDB, {len(got)} here"]
    out = []
    for w, g in zip(normalized(want), normalized(got)):
        if len(w) != len(g) or not all(same_value(x, y, ulps) for x, y in zip(w, g)):
            out.append(f"DuckDB {w!r} != {g!r}")
            if len(out) >= limit:
                break
    return out
