"""Hostile seed rows for the conformance suite: NULLs, empty strings, .5 ties, negatives, huge
integers, unicode (ß, CJK, emoji), leap days, month ends, times near midnight and DST changes.

The same Python values are inserted into DuckDB and into Postgres; the column types are
DuckDB's (the marts' dialect), declared to martctl in config.yaml."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

UTC = dt.timezone.utc

TABLES: dict[str, dict[str, str]] = {
    "nums": {"id": "INTEGER", "i": "INTEGER", "b": "BIGINT", "d": "DOUBLE", "n": "DECIMAL(12,2)", "m": "DECIMAL(18,4)"},
    "strs": {"id": "INTEGER", "s": "VARCHAR", "p": "VARCHAR"},
    "times": {"id": "INTEGER", "d": "DATE", "ts": "TIMESTAMP", "tz": "TIMESTAMPTZ"},
    "lists": {"id": "INTEGER", "l": "INTEGER[]", "t": "VARCHAR[]"},
    "docs": {"id": "INTEGER", "j": "VARCHAR"},
    "pairs": {"id": "INTEGER", "k": "VARCHAR", "v": "INTEGER"},
}

ROWS: dict[str, list[tuple]] = {
    "nums": [
        (1, 0, 0, 0.5, D("0.50"), D("0.5000")),
        (2, 1, 1, 1.5, D("1.50"), D("1.5000")),
        (3, 2, 2, 2.5, D("2.50"), D("2.5000")),
        (4, -1, -1, -2.5, D("-2.50"), D("-2.5000")),
        (5, 7, 9223372036854775807, 2.675, D("2.68"), D("22.3250")),
        (6, -7, -9223372036854775807, -0.5, D("-0.50"), D("-0.0050")),
        (7, None, None, None, None, None),
        (8, 3, 1000000000000, 1e300, D("12345678.99"), D("0.1250")),
        (9, 10, 10, -0.0, D("0.01"), D("3.3333")),
        (10, 4, 4, 0.1, D("0.10"), D("0.0001")),
    ],
    "strs": [
        (1, "hello", "h%"),
        (2, "", ""),
        (3, None, None),
        (4, "Straße", "%ß%"),
        (5, "漢字テスト", "漢%"),
        (6, "a_b%c", "a\\_b%"),
        (7, "back\\slash", "%\\\\%"),
        (8, "  padded  ", "%d"),
        (9, "MiXeD Case", "Mi%"),
        (10, "éclair ÉCLAIR", "%é%"),
        (11, "line1\nline2", "line_\nline_"),
        (12, "a,b,,c", "%,%"),
        (13, "😀 emoji", "_ emoji"),
        (14, "ǅungla ŉ ﬁ", "%ﬁ"),
    ],
    "times": [
        (1, dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 23, 59, 59, 999999), dt.datetime(2024, 2, 29, 23, 30, tzinfo=UTC)),
        (2, dt.date(2023, 1, 31), dt.datetime(2023, 1, 31, 0, 0), dt.datetime(2023, 1, 31, 0, 0, tzinfo=UTC)),
        (3, dt.date(2024, 12, 31), dt.datetime(2024, 12, 31, 23, 59, 59), dt.datetime(2025, 1, 1, 4, 59, 59, tzinfo=UTC)),
        (4, dt.date(2024, 3, 10), dt.datetime(2024, 3, 10, 2, 30), dt.datetime(2024, 3, 10, 7, 30, tzinfo=UTC)),
        (5, dt.date(2024, 11, 3), dt.datetime(2024, 11, 3, 1, 30), dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC)),
        (6, None, None, None),
        (7, dt.date(1999, 12, 31), dt.datetime(2000, 1, 1, 0, 0, 0, 500000), dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (8, dt.date(2024, 1, 1), dt.datetime(2023, 12, 31, 12, 0), dt.datetime(2023, 12, 31, 12, 0, tzinfo=UTC)),
        (9, dt.date(2021, 1, 3), dt.datetime(2021, 1, 3, 23, 0), dt.datetime(2021, 1, 4, 0, 0, tzinfo=UTC)),
        (10, dt.date(1970, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59), dt.datetime(1970, 1, 1, 0, 0, tzinfo=UTC)),
    ],
    "lists": [
        (1, [1, 2, 3], ["a", "b"]),
        (2, [], []),
        (3, None, None),
        (4, [3, None, 1], ["z", None]),
        (5, [5], ["ß"]),
    ],
    "docs": [
        (1, '{"a": 1, "b": [1, 2], "c": {"d": "x"}}'),
        (2, '{"a": "text", "b": []}'),
        (3, None),
        (4, "[]"),
        (5, '{"a": null}'),
    ],
    "pairs": [
        (1, "a", 1), (2, "a", 2), (3, "b", 3), (4, "b", None), (5, None, 5), (6, "c", 2), (7, "c", 2),
    ],
}


def ddl(dialect: str) -> list[str]:
    """CREATE SCHEMA raw + one CREATE TABLE per seed table, written in `dialect` by sqlglot."""
    import sqlglot

    statements = ["CREATE SCHEMA IF NOT EXISTS raw"]
    for name, columns in TABLES.items():
        body = ", ".join(f"{c} {t}" for c, t in columns.items())
        statements.append(sqlglot.transpile(f"CREATE TABLE raw.{name} ({body})", read="duckdb", write=dialect)[0])
    return statements


def config_sources() -> str:
    """The `sources:` block of config.yaml that declares these tables with their DuckDB types."""
    lines = ["sources:", "  raw:", "    tables:"]
    for name, columns in TABLES.items():
        cols = ", ".join(f'{c}: "{t}"' for c, t in columns.items())
        lines.append(f"      - {{name: {name}, columns: {{{cols}}}}}")
    return "\n".join(lines) + "\n"
