"""Environments in the state: which physical version each environment's mart points at, and its history.

Tables in the prod state schema (<prefix>martctl_state):
- `environments`: one row per (env, key): kind (`table`: a view over the physical table `physical`;
  `view`: the mart's own view, whose SQL for that env is kept in `sql`), the version's fingerprint;
- `env_generations`: one row per generation of an environment (each build, promote or rollback that
  re-pointed something): its parent (what rollback goes back to) and, for an env other than prod,
  the prod generation it was built from (`base`: a promote refuses when prod moved since);
- `env_history` and `marts_history`: each generation's pointers and its state records (`marts`), copied
  server-side, so rollback restores both.

Every statement is built with sqlglot; the rows are written in the transaction that re-points the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from sqlglot import exp

from martctl.engine import ddl, state

if TYPE_CHECKING:
    from martctl.engine.adapters.base import Adapter

PROD = "prod"
POINTER = {"env": "TEXT", "key": "TEXT", "kind": "TEXT", "physical": "TEXT", "fingerprint": "TEXT", "sql": "TEXT",
           "updated_at": "TEXT"}
TABLES: dict[str, dict[str, str]] = {
    "environments": POINTER,
    "env_generations": {"env": "TEXT", "generation": "BIGINT", "parent": "BIGINT", "base": "BIGINT", "made_by": "TEXT",
                        "at": "TEXT"},
    "env_history": {"generation": "BIGINT", **POINTER},
    "marts_history": {"env": "TEXT", "generation": "BIGINT", **state.TABLES["marts"]},
}


@dataclass(frozen=True)
class Pointer:
    """Where one environment reads one mart: a physical table (kind table) or its own view (kind view)."""

    env: str
    key: str
    kind: str
    physical: str | None
    fingerprint: str | None
    sql: str | None = None

    @property
    def relation(self) -> tuple[str, str] | None:
        if not self.physical:
            return None
        schema, _, name = self.physical.partition(".")
        return (schema, name)


@dataclass(frozen=True)
class Generation:
    env: str
    generation: int
    parent: int | None
    base: int | None
    made_by: str
    at: str


def _table(prefix: str, name: str) -> exp.Table:
    return ddl.table((state.schema_name(prefix), name))


def enabled(adapter: "Adapter", prefix: str) -> bool:
    """True once the warehouse uses environments (the first `--env` build switched them on)."""
    return adapter.columns(state.schema_name(prefix), "environments") is not None


def ensure(adapter: "Adapter", prefix: str) -> None:
    adapter.execute(state.ensure_statements(adapter, prefix, TABLES))


def _select(adapter: "Adapter", prefix: str, table: str, columns: Sequence[str], where: exp.Expression | None = None):
    query = exp.select(*[exp.column(c) for c in columns]).from_(_table(prefix, table))
    if where is not None:
        query = query.where(where)
    return [dict(zip(columns, row)) for row in adapter.query(query.sql(adapter.dialect)).rows]


def pointers(adapter: "Adapter", prefix: str) -> dict[str, dict[str, Pointer]]:
    """env -> key -> Pointer (empty before environments are switched on)."""
    if not enabled(adapter, prefix):
        return {}
    found: dict[str, dict[str, Pointer]] = {}
    for row in _select(adapter, prefix, "environments", [c for c in POINTER if c != "updated_at"]):
        found.setdefault(row["env"], {})[row["key"]] = Pointer(**row)
    return found


def generations(adapter: "Adapter", prefix: str, env: str) -> list[Generation]:
    """The environment's generations, oldest first."""
    if not enabled(adapter, prefix):
        return []
    rows = _select(adapter, prefix, "env_generations", list(TABLES["env_generations"]), _eq("env", env))
    return sorted((Generation(**row) for row in rows), key=lambda g: g.generation)


def history(adapter: "Adapter", prefix: str, env: str, generation: int) -> dict[str, Pointer]:
    """The pointers of one past generation of an environment."""
    columns = [c for c in POINTER if c != "updated_at"]
    rows = _select(adapter, prefix, "env_history", columns, exp.and_(_eq("env", env), _eq("generation", generation)))
    return {row["key"]: Pointer(**row) for row in rows}


def used_since(adapter: "Adapter", prefix: str, since: str) -> set[str]:
    """Physical tables some generation made at or after `since` pointed at (gc keeps them)."""
    query = (exp.select(exp.column("physical", "h")).distinct()
             .from_(exp.Table(this=exp.to_identifier("env_history"), db=exp.to_identifier(state.schema_name(prefix)),
                              alias=exp.TableAlias(this=exp.to_identifier("h"))))
             .join(exp.Table(this=exp.to_identifier("env_generations"), db=exp.to_identifier(state.schema_name(prefix)),
                             alias=exp.TableAlias(this=exp.to_identifier("g"))),
                   on=exp.and_(exp.column("env", "h").eq(exp.column("env", "g")),
                               exp.column("generation", "h").eq(exp.column("generation", "g"))))
             .where(exp.column("at", "g") >= exp.convert(since)))
    return {row[0] for row in adapter.query(query.sql(adapter.dialect)).rows if row[0]}


def _eq(column: str, value) -> exp.Expression:
    return exp.column(column).eq(exp.convert(value))


def _in(column: str, values: Iterable[str]) -> exp.Expression:
    values = list(values)
    return exp.column(column).isin(*[exp.convert(v) for v in values], copy=False) if values else exp.false()


def point(prefix: str, *pointers: Pointer) -> list[exp.Expression]:
    """Replace the (env, key) rows of `pointers` (one environment's): one DELETE, one INSERT."""
    if not pointers:
        return []
    env = pointers[0].env
    delete = exp.Delete(this=_table(prefix, "environments"),
                        where=exp.Where(this=exp.and_(_eq("env", env), _in("key", [p.key for p in pointers]), copy=False)))
    at = state.now()
    rows = [exp.Tuple(expressions=[state.literal({**p.__dict__, "updated_at": at}[c]) for c in POINTER]) for p in pointers]
    insert = ddl.insert((state.schema_name(prefix), "environments"), exp.Values(expressions=rows), list(POINTER))
    return [delete, insert]


def unpoint(prefix: str, env: str, keys: Iterable[str]) -> exp.Delete:
    return exp.Delete(this=_table(prefix, "environments"), where=exp.Where(this=exp.and_(_eq("env", env), _in("key", keys), copy=False)))


def snapshot(prefix: str, env: str, generation: int, parent: int | None, base: int | None,
             made_by: str) -> list[exp.Expression]:
    """A new generation of `env`: its row, and a copy of its pointers and state records as they are now."""
    row = {"env": env, "generation": generation, "parent": parent, "base": base, "made_by": made_by, "at": state.now()}
    values = exp.Tuple(expressions=[state.literal(row[c]) for c in TABLES["env_generations"]])
    schema = state.schema_name(prefix)
    pointer_columns = list(POINTER)
    marts_columns = list(state.TABLES["marts"])
    return [
        ddl.insert((schema, "env_generations"), exp.Values(expressions=[values]), list(TABLES["env_generations"])),
        ddl.insert((schema, "env_history"),
                   exp.select(exp.convert(generation), *[exp.column(c) for c in pointer_columns])
                   .from_(_table(prefix, "environments")).where(_eq("env", env)),
                   ["generation", *pointer_columns]),
        ddl.insert((schema, "marts_history"),
                   exp.select(exp.convert(env), exp.convert(generation), *[exp.column(c) for c in marts_columns])
                   .from_(_table(state.scope(prefix, env), "marts")),
                   ["env", "generation", *marts_columns]),
    ]


def restore(prefix: str, env: str, generation: int) -> list[exp.Expression]:
    """Put back the pointers and state records `env` had at `generation`."""
    schema = state.schema_name(prefix)
    env_scope = state.scope(prefix, env)
    pointer_columns = [c for c in POINTER]
    marts_columns = list(state.TABLES["marts"])
    at = exp.and_(_eq("env", env), _eq("generation", generation))
    return [
        exp.Delete(this=_table(prefix, "environments"), where=exp.Where(this=_eq("env", env))),
        ddl.insert((schema, "environments"),
                   exp.select(*[exp.column(c) for c in pointer_columns]).from_(_table(prefix, "env_history")).where(at),
                   pointer_columns),
        exp.Delete(this=_table(env_scope, "marts")),
        ddl.insert((state.schema_name(env_scope), "marts"),
                   exp.select(*[exp.column(c) for c in marts_columns]).from_(_table(prefix, "marts_history")).where(at),
                   marts_columns),
    ]


def copy_records(from_scope: str, to_scope: str, keys: Iterable[str]) -> list[exp.Expression]:
    """The state records of `keys` copied from one environment's state to another's."""
    keys = list(keys)
    columns = list(state.TABLES["marts"])
    return [
        exp.Delete(this=_table(to_scope, "marts"), where=exp.Where(this=_in("key", keys))),
        ddl.insert((state.schema_name(to_scope), "marts"),
                   exp.select(*[exp.column(c) for c in columns]).from_(_table(from_scope, "marts")).where(_in("key", keys), copy=False),
                   columns),
    ]
