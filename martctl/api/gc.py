"""gc: drop the physical versions no environment points at and no generation used within a window.

A version an environment points at now is never dropped; nor one that a generation recorded within
`older_than` pointed at (what rollback may still go back to). The space freed is measured by the
engine: Postgres `pg_total_relation_size` of each table dropped, DuckDB the database's used blocks
before and after (a checkpoint after the drops).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from martctl.api.environments import schema_prefix
from martctl.engine import ddl, envstate, state
from martctl.engine.virtual import PHYSICAL_PREFIX

if TYPE_CHECKING:
    from martctl.engine.adapters.base import Adapter

Workspace = Any  # martctl.api.workspace.Workspace (which imports this module)


@dataclass
class Collected:
    dropped: list[str] = field(default_factory=list)
    kept: int = 0  # physical versions still in use (now or within the window)
    freed_bytes: int | None = None
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {"dropped": self.dropped, "kept": self.kept, "freed_bytes": self.freed_bytes, "dry_run": self.dry_run}


def _physical_schemas(ws: "Workspace", used: set[str]) -> set[str]:
    """The physical schemas of this target: those of its layer's schemas and those its state names."""
    from martctl.api.environments import relation_in

    keys = [*ws.project.marts, *(s.key for s in ws.project.seeds)]
    schemas = {PHYSICAL_PREFIX + relation_in(ws.project, ws.target, k)[0] for k in keys}
    return schemas | {p.partition(".")[0] for p in used}


def _bytes_used(adapter: "Adapter") -> int | None:
    if adapter.type == "duckdb":
        adapter.query(exp.Command(this="CHECKPOINT").sql("duckdb"))
        result = adapter.query(exp.select("used_blocks", "block_size").from_("pragma_database_size()").sql("duckdb"))
        used, size = result.rows[0]
        return int(used) * int(size)
    return None


def _size(adapter: "Adapter", relation: tuple[str, str]) -> int:
    """Postgres: the table's size with its indexes and toast."""
    name = exp.Literal.string(ddl.table(relation).sql("postgres"))
    query = exp.select(exp.func("pg_total_relation_size", exp.cast(name, exp.DataType.build("regclass", udt=True))))
    return int(adapter.query(query.sql("postgres")).rows[0][0])


def collect(ws: "Workspace", adapter: "Adapter", older_than: float, dry_run: bool = False) -> Collected:
    prefix = schema_prefix(ws.target)
    result = Collected(dry_run=dry_run)
    if not envstate.enabled(adapter, prefix):
        return result
    since = state.now(datetime.now(timezone.utc) - timedelta(seconds=older_than))
    in_use = {p.physical for found in envstate.pointers(adapter, prefix).values() for p in found.values() if p.physical}
    in_use |= envstate.used_since(adapter, prefix, since)
    schemas = _physical_schemas(ws, in_use)
    candidates = sorted((s, n) for s, n in adapter.relations() if s in schemas)
    drop = [r for r in candidates if ".".join(r) not in in_use]
    result.kept = len(candidates) - len(drop)
    result.dropped = [".".join(r) for r in drop]
    if dry_run or not drop:
        return result
    before = _bytes_used(adapter)
    sizes = 0 if before is not None else sum(_size(adapter, r) for r in drop)
    adapter.execute([ddl.drop(r) for r in drop])
    result.freed_bytes = before - _bytes_used(adapter) if before is not None else sizes
    return result
