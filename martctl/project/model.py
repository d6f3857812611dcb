"""The in-memory model of a project: frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

MATERIALIZATIONS = ("view", "table", "incremental")
SEVERITIES = ("error", "warn")


@dataclass(frozen=True)
class TestSpec:
    """One data test on a mart (column-level when `column` is set)."""

    kind: str
    args: Mapping[str, Any] = field(default_factory=dict)
    column: str | None = None
    severity: str = "error"
    where: str | None = None
    warn_if: str | None = None
    error_if: str | None = None
    name: str | None = None
    file: Path | None = None
    line: int | None = None

    def display_name(self, mart_key: str) -> str:
        if self.name:
            return self.name
        parts = [self.kind, mart_key]
        if self.column:
            parts.append(self.column)
        elif self.kind == "unique":
            parts.append("_".join(self.args.get("columns", ())))
        return "__".join(parts)


@dataclass(frozen=True)
class UnitTest:
    """Given rows for a mart's inputs, the rows expected out."""

    name: str
    given: Mapping[str, tuple[Mapping[str, Any], ...]]
    expect: tuple[Mapping[str, Any], ...]
    file: Path | None = None
    line: int | None = None


@dataclass(frozen=True)
class Column:
    name: str
    description: str = ""
    type: str | None = None
    tests: tuple[TestSpec, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class Mart:
    """A table or view that answers one business question."""

    name: str
    area: str
    sql: str
    file: Path
    line: int = 1
    sql_file: Path | None = None
    sql_line: int = 1  # line of the SQL's first line in its file
    dialect: str = "duckdb"
    materialized: str = "table"
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    columns: Mapping[str, Column] = field(default_factory=dict)
    tests: tuple[TestSpec, ...] = ()
    unit_tests: tuple[UnitTest, ...] = ()
    incremental: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()  # the columns that identify a row (declared; see key_columns)
    primary_key_line: int | None = None
    schedule: str | None = None  # cron or @daily...: its own, its area's or the project's (None: on change only)

    @property
    def key(self) -> str:
        return f"{self.area}.{self.name}"

    @property
    def sql_path(self) -> Path:
        return self.sql_file or self.file

    def key_columns(self) -> tuple[str, ...]:
        """The columns that identify a row: the declared primary_key, else the first unique test's
        (one without a `where:`, which would make it unique over some rows only)."""
        if self.primary_key:
            return self.primary_key
        for test in self.all_tests():
            if test.kind == "unique" and not test.where:
                return tuple(test.args.get("columns") or ())
        return ()

    def all_tests(self) -> tuple[TestSpec, ...]:
        column_tests = tuple(t for c in self.columns.values() for t in c.tests)
        return column_tests + self.tests


@dataclass(frozen=True)
class SourceTable:
    name: str
    schema: str  # physical schema in the warehouse
    source: str  # the name marts use: source.table
    columns: Mapping[str, str | None] = field(default_factory=dict)  # name -> type
    seed: Path | None = None  # CSV loaded into this table by `martctl seed`
    column_types: Mapping[str, str] = field(default_factory=dict)  # seed overrides
    description: str = ""
    loaded_at: str | None = None  # a column whose max (with the row count) tells that its data changed
    freshness: Mapping[str, Any] = field(default_factory=dict)  # loaded_at, warn_after / error_after (seconds)
    on_stale: str = "skip"  # past error_after, its readers are: skipped | built with a warning (warn) | built (build)
    data_version: str | None = None  # a query whose result changes when its data does (`this`: the table)

    @property
    def key(self) -> str:
        return f"{self.source}.{self.name}"


@dataclass(frozen=True)
class Target:
    name: str
    type: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    threads: int = 4
    secrets: tuple[str, ...] = ()  # expanded ${ENV} values, masked in output
    file: Path | None = None  # where it is declared (config.yaml) ...
    lines: Mapping[str, int] = field(default_factory=dict)  # ... and the line of each setting ("": the target)

    @property
    def dialect(self) -> str:
        return self.settings.get("dialect") or TARGET_DIALECTS.get(self.type, self.type)

    def where(self, setting: str = "") -> tuple[Path | None, int | None]:
        """(file, line) of one of its settings, or of the target itself."""
        return self.file, self.lines.get(setting) or self.lines.get("")


TARGET_DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    dialect: str
    config_file: Path
    targets: Mapping[str, Target]
    default_target: str
    marts: Mapping[str, Mart]  # key "area.name"
    sources: Mapping[str, SourceTable]  # key "source.table"
    vars: Mapping[str, Any] = field(default_factory=dict)
    seed_schema: str = "raw"

    def target(self, name: str | None = None) -> Target:
        from martctl.errors import ProjectError

        name = name or self.default_target
        if name not in self.targets:
            from difflib import get_close_matches

            close = get_close_matches(name, list(self.targets), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"targets: {', '.join(self.targets) or 'none'}"
            raise ProjectError(f"unknown target '{name}'", self.config_file, hint=hint)
        return self.targets[name]

    @property
    def seeds(self) -> tuple[SourceTable, ...]:
        return tuple(s for s in self.sources.values() if s.seed is not None)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for t in self.targets.values() for s in t.secrets)
