"""A parsed tree's nodes, walked once: parsing, resolving, compiling and fingerprinting a mart
each look for its tables, CTEs, vars or identifiers, and every find_all walks the whole tree."""

from __future__ import annotations

from sqlglot import exp


class Nodes:
    """The nodes of `tree` in the order find_all yields them (breadth first). It stays true while
    the tree keeps its shape: the in-place changes martctl undoes (renamed_tables, canonical_sql)
    keep it; after replacing nodes (substitute_vars), walk again."""

    __slots__ = ("tree", "_all")

    def __init__(self, tree: exp.Expression) -> None:
        self.tree = tree
        self._all = list(tree.walk())

    def find_all(self, *types: type) -> list:
        return [node for node in self._all if isinstance(node, types)]

    def find(self, *types: type):
        return next((node for node in self._all if isinstance(node, types)), None)
