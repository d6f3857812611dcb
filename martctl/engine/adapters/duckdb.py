"""DuckDB: the embedded default. One database handle, one cursor per worker thread.

DuckDB's DDL is transactional: a table is built and swapped in within one transaction
(CREATE OR REPLACE, or create-aside + drop + rename), so a kill at any point leaves the old table
(nothing committed) or the new one (committed). Leftover aside/batch tables of an interrupted
run are dropped on connect anyway.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from sqlglot import exp

from martctl.engine import batch, ddl
from martctl.engine.adapters.base import Adapter, QueryResult, Then, row_list
from martctl.engine.lock import FileLock
from martctl.errors import AdapterError, LockBusy, ProjectError
from martctl.project.seedfile import DUCKDB_CSV_OPTIONS

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledMart
    from martctl.project.model import SourceTable, Target

_RELATIONS = (
    "select table_schema, table_name, table_type from information_schema.tables "
    "where table_catalog = current_database()"
)
_COLUMNS = (
    "select column_name, data_type from information_schema.columns "
    "where table_catalog = current_database() and table_schema = ? and table_name = ? order by ordinal_position"
)
_LINE = re.compile(r"\n*LINE (\d+):.*", re.DOTALL)


def statement_error(exc: Exception, secrets: Sequence[str] = ()) -> AdapterError:
    """The engine's message as an AdapterError; `.line` is the statement line DuckDB pointed at."""
    from martctl.project.envvars import mask

    text = str(exc)
    match = _LINE.search(text)
    error = AdapterError(mask(_LINE.sub("", text).strip(), secrets))
    error.line = int(match.group(1)) if match else None
    error.cancelled = type(exc).__name__ == "InterruptException"
    return error


def _count(results: list) -> int | None:
    """The row count the first statement of a build returned (CREATE TABLE AS reports it)."""
    first = results[0] if results else None
    return int(first[0]) if first and isinstance(first[0], int) else None


def _why(path: Path, exc: OSError) -> str:
    """The reason a database path is unusable, in words: a folder on the way that is a file, else the OS's."""
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    return f"{blocking} is a file, not a folder" if blocking else (exc.strerror or str(exc))


def seed_query(source: "SourceTable", dialect: str):
    """SELECT * FROM read_csv(the seed, martctl's CSV options, the declared types): a seed's rows as DuckDB reads them."""
    from sqlglot import exp

    overrides = {c: exp.DataType.build(t, dialect=dialect).sql("duckdb") for c, t in source.column_types.items()}
    args: list[exp.Expression] = [exp.EQ(this=exp.column(k), expression=exp.convert(v)) for k, v in DUCKDB_CSV_OPTIONS.items()]
    if overrides:
        struct = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(c), expression=exp.Literal.string(t))
                                         for c, t in overrides.items()])
        args.append(exp.EQ(this=exp.column("types"), expression=struct))
    reader = exp.ReadCSV(this=exp.Literal.string(str(Path(source.seed).resolve())), expressions=args)
    return exp.select(exp.Star()).from_(exp.Table(this=reader))


class DuckDBAdapter(Adapter):
    type = "duckdb"
    close_in_background = True  # its checkpoint runs in DuckDB without the GIL
    # Test seam (tests/test_faults.py): called between the statements of one transaction with the
    # index and text of the statement about to run; raising there fails the transaction at that
    # point, as a crash or an engine error would. Always None outside tests.
    between_statements: Callable[[int, str], None] | None = None

    def __init__(self, target: "Target", project_root: Path):
        super().__init__(target, project_root)
        raw = str(target.settings.get("path") or "warehouse.duckdb")
        self.memory = raw == ":memory:" or raw.startswith(":memory:")
        self.path = raw if self.memory else str((Path(project_root) / raw).resolve())
        self._con = None
        self._local = threading.local()
        self._cursors: list = []
        self._guard = threading.Lock()
        self._schema_lock = threading.Lock()
        self._relations: dict[tuple[str, str], str] = {}  # (schema, name) lowercased -> TABLE | VIEW
        self._schemas: set[str] = set()
        self._lock = None if self.memory else FileLock(self.path + ".martctl.lock")
        self.cleaned: list[str] = []  # leftovers dropped on connect
        self._pool_lock = threading.Lock()
        self._cores = self._pool = 0  # DuckDB's own thread count when connected; the count set now

    # -- connection -------------------------------------------------------------
    def connect(self) -> None:
        import duckdb

        if self._con is not None:
            return
        try:
            if not self.memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(self.path, read_only=self.read_only and not self.memory)
        except OSError as exc:
            raise self._unreachable(_why(Path(self.path), exc)) from None
        except duckdb.Error as exc:
            if "lock" in str(exc).lower() and self._lock is not None and not self._lock.held:
                raise self._busy() from None  # another process (a build) has the file open
            if "lock" in str(exc).lower():
                raise AdapterError(f"cannot open DuckDB database {self.path}: {exc}") from None
            raise self._unreachable(str(exc).strip().splitlines()[0]) from None
        self._cores = self._pool = int(self._con.execute("SELECT current_setting('threads')").fetchone()[0])
        self._load_relations()
        if not self.read_only:
            self._clean_leftovers()

    def _load_relations(self, con=None) -> None:
        rows = (con or self._con).execute(_RELATIONS).fetchall()
        self._relations = {(s.lower(), n.lower()): ("VIEW" if "VIEW" in t.upper() else "TABLE") for s, n, t in rows}
        self._schemas = {s.lower() for s, _, _ in rows}

    def _clean_leftovers(self) -> None:
        for (schema, name), kind in list(self._relations.items()):
            if ddl.is_leftover(name):
                self._con.execute(ddl.drop((schema, name), kind).sql("duckdb"))
                self._relations.pop((schema, name))
                self.cleaned.append(f"{schema}.{name}")

    def _cursor(self):
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            if self._con is None:
                raise AdapterError("not connected")
            cursor = self._con.cursor()
            self._local.cursor = cursor
            with self._guard:
                self._cursors.append(cursor)
        return cursor

    def workers_building(self, count: int, quick: int = 0) -> None:
        """DuckDB runs each query on the calling thread and its pool's other threads: with `count`
        workers building at once, a pool of cores - count + 1 threads keeps them all on a core of their
        own (2 workers on 2 cores: each query on its own thread; its pool at the default, they ran 1,000
        small marts 12-15 % slower). Quick builds only: each on its calling thread alone (splitting a
        small query costs more than it gains: 1,000 small marts on 1 worker, 11 % quicker). A lone
        build not known to be quick, or the run's end, gets the whole default back."""
        import duckdb

        if count and quick >= count:
            wanted = 1
        else:
            wanted = max(1, self._cores - count + 1) if count > 1 else self._cores
        with self._pool_lock:
            if self._con is None or wanted == self._pool:
                return
            try:
                cursor = self._con.cursor()  # not a worker's: that one may be inside its batch
                try:
                    cursor.execute(f"SET threads = {int(wanted)}")
                finally:
                    cursor.close()
            except duckdb.Error:  # only speed is at stake: the run goes on with the pool as it is
                return
            self._pool = wanted

    def close(self) -> None:
        with self._guard:
            cursors, self._cursors = self._cursors, []
        for cursor in cursors:
            try:
                cursor.close()
            except Exception:
                pass
        self._local = threading.local()
        if self._con is not None:
            self._con.close()
            self._con = None

    def cancel(self) -> None:
        with self._guard:
            cursors = list(self._cursors)
        for cursor in cursors:
            try:
                cursor.interrupt()
            except Exception:
                pass

    def _unreachable(self, reason: str) -> ProjectError:
        """The configured path cannot hold a database: a configuration problem (exit 2)."""
        file, line = self.target.where("path")
        return ProjectError(
            f"target '{self.target.name}': cannot open the DuckDB database {self.path}: {reason}",
            file,
            line,
            hint="set path: to a DuckDB file in a folder martctl can create and write (relative paths start at the project)",
        )

    def require_existing(self) -> None:
        if not self.memory and not Path(self.path).is_file():
            file, line = self.target.where("path")
            raise ProjectError(
                f"target '{self.target.name}': there is no warehouse at {self.path} yet",
                file,
                line,
                hint="build it first (martctl build), or check path: and --target",
            )

    # -- run lock ----------------------------------------------------------------
    def acquire_lock(self, wait_seconds: float = 0.0, info: dict | None = None, on_wait=None) -> None:
        if self._lock is not None:
            try:
                self._lock.acquire(wait_seconds, info, on_wait)
            except OSError as exc:
                raise self._unreachable(_why(Path(self.path), exc)) from None

    def _busy(self) -> LockBusy:
        """Another process has the database file open for writing (a build): say who, as the lock does."""
        from martctl.engine.lock import describe

        holder = self._lock.holder()
        return LockBusy(f"another run is using {self.path}: {describe(holder)}; wait for it to finish", holder)

    def release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()

    @property
    def lock_taken_over(self) -> dict | None:
        return self._lock.taken_over if self._lock else None

    # -- work --------------------------------------------------------------------
    def _text(self, statement) -> str:
        """A statement built for this call rendered for DuckDB, by this thread's generator and without the
        copy `.sql()` makes first (a tenth of a millisecond a mart: a tenth of a second in 1,000)."""
        if isinstance(statement, str):
            return statement
        generator = getattr(self._local, "generator", None)
        if generator is None:
            from sqlglot.dialects.dialect import Dialect

            generator = self._local.generator = Dialect.get_or_raise("duckdb").generator()
        return generator.generate(statement, copy=False)

    # -- batches -----------------------------------------------------------------
    batches = True

    def _in_batch(self) -> bool:
        return getattr(self._local, "batch", None) is not None

    def begin_batch(self, schemas=()) -> None:
        for schema in schemas:  # a schema created inside a batch is invisible to the other threads' batches
            self._ensure_schema(schema)
        self._cursor().execute("BEGIN TRANSACTION")
        self._local.batch = {"failed": False}

    def log_full(self) -> bool:
        return self._wal_bytes() >= batch.WAL_BYTES

    def checkpoint(self) -> bool:
        """DuckDB's CHECKPOINT, refused while another write transaction is open (the runner first lets
        every batch commit: see execute._Run._checkpoint)."""
        if self._in_batch():  # this thread's own open transaction would refuse it
            return False
        import duckdb

        try:
            self._cursor().execute("CHECKPOINT")
        except duckdb.Error:  # another worker's transaction is open
            return False
        return not self.log_full()

    def _wal_bytes(self) -> int:
        if self.memory:
            return 0
        try:
            return os.path.getsize(self.path + ".wal")
        except OSError:  # no log: everything is checkpointed
            return 0

    def batch_failed(self) -> bool:
        return self._in_batch() and self._local.batch["failed"]

    def commit_batch(self, statements=()) -> None:
        import duckdb

        cursor = self._cursor()
        try:
            for index, statement in enumerate(statements):
                text = self._text(statement)
                if self.between_statements is not None:
                    self.between_statements(index, text)
                cursor.execute(text)
            cursor.execute("COMMIT")
        except BaseException as exc:
            self.rollback_batch()
            if isinstance(exc, duckdb.Error):
                raise statement_error(exc, self.target.secrets) from None
            raise
        self._local.batch = None

    def rollback_batch(self) -> None:
        import duckdb

        try:
            self._cursor().execute("ROLLBACK")
        except duckdb.Error:
            pass
        self._local.batch = None
        with self._schema_lock:  # what the batch created or dropped is undone: the catalog is read again
            self._load_relations(self._cursor())

    def _failed_in_batch(self) -> None:
        if self._in_batch():
            self._local.batch["failed"] = True

    def _run(self, statements: list, transaction: bool = True, then: Then | None = None) -> list:
        """Execute statements (ASTs or text) on this thread's cursor, in one transaction; return the
        first row of each. `then(count)` gives statements to run last in the same transaction (the
        state's record of the build, given the first statement's row count). Any failure rolls
        everything back and raises AdapterError."""
        import duckdb

        cursor = self._cursor()
        texts = [self._text(s) for s in statements]
        if (len(texts) == 1 and then is None) or self._in_batch():  # a batch is the transaction
            transaction = False
        results = []
        try:
            if transaction:
                cursor.execute("BEGIN TRANSACTION")
            for index, text in enumerate(texts):
                if index and self.between_statements is not None:
                    self.between_statements(index, text)
                results.append(cursor.execute(text).fetchone())
            for extra in then(_count(results)) if then is not None else ():
                text = self._text(extra)
                if self.between_statements is not None:
                    self.between_statements(len(results), text)
                cursor.execute(text)
            if transaction:
                cursor.execute("COMMIT")
        except BaseException as exc:  # an engine error, or anything else mid-way: nothing is kept
            self._failed_in_batch()
            if transaction:
                try:
                    cursor.execute("ROLLBACK")
                except duckdb.Error:
                    pass
            if isinstance(exc, duckdb.Error):
                raise statement_error(exc, self.target.secrets) from None
            raise
        return results

    def query(self, sql: str, limit: int | None = None) -> QueryResult:
        import duckdb

        cursor = self._cursor()
        try:
            result = cursor.execute(sql)
            rows = result.fetchmany(limit) if limit is not None else result.fetchall()
        except duckdb.Error as exc:
            self._failed_in_batch()
            raise statement_error(exc, self.target.secrets) from None
        return QueryResult([d[0] for d in result.description or []], row_list(rows))

    def _kind(self, relation: tuple[str, str]) -> str | None:
        return self._relations.get((relation[0].lower(), relation[1].lower()))

    def _ensure_schema(self, schema: str) -> None:
        if schema.lower() in self._schemas:
            return
        with self._schema_lock:  # concurrent CREATE SCHEMA conflict in DuckDB's catalog: one at a time
            if schema.lower() not in self._schemas:
                self._run([ddl.create_schema(schema)])
                self._schemas.add(schema.lower())

    def execute(self, statements: list) -> None:
        self._run(statements)
        self._noted(statements)

    def _noted(self, statements: list) -> None:
        """Keep the catalog cache in step with committed CREATE / DROP statements (any thread; no query)."""
        for statement in statements:
            if not isinstance(statement, (exp.Create, exp.Drop)) or not isinstance(statement.args.get("kind"), str):
                continue
            kind = statement.args["kind"].upper()
            tables = [statement.this] if isinstance(statement, exp.Create) else list(statement.args.get("tables") or [])
            for node in tables:
                if kind == "SCHEMA":
                    self._schemas.add(node.name.lower())
                elif kind in ("TABLE", "VIEW") and isinstance(node, exp.Table):
                    relation = (node.db.lower(), node.name.lower())
                    if isinstance(statement, exp.Create):
                        self._relations[relation] = kind
                    else:
                        self._relations.pop(relation, None)

    def replace_views(self, views, then=(), first=()) -> None:
        """DuckDB binds views by name: CREATE OR REPLACE VIEW (a table there is dropped first)."""
        for relation, _ in views:
            self._ensure_schema(relation[0])
        statements = list(first)
        for relation, query in views:
            if self._kind(relation) == "TABLE":
                statements.append(ddl.drop(relation, "TABLE"))
            statements.append(ddl.create_view(relation, query))
        self._run(statements + list(then))
        self._noted(statements)

    def view_definition(self, schema: str, name: str) -> str | None:
        import sqlglot

        rows = self.query_params("select sql from duckdb_views() where schema_name = ? and view_name = ?", [schema, name])
        return sqlglot.parse_one(rows[0][0], read="duckdb").expression.sql("duckdb") if rows else None

    def relations(self) -> set[tuple[str, str]]:
        return set(self._relations)

    def _replace_table(self, relation: tuple[str, str], query, then: Then | None = None) -> int | None:
        """Build the new table and swap it in, in one transaction.

        DuckDB's CREATE OR REPLACE TABLE is exactly that: the new rows are written aside and the
        catalog entry replaced at commit (a kill before the commit leaves the old table). It is
        1.4-2x faster than create-aside + drop + rename, which is kept for replacing a view."""
        self._ensure_schema(relation[0])
        if self._kind(relation) == "VIEW":
            statements = [ddl.create_table_as(ddl.aside(relation), query), *ddl.swap(relation, "VIEW")]
        else:
            statements = [ddl.create_table_as(relation, query, replace=True)]
        first = self._run(statements, then=then)[0]
        self._relations[(relation[0].lower(), relation[1].lower())] = "TABLE"
        return int(first[0]) if first else None

    def materialize(self, compiled: "CompiledMart", full_refresh: bool = False, then: Then | None = None) -> int | None:
        relation = compiled.relation
        kind = compiled.mart.materialized
        if kind == "view":
            self._ensure_schema(relation[0])
            existing = self._kind(relation)
            statements = [ddl.create_view(relation, compiled.sql)]
            if existing == "TABLE":
                statements.insert(0, ddl.drop(relation, "TABLE"))
            self._run(statements, then=(lambda count: then(None)) if then else None)
            self._relations[(relation[0].lower(), relation[1].lower())] = "VIEW"
            return None
        if kind == "incremental" and not full_refresh and self._kind(relation) == "TABLE":
            return self._incremental(compiled, then)
        return self._replace_table(relation, compiled.sql, then)

    def _incremental(self, compiled: "CompiledMart", then: Then | None = None) -> int | None:
        """Insert the new rows (merge: delete the rows they replace first), in one transaction."""
        existing = self.columns(*compiled.relation) or {}  # name -> type: a backfill casts its bounds to the cursor's
        first = self._run(ddl.incremental_statements(compiled, existing), then=then)[0]
        return int(first[0]) if first else None

    def load_seed(self, source: "SourceTable", then: Then | None = None) -> int:
        return self._replace_table((source.schema, source.name), seed_query(source, self.target.dialect), then) or 0

    def columns(self, schema: str, table: str) -> dict[str, str] | None:
        rows = self.query_params(_COLUMNS, [schema, table])
        return {name: kind for name, kind in rows} or None

    def query_params(self, sql: str, params: list) -> list[tuple]:
        import duckdb

        try:
            return self._cursor().execute(sql, params).fetchall()
        except duckdb.Error as exc:
            self._failed_in_batch()
            raise statement_error(exc, self.target.secrets) from None
