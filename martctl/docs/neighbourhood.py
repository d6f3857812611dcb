"""What a picture shows, chosen so it stays readable at 1,000 marts: a mart's neighbourhood (a few
hops up and down, capped), the areas of a big project, a mart's columns with their inputs and readers."""

from __future__ import annotations

from typing import Any, Mapping

DEPTH = 2  # hops up and down around a mart
MAX_TABLES = 40  # nearest first; the rest are counted, not drawn
UP_HOPS, DOWN_HOPS = 3, 2  # tables up and down a column picture follows
MAX_BOXES = 30  # tables drawn in a column picture


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
    """(relation, role, columns) boxes for a mart's column picture and the column edges input -> reader:
    every column of the mart, what they come from (UP_HOPS tables up, down to the sources within
    reach) and what reads them (DOWN_HOPS tables down), at most MAX_BOXES tables, nearest first."""
    mart = site["marts"][key]
    wanted: dict[str, list[str]] = {key: [c["name"] for c in mart["columns"]]}
    distance = {key: 0}
    edges: list[tuple[str, str]] = []

    def columns_of(relation: str) -> dict[str, dict]:
        item = _item(site, relation) or {}
        return {c["name"]: c for c in item.get("columns", ())}

    for direction, field, hops in (("up", "from", UP_HOPS), ("down", "to", DOWN_HOPS)):
        frontier = [f"{key}.{c}" for c in wanted[key]]
        for level in range(1, hops + 1):
            nxt = []
            for ident in frontier:
                relation, _, name = ident.rpartition(".")
                for ref in columns_of(relation).get(name, {}).get(field, ()):
                    other, _, other_name = ref.rpartition(".")
                    if other not in distance:
                        if len(distance) >= MAX_BOXES or not _item(site, other):
                            continue
                        distance[other] = level
                    cols = wanted.setdefault(other, [])
                    edges.append((ref, ident) if direction == "up" else (ident, ref))
                    if other_name not in cols:
                        cols.append(other_name)
                        nxt.append(ref)
            frontier = nxt
    order = {n: i for i, n in enumerate(c["name"] for c in mart["columns"])}
    boxes = []
    for relation in sorted(wanted, key=lambda r: (distance[r], r)):
        known = list(columns_of(relation))
        cols = sorted(wanted[relation], key=lambda c: known.index(c) if c in known else order.get(c, 0))
        role = "mart" if relation == key else ("reader" if _reads_from(site, relation, key) else "input")
        boxes.append((relation, role, cols))
    return boxes, list(dict.fromkeys(edges))


def _reads_from(site: Mapping[str, Any], relation: str, key: str) -> bool:
    """`relation` is downstream of mart `key`."""
    seen, todo = set(), [key]
    while todo:
        for down in (_item(site, todo.pop()) or {}).get("downstream", ()):
            if down == relation:
                return True
            if down not in seen:
                seen.add(down)
                todo.append(down)
    return False
