"""The public API: open a project once, then validate, ls, compile, seed, run, build, test, lineage,
docs, show, diff, debug.

Everything the CLI uses comes from here (the CLI only parses options and renders). Names are
imported on first use, so `martctl --help` stays fast.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "Workspace": "martctl.api.workspace",
    "open": "martctl.api.workspace",
    "validate": "martctl.api.workspace",
    "Validation": "martctl.api.workspace",
    "MartInfo": "martctl.api.results",
    "TestReport": "martctl.api.results",
    "TestFinished": "martctl.api.results",
    "Warned": "martctl.api.results",
    "LockWaiting": "martctl.api.results",
    "parse_vars": "martctl.api.vars",
    "debug": "martctl.api.workspace",
    "DebugReport": "martctl.api.debug",
    "DocsSite": "martctl.api.docs",
    "Preview": "martctl.api.docs",
    "DiffReport": "martctl.api.diff",
    "MartDiff": "martctl.api.diff",
    "relation_in_env": "martctl.api.diff",
    "later_run_statements": "martctl.api.compiling",
    "Stop": "martctl.engine.execute",
    "Step": "martctl.engine.execute",
    "Event": "martctl.engine.events",
    "RunStarted": "martctl.engine.events",
    "NodeStarted": "martctl.engine.events",
    "NodeFinished": "martctl.engine.events",
    "RunFinished": "martctl.engine.events",
    "NodeResult": "martctl.engine.events",
    "RunReport": "martctl.engine.events",
    "SUCCESS": "martctl.engine.events",
    "ERROR": "martctl.engine.events",
    "SKIPPED": "martctl.engine.events",
    "CANCELLED": "martctl.engine.events",
    "UP_TO_DATE": "martctl.engine.events",
    "BuildPlan": "martctl.api.due",
    "Repointed": "martctl.api.promote",
    "Change": "martctl.api.promote",
    "Collected": "martctl.api.gc",
    "relation_in": "martctl.api.environments",
    "CANNOT_TELL": "martctl.api.sourceversion",
    "iso": "martctl.engine.events",
    "describe_lock_holder": "martctl.engine.lock",
    "CompiledProject": "martctl.compiler.compile",
    "TestResult": "martctl.quality.results",
    "from_dict": "martctl.quality.results",
    "summary": "martctl.quality.results",
    "write_junit": "martctl.quality.junit",
    "ProjectLineage": "martctl.lineage.trace",
    "to_dot": "martctl.lineage.export",
    "to_mermaid": "martctl.lineage.export",
    "init_project": "martctl.project.scaffold",
    "dialect_problems": "martctl.project.loader",
    "mask": "martctl.project.envvars",
}
_RENAMED = {"describe_lock_holder": "describe"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'martctl.api' has no attribute '{name}'")
    value = getattr(import_module(_EXPORTS[name]), _RENAMED.get(name, name))
    globals()[name] = value
    return value
