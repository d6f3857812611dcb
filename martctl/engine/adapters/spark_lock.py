"""The run lock of a Spark Connect target: a lock table in the catalog, `<prefix>martctl_state.run_lock`.

Creating a table that exists fails in the metastore (one statement, its own unique index), so at
most one run creates it: that run holds the lock until it drops the table. The table's properties
name the holder (pid, host, start time, command) and carry a heartbeat the holder renews every
HEARTBEAT seconds; a lock whose heartbeat is older than STALE seconds belonged to a run that died
(no OS tells a remote catalog) and is taken over, with a warning naming the dead holder.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Callable

from sqlglot import exp

from martctl.engine import ddl
from martctl.engine.lock import WaitReporter, describe, holder_info
from martctl.errors import AdapterError, LockBusy

HEARTBEAT = 15.0
STALE = 90.0
TABLE = "run_lock"


def _property(key: str, value: str) -> exp.Property:
    return exp.Property(this=exp.Literal.string(key), value=exp.Literal.string(value))


class LockTable:
    def __init__(self, sql: Callable, schema: str, target_name: str):
        self.sql, self.relation, self.target_name = sql, (schema, TABLE), target_name
        self.taken_over: dict | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _create(self, info: dict) -> bool:
        defs = [exp.ColumnDef(this=exp.to_identifier("held"), kind=exp.DataType.build("INT"))]
        props = [exp.FileFormatProperty(this=exp.var("PARQUET")), _property("martctl.holder", json.dumps(info)),
                 _property("martctl.heartbeat", str(time.time()))]
        create = exp.Create(this=exp.Schema(this=ddl.table(self.relation), expressions=defs), kind="TABLE",
                            properties=exp.Properties(expressions=props))
        try:
            self.sql(create, "cannot take the run lock")
        except AdapterError as exc:
            if "ALREADY_EXISTS" in str(exc).upper() or "already exists" in str(exc):
                return False
            raise
        return True

    def holder(self) -> tuple[dict, float]:
        """(the holder's note, seconds since its last heartbeat); ({}, 0) when the lock is free."""
        try:
            rows = self.sql(f"SHOW TBLPROPERTIES {ddl.table(self.relation).sql('spark')}", "cannot read the run lock").collect()
        except AdapterError:
            return {}, 0.0
        props = {r[0]: r[1] for r in rows}
        try:
            return json.loads(props.get("martctl.holder") or "{}"), time.time() - float(props.get("martctl.heartbeat") or 0)
        except ValueError:
            return {}, STALE + 1

    def acquire(self, wait_seconds: float = 0.0, info: dict | None = None, on_wait=None) -> None:
        info = info or holder_info()
        self.sql(ddl.create_schema(self.relation[0]), "cannot take the run lock")
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        reporter = WaitReporter(on_wait, wait_seconds)
        while not self._create(info):
            holder, age = self.holder()
            if age > STALE:  # its run died without dropping it
                self.taken_over = holder
                self.sql(ddl.drop(self.relation), "cannot take the run lock over")
                continue
            if wait_seconds:  # at once (a round trip to the catalog may outlast a short wait), then every minute
                reporter.tick(lambda: describe(holder))
            if time.monotonic() >= deadline:
                waited = f" after waiting {wait_seconds:g}s" if wait_seconds else ""
                raise LockBusy(f"another run holds the lock of spark target '{self.target_name}' (table "
                               f"{self.relation[0]}.{self.relation[1]}){waited}: {describe(holder)}; wait for it to "
                               "finish, or pass --wait SECONDS", holder)
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        self._beat = threading.Thread(target=self._heartbeat, name="martctl-lock-heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            action = exp.AlterSet(expressions=[exp.Properties(expressions=[_property("martctl.heartbeat", str(time.time()))])])
            try:
                self.sql(exp.Alter(this=ddl.table(self.relation), kind="TABLE", actions=[action]), "heartbeat")
            except Exception:
                pass  # the next beat tries again; a lock this stale is taken over by another run

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=HEARTBEAT)
        try:
            self.sql(ddl.drop(self.relation), "cannot release the run lock")
        except AdapterError:
            pass
