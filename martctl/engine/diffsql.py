"""The queries of a data diff, built as sqlglot ASTs once and rendered in the target's dialect.

Two relations, `o` (old) and `n` (new). Every query returns aggregates or a few sample rows;
no table is ever fetched whole. A column is compared by value when both sides hold it with the
same type (or both a number), else by its text (a retyped column: 1 and '1' are equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from sqlglot import exp

OLD, NEW = "o", "n"
_TYPE = exp.DataType.Type
_KINDS = (("number", exp.DataType.NUMERIC_TYPES - {_TYPE.BIT}), ("text", exp.DataType.TEXT_TYPES),
          ("time", exp.DataType.TEMPORAL_TYPES | {_TYPE.INTERVAL}), ("bool", {_TYPE.BOOLEAN}))


@lru_cache(maxsize=None)
def kind_of(type_text: str) -> str:
    """number, text, time, bool or other (lists, structs, json...: only their nulls are summarised), as
    sqlglot reads the catalog's type name."""
    try:
        parsed = exp.DataType.build(type_text, dialect="duckdb")
    except Exception:  # a name sqlglot does not know (Postgres's USER-DEFINED...): nothing to order or add
        return "other"
    return next((kind for kind, types in _KINDS if parsed.is_type(*types)), "other")


@dataclass(frozen=True)
class Compared:
    """A column both sides hold, and how its values are compared."""

    name: str
    old_type: str
    new_type: str

    @property
    def as_text(self) -> bool:
        kinds = {kind_of(self.old_type), kind_of(self.new_type)}
        if kinds == {"number"}:
            return False
        return self.old_type.lower() != self.new_type.lower() or kinds == {"other"}

    def side(self, alias: str | None) -> exp.Expression:
        column = _col(self.name, alias)
        return exp.cast(column, "TEXT") if self.as_text else column

    def differs(self) -> exp.Expression:
        """old IS DISTINCT FROM new (NULL against a value counts, NULL against NULL does not)."""
        return exp.NullSafeNEQ(this=self.side(OLD), expression=self.side(NEW))


def relation(schema: str, name: str, alias: str | None = None) -> exp.Table:
    return exp.table_(name, db=schema, quoted=True, alias=exp.to_identifier(alias) if alias else None)


def _count_if(condition: exp.Expression) -> exp.Expression:
    """count(CASE WHEN condition THEN 1 END): portable, and 0 (not NULL) on no rows."""
    return exp.func("count", exp.Case().when(condition, exp.Literal.number(1)))


def _col(name: str, alias: str | None = None) -> exp.Column:
    return exp.column(name, table=alias, quoted=True)


def _all(conditions: Sequence[exp.Expression]) -> exp.Expression:
    return exp.and_(*conditions) if conditions else exp.true()


def _any(conditions: Sequence[exp.Expression]) -> exp.Expression:
    return exp.or_(*conditions) if conditions else exp.false()


def key_present(key: Sequence[str]) -> exp.Expression:
    return _all([_col(k).is_(exp.null()).not_() for k in key])


def side_stats(schema: str, name: str, columns: dict[str, str], key: Sequence[str], summaries: bool) -> exp.Select:
    """One scan of one side: count(*), rows whose key has a NULL, then per column (with `summaries`)
    nulls, distinct, min, max, sum, avg as its kind allows (see `stat_names`; a one-column key's
    distinct is not counted here: the keyed pass tells it)."""
    items: list[exp.Expression] = [exp.func("count", exp.Star())]
    if key:
        items.append(_count_if(_any([_col(k).is_(exp.null()) for k in key])))
    for column, type_text in columns.items() if summaries else ():
        items += [_stat(stat, _col(column)) for stat in stat_names(type_text, tuple(key) == (column,))]
    return exp.select(*items).from_(relation(schema, name))


def key_distinct(schema: str, name: str, key: Sequence[str]) -> exp.Select:
    """How many distinct keys without a NULL one side holds (only asked when keys repeat or hold NULLs)."""
    return exp.select(_distinct_keys(key, None, key_present(key))).from_(relation(schema, name))


def _distinct_keys(key: Sequence[str], alias: str | None, where: exp.Expression) -> exp.Expression:
    value = _col(key[0], alias) if len(key) == 1 else exp.Tuple(expressions=[_col(k, alias) for k in key])
    return exp.func("count", exp.Distinct(expressions=[exp.Case().when(where, value)]))


def stat_names(type_text: str, is_key: bool = False) -> list[str]:
    kind = kind_of(type_text)
    names = ["nulls"]
    if kind != "other" and not is_key:
        names.append("distinct")
    if kind in ("number", "text", "time"):
        names += ["min", "max"]
    if kind == "number":
        names += ["sum", "avg"]
    return names


def _stat(stat: str, column: exp.Column) -> exp.Expression:
    if stat == "nulls":
        return exp.Sub(this=exp.func("count", exp.Star()), expression=exp.func("count", column))
    if stat == "distinct":
        return exp.func("count", exp.Distinct(expressions=[column]))
    return exp.func(stat, column)


def _joined(old: tuple[str, str], new: tuple[str, str], key: Sequence[Compared], kind: str) -> exp.Select:
    on = _all([exp.EQ(this=k.side(OLD), expression=k.side(NEW)) for k in key])
    return exp.select().from_(relation(*old, OLD)).join(relation(*new, NEW), on=on, join_type=kind)


def keyed_counts(old: tuple[str, str], new: tuple[str, str], key: Sequence[Compared],
                 values: Sequence[Compared]) -> exp.Select:
    """One FULL OUTER JOIN pass by key: rows only in new, only in old, changed, matched pairs, distinct
    keys among the rows only in new and only in old (repeats show there, or as pairs that outnumber
    a side's rows), then per value column how many matched rows changed it. Keys hold no NULL
    (checked before), so a NULL key in the join is a row missing on that side."""
    only_new = _col(key[0].name, OLD).is_(exp.null())
    only_old = _col(key[0].name, NEW).is_(exp.null())
    both = exp.and_(only_new.not_(), only_old.not_())
    names = [k.name for k in key]
    items = [_count_if(only_new), _count_if(only_old),
             _count_if(exp.and_(both, exp.paren(_any([v.differs() for v in values])))), _count_if(both),
             _distinct_keys(names, NEW, only_new), _distinct_keys(names, OLD, only_old)]
    items += [_count_if(exp.and_(both, v.differs())) for v in values]
    return _joined(old, new, key, "full outer").select(*items)


def changed_sample(old: tuple[str, str], new: tuple[str, str], key: Sequence[Compared],
                   values: Sequence[Compared], limit: int) -> exp.Select:
    """A few changed rows, lowest keys first: the key, then per value column old, new, and whether it changed."""
    items: list[exp.Expression] = [_col(k.name, NEW) for k in key]
    for value in values:
        items += [_col(value.name, OLD), _col(value.name, NEW), value.differs()]
    return (_joined(old, new, key, "inner").select(*items)
            .where(_any([v.differs() for v in values]))
            .order_by(*[_col(k.name, NEW) for k in key]).limit(limit))


def multiset_missing(left: tuple[str, str], right: tuple[str, str], columns: Sequence[Compared]) -> exp.Select:
    """How many rows of `left` have no equal row in `right`, counting repeats (EXCEPT ALL)."""
    def rows(schema_name: tuple[str, str]) -> exp.Select:
        items = [c.side(None).as_(f"c{i}", quoted=True) for i, c in enumerate(columns)] or [exp.Literal.number(1).as_("c0")]
        return exp.select(*items).from_(relation(*schema_name))

    missing = exp.Except(this=rows(left), expression=rows(right), distinct=False)
    return exp.select(exp.func("count", exp.Star())).from_(exp.Subquery(this=missing, alias=exp.TableAlias(this=exp.to_identifier("d"))))
