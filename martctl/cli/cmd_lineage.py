"""martctl lineage: table lineage of marts, column lineage of a column, impact of a column."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from martctl.cli.options import Exclude, ProjectDir, Select, TargetOpt, Vars

FORMATS = ("tree", "json", "mermaid", "dot")


def lineage(
    names: Annotated[Optional[List[str]], typer.Argument(metavar="NAME", 
        help="area.mart (or a selector: +name, tag:x …) for table lineage; area.mart.column or source.table.column "
             "for column lineage.", show_default=False)] = None,
    upstream: Annotated[bool, typer.Option("--upstream", help="Only what it reads from.")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Only what reads it (for a column: its impact).")] = False,
    depth: Annotated[Optional[int], typer.Option("--depth", min=1, metavar="N", help="At most N marts away.")] = None,
    impact: Annotated[Optional[str], typer.Option("--impact", metavar="COLUMN", help="Every mart column that depends on this column "
                                                  "(source.table.column or area.mart.column).", show_default=False)] = None,
    output: Annotated[str, typer.Option("--format", "-f", metavar="tree|json|mermaid|dot", help="tree, json, mermaid or dot.")] = "tree",
    project_dir: ProjectDir = Path("."),
    select: Select = None,
    exclude: Exclude = None,
    target: TargetOpt = None,
    vars: Vars = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute instead of reading target/lineage.json.")] = False,
) -> None:
    """Where a mart or column comes from, and what depends on it."""
    import martctl

    if output not in FORMATS:
        from martctl.errors import did_you_mean

        raise martctl.ProjectError(f"--format: unknown format '{output}'", hint=did_you_mean(output, FORMATS) or f"one of {', '.join(FORMATS)}")
    ws = martctl.open(project_dir, target, vars)
    question = ws.lineage_question(list(names or []), upstream=upstream, downstream=downstream, depth=depth,
                                   impact=impact, select=select, exclude=exclude, use_cache=not no_cache,
                                   any_table=output != "tree")
    _emit(question.graph, output, _column_tree if question.kind == "column" else _table_trees)


def _emit(graph: dict, output: str, tree_renderer) -> None:
    from martctl.cli import render

    if output == "json":
        render.print_json(graph)
    elif output in ("mermaid", "dot"):
        import sys

        from martctl.api import to_dot, to_mermaid

        sys.stdout.write((to_mermaid if output == "mermaid" else to_dot)(graph))
    else:
        for tree in tree_renderer(graph):
            render.out().print(tree, soft_wrap=False)  # wrap long expressions, never cut them


# --- rich trees -------------------------------------------------------------------------------------

_KIND_STYLE = {"mart": "bold", "source": "green", "seed": "green", "cte": "cyan", "subquery": "cyan", "union": "cyan",
               "unresolved": "red"}


def _esc(text) -> str:
    from rich.markup import escape

    return escape(str(text))


def _table_label(key: str, node: dict, root: bool = False) -> str:
    style = "bold underline" if root else _KIND_STYLE.get(node["kind"], "")
    facts = [node.get("materialized") or node["kind"]]
    if node.get("owner"):
        facts.append(f"owner {node['owner']}")
    if node.get("tags"):
        facts.append("tags " + ", ".join(node["tags"]))
    return f"[{style}]{_esc(key)}[/{style}]  [dim]{_esc(' · '.join(facts))}[/dim]"


def _table_trees(graph: dict):
    from rich.tree import Tree

    ups: dict[str, list[str]] = {}
    downs: dict[str, list[str]] = {}
    for edge in graph["edges"]:
        ups.setdefault(edge["to"], []).append(edge["from"])
        downs.setdefault(edge["from"], []).append(edge["to"])
    nodes = graph["nodes"]
    for root in graph["roots"]:
        tree = Tree(_table_label(root, nodes[root], root=True))
        for title, links, wanted in (("upstream", ups, ("both", "upstream")), ("downstream", downs, ("both", "downstream"))):
            if graph["direction"] not in wanted:
                continue
            branch = tree.add(f"[dim]{title}[/dim]")
            if not links.get(root):
                branch.add("[dim](none)[/dim]")
            _grow(branch, root, links, nodes, set(), graph.get("depth"), 0)
        yield tree


def _grow(branch, key: str, links: dict, nodes: dict, seen: set, depth, level: int) -> None:
    if depth is not None and level >= depth:
        return
    for other in sorted(links.get(key, ())):
        if other in seen and links.get(other):
            branch.add(_table_label(other, nodes[other]) + "  [dim](see above)[/dim]")
            continue
        seen.add(other)
        _grow(branch.add(_table_label(other, nodes[other])), other, links, nodes, seen, depth, level + 1)


def _column_label(node_id: str, node: dict) -> str:
    kind = node["kind"]
    style = _KIND_STYLE.get(kind, "")
    if kind == "unresolved":
        return f"[red]? origin unknown[/red] [dim]({_esc(node['relation'])})[/dim]: {_esc(node.get('reason'))}"
    if kind in ("cte", "subquery", "union"):
        name = f"{kind} {node.get('scope') or ''}".strip() + (f".{node['column']}" if node.get("column") else "")
        text = f"[{style}]{_esc(name)}[/{style}]"
    else:
        text = f"[{style}]{_esc(node_id)}[/{style}]"
    if kind == "source":
        text += "  [dim]source column[/dim]"
    if node.get("expression"):
        text += f"  [yellow]= {_esc(node['expression'])}[/yellow]"
    if node.get("truncated"):
        text += "  [dim](deeper: raise --depth)[/dim]"
    return text


def _column_tree(graph: dict):
    from rich.text import Text
    from rich.tree import Tree

    links: dict[str, list[str]] = {}
    upstream = graph["direction"] == "upstream"
    for edge in graph["edges"]:
        a, b = (edge["to"], edge["from"]) if upstream else (edge["from"], edge["to"])
        links.setdefault(a, []).append(b)
    nodes = graph["nodes"]
    root = graph["root"]
    tree = Tree(_column_label(root, nodes[root]))
    seen: set[str] = set()

    def grow(branch, node_id: str) -> None:
        for other in sorted(links.get(node_id, ())):
            if other in seen and links.get(other):
                branch.add(_column_label(other, nodes[other]) + "  [dim](see above)[/dim]")
                continue
            seen.add(other)
            grow(branch.add(_column_label(other, nodes[other])), other)

    grow(tree, root)
    yield tree
    if upstream:
        sources = graph["sources"]
        summary = f"{len(sources)} source column{'s' if len(sources) != 1 else ''}" + (f": {', '.join(sources)}" if sources else "")
        if graph["unresolved"]:
            summary += f"; {len(graph['unresolved'])} of unknown origin"
        if not sources and not graph["unresolved"]:
            summary += " (a constant or count(*): it reads no column)"
        if any(n.get("truncated") for n in nodes.values()):
            summary += " within --depth"
    else:
        marts = graph["marts"]
        count = len(graph["dependents"])
        summary = (f"{count} mart column{'s' if count != 1 else ''} in {len(marts)} mart{'s' if len(marts) != 1 else ''} "
                   f"depend on {root}")
    yield Text(summary, style="dim")


def register(app: typer.Typer) -> None:
    app.command()(lineage)
