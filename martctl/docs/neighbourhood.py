"""What a picture shows, chosen so it stays readable at 1,000 marts: a mart's neighbourhood (a few
hops up and down, capped), the areas of a big project, a mart's columns with their inputs and readers."""

from __future__ import annotations

from typing import Any, Mapping

DEPTH = 2  # hops up and down around a mart
MAX_TABLES = 40  # nearest first; the rest are counted, not drawn
MAX_READERS = 25  # reader tables drawn in a column picture


def _item(site: Mapping[str, Any], key: str) -> dict | None:
    return site["marts"].get(key) or site["sources"].get(key)


def table_neighbourhood(site: Mapping[str, Any], key: str) -> tuple[dict, list, int]:
    """Nodes within DEPTH hops of `key` (nearest first, at most MAX_TABLES), the edges among them,
    and how many were left out."""
    distance = {key: 0}
    for direction in ("upstream", "downstream"):
        frontier = [key]
        for level in range(1, DEPTH + 1):
            nxt = []
            for node in frontier:
                for other in (_item(site, node) or {}).get(direction, ()):
                    if other not in distance and _item(site, other):
                        distance[other] = level
                        nxt.append(other)
            frontier = nxt
    ordered = sorted(distance, key=lambda k: (distance[k], k))
    kept = ordered[:MAX_TABLES]
    nodes = {k: _item(site, k) for k in kept}
    edges = [(u, k) for k in kept if k in site["marts"] for u in site["marts"][k]["upstream"] if u in nodes]
    return nodes, edges, len(ordered) - len(kept)


def area_graph(site: Mapping[str, Any]) -> tuple[dict, list, dict]:
    """Areas as nodes (with how many tables each holds) and which areas read which."""
    sizes: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for item in list(site["sources"].values()) + list(site["marts"].values()):
        sizes[item["area"]] = sizes.get(item["area"], 0) + 1
        kinds[item["area"]] = "source" if item["kind"] != "mart" else "mart"
    reads: dict[str, set[str]] = {}
    for mart in site["marts"].values():
        for up in mart["upstream"]:
            other = _item(site, up)
            if other and other["area"] != mart["area"]:
                reads.setdefault(mart["area"], set()).add(other["area"])
    nodes = {f"{a}": {"kind": kinds[a], "description": f"{sizes[a]} tables", "status": ""} for a in sorted(sizes)}
    edges = sorted((b, a) for a, bs in reads.items() for b in bs)
    return nodes, edges, reads


def column_boxes(site: Mapping[str, Any], key: str) -> tuple[list, list]:
    """(relation, role, columns) boxes for a mart's column picture, and the column edges input -> reader."""
    mart = site["marts"][key]
    inputs: dict[str, list[str]] = {}
    readers: dict[str, list[str]] = {}
    edges = []
    for column in mart["columns"]:
        ident = f"{key}.{column['name']}"
        for ref in column["from"]:
            relation, _, name = ref.rpartition(".")
            inputs.setdefault(relation, [])
            if name not in inputs[relation]:
                inputs[relation].append(name)
            edges.append((ref, ident))
        for ref in column["to"]:
            relation, _, name = ref.rpartition(".")
            if relation not in readers and len(readers) >= MAX_READERS:
                continue
            readers.setdefault(relation, [])
            if name not in readers[relation]:
                readers[relation].append(name)
            edges.append((ident, ref))
    boxes = [(r, "input", cols) for r, cols in sorted(inputs.items())]
    boxes.append((key, "mart", [c["name"] for c in mart["columns"]]))
    boxes += [(r, "reader", cols) for r, cols in sorted(readers.items())]
    return boxes, edges
