"""martctl: build, test and explain SQL data marts.

The public API (the CLI is a thin skin over it):

    import martctl

    ws = martctl.open("path/to/project", target="pg", vars={"lookback_days": 7})
    report = ws.build(select=["+campaign_performance"], on_event=print)
    tests = ws.test(select=["tag:daily"])
    lineage = ws.lineage()
    problems = martctl.validate("path/to/project").problems

Errors: martctl.ProjectError (bad input; the CLI exits 2), martctl.LockBusy (another run holds
the target; exit 3), martctl.AdapterError (the warehouse failed; exit 1). More names (events,
results) live in martctl.api.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "open", "validate", "debug", "Workspace", "Stop", "ProjectError", "LockBusy", "AdapterError"]

_FROM = {
    "open": "martctl.api.workspace",
    "validate": "martctl.api.workspace",
    "debug": "martctl.api.workspace",
    "Workspace": "martctl.api.workspace",
    "Stop": "martctl.engine.execute",
    "ProjectError": "martctl.errors",
    "LockBusy": "martctl.errors",
    "AdapterError": "martctl.errors",
}


def __getattr__(name):  # lazy, so `martctl --help` does not import sqlglot
    if name not in _FROM:
        raise AttributeError(f"module 'martctl' has no attribute '{name}'")
    from importlib import import_module

    return getattr(import_module(_FROM[name]), name)
