"""Spark for the tests: one local session per pytest process, and a Spark Connect server started
from the pip package (no download): `spark-submit --class ...SparkConnectServer` with SPARK_HOME =
the pyspark package folder, on a free port, its catalog in a folder of its own.

One JVM can run one local warehouse (its Derby metastore is embedded), so every in-process test
builds into the session's warehouse with a schema_prefix of its own. When Spark cannot start:
with $CI set the tests FAIL (CI must never skip them silently); locally they skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PYTHON_ENV = {**os.environ, "NO_COLOR": "1", "PYSPARK_PYTHON": sys.executable}


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI: Spark did not start: {reason}", pytrace=False)
    pytest.skip(f"SPARK TESTS SKIPPED: {reason}")


def start_local(warehouse: Path):
    """The process's local session, its warehouse in `warehouse` (what martctl's adapter reuses)."""
    if shutil.which("java") is None:
        unavailable("no java on PATH (install a JRE 17+: .ci/run does)")
    try:
        from martctl.engine.adapters import spark_session
        from martctl.project.model import Target

        session, _, _ = spark_session.start(Target("spark", "spark", {"warehouse": str(warehouse), "master": "local[2]"}), warehouse)
    except Exception as exc:  # noqa: BLE001 - any failure to start is the reason
        unavailable(f"{type(exc).__name__}: {exc}")
    return session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConnectServer:
    """A Spark Connect server in a subprocess, ready when its log says it listens."""

    def __init__(self, folder: Path):
        import pyspark

        from martctl.engine.adapters.spark_session import local_conf

        self.port = free_port()
        self.url = f"sc://127.0.0.1:{self.port}"
        home = Path(pyspark.__file__).parent
        folder.mkdir(parents=True, exist_ok=True)
        conf = {**local_conf(folder, "local[2]"), "spark.connect.grpc.binding.port": str(self.port),
                "spark.log.level": "INFO"}  # its ready line is an INFO message
        args = [str(home / "bin" / "spark-submit"), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer"]
        for key, value in conf.items():
            args += ["--conf", f"{key}={value}"]
        self.log = folder / "connect.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**PYTHON_ENV, "SPARK_HOME": str(home)})

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while "Spark Connect server started" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                unavailable("the Spark Connect server did not start:\n" + self.log.read_text(errors="replace")[-2000:])
            time.sleep(0.2)  # polling the server's own log for its ready line (no timed assertion)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
