"""PostgreSQL through psycopg 3: one connection per worker thread, transactional swaps.

Every change to a relation happens in one transaction (Postgres has transactional DDL): the
new version is built aside, the old one dropped, the new one renamed into place, and the views
that depended on the old one recreated, then COMMIT. A broken connection or a failed statement
rolls all of it back, so readers see the old or the new version, never none and never half.
The run lock is a session-level advisory lock held by its own connection.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from sqlglot import exp

from martctl.engine import ddl
from martctl.engine.adapters.base import Adapter, QueryResult, Then
from martctl.engine.lock import WaitReporter
from martctl.errors import AdapterError, LockBusy, LockLost, ProjectError
from martctl.project.dsnsecrets import password_parts
from martctl.project.envvars import mask

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledMart
    from martctl.project.model import SourceTable

DIALECT = "postgres"

# A relation (depth 0) and the views / materialized views that depend on it, transitively,
# deepest last: one round trip before each swap.
_WITH_DEPENDENTS = """
WITH RECURSIVE deps(oid, depth) AS (
    SELECT c.oid, 0 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relname = %s
  UNION
    SELECT r.ev_class, deps.depth + 1
    FROM deps JOIN pg_depend d ON d.refobjid = deps.oid JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class <> deps.oid AND deps.depth < 50
)
SELECT n.nspname, c.relname, c.relkind, CASE WHEN max(deps.depth) > 0 THEN pg_get_viewdef(c.oid) END, max(deps.depth)
FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace
GROUP BY n.nspname, c.relname, c.relkind, c.oid
ORDER BY max(deps.depth), n.nspname, c.relname
"""

_RELATION = """
SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s
"""

# kind and columns (name + type, in order) of several relations at once
_SHAPES = """
SELECT n.nspname, c.relname, c.relkind,
       array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
GROUP BY n.nspname, c.relname, c.relkind
"""

_COLUMNS = """
SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
FROM information_schema.columns
WHERE table_schema = %s AND table_name = %s
ORDER BY ordinal_position
"""

# our lock session still holds the run lock (same backend pid and start: a pid can be reused)
_LOCK_STILL_HELD = """
SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = %s AND l.objid = %s AND l.objsubid = 1 AND l.pid = %s AND a.backend_start = %s
"""

_LOCK_HOLDER = """
SELECT a.pid, a.application_name, a.backend_start, a.client_addr::text, a.usename
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = %s AND l.objid = %s AND l.objsubid = 1
"""


# -- statements martctl/ddl.py does not build (COPY, a table from column types) ------------------
def _sql(node: exp.Expression) -> str:
    return node.sql(dialect=DIALECT)


def create_columns(relation: tuple[str, str], columns: dict[str, exp.DataType]) -> exp.Create:
    defs = [exp.ColumnDef(this=exp.to_identifier(c), kind=t) for c, t in columns.items()]
    return exp.Create(this=exp.Schema(this=ddl.table(relation), expressions=defs), kind="TABLE")


def copy_from_stdin(relation: tuple[str, str], columns: list[str]) -> exp.Copy:
    target = exp.Schema(this=ddl.table(relation), expressions=[exp.to_identifier(c) for c in columns])
    return exp.Copy(this=target, kind=True, files=[exp.to_identifier("STDIN")])


def seed_types(source: "SourceTable") -> dict[str, exp.DataType]:
    """Column types of a seed: DuckDB's sniffer (what `martctl seed` creates on DuckDB) + overrides."""
    from martctl.project.loader import seed_column_types

    types = {c: exp.DataType.build(t or "VARCHAR", dialect="duckdb") for c, t in seed_column_types(source.seed).items()}
    for column, kind in source.column_types.items():
        if column not in types:
            raise ProjectError(f"seeds.column_types.{source.name}: the CSV has no column '{column}'",
                               hint=f"columns: {', '.join(types)}")
        try:
            types[column] = exp.DataType.build(kind, dialect="duckdb")
        except Exception:
            raise ProjectError(f"seeds.column_types.{source.name}.{column}: unknown type '{kind}'") from None
    return types


def require_driver(target) -> None:
    """psycopg is an optional dependency: without it, say how to install it."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        file, line = target.where("type")
        raise ProjectError(
            f"target '{target.name}' is a postgres target, but its driver (psycopg) is not installed",
            file,
            line,
            hint="pip install 'martctl[postgres]'",
        ) from None


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _key_halves(key: int) -> tuple[int, int]:
    """pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits)."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


class PostgresAdapter(Adapter):
    type = "postgres"

    def __init__(self, target, project_root):
        super().__init__(target, project_root)
        require_driver(target)
        self._local = threading.local()
        self._guard = threading.Lock()
        self._connections: list[Any] = []
        self._lock_con = None
        self._lock_session: tuple[int, Any] | None = None  # (backend pid, backend_start) holding the lock
        self._active: set[int] = set()
        self._schemas: set[str] = set()

    # -- connection -------------------------------------------------------------------
    @property
    def dsn(self) -> str:
        dsn = self.target.settings.get("dsn")
        if not dsn:
            raise ProjectError(f"target '{self.target.name}': a postgres target needs a dsn",
                               hint='dsn: "${MARTCTL_PG_DSN}" with MARTCTL_PG_DSN=postgresql://user:pass@host:5432/db')
        return dsn

    def mask(self, text: str) -> str:
        return mask(text, (*self.target.secrets, *password_parts(self.target.settings.get("dsn") or "")))

    def _error(self, exc: Exception, doing: str, statement: str | None = None) -> AdapterError:
        """One masked line: what we were doing and what the server said. `.cancelled` is set for a
        cancelled statement, `.line` to the statement line the server pointed at."""
        import psycopg

        # the server's echo of the statement ("LINE 3: ...") and its indented caret line are left out
        stripped = (line.strip() for line in str(exc).splitlines())
        lines = [line for line in stripped if line and not line.startswith(("LINE ", "^"))]
        message = " ".join(lines) or type(exc).__name__
        cancelled = isinstance(exc, psycopg.errors.QueryCanceled)
        if self._lost(exc) and doing != "cannot connect":
            message = f"connection to the server was lost ({message})"
        error = AdapterError(self.mask(f"postgres target '{self.target.name}': {doing}: {message}"))
        error.cancelled = cancelled
        error.line = None
        position = getattr(getattr(exc, "diag", None), "statement_position", None)
        if statement and position and str(position).isdigit():
            error.line = statement[: int(position) - 1].count("\n") + 1
        return error

    @staticmethod
    def _lost(exc: Exception) -> bool:
        import psycopg

        return isinstance(exc, psycopg.OperationalError) and not isinstance(exc, psycopg.errors.QueryCanceled)

    def _open(self, purpose: str = "worker"):
        import psycopg

        self._check_dsn()
        timeout = self.target.settings.get("connect_timeout", 10)
        try:
            con = psycopg.connect(self.dsn, autocommit=True, connect_timeout=timeout,
                                  application_name=f"martctl {purpose}")
        except psycopg.Error as exc:
            raise self._error(exc, "cannot connect") from None
        try:  # martctl's results never depend on the server's or the user's TimeZone: pin it
            con.execute("SET TimeZone = 'UTC'")
        except psycopg.Error as exc:
            con.close()
            raise self._error(exc, "cannot connect") from None
        with self._guard:
            self._connections.append(con)
        self._standard_strings(con)
        return con

    def _standard_strings(self, con) -> None:
        """sqlglot writes string literals for standard_conforming_strings = on (quotes doubled,
        backslashes kept): under `off` a backslash in a var would end the literal early (SQL
        injection). The server reports the setting with every change, so this costs a round trip
        only when a database, role or earlier statement turned it off; a session that cannot turn
        it back on is refused."""
        import psycopg

        if con.info.parameter_status("standard_conforming_strings") == "on":
            return
        try:
            con.execute("SET standard_conforming_strings = on")
        except psycopg.Error as exc:
            raise self._error(exc, "cannot set standard_conforming_strings = on") from None
        if con.info.parameter_status("standard_conforming_strings") != "on":
            raise AdapterError(f"postgres target '{self.target.name}': the server keeps standard_conforming_strings "
                               "off; martctl's SQL needs it on (ALTER DATABASE ... SET standard_conforming_strings = on)")

    def _check_dsn(self) -> None:
        """A DSN that does not parse is a configuration error (exit 2), not a server failure."""
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = conninfo_to_dict(self.dsn)
            bad_port = [p for p in str(params.get("port") or "").split(",") if p and not p.isdigit()]
            if bad_port:
                raise ValueError(f"port '{bad_port[0]}' is not a number")
        except Exception as exc:
            raise ProjectError(self.mask(f"target '{self.target.name}': invalid dsn: {exc}"),
                               hint="dsn: postgresql://user:password@host:5432/dbname (or key=value pairs)") from None

    def _con(self):
        """This thread's connection (reopened when the previous one broke)."""
        con = getattr(self._local, "con", None)
        if con is None or con.closed or con.broken:
            con = self._local.con = self._open()
        return con

    def connect(self) -> None:
        self._con()

    def close(self) -> None:
        self.release_lock()  # unlocked before its session closes: the next run's lock never races the exit
        with self._guard:
            connections, self._connections = self._connections, []
        for con in connections:
            try:
                con.close()
            except Exception:
                pass
        self._local = threading.local()
        self._lock_con = None

    def cancel(self) -> None:
        with self._guard:
            running = [c for c in self._connections if id(c) in self._active and not c.closed]
        for con in running:
            try:
                con.cancel_safe(timeout=5) if hasattr(con, "cancel_safe") else con.cancel()
            except Exception:
                pass

    @contextmanager
    def _cursor(self, doing: str, transaction: bool = False) -> Iterator[Any]:
        """This thread's cursor (inside one transaction when asked); driver errors -> AdapterError."""
        import psycopg

        con = self._con()
        self._standard_strings(con)  # an earlier mart may have called set_config(...) on this session
        self._active.add(id(con))
        self._local.statement = None
        try:
            if transaction:
                with con.transaction(), con.cursor() as cur:
                    yield cur
            else:
                with con.cursor() as cur:
                    yield cur
        except psycopg.Error as exc:
            raise self._error(exc, doing, self._local.statement) from None
        finally:
            self._active.discard(id(con))

    # -- run lock -----------------------------------------------------------------------
    @property
    def _lock_name(self) -> str:
        return "martctl:" + (self.target.settings.get("schema_prefix") or "")

    def acquire_lock(self, wait_seconds: float = 0.0, info: dict | None = None, on_wait=None) -> None:
        info = info or {}
        label = f"martctl run pid={info.get('pid') or os.getpid()} host={info.get('host') or socket.gethostname()}"
        con = self._open(purpose="lock")
        try:
            con.execute("SET application_name = " + _sql(exp.Literal.string(label[:63])))
        except Exception:
            pass
        key = _lock_key(self._lock_name)
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        reporter = WaitReporter(on_wait, wait_seconds)
        while True:
            try:
                got = con.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
            except Exception as exc:
                con.close()
                raise self._error(exc, "cannot take the run lock") from None
            if got:
                self._lock_con = con
                self._lock_session = con.execute("SELECT pid, backend_start FROM pg_stat_activity "
                                                 "WHERE pid = pg_backend_pid()").fetchone()
                # a run that lost this lock may be between its check and its commit: wait for it
                con.execute("SELECT pg_advisory_lock(%s), pg_advisory_unlock(%s)", [self._fence_key] * 2)
                return
            if time.monotonic() >= deadline:
                holder = self._holder(con, key)
                con.close()
                raise LockBusy(self._busy_message(holder, wait_seconds), holder)
            reporter.tick(lambda: self._holder_text(self._holder(con, key)))
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    @property
    def _fence_key(self) -> int:
        return _lock_key(self._lock_name + ":swap")

    def _check_lock(self, cur, relation: tuple[str, str]) -> None:
        """Inside a swap's transaction, just before COMMIT: the run lock is still ours, else raise
        LockLost (the transaction rolls back). The shared fence lock held from here to COMMIT makes
        a run that takes the lock over wait for this commit (see acquire_lock)."""
        if self._lock_session is None:
            return  # no run lock taken (the adapter used directly)
        self._execute(cur, "SELECT pg_advisory_xact_lock_shared(%s)", [self._fence_key])
        pid, started = self._lock_session
        if cur.execute(_LOCK_STILL_HELD, [*_key_halves(_lock_key(self._lock_name)), pid, started]).fetchone():
            return
        raise LockLost(
            f"postgres target '{self.target.name}': the run lock was lost (its session, backend pid {pid}, ended: "
            f"pg_terminate_backend, a server restart or a dropped connection); another run may have started, so "
            f"this run stops before swapping {relation[0]}.{relation[1]} (rolled back); run it again"
        )

    def _holder(self, con, key: int) -> dict:
        try:
            row = con.execute(_LOCK_HOLDER, list(_key_halves(key))).fetchone()
        except Exception:
            row = None
        if not row:
            return {}
        return {"backend_pid": row[0], "application_name": row[1], "backend_start": row[2].isoformat(timespec="seconds"),
                "client_addr": row[3], "user": row[4]}

    @staticmethod
    def _holder_text(holder: dict) -> str:
        return (f"held by backend pid {holder.get('backend_pid')} ('{holder.get('application_name')}', "
                f"connected since {holder.get('backend_start')}" + (f" from {holder['client_addr']}" if holder.get("client_addr") else "") + ")"
                if holder else "held by another session")

    def _busy_message(self, holder: dict, waited: float) -> str:
        who = self._holder_text(holder)
        waited_text = f" after waiting {waited:g}s" if waited else ""
        return (f"another martctl run holds the lock of postgres target '{self.target.name}'{waited_text}: {who}; "
                "wait for it, pass --wait SECONDS, or end that session (pg_terminate_backend) if it is stuck")

    def release_lock(self) -> None:
        con, self._lock_con, self._lock_session = self._lock_con, None, None
        if con is None:
            return
        try:
            con.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(self._lock_name)])
        except Exception:
            pass  # closing the session releases it anyway
        finally:
            con.close()
            with self._guard:
                if con in self._connections:
                    self._connections.remove(con)

    # -- work ---------------------------------------------------------------------------
    def query(self, sql: str, limit: int | None = None) -> QueryResult:
        with self._cursor("query failed") as cur:
            cur.execute(sql)
            if cur.description is None:
                return QueryResult([], [])
            rows = cur.fetchall() if limit is None else cur.fetchmany(limit)
            return QueryResult([d.name for d in cur.description], [tuple(r) for r in rows])

    def columns(self, schema: str, table: str) -> dict[str, str] | None:
        with self._cursor(f"cannot read the columns of {schema}.{table}") as cur:
            if cur.execute(_RELATION, [schema, table]).fetchone() is None:
                return None
            rows = cur.execute(_COLUMNS, [schema, table]).fetchall()
        return {name: _type_text(kind, length, precision, scale) for name, kind, length, precision, scale in rows}

    def change_counters(self, relations):
        """pg_stat_user_tables' counters of plain tables, with guards against resets (see pgcounters.py)."""
        from martctl.engine.adapters import pgcounters

        with self._cursor("cannot read the change counters") as cur:
            why = pgcounters.unusable(cur)
            if why:
                return {}, f"Postgres change counters not used: {why}"
            return pgcounters.versions(cur, relations), pgcounters.COUNTERS

    def materialize(self, compiled: "CompiledMart", full_refresh: bool = False, then: Then | None = None) -> int | None:
        relation = compiled.relation
        kind = compiled.mart.materialized
        self._ensure_schema(relation[0])
        with self._cursor(f"cannot build {relation[0]}.{relation[1]}", transaction=True) as cur:
            if kind == "view":
                self._swap(cur, relation, lambda: self._execute(cur, ddl.create_view(relation, compiled.sql, replace=False)), aside=False)
                return self._then(cur, then, None)
            if kind == "incremental" and not full_refresh and self._relkind(cur, relation) == "r":
                return self._then(cur, then, self._incremental(cur, compiled))
            rows = self._swap(cur, relation, lambda: self._execute(cur, ddl.create_table_as(ddl.aside(relation), compiled.sql)).rowcount)
            return self._then(cur, then, rows)

    def _then(self, cur, then: Then | None, rows: int | None) -> int | None:
        """The state's record of the build, last in its transaction (committed with it or not at all)."""
        for statement in then(rows) if then is not None else ():
            self._execute(cur, statement)
        return rows

    def execute(self, statements) -> None:
        with self._cursor("cannot write martctl's state", transaction=True) as cur:
            for statement in statements:
                self._execute(cur, statement)

    def replace_views(self, views, then=(), first=()) -> None:
        """CREATE OR REPLACE VIEW where the columns allow it, else the old view or table is dropped and its
        dependent views recreated (see _swap); all in one transaction. A view that only selects * from a
        table whose columns extend the view's is replaced at once (its shape read for all in one query);
        other views are tried in a savepoint."""
        import psycopg

        for relation, _ in views:
            self._ensure_schema(relation[0])
        with self._cursor("cannot re-point views", transaction=True) as cur:
            for statement in first:
                self._execute(cur, statement)
            shapes = self._shapes(cur, [r for r, _ in views] + [t for _, q in views if (t := _star_source(q))])
            swapped = False
            for index, (relation, query) in enumerate(views):
                later = {r for r, _ in views[index + 1:]}  # replaced below anyway: not recreated from old text
                old, source = shapes.get(relation), shapes.get(_star_source(query))
                if not swapped and old and old[0] == "v" and source and source[1][:len(old[1])] == old[1]:
                    self._execute(cur, ddl.create_view(relation, query))
                    continue
                if self._relkind(cur, relation) == "v":
                    try:
                        with cur.connection.transaction():
                            self._execute(cur, ddl.create_view(relation, query))
                        continue
                    except psycopg.errors.InvalidTableDefinition:
                        pass  # columns removed, renamed or retyped: drop and recreate below
                self._swap(cur, relation, lambda r=relation, q=query: self._execute(cur, ddl.create_view(r, q, replace=False)),
                           aside=False, skip=later)
                swapped = True
            for statement in then:
                self._execute(cur, statement)

    @staticmethod
    def _shapes(cur, relations) -> dict:
        """(schema, name) -> (relkind, [column and type, ...]) of those that exist."""
        if not relations:
            return {}
        rows = cur.execute(_SHAPES, [[r[0] for r in relations], [r[1] for r in relations]]).fetchall()
        return {(schema, name): (kind, list(columns)) for schema, name, kind, columns in rows}

    def view_definition(self, schema: str, name: str) -> str | None:
        with self._cursor(f"cannot read the view {schema}.{name}") as cur:
            row = cur.execute("SELECT pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'v'", [schema, name]).fetchone()
        return row[0].strip().rstrip(";") if row else None

    def relations(self) -> set[tuple[str, str]]:
        with self._cursor("cannot list relations") as cur:
            rows = cur.execute("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')").fetchall()
        return {(schema.lower(), name.lower()) for schema, name in rows}

    def load_seed(self, source: "SourceTable", then: Then | None = None) -> int:
        import csv

        types = seed_types(source)
        relation = (source.schema, source.name)

        def build() -> int:
            self._execute(cur, create_columns(ddl.aside(relation), types))
            count = 0
            with source.seed.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader, [])
                with cur.copy(_sql(copy_from_stdin(ddl.aside(relation), header))) as copy:
                    for row in reader:
                        if row:
                            copy.write_row([value if value != "" else None for value in row])
                            count += 1
            return count

        self._ensure_schema(source.schema)
        with self._cursor(f"cannot load seed {source.schema}.{source.name}", transaction=True) as cur:
            return self._then(cur, then, self._swap(cur, relation, build))

    # -- helpers --------------------------------------------------------------------------
    def _execute(self, cur, statement: exp.Expression | str, params=None):
        """Run one statement; remember its text so an error can name the line it points at."""
        text = statement if isinstance(statement, str) else _sql(statement)
        self._local.statement = text
        return cur.execute(text, params)

    def _ensure_schema(self, schema: str) -> None:
        """CREATE SCHEMA IF NOT EXISTS in its own transaction (it races between sessions)."""
        import psycopg

        if schema in self._schemas:
            return
        for attempt in range(3):
            try:
                with self._cursor(f"cannot create schema {schema}") as cur:
                    self._execute(cur, ddl.create_schema(schema))
                break
            except AdapterError as exc:
                if not isinstance(exc.__context__, psycopg.errors.UniqueViolation) or attempt == 2:
                    raise
        self._schemas.add(schema)

    @staticmethod
    def _relkind(cur, relation: tuple[str, str]) -> str | None:
        row = cur.execute(_RELATION, list(relation)).fetchone()
        return row[1] if row else None

    def _swap(self, cur, relation: tuple[str, str], build, aside: bool = True, skip=frozenset()) -> Any:
        """Inside the caller's transaction: build the new version (aside), drop the old one and
        its dependent views, put the new one in place, recreate those views (but those in `skip`)."""
        # no leftover aside table can exist: it is created and renamed in this same transaction
        result = build() if aside else None
        found = cur.execute(_WITH_DEPENDENTS, list(relation)).fetchall()
        dependents = [row for row in found if row[4] > 0]
        if found and found[0][4] == 0:
            kind = {"v": "VIEW", "m": "MATERIALIZED VIEW"}.get(found[0][2], "TABLE")
            self._execute(cur, ddl.drop(relation, kind, cascade=True))
        if aside:
            self._execute(cur, ddl.rename(ddl.aside(relation), relation[1]))
        else:
            result = build()
        for dep_schema, dep_name, relkind, definition, _ in dependents:
            if (dep_schema, dep_name) not in skip:
                self._recreate_view(cur, dep_schema, dep_name, relkind, definition)
        self._check_lock(cur, relation)
        return result

    @staticmethod
    def _recreate_view(cur, schema: str, name: str, relkind: str, definition: str) -> None:
        """The server's own text of a dependent view, put back under its name (quoted by psycopg)."""
        from psycopg import sql

        kind = sql.SQL("MATERIALIZED VIEW" if relkind == "m" else "VIEW")
        body = sql.SQL(definition.strip().rstrip(";"))  # pg_get_viewdef's text, not user input
        cur.execute(sql.SQL("CREATE {} {} AS {}").format(kind, sql.Identifier(schema, name), body))

    def _incremental(self, cur, compiled: "CompiledMart") -> int:
        """The new rows into a batch table, then (merge) delete the rows they replace and insert
        them, inside the caller's transaction. Same semantics as the DuckDB adapter (ddl.py)."""
        existing = {name: _type_text(kind, length, precision, scale)  # a backfill casts its bounds to the cursor's type
                    for name, kind, length, precision, scale in cur.execute(_COLUMNS, list(compiled.relation)).fetchall()}
        self._execute(cur, ddl.drop(ddl.batch(compiled.relation)))  # a leftover of an interrupted run
        count = 0
        for statement in ddl.incremental_statements(compiled, existing):
            done = self._execute(cur, statement)
            if isinstance(statement, exp.Insert):
                count = done.rowcount
        self._check_lock(cur, compiled.relation)
        return count


def _star_source(query) -> tuple[str, str] | None:
    """The table of a `SELECT * FROM schema.table` (an environment's view over a physical table), else None."""
    if not isinstance(query, exp.Select) or len(query.expressions) != 1 or not isinstance(query.expressions[0], exp.Star):
        return None
    tables = list(query.find_all(exp.Table))
    if len(tables) != 1 or len(query.args) > 2 or not tables[0].db:
        return None
    return (tables[0].db, tables[0].name)


def _type_text(kind: str, length, precision, scale) -> str:
    if kind == "numeric" and precision is not None:
        return f"numeric({precision},{scale or 0})"
    if kind in ("character varying", "character") and length is not None:
        return f"{kind}({length})"
    return kind
