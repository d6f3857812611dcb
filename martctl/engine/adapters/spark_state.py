"""martctl's state on Spark: plain Parquet tables have no DELETE or UPDATE, so each state table
(`martctl_state.marts`, `.runs`) is an append-only log `<table>__log` (every column, plus a
sequence number and a deleted flag) behind a view `<table>` that shows the newest row per key.

The state's statements (martctl/engine/state.py builds them for any engine) are rewritten here:
CREATE TABLE -> the log and its view; ALTER TABLE ADD column -> on the log, view recreated;
DELETE WHERE key = v -> a tombstone row (skipped when an INSERT of the same table follows: an
upsert); INSERT -> appended with the next sequence number; UPDATE SET ... WHERE key = v -> the
current row, changed, appended. One appended row is one Parquet file moved into place by the
job's commit, so a kill leaves the row written or not, never half.
"""

from __future__ import annotations

import time
from typing import Iterable

from sqlglot import exp

from martctl.engine import ddl
from martctl.engine.state import SCHEMA

SEQ, DELETED = "__martctl_seq", "__martctl_deleted"
LOG_SUFFIX = "__log"


def is_state(node: exp.Expression) -> bool:
    """A statement on one of the state's tables (schema <prefix>martctl_state, or an environment's
    <prefix>martctl_state__<env>)."""
    target = node.this.this if isinstance(node.this, exp.Schema) else node.this
    return isinstance(target, exp.Table) and SCHEMA in target.db and not target.name.endswith(LOG_SUFFIX)


def _relation(node: exp.Expression) -> tuple[str, str]:
    target = node.this.this if isinstance(node.this, exp.Schema) else node.this
    return target.db, target.name


def log_of(relation: tuple[str, str]) -> tuple[str, str]:
    return relation[0], relation[1] + LOG_SUFFIX


def latest_view(relation: tuple[str, str], key: str, columns: list[str]) -> exp.Create:
    """CREATE OR REPLACE VIEW <table> AS the newest row per key, deleted keys left out."""
    newest = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(key)],
                        order=exp.Order(expressions=[exp.Ordered(this=exp.column(SEQ), desc=True)]))
    inner = ddl.select_columns(log_of(relation), [*columns, DELETED]).select(exp.alias_(newest, "__martctl_rank"))
    query = (exp.select(*[exp.column(c) for c in columns]).from_(inner.subquery("__martctl_log"))
             .where(exp.and_(exp.column("__martctl_rank").eq(1), exp.not_(exp.column(DELETED)))))
    return ddl.create_view(relation, query)


class StateLog:
    """Rewrites the state's statements into appends on the logs (see the module's docstring)."""

    def __init__(self, columns_of):
        self.columns_of = columns_of  # (schema, table) -> {column: type} or None
        self._last = 0

    def _seq(self) -> int:
        self._last = max(self._last + 1, time.time_ns())
        return self._last

    def rewrite(self, statements: list[exp.Expression]) -> Iterable[exp.Expression]:
        for index, node in enumerate(statements):
            following = statements[index + 1] if index + 1 < len(statements) else None
            if isinstance(node, exp.Create) and node.kind == "TABLE":
                yield from self._create(node)
            elif isinstance(node, exp.Alter):
                yield from self._alter(node)
            elif isinstance(node, exp.Delete):
                upsert = isinstance(following, exp.Insert) and _relation(following) == _relation(node)
                if not upsert:
                    yield self._tombstone(node)
            elif isinstance(node, exp.Insert):
                yield self._append(node)
            elif isinstance(node, exp.Update):
                yield self._update(node)
            else:
                yield node

    def _create(self, node: exp.Create) -> Iterable[exp.Expression]:
        relation = _relation(node)
        defs = [d.copy() for d in node.this.expressions]
        defs += [exp.ColumnDef(this=exp.to_identifier(SEQ), kind=exp.DataType.build("BIGINT")),
                 exp.ColumnDef(this=exp.to_identifier(DELETED), kind=exp.DataType.build("BOOLEAN"))]
        yield exp.Create(this=exp.Schema(this=ddl.table(log_of(relation)), expressions=defs), kind="TABLE", exists=True,
                         properties=exp.Properties(expressions=[exp.FileFormatProperty(this=exp.var("PARQUET"))]))
        columns = [d.name for d in node.this.expressions]
        yield latest_view(relation, columns[0], columns)

    def _alter(self, node: exp.Alter) -> Iterable[exp.Expression]:
        relation = _relation(node)
        yield exp.Alter(this=ddl.table(log_of(relation)), kind="TABLE", actions=[a.copy() for a in node.args["actions"]])
        columns = [c for c in self.columns_of(*log_of(relation)) or {} if c not in (SEQ, DELETED)]
        columns += [a.name for a in node.args["actions"] if a.name not in columns]
        yield latest_view(relation, columns[0], columns)

    def _append_row(self, relation, values: dict[str, exp.Expression], deleted: bool) -> exp.Insert:
        values = {**values, SEQ: exp.Literal.number(self._seq()), DELETED: exp.Boolean(this=deleted)}
        row = exp.Tuple(expressions=list(values.values()))
        return ddl.insert(log_of(relation), exp.Values(expressions=[row]), list(values))

    def _append(self, node: exp.Insert) -> exp.Insert:
        columns = [c.name for c in node.this.expressions]
        row = node.expression.expressions[0].expressions
        return self._append_row(_relation(node), dict(zip(columns, [v.copy() for v in row])), deleted=False)

    def _tombstone(self, node: exp.Delete) -> exp.Insert:
        where = node.args["where"].this
        return self._append_row(_relation(node), {where.this.name: where.expression.copy()}, deleted=True)

    def _update(self, node: exp.Update) -> exp.Insert:
        relation = _relation(node)
        changed = {eq.this.name: eq.expression for eq in node.expressions}
        columns = [c for c in self.columns_of(*relation) or {}]
        picks = [exp.alias_(changed[c].copy(), c) if c in changed else exp.column(c) for c in columns]
        picks += [exp.alias_(exp.Literal.number(self._seq()), SEQ), exp.alias_(exp.false(), DELETED)]
        query = exp.select(*picks).from_(ddl.table(relation)).where(node.args["where"].this.copy())
        return ddl.insert(log_of(relation), query, [*columns, SEQ, DELETED])
