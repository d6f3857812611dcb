"""The data version of each source a run reads: how a build knows that a source's data changed.

In order: the source's `data_version:` query (its result), its `loaded_at:` column (max and row
count), the engine's own change counters (Postgres; see engine/adapters/pgcounters.py). A source with
none of them cannot tell (None): its readers count it as changed on every run.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Sequence

from martctl.engine import ddl, state

if TYPE_CHECKING:
    from martctl.engine.adapters.base import Adapter
    from martctl.project.model import Project, SourceTable

CANNOT_TELL = "cannot tell (no data_version, loaded_at or change counters): counts as changed on every run"
ROWS = 100  # a data_version query's first rows make its version


def source_versions(adapter: "Adapter | None", sources: Sequence["SourceTable"], notes: list[str],
                    project: "Project | None" = None, how: dict[str, str] | None = None) -> dict[str, str | None]:
    """key -> data version (None: cannot tell, or cannot be read: noted). `how[key]` says which way
    each source tells; `project` (its dialect and sources) reads the data_version queries."""
    from martctl.errors import AdapterError

    versions: dict[str, str | None] = {}
    how = how if how is not None else {}
    counted = []
    for source in sources:
        versions[source.key], how[source.key] = None, CANNOT_TELL
        if source.data_version:
            how[source.key] = "data_version query"
        elif source.loaded_at:
            how[source.key] = f"loaded_at column {source.loaded_at} (max and row count)"
        else:
            counted.append(source)
            continue
        if adapter is None:
            continue
        try:
            versions[source.key] = (query_version(adapter, source, project) if source.data_version
                                    else state.source_version(adapter, source.schema, source.name, source.loaded_at))
        except AdapterError as exc:
            notes.append(f"source {source.key}: cannot read its {how[source.key]} (counts as changed): "
                         f"{str(exc).splitlines()[0]}")
    if counted and adapter is not None:
        found, what = adapter.change_counters([(s.schema, s.name) for s in counted])
        for source in counted:
            versions[source.key] = found.get((source.schema, source.name))
            how[source.key] = what if versions[source.key] else f"{CANNOT_TELL} ({what})"
    return versions


def query_version(adapter: "Adapter", source: "SourceTable", project: "Project | None") -> str:
    """The first rows of the source's data_version query, as the target runs it: written in the
    project's dialect, `this` is the table and `source.table` names are the project's sources."""
    import sqlglot
    from sqlglot import exp

    all_sources = project.sources if project is not None else {}
    tree = sqlglot.parse_one(source.data_version, read=project.dialect if project is not None else "duckdb")
    for node in list(tree.find_all(exp.Table)):
        name = f"{node.db}.{node.name}" if node.db else node.name
        if name.lower() == "this":
            found: "SourceTable | None" = source
        else:
            found = all_sources.get(name)
        if found is not None:
            alias = node.args.get("alias")
            node.replace(ddl.table((found.schema, found.name), alias.name if alias else None))
    rows = adapter.query(tree.sql(adapter.dialect), limit=ROWS).rows
    text = "; ".join(", ".join(str(v) for v in row) for row in rows)
    if len(text) > 80:
        text = f"{text[:60]}... #{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    return f"data_version = {text}"
