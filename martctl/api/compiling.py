"""Compiling for a target: the flow build, run, test, compile -t and validate -t share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from martctl.project.model import Project, Target

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledProject
    from martctl.compiler.resolve import ProjectGraph
    from martctl.engine.adapters.base import Adapter


def compile_for_target(graph: "ProjectGraph", keys: Iterable[str] | None, target: Target | None, *,
                       dialect: str | None = None, strict: bool = True, adapter: "Adapter | None" = None,
                       types: bool = False) -> "CompiledProject":
    """Compile `keys` (all marts: None) for `target` (or `dialect`), the one flow every command shares:
    sources that declare no columns and feed a transpiled mart are first typed from the target's catalog."""
    from martctl.compiler.compile import compile_project

    project = graph.project
    catalog: dict = {}
    wanted = list(project.marts) if keys is None else list(keys)
    if target is not None and needs_catalog(project, graph, wanted, target.dialect):
        from martctl.engine.catalog import catalog_types

        catalog = catalog_types(project, target, adapter)
    return compile_project(graph, dialect=dialect, target=target, select=keys, strict=strict,
                           source_columns=catalog, types=types)


def needs_catalog(project: Project, graph: "ProjectGraph", keys: Iterable[str], dialect: str) -> bool:
    """A mart transpiled from another dialect reads (itself or through its ancestors, which are typed
    too) a source whose columns nobody declared."""
    wanted = set(keys)
    cross = [k for k in wanted if project.marts[k].dialect != dialect]
    if not cross:
        return False
    typed = set(cross) | graph.graph.upstream(set(cross))
    return any(not project.sources[s].columns
               for k in typed if k in graph.parsed for s in graph.parsed[k].upstream_sources)


def later_run_statements(item) -> list[str]:
    """The statements a later (not full-refresh) run of an incremental mart executes, as the target
    will run them (delete/insert, the cursor's filter); [] for other marts."""
    if item.mart.materialized != "incremental":
        return []
    import sqlglot

    from martctl.engine import ddl

    tree = sqlglot.parse_one(item.sql, read=item.dialect)  # a tree: every dialect's generator can rewrite it
    return ddl.render(ddl.incremental_statements(item, dict(item.columns), tree), item.dialect)
