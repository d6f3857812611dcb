"""Starting (or reusing) the one Spark session of a run: a local session or Spark Connect.

Local (`master: "local[*]"`): the JVM runs inside this process, with Spark's built-in Hive
metastore on embedded Derby in `<warehouse>/metastore_db` and the tables' files under
`<warehouse>/tables`, so tables survive between runs. Remote (`remote: "sc://host:15002"`): a
Spark Connect client; the catalog and files are the cluster's. Nothing is downloaded: no
`spark.jars.packages`. Every session runs with the settings martctl's SQL assumes (SESSION_CONF).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

from martctl.errors import ProjectError

# what martctl's compiled SQL assumes: results never depend on the server's time zone, a bare
# TIMESTAMP is DuckDB's (without time zone), ANSI mode on (overflow and bad casts raise, as DuckDB)
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "true",
}
# a local session: no UI port, few shuffle partitions (one machine), quiet Derby
LOCAL_CONF = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false", "spark.log.level": "ERROR",
              "spark.sql.shuffle.partitions": "4", "spark.sql.catalogImplementation": "hive"}


def require_driver(target) -> None:
    """pyspark is an optional dependency: without it, say how to install it."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        file, line = target.where("type")
        raise ProjectError(f"target '{target.name}' is a spark target, but pyspark is not installed", file, line,
                           hint="pip install 'martctl[spark]' (and a Java 17+ runtime for a local session)") from None


def warehouse_dir(target, project_root: Path) -> Path:
    return (Path(project_root) / str(target.settings.get("warehouse") or "spark-warehouse")).resolve()


def local_conf(warehouse: Path, master: str) -> dict[str, str]:
    """The settings of a local session whose catalog and files live in `warehouse`."""
    derby = f"-Dderby.system.home={warehouse} -Dderby.stream.error.file={warehouse / 'derby.log'}"
    return {
        "spark.master": master,
        "spark.sql.warehouse.dir": str(warehouse / "tables"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={warehouse / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": derby,
        **LOCAL_CONF,
    }


def _owned_active(warehouse: Path | None):
    """A session this process already runs (a notebook's, or a test's): reused, never stopped by martctl."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession() or getattr(SparkSession, "_instantiatedSession", None)
    if active is None:
        return None
    if warehouse is not None:
        wanted = str(warehouse / "tables")
        current = active.conf.get("spark.sql.warehouse.dir", "")
        if current.removeprefix("file:").rstrip("/") != wanted:
            raise ProjectError(f"this process already runs a Spark session on another warehouse ({current})",
                               hint="one local Spark warehouse per process: use that warehouse or another process")
    return active


def start(target, project_root: Path) -> tuple[Any, bool, float]:
    """(session, started by us, seconds it took). Reuses this process's active session if there is one."""
    import logging

    from pyspark.sql import SparkSession

    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)  # martctl reports the error itself

    settings: Mapping[str, Any] = target.settings
    clock = time.perf_counter()
    remote = settings.get("remote")
    if remote:
        builder = SparkSession.builder.remote(str(remote))
    else:
        warehouse = warehouse_dir(target, project_root)
        active = _owned_active(warehouse)
        if active is not None:
            _apply(active, SESSION_CONF)
            return active, False, 0.0
        warehouse.mkdir(parents=True, exist_ok=True)
        builder = SparkSession.builder.appName("martctl")
        for key, value in local_conf(warehouse, str(settings.get("master") or "local[*]")).items():
            builder = builder.config(key, value)
    for key, value in {**SESSION_CONF, **dict(settings.get("conf") or {})}.items():
        builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    _apply(session, SESSION_CONF)
    return session, True, time.perf_counter() - clock


def _apply(session, conf: Mapping[str, str]) -> None:
    for key, value in conf.items():
        session.conf.set(key, value)
