"""martctl: build, test and explain SQL data marts.

The public API (the CLI is a thin skin over it):

    project = load_project("path/to/project")
    graph = build_graph(project)
    keys, warnings = select(project, graph.graph, ["+campaign_performance"])
    compiled = compile_project(graph, dialect="postgres", select=keys)
"""

__version__ = "0.1.0"

__all__ = ["__version__", "load_project", "build_graph", "select", "compile_project"]


def __getattr__(name):  # lazy, so `martctl --help` does not import sqlglot
    if name == "load_project":
        from martctl.project.loader import load_project

        return load_project
    if name == "build_graph":
        from martctl.compiler.resolve import build_graph

        return build_graph
    if name == "select":
        from martctl.compiler.select import select

        return select
    if name == "compile_project":
        from martctl.compiler.compile import compile_project

        return compile_project
    raise AttributeError(name)
