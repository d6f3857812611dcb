"""The lineage pictures as SVG, laid out in Python (layout.py): a table graph around a mart (or the
whole project when small) and a mart's column graph. Every node carries data attributes and a text
label; the pages' script adds highlighting and pan/zoom, and the pages list the same facts as text."""

from __future__ import annotations

from html import escape
from typing import Callable, Iterable, Mapping, Sequence

from martctl.docs.layout import layers, place

NODE_W, NODE_H, X_STEP, GAP = 210, 38, 290, 14
BOX_W, HEAD_H, ROW_H, BOX_X_STEP, BOX_GAP = 230, 26, 22, 330, 22


def _clip(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _edge_path(x1: float, y1: float, x2: float, y2: float) -> str:
    mid = (x1 + x2) / 2
    return f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"


def _svg(width: float, height: float, label: str, body: list[str], css_class: str) -> str:
    width, height = max(width, 200), max(height, 60)
    return (f'<svg class="lineage {css_class}" role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="-10 -10 {width + 20:.0f} {height + 20:.0f}" width="{width + 20:.0f}" height="{height + 20:.0f}">'
            f"<title>{escape(label)}</title>" + "".join(body) + "</svg>")


def table_graph(nodes: Mapping[str, dict], edges: Iterable[tuple[str, str]], href: Callable[[str], str | None],
                focus: str | None, label: str) -> str:
    """Marts and sources as linked boxes, inputs on the left, readers on the right; `focus` stands out."""
    edges = [(a, b) for a, b in edges if a in nodes and b in nodes]
    grouped = layers(list(nodes), edges)
    placed = place(grouped, {n: NODE_H for n in nodes}, X_STEP, GAP)
    body = []
    for a, b in edges:
        pa, pb = placed[a], placed[b]
        body.append(f'<path class="edge" data-from="{escape(a)}" data-to="{escape(b)}" '
                    f'd="{_edge_path(pa.x + NODE_W, pa.y + NODE_H / 2, pb.x, pb.y + NODE_H / 2)}"/>')
    for key, info in nodes.items():
        p = placed[key]
        classes = f"node {info.get('kind', 'mart')}" + (" focus" if key == focus else "") + f" status-{info.get('status', '').replace(' ', '-')}"
        area, _, name = key.rpartition(".")
        text = (f'<rect x="{p.x:.0f}" y="{p.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
                f'<text x="{p.x + 8:.0f}" y="{p.y + 16:.0f}" class="name">{escape(_clip(name))}</text>'
                f'<text x="{p.x + 8:.0f}" y="{p.y + 31:.0f}" class="sub">{escape(_clip(area + " · " + info.get("kind", ""), 34))}</text>'
                f"<title>{escape(key)}: {escape(info.get('description') or '')}</title>")
        link = href(key)
        inner = f'<a href="{escape(link)}" aria-label="{escape(key)}">{text}</a>' if link else text
        body.append(f'<g class="{classes}" data-key="{escape(key)}">{inner}</g>')
    width = max((p.x for p in placed.values()), default=0) + NODE_W
    height = max((p.y for p in placed.values()), default=0) + NODE_H
    return _svg(width, height, label, body, "tables")


def column_graph(mart: str, boxes: Sequence[tuple[str, str, list[str]]], edges: Iterable[tuple[str, str]],
                 href: Callable[[str], str | None], label: str) -> str:
    """Boxes of columns laid out in layers, inputs left of their readers: `boxes` are (relation, role,
    columns) with role "input", "mart" or "reader"; `edges` join relation.column ids, input -> reader.
    Each column is a focusable button the page's script highlights with everything upstream and
    downstream of it."""
    height_of = {relation: HEAD_H + ROW_H * max(len(columns), 1) for relation, _, columns in boxes}
    table_edges = {(a.rpartition(".")[0], b.rpartition(".")[0]) for a, b in edges}
    grouped = layers([relation for relation, _, _ in boxes], sorted(table_edges))
    placed = place(grouped, height_of, BOX_X_STEP, BOX_GAP)
    anchor: dict[str, tuple[float, float]] = {}
    nodes = []
    for relation, role, columns in boxes:
        p = placed[relation]
        link = href(relation) if relation != mart else None
        title = escape(_clip(relation, 32))
        head = f'<a href="{escape(link)}">{title}</a>' if link else title
        nodes.append(f'<g class="box {role}" data-relation="{escape(relation)}">'
                     f'<rect x="{p.x:.0f}" y="{p.y:.0f}" width="{BOX_W}" height="{height_of[relation]}" rx="6"/>'
                     f'<text class="head" x="{p.x + 8:.0f}" y="{p.y + 17:.0f}">{head}</text>')
        for i, name in enumerate(columns):
            y = p.y + HEAD_H + i * ROW_H
            ident = f"{relation}.{name}"
            anchor[ident] = (p.x, y + ROW_H / 2)
            nodes.append(f'<g class="col" tabindex="0" role="button" aria-pressed="false" data-id="{escape(ident)}" '
                         f'aria-label="column {escape(ident)}">'
                         f'<rect x="{p.x + 2:.0f}" y="{y:.0f}" width="{BOX_W - 4}" height="{ROW_H}"/>'
                         f'<text x="{p.x + 10:.0f}" y="{y + 15:.0f}">{escape(_clip(name, 30))}</text></g>')
        nodes.append("</g>")
    paths = []
    for a, b in edges:
        if a in anchor and b in anchor:
            (xa, ya), (xb, yb) = anchor[a], anchor[b]
            paths.append(f'<path class="edge" data-from="{escape(a)}" data-to="{escape(b)}" d="{_edge_path(xa + BOX_W, ya, xb, yb)}"/>')
    width = max((p.x for p in placed.values()), default=0) + BOX_W
    height = max((p.y + height_of[r] for r, p in placed.items()), default=0)
    return _svg(width, height, label, paths + nodes, "columns")
