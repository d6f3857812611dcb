"""What changed between two relations of one warehouse, computed by the warehouse.

`diff_relations(adapter, old, new, key)` compares two (schema, name) relations: row counts,
schema changes (from the adapter's `columns`), per-column summaries side by side and, by key,
rows added, removed and changed with per-column change counts and a sample of changed rows.
Without a usable key (none declared, a key column missing on one side, a NULL or a repeated
key on either side) rows are compared as multisets (EXCEPT ALL): added and removed, no per-row
change. Only aggregates and the sample are fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from martctl.engine import diffsql
from martctl.engine.diffsql import Compared
from martctl.errors import ProjectError

if TYPE_CHECKING:
    from martctl.engine.adapters.base import Adapter

Relation = tuple[str, str]


@dataclass
class SchemaChange:
    added: dict[str, str] = field(default_factory=dict)  # column -> type, only in new
    removed: dict[str, str] = field(default_factory=dict)  # only in old
    retyped: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (old type, new type)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed,
                "retyped": {c: {"old": o, "new": n} for c, (o, n) in self.retyped.items()}}


@dataclass
class DataDiff:
    """The comparison of `old` and `new`. `changed` and `column_changes` only exist by key."""

    old: Relation
    new: Relation
    old_rows: int
    new_rows: int
    schema: SchemaChange
    key: tuple[str, ...]
    key_problems: list[str]
    added: int
    removed: int
    changed: int | None = None
    column_changes: dict[str, int] = field(default_factory=dict)
    summaries: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=dict)  # column -> old/new -> stats
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def by_key(self) -> bool:
        return bool(self.key) and not self.key_problems

    @property
    def differs(self) -> bool:
        return self.schema.changed or bool(self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        return {"old": ".".join(self.old), "new": ".".join(self.new), "differs": self.differs,
                "rows": {"old": self.old_rows, "new": self.new_rows},
                "key": list(self.key), "by_key": self.by_key, "key_problems": self.key_problems,
                "added": self.added, "removed": self.removed, "changed": self.changed,
                "schema": self.schema.as_dict(), "column_changes": self.column_changes,
                "summaries": self.summaries, "sample": self.sample}


@dataclass
class _Side:
    relation: Relation
    rows: int
    null_keys: int = 0
    distinct_keys: int = 0  # without a NULL
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)


def diff_relations(adapter: "Adapter", old: Relation, new: Relation, key: Sequence[str] = (), *,
                   sample: int = 5, summaries: bool = True) -> DataDiff:
    """Compare two relations on `adapter` (see the module's docstring); `sample`: at most that many changed rows."""
    old_columns, new_columns = _columns(adapter, old), _columns(adapter, new)
    schema = SchemaChange(
        added={c: t for c, t in new_columns.items() if c not in old_columns},
        removed={c: t for c, t in old_columns.items() if c not in new_columns},
        retyped={c: (old_columns[c], t) for c, t in new_columns.items() if c in old_columns and old_columns[c] != t})
    compared = [Compared(c, old_columns[c], t) for c, t in new_columns.items() if c in old_columns]
    key = tuple(key)
    missing = [k for k in key if k not in old_columns or k not in new_columns]
    usable_key = () if missing else key
    sides = [_side(adapter, old, old_columns, usable_key, summaries), _side(adapter, new, new_columns, usable_key, summaries)]
    result = DataDiff(old, new, sides[0].rows, sides[1].rows, schema, key,
                      [f"key column {k} is not in both relations" for k in missing], 0, 0,
                      summaries=_side_by_side(sides[0].stats, sides[1].stats))
    null_keys = any(side.null_keys for side in sides)
    if usable_key and not null_keys:
        by_name = {c.name: c for c in compared}
        _by_key(adapter, result, [by_name[k] for k in key], [c for c in compared if c.name not in key], sample)
    if usable_key and (null_keys or result.key_problems):
        result.key_problems = _key_problems(adapter, sides, key) or result.key_problems
    if not result.by_key:
        result.added = _scalar(adapter, diffsql.multiset_missing(new, old, compared))
        result.removed = _scalar(adapter, diffsql.multiset_missing(old, new, compared))
    if summaries and len(usable_key) == 1:  # a one-column key's distinct count, known without counting it again
        for side, label in zip(sides, ("old", "new")):
            stats = result.summaries[key[0]][label]
            result.summaries[key[0]][label] = {"nulls": stats["nulls"], "distinct": side.distinct_keys, **stats}
    return result


def row_count(adapter: "Adapter", relation: Relation) -> int:
    return _scalar(adapter, diffsql.side_stats(*relation, {}, (), summaries=False))


def _columns(adapter: "Adapter", relation: Relation) -> dict[str, str]:
    columns = adapter.columns(*relation)
    if columns is None:
        raise ProjectError(f"{relation[0]}.{relation[1]} does not exist", hint="build it first, or check the names")
    return columns


def _side(adapter: "Adapter", relation: Relation, columns: dict[str, str], key: Sequence[str], summaries: bool) -> _Side:
    row = _first(adapter, diffsql.side_stats(*relation, columns, key, summaries))
    side = _Side(relation, rows=int(row[0]))
    values = list(row[1:])
    if key:
        side.null_keys = int(values.pop(0))
    side.distinct_keys = side.rows - side.null_keys  # until a repeat says otherwise (see _key_problems)
    for column, type_text in columns.items() if summaries else ():
        names = diffsql.stat_names(type_text, tuple(key) == (column,))
        side.stats[column] = dict(zip(names, values[:len(names)]))
        del values[:len(names)]
    return side


def _key_problems(adapter: "Adapter", sides: list[_Side], key: Sequence[str]) -> list[str]:
    """NULL or repeated keys on each side, in words, counted exactly (a count by key would be wrong with either)."""
    problems = []
    for side, label in zip(sides, ("the old side", "the new side")):
        side.distinct_keys = _scalar(adapter, diffsql.key_distinct(*side.relation, key))
        if side.null_keys:
            problems.append(f"{side.null_keys} row(s) of {label} have a NULL in the key ({', '.join(key)})")
        repeats = side.rows - side.null_keys - side.distinct_keys
        if repeats:
            problems.append(f"{repeats} row(s) of {label} repeat a key ({', '.join(key)}) another row has")
    return problems


def _side_by_side(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    names = list(new) + [c for c in old if c not in new]
    return {c: {"old": old.get(c), "new": new.get(c)} for c in names}


def _by_key(adapter: "Adapter", result: DataDiff, key: list[Compared], values: list[Compared], sample: int) -> None:
    """The keyed pass; a repeated key (pairs outnumbering a side's rows, or fewer distinct keys than rows
    among the unmatched) leaves the result without a key (the caller counts the repeats and says so)."""
    row = _first(adapter, diffsql.keyed_counts(result.old, result.new, key, values))
    only_new, only_old, changed, pairs, new_keys, old_keys = (int(v) for v in row[:6])
    if pairs + only_old != result.old_rows or pairs + only_new != result.new_rows or (new_keys, old_keys) != (only_new, only_old):
        result.key_problems = [f"keys ({', '.join(result.key)}) repeat"]  # the caller counts the repeats exactly
        return
    result.added, result.removed, result.changed = only_new, only_old, changed
    result.column_changes = {v.name: int(n) for v, n in zip(values, row[6:])}
    if sample > 0 and result.changed:
        query = diffsql.changed_sample(result.old, result.new, key, values, sample)
        for found in adapter.query(query.sql(dialect=adapter.dialect), limit=sample).rows:
            changes, rest = {}, found[len(key):]
            for i, value in enumerate(values):
                was, now, differs = rest[3 * i:3 * i + 3]
                if differs:
                    changes[value.name] = {"old": was, "new": now}
            result.sample.append({"key": dict(zip(result.key, found[:len(key)])), "changes": changes})


def _first(adapter: "Adapter", query) -> tuple:
    return adapter.query(query.sql(dialect=adapter.dialect), limit=1).rows[0]


def _scalar(adapter: "Adapter", query) -> int:
    return int(_first(adapter, query)[0])
