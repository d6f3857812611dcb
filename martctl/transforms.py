"""AST transforms applied before generating SQL for a target dialect.

Where sqlglot's transpiling is wrong for a construct, martctl fixes it here, as a function
over the tree (sqlglot's classes may be compiled, so no subclassing). Each entry:
(source dialect or None for any, target dialect, transform).
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

Transform = Callable[[exp.Expression], exp.Expression]

TRANSFORMS: list[tuple[str | None, str, Transform]] = []


def apply_transforms(tree: exp.Expression, source: str, target: str) -> exp.Expression:
    if source == target:
        return tree
    for read, write, transform in TRANSFORMS:
        if write == target and read in (None, source):
            tree = transform(tree)
    return tree
