"""DuckDB -> Postgres fidelity: rules that make Postgres compute what DuckDB computes, or refuse.

Each rule is a small function registered for a sqlglot node class (or an unknown function's
name) with `@rule(...)`; `duckdb_to_postgres` walks the typed tree once, children before
parents, and replaces each node by what the first matching rule returns (None: no change).
A rule that cannot keep the meaning raises `Refused(construct, node, hint)`.
The rules live in functions.py, semantics.py, syntax.py and text.py (regexes, formats)."""

from __future__ import annotations

from sqlglot import exp

from martctl.compiler.fidelity.registry import BY_CLASS, BY_NAME, apply_rules


def duckdb_before_typing(tree: exp.Expression) -> exp.Expression:
    """The rules that must run on the mart's tree before qualify/annotate_types (one walk)."""
    from martctl.compiler.fidelity.semantics import decimal_literal
    from martctl.compiler.fidelity.syntax import semi_anti_join

    for node in list(tree.find_all(exp.Literal, exp.Join)):
        if isinstance(node, exp.Literal):
            decimal_literal(node)
        else:
            semi_anti_join(node)
    return tree


def duckdb_to_postgres(tree: exp.Expression) -> exp.Expression:
    from martctl.compiler.fidelity import functions, semantics, syntax  # noqa: F401 - they register rules

    def rules_of(node: exp.Expression):
        if isinstance(node, exp.Anonymous):
            return BY_NAME.get(str(node.this).lower(), ())
        return BY_CLASS.get(type(node), ())

    return apply_rules(tree, rules_of)


def duckdb_to_spark(tree: exp.Expression) -> exp.Expression:
    """DuckDB -> Spark: the rules of spark.py and spark_refusals.py, one walk."""
    from martctl.compiler.fidelity import spark_refusals  # noqa: F401 - registers its rules
    from martctl.compiler.fidelity.spark import RULES

    return apply_rules(tree, lambda node: RULES.get(type(node), ()))
