"""What a run builds and why: the project's fingerprints against the state in the warehouse."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Sequence

from martctl.api.sourceversion import source_versions
from martctl.engine import state
from martctl.engine.due import Decision, Node, decide

if TYPE_CHECKING:
    from datetime import datetime

    from martctl.compiler.compile import CompiledProject
    from martctl.compiler.resolve import ProjectGraph
    from martctl.engine.adapters.base import Adapter
    from martctl.engine.execute import Step
    from martctl.project.model import SourceTable, Target


@dataclass
class BuildPlan:
    """The run's steps in order and, per step, whether it is built and why. Iterating yields the steps."""

    steps: list["Step"]
    decisions: dict[str, Decision] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    recorder: state.Recorder | None = None
    state_found: bool = False  # the warehouse held a state (else every node is "never built")
    notes: list[str] = field(default_factory=list)  # what a person should know (a source that cannot be read)
    backfill: dict[str, str] | None = None  # {start, end}: the run replaces that cursor range of its marts
    sources: dict[str, str] = field(default_factory=dict)  # source key -> how it tells that its data changed

    def __iter__(self) -> Iterator["Step"]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def to_build(self) -> list[str]:
        return [s.key for s in self.steps if self.decisions.get(s.key) is None or self.decisions[s.key].build]

    def runner_decisions(self) -> dict[str, tuple[bool | None, str]]:
        return {key: (None if d.skipped else d.build, d.reason) for key, d in self.decisions.items()}

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "state_found": self.state_found, "backfill": self.backfill,
                "sources": self.sources, "notes": self.notes,
                "to_build": len(self.to_build),
                "up_to_date": len(self.steps) - len(self.to_build),
                "nodes": [{**self.decisions[s.key].as_dict(), "upstream": list(s.upstream)} for s in self.steps
                          if s.key in self.decisions]}


def prefix_of(target: "Target") -> str:
    """The state scope of the target (and of its environment, see state.scope)."""
    return state.scope(target.settings.get("schema_prefix") or "", target.settings.get("env"))


def plan_nodes(graph: "ProjectGraph", compiled: "CompiledProject | None", seeds: Sequence["SourceTable"],
           target: "Target", relations: set[tuple[str, str]] | None) -> list[Node]:
    from martctl.compiler.fingerprint import fingerprints, seed_hash

    def exists(relation: tuple[str, str]) -> bool:
        return relations is None or (relation[0].lower(), relation[1].lower()) in relations

    nodes = []
    for seed in seeds:
        content = seed_hash(seed)
        nodes.append(Node(seed.key, "seed", content, content, exists=exists((seed.schema, seed.name))))
    if compiled is not None:
        prints = fingerprints(graph, list(compiled.marts), target.dialect, graph.project.sources)
        for key in (k for k in graph.graph.topological_order() if k in compiled.marts):
            item, found = compiled.marts[key], prints[key]
            nodes.append(Node(key, "mart", found.own, found.full, found.sql, (*item.sources, *item.upstream),
                              exists=exists(item.relation), schedule=item.mart.schedule, dialect=item.mart.dialect))
    return nodes


def stale_sources(adapter: "Adapter | None", sources: Sequence["SourceTable"], now) -> dict[str, str]:
    """Sources past their freshness error_after: key -> why (what it does to its readers: `on_stale`)."""
    from martctl.api.freshness import ERROR, check

    limited = [s for s in sources if s.freshness.get("error_after") is not None]
    if adapter is None or not limited:
        return {}
    return {f.source: f"source {f.source} is stale: newest row {f.newest}, older than error_after "
                      f"{f.error_after}s" for f in check(adapter, limited, now) if f.status == ERROR}


def build_plan(graph: "ProjectGraph", compiled: "CompiledProject | None", seeds: Sequence["SourceTable"],
               steps: list["Step"], target: "Target", adapter: "Adapter | None", *, force: str | None = None,
               tested: Sequence[str] = (), now: "datetime | None" = None,
               forced: "dict[str, str] | None" = None) -> BuildPlan:
    """Decide each step against the state `adapter` reads (None: no warehouse yet, all never built);
    `now` is the clock schedules are read with (default: the time); `forced[key]`: why a node is
    built whatever its state (a backfill)."""
    plan = BuildPlan(steps)
    windows = {item.backfill for item in (compiled.marts.values() if compiled is not None else ()) if item.backfill}
    plan.backfill = {"start": min(windows)[0], "end": min(windows)[1]} if windows else None
    prefix = prefix_of(target)
    records = state.read(adapter, prefix) if adapter is not None else {}
    plan.state_found = bool(records)
    relations = adapter.relations() if adapter is not None else set()
    nodes = plan_nodes(graph, compiled, seeds, target, relations)
    sources = {s for n in nodes for s in n.inputs if s in graph.project.sources and graph.project.sources[s].seed is None}
    versions = source_versions(adapter, [graph.project.sources[s] for s in sorted(sources)], plan.notes, graph.project,
                               plan.sources)
    stale = stale_sources(adapter, [graph.project.sources[s] for s in sorted(sources)], now)
    skip = {key: why for key, why in stale.items() if graph.project.sources[key].on_stale == "skip"}
    def reads(node: str, upstream: str):
        from martctl.compiler.columnchange import columns_read

        return columns_read(graph.parsed[node], upstream)

    plan.decisions = decide(nodes, records, versions, lambda key: f"{plan.run_id}:{key}", force, now, reads, skip,
                            forced)
    plan.notes += _built_over_stale(nodes, plan.decisions, stale, graph.project.sources)
    by_key = {n.key: n for n in nodes}
    pending = {key: state.Record(key, fingerprint=by_key[key].full, sql_hash=by_key[key].own, sql=by_key[key].sql,
                                 inputs=d.inputs, kind=d.kind, backfill=_backfill_of(compiled, key))
               for key, d in plan.decisions.items() if d.build}
    carried: dict[str, list] = {}  # input key -> state updates of the marts its edit does not reach
    for d in plan.decisions.values():
        if d.carried_by:
            values = {"inputs": {**d.record.inputs, **d.inputs}, "fingerprint": by_key[d.key].full}
            carried.setdefault(d.carried_by, []).append(state.update(prefix, "marts", "key", d.key, values))
    plan.recorder = state.Recorder(prefix, plan.run_id, records, pending, set(tested), now, carried)
    return plan


def _backfill_of(compiled: "CompiledProject | None", key: str) -> str | None:
    """The range a backfilled mart's build replaces, as its state record keeps it (JSON)."""
    item = compiled.marts.get(key) if compiled is not None else None
    if item is None or not item.backfill:
        return None
    import json

    return json.dumps({"start": item.backfill[0], "end": item.backfill[1]})


def _built_over_stale(nodes: Sequence[Node], decisions, stale: dict[str, str], sources) -> list[str]:
    """A warning per stale source with `on_stale: warn` that marts built in this run read."""
    notes = []
    for key, why in stale.items():
        if sources[key].on_stale != "warn":
            continue
        readers = [n.key for n in nodes if key in n.inputs and decisions[n.key].build]
        if readers:
            notes.append(f"{why}; built anyway (on_stale: warn): {', '.join(readers)}")
    return notes
