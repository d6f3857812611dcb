"""A generic DAG kernel: it knows nothing of marts."""

from __future__ import annotations

from graphlib import CycleError as _GraphlibCycle
from graphlib import TopologicalSorter
from typing import Generic, Hashable, Iterable, Mapping, TypeVar

T = TypeVar("T", bound=Hashable)


class Graph(Generic[T]):
    """Nodes and their upstream edges; ordered iteration follows insertion."""

    def __init__(self, upstream: Mapping[T, Iterable[T]]):
        self._up: dict[T, tuple[T, ...]] = {n: tuple(dict.fromkeys(deps)) for n, deps in upstream.items()}
        for deps in list(self._up.values()):
            for dep in deps:
                self._up.setdefault(dep, ())
        self._down: dict[T, list[T]] = {n: [] for n in self._up}
        self._order: list[T] | None = None  # topological_order, once asked (a Graph does not change)
        for node, deps in self._up.items():
            for dep in deps:
                self._down[dep].append(node)

    def __contains__(self, node) -> bool:
        return node in self._up

    def __iter__(self):
        return iter(self._up)

    def __len__(self) -> int:
        return len(self._up)

    @property
    def nodes(self) -> list[T]:
        return list(self._up)

    def parents(self, node: T) -> tuple[T, ...]:
        return self._up[node]

    def children(self, node: T) -> tuple[T, ...]:
        return tuple(self._down[node])

    def _walk(self, starts: Iterable[T], step, depth: int | None) -> set[T]:
        seen: set[T] = set()
        frontier = [n for n in starts if n in self._up]
        level = 0
        while frontier and (depth is None or level < depth):
            level += 1
            nxt = []
            for node in frontier:
                for other in step(node):
                    if other not in seen:
                        seen.add(other)
                        nxt.append(other)
            frontier = nxt
        return seen

    def upstream(self, nodes: Iterable[T] | T, depth: int | None = None) -> set[T]:
        """All ancestors (not the nodes themselves), up to `depth` edges away."""
        return self._walk(self._starts(nodes), self.parents, depth)

    def downstream(self, nodes: Iterable[T] | T, depth: int | None = None) -> set[T]:
        return self._walk(self._starts(nodes), self.children, depth)

    def _starts(self, nodes) -> list[T]:
        if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
            return [nodes]
        return list(nodes)

    def subgraph(self, nodes: Iterable[T]) -> "Graph[T]":
        keep = set(nodes)
        return Graph({n: [d for d in self._up[n] if d in keep] for n in self._up if n in keep})

    def find_cycle(self) -> list[T] | None:
        """A cycle as a path that ends where it starts, or None."""
        try:
            TopologicalSorter(self._up).prepare()
        except _GraphlibCycle as exc:
            cycle = list(exc.args[1])  # graphlib gives [a, b, ..., a] walking upstream edges
            return cycle[::-1]
        return None

    def topological_order(self) -> list[T]:
        """Upstream first; ties keep insertion order so output is stable (computed once: a run asks
        several times, and 1,000 nodes take a few milliseconds each time)."""
        if self._order is None:
            self._order = self._sorted()
        return list(self._order)

    def _sorted(self) -> list[T]:
        order = {n: i for i, n in enumerate(self._up)}
        sorter = TopologicalSorter(self._up)
        sorter.prepare()
        result: list[T] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=order.__getitem__)
            result.extend(ready)
            sorter.done(*ready)
        return result

    def levels(self) -> dict[T, int]:
        """Distance from the roots: 0 for nodes with no upstream."""
        level: dict[T, int] = {}
        for node in self.topological_order():
            level[node] = 1 + max((level[p] for p in self._up[node]), default=-1)
        return level
