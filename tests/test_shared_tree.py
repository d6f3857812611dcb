"""A mart's parsed tree is shared by compiling, fingerprinting and lineage, and generated from without
a copy where sqlglot's generator leaves it as it is: the text must be what a copy gives, and the tree
must stay as parsed (a fingerprint that changed would rebuild every mart of every warehouse)."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from martctl.compiler.fingerprint import canonical_sql
from martctl.compiler.nodes import Nodes
from tests.conformance.conformance_cases import load_cases

# each dialect's generator rewrites something in place: DuckDB string_agg(... ORDER BY), T-SQL
# booleans, Spark nested CTEs
REWRITTEN = [
    ("duckdb", "select k, string_agg(cast(v as varchar), ',' order by v) as x from raw.pairs group by k"),
    ("tsql", "select case when a = 1 then 1 end as x from raw.t where a = 1 or b"),
    ("spark", "select s.a from (with c as (select 1 as a) select a from c) as s"),
    ("hive", 'select s.a from (with c as (select 1 as a) select "A" as a from c) as s'),
]
DIALECTS = ["duckdb", "postgres", "snowflake", "bigquery", "spark", "tsql", "trino"]


def _reference(sql: str, dialect: str) -> str:
    """The canonical text as defined: plain names unquoted on a copy, one line, no comments."""
    tree = sqlglot.parse_one(sql, read=dialect)
    for node in tree.find_all(exp.Identifier):
        if node.quoted and re.match(r"^[a-z_][a-z0-9_]*$", node.name):
            node.set("quoted", False)
    return tree.sql(dialect=dialect, comments=False)


def _corpus() -> list[tuple[str, str]]:
    """The conformance queries as written (DuckDB) and transpiled to other dialects, and the rewritten ones."""
    queries = [case.sql for case in load_cases() if not case.refused]
    corpus = [("duckdb", sql) for sql in queries]
    for dialect in DIALECTS[1:]:
        for sql in queries[::7]:
            try:
                corpus.append((dialect, sqlglot.transpile(sql, read="duckdb", write=dialect)[0]))
            except sqlglot.errors.SqlglotError:
                continue
    return corpus + REWRITTEN


def test_the_canonical_sql_is_what_a_copy_gives_and_the_tree_stays_as_parsed():
    checked = 0
    for dialect, sql in _corpus():
        try:
            tree = sqlglot.parse_one(sql, read=dialect)
        except sqlglot.errors.SqlglotError:
            continue
        before = tree.copy()
        assert canonical_sql(tree, dialect, Nodes(tree)) == _reference(sql, dialect), (dialect, sql)
        assert tree == before and tree.sql(dialect) == before.sql(dialect), (dialect, sql)
        checked += 1
    assert checked > 450


@pytest.mark.parametrize("dialect,sql", REWRITTEN)
def test_a_mart_the_generator_rewrites_is_compiled_from_a_copy(tmp_path, dialect, sql):
    """The same-dialect compile generates from the shared tree too: it must leave it as parsed."""
    import martctl
    from martctl.compiler.compile import compile_project
    from tests.conftest import write_project

    root = write_project(tmp_path / "p", {
        "config.yaml": f"name: p\ndialect: {dialect}\nsources:\n  raw: {{tables: [pairs, t]}}\n",
        "marts/a/m.yml": "sql: |\n  " + sql + "\n",
    })
    graph = martctl.open(root).graph
    tree = graph.parsed["a.m"].tree
    before = tree.copy()
    compiled = compile_project(graph, dialect=dialect)
    assert tree == before
    again = compile_project(graph, dialect=dialect)
    assert again.marts["a.m"].sql == compiled.marts["a.m"].sql


def test_a_plain_mart_is_generated_from_the_shared_tree_not_a_copy():
    """Copying is most of a same-dialect compile: only the rewritten constructs pay for it (compiled
    sqlglot keeps generator settings on instances; read off the class they are always truthy)."""
    from martctl.compiler.sql import changed_by_generating

    def changed(dialect: str, sql: str) -> bool:
        return changed_by_generating(Nodes(sqlglot.parse_one(sql, read=dialect)), dialect)

    plain = "with c as (select 1 as a) select a, count(*) as n from c group by a"
    assert not any(changed(dialect, plain) for dialect in ("duckdb", "postgres", "spark", "snowflake"))
    assert all(changed(dialect, sql) for dialect, sql in REWRITTEN)


def test_the_nodes_walked_once_are_what_find_all_yields_in_its_order():
    """Reference order decides error order and the upstream order of the graph."""
    types = [(exp.Table,), (exp.CTE,), (exp.Identifier,), (exp.Select, exp.SetOperation), (exp.Placeholder,)]
    for dialect, sql in _corpus()[::5]:
        tree = sqlglot.parse_one(sql, read=dialect)
        nodes = Nodes(tree)
        for wanted in types:
            assert [id(n) for n in nodes.find_all(*wanted)] == [id(n) for n in tree.find_all(*wanted)], (sql, wanted)
            assert nodes.find(*wanted) is tree.find(*wanted)
