"""Seeds are checked before anything loads (issue 10, item 6): a bad row is an error naming the file and
line, exit 2, and the warehouse keeps what it had; seeds load under the target's schema_prefix."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, write_project
from tests.test_validate import assert_clean_failure, cli

CONFIG = (
    "name: fx\ndialect: duckdb\ntargets:\n"
    "  local: {type: duckdb, path: wh.duckdb}\n"
    "  dev: {type: duckdb, path: wh.duckdb, schema_prefix: dev_}\n"
    "seeds:\n  column_types:\n    orders: {amount: \"decimal(12,2)\"}\n"
)
HEADER = "id,code,amount,ordered_on,paid\n"
GOOD_ROWS = "".join(f"{i},C{i % 7},{i}.50,2026-01-{1 + i % 28:02d},{'true' if i % 2 else 'false'}\n" for i in range(1, 41))
MART = "sql: select id, amount from raw.orders\n"


@pytest.fixture
def seeded(tmp_path) -> Path:
    """A project whose good seed is already loaded into wh.duckdb (40 rows in raw.orders)."""
    root = write_project(tmp_path, {"config.yaml": CONFIG, "seeds/orders.csv": HEADER + GOOD_ROWS, "marts/a/m.yml": MART})
    code, output = cli("seed", "--project-dir", str(root))
    assert code == 0, output
    return root


def loaded(root: Path, schema: str = "raw") -> tuple[int, list]:
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    try:
        count = con.execute(f"select count(*) from {schema}.orders").fetchone()[0]
        types = con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = 'orders' "
            "order by ordinal_position", [schema]).fetchall()
    finally:
        con.close()
    return count, types


GOOD_TYPES = [("id", "BIGINT"), ("code", "VARCHAR"), ("amount", "DECIMAL(12,2)"), ("ordered_on", "DATE"), ("paid", "BOOLEAN")]

BAD_ROWS = [  # (rows appended to the good file, what the error says)
    ("19,1,7.00\n", "seeds/orders.csv:42: this row has 3 fields, the header has 5"),
    ("41,C1,7.00,2026-01-02,true,extra\n", "seeds/orders.csv:42: this row has 6 fields, the header has 5"),
    ("41,C1,7.0q,2026-01-02,true\n", "seeds/orders.csv:42: '7.0q' in column 'amount' is not a DECIMAL(12, 2), its declared type"),
    ("41,C1,7.00,2026-13-02,true\n", "seeds/orders.csv:42: '2026-13-02' in column 'ordered_on' is not a date or timestamp, unlike its other 40 values"),
    ("4l,C1,7.00,2026-01-02,true\n", "seeds/orders.csv:42: '4l' in column 'id' is not a number, unlike its other 40 values"),
    ("41,C1,7.00,2026-01-02,yes please\n", "seeds/orders.csv:42: 'yes please' in column 'paid' is not true or false, unlike its other 40 values"),
    ('41,"C1,7.00,2026-01-02,true\n', "seeds/orders.csv:42: not valid CSV: unexpected end of data"),
    ("41,C1,7.00,2026-01-02,true\r\n", "seeds/orders.csv:42: this line ends in \\r\\n (Windows), the lines above in \\n (Unix)"),
]


def test_a_planted_bad_row_is_caught_by_validate_seed_and_build_and_nothing_is_loaded(seeded):
    seed = seeded / "seeds/orders.csv"
    before = (seeded / "wh.duckdb").read_bytes()
    for rows, message in BAD_ROWS:
        seed.write_text(HEADER + GOOD_ROWS + rows, encoding="utf-8", newline="")
        for command in ("validate", "seed", "build"):
            code, output = cli(command, "--project-dir", str(seeded))
            assert_clean_failure(code, output)
            assert message in output, (command, output)
            assert output.count("error:") == 1, output
        assert (seeded / "wh.duckdb").read_bytes() == before  # nothing loaded, nothing dropped
    assert loaded(seeded) == (40, GOOD_TYPES)


def test_good_seeds_pass_text_columns_with_mixed_values_too(tmp_path):
    """A column of codes that are mostly numbers but not only is text, not an error; nor are empty fields."""
    rows = "".join(f"{i},{i if i % 3 else f'A{i}'},{'' if i % 4 == 0 else f'{i}.5'},2026-01-01,\n" for i in range(1, 41))
    root = write_project(tmp_path, {"config.yaml": CONFIG, "seeds/orders.csv": HEADER + rows, "marts/a/m.yml": MART})
    code, output = cli("validate", "--project-dir", str(root))
    assert code == 0, output
    code, output = cli("seed", "--project-dir", str(root))
    assert code == 0, output
    assert loaded(root)[0] == 40


def test_the_demo_seeds_pass(tmp_path):
    from martctl.project.loader import load_project
    from martctl.project.seedfile import seed_problems

    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    project = load_project(tmp_path)
    assert len(project.seeds) == 5
    assert [p for s in project.seeds for p in seed_problems(s, project.config_file)] == []


def test_a_dev_build_loads_seeds_under_its_schema_prefix_and_leaves_production_alone(seeded):
    (seeded / "seeds/orders.csv").write_text(HEADER + GOOD_ROWS.split("\n", 10)[-1], encoding="utf-8")  # 30 rows
    code, output = cli("build", "--project-dir", str(seeded), "-t", "dev")
    assert code == 0, output
    assert loaded(seeded, "dev_raw")[0] == 30
    assert loaded(seeded) == (40, GOOD_TYPES)  # production's seed, untouched
    con = duckdb.connect(str(seeded / "wh.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from dev_a.m").fetchone()[0] == 30  # the dev mart read the dev seed
    finally:
        con.close()
    compiled = (seeded / "target/compiled/a/m.sql").read_text()
    assert "FROM dev_raw.orders" in compiled


def test_seeds_honour_schema_prefix_on_postgres(pg_server, tmp_path):
    dsn = pg_server.new_database()
    config = CONFIG.replace("  dev: {type: duckdb, path: wh.duckdb, schema_prefix: dev_}\n",
                            f"  pg: {{type: postgres, dsn: \"{dsn}\"}}\n  pgdev: {{type: postgres, dsn: \"{dsn}\", schema_prefix: dev_}}\n")
    root = write_project(tmp_path, {"config.yaml": config, "seeds/orders.csv": HEADER + GOOD_ROWS, "marts/a/m.yml": MART})
    assert cli("seed", "--project-dir", str(root), "-t", "pg")[0] == 0
    (root / "seeds/orders.csv").write_text(HEADER + GOOD_ROWS.split("\n", 10)[-1], encoding="utf-8")
    code, output = cli("build", "--project-dir", str(root), "-t", "pgdev")
    assert code == 0, output
    (root / "seeds/orders.csv").write_text(HEADER + GOOD_ROWS + "41,C1,7.00\n", encoding="utf-8")
    code, output = cli("seed", "--project-dir", str(root), "-t", "pg")
    assert_clean_failure(code, output)
    assert "seeds/orders.csv:42: this row has 3 fields, the header has 5" in output
    import psycopg

    with psycopg.connect(dsn) as con:
        counts = {schema: con.execute(f"select count(*) from {schema}.orders").fetchone()[0] for schema in ("raw", "dev_raw")}
        assert counts == {"raw": 40, "dev_raw": 30}
        assert con.execute("select count(*) from dev_a.m").fetchone()[0] == 30
