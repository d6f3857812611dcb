"""The build state in the warehouse: schema <prefix>martctl_state, tables `marts` and `runs`.

`marts` holds one row per mart or seed: the fingerprint of its last successful build, the
versions of its inputs then, when it was built, its rows and duration. The row is written by
statements the adapter runs in the same transaction as the swap (see Recorder), so a kill can
never record a build that did not happen. `runs` holds one row per run: id, command, selection,
outcome and, once finished, each node's status. A state written by an older martctl (fewer
columns) is upgraded in place by `ensure`. Every statement is built with sqlglot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from sqlglot import exp

from martctl.engine import ddl

if TYPE_CHECKING:
    from martctl.engine.adapters.base import Adapter

SCHEMA = "martctl_state"
FORMAT = 2
TABLES: dict[str, dict[str, str]] = {
    "marts": {"key": "TEXT", "kind": "TEXT", "fingerprint": "TEXT", "sql_hash": "TEXT", "sql": "TEXT",
              "inputs": "TEXT", "version": "TEXT", "status": "TEXT", "built_at": "TEXT", "row_count": "BIGINT",
              "seconds": "DOUBLE", "run_id": "TEXT", "backfill": "TEXT"},
    "runs": {"run_id": "TEXT", "command": "TEXT", "target": "TEXT", "selection": "TEXT", "started_at": "TEXT",
             "finished_at": "TEXT", "outcome": "TEXT", "results": "TEXT", "format": "BIGINT", "backfill": "TEXT"},
}
OK, TESTING, TESTS_FAILED = "ok", "testing", "tests failed"  # marts.status


@dataclass
class Record:
    """What the state says of one mart or seed's last successful build."""

    key: str
    fingerprint: str | None = None
    sql_hash: str | None = None
    sql: str | None = None
    inputs: dict[str, str | None] = field(default_factory=dict)
    version: str | None = None
    status: str | None = None
    built_at: str | None = None
    row_count: int | None = None
    seconds: float | None = None
    run_id: str | None = None
    kind: str | None = None
    backfill: str | None = None  # JSON {start, end}: this build replaced only that range of its cursor


def schema_name(prefix: str = "") -> str:
    """The state's schema for a scope: the target's schema_prefix, and `@env` for an environment other
    than prod (see `scope`): `martctl_state`, `martctl_state__dev`."""
    prefix, _, env = prefix.partition("@")
    return prefix + SCHEMA + (f"__{env}" if env else "")


def scope(prefix: str, env: str | None) -> str:
    """The state scope of an environment: prod's is the prefix itself, another's has its own schema."""
    return f"{prefix}@{env}" if env and env != "prod" else prefix


def now(clock: datetime | None = None) -> str:
    return (clock or datetime.now(timezone.utc)).isoformat(timespec="microseconds")


def literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    return exp.convert(value)


def _eq(column: str, value: Any) -> exp.Expression:
    return exp.EQ(this=exp.column(column), expression=literal(value))


def upsert(prefix: str, table: str, key_column: str, row: Mapping[str, Any]) -> list[exp.Expression]:
    """Replace the row whose `key_column` equals row[key_column] (delete + insert: portable, no constraint)."""
    return write_rows(prefix, table, key_column, [row])


def write_rows(prefix: str, table: str, key_column: str, rows: Sequence[Mapping[str, Any]]) -> list[exp.Expression]:
    """Replace the rows of these keys: one DELETE and one multi-row INSERT (the same columns in each row)."""
    relation = (schema_name(prefix), table)
    keys = [literal(row[key_column]) for row in rows]
    delete = exp.Delete(this=ddl.table(relation), where=exp.Where(this=exp.column(key_column).isin(*keys)))
    columns = list(rows[0])
    values = exp.Values(expressions=[exp.Tuple(expressions=[literal(row[c]) for c in columns]) for row in rows])
    return [delete, ddl.insert(relation, values, columns)]


def update(prefix: str, table: str, key_column: str, key: str, values: Mapping[str, Any]) -> exp.Update:
    return exp.Update(this=ddl.table((schema_name(prefix), table)),
                      expressions=[exp.EQ(this=exp.column(c), expression=literal(v)) for c, v in values.items()],
                      where=exp.Where(this=_eq(key_column, key)))


def ensure_statements(adapter: "Adapter", prefix: str,
                      tables: Mapping[str, Mapping[str, str]] = TABLES) -> list[exp.Expression]:
    """CREATE what is missing: the schema, the tables, and the columns an older state lacks."""
    schema = schema_name(prefix)
    statements: list[exp.Expression] = [ddl.create_schema(schema)]
    for table, columns in tables.items():
        existing = adapter.columns(schema, table)
        if existing is None:
            defs = [exp.ColumnDef(this=exp.to_identifier(c), kind=exp.DataType.build(t)) for c, t in columns.items()]
            statements.append(exp.Create(this=exp.Schema(this=ddl.table((schema, table)), expressions=defs), kind="TABLE"))
            continue
        have = {c.lower() for c in existing}
        for column, kind in columns.items():
            if column not in have:
                definition = exp.ColumnDef(this=exp.to_identifier(column), kind=exp.DataType.build(kind))
                statements.append(exp.Alter(this=ddl.table((schema, table)), kind="TABLE", actions=[definition]))
    return statements


def ensure(adapter: "Adapter", prefix: str) -> None:
    """Create or upgrade the state in place (run under the run lock)."""
    adapter.execute(ensure_statements(adapter, prefix))


def read(adapter: "Adapter", prefix: str) -> dict[str, Record]:
    """Every recorded mart and seed; empty when there is no state yet (nothing is created)."""
    schema = schema_name(prefix)
    existing = adapter.columns(schema, "marts")
    if existing is None:
        return {}
    columns = [c for c in TABLES["marts"] if c in {e.lower() for e in existing}]
    query = exp.select(*[exp.column(c) for c in columns]).from_(ddl.table((schema, "marts")))
    records = {}
    for row in adapter.query(query.sql(adapter.dialect)).rows:
        values = dict(zip(columns, row))
        values["inputs"] = json.loads(values.get("inputs") or "{}")
        record = Record(**values)
        records[record.key] = record
    return records


def last_run(adapter: "Adapter", prefix: str, commands: Sequence[str] = ("run", "build")) -> dict | None:
    """The latest run of one of `commands` (its row, selection and results decoded), or None."""
    schema = schema_name(prefix)
    existing = adapter.columns(schema, "runs")
    if existing is None:
        return None
    columns = [c for c in TABLES["runs"] if c in {e.lower() for e in existing}]  # an older state has fewer
    query = (exp.select(*[exp.column(c) for c in columns]).from_(ddl.table((schema, "runs")))
             .where(exp.column("command").isin(*commands)).order_by("started_at DESC").limit(1))
    rows = adapter.query(query.sql(adapter.dialect)).rows
    if not rows:
        return None
    run = dict(zip(columns, rows[0]))
    run["selection"] = json.loads(run.get("selection") or "[]")
    run["results"] = json.loads(run["results"]) if run.get("results") else None
    run["backfill"] = json.loads(run["backfill"]) if run.get("backfill") else None
    return run


def run_started(prefix: str, run_id: str, command: str, target: str, selection: Sequence[str],
                backfill: Mapping[str, str] | None = None) -> list[exp.Expression]:
    return upsert(prefix, "runs", "run_id", {"run_id": run_id, "command": command, "target": target,
                                             "selection": list(selection), "started_at": now(), "finished_at": None,
                                             "outcome": "running", "results": None, "format": FORMAT,
                                             "backfill": dict(backfill) if backfill else None})


def run_finished(prefix: str, run_id: str, outcome: str, results: Mapping[str, str]) -> exp.Update:
    return update(prefix, "runs", "run_id", run_id, {"finished_at": now(), "outcome": outcome, "results": dict(results)})


class Recorder:
    """What the runner writes in the transaction of each build: the node's new Record."""

    def __init__(self, prefix: str, run_id: str, records: Mapping[str, Record], pending: Mapping[str, Record],
                 tested: set[str] = frozenset(), clock: datetime | None = None,
                 carried: Mapping[str, Sequence[exp.Expression]] | None = None) -> None:
        self.prefix, self.run_id, self.clock = prefix, run_id, clock  # clock: a fixed time (tests), else now
        self.carried = carried or {}  # key -> updates of downstream records its build carries (not rebuilt)
        self.records = dict(records)  # what the state said when the run began
        self.pending = pending  # key -> the Record to write when it is built (fingerprint, inputs)
        self.tested = tested  # marts whose tests run after the build: recorded as `testing` until they pass

    def version(self, key: str) -> str:
        return f"{self.run_id}:{key}"

    def row(self, key: str, rows: int | None, seconds: float) -> dict | None:
        """The state row of a build (None: the node is not recorded)."""
        base = self.pending.get(key)
        if base is None:
            return None
        return {**base.__dict__, "inputs": base.inputs, "version": self.version(key), "built_at": now(self.clock),
                "row_count": rows, "seconds": round(seconds, 4), "run_id": self.run_id,
                "status": TESTING if key in self.tested else OK}

    def built(self, key: str, rows: int | None, seconds: float) -> list[exp.Expression]:
        row = self.row(key, rows, seconds)
        if row is None:
            return []
        if key in self.records:  # read under the run lock: the row is there, one UPDATE replaces it (not DELETE + INSERT)
            changed = update(self.prefix, "marts", "key", key, {c: v for c, v in row.items() if c != "key"})
            return [changed, *self.carried.get(key, ())]
        return upsert(self.prefix, "marts", "key", row) + list(self.carried.get(key, ()))

    def built_together(self, rows: Sequence[dict]) -> list[exp.Expression]:
        """The records of several builds committed in one transaction (see engine/batch.py): one DELETE,
        one INSERT, and the updates their builds carry."""
        if not rows:
            return []
        return [*write_rows(self.prefix, "marts", "key", rows), *(s for r in rows for s in self.carried.get(r["key"], ()))]

    def tests_status(self, key: str, passed: bool) -> str | None:
        """The status a tested build's record takes once its tests ran (None: not recorded as tested)."""
        if key not in self.tested or key not in self.pending:
            return None
        return OK if passed else TESTS_FAILED

    def tests_done(self, key: str, passed: bool) -> list[exp.Expression]:
        status = self.tests_status(key, passed)
        return [update(self.prefix, "marts", "key", key, {"status": status})] if status else []


def source_version(adapter: "Adapter", schema: str, table: str, loaded_at: str) -> str:
    """The data version of a source that declares `loaded_at: column`: its max and the row count."""
    column = exp.column(exp.to_identifier(loaded_at))
    query = exp.select(exp.cast(exp.Max(this=column), "TEXT"), exp.Count(this=exp.Star())).from_(ddl.table((schema, table)))
    newest, rows = adapter.query(query.sql(adapter.dialect)).rows[0]
    return f"max {loaded_at} = {newest}, {rows} rows"
