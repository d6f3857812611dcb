"""sqlglot glue: parse, references, vars, typing, transpiling. No other core module builds SQL text."""

from __future__ import annotations

import math
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, OptimizeError, ParseError, SqlglotError, UnsupportedError
from sqlglot.tokens import TokenType

from martctl.compiler.nodes import Nodes
from martctl.errors import CompileError, Problem
from martctl.project.model import Mart


def sql_location(mart: Mart, line: int | None, col: int | None):
    """Map a line inside the mart's SQL to a line of the file it lives in."""
    file_line = mart.sql_line + (line or 1) - 1
    text_lines = mart.sql.splitlines()
    snippet = text_lines[line - 1].strip() if line and 0 < line <= len(text_lines) else None
    if snippet is not None and col:
        stripped = len(text_lines[line - 1]) - len(text_lines[line - 1].lstrip())
        col = max(1, col - stripped)
    return file_line, col, snippet


def _readable(message: str) -> str:
    """sqlglot names node classes in its messages: <class 'sqlglot.expressions.query.Where'> -> WHERE."""
    import re

    return re.sub(r"<class 'sqlglot\.[\w.]*?(\w+)'>", lambda m: m.group(1).upper(), message)


MAX_SET_BRANCHES = 1000  # UNION/INTERSECT/EXCEPT branches in one mart: typing 4,000 takes 20 s, 20,000 hours
# brackets nested in one mart. sqlglot in Python runs out of stack first (about 40 parentheses, 90
# subqueries; 192 redundant parentheses around one subquery); compiled sqlglot (sqlglotc) goes deeper
# and, at about 10,000 nested subqueries, crashes the process (C stack): the same limit for both
MAX_NESTING = 128


def _too_deep(mart: Mart) -> CompileError:
    return CompileError(
        Problem(
            f"mart '{mart.key}': the SQL is nested too deeply for martctl (at most about 40 levels of "
            "parentheses, 90 of subqueries)",
            mart.sql_path,
            mart.sql_line,
            hint="flatten it: move inner parts into CTEs (with name as (...)) or into a mart of their own",
        )
    )


@contextmanager
def nesting_guard(mart: Mart):
    """sqlglot recurses over the tree: SQL nested past Python's stack becomes a clear error."""
    try:
        yield
    except RecursionError:
        raise _too_deep(mart) from None


_OPENING = ("(", "[", "{")
_OPENERS = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSERS = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}


def _nesting(sql: str, dialect: str) -> int:
    """How deep brackets nest in the SQL's tokens (strings and comments aside); 0 when it has too
    few brackets to nest past MAX_NESTING, or does not tokenize (the parser says why)."""
    if sum(sql.count(c) for c in _OPENING) <= MAX_NESTING:
        return 0
    try:
        tokens = sqlglot.tokenize(sql, read=dialect)
    except SqlglotError:
        return 0
    depth = deepest = 0
    for token in tokens:
        if token.token_type in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type in _CLOSERS:
            depth -= 1
    return deepest


def nested_too_deep(sql: str, dialect: str) -> bool:
    """SQL whose brackets nest past MAX_NESTING: refused before sqlglot parses it (see above)."""
    return _nesting(sql, dialect) > MAX_NESTING


def parse_mart(mart: Mart) -> Nodes:
    """Parse the mart's SQL in its dialect (the tree and its nodes); errors name the file, line and column."""
    with nesting_guard(mart):
        nodes = Nodes(_parse(mart))
    _check_tree(nodes, mart)
    return nodes


def _check_tree(nodes: Nodes, mart: Mart) -> None:
    """Refuse what sqlglot accepts but the mart cannot mean (an empty select list) or cannot afford."""
    branches = len(nodes.find_all(exp.SetOperation))
    if branches >= MAX_SET_BRANCHES:
        raise CompileError(
            Problem(
                f"mart '{mart.key}': {branches + 1:,} UNION/INTERSECT/EXCEPT branches, more than the "
                f"{MAX_SET_BRANCHES:,} martctl compiles in one mart",
                mart.sql_path,
                mart.sql_line,
                hint="split it into several marts and union those, or load the rows as a seed (seeds/*.csv)",
            )
        )
    empty = next((s for s in nodes.find_all(exp.Select) if not s.expressions), None)
    if empty is not None:
        line = empty.meta.get("line") or 1
        raise CompileError(
            Problem(
                f"mart '{mart.key}': a SELECT without columns",
                mart.sql_path,
                mart.sql_line + line - 1,
                hint="name the columns it returns: select a, b from ...",
            )
        )


def _parse(mart: Mart) -> exp.Query:
    if nested_too_deep(mart.sql, mart.dialect):
        raise _too_deep(mart)
    try:
        tree = sqlglot.parse_one(mart.sql, read=mart.dialect)  # fresh: cheaper than copying a cached tree
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line, col, snippet = sql_location(mart, first.get("line"), first.get("col"))
        message = _readable(first.get("description") or str(exc).splitlines()[0])
        raise CompileError(
            Problem(
                f"mart '{mart.key}': SQL does not parse ({mart.dialect}): {message}",
                mart.sql_path,
                line,
                col,
                hint="fix the SQL near the marked place",
                snippet=snippet,
            )
        ) from None
    except SqlglotError as exc:
        raise CompileError(Problem(f"mart '{mart.key}': {exc}", mart.sql_path, mart.sql_line)) from None
    if not isinstance(tree, exp.Query):
        raise CompileError(
            Problem(
                f"mart '{mart.key}': the SQL must be one query (select ...), got {tree.key.upper()}",
                mart.sql_path,
                mart.sql_line,
                hint="a mart is a select statement; martctl writes the create/insert around it",
            )
        )
    return tree


def table_references(tree: exp.Expression, nodes: Nodes | None = None) -> list[exp.Table]:
    """Tables the query reads, scope-aware: CTE names and derived tables are not references."""
    from sqlglot.optimizer.scope import traverse_scope

    found: list[exp.Table] = []
    try:
        scopes = traverse_scope(tree)
    except (OptimizeError, SqlglotError):
        scopes = []
    for scope in scopes:
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and source.name:
                found.append(source)
    # Tables the scope walk did not reach (a bare VALUES, DuckDB's FROM-first `from t` nested
    # in a FROM, ...) still count, unless a CTE of that name exists: a missed dependency would
    # build a mart before what it reads.
    seen = {id(t) for t in found}
    nodes = nodes or Nodes(tree)
    ctes = {c.alias_or_name for c in nodes.find_all(exp.CTE)}
    found += [t for t in nodes.find_all(exp.Table)
              if id(t) not in seen and t.name and (t.db or t.name not in ctes)]
    return found


def table_line(table: exp.Table) -> int | None:
    """The line (1-based, within the SQL text) where the parser saw this table reference."""
    for part in (table.args.get("db"), table.this):
        if isinstance(part, exp.Expression) and part.meta.get("line"):
            return part.meta["line"]
    return None


def table_name(table: exp.Table) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p)


VAR_NODES = (exp.Placeholder, exp.Parameter)


def _var_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Placeholder):
        return node.name or None
    inner = node.this
    return inner.name if isinstance(inner, exp.Expression) else str(inner)


def substitute_vars(tree: exp.Expression, values: Mapping[str, Any], mart: Mart,
                    found: list[exp.Expression] | None = None) -> exp.Expression:
    """Replace :name placeholders (`found`: the tree's VAR_NODES, when known) with literals (never pasted text)."""
    for node in list(tree.find_all(*VAR_NODES)) if found is None else found:
        name = _var_name(node)
        if name is None:
            continue
        if name not in values:
            from martctl.errors import did_you_mean

            raise CompileError(
                Problem(
                    f"mart '{mart.key}': unknown var ':{name}'",
                    mart.sql_path,
                    mart.sql_line,
                    hint=did_you_mean(name, values) or "declare it under vars: in config.yaml or pass --vars",
                )
            )
        node.replace(literal(values[name]))
    return tree


_NON_FINITE = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


def literal(value: Any) -> exp.Expression:
    """A Python value as a SQL literal AST. Infinity and NaN (YAML .inf, -.inf, .nan) become
    CAST('Infinity' AS DOUBLE): sqlglot would write a bare `inf` column, or NULL for NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return exp.cast(exp.Literal.string(_NON_FINITE[repr(value)]), exp.DataType.build("DOUBLE"))
    return exp.convert(value)


def parse_literal(text: str) -> Any:
    """`--vars k=v`: v read as YAML so numbers stay numbers and dates stay strings."""
    import yaml

    from martctl.project.yamlfile import PlainLoader

    try:
        value = yaml.load(text, Loader=PlainLoader)
    except yaml.YAMLError:
        return text
    if isinstance(value, (dict, list)):
        return text
    return str(value) if hasattr(value, "isoformat") else value


def rename_tables(tree: exp.Expression, physical: Mapping[int, tuple[str, str]],
                  tables: list[exp.Table] | None = None) -> exp.Expression:
    """Point each referenced table (by node id; `tables`: the tree's Table nodes, when known) at its
    physical schema.table, keeping aliases."""
    for table in list(tree.find_all(exp.Table)) if tables is None else tables:
        target = physical.get(id(table))
        if target is None:
            continue
        schema, name = target
        alias = table.args.get("alias")
        if alias is None and (table.name != name or not table.db):
            alias = exp.TableAlias(this=exp.to_identifier(table.name))
        table.set("catalog", None)
        table.set("db", exp.to_identifier(schema))
        table.set("this", exp.to_identifier(name))
        table.set("alias", alias)
    return tree


@contextmanager
def renamed_tables(tree: exp.Expression, physical: Mapping[int, tuple[str, str]], tables: list[exp.Table] | None = None):
    """rename_tables for the length of a `with` block, then the tree is as it was: generating SQL
    from a shared tree this way costs no copy (copying is most of a same-dialect compile)."""
    tables = [t for t in (tree.find_all(exp.Table) if tables is None else tables) if id(t) in physical]
    saved = [(t, {k: t.args.get(k) for k in ("catalog", "db", "this", "alias")}) for t in tables]
    rename_tables(tree, physical, tables)
    try:
        yield tree
    finally:
        for table, args in saved:
            for key, value in args.items():
                table.set(key, value)


def typed(tree: exp.Expression, schema: Mapping, dialect: str) -> exp.Expression:
    """Qualify and annotate types against the schemas of the query's inputs."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.schema import ensure_schema

    schema = ensure_schema(schema or None, dialect=dialect)  # built once, used by both passes
    tree = qualify(
        tree,
        schema=schema,
        dialect=dialect,
        validate_qualify_columns=False,
        quote_identifiers=False,
        identify=False,
    )
    return annotate_types(tree, schema=schema, dialect=dialect)


def expand_stars(tree: exp.Expression, schema: Mapping, dialect: str) -> exp.Expression:
    from sqlglot.optimizer.qualify import qualify

    return qualify(
        tree, schema=schema or None, dialect=dialect, validate_qualify_columns=False,
        quote_identifiers=False, identify=False,
    )


def output_columns(tree: exp.Expression) -> dict[str, str | None]:
    """The query's output columns with their types where annotation found one."""
    columns: dict[str, str | None] = {}
    if not isinstance(tree, exp.Query):
        return columns
    for select in tree.selects:
        name = select.alias_or_name
        if not name or name == "*":
            continue
        kind = select.type
        columns[name] = None if kind is None or kind.is_type(exp.DataType.Type.UNKNOWN) else kind.sql()
    return columns


def has_star(tree: exp.Expression) -> bool:
    return isinstance(tree, exp.Query) and any(
        isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
        for s in tree.selects
    )


def generate(tree: exp.Expression, dialect: str, *, strict: bool = True, pretty: bool = True) -> tuple[str, list[str]]:
    """SQL text in `dialect`; constructs it cannot render faithfully raise (strict) or become warnings."""
    warnings: list[str] = []
    level = ErrorLevel.RAISE if strict else ErrorLevel.IGNORE  # IGNORE still collects the messages, unlogged
    try:
        from sqlglot.dialects.dialect import Dialect

        generator = Dialect.get_or_raise(dialect).generator(pretty=pretty, unsupported_level=level)
        text = generator.generate(tree, copy=False)
        warnings = list(getattr(generator, "unsupported_messages", []) or [])
    except UnsupportedError as exc:
        raise _Unsupported(str(exc)) from None
    return text, warnings


# nodes sqlglot's generator rewrites in place when generating without a copy (DuckDB's string_agg
# with ORDER BY loses its argument)
MUTATED_BY_GENERATING = (exp.GroupConcat,)


def changed_by_generating(nodes: Nodes, dialect: str) -> bool:
    """Whether generating `dialect` from the tree itself would change it (then generate from a copy):
    a node the generator rewrites, or a dialect whose generator rewrites booleans or nested CTEs."""
    ensure_bools, without_nested_ctes = _rewrites(dialect)
    if ensure_bools or nodes.find(*MUTATED_BY_GENERATING) is not None:
        return True
    return type(nodes.tree) in without_nested_ctes and any(w.parent is not nodes.tree for w in nodes.find_all(exp.With))


@lru_cache(maxsize=None)
def _rewrites(dialect: str) -> tuple[bool, frozenset]:
    """Whether the dialect's generator rewrites booleans, and the queries it moves nested CTEs out of;
    read from an instance (compiled sqlglot keeps class settings there)."""
    from sqlglot.dialects.dialect import Dialect

    generator = Dialect.get_or_raise(dialect).generator()
    return bool(generator.ENSURE_BOOLS), frozenset(generator.EXPRESSIONS_WITHOUT_NESTED_CTES)


class _Unsupported(Exception):
    pass


def unsupported_error(mart: Mart, dialect: str, message: str) -> CompileError:
    return CompileError(
        Problem(
            f"mart '{mart.key}': cannot be written faithfully in {dialect}: {message}",
            mart.sql_path,
            mart.sql_line,
            hint="rewrite the construct portably, or pass --allow-unsupported to get a warning instead",
        )
    )
