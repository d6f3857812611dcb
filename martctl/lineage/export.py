"""Lineage graphs (the dicts of martctl.lineage.trace) as Mermaid and Graphviz DOT text."""

from __future__ import annotations

import json


def _label(node_id: str, node: dict) -> tuple[str, str]:
    """(title, detail) for a node of a table or column graph."""
    kind = node["kind"]
    if kind in ("mart", "source", "seed") and "column" not in node:  # table graph
        detail = " · ".join(p for p in (node.get("materialized") or kind, node.get("owner"), ", ".join(node.get("tags") or ())) if p)
        return node_id, detail
    if kind == "unresolved":
        return "origin unknown", node.get("reason") or ""
    if kind in ("cte", "subquery", "union"):
        title = f"{kind} {node.get('scope') or ''}.{node.get('column') or ''}".replace(" .", " ")
        return title, node.get("expression") or ""
    return node.get("column") or node_id, node.get("expression") or ("source column" if kind == "source" else "")


def _groups(graph: dict) -> dict[str | None, list[str]]:
    """Column graphs are drawn one box per relation; table graphs are flat."""
    groups: dict[str | None, list[str]] = {}
    for node_id, node in graph["nodes"].items():
        group = node.get("relation") if graph["kind"] == "column" else None
        groups.setdefault(group, []).append(node_id)
    return groups


def to_mermaid(graph: dict) -> str:
    ids = {node_id: f"n{i}" for i, node_id in enumerate(graph["nodes"])}
    lines = ["flowchart LR"]

    def node_line(node_id: str, indent: str) -> str:
        title, detail = _label(node_id, graph["nodes"][node_id])
        text = _mermaid_text(title) + (f"<br/>{_mermaid_text(detail)}" if detail else "")
        if graph["nodes"][node_id]["kind"] in ("source", "seed"):
            return f'{indent}{ids[node_id]}[("{text}")]'  # a cylinder
        return f'{indent}{ids[node_id]}["{text}"]'

    for index, (group, members) in enumerate(_groups(graph).items()):
        if group is None:
            lines.extend(node_line(m, "    ") for m in members)
            continue
        lines.append(f'    subgraph g{index}["{_mermaid_text(group)}"]')
        lines.extend(node_line(m, "        ") for m in members)
        lines.append("    end")
    lines.extend(f"    {ids[e['from']]} --> {ids[e['to']]}" for e in graph["edges"])
    root = graph.get("root")
    for key in ([root] if root else graph.get("roots", [])):
        if key in ids:
            lines.append(f"    style {ids[key]} stroke-width:3px")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
            .replace("|", "#124;"))


def to_dot(graph: dict) -> str:
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", fontsize=10];']
    for index, (group, members) in enumerate(_groups(graph).items()):
        indent = "  "
        if group is not None:
            lines.append(f"  subgraph cluster_{index} {{")
            lines.append(f"    label={_dot_text(group)};")
            indent = "    "
        for member in members:
            title, detail = _label(member, graph["nodes"][member])
            shape = ", shape=cylinder" if graph["nodes"][member]["kind"] in ("source", "seed") else ""
            bold = ", penwidth=2" if member == graph.get("root") or member in graph.get("roots", ()) else ""
            label = title + (f"\n{detail}" if detail else "")
            lines.append(f"{indent}{_dot_text(member)} [label={_dot_text(label)}{shape}{bold}];")
        if group is not None:
            lines.append("  }")
    lines.extend(f"  {_dot_text(e['from'])} -> {_dot_text(e['to'])};" for e in graph["edges"])
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a double-quoted string with \" and \n escapes, which DOT reads the same way
