"""How a source tells that its data changed (`data_version:`) and what a stale one does to its readers
(`on_stale:`), read from config.yaml: the project's default, the source's, the table's."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from martctl.project.yamlfile import key_line

ON_STALE = ("skip", "warn", "build")  # a mart over a source past error_after: skipped | built with a warning | built


def on_stale(spec: Mapping, inherited: str, file: Path, what: str, out) -> str:
    """The spec's `on_stale:` (checked), else what it inherits."""
    value = spec.get("on_stale")
    if value is None:
        return inherited
    if value not in ON_STALE:
        out.add(f"{what}: on_stale must be one of {', '.join(ON_STALE)}, not '{value}'", file, key_line(spec, "on_stale"),
                hint="skip: its readers are skipped (the default); warn: built, with a warning; build: built")
        return inherited
    return value


def data_version(spec: Mapping, inherited: str | None, dialect: str, file: Path, what: str, out) -> str | None:
    """The spec's `data_version:` query (one SELECT, checked with sqlglot), else what it inherits."""
    text = spec.get("data_version")
    if text is None:
        return inherited
    line = key_line(spec, "data_version")
    hint = "a cheap query whose result changes when the data does: select max(id), count(*) from this"
    if not isinstance(text, str):
        out.add(f"{what}: data_version must be a SQL query (text)", file, line, hint=hint)
        return inherited
    import sqlglot
    from sqlglot import exp

    try:
        trees = [t for t in sqlglot.parse(text, read=dialect) if t is not None]
    except sqlglot.errors.ParseError as exc:
        out.add(f"{what}: data_version is not valid SQL: {str(exc).splitlines()[0]}", file, line, hint=hint)
        return inherited
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        out.add(f"{what}: data_version must be one SELECT", file, line, hint=hint)
        return inherited
    return text
