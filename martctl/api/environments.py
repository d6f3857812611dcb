"""Environments: where a mart is read in each one, and getting a run's warehouse ready for them.

prod reads `<area>.<name>`, environment E reads `<area>__E.<name>` (seeds: `<schema>__E.<name>`); both
are views over physical tables named by version (see engine/virtual.py) or, for view marts, views.
A warehouse built before environments existed is upgraded in place by the first run that uses them:
each plain table moves to its physical table and a view takes its place, in one transaction per mart.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

from martctl.engine import ddl, envstate, state
from martctl.engine.envstate import PROD, Generation, Pointer
from martctl.engine.virtual import VirtualAdapter, physical_relation, view_over
from martctl.errors import ProjectError

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledProject
    from martctl.engine.adapters.base import Adapter
    from martctl.project.model import Project, SourceTable, Target

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


def check_env(env: str) -> str:
    """An environment name becomes part of schema names: a short plain lowercase identifier."""
    if not _NAME.match(env or "") or "__" in env:
        raise ProjectError(f"environment '{env}' is not a plain lowercase name",
                           hint="an environment is named like a schema: dev, ci_42, alice (letters, digits and "
                                "single underscores, at most 20 characters)")
    return env


def suffix(env: str | None) -> str:
    return "" if not env or env == PROD else f"__{env}"


def env_target(target: "Target", env: str | None) -> "Target":
    """The target as seen from an environment: its layer's schemas carry the env's suffix, its state
    its own schema."""
    if env is None:
        return target
    check_env(env)
    return replace(target, settings={**target.settings, "env": env, "schema_suffix": suffix(env)})


def relation_in(project: "Project", target: "Target", key: str, env: str = PROD) -> tuple[str, str]:
    """(schema, name) at which a mart or seed is read in `env` (a source that is not a seed: its own)."""
    from martctl.compiler.compile import relation_of

    return relation_of(project, key, schema_prefix(target), suffix(env))


def layer_schemas(project: "Project", target: "Target", source: str, dest: str) -> dict[str, str]:
    """Each schema of `source`'s layer -> the same schema in `dest`'s."""
    keys = [*project.marts, *(s.key for s in project.seeds)]
    return {relation_in(project, target, k, source)[0]: relation_in(project, target, k, dest)[0] for k in keys}


def schema_prefix(target: "Target") -> str:
    return target.settings.get("schema_prefix") or ""


def prepare(project: "Project", graph, target: "Target", adapter: "Adapter", compiled: "CompiledProject | None",
            seeds: Sequence["SourceTable"]) -> VirtualAdapter:
    """Under the run lock: environments switched on (the old warehouse upgraded), the marts whose version
    another environment already built pointed at, and the adapter that builds the rest into physical
    tables."""
    from martctl.api.due import plan_nodes

    env = target.settings.get("env") or PROD
    prefix = schema_prefix(target)
    state.ensure(adapter, prefix)
    state.ensure(adapter, state.scope(prefix, env))
    envstate.ensure(adapter, prefix)
    pointers = envstate.pointers(adapter, prefix)
    nodes = plan_nodes(graph, compiled, seeds, target, None)
    prints = {node.key: node.full for node in nodes}
    if not envstate.generations(adapter, prefix, PROD):
        pointers[PROD] = upgrade(project, target, adapter, _prod_views(project, target, compiled, prints))
    virtual = VirtualAdapter(adapter, env, prefix, suffix(env), prints, pointers)
    virtual.adopted = adopt(project, target, adapter, env, nodes, compiled, pointers)
    virtual.changed += virtual.adopted
    return virtual


def adopted_note(virtual: VirtualAdapter | None) -> list[str]:
    """What a person should know of the marts a run pointed at instead of building."""
    if virtual is None or not virtual.adopted:
        return []
    shown = ", ".join(virtual.adopted[:5]) + (", ..." if len(virtual.adopted) > 5 else "")
    return [f"{virtual.env}: {len(virtual.adopted)} mart(s)/seed(s) now read the version another environment "
            f"built and tested, not rebuilt ({shown})"]


def _prod_views(project: "Project", target: "Target", compiled, prints) -> dict[str, tuple[str, str]]:
    """key -> (fingerprint, SQL as prod runs it) of the view marts this run compiled (for rollback)."""
    from martctl.compiler.retarget import retarget

    if compiled is None:
        return {}
    env = target.settings.get("env") or PROD
    schemas = layer_schemas(project, target, env, PROD)
    return {key: (prints[key], item.sql if env == PROD else retarget(item.sql, target.dialect, schemas))
            for key, item in compiled.marts.items() if item.mart.materialized == "view" and key in prints}


UPGRADE_BATCH = 100  # tables moved per transaction by the upgrade


def upgrade(project: "Project", target: "Target", adapter: "Adapter",
            views: dict[str, tuple[str, str]]) -> dict[str, Pointer]:
    """prod's plain tables (built before environments) copied to physical tables with a view in their
    place, UPGRADE_BATCH marts per transaction (readers see the table, then the view, never nothing);
    prod's first generation recorded. A view mart's SQL is kept for rollback (`views`: as compiled in
    this run, where its version is the recorded one; else the warehouse's text of the view)."""
    from martctl.compiler.compile import relation_of

    prefix = schema_prefix(target)
    existing = adapter.relations()
    found: dict[str, Pointer] = {}
    moves: list[tuple[tuple[str, str], tuple[str, str], Pointer]] = []
    for key, record in state.read(adapter, prefix).items():
        kind = _kind(project, key)
        layer = relation_of(project, key, prefix)
        if kind is None or not record.fingerprint or (layer[0].lower(), layer[1].lower()) not in existing:
            continue
        if kind == "view":
            fingerprint, sql = views.get(key, (None, None))
            if fingerprint != record.fingerprint:  # edited since: the warehouse's own text of the view
                sql = adapter.view_definition(*layer)
            found[key] = Pointer(PROD, key, "view", None, record.fingerprint, sql)
            continue
        physical = physical_relation(layer, "", record.fingerprint[:12])
        found[key] = Pointer(PROD, key, "table", ".".join(physical), record.fingerprint)
        moves.append((layer, physical, found[key]))
    adapter.execute(envstate.point(prefix, *[p for p in found.values() if p.kind == "view"]))
    for start in range(0, len(moves), UPGRADE_BATCH):
        batch = moves[start:start + UPGRADE_BATCH]
        first = [ddl.create_schema(s) for s in sorted({physical[0] for _, physical, _ in batch})]
        for layer, physical, _ in batch:
            first += [ddl.drop(physical), ddl.create_table_as(physical, ddl.select_columns(layer))]
        adapter.replace_views([(layer, view_over(physical)) for layer, physical, _ in batch],
                              then=envstate.point(prefix, *[pointer for _, _, pointer in batch]), first=first)
    adapter.execute(envstate.snapshot(prefix, PROD, 1, None, None, "upgrade"))
    return found


def _kind(project: "Project", key: str) -> str | None:
    if key in project.marts:
        return "view" if project.marts[key].materialized == "view" else "table"
    source = project.sources.get(key)
    return "table" if source is not None and source.seed is not None else None


def adopt(project: "Project", target: "Target", adapter: "Adapter", env: str, nodes, compiled,
          pointers: dict[str, dict[str, Pointer]]) -> list[str]:
    """Point `env` at every version another environment built and tested (same fingerprint), in one
    transaction, with those environments' state records: only what differs is then built."""
    prefix = schema_prefix(target)
    mine = pointers.setdefault(env, {})
    records: dict[str, dict] = {}
    views, pointed, copied = [], [], {}
    for node in nodes:
        current = mine.get(node.key)
        if current is not None and current.fingerprint == node.full:
            continue
        donor = _donor(adapter, prefix, env, node, pointers, records)
        if donor is None:
            continue
        layer = relation_in(project, target, node.key, env)
        if donor.kind == "view":
            sql = compiled.marts[node.key].sql
            views.append((layer, sql))
            pointer = Pointer(env, node.key, "view", None, node.full, sql)
        else:
            views.append((layer, view_over(donor.relation)))
            pointer = replace(donor, env=env, sql=None)
        pointed.append(pointer)
        copied.setdefault(donor.env, []).append(node.key)
        mine[node.key] = pointer
    statements = envstate.point(prefix, *pointed)
    for donor_env, keys in copied.items():
        statements += envstate.copy_records(state.scope(prefix, donor_env), state.scope(prefix, env), keys)
    if views:
        adapter.replace_views(views, then=statements)
    return [key for keys in copied.values() for key in keys]


def _donor(adapter: "Adapter", prefix: str, env: str, node, pointers, records) -> Pointer | None:
    """Another environment's pointer at the same version, whose build passed its tests (prod first)."""
    for other in sorted(pointers, key=lambda e: (e != PROD, e)):
        pointer = pointers[other].get(node.key)
        if other == env or pointer is None or pointer.fingerprint != node.full:
            continue
        if other not in records:
            records[other] = state.read(adapter, state.scope(prefix, other))
        record = records[other].get(node.key)
        if record is None or record.status not in (state.OK, None) or record.fingerprint != node.full:
            continue
        if pointer.kind == "table" and not adapter.exists(*pointer.relation):
            continue
        return pointer
    return None


def current(generations: Sequence[Generation]) -> Generation | None:
    return generations[-1] if generations else None


def version_of(pointer: Pointer | None):
    """What makes two pointers the same version (their environment and their view's names aside)."""
    return (pointer.kind, pointer.physical, pointer.fingerprint) if pointer else None


def conflicts(adapter: "Adapter", prefix: str, env: str, base: int | None) -> list[str]:
    """Marts whose definition prod changed since generation `base` (what `env` was built from) and
    whose version in `env` is not prod's new one: promoting would undo them. (Prod rebuilding a
    version on new data is no conflict: promote leaves a mart whose version is the same alone.)"""
    if base is None:
        return []
    then = envstate.history(adapter, prefix, PROD, base)
    found = envstate.pointers(adapter, prefix)
    now, mine = found.get(PROD, {}), found.get(env, {})
    return sorted(key for key in set(then) | set(now)
                  if fingerprint_of(then.get(key)) != fingerprint_of(now.get(key))
                  and fingerprint_of(mine.get(key)) != fingerprint_of(now.get(key)))


def fingerprint_of(pointer: Pointer | None) -> str | None:
    return pointer.fingerprint if pointer else None


def base_for(adapter: "Adapter", prefix: str, env: str, latest: Generation | None) -> int | None:
    """The prod generation `env` is built from after a build: prod's current one, unless prod changed
    marts since the old base that `env` does not have yet (then the conflict stays)."""
    prod = current(envstate.generations(adapter, prefix, PROD))
    now = prod.generation if prod else None
    old = latest.base if latest else None
    if old is None or not conflicts(adapter, prefix, env, old):
        return now
    return old


def finish(target: "Target", adapter: "Adapter", virtual: VirtualAdapter, made_by: str) -> None:
    """After a run: a new generation of the environment when something was re-pointed (and, for an
    environment other than prod, the prod generation it is now built from)."""
    prefix, env = schema_prefix(target), virtual.env
    generations = envstate.generations(adapter, prefix, env)
    if not virtual.changed and generations:
        return
    latest = current(generations)
    base = None if env == PROD else base_for(adapter, prefix, env, latest)
    number = (latest.generation if latest else 0) + 1
    adapter.execute(envstate.snapshot(prefix, env, number, latest.generation if latest else None, base, made_by))
