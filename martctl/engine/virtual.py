"""Building into an environment: tables, incremental marts and seeds land in physical tables named by
their version, and the environment's layer (what users and BI read) is views over them.

Physical table: `martctl__<schema>.<name>__<fp12>` (`<schema>` the prod layer's schema, fp12 the first
12 hex digits of the version's fingerprint). A view mart is created in each environment's layer
directly, with SQL that reads that environment's names. The one rule: **a physical table another
environment points at is never changed**. Rebuilding a version that only this environment uses (its
sources' data changed) rebuilds it in place with the engine's swap; when another environment shares
it, the new build goes to a new physical table (an incremental mart's rows copied there first), so
the other environment keeps reading what it read.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Mapping

from martctl.engine import ddl, envstate
from martctl.engine.envstate import Pointer

if TYPE_CHECKING:
    from martctl.compiler.compile import CompiledMart
    from martctl.engine.adapters.base import Adapter, Then
    from martctl.project.model import SourceTable

PHYSICAL_PREFIX = "martctl__"


def physical_relation(layer: tuple[str, str], suffix: str, token: str) -> tuple[str, str]:
    """The physical table of a version: `layer` is the relation in an environment whose schema
    ends with `suffix` (empty for prod)."""
    schema = layer[0][: len(layer[0]) - len(suffix)] if suffix else layer[0]
    return (PHYSICAL_PREFIX + schema, f"{layer[1]}__{token}")


def view_over(physical: tuple[str, str]):
    return ddl.select_columns(physical)


class VirtualAdapter:
    """The adapter of a run in an environment: builds into physical tables, re-points the layer's views
    in the build's transaction (or right after it, in one transaction with the state's record)."""

    batches = False  # a rolled-back batch would leave the pointers kept here out of step with the warehouse

    def __init__(self, inner: "Adapter", env: str, prefix: str, suffix: str, fingerprints: Mapping[str, str],
                 pointers: dict[str, dict[str, Pointer]]) -> None:
        self.inner, self.env, self.prefix, self.suffix = inner, env, prefix, suffix
        self.fingerprints = fingerprints
        self.pointers = pointers  # env -> key -> Pointer, kept up to date as this run re-points
        self.token = uuid.uuid4().hex  # makes a version's second physical table distinct
        self.changed: list[str] = []  # keys re-pointed in this run
        self.adopted: list[str] = []  # ... of which pointed at another environment's version before the run

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def materialize(self, compiled: "CompiledMart", full_refresh: bool = False, then: "Then | None" = None) -> int | None:
        key = compiled.key
        if compiled.mart.materialized == "view":
            pointer = Pointer(self.env, key, "view", None, self.fingerprints.get(key), compiled.sql)
            rows = self.inner.materialize(compiled, full_refresh, self._with(then, pointer))
            self._pointed(pointer)
            return rows
        incremental = compiled.mart.materialized == "incremental"
        physical, full, copy = self._physical(key, compiled.relation, incremental and not full_refresh)
        if copy is not None:  # an incremental version another environment reads: its rows copied first
            self.inner.execute([ddl.create_schema(physical[0]), ddl.create_table_as(physical, ddl.select_columns(copy))])
        built = replace(compiled, relation=physical)
        return self._build(key, compiled.relation, physical, lambda t: self.inner.materialize(built, full_refresh or full, t), then)

    def load_seed(self, source: "SourceTable", then: "Then | None" = None) -> int:
        layer = (source.schema, source.name)
        physical, _, _ = self._physical(source.key, layer, False)
        built = replace(source, schema=physical[0], name=physical[1])
        return self._build(source.key, layer, physical, lambda t: self.inner.load_seed(built, t), then)

    # -- internals ------------------------------------------------------------------------------------

    def _physical(self, key: str, layer: tuple[str, str], keep_rows: bool):
        """(physical table to build, build it whole?, table to copy first or None)."""
        fingerprint = self.fingerprints[key]
        current = self.pointers.get(self.env, {}).get(key)
        same = (current is not None and current.fingerprint == fingerprint and current.relation is not None
                and self.inner.exists(*current.relation))
        candidate = current.relation if same else physical_relation(layer, self.suffix, fingerprint[:12])
        if not self._shared(candidate):
            return candidate, not same, None
        fresh = physical_relation(layer, self.suffix, (fingerprint[:6] + self.token[:6]))
        copy = candidate if same and keep_rows else None
        return fresh, copy is None, copy

    def _shared(self, physical: tuple[str, str]) -> bool:
        text = ".".join(physical)
        return any(p.physical == text for env, found in self.pointers.items() if env != self.env for p in found.values())

    def _with(self, then: "Then | None", pointer: Pointer) -> "Then":
        return lambda rows: [*(then(rows) if then is not None else ()), *envstate.point(self.prefix, pointer)]

    def _build(self, key: str, layer: tuple[str, str], physical: tuple[str, str], build: Callable, then) -> int | None:
        """Build the physical table; the layer's view, the pointer and the state's record in one transaction."""
        pointer = Pointer(self.env, key, "table", ".".join(physical), self.fingerprints[key])
        current = self.pointers.get(self.env, {}).get(key)
        if current is not None and current.physical == pointer.physical and self.inner.exists(*layer):
            rows = build(self._with(then, pointer))  # the view already reads it: rebuilt in place
        else:
            rows = build(None)  # a new physical table nobody reads yet
            self.inner.replace_views([(layer, view_over(physical))], then=self._with(then, pointer)(rows))
        self._pointed(pointer)
        return rows

    def _pointed(self, pointer: Pointer) -> None:
        self.pointers.setdefault(self.env, {})[pointer.key] = pointer
        self.changed.append(pointer.key)
