"""Reading a mart's `tests:` and `unit_tests:` from YAML into TestSpec and UnitTest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from martctl.errors import did_you_mean
from martctl.project.model import SEVERITIES, TestSpec, UnitTest
from martctl.project.textfile import UnreadableFile, read_text
from martctl.project.yamlcheck import Collector, describe
from martctl.project.yamlfile import key_line

UNIT_TEST_KEYS = {"name": str, "given": dict, "expect": list}
TEST_KINDS = ("not_null", "unique", "accepted_values", "relationships", "expression", "row_count", "freshness", "sql")
TEST_OPTIONS = {"severity", "where", "warn_if", "error_if", "name"}
# the argument a test takes when written as `kind: value` instead of `kind: {...}`
TEST_PRIMARY_ARG = {
    "unique": "columns",
    "accepted_values": "values",
    "relationships": "to",
    "expression": "expression",
    "freshness": "max_age",
    "sql": "sql",
    "row_count": "min",
}
TEST_ARGS = {
    "not_null": set(),
    "unique": {"columns"},
    "accepted_values": {"values", "quote"},
    "relationships": {"to", "field"},
    "expression": {"expression"},
    "row_count": {"min", "max"},
    "freshness": {"max_age", "column"},
    "sql": {"sql", "sql_file"},
}


def load_tests(raw, path: Path, column: str | None, out: Collector, mart_level: bool):
    if not isinstance(raw, list):
        out.add("'tests' must be a list", path, getattr(raw, "line", None))
        return
    for index, item in enumerate(raw):
        line = raw.lines[index] if hasattr(raw, "lines") else None
        if isinstance(item, str):
            kind, value = item, None
        elif isinstance(item, dict) and len(item) == 1:
            kind, value = next(iter(item.items()))
        else:
            out.add("a test is a name (not_null) or one mapping (unique: [a, b])", path, line)
            continue
        if kind not in TEST_KINDS:
            out.add(
                f"unknown test kind '{kind}'",
                path,
                line,
                hint=did_you_mean(kind, TEST_KINDS) or f"kinds: {', '.join(TEST_KINDS)}",
            )
            continue
        options: dict[str, Any] = {}
        args: dict[str, Any] = {}
        if isinstance(value, dict):
            for key, arg in value.items():
                if key in TEST_OPTIONS:
                    options[key] = arg
                elif key in TEST_ARGS[kind]:
                    args[key] = arg
                else:
                    allowed = TEST_ARGS[kind] | TEST_OPTIONS
                    out.add(f"unknown option '{key}' for test '{kind}'", path, key_line(value, key),
                            hint=did_you_mean(key, allowed) or f"allowed: {', '.join(sorted(allowed))}")
        elif value is not None:
            args[TEST_PRIMARY_ARG.get(kind, "value")] = value
        spec = _test_spec(kind, args, options, column, path, line, mart_level, out)
        if spec:
            yield spec


class _Invalid(Exception):
    """A test spec that cannot be used: the message (and hint) for the Collector."""

    def __init__(self, message: str, hint: str | None = None, problem=None):
        super().__init__(message)
        self.message, self.hint, self.problem = message, hint, problem  # problem: one that names its own file


REQUIRED_ARG = {"accepted_values": "values", "relationships": "to", "expression": "expression", "freshness": "max_age"}
STRING_ARGS = ("sql", "sql_file", "expression", "where")


def _test_spec(kind, args, options, column, path, line, mart_level, out: Collector) -> TestSpec | None:
    """A TestSpec from one parsed `tests:` item, or None after reporting why it cannot be one."""
    severity = options.get("severity", "error")
    try:
        if severity not in SEVERITIES:
            raise _Invalid(f"severity must be error or warn, got {severity!r}")
        for check in (_check_unique, _check_placement, _check_required, _check_types):
            check(kind, args, options, column)
        if kind == "sql" and args.get("sql_file"):
            args["sql"] = _read_test_sql(path, args["sql_file"], line, out)
    except _Invalid as exc:
        if exc.problem is not None:
            out.problems.append(exc.problem)
        else:
            out.add(exc.message, path, line, hint=exc.hint)
        return None
    for key in ("warn_if", "error_if"):
        if key in options:
            options[key] = str(options[key])
    return TestSpec(kind=kind, args=args, column=column, severity=severity, where=options.get("where"),
                    warn_if=options.get("warn_if"), error_if=options.get("error_if"), name=options.get("name"),
                    file=path, line=line)


def _check_unique(kind, args, options, column) -> None:
    """unique: its columns (the column it sits under, or a list), normalised to a tuple."""
    if kind != "unique":
        return
    cols = args.get("columns", [column] if column else [])
    cols = [cols] if isinstance(cols, str) else cols
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise _Invalid(f"'unique' takes column names, got {describe(cols)}", hint="unique: [a, b] or unique: a")
    args["columns"] = tuple(cols)
    if not args["columns"]:
        raise _Invalid("a mart-level 'unique' test needs its columns: unique: [a, b]")


def _check_placement(kind, args, options, column) -> None:
    """Column tests sit under a column (or name it with column:); not_null may take columns: at mart level."""
    if kind not in ("not_null", "accepted_values", "freshness") or column or args.get("column"):
        return
    if kind == "not_null" and args.get("columns"):
        return
    raise _Invalid(f"test '{kind}' belongs under a column (or give column:)")


def _check_required(kind, args, options, column) -> None:
    if kind in REQUIRED_ARG and args.get(REQUIRED_ARG[kind]) in (None, "", []):
        raise _Invalid(f"test '{kind}' needs '{REQUIRED_ARG[kind]}'")
    if kind == "sql" and not (args.get("sql") or args.get("sql_file")):
        raise _Invalid("a custom 'sql' test needs sql: (a query returning the failing rows) or sql_file:")


def _check_types(kind, args, options, column) -> None:
    if kind == "accepted_values" and not isinstance(args["values"], list):
        raise _Invalid(f"accepted_values takes a list, got {describe(args['values'])}",
                       hint="accepted_values: [a, b] or accepted_values: {values: [a, b]}")
    for key in STRING_ARGS:
        if key in args or key in options:
            value = args.get(key, options.get(key))
            if not isinstance(value, str):
                raise _Invalid(f"'{key}' of test '{kind}' must be a string, got {describe(value)}")
    if kind == "row_count" and not isinstance(args.get("min", 0), int):
        raise _Invalid("row_count takes {min: N, max: M}")


def _read_test_sql(path: Path, sql_file: str, line, out: Collector) -> str:
    """A custom test's SQL file, which must lie inside the project (symlinks followed)."""
    sql_path = path.parent / sql_file
    outside = out.folder and out.folder.problem(sql_path, f"test sql_file '{sql_file}'", path, line)
    if outside:
        raise _Invalid(outside.message, problem=outside)
    if not sql_path.is_file():
        raise _Invalid(f"test sql_file '{sql_file}' not found", hint=f"looked for {sql_path}")
    try:
        return read_text(sql_path)
    except UnreadableFile as exc:
        raise _Invalid(exc.problem.message, problem=exc.problem) from None


def load_unit_tests(raw, path: Path, out: Collector):
    if not isinstance(raw, list):
        out.add("'unit_tests' must be a list", path, getattr(raw, "line", None))
        return
    for index, item in enumerate(raw):
        line = raw.lines[index]
        if not out.check_mapping(item, UNIT_TEST_KEYS, path, "unit test"):
            continue
        given = item.get("given") or {}
        expect = item.get("expect")
        if expect is None:
            out.add("a unit test needs 'expect:' (the rows the mart must return)", path, line)
            continue
        bad = [k for k, rows in given.items() if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows)]
        if bad:
            out.add(f"unit test input '{bad[0]}' must be a list of rows", path, key_line(given, bad[0]),
                    hint="rows are mappings: - {id: 1, name: x}")
            continue
        if not isinstance(expect, list) or not all(isinstance(r, dict) for r in expect):
            out.add("a unit test's 'expect' must be a list of rows", path, key_line(item, "expect"),
                    hint="rows are mappings: - {id: 1, name: x}")
            continue
        yield UnitTest(
            name=str(item.get("name") or f"unit_{index + 1}"),
            given={str(k): tuple(dict(r) for r in rows) for k, rows in given.items()},
            expect=tuple(dict(r) for r in expect),
            file=path,
            line=line,
        )
