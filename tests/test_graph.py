"""The generic graph kernel: hypothesis properties over random DAGs (and cycles)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from martctl.compiler.graph import Graph


@st.composite
def dags(draw, max_nodes: int = 25):
    """A random DAG: node i may only read nodes with a smaller number, in shuffled insertion order."""
    n = draw(st.integers(1, max_nodes))
    upstream = {i: sorted(draw(st.sets(st.integers(0, i - 1), max_size=4))) if i else [] for i in range(n)}
    order = draw(st.permutations(range(n)))
    return {i: upstream[i] for i in order}


def closure(upstream: dict, node) -> set:
    seen, stack = set(), list(upstream[node])
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(upstream[current])
    return seen


@given(dags())
def test_topological_order_puts_parents_first(upstream):
    graph = Graph(upstream)
    order = graph.topological_order()
    assert sorted(order) == sorted(upstream)
    position = {n: i for i, n in enumerate(order)}
    for node, parents in upstream.items():
        assert all(position[p] < position[node] for p in parents)
    assert graph.find_cycle() is None
    assert order == Graph(upstream).topological_order()  # deterministic
    order.reverse()  # the caller's copy: the graph keeps its own (it computes the order once)
    assert graph.topological_order() == Graph(upstream).topological_order()


@given(dags())
def test_upstream_and_downstream_are_transitive_and_mirror_each_other(upstream):
    graph = Graph(upstream)
    for node in upstream:
        assert graph.upstream(node) == closure(upstream, node)
        assert graph.upstream(node, 1) == set(upstream[node])
        for other in upstream:
            assert (other in graph.upstream(node)) == (node in graph.downstream(other))


@given(dags(), st.integers(1, 4))
def test_depth_limits_the_walk(upstream, depth):
    graph = Graph(upstream)
    levels = graph.levels()
    for node in upstream:
        limited = graph.upstream(node, depth)
        assert limited <= graph.upstream(node)
        # every ancestor within `depth` edges along some path is included
        frontier, reach = {node}, set()
        for _ in range(depth):
            frontier = {p for f in frontier for p in upstream[f]}
            reach |= frontier
        assert limited == reach
        assert all(levels[p] < levels[node] for p in upstream[node])


@given(dags(), st.data())
def test_subgraph_keeps_only_edges_inside(upstream, data):
    keep = data.draw(st.sets(st.sampled_from(sorted(upstream))))
    sub = Graph(upstream).subgraph(keep)
    assert set(sub.nodes) == keep
    for node in keep:
        assert set(sub.parents(node)) == {p for p in upstream[node] if p in keep}


@settings(max_examples=200)
@given(dags(max_nodes=15), st.data())
def test_a_back_edge_makes_a_cycle_whose_path_is_real(upstream, data):
    nodes = sorted(upstream)
    if len(nodes) < 2:
        return
    low = data.draw(st.sampled_from(nodes[:-1]))
    high = data.draw(st.sampled_from([n for n in nodes if n > low]))
    cyclic = {n: list(p) for n, p in upstream.items()}
    cyclic[high] = sorted(set(cyclic[high]) | {low})
    cyclic[low] = sorted(set(cyclic[low]) | {high})  # low now reads high, which reads low
    cycle = Graph(cyclic).find_cycle()
    assert cycle is not None and cycle[0] == cycle[-1] and len(cycle) >= 3
    for reader, read in zip(cycle, cycle[1:]):  # each node reads the next one
        assert read in cyclic[reader]
    assert len(set(cycle[:-1])) == len(cycle) - 1  # a simple cycle


def test_self_loop_and_unknown_parents():
    assert Graph({"a": ["a"]}).find_cycle() == ["a", "a"]
    graph = Graph({"b": ["a"]})  # a parent never declared becomes a node
    assert graph.nodes == ["b", "a"] and graph.topological_order() == ["a", "b"]
    assert graph.children("a") == ("b",) and graph.upstream("b") == {"a"} and "a" in graph and len(graph) == 2
