"""Vars given on the command line or by a caller, checked against the project's."""

from __future__ import annotations

from typing import Any, Iterable

from martctl.compiler.sql import parse_literal
from martctl.errors import ProjectError, did_you_mean
from martctl.project.model import Project
from martctl.project.yamlfile import PlainLoader


def parse_vars(items: Iterable[str] | None) -> dict[str, Any]:
    """--vars key=value (repeatable) or a YAML mapping '{key: value, other: 2}'."""
    import yaml

    values: dict[str, Any] = {}
    for item in items or []:
        text = item.strip()
        if text.startswith("{"):
            try:
                loaded = yaml.load(text, Loader=PlainLoader)  # safe_load, with the alias-bomb limit
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


def var_warnings(project: Project, values: dict[str, Any]) -> list[str]:
    """A warning for each var the project does not declare (a typo would otherwise pass silently)."""
    warnings = []
    for key in values:
        if key not in project.vars:
            hint = did_you_mean(key, project.vars)
            warnings.append(f"--vars {key}: not declared in config.yaml vars" + (f" ({hint})" if hint else ""))
    return warnings
