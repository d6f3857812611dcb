"""What is due: per node, build or skip, and why (pure: fingerprints and recorded state in, decisions out).

A node is built when it was never built (or its table is gone), its SQL or settings changed, its
last build's tests did not pass, an input is built in this run, an input was rebuilt or its data
changed since its last build (a source that cannot tell counts as changed; a mart with a schedule
reads its sources' changes at its schedule's ticks), or the run forces it.
Every other node is up to date.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Mapping, Sequence

from martctl.compiler.columnchange import changed_columns
from martctl.engine.state import OK, Record

UP_TO_DATE = "up to date"
DATA_VERSIONS = ("max ", "data_version", "counters:")  # how a source's data version begins (api/sourceversion.py)


@dataclass(frozen=True)
class Node:
    """A seed or mart of the run as the decision sees it."""

    key: str
    kind: str  # seed | mart
    own: str  # the hash of its SQL and settings (a seed's content hash)
    full: str  # own + its inputs' fingerprints
    sql: str = ""  # canonical SQL (for the diff)
    inputs: tuple[str, ...] = ()  # mart, seed and source keys it reads
    exists: bool = True  # its relation is in the warehouse
    schedule: str | None = None  # cron or @daily...: due at each tick, and sources that cannot tell wait for it
    dialect: str = "duckdb"  # of its canonical SQL


@dataclass
class Decision:
    key: str
    kind: str
    build: bool
    reason: str
    diff: str = ""  # the canonical SQL diff when the SQL changed
    inputs: dict[str, str | None] = field(default_factory=dict)  # input key -> version it is built from
    record: Record | None = None  # the state's record of its last build
    changed: set[str] | None = None  # built for an edit that changed only these columns (None: maybe all)
    carried_by: str | None = None  # not built: it reads none of the columns this input's edit changed
    skipped: bool = False  # not built, and not up to date either: an input source is stale

    def as_dict(self) -> dict:
        last = self.record
        return {"node": self.key, "kind": self.kind, "action": "build" if self.build else "skip", "reason": self.reason,
                "sql_diff": self.diff or None,
                "last_built_at": last.built_at if last else None, "last_run_id": last.run_id if last else None}


def sql_diff(before: str, after: str) -> str:
    """A unified diff of two canonical SQL texts, one clause a line."""
    def lines(text: str) -> list[str]:
        import sqlglot

        try:
            return sqlglot.transpile(text, pretty=True)[0].splitlines()
        except Exception:
            return text.splitlines()

    return "\n".join(difflib.unified_diff(lines(before), lines(after), "last build", "now", lineterm="", n=1))


def decide(nodes: Sequence[Node], records: Mapping[str, Record], source_versions: Mapping[str, str | None],
           run_version, force: str | None = None, now: datetime | None = None,
           reads: Callable[[str, str], set[str] | None] | None = None,
           stale: Mapping[str, str] | None = None, forced: Mapping[str, str] | None = None) -> dict[str, Decision]:
    """One Decision per node (given in dependency order). `run_version(key)` is the version a node
    built in this run records; `source_versions[key]` the data version of a source (None: cannot tell);
    `force` the reason to build everything (--full-refresh, --force); `now` the clock schedules read;
    `reads(node, input)` the columns of `input` a node reads (None: all), for changes that do not cascade;
    `stale[source]` why a source is past its freshness error_after: its readers are skipped;
    `forced[key]` the reason one node is built whatever its state (a backfill)."""
    now = now or datetime.now(timezone.utc)
    decisions: dict[str, Decision] = {}

    def version(key: str) -> str | None:
        if key in decisions:
            return run_version(key) if decisions[key].build else (records[key].version if key in records else None)
        if key in records:
            return records[key].version
        return source_versions.get(key)

    for node in nodes:
        record = records.get(node.key)
        inputs = {key: version(key) for key in node.inputs}
        reason, diff = _why(node, record, inputs, decisions, (forced or {}).get(node.key) or force, now)
        changed = carried = None
        if reason == "SQL changed" and record is not None and record.sql:
            diff = sql_diff(record.sql, node.sql)
            changed = changed_columns(record.sql, node.sql, node.dialect)
            if changed is not None:
                reason += f" (columns changed: {', '.join(sorted(changed)) or 'none, only added'})"
        elif reason and reason.endswith("is built in this run") and reads is not None:
            carried = _not_cascading(node, record, inputs, decisions, reads)
            if carried:
                reason = None
        decision = Decision(node.key, node.kind, reason is not None, reason or UP_TO_DATE, diff, inputs, record, changed)
        if carried:
            decision.carried_by, decision.reason = carried
        over = [why for key, why in (stale or {}).items() if key in node.inputs]
        if over and decision.build:
            decision.build, decision.skipped, decision.reason = False, True, f"skipped: {over[0]}"
        decisions[node.key] = decision
    return decisions


def _not_cascading(node: Node, record: Record | None, inputs: Mapping[str, str | None],
                   decisions: Mapping[str, Decision], reads) -> tuple[str, str] | None:
    """(input, reason) when the node is due only because one input is built in this run for an edit
    that changed no column the node reads; else None."""
    built = [key for key in inputs if key in decisions and decisions[key].build]
    if len(built) != 1 or record is None:
        return None
    upstream = decisions[built[0]]
    if upstream.changed is None:
        return None
    read = reads(node.key, upstream.key)
    if read is None or read & upstream.changed:
        return None
    others = {k: v for k, v in inputs.items() if k != upstream.key}
    if any(record.inputs.get(k) != v or v is None for k, v in others.items()) or record.fingerprint is None:
        return None
    what = ", ".join(sorted(upstream.changed)) or "only added columns"
    return upstream.key, f"{UP_TO_DATE}: reads none of the columns {upstream.key}'s edit changed ({what})"


def _due_by_schedule(node: Node, record: Record, now: datetime) -> str | None:
    from martctl.project.schedule import latest_tick

    tick = latest_tick(node.schedule, now)
    built = datetime.fromisoformat(record.built_at) if record.built_at else None
    if tick is not None and (built is None or built < tick):
        return f"due by schedule {node.schedule} (it fired at {tick:%Y-%m-%d %H:%M} UTC)"
    return None


def _why(node: Node, record: Record | None, inputs: Mapping[str, str | None],
         decisions: Mapping[str, Decision], force: str | None, now: datetime) -> tuple[str | None, str]:
    if force:
        return force, ""
    if record is None or record.fingerprint is None:
        return "never built", ""
    if not node.exists:
        return "its table is missing from the warehouse", ""
    if record.sql_hash != node.own:
        if node.kind == "seed":
            return "seed file changed", ""
        if (record.sql or "") != node.sql:
            return "SQL changed", ""
        return "settings changed (materialization, incremental or dialect)", ""
    if record.status not in (OK, None):
        return f"its last build's tests {'failed' if record.status != 'testing' else 'did not finish'}", ""
    if node.schedule and _due_by_schedule(node, record, now):
        return _due_by_schedule(node, record, now), ""
    for key, current in inputs.items():
        if key in decisions and decisions[key].build:
            return f"input {key} is built in this run", ""
        if node.schedule and (current is None or current.startswith(DATA_VERSIONS)):
            continue  # a scheduled mart reads its sources' new data (or a source that cannot tell) at its next tick
        if current is None:
            return (f"source {key} cannot tell whether its data changed (no loaded_at, data_version or change "
                    "counters: counts as changed)"), ""
        if record.inputs.get(key) != current:
            if current.startswith(DATA_VERSIONS):
                return f"source {key}'s data changed: {current} (was: {record.inputs.get(key) or 'unknown'})", ""
            return f"input {key} changed since its last build", ""
    return None, ""  # a changed input definition counts once that input is built (its version changes)
