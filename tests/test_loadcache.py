"""The mart load cache (target/.cache/marts-<hash>.pickle): an unchanged mart file is not parsed again,
and no change to a project's files is ever served stale from it."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest
from conftest import write_project

import martctl
from martctl.api import Workspace
from martctl.errors import ProjectError
from martctl.project.loadcache import cache_file
from martctl.project.loader import load_project

FILES = {
    "config.yaml": "name: p\ndialect: duckdb\ntargets:\n  local: {type: duckdb, path: wh.duckdb}\n"
                   "  other: {type: duckdb, path: other.duckdb}\nvars: {n: 1}\n",
    "marts/a/base.yml": "sql: select 1 as id, :n as n\n",
    "marts/a/top.yml": "sql_file: top_query.sql\ncolumns:\n  id: {tests: [not_null]}\n",
    "marts/a/top_query.sql": "select id from a.base\n",
    "marts/b/many.yml": "marts:\n  - {name: one, sql: select 1 as x}\n  - {name: two, sql: select 2 as x}\n",
}


def cache(root: Path) -> Path:
    return cache_file(root / "target")


def settled(root: Path) -> Path:
    """Every file's mtime 60 s in the past: older than the cache's racy window."""
    past = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (past, past), follow_symlinks=False)
    return root


def project(tmp_path: Path) -> Path:
    return settled(write_project(tmp_path / "p", FILES))


def sqls(root: Path) -> dict[str, str]:
    return {k: m.sql for k, m in Workspace(root).project.marts.items()}


def same_size_edit(path: Path, old: str, new: str) -> None:
    """Change the text, keeping its size and (unless the caller moves it) its mtime: what a stamp cannot see."""
    text = path.read_text()
    assert len(old) == len(new) and old in text
    st = path.stat()
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_an_unchanged_file_is_served_from_the_cache(tmp_path: Path):
    root = project(tmp_path)
    first = sqls(root)
    assert cache(root).is_file()
    # an edit no stamp sees (same size, same mtime, same inode) is served from the cache: proof it is used
    same_size_edit(root / "marts/a/base.yml", "1 as id", "7 as id")
    assert sqls(root) == first
    assert "7 as id" in load_project(root).marts["a.base"].sql  # without the cache: the file


def test_a_changed_file_is_read_again(tmp_path: Path):
    root = project(tmp_path)
    sqls(root)
    (root / "marts/a/base.yml").write_text("sql: select 2 as id, :n as n\n")
    assert sqls(root)["a.base"] == "select 2 as id, :n as n"
    top = root / "marts/a/top_query.sql"  # a SQL file the YAML points at
    top.write_text("select id + 1 as id from a.base\n")
    assert sqls(root)["a.top"] == "select id + 1 as id from a.base\n"


def test_a_renamed_file_and_a_deleted_file(tmp_path: Path):
    root = project(tmp_path)
    sqls(root)
    (root / "marts/a/base.yml").rename(root / "marts/a/base2.yml")
    marts = Workspace(root).project.marts
    assert "a.base2" in marts and "a.base" not in marts
    (root / "marts/b/many.yml").unlink()
    marts = Workspace(root).project.marts
    assert not any(k.startswith("b.") for k in marts) and set(marts) == {"a.base2", "a.top"}


def test_a_new_sibling_sql_file_is_seen(tmp_path: Path):
    root = project(tmp_path)
    sqls(root)
    (root / "marts/a/base.sql").write_text("select 3 as id\n")  # beside an inline sql: an error
    with pytest.raises(ProjectError, match="both inline and in base.sql"):
        Workspace(root)


def test_a_changed_var_or_target_is_seen(tmp_path: Path):
    root = project(tmp_path)
    sqls(root)
    config = root / "config.yaml"
    same_size_edit(config, "{n: 1}", "{n: 5}")
    os.utime(config)  # a normal edit: the mtime moves
    ws = Workspace(root, target="other")
    assert ws.project.vars == {"n": 5} and ws.target.settings["path"] == "other.duckdb"
    config.write_text(config.read_text().replace("other.duckdb", "elsewhere.duckdb"))
    assert Workspace(root, target="other").target.settings["path"] == "elsewhere.duckdb"
    # config.yaml's text is part of the key: even an edit no stamp sees drops every entry
    same_size_edit(root / "marts/a/base.yml", "1 as id", "8 as id")
    same_size_edit(config, "{n: 5}", "{n: 6}")
    assert "8 as id" in sqls(root)["a.base"]


def test_a_fresh_edit_in_the_same_tick_is_never_served(tmp_path: Path):
    root = write_project(tmp_path / "p", FILES)  # mtimes of just now: inside the racy window
    sqls(root)
    same_size_edit(root / "marts/a/base.yml", "1 as id", "9 as id")
    assert "9 as id" in sqls(root)["a.base"]


def test_an_entry_that_would_be_read_again_is_not_written(tmp_path: Path):
    """Right after an edit (inside the racy window) the file is read again on every load until it
    settles, so its entry is not worth rewriting the cache for; once settled, it is written."""
    root = project(tmp_path)
    sqls(root)
    written = cache(root).read_bytes()
    (root / "marts/a/base.yml").write_text("sql: select 4 as id, :n as n\n")
    assert sqls(root)["a.base"] == "select 4 as id, :n as n"
    assert cache(root).read_bytes() == written  # not rewritten
    settled(root)
    assert sqls(root)["a.base"] == "select 4 as id, :n as n"
    assert cache(root).read_bytes() != written
    same_size_edit(root / "marts/a/base.yml", "4 as id", "5 as id")
    assert sqls(root)["a.base"] == "select 4 as id, :n as n"  # the settled entry is served


def test_problems_are_reported_as_without_the_cache(tmp_path: Path):
    root = project(tmp_path)
    sqls(root)
    (root / "marts/b/many.yml").write_text("marts:\n  - {name: one, sql: select 1 as x, colour: red}\n")
    with pytest.raises(ProjectError) as cached:
        Workspace(root)
    with pytest.raises(ProjectError) as plain:
        load_project(root)
    assert str(cached.value) == str(plain.value) and "colour" in str(plain.value)


def test_validate_never_uses_the_cache(tmp_path: Path):
    root = project(tmp_path)
    sqls(root)
    same_size_edit(root / "marts/a/base.yml", "sql:", "sq1:")  # unseen by the stamp, an unknown key
    assert any("sq1" in p.message for p in martctl.validate(root).problems)


def test_a_foreign_or_broken_cache_file_is_ignored(tmp_path: Path):
    root = project(tmp_path)
    first = sqls(root)
    planted = tmp_path / "planted"

    class Exploit:
        def __reduce__(self):
            return (os.mkdir, (str(planted),))

    cache(root).write_bytes(pickle.dumps({"key": "x", "entries": Exploit()}))
    assert sqls(root) == first and not planted.exists()  # nothing in the file runs
    cache(root).write_bytes(b"not a pickle")
    assert sqls(root) == first


def test_a_file_read_through_a_symlink_is_never_served_from_the_cache(tmp_path: Path):
    root = project(tmp_path)
    real = root / "sql" / "top_query.sql"
    real.parent.mkdir()
    (root / "marts/a/top_query.sql").rename(real)
    (root / "marts/a/top_query.sql").symlink_to(real)
    settled(root)
    sqls(root)
    same_size_edit(real, "select id", "select 1 ")  # the link's own stamp does not move
    assert sqls(root)["a.top"] == "select 1  from a.base\n"


def test_the_folder_named_two_ways_keeps_a_cache_for_each(tmp_path: Path, monkeypatch):
    """In the folder (`.`) and by its absolute path (cron): each spelling's marts are served from its
    own file, so alternating does not read every file again."""
    root = project(tmp_path)
    monkeypatch.chdir(root)
    sqls(Path("."))
    sqls(root)
    same_size_edit(root / "marts/a/base.yml", "1 as id", "6 as id")  # unseen by a stamp: served from a cache
    assert "1 as id" in sqls(Path("."))["a.base"] and "1 as id" in sqls(root)["a.base"]
    assert Workspace(Path(".")).project.marts["a.base"].file == Path("marts/a/base.yml")  # paths as named


def test_a_fresh_edit_is_not_served_when_the_cache_is_rewritten_for_another_file(tmp_path: Path):
    """The racy entry reaches the cache file when a settled change elsewhere rewrites it; it must still
    be read again, not served, after an edit that keeps its size and mtime."""
    root = project(tmp_path)
    sqls(root)
    (root / "marts/a/base.yml").write_text("sql: select 4 as id, :n as n\n")  # fresh: inside the racy window
    many = root / "marts/b/many.yml"
    many.write_text(many.read_text().replace("select 2 as x", "select 3 as x"))
    past = time.time() - 60
    os.utime(many, (past, past))  # settled: its entry is worth writing, and the racy one goes with it
    written = cache(root).read_bytes()
    assert sqls(root)["a.base"] == "select 4 as id, :n as n"
    assert cache(root).read_bytes() != written
    same_size_edit(root / "marts/a/base.yml", "4 as id", "5 as id")
    assert sqls(root)["a.base"] == "select 5 as id, :n as n"


def test_another_sqlglot_drops_the_cache(tmp_path: Path, monkeypatch):
    """The loader asks sqlglot which dialects exist: marts loaded under another sqlglot are read again."""
    from importlib.machinery import ModuleSpec

    from martctl.project import loadcache

    root = project(tmp_path)
    sqls(root)
    same_size_edit(root / "marts/a/base.yml", "1 as id", "7 as id")  # unseen by a stamp: only a dropped cache sees it
    assert "1 as id" in sqls(root)["a.base"]
    elsewhere = ModuleSpec("sqlglot", None, origin=str(root / "marts/a/top_query.sql"))  # another file: another stamp
    monkeypatch.setattr(loadcache, "find_spec", lambda name: elsewhere if name == "sqlglot" else None)
    assert "7 as id" in sqls(root)["a.base"]
