"""A parsed mart (its tree, or only its upstream when it comes from the plan cache) and the project's graph of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sqlglot import exp

from martctl.compiler.graph import Graph
from martctl.compiler.nodes import Nodes
from martctl.project.model import Mart, Project


class ParsedMart:
    """A mart's parsed SQL and the marts and sources it reads.

    From the plan cache only the upstream lists are known; the tree (and the reference maps,
    keyed by id of its Table nodes) is parsed on first use."""

    def __init__(self, mart: Mart, nodes: Nodes | None = None, upstream: tuple | None = None, parse=None):
        self.mart = mart
        self._nodes = nodes
        self._tree = nodes.tree if nodes is not None else None
        self._marts: dict[int, str] = {}
        self._sources: dict[int, str] = {}
        self._upstream = upstream  # (mart keys, source keys) when known without the tree
        self._parse = parse  # () -> ParsedMart, for a cached entry
        self.refs: set[tuple[str, str, str, str]] = set()  # (db, name) as written -> (kind, key), once parsed

    def _ensure(self) -> None:
        if self._nodes is None:
            fresh = self._parse()
            self._nodes, self._tree, self._marts, self._sources = fresh._nodes, fresh._tree, fresh._marts, fresh._sources

    @property
    def tree(self) -> exp.Query:  # vars substituted, references still as written
        self._ensure()
        return self._tree

    @property
    def nodes(self) -> Nodes:  # the tree's nodes, walked once
        self._ensure()
        return self._nodes

    @property
    def marts(self) -> dict[int, str]:  # id(Table node) -> mart key
        self._ensure()
        return self._marts

    @property
    def sources(self) -> dict[int, str]:  # id(Table node) -> source key
        self._ensure()
        return self._sources

    @property
    def upstream_marts(self) -> tuple[str, ...]:
        if self._upstream is not None:
            return tuple(self._upstream[0])
        return tuple(dict.fromkeys(self.marts.values()))

    @property
    def upstream_sources(self) -> tuple[str, ...]:
        if self._upstream is not None:
            return tuple(self._upstream[1])
        return tuple(dict.fromkeys(self.sources.values()))


@dataclass
class ProjectGraph:
    """The project plus its parsed marts and the mart-to-mart graph."""

    project: Project
    graph: Graph[str]
    parsed: dict[str, ParsedMart]
    vars: Mapping[str, Any]
    plan: dict | None = None  # the plan cache document (read once), when a target/ folder holds it
    target_dir: Path | None = None
    precompiled: dict = field(default_factory=dict)  # mart key -> compiled entry a forked child made (prefill.py)
    precompiled_for: tuple | None = None  # the compile settings those entries are valid for

    def mart(self, key: str) -> Mart:
        return self.project.marts[key]
