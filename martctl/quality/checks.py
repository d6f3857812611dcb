"""Each data test -> a sqlglot query returning its failing rows, in the target's dialect.

A test reads the physical relation of its compiled mart (narrowed by `where`). The failing-row
count decides the status through dbt-style thresholds: `error_if` / `warn_if` (default `!=0`).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, replace
from typing import Any, Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from martctl.compiler.compile import CompiledMart, CompiledProject
from martctl.compiler.sql import literal, nested_too_deep, rename_tables, substitute_vars, table_references
from martctl.compiler.transforms import apply_transforms
from martctl.errors import Problem, ProjectError, did_you_mean
from martctl.project.model import Mart, TestSpec

PASS, WARN, FAIL, ERROR, SKIPPED = "PASS", "WARN", "FAIL", "ERROR", "SKIPPED"
DEFAULT_THRESHOLD = "!=0"
_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge, "<=": operator.le, "!=": operator.ne, "<>": operator.ne, "==": operator.eq,
    ">": operator.gt, "<": operator.lt, "=": operator.eq,
}
_THRESHOLD = re.compile(r"^\s*(>=|<=|!=|<>|==|>|<|=)\s*(\d+)\s*$")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": ("SECOND", 1), "m": ("MINUTE", 1), "h": ("HOUR", 1), "d": ("DAY", 1), "w": ("DAY", 7)}


@dataclass(frozen=True)
class CompiledTest:
    """A data test ready to run: the query returning its failing rows, and one counting them."""

    spec: TestSpec
    mart: str  # mart key
    name: str
    sql: str  # failing rows, target dialect (copy-pasteable)
    count_sql: str  # select count(*) over the failing rows
    dialect: str

    @property
    def severity(self) -> str:
        return self.spec.severity

    def status(self, failures: int) -> str:
        return status_for(self.spec, failures)


# -- thresholds -----------------------------------------------------------------------------------


def parse_threshold(text: str | None) -> Callable[[int], bool]:
    """'>10', '!=0', '>=5' -> a predicate on the failing-row count."""
    match = _THRESHOLD.match(text or DEFAULT_THRESHOLD)
    if not match:
        raise ValueError(f"cannot read threshold {text!r}")
    op, number = _OPERATORS[match.group(1)], int(match.group(2))
    return lambda failures: op(failures, number)


def status_for(spec: TestSpec, failures: int) -> str:
    """dbt's rule: an error-severity test FAILs when error_if holds, else WARNs when warn_if holds."""
    if spec.severity == "error" and parse_threshold(spec.error_if)(failures):
        return FAIL
    if parse_threshold(spec.warn_if)(failures):
        return WARN
    return PASS


def parse_duration(text: Any) -> tuple[int, str]:
    """'24h', '7d', '30m', '2w', '90s' -> (amount, SQL interval unit)."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"cannot read duration {text!r}")
    unit, factor = _DURATION_UNITS[match.group(2)]
    return int(match.group(1)) * factor, unit


# -- compiling ------------------------------------------------------------------------------------


class _Builder:
    """Builds one test's failing-rows query over one compiled mart."""

    def __init__(self, spec: TestSpec, item: CompiledMart, project: CompiledProject, vars_: dict):
        self.spec, self.item, self.project, self.vars = spec, item, project, vars_
        self.mart: Mart = item.mart

    def problem(self, message: str, hint: str | None = None) -> ProjectError:
        name = f"{short_name(self.spec)}' on '{self.item.key}"
        return ProjectError(Problem(f"test '{name}': {message}", self.spec.file or self.mart.file,
                                    self.spec.line or self.mart.line, hint=hint))

    def fragment(self, text: str, what: str) -> exp.Expression:
        """A user-written predicate, parsed in the mart's dialect, vars substituted."""
        try:
            tree = sqlglot.condition(str(text), dialect=self.mart.dialect)
        except SqlglotError as exc:
            raise self.problem(f"{what} does not parse: {str(exc).splitlines()[0]}",
                               hint="write a SQL boolean expression, e.g. amount >= 0") from None
        return substitute_vars(tree, self.vars, self.mart)

    def relation(self, alias: str | None = None) -> exp.Expression:
        """The mart's physical relation, narrowed by `where` when the test has one."""
        schema, table = self.item.relation
        base = exp.table_(exp.to_identifier(table), db=exp.to_identifier(schema))
        if self.spec.where:
            query = exp.select("*").from_(base).where(self.fragment(self.spec.where, "where"))
            return query.subquery(alias or "model")
        if alias:
            base.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        return base

    def column(self, name: str | None = None, table: str | None = None) -> exp.Column:
        name = name or self.spec.column or self.spec.args.get("column")
        if not name:
            raise self.problem("needs a column", hint="put it under a column, or give column: in its options")
        return exp.column(exp.to_identifier(name), table=exp.to_identifier(table) if table else None)

    def build(self) -> exp.Query:
        return getattr(self, f"_{self.spec.kind}")()

    def _not_null(self) -> exp.Query:
        return exp.select("*").from_(self.relation()).where(exp.Is(this=self.column(), expression=exp.Null()))

    def _unique(self) -> exp.Query:
        columns = [self.column(c) for c in self.spec.args.get("columns") or ()]
        query = exp.select(*columns, exp.alias_(exp.Count(this=exp.Star()), "n_records")).from_(self.relation())
        if len(columns) == 1:
            query = query.where(exp.Not(this=exp.Is(this=columns[0].copy(), expression=exp.Null())))
        return query.group_by(*[c.copy() for c in columns]).having(exp.GT(this=exp.Count(this=exp.Star()), expression=literal(1)))

    def _accepted_values(self) -> exp.Query:
        values = self.spec.args.get("values")
        values = values if isinstance(values, (list, tuple)) else [values]
        quote = self.spec.args.get("quote", True)
        items = [literal(v) if quote or not isinstance(v, str) else self.fragment(v, "value") for v in values]
        column = self.column()
        outside = exp.Not(this=exp.In(this=column, expressions=items))
        present = exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null()))
        return exp.select("*").from_(self.relation()).where(exp.and_(present, outside))

    def _expression(self) -> exp.Query:
        predicate = self.fragment(self.spec.args["expression"], "expression")
        return exp.select("*").from_(self.relation()).where(exp.Not(this=exp.paren(predicate)))

    def _relationships(self) -> exp.Query:
        key, parent_column = resolve_relationship(self.spec, self.project)
        if key is None:
            raise self.problem(f"relationships: cannot find '{self.spec.args.get('to')}'",
                               hint="to: area.mart.column or source.table.column")
        schema, table = self.project.relation(key)
        parent = exp.table_(exp.to_identifier(table), db=exp.to_identifier(schema), alias="parent")
        child_column = self.column(table="child")
        parent_column_node = self.column(parent_column, table="parent")
        query = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("child"))).from_(self.relation("child"))
        query = query.join(parent, on=exp.EQ(this=child_column, expression=parent_column_node), join_type="left")
        return query.where(exp.and_(
            exp.Not(this=exp.Is(this=child_column.copy(), expression=exp.Null())),
            exp.Is(this=parent_column_node.copy(), expression=exp.Null()),
        ))

    def _row_count(self) -> exp.Query:
        counted = exp.select(exp.alias_(exp.Count(this=exp.Star()), "row_count")).from_(self.relation())
        row_count = exp.column("row_count")
        bounds = []
        if self.spec.args.get("min") is not None:
            bounds.append(exp.LT(this=row_count, expression=literal(int(self.spec.args["min"]))))
        if self.spec.args.get("max") is not None:
            bounds.append(exp.GT(this=row_count.copy(), expression=literal(int(self.spec.args["max"]))))
        if not bounds:
            raise self.problem("row_count needs min or max", hint="row_count: {min: 1, max: 1000000}")
        return exp.select("row_count").from_(counted.subquery("counted")).where(exp.or_(*bounds))

    def _freshness(self) -> exp.Query:
        try:
            amount, unit = parse_duration(self.spec.args.get("max_age"))
        except ValueError as exc:
            raise self.problem(str(exc), hint="max_age: a number and a unit: 90s, 30m, 24h, 7d, 2w") from None
        newest = exp.Cast(this=exp.Max(this=self.column()), to=exp.DataType.build("timestamp"))
        latest = exp.select(exp.alias_(newest, "newest")).from_(self.relation())
        oldest_allowed = exp.Sub(
            this=exp.CurrentTimestamp(),
            expression=exp.Interval(this=exp.Literal.string(str(amount)), unit=exp.var(unit)),
        )
        column = exp.column("newest")
        stale = exp.or_(exp.Is(this=column, expression=exp.Null()), exp.LT(this=column.copy(), expression=oldest_allowed))
        return exp.select("newest").from_(latest.subquery("latest")).where(stale)

    def _sql(self) -> exp.Query:
        text = str(self.spec.args["sql"])
        if nested_too_deep(text, self.mart.dialect):
            raise self.problem("the SQL is nested too deeply for martctl (flatten it with CTEs)")
        try:
            tree = sqlglot.parse_one(text, read=self.mart.dialect)
        except SqlglotError as exc:
            raise self.problem(f"SQL does not parse: {str(exc).splitlines()[0]}") from None
        if not isinstance(tree, exp.Query):
            raise self.problem("a custom test is one select returning the failing rows")
        tree = substitute_vars(tree, self.vars, self.mart)
        physical = {}
        for table in table_references(tree):
            key = resolve_table(self.project, table.db, table.name, self.item.key)
            if key is None:
                candidates = list(self.project.graph.project.marts) + list(self.project.graph.project.sources)
                raise self.problem(f"reads unknown table '{'.'.join(p for p in (table.db, table.name) if p)}'",
                                   hint=did_you_mean(f"{table.db}.{table.name}", candidates) or "name marts as area.mart, sources as source.table")
            physical[id(table)] = self.project.relation(key)
        rename_tables(tree, physical)
        if self.spec.where:
            tree = exp.select("*").from_(tree.subquery("failures")).where(self.fragment(self.spec.where, "where"))
        return tree


def resolve_table(project: CompiledProject, db: str, name: str, this: str | None = None) -> str | None:
    """The mart or source key that `db.name` (or a bare mart name, or `this`) stands for."""
    model = project.graph.project
    if not db:
        if name == "this" and this:
            return this
        matches = [k for k, m in model.marts.items() if m.name == name]
        return matches[0] if len(matches) == 1 else None
    key = f"{db}.{name}"
    return key if key in model.marts or key in model.sources else None


def resolve_relationship(spec: TestSpec, project: CompiledProject) -> tuple[str | None, str | None]:
    """(relation key, parent column) of a relationships test: to: a.b.col, or to: a.b with field: col."""
    target = str(spec.args.get("to") or "")
    field = spec.args.get("field")
    parts = target.split(".")
    if not field:
        parts, field = parts[:-1], parts[-1] if parts else None
    if len(parts) == 2:
        return resolve_table(project, parts[0], parts[1]), field
    if len(parts) == 1:
        return resolve_table(project, "", parts[0]), field
    return None, field


def inputs_of_tests(item: CompiledMart, project: CompiledProject) -> set[str]:
    """Marts and sources other than its own that the mart's data tests read (relationships
    parents, tables of custom SQL tests): a build must have built them before it tests the mart."""
    found: set[str] = set()
    for spec in item.mart.all_tests():
        if spec.kind == "relationships":
            found.add(resolve_relationship(spec, project)[0])
        elif spec.kind == "sql":
            text = str(spec.args["sql"])
            try:
                if nested_too_deep(text, item.mart.dialect):
                    continue  # reported by validation
                tree = sqlglot.parse_one(text, read=item.mart.dialect)
            except SqlglotError:
                continue  # reported by validation
            found |= {resolve_table(project, t.db, t.name, item.key) for t in table_references(tree)}
    return {key for key in found if key and key != item.key}


def _vars(project: CompiledProject) -> dict:
    return dict(project.graph.vars)


def short_name(spec: TestSpec) -> str:
    """The test's name within its mart: its own, or kind__column (unique: kind__col_col)."""
    if spec.name:
        return spec.name
    columns = [spec.column or spec.args.get("column")] if (spec.column or spec.args.get("column")) else []
    if spec.kind == "unique" and not spec.column:
        columns = ["_".join(spec.args.get("columns", ()))]
    return "__".join([spec.kind, *columns])


def compile_test(spec: TestSpec, item: CompiledMart, project: CompiledProject) -> CompiledTest:
    """One test -> its failing-rows query and a count over it, in the compiled project's dialect."""
    builder = _Builder(spec, item, project, _vars(project))
    tree = apply_transforms(builder.build(), item.mart.dialect, project.dialect)
    counted = exp.select(exp.alias_(exp.Count(this=exp.Star()), "failures")).from_(tree.subquery("failing"))
    return CompiledTest(
        spec=spec,
        mart=item.key,
        name=short_name(spec),
        sql=tree.sql(dialect=project.dialect, pretty=True),
        count_sql=counted.sql(dialect=project.dialect),
        dialect=project.dialect,
    )


def compile_tests(project: CompiledProject, keys=None) -> list[CompiledTest]:
    """Every data test of the given (default: all compiled) marts; every problem raised at once."""
    tests: list[CompiledTest] = []
    problems: list[Problem] = []
    for key in keys if keys is not None else project.marts:
        item = project.marts[key]
        seen: dict[str, int] = {}
        for spec in item.mart.all_tests():
            try:
                test = compile_test(spec, item, project)
            except ProjectError as exc:
                problems += exc.problems
                continue
            seen[test.name] = seen.get(test.name, 0) + 1
            if seen[test.name] > 1:  # e.g. two mart-level expression tests
                test = replace(test, name=f"{test.name}_{seen[test.name]}")
            tests.append(test)
    if problems:
        raise ProjectError(problems)
    return tests


# -- validation -----------------------------------------------------------------------------------


def _known_columns(project: CompiledProject, key: str) -> dict[str, str]:
    """Lower-cased column name -> name for a mart or source, {} when unknown."""
    model = project.graph.project
    if key in project.marts:
        names = list(project.marts[key].columns)
    elif key in model.marts:  # not compiled in this run: its declared columns may be only some
        names = []
    else:
        names = list(model.sources[key].columns) if key in model.sources else []
    return {n.lower(): n for n in names}


def _predicate_columns(text: str | None, dialect: str) -> list[str]:
    """Unqualified columns a predicate reads (none when it has subqueries: their scope is theirs)."""
    if not text:
        return []
    try:
        tree = sqlglot.condition(str(text), dialect=dialect)
    except SqlglotError:
        return []
    if tree.find(exp.Subquery, exp.Select):
        return []
    return [c.name for c in tree.find_all(exp.Column) if not c.table and c.name]


def _spec_problems(spec: TestSpec, item: CompiledMart, project: CompiledProject) -> list[str]:
    """What is wrong with one test, as messages (no location)."""
    messages: list[str] = []
    known = _known_columns(project, item.key)

    def check_column(name: str | None, what: str, columns=known, owner=item.key) -> None:
        if name and columns and name.lower() not in columns:
            hint = did_you_mean(name, columns.values())
            messages.append(f"{what} '{name}' is not a column of {owner}" + (f" ({hint})" if hint else ""))

    if spec.column:
        check_column(spec.column, "column")
    for name in spec.args.get("columns") or ():
        check_column(name, "column")
    check_column(spec.args.get("column"), "column")
    if spec.kind == "expression":  # under a column too: the predicate may read any column
        for name in _predicate_columns(spec.args.get("expression"), item.mart.dialect):
            check_column(name, "expression reads")
    if spec.kind != "sql":
        for name in _predicate_columns(spec.where, item.mart.dialect):
            check_column(name, "where reads")
    for key in ("warn_if", "error_if"):
        try:
            parse_threshold(getattr(spec, key))
        except ValueError:
            messages.append(f"{key}: cannot read {getattr(spec, key)!r} (write e.g. '>10' or '!=0')")
    if spec.kind == "relationships":
        if not (spec.column or spec.args.get("column")):
            messages.append("relationships belongs under a column")
        parent, field = resolve_relationship(spec, project)
        if parent is None:
            model = project.graph.project
            target = str(spec.args.get("to"))
            hint = did_you_mean(target.rsplit(".", 1)[0], list(model.marts) + list(model.sources))
            messages.append(f"relationships: '{target}' names no mart or source" + (f" ({hint})" if hint else ""))
        else:
            check_column(field, "relationships: column", _known_columns(project, parent), parent)
    return messages


def test_problems(project: CompiledProject, keys=None, compile: bool = True) -> list[Problem]:
    """Tests naming unknown columns, marts or sources; predicates that do not parse; bad thresholds
    (of the given marts; default: every compiled one). Without `compile`, only what the declarations
    tell (no test SQL is compiled: cheap enough for marts that are not built)."""
    problems: list[Problem] = []
    for key in keys if keys is not None else project.marts:
        item = project.marts[key]
        for spec in item.mart.all_tests():
            name = f"{short_name(spec)}' on '{key}"
            place = (spec.file or item.mart.file, spec.line or item.mart.line)
            messages = _spec_problems(spec, item, project)
            if not messages and compile:
                try:
                    compile_test(spec, item, project)
                except ProjectError as exc:
                    problems += exc.problems
            problems += [Problem(f"test '{name}': {m}", *place) for m in messages]
        problems += _unit_test_problems(item, project) + _primary_key_problems(item)
    return problems


def _primary_key_problems(item: CompiledMart) -> list[Problem]:
    """A declared primary_key column the mart does not return (when its output columns are known)."""
    outputs = {c.lower() for c in item.columns}
    return [Problem(f"primary_key column '{column}' is not a column of {item.key}", item.mart.file,
                    item.mart.primary_key_line or item.mart.line, hint=did_you_mean(column, item.columns))
            for column in item.mart.primary_key if outputs and column.lower() not in outputs]


def _unit_test_problems(item: CompiledMart, project: CompiledProject) -> list[Problem]:
    problems: list[Problem] = []
    inputs = set(item.upstream) | set(item.sources)
    outputs = {c.lower() for c in item.columns}
    for unit in item.mart.unit_tests:
        place = (unit.file or item.mart.file, unit.line or item.mart.line)
        for given in unit.given:
            db, _, name = given.rpartition(".")
            key = resolve_table(project, db, name)
            if key not in inputs:
                hint = did_you_mean(given, sorted(inputs)) or f"its inputs: {', '.join(sorted(inputs)) or 'none'}"
                problems.append(Problem(f"unit test '{unit.name}': '{given}' is not an input of {item.key}", *place, hint=hint))
        expected = {c for row in unit.expect for c in row}
        for column in sorted(c for c in expected if outputs and c.lower() not in outputs):
            hint = did_you_mean(column, item.columns)
            problems.append(Problem(f"unit test '{unit.name}': expects column '{column}', which {item.key} does not return",
                                    *place, hint=hint))
    return problems
