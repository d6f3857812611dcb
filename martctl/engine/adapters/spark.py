"""Apache Spark through PySpark 4: one session per run (local or Spark Connect), threads over it.

Spark has no transactional DDL over Parquet: a mart is a view over versioned tables (rules in
spark_versions.py) and martctl's state an append-only log (spark_state.py), written after the
view's swap, so a kill never records a build that did not happen. Incremental runs copy the
current version and the new rows into the next version (copy-on-write: Parquet tables have no
DELETE), so a kill leaves the old or the new version. The run lock is a file beside the local
warehouse, or a lock table for Spark Connect (spark_lock.py).
"""

from __future__ import annotations

import re
import shutil
import threading
from typing import TYPE_CHECKING

from sqlglot import exp

from martctl.engine import ddl
from martctl.engine.adapters import spark_session, spark_versions
from martctl.engine.adapters.base import Adapter, QueryResult, Then
from martctl.engine.adapters.spark_state import StateLog, is_state
from martctl.engine.lock import FileLock, describe
from martctl.errors import AdapterError, LockBusy, ProjectError
from martctl.project.envvars import mask

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledMart
    from martctl.project.model import SourceTable

DIALECT = "spark"
_LINE = re.compile(r"line (\d+), (?:pos|position) \d+")
_DERBY_BUSY = "Another instance of Derby may have already booted"


def _text(node: exp.Expression | str) -> str:
    return node if isinstance(node, str) else node.sql(DIALECT)


class SparkAdapter(Adapter):
    type = "spark"

    def __init__(self, target, project_root):
        super().__init__(target, project_root)
        spark_session.require_driver(target)
        self.remote = bool(target.settings.get("remote"))
        self.warehouse = None if self.remote else spark_session.warehouse_dir(target, project_root)
        self.session = None
        self._owned = False
        self.startup_seconds = 0.0  # how long the session took to start (shown apart in the summary)
        self._lock = None if self.remote else FileLock(self.warehouse / "martctl.lock")
        self._table_lock = None
        self._state = StateLog(self.columns)
        self._state_guard = threading.Lock()  # appends to one Parquet table never overlap
        self._cancelled = threading.Event()
        self._names: dict[str, dict[str, bool]] = {}  # schema -> {name: is a view}
        self._schemas: set[str] = set()  # schemas known to exist
        self._names_guard = threading.Lock()

    # -- connection -------------------------------------------------------------------
    def connect(self) -> None:
        if self.session is not None:
            return
        if self._lock is not None and not self._lock.held:
            self._not_in_use()
        try:
            self.session, self._owned, self.startup_seconds = spark_session.start(self.target, self.project_root)
            self._sql("SHOW SCHEMAS")
        except (ProjectError, AdapterError):
            raise
        except Exception as exc:
            raise self._error(exc, "cannot start the Spark session") from None

    def _not_in_use(self) -> None:
        """A local warehouse opens in one JVM at a time (embedded Derby): a command that does not
        take the run lock (test, show) meets a running build here, and exits 3 naming it."""
        probe = FileLock(self._lock.path)
        try:
            probe.acquire(0.0, {"pid": 0})
        except LockBusy as exc:
            raise LockBusy(f"another run is using the Spark warehouse {self.warehouse}: {describe(exc.holder)}; "
                           "wait for it to finish", exc.holder) from None
        except OSError:
            return  # no lock file can be made: the session start says what is wrong
        probe.release()

    def require_existing(self) -> None:
        if self.warehouse is not None and not (self.warehouse / "metastore_db").is_dir():
            file, line = self.target.where("warehouse")
            raise ProjectError(f"target '{self.target.name}': there is no Spark warehouse at {self.warehouse} yet",
                               file, line, hint="build it first (martctl build), or check warehouse: and --target")

    def close(self) -> None:
        if self._table_lock is not None:  # its DROP needs the session: released before the session ends
            self.release_lock()
        session, self.session = self.session, None
        self._names, self._schemas = {}, set()
        if session is not None and self._owned:
            try:
                session.stop()
            except Exception:
                pass

    def cancel(self) -> None:
        self._cancelled.set()
        session = self.session
        if session is None:
            return
        try:
            if self.remote:
                session.interruptAll()
            else:
                session.sparkContext.cancelAllJobs()
        except Exception:
            pass

    def _error(self, exc: Exception, doing: str, statement: str | None = None) -> AdapterError | LockBusy:
        """One masked message; `.line` the statement line Spark pointed at, `.cancelled` after cancel()."""
        text = str(exc)
        if _DERBY_BUSY in text and self._lock is not None and not self._lock.held:
            holder = self._lock.holder()
            return LockBusy(f"another run is using the Spark warehouse {self.warehouse}: {describe(holder)}; "
                            "wait for it to finish", holder)
        first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
        error = AdapterError(mask(f"spark target '{self.target.name}': {doing}: {first}", self.target.secrets))
        match = _LINE.search(text)
        error.line = int(match.group(1)) if match and statement else None
        error.cancelled = self._cancelled.is_set()
        return error

    def _sql(self, statement: exp.Expression | str, doing: str = "statement failed"):
        """Run one statement; its result as a DataFrame (Spark runs DDL and DML at once)."""
        text = _text(statement)
        if self.session is None:
            raise AdapterError("not connected")
        try:
            return self.session.sql(text)
        except Exception as exc:
            raise self._error(exc, doing, text) from None

    def _rows(self, statement: exp.Expression | str, doing: str = "query failed", limit: int | None = None) -> QueryResult:
        frame = self._sql(statement, doing)
        try:
            rows = frame.take(limit) if limit is not None else frame.collect()
        except Exception as exc:
            raise self._error(exc, doing, _text(statement)) from None
        return QueryResult(list(frame.columns), [tuple(r) for r in rows])

    # -- run lock -----------------------------------------------------------------------
    def acquire_lock(self, wait_seconds: float = 0.0, info: dict | None = None, on_wait=None) -> None:
        if self._lock is not None:
            self._lock.acquire(wait_seconds, info, on_wait)
            return
        from martctl.engine.adapters.spark_lock import LockTable

        self.connect()
        self._table_lock = LockTable(self._sql, self._schema_of_lock(), self.target.name)
        self._table_lock.acquire(wait_seconds, info, on_wait)

    def _schema_of_lock(self) -> str:
        from martctl.engine.state import schema_name

        return schema_name(self.target.settings.get("schema_prefix") or "")

    def release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()
        if self._table_lock is not None:
            lock, self._table_lock = self._table_lock, None
            lock.release()

    @property
    def lock_taken_over(self) -> dict | None:
        lock = self._lock or self._table_lock
        return lock.taken_over if lock else None

    # -- catalog --------------------------------------------------------------------------
    def _catalog(self, schema: str) -> dict[str, bool]:
        """{name: is a view} of a schema (cached for the run; this adapter's changes keep it current)."""
        schema = schema.lower()
        with self._names_guard:
            if schema in self._names:
                return self._names[schema]
        exists = any(r[0].lower() == schema for r in self._rows("SHOW SCHEMAS").rows)
        names: dict[str, bool] = {}
        if exists:
            self._schemas.add(schema)
            for row in self._rows(f"SHOW TABLES IN {_text(exp.to_identifier(schema))}").rows:
                if not row[2]:  # not a temporary view
                    names[row[1].lower()] = False
            for row in self._rows(f"SHOW VIEWS IN {_text(exp.to_identifier(schema))}").rows:
                if not row[2]:
                    names[row[1].lower()] = True
        with self._names_guard:
            return self._names.setdefault(schema, names)

    def _noted(self, relation: tuple[str, str], is_view: bool | None) -> None:
        names = self._catalog(relation[0])
        with self._names_guard:
            if is_view is None:
                names.pop(relation[1].lower(), None)
            else:
                names[relation[1].lower()] = is_view

    def _ensure_schema(self, schema: str) -> None:
        if schema.lower() in self._schemas:
            return
        self._sql(ddl.create_schema(schema), f"cannot create schema {schema}")
        self._schemas.add(schema.lower())

    def replace_views(self, views, then=(), first=()) -> None:
        raise AdapterError(f"spark target '{self.target.name}': environments (--env) are not supported on Spark yet")

    def view_definition(self, schema: str, name: str) -> str | None:
        raise AdapterError(f"spark target '{self.target.name}': environments (--env) are not supported on Spark yet")

    def relations(self) -> set[tuple[str, str]]:
        out = set()
        for row in self._rows("SHOW SCHEMAS").rows:
            for name in self._catalog(row[0]):
                if not spark_versions.version_of(name):
                    out.add((row[0].lower(), name))
        return out

    def columns(self, schema: str, table: str) -> dict[str, str] | None:
        if table.lower() not in self._catalog(schema):
            return None
        rows = self._rows(f"DESCRIBE TABLE {_text(ddl.table((schema, table)))}").rows
        out = {}
        for name, kind, *_ in rows:
            if not name or name.startswith("#"):
                break  # partition information follows
            out[name] = kind
        return out

    # -- work ----------------------------------------------------------------------------
    def query(self, sql: str, limit: int | None = None) -> QueryResult:
        return self._rows(sql, "query failed", limit)

    def execute(self, statements) -> None:
        """Run statements one after the other (Spark has no transactions); the state's are appends."""
        statements = list(statements)
        if any(is_state(s) for s in statements if isinstance(s, (exp.Create, exp.Alter, exp.Delete, exp.Insert, exp.Update))):
            with self._state_guard:
                for statement in self._state.rewrite(statements):
                    self._sql(statement, "cannot write martctl's state")
                    self._track(statement)
            return
        for statement in statements:
            self._sql(statement, "statement failed")
            self._track(statement)

    def _track(self, statement) -> None:
        if isinstance(statement, exp.Create) and statement.kind in ("TABLE", "VIEW"):
            target = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
            if target.db:
                self._noted((target.db, target.name), statement.kind == "VIEW")
        elif isinstance(statement, exp.Create) and statement.kind == "SCHEMA":
            self._schemas.add(statement.this.name.lower())

    def materialize(self, compiled: "CompiledMart", full_refresh: bool = False, then: Then | None = None) -> int | None:
        relation = compiled.relation
        kind = compiled.mart.materialized
        self._ensure_schema(relation[0])
        doing = f"cannot build {relation[0]}.{relation[1]}"
        if kind == "view":
            if self._catalog(relation[0]).get(relation[1].lower()) is False:
                self._sql(ddl.drop(relation, "TABLE"), doing)
            self._sql(ddl.create_view(relation, compiled.sql), doing)
            self._noted(relation, True)
            self._record(then, None)
            self._drop_versions(relation, keep=set())
            return None
        current = self._current_version(relation)
        if kind == "incremental" and not full_refresh and current is not None:
            return self._incremental(compiled, current, then)
        return self._new_version(relation, compiled.sql, then, doing, current)

    def _record(self, then: Then | None, rows: int | None) -> None:
        if then is not None:
            self.execute(then(rows))

    def _versions(self, relation: tuple[str, str]) -> set[int]:
        base = relation[1].lower()
        found = (spark_versions.version_of(name) for name in list(self._catalog(relation[0])))
        return {v[1] for v in found if v and v[0] == base}

    def _current_version(self, relation: tuple[str, str]) -> int | None:
        """The version the mart's view reads, or None (no such view, or a view of another kind)."""
        if not self._catalog(relation[0]).get(relation[1].lower()):
            return None
        rows = self._rows(f"DESCRIBE TABLE EXTENDED {_text(ddl.table(relation))}").rows
        text = next((r[1] for r in rows if r[0] == "View Text"), None)
        return spark_versions.pointed_version(text, relation) if text else None

    def _new_version(self, relation: tuple[str, str], query, then: Then | None, doing: str, previous: int | None) -> int:
        """Write version n+1 whole, count it, point the view at it, record it, drop the versions
        but the new one and `previous` (the one the view read until now)."""
        n = self._next_version(relation)
        physical = spark_versions.versioned(relation, n)
        self._sql(ddl.create_table_as(physical, query), doing)
        self._noted(physical, False)
        rows = self._rows(exp.select(exp.Count(this=exp.Star())).from_(ddl.table(physical)), doing).rows[0][0]
        if self._catalog(relation[0]).get(relation[1].lower()) is False:  # a plain table of another tool
            self._sql(ddl.drop(relation, "TABLE"), doing)
        self._sql(spark_versions.point_view(relation, n), doing)
        self._noted(relation, True)
        self._record(then, int(rows))
        self._drop_versions(relation, keep={n, previous} - {None})
        return int(rows)

    def _next_version(self, relation: tuple[str, str]) -> int:
        """One above every version in the catalog; on a local warehouse also above the folders a
        killed write left without a catalog entry (deleted here: nothing reads them)."""
        n = max(self._versions(relation), default=0) + 1
        if self.warehouse is None:
            return n
        folder = self.warehouse / "tables" / f"{relation[0].lower()}.db"
        for path in folder.glob(f"{relation[1].lower()}{spark_versions.VERSION_MARK}*") if folder.is_dir() else ():
            found = spark_versions.version_of(path.name)
            if found and found[0] == relation[1].lower() and found[1] not in self._versions(relation):
                shutil.rmtree(path, ignore_errors=True)
                n = max(n, found[1] + 1)
        return n

    def _drop_versions(self, relation: tuple[str, str], keep: set[int]) -> None:
        for n in sorted(v for v in self._versions(relation) if v not in keep):
            physical = spark_versions.versioned(relation, n)
            self._sql(ddl.drop(physical), f"cannot drop {physical[0]}.{physical[1]}")
            self._noted(physical, None)

    def _incremental(self, compiled: "CompiledMart", current: int, then: Then | None) -> int:
        """Copy-on-write: the new rows into a batch table, then version n+1 = the current rows they do
        not replace (merge by unique_key) + the batch, swapped in like a table."""
        relation, spec = compiled.relation, compiled.mart.incremental
        doing = f"cannot build {relation[0]}.{relation[1]}"
        batch = ddl.batch(relation)
        types = self.columns(*relation) or {}
        window = getattr(compiled, "backfill", None)  # [start, end) of the cursor: those rows replaced
        in_window = ddl.in_range(spec["cursor"], *window, types.get(spec["cursor"]), DIALECT) if window else None
        predicate = in_window or ddl.new_rows_predicate(spec, relation, compiled.mart.dialect)
        self._sql(ddl.drop(batch), doing)
        self._sql(ddl.create_table_as(batch, ddl.filtered(compiled.sql, predicate)), doing)
        try:
            columns = list(types)
            old = spark_versions.versioned(relation, current)
            keep = ddl.select_columns(old, columns, alias="__martctl_old")
            if in_window is not None:  # the old rows of the range go (a NULL cursor is in no range)
                keep = keep.where(exp.not_(exp.func("COALESCE", in_window.copy(), exp.false())))
            keys = tuple(spec.get("unique_key") or ())
            if spec.get("strategy", "merge") == "merge" and keys:
                match = exp.and_(*[exp.column(k, "__martctl_old").eq(exp.column(k, "__martctl_src")) for k in keys])
                probe = exp.select(exp.Literal.number(1)).from_(ddl.table(batch, "__martctl_src")).where(match)
                keep = keep.where(exp.not_(exp.Exists(this=probe)))
            added = self._rows(exp.select(exp.Count(this=exp.Star())).from_(ddl.table(batch)), doing).rows[0][0]
            merged = exp.union(keep, ddl.select_columns(batch, columns), distinct=False)
            self._new_version(relation, merged, then, doing, current)
        finally:
            self._sql(ddl.drop(batch), doing)
        return int(added)

    def load_seed(self, source: "SourceTable", then: Then | None = None) -> int:
        """The CSV read by DuckDB exactly as on a DuckDB target (same types), handed to Spark as Arrow."""
        import duckdb

        from martctl.engine.adapters.duckdb import seed_query

        relation = (source.schema, source.name)
        doing = f"cannot load seed {relation[0]}.{relation[1]}"
        with duckdb.connect() as con:
            table = con.sql(seed_query(source, self.target.dialect).sql("duckdb")).to_arrow_table()
        self._ensure_schema(source.schema)
        view = f"__martctl_seed_{source.schema}_{source.name}"
        try:
            self.session.createDataFrame(table).createOrReplaceTempView(view)
        except Exception as exc:
            raise self._error(exc, doing) from None
        try:
            return self._new_version(relation, ddl.select_columns(("", view)), then, doing, self._current_version(relation))
        finally:
            self._sql(ddl.drop(("", view), "VIEW"), doing)
