"""The rule registry and the small tree builders the rules share."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import sqlglot
from sqlglot import exp

from martctl.compiler.refusals import Refused

Rule = Callable[[exp.Expression], exp.Expression | None]
BY_CLASS: dict[type, list[Rule]] = {}
BY_NAME: dict[str, list[Rule]] = {}

T = exp.DataType.Type
DOUBLE = "DOUBLE PRECISION"
NUMERIC_EXACT = (T.DECIMAL, T.BIGDECIMAL)
INTEGERS = (T.TINYINT, T.SMALLINT, T.INT, T.BIGINT, T.INT128, T.UTINYINT, T.USMALLINT, T.UINT, T.UBIGINT)
FLOATS = (T.DOUBLE, T.FLOAT)
TEXT = (T.VARCHAR, T.TEXT, T.CHAR, T.NVARCHAR, T.NCHAR)


def rule(*keys: type | str):
    """Register a rule for node classes (exp.Round) or unknown function names ('strlen')."""

    def register(fn: Rule) -> Rule:
        for key in keys:
            (BY_NAME.setdefault(key, []) if isinstance(key, str) else BY_CLASS.setdefault(key, [])).append(fn)
        return fn

    return register


def refuse(construct: str, node: exp.Expression, hint: str):
    raise Refused(construct, node, hint)


def is_type(node: exp.Expression | None, *kinds) -> bool:
    kind = getattr(node, "type", None) if isinstance(node, exp.Expression) else None
    return kind is not None and kind.is_type(*kinds)


@lru_cache(maxsize=None)
def _data_type(kind: str) -> exp.DataType:
    return exp.DataType.build(kind, dialect="postgres")  # parses the text: once per type


def data_type(kind: str) -> exp.DataType:
    return _data_type(kind).copy()


def typed(node: exp.Expression, kind: str) -> exp.Expression:
    node.type = data_type(kind)
    return node


def cast(node: exp.Expression, kind: str) -> exp.Cast:
    return typed(exp.Cast(this=node, to=data_type(kind)), kind)


def call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def int_value(node: exp.Expression | None) -> int | None:
    """The value of an integer literal (also -3), else None."""
    if isinstance(node, exp.Neg):
        inner = int_value(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return int(node.this)
        except ValueError:
            return None
    return None


def string_value(node: exp.Expression | None) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


@lru_cache(maxsize=None)
def _template(sql: str) -> exp.Expression:
    tree = sqlglot.parse_one(sql, read="postgres")
    for node in tree.walk():  # positions in the template text are not positions in the user's SQL
        node.meta.pop("line", None), node.meta.pop("col", None), node.meta.pop("start", None), node.meta.pop("end", None)
    return tree


def template(sql: str, **parts: exp.Expression) -> exp.Expression:
    """A Postgres expression from `sql`, each column named _<key> replaced by a copy of parts[key]."""
    tree = _template(sql).copy()
    for column in list(tree.find_all(exp.Column)):
        name = column.name
        if not column.table and name.startswith("_") and name[1:] in parts:
            column.replace(parts[name[1:]].copy())
    return tree


def apply_rules(tree: exp.Expression, rules_of: Callable[[exp.Expression], "list[Rule] | tuple"]) -> exp.Expression:
    """Walk the tree once, children before parents; replace each node by what the first of its
    rules returns (None: no change). A rule may wrap the node in its result."""
    for node in reversed(list(tree.walk())):
        rules = rules_of(node)
        if not rules:
            continue
        parent, key, index = node.parent, node.arg_key, node.index
        for rule in rules:
            new = rule(node)
            if new is None or new is node:
                continue
            if parent is None:
                tree = new
            else:
                parent.set(key, new, index)
            break
    return tree
