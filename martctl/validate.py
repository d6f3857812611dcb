"""`martctl validate`: load the whole project and gather every problem, not only the first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from .errors import Problem, ProjectError
from .loader import load_project, missing_env_problems
from .project import Project

# Later checks plug in here: each takes the compiled project and returns problems.
EXTRA_CHECKS: list[Callable] = []


def validate_project(project_dir: str | Path = ".", target: str | None = None, dialect: str | None = None) -> tuple[Project | None, list[Problem]]:
    from .compile import compile_project
    from .resolve import build_graph

    problems: list[Problem] = []
    project = load_project(project_dir, problems=problems)
    try:
        chosen = project.target(target)
    except ProjectError as exc:
        return project, problems + exc.problems
    problems += missing_env_problems(project, chosen)
    try:
        graph = build_graph(project)
    except ProjectError as exc:
        broken = {p for p in problems if p.file is not None}
        return project, problems + [p for p in exc.problems if p not in broken]
    try:
        compiled = compile_project(graph, dialect=dialect, target=None if dialect else chosen)
    except ProjectError as exc:
        return project, problems + exc.problems
    for check in EXTRA_CHECKS:
        problems += check(compiled)
    problems += [replace(Problem(w), severity="warn") for w in compiled.warnings]
    return project, problems
