"""What the warehouse knows of the project's relations: row counts and column types (best effort):
the catalog in one query (reading it per relation costs 7 ms each on DuckDB), then one count each
(a UNION ALL of 200 counts plans slower than 200 counts)."""

from __future__ import annotations

from typing import Mapping


def warehouse_facts(adapter, relations: Mapping[str, tuple[str, str]]) -> dict[str, dict]:
    """relation key -> {"rows": count, "columns": {name: type}} for each (schema, table) that exists,
    types as the catalog (information_schema) names them. Views are counted too (their query runs).
    What cannot be read stays unknown."""
    columns = _catalog(adapter, {schema for schema, _ in relations.values()})
    present = {key: rel for key, rel in relations.items() if rel in columns}
    return {key: {"rows": _count(adapter, *rel), "columns": columns[rel]} for key, rel in present.items()}


def _catalog(adapter, schemas: set[str]) -> dict[tuple[str, str], dict[str, str]]:
    from sqlglot import exp

    if not schemas:
        return {}
    query = (exp.select("table_schema", "table_name", "column_name", "data_type")
             .from_(exp.table_("columns", db="information_schema"))
             .where(exp.column("table_schema").isin(*sorted(schemas)))
             .order_by("table_schema", "table_name", "ordinal_position"))
    found: dict[tuple[str, str], dict[str, str]] = {}
    try:
        rows = adapter.query(query.sql(dialect=adapter.dialect)).rows
    except Exception:  # noqa: BLE001 - an unreadable catalog leaves every relation unknown
        return {}
    for schema, table, column, kind in rows:
        found.setdefault((schema, table), {})[column] = str(kind)
    return found


def _count(adapter, schema: str, table: str) -> int | None:
    from sqlglot import exp

    query = exp.select(exp.Count(this=exp.Star())).from_(exp.table_(table, db=schema, quoted=True))
    try:
        return int(adapter.query(query.sql(dialect=adapter.dialect)).rows[0][0])
    except Exception:  # noqa: BLE001 - a view that fails stays unknown
        return None
