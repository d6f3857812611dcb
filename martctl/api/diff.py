"""`martctl diff`: what a change does to a mart's data, one environment against another.

A mart `area.name` is read in env prod at `<prefix><area>.<name>` and in env E at
`<prefix><area>__<E>.<name>` (`relation_in_env`). The comparison itself is the engine's
(martctl/engine/datadiff.py): it knows nothing of environments, only two relations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from martctl.errors import ProjectError, did_you_mean

if TYPE_CHECKING:
    from martctl.engine.adapters.base import Adapter
    from martctl.engine.datadiff import DataDiff
    from martctl.project.model import Mart, Target

# `ws` below is a martctl.api.workspace.Workspace (not imported: workspace.py imports this module)

PROD = "prod"
Relation = tuple[str, str]


def relation_in_env(target: "Target", mart: "Mart", env: str) -> Relation:
    """Where env `env` reads `mart` on `target`: (<prefix><area>, name) in prod, (<prefix><area>__<env>, name) elsewhere."""
    from martctl.api.environments import schema_prefix, suffix

    return (schema_prefix(target) + mart.area + suffix(env), mart.name)


@dataclass
class MartDiff:
    """One mart in `env` against `against`. status: differs, same, new (only in env), gone (only in against)."""

    mart: str
    relation: Relation | None  # in env (None: not there)
    against_relation: Relation | None
    status: str
    diff: "DataDiff | None" = None
    rows: int | None = None  # the one side's rows when only one side exists

    def as_dict(self) -> dict[str, Any]:
        return {"mart": self.mart, "status": self.status,
                "relation": ".".join(self.relation) if self.relation else None,
                "against_relation": ".".join(self.against_relation) if self.against_relation else None,
                "rows": self.rows, "diff": self.diff.as_dict() if self.diff else None}


@dataclass
class DiffReport:
    """What `martctl diff` found on one target: each compared mart (without a mart named: those that differ)."""

    target: str
    env: str
    against: str
    marts: list[MartDiff] = field(default_factory=list)
    compared: int = 0  # how many marts were compared (without a mart named, only those that differ are in `marts`)

    @property
    def differs(self) -> bool:
        return any(m.status != "same" for m in self.marts)

    def exit_code(self, fail_on_change: bool = False) -> int:
        return int(fail_on_change and self.differs)

    def as_dict(self, fail_on_change: bool = False) -> dict[str, Any]:
        return {"target": self.target, "env": self.env, "against": self.against, "differs": self.differs,
                "compared": self.compared, "marts": [m.as_dict() for m in self.marts],
                "exit_code": self.exit_code(fail_on_change)}


def diff(ws, mart: str | None = None, *, env: str, against: str = PROD, sample: int = 5,
         select: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
         relations: tuple[Relation, Relation] | None = None) -> DiffReport:
    """`mart` in `env` against `against` (summaries and a sample of `sample` changed rows), or every
    selected mart (counts only; those that differ are listed). `relations`: (old, new) to compare
    instead of the environments' (for one mart)."""
    from martctl.api.docs import resolve_mart

    _check_env_names(env, against, sample)
    if relations is not None and mart is None:
        raise ProjectError("explicit relations compare one mart: name it")
    if mart and (select or exclude):
        raise ProjectError(f"name one mart ('{mart}') or select marts (-s, --exclude), not both",
                           hint=f"martctl diff {mart} --env {env}, or martctl diff -s ... --env {env}")
    keys = [resolve_mart(ws, mart)] if mart else ws.select(select, exclude)[0]
    ws._require_target()
    adapter = ws._reader()
    if adapter is None:
        raise ProjectError(f"there is no warehouse on target '{ws.target.name}' yet", hint="martctl build first")
    try:
        if relations is None:
            _check_env_exists(ws, adapter, env, against)
        report = DiffReport(ws.target.name, env, against, compared=len(keys))
        for key in keys:
            found = _diff_mart(ws, adapter, key, env, against, relations, sample if mart else 0, bool(mart))
            if mart or found.status not in ("same", "missing"):
                report.marts.append(found)
    finally:
        adapter.close()
    if mart and report.marts[0].status == "missing":
        raise ProjectError(f"'{keys[0]}' exists neither in {env} nor in {against} on target '{ws.target.name}'",
                           hint=f"build it first: martctl build -s {keys[0]}")
    return report


def _diff_mart(ws, adapter: "Adapter", key: str, env: str, against: str, relations, sample: int,
               summaries: bool) -> MartDiff:
    from martctl.engine.datadiff import diff_relations, row_count

    mart = ws.project.marts[key]
    old, new = relations or (relation_in_env(ws.target, mart, against), relation_in_env(ws.target, mart, env))
    old_columns, new_columns = adapter.columns(*old), adapter.columns(*new)
    if old_columns is None or new_columns is None:
        there = new if new_columns is not None else old if old_columns is not None else None
        status = "missing" if there is None else ("new" if there == new else "gone")
        return MartDiff(key, new if new_columns else None, old if old_columns else None, status,
                        rows=row_count(adapter, there) if there else None)
    _check_declared_key(mart, old_columns, new_columns)
    found = diff_relations(adapter, old, new, mart.key_columns(), sample=sample, summaries=summaries)
    return MartDiff(key, new, old, "differs" if found.differs else "same", found)


def _check_declared_key(mart: "Mart", old: dict[str, str], new: dict[str, str]) -> None:
    """A declared primary_key column that neither side has is a mistake in the YAML (file:line)."""
    unknown = [k for k in mart.primary_key if k not in old and k not in new]
    if unknown:
        hint = did_you_mean(unknown[0], list(new)) or f"its columns: {', '.join(new)}"
        raise ProjectError(f"primary_key column '{unknown[0]}' is not a column of {mart.key}", mart.file,
                           mart.primary_key_line, hint=hint)


def _check_env_names(env: str, against: str, sample: int) -> None:
    from martctl.api.environments import check_env

    for name in (env, against):
        check_env(name)
    if env == against:
        raise ProjectError(f"--env and --against are both '{env}'", hint="compare two environments: --env dev --against prod")
    if sample < 0:
        raise ProjectError(f"--sample must be 0 or more, got {sample}")


def _check_env_exists(ws, adapter: "Adapter", *envs: str) -> None:
    """An environment exists when at least one mart's relation for it is in the warehouse."""
    relations = adapter.relations()
    known = {PROD} if any(relation_in_env(ws.target, m, PROD) in relations for m in ws.project.marts.values()) else set()
    prefix = ws.target.settings.get("schema_prefix") or ""
    areas = {prefix + m.area for m in ws.project.marts.values()}
    known |= {schema[len(area) + 2:] for schema, _ in relations for area in areas if schema.startswith(area + "__")}
    for env in envs:
        if env not in known:
            hint = did_you_mean(env, known) or (f"environments on this target: {', '.join(sorted(known))}" if known
                                                else "nothing is built on this target yet: martctl build")
            raise ProjectError(f"unknown environment '{env}' on target '{ws.target.name}'", hint=hint)
