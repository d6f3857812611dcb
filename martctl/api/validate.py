"""`martctl validate`: load the whole project and gather every problem, not only the first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from martctl.errors import Problem, ProjectError
from martctl.project.loader import load_project, missing_env_problems
from martctl.project.model import Project


def validate_project(project_dir: str | Path = ".", target: str | None = None, dialect: str | None = None) -> tuple[Project | None, list[Problem]]:
    from martctl.compiler.compile import compile_project
    from martctl.compiler.resolve import build_graph

    problems: list[Problem] = []
    project = load_project(project_dir, problems=problems)
    from martctl.project.seedfile import seed_problems

    problems += [p for seed in project.seeds for p in seed_problems(seed, project.config_file)]
    if dialect:
        from martctl.project.loader import dialect_problems

        bad_dialect = dialect_problems(dialect)
        if bad_dialect:
            return project, problems + bad_dialect
    try:
        chosen = project.target(target)
        problems += missing_env_problems(project, chosen)
    except ProjectError as exc:  # report it and go on checking the marts against the default target
        problems += exc.problems
        chosen = project.target() if project.default_target in project.targets else None
    try:
        graph = build_graph(project)
    except ProjectError as exc:
        return project, problems + [p for p in exc.problems if not _about_broken_mart(p, project, problems)]
    try:
        if target and not dialect:  # validate -t: typed from the target's catalog like build would
            from martctl.api.compiling import compile_for_target

            compiled = compile_for_target(graph, None, chosen)
        else:
            compiled = compile_project(graph, dialect=dialect, target=None if dialect else chosen)
    except ProjectError as exc:
        return project, problems + exc.problems
    from martctl.quality.checks import test_problems

    problems += test_problems(compiled)
    problems += [replace(Problem(w), severity="warn") for w in compiled.warnings]
    return project, problems


def _about_broken_mart(problem: Problem, project: Project, load_problems: list[Problem]) -> bool:
    """A reference to a mart whose own file failed to load is reported once, at that file."""
    if not problem.ref or "." not in problem.ref:
        return False
    area, name = problem.ref.split(".", 1)
    folder = (project.root / "marts" / area).resolve()
    broken = {Path(p.file).resolve() for p in load_problems if p.file}
    return any((folder / f"{name}{suffix}") in broken for suffix in (".yml", ".yaml", ".sql"))
