"""A mart's output columns have the same names, in the same order, on every engine.

An expression without an alias is named differently by each engine (DuckDB `sum(i)` or
`count_star()`, Postgres `sum` or `?column?`, sqlglot `_col_1`): martctl asks for an alias.
Two output columns with the same name (compared case-insensitively, as DuckDB does) are an
error. An alias keeps the case it is written with (DuckDB's rule), quoted on engines that fold
unquoted names."""

from __future__ import annotations

from sqlglot import exp

from martctl.errors import CompileError, Problem


def first_select(tree: exp.Expression) -> exp.Select | None:
    """The SELECT whose names a query's output takes (the leftmost of a set operation)."""
    while isinstance(tree, (exp.SetOperation, exp.Subquery)):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


def _is_star(item: exp.Expression) -> bool:
    """*, t.* or DuckDB's COLUMNS(...): several columns named by their tables."""
    return isinstance(item, (exp.Star, exp.Columns)) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star))


def name_problems(mart, tree: exp.Expression) -> list[Problem]:
    """Unaliased expressions and duplicate names among the mart's output columns."""
    from martctl.compiler.refusals import source_line
    from martctl.compiler.sql import sql_location

    select = first_select(tree)
    if select is None:
        return []
    problems, seen = [], {}
    for item in select.expressions:
        if _is_star(item):
            continue
        if not isinstance(item, (exp.Alias, exp.Column)):
            line, _, snippet = sql_location(mart, source_line(item), None)
            written = item.sql(mart.dialect)
            problems.append(Problem(
                f"mart '{mart.key}': output column `{written}` has no name (each engine would name it differently)",
                mart.sql_path, line, hint=f"give it an alias: {written} AS some_name", snippet=snippet))
            continue
        name = item.alias_or_name
        if name.lower() in seen:
            line, _, snippet = sql_location(mart, source_line(item), None)
            first = seen[name.lower()]
            same = f"'{name}'" if first == name else f"'{first}' and '{name}' (names compare ignoring case)"
            problems.append(Problem(
                f"mart '{mart.key}': two output columns are named {same}",
                mart.sql_path, line, hint=f"alias one of them: ... AS {name}_2", snippet=snippet))
        seen.setdefault(name.lower(), name)
    return problems


def check_names(mart, tree: exp.Expression) -> None:
    problems = name_problems(mart, tree)
    if problems:
        raise CompileError(problems)


def aliases_as_written(tree: exp.Expression) -> list[str | None] | None:
    """Each output column's alias exactly as written (None: not an alias); None when a star is selected."""
    select = first_select(tree)
    if select is None or any(_is_star(item) for item in select.expressions):
        return None
    return [item.args["alias"].this if isinstance(item, exp.Alias) else None for item in select.expressions]


def keep_alias_case(tree: exp.Expression, written: list[str | None] | None) -> None:
    """Give the output columns their aliases as written, quoted where they are not all lower case."""
    select = first_select(tree)
    if written is None or select is None or len(select.expressions) != len(written):
        return
    for item, name in zip(select.expressions, written):
        if name is not None and isinstance(item, exp.Alias) and name != name.lower():
            item.set("alias", exp.to_identifier(name, quoted=True))
