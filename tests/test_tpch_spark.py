"""The 22 TPC-H queries as marts (tests/tpch) built on the pytest process's local Spark session
give DuckDB's build, column for column and row for row (exactly equal values; rows compared as
sets, since a Spark table does not keep an ORDER BY's order when read back). The tables come from
the same seeded generator, loaded into DuckDB and handed to Spark as Arrow; their columns are read
from each warehouse's catalog (the sources declare none)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from test_tpch import QUERIES, SCALE, TPCH, _load_duckdb, _rows_duckdb
from tpch import datagen

sys.path.insert(0, str(Path(__file__).parent / "conformance"))
from conformance_compare import differences  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def built(spark_warehouse, tmp_path_factory):
    import duckdb
    from pyspark.sql import SparkSession

    import martctl

    base = tmp_path_factory.mktemp("tpch_spark")
    root = base / "project"
    shutil.copytree(TPCH, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["targets"]["spark"] = {"type": "spark", "warehouse": str(spark_warehouse), "schema_prefix": "tq_", "threads": 2}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    _load_duckdb(root / "warehouse.duckdb", datagen.write_tables(base / "data", SCALE))
    session = SparkSession.getActiveSession()
    session.sql("CREATE SCHEMA IF NOT EXISTS tpch")
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        for table in ("region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem"):
            frame = session.createDataFrame(con.sql(f"SELECT * FROM tpch.{table}").to_arrow_table())
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"tpch.{table}")
    for target in ("local", "spark"):
        report = martctl.open(root, target=target).build()
        assert report.exit_code() == 0, [(r.key, r.error) for r in report.failed]
    return root, session


@pytest.mark.parametrize("key", QUERIES)
def test_tpch_query_is_the_same_on_spark_as_on_duckdb(built, key):
    root, session = built
    duck_columns, duck_rows = _rows_duckdb(root, key)
    frame = session.sql(f"SELECT * FROM tq_{key}")
    assert list(frame.columns) == duck_columns
    assert duck_rows, f"{key}: the generated data gives no rows, so the comparison proves nothing"
    diff = differences(duck_rows, [tuple(r) for r in frame.collect()])
    assert not diff, f"{key}: Spark differs from DuckDB\n" + "\n".join(diff)
