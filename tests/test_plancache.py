"""The plan cache (target/.cache/plan.marshal): an unchanged project is not parsed again, and any
change that matters (SQL, vars, seeds, target dialect) makes a fresh plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_project

from martctl.api import Workspace
from martctl.compiler import plancache
from martctl.compiler.compile import compile_project
from martctl.engine import execute
from martctl.errors import ProjectError
from martctl.quality.checks import inputs_of_tests

FILES = {
    "config.yaml": "name: p\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\nvars: {n: 1}\n",
    "seeds/items.csv": "id,price\n1,10\n2,20\n",
    "marts/a/base.yml": "sql: select id, price * :n as price from raw.items\n",
    "marts/a/top.yml": "sql: select max(price) as top from a.base\n"
                       "columns:\n  top: {tests: [{relationships: {to: raw.items.price}}]}\n",
}


def compiled_sql(root: Path, **kwargs) -> tuple[dict, bool]:
    """Compiled SQL per mart, and whether the graph came from the cache (trees not parsed)."""
    ctx = Workspace(root, **kwargs)
    from_cache = all(item._tree is None for item in ctx.graph.parsed.values())
    compiled = compile_project(ctx.graph, target=ctx.target)
    return {k: m.sql for k, m in compiled.marts.items()}, from_cache


def test_unchanged_project_comes_from_the_cache_with_the_same_sql(tmp_path: Path):
    root = write_project(tmp_path / "p", FILES)
    first, cached = compiled_sql(root)
    assert not cached and (root / "target" / plancache.FILE).is_file()
    second, cached = compiled_sql(root)
    assert cached and second == first
    cached_top = Workspace(root).graph.parsed["a.top"]  # a cached mart still gives its tree when asked
    assert cached_top._tree is None and cached_top.upstream_marts == ("a.base",)
    (root / "target" / plancache.FILE).unlink()
    fresh_top = Workspace(root).graph.parsed["a.top"]
    assert fresh_top._tree is not None  # parsed, not from the cache
    assert cached_top.tree == fresh_top.tree and cached_top.tree.sql() == "SELECT MAX(price) AS top FROM a.base"
    assert list(cached_top.marts.values()) == ["a.base"]  # the reference map is rebuilt with the tree


def test_changes_make_a_fresh_plan(tmp_path: Path):
    root = write_project(tmp_path / "p", FILES)
    compiled_sql(root)
    (root / "marts/a/base.yml").write_text("sql: select id, price * :n * 2 as price from raw.items\n")
    sql, cached = compiled_sql(root)
    assert not cached and "* 2" in sql["a.base"]
    sql, cached = compiled_sql(root, vars=["n=7"])
    assert not cached and "price * 7 * 2" in sql["a.base"]
    compiled_sql(root)
    (root / "seeds/items.csv").write_text("id,price\n1,10.5\n")
    _, cached = compiled_sql(root)
    assert not cached


def test_a_corrupt_cache_is_ignored(tmp_path: Path):
    root = write_project(tmp_path / "p", FILES)
    first, _ = compiled_sql(root)
    cache = root / "target" / plancache.FILE
    good = cache.read_bytes()
    for broken in (b"{not json", good[: len(good) // 2], b""):
        cache.write_bytes(broken)
        again, cached = compiled_sql(root)
        assert not cached and again == first


def test_a_cache_another_python_wrote_is_not_read(tmp_path: Path, monkeypatch):
    root = write_project(tmp_path / "p", FILES)
    compiled_sql(root)
    assert compiled_sql(root)[1]
    monkeypatch.setattr(plancache, "_PYTHON", "3.99.0 (another interpreter)")
    assert not compiled_sql(root)[1]


def test_a_value_marshal_does_not_know_is_kept_as_json_kept_it(tmp_path: Path):
    """The document is plain values; one that is not (a date, a path) is kept as its str, as the
    JSON file kept it (json.dumps(default=str)), instead of the cache failing to be written."""
    import datetime

    plancache.write(tmp_path, {"format": plancache.FORMAT, "marts": {"a.m": {"when": datetime.date(2026, 1, 2),
                                                                             "file": Path("marts/a/m.yml")}}})
    assert plancache.read(tmp_path)["marts"] == {"a.m": {"when": "2026-01-02", "file": "marts/a/m.yml"}}


def test_build_waits_for_what_a_mart_s_tests_read(tmp_path: Path):
    """a.top's relationships test reads raw.items: in a build it waits for that seed too."""
    root = write_project(tmp_path / "p", FILES)
    ctx = Workspace(root)
    compiled = compile_project(ctx.graph, target=ctx.target)
    waits = {k: inputs_of_tests(item, compiled) for k, item in compiled.marts.items()}
    assert waits == {"a.base": set(), "a.top": {"raw.items"}}
    steps = {s.key: s for s in execute.plan(compiled, ctx.project.seeds, None, waits)}
    assert steps["a.top"].upstream == ("a.base", "raw.items")


def parsed_again(root: Path, **kwargs) -> set[str]:
    """The marts whose SQL was parsed (not taken from the plan cache) when the graph was built."""
    ws = Workspace(root, **kwargs)
    return {k for k, item in ws.graph.parsed.items() if item._tree is not None}


def test_a_var_change_reparses_only_the_marts_that_read_it(tmp_path: Path):
    root = write_project(tmp_path / "p", {**FILES, "marts/a/other.yml": "sql: select id from a.base\n"})
    assert parsed_again(root) == {"a.base", "a.top", "a.other"}
    assert parsed_again(root) == set()
    assert parsed_again(root, vars=["n=3"]) == {"a.base"}
    assert parsed_again(root, vars=["n=3", "unused=1"]) == set()  # a var no mart reads
    sql, _ = compiled_sql(root, vars=["n=4"])
    assert "price * 4" in sql["a.base"]


def test_adding_or_removing_a_mart_reparses_only_what_it_changes(tmp_path: Path):
    root = write_project(tmp_path / "p", {**FILES, "marts/a/reader.yml": "sql: select price from base\n"})
    parsed_again(root)
    (root / "marts/b").mkdir()
    (root / "marts/b/extra.yml").write_text("sql: select 1 as x\n")
    assert parsed_again(root) == {"b.extra"}
    # a new mart named like a bare reference makes it ambiguous: reported, not served from the cache
    (root / "marts/b/base.yml").write_text("sql: select 2 as price\n")
    with pytest.raises(ProjectError, match="ambiguous"):
        Workspace(root).graph
    (root / "marts/b/base.yml").unlink()
    assert parsed_again(root) == set()
    (root / "marts/a/base.yml").unlink()  # what cached marts read is gone
    with pytest.raises(ProjectError, match="reads unknown table 'base'"):
        Workspace(root).graph


def test_the_cache_serves_the_project_however_its_folder_is_named(tmp_path: Path, monkeypatch):
    """`martctl run` in the folder and `martctl run --project-dir /abs/path` (cron) share the cache."""
    root = write_project(tmp_path / "p", FILES)
    compiled_sql(root.resolve())
    monkeypatch.chdir(root)
    assert compiled_sql(Path("."))[1]
    assert compiled_sql(root.resolve())[1]


def test_a_change_upstream_recompiles_what_reads_its_columns(tmp_path: Path):
    """A mart whose own SQL is unchanged is compiled again when its inputs' columns change: its star
    expands to the new columns, and for Postgres its division is typed against the new types."""
    files = {
        "config.yaml": "name: p\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n"
                       "  pg: {type: postgres, dsn: 'postgresql://nobody@localhost/none'}\n",
        "seeds/items.csv": "id,price\n1,10\n2,20\n",
        "marts/a/base.yml": "sql: select id, price from raw.items\n",
        "marts/a/wide.yml": "sql: select * from a.base\n",
        "marts/a/half.yml": "sql: select price / 2 as half from a.base\n",
    }
    root = write_project(tmp_path / "p", files)
    sql, _ = compiled_sql(root)
    assert "discount" not in sql["a.wide"]
    pg, _ = compiled_sql(root, target="pg")
    typed_for_int = pg["a.half"]
    assert "CAST(base.price AS DOUBLE PRECISION) / 2" in typed_for_int  # an integer input: DuckDB's / is not integer division
    (root / "marts/a/base.yml").write_text("sql: select id, price, price * 0.1 as discount from raw.items\n")
    sql, _ = compiled_sql(root)
    assert "discount" in sql["a.wide"]
    assert Workspace(root).graph.parsed["a.wide"]._tree is None  # a.wide's parse came from the cache all the same
    (root / "marts/a/base.yml").write_text("sql: select id, price * 1.5 as price from raw.items\n")
    pg, _ = compiled_sql(root, target="pg")
    assert pg["a.half"] != typed_for_int  # typed against a decimal input now


def test_a_declared_column_type_change_reaches_the_compiled_columns(tmp_path: Path):
    root = write_project(tmp_path / "p", FILES)

    def price_type() -> str | None:
        ctx = Workspace(root)
        return compile_project(ctx.graph, target=ctx.target).marts["a.base"].columns["price"]

    price_type()
    for declared in ("decimal(12,2)", "bigint"):
        (root / "marts/a/base.yml").write_text(FILES["marts/a/base.yml"] + f"columns:\n  price: {{type: '{declared}'}}\n")
        assert price_type() == declared


def test_another_sqlglot_makes_a_fresh_plan(tmp_path: Path, monkeypatch):
    """Compiled SQL is sqlglot's output: an upgrade (a fix in its generator) compiles every mart again."""
    import sqlglot

    root = write_project(tmp_path / "p", FILES)
    compiled_sql(root)
    assert compiled_sql(root)[1]
    monkeypatch.setattr(sqlglot, "__version__", sqlglot.__version__ + ".post1")
    assert not compiled_sql(root)[1]
