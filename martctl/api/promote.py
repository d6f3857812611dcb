"""promote and rollback: an environment's views re-pointed at other versions, all in one transaction.

Nothing is recomputed or copied: a table mart's view reads another physical table, a view mart's view
gets that version's SQL (its table names moved to the destination's layer), the pointers and the state
records follow, and a new generation is recorded, so rollback can go back to the one before.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from martctl.api.environments import (
    check_env,
    conflicts,
    current,
    fingerprint_of,
    layer_schemas,
    relation_in,
    schema_prefix,
    version_of,
)
from martctl.compiler.retarget import retarget
from martctl.engine import envstate, state
from martctl.engine.envstate import PROD, Pointer
from martctl.engine.virtual import view_over
from martctl.errors import ProjectError

if TYPE_CHECKING:
    from martctl.engine.adapters.base import Adapter

Workspace = Any  # martctl.api.workspace.Workspace (which imports this module)


@dataclass
class Change:
    """One mart re-pointed: the version it had (fingerprint's first 12 digits) and the one it has now."""

    key: str
    kind: str
    before: str | None
    after: str | None

    def as_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "before": self.before, "after": self.after}


@dataclass
class Repointed:
    """What promote or rollback did (or, when `refused` is set, why it did nothing: exit 1)."""

    command: str
    env: str
    source: str  # the environment (promote) or the generation (rollback) it took the versions from
    changes: list[Change] = field(default_factory=list)
    generation: int | None = None
    refused: str | None = None
    forced: list[str] = field(default_factory=list)  # what --force went past

    def exit_code(self) -> int:
        return 1 if self.refused else 0

    def as_dict(self) -> dict:
        return {"command": self.command, "env": self.env, "from": self.source, "generation": self.generation,
                "refused": self.refused, "forced": self.forced, "changes": [c.as_dict() for c in self.changes]}


def _order(ws: "Workspace", wanted: Mapping[str, Pointer]) -> list[str]:
    """Tables (their views read physical tables only), then view marts in dependency order (a view is
    created after what it reads; the project's graph is parsed only when there is one)."""
    tables = sorted(k for k, p in wanted.items() if p.kind != "view")
    if len(tables) == len(wanted):
        return tables
    return tables + [k for k in ws.graph.graph.topological_order() if k in wanted and wanted[k].kind == "view"]


def _repoint(ws: "Workspace", adapter: "Adapter", dest: str, wanted: Mapping[str, Pointer], source_env: str,
             made_by: str, parent: int | None, base: int | None, records: Sequence) -> list[Change]:
    """Make `dest` point as `wanted` says (only where it differs), its records follow, a new generation:
    one transaction."""
    prefix = schema_prefix(ws.target)
    before = envstate.pointers(adapter, prefix).get(dest, {})
    differing = [k for k in _order(ws, wanted) if version_of(wanted[k]) != version_of(before.get(k))]
    schemas = layer_schemas(ws.project, ws.target, source_env, dest)
    existing = adapter.relations()
    views, pointed, changes = [], [], []
    for key in differing:
        pointer = wanted[key]
        layer = relation_in(ws.project, ws.target, key, dest)
        if pointer.kind == "table":
            if tuple(part.lower() for part in pointer.relation) not in existing:
                raise ProjectError(f"cannot re-point {key}: its version {pointer.physical} is gone (dropped by gc)",
                                   hint="rebuild it: martctl build")
            views.append((layer, view_over(pointer.relation)))
            pointer = replace(pointer, env=dest, sql=None)
        elif pointer.sql:
            sql = retarget(pointer.sql, ws.target.dialect, schemas, source_env == PROD) if source_env != dest else pointer.sql
            views.append((layer, sql))
            pointer = replace(pointer, env=dest, sql=sql)
        else:
            pointer = replace(pointer, env=dest)
        pointed.append(pointer)
        old = before.get(key)
        changes.append(Change(key, pointer.kind, (old.fingerprint or "")[:12] if old else None, (pointer.fingerprint or "")[:12]))
    number = max((g.generation for g in envstate.generations(adapter, prefix, dest)), default=0) + 1
    statements = [*envstate.point(prefix, *pointed), *records, *envstate.snapshot(prefix, dest, number, parent, base, made_by)]
    adapter.replace_views(views, then=statements)
    return changes, number


def _upgrade_state(adapter: "Adapter", prefix: str, *envs: str) -> None:
    """The state tables as this martctl writes them (a state of an older one gains its new columns)."""
    if envstate.enabled(adapter, prefix):
        envstate.ensure(adapter, prefix)
        for env in envs:
            state.ensure(adapter, state.scope(prefix, env))


def promote(ws: "Workspace", env: str, to: str = PROD, force: bool = False, adapter: "Adapter | None" = None) -> Repointed:
    """`to` points at the versions `env` built and tested. Refused when a test of `env` failed (or did
    not finish) on a mart it would change, or when prod changed since `env` was built from it."""
    check_env(env), check_env(to)
    if env == to:
        raise ProjectError(f"cannot promote {env} to itself", hint="martctl promote dev --to prod")
    prefix = schema_prefix(ws.target)
    _upgrade_state(adapter, prefix, env, to)
    generations = envstate.generations(adapter, prefix, env)
    if not generations:
        raise ProjectError(f"environment {env} has not been built on this target", hint=f"martctl build --env {env}")
    found = envstate.pointers(adapter, prefix)
    source, dest = found.get(env, {}), found.get(to, {})
    keys = [k for k in source if k in ws.project.marts or k in ws.project.sources]
    differing = [k for k in keys if fingerprint_of(source[k]) != fingerprint_of(dest.get(k))]  # same version, other data: prod's
    report = Repointed("promote", to, env)
    if not differing:  # nothing to move: no new generation (a rollback still undoes the last real change)
        return report
    records = state.read(adapter, state.scope(prefix, env))
    failed = [k for k in differing if records.get(k) is None or records[k].status not in (state.OK, None)]
    clash = conflicts(adapter, prefix, env, current(generations).base) if to == PROD else []
    problems = []
    if failed:
        problems.append(f"the tests of {env} failed or did not finish on {', '.join(failed[:5])}")
    if clash:
        problems.append(f"{to} changed since {env} was built from it ({', '.join(clash[:5])}); "
                        f"rebuild {env} (martctl build --env {env}) to take those changes")
    if problems and not force:
        report.refused = "; ".join(problems)
        return report
    report.forced = problems
    latest = current(envstate.generations(adapter, prefix, to))
    copy = envstate.copy_records(state.scope(prefix, env), state.scope(prefix, to), differing)
    report.changes, report.generation = _repoint(ws, adapter, to, {k: source[k] for k in differing}, env,
                                                 f"promote {env}", latest.generation if latest else None,
                                                 None, copy)
    return report


def rollback(ws: "Workspace", env: str = PROD, adapter: "Adapter | None" = None) -> Repointed:
    """`env` points at the versions of the generation before its current one (views, pointers and state
    records), recorded as a new generation whose parent is that one's parent (a second rollback goes
    further back)."""
    check_env(env)
    prefix = schema_prefix(ws.target)
    _upgrade_state(adapter, prefix, env)
    generations = envstate.generations(adapter, prefix, env)
    latest = current(generations)
    if latest is None or latest.parent is None:
        raise ProjectError(f"nothing to roll back to: {env} has no earlier generation",
                           hint="a generation is recorded by each build, promote or rollback that re-points marts")
    target = next(g for g in generations if g.generation == latest.parent)
    wanted = {k: p for k, p in envstate.history(adapter, prefix, env, target.generation).items()
              if k in ws.project.marts or k in ws.project.sources}
    report = Repointed("rollback", env, f"generation {target.generation}")
    restore = envstate.restore(prefix, env, target.generation)
    report.changes, report.generation = _repoint(ws, adapter, env, wanted, env, f"rollback to {target.generation}",
                                                 target.parent, target.base, restore)
    return report
