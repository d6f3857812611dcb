"""Names martctl creates in a warehouse (areas, marts, seeds) must work unquoted on every engine.

The SQL users write refers to marts unquoted (`from sales.orders`), so a name must be a plain
lowercase identifier (Postgres folds `Orders` to `orders`), not a word the engines reserve, and
short enough: Postgres cuts identifiers at 63 bytes, and martctl appends `__martctl_batch` (15)
to a relation's name while it builds it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from martctl.errors import Problem

MAX_BYTES = 63  # Postgres NAMEDATALEN - 1
BUILD_SUFFIX_BYTES = len("__martctl_batch")  # engine/ddl.py BATCH_SUFFIX, the longest suffix
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")

# Postgres 15 `pg_get_keywords()` with catcode R or T, and DuckDB `duckdb_keywords()` reserved or
# type_function: the words that cannot name a table or schema unquoted. tests/test_security_pg.py
# compares them with the live engines.
POSTGRES_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric authorization binary both case cast check
collate collation column concurrently constraint create cross current_catalog current_date
current_role current_schema current_time current_timestamp current_user default deferrable desc
distinct do else end except false fetch for foreign freeze from full grant group having ilike in
initially inner intersect into is isnull join lateral leading left like limit localtime
localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
references returning right select session_user similar some symmetric table tablesample then to
trailing true union unique user using variadic verbose when where window with
""".split())
DUCKDB_RESERVED = frozenset("""
all analyse analyze and anti any array as asc asof asymmetric at authorization binary both by case
cast check collate collation column columns concurrently constraint create cross default deferrable
desc describe distinct do else end except false fetch for foreign freeze from full generated glob
group having ilike in initially inner intersect into is isnull join lambda lateral leading left like
limit map natural not notnull null offset on only or order outer overlaps pivot pivot_longer
pivot_wider placing positional primary qualify references returning right select semi show similar
some struct summarize symmetric table tablesample then to trailing true try_cast tuple union unique
unpack unpivot using variadic verbose when where window with
""".split())


def identifier_problem(name: str, max_bytes: int = MAX_BYTES) -> tuple[str, str] | None:
    """(what is wrong, e.g. "is a reserved word in Postgres"; how to fix it) when `name` cannot be
    a table or schema name on every engine, else None."""
    if not _PLAIN.match(name):
        plain = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "name"
        return ("is not a plain identifier",
                f"use lowercase letters, digits and _ (starting with a letter or _), e.g. '{plain}'")
    size = len(name.encode())
    if size > max_bytes:
        return (f"is {size} bytes long, at most {max_bytes}",
                "Postgres cuts names at 63 bytes (and martctl appends '__martctl_batch' to a table's name while "
                "building it): shorten it")
    engines = [e for e, words in (("Postgres", POSTGRES_RESERVED), ("DuckDB", DUCKDB_RESERVED)) if name in words]
    if engines or not _sqlglot_reads(name):
        return (f"is a reserved word in {' and '.join(engines) or 'sqlglot'}", f"rename it, e.g. '{name}_data'")
    return None


@lru_cache(maxsize=None)
def _sqlglot_keywords(dialect: str) -> frozenset[str]:
    from sqlglot.dialects.dialect import Dialect

    return frozenset(k.lower() for k in Dialect.get_or_raise(dialect).tokenizer_class.KEYWORDS)


def _sqlglot_reads(name: str) -> bool:
    """sqlglot parses `from name.name` as that table in both engines' dialects (parsed only when
    the name is one of sqlglot's keywords: a plain word is always read as a name)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    for dialect in ("postgres", "duckdb"):
        if name not in _sqlglot_keywords(dialect):
            continue
        try:
            tables = [(t.db, t.name) for t in sqlglot.parse_one(f"select 1 from {name}.{name}", read=dialect).find_all(exp.Table)]
        except SqlglotError:
            return False
        if tables != [(name, name)]:
            return False
    return True


def mart_name_problem(name: str, file, line) -> Problem | None:
    """A mart's name must be a table name on every engine, with room for the build suffix."""
    found = identifier_problem(name, MAX_BYTES - BUILD_SUFFIX_BYTES)
    return Problem(f"mart name '{name}' {found[0]}", file, line, hint=found[1]) if found else None


def name_problems(marts: Iterable, seeds: Iterable, prefixes: Iterable[str], config_file,
                  seed_schema_line: int | None = None) -> list[Problem]:
    """Every area, seed and seeds' schema whose name is not a safe identifier (each once). An area
    is checked behind each target's schema_prefix too (the schema it becomes)."""
    problems: list[Problem] = []
    schemas_seen: set[str] = set()

    def schema(name: str, what: str, file, line) -> None:
        if name in schemas_seen:
            return
        schemas_seen.add(name)
        for prefix in sorted({"", *prefixes}):
            found = identifier_problem(prefix + name)
            if found:
                said = f"{what} '{name}' {found[0]}" if not prefix else \
                    f"{what} '{name}' becomes schema '{prefix}{name}' (schema_prefix '{prefix}'), which {found[0]}"
                problems.append(Problem(said, file, line, hint=found[1]))
                return

    for mart in marts:
        schema(mart.area, "area (folder)", mart.file, None)
    for seed in seeds:
        schema(seed.schema, "seeds schema", config_file, seed_schema_line)
        found = identifier_problem(seed.name, MAX_BYTES - BUILD_SUFFIX_BYTES)
        if found:
            problems.append(Problem(f"seed name '{seed.name}' {found[0]}", seed.seed, None,
                                    hint=found[1] + " (the file name is the table's name)"))
    return problems
