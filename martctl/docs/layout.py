"""A layered (Sugiyama-style) layout of a small DAG, computed in Python: each node's layer is its
longest path from a root (graphlib's order), nodes within a layer are ordered by the mean position
of their parents (a few barycenter sweeps, which uncross most edges), then placed on a grid."""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Placed:
    x: float
    y: float
    layer: int


def layers(nodes: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Nodes grouped by layer (0 = no parents), each layer ordered to keep edges from crossing."""
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in acyclic(nodes, edges):
            parents[b].append(a)
            children[a].append(b)
    depth: dict[str, int] = {}
    for node in TopologicalSorter(parents).static_order():
        depth[node] = 1 + max((depth[p] for p in parents[node]), default=-1)
    grouped: list[list[str]] = [[] for _ in range(1 + max(depth.values(), default=-1))]
    for node in nodes:  # the given order is the first guess
        grouped[depth[node]].append(node)
    for sweep in range(4):
        down = sweep % 2 == 0
        order = range(1, len(grouped)) if down else range(len(grouped) - 2, -1, -1)
        for i in order:
            neighbour = grouped[i - 1] if down else grouped[i + 1]
            position = {n: k for k, n in enumerate(neighbour)}
            linked = parents if down else children
            before = {n: k for k, n in enumerate(grouped[i])}
            grouped[i].sort(key=lambda n: _mean([position[p] for p in linked[n] if p in position], before[n]))
    return grouped


def acyclic(nodes: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges between known nodes, less self-loops and the edges that close a cycle (found by a
    depth-first walk), so that layering is defined (areas may read each other both ways)."""
    known = set(nodes)
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a in known and b in known and a != b and b not in out[a]:
            out[a].append(b)
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    kept = []
    for start in nodes:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(out[start]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                continue  # a back edge: it would close a cycle
            else:
                kept.append((node, child))
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(out[child])))
    return kept


def _mean(values: list[int], default: float) -> float:
    return sum(values) / len(values) if values else default


def place(grouped: list[list[str]], heights: dict[str, float], x_step: float, gap: float) -> dict[str, Placed]:
    """x by layer, y stacked within a layer (each node `heights[n]` tall), every layer centred on the tallest."""
    totals = [sum(heights[n] for n in layer) + gap * max(len(layer) - 1, 0) for layer in grouped]
    tallest = max(totals, default=0)
    placed: dict[str, Placed] = {}
    for i, layer in enumerate(grouped):
        y = (tallest - totals[i]) / 2
        for node in layer:
            placed[node] = Placed(i * x_step, y, i)
            y += heights[node] + gap
    return placed
