"""The steps every command starts with: load, pick the target, build the graph, select."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from martctl.compiler.resolve import ProjectGraph, build_graph
from martctl.compiler.select import select
from martctl.compiler.sql import parse_literal
from martctl.errors import ProjectError
from martctl.project.loader import did_you_mean, load_project, missing_env_problems
from martctl.project.model import Project, Target
from martctl.project.yamlfile import PlainLoader


@dataclass
class Context:
    project: Project
    target: Target
    graph: ProjectGraph
    selected: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def target_dir(self) -> Path:
        return self.project.root / "target"


def parse_vars(items: Iterable[str] | None) -> dict[str, Any]:
    """--vars key=value (repeatable) or a YAML mapping '{key: value, other: 2}'."""
    import yaml

    values: dict[str, Any] = {}
    for item in items or []:
        text = item.strip()
        if text.startswith("{"):
            try:
                loaded = yaml.load(text, Loader=PlainLoader)
            except yaml.YAMLError as exc:
                raise ProjectError(f"--vars: not a YAML mapping: {exc}", hint="--vars key=value or --vars '{key: value}'") from None
            if not isinstance(loaded, dict):
                raise ProjectError("--vars: expected a mapping", hint="--vars '{key: value}'")
            values.update({str(k): v for k, v in loaded.items()})
            continue
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ProjectError(f"--vars: cannot read '{item}'", hint="write --vars key=value")
        values[key.strip()] = parse_literal(value)
    return values


def open_project(
    project_dir: str | Path = ".",
    target: str | None = None,
    selectors: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    vars: Iterable[str] | dict | None = None,
    need_target: bool = True,
) -> Context:
    project = load_project(project_dir)
    chosen = project.target(target)
    if need_target:
        problems = missing_env_problems(project, chosen)
        if problems:
            raise ProjectError(problems)
    overrides = vars if isinstance(vars, dict) else parse_vars(vars)
    unknown = [k for k in overrides if k not in project.vars]
    warnings = [
        f"--vars {k}: not declared in config.yaml vars" + (f" ({did_you_mean(k, project.vars)})" if did_you_mean(k, project.vars) else "")
        for k in unknown
    ]
    graph = build_graph(project, overrides, project.root / "target")
    keys, select_warnings = select(project, graph.graph, selectors, exclude)
    return Context(project, chosen, graph, keys, warnings + select_warnings)
