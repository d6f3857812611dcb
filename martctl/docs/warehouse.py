"""What the warehouse knows of the project's relations: row counts and column types (best effort)."""

from __future__ import annotations

from typing import Mapping


def warehouse_facts(adapter, relations: Mapping[str, tuple[str, str]]) -> dict[str, dict]:
    """relation key -> {"rows": count, "columns": {name: type}} for each (schema, table) that exists.
    Views are counted too (their query runs). A relation the warehouse cannot read is left out."""
    from sqlglot import exp

    facts: dict[str, dict] = {}
    for key, (schema, table) in relations.items():
        try:
            columns = adapter.columns(schema, table)
            if columns is None:
                continue
            query = exp.select(exp.Count(this=exp.Star())).from_(exp.table_(table, db=schema, quoted=True))
            rows = adapter.query(query.sql(dialect=adapter.dialect)).rows
            facts[key] = {"rows": int(rows[0][0]) if rows else None, "columns": dict(columns)}
        except Exception:  # noqa: BLE001 - a relation that cannot be read only stays unknown
            continue
    return facts
