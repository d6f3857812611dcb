"""`martctl debug`: is everything in place? The config, the target and its connection, the
dependencies and their versions, each as a check that passed or says what to fix (like dbt debug)."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REQUIRED = ("sqlglot", "duckdb", "pyyaml", "typer", "rich")
DRIVERS = {"postgres": "psycopg", "spark": "pyspark"}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str | None = None


@dataclass
class DebugReport:
    checks: list[Check] = field(default_factory=list)
    versions: dict[str, str | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "versions": self.versions, "checks": [c.__dict__ for c in self.checks]}


def version_of(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def run_checks(project_dir: str | Path, target: str | None, open_workspace, validate) -> DebugReport:
    """Every check runs, whatever failed before it; nothing is written to the warehouse.
    `open_workspace` and `validate` are the API's (passed in: this module sits below workspace.py)."""
    from martctl import __version__

    report = DebugReport()
    report.versions = {"martctl": __version__, "python": platform.python_version(),
                       **{p: version_of(p) for p in REQUIRED + tuple(DRIVERS.values())}}
    add = report.checks.append
    for package in REQUIRED:
        found = report.versions[package]
        add(Check(f"dependency {package}", found is not None, found or "not installed", None if found else f"pip install {package}"))
    ws = _open(project_dir, target, add, open_workspace)
    if ws is None:
        return report
    add(_validates(ws, validate))
    driver = DRIVERS.get(ws.target.type)
    if driver:
        found = version_of(driver)
        add(Check(f"driver {driver}", found is not None, found or "not installed",
                  None if found else f"pip install 'martctl[{ws.target.type}]'"))
    add(_connection(ws))
    return report


def _open(project_dir, target, add, open_workspace):
    from martctl.errors import ProjectError
    from martctl.project.loader import missing_env_problems

    try:
        ws = open_workspace(project_dir, target)
    except ProjectError as exc:
        first = exc.problems[0] if exc.problems else None
        add(Check("config", False, str(exc).splitlines()[0], first.hint if first else None))
        return None
    add(Check("config", True, f"{ws.project.config_file} (project {ws.project.name}, {len(ws.project.marts)} marts, "
                              f"{len(ws.project.sources)} sources)"))
    problems = missing_env_problems(ws.project, ws.target)
    detail = f"{ws.target.name}: type {ws.target.type}, dialect {ws.target.dialect}, threads {ws.target.threads}"
    add(Check("target", not problems, detail if not problems else f"{detail}; {problems[0].message}",
              problems[0].hint if problems else None))
    return None if problems else ws


def _validates(ws, validate) -> Check:
    result = validate(ws.root, ws.target.name)
    if result.ok:
        return Check("project", True, f"valid ({len(result.problems)} warnings)")
    first = result.errors[0]
    return Check("project", False, f"{len(result.errors)} errors, first: {first.where()}: {first.message}",
                 "martctl validate lists them all")


def _connection(ws) -> Check:
    from martctl.engine.adapters.base import get_adapter

    adapter = get_adapter(ws.target, ws.root)
    try:
        adapter.require_existing()
        adapter.connect()
        try:
            value = adapter.query("select 1").rows[0][0]
        finally:
            adapter.close()
    except Exception as exc:  # noqa: BLE001 - the check reports it
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = getattr(exc, "problems", None) and exc.problems[0].hint
        return Check("connection", False, message, hint or None)
    return Check("connection", value == 1, f"connected to target '{ws.target.name}' ({ws.target.type}), select 1 answered")
