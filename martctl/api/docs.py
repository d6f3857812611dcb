"""`martctl docs build` and `martctl show`: the static site of a project, and a mart's first rows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from martctl.errors import ProjectError, did_you_mean

# `ws` below is a martctl.api.workspace.Workspace (not imported: workspace.py imports this module)


@dataclass
class DocsSite:
    """What `docs build` wrote: the folder, its index page, how many pages, and what it could not read."""

    path: Path
    index: Path
    marts: int
    sources: int
    files: int
    seconds: float
    warehouse: bool  # row counts and types were read from the warehouse
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path), "index": str(self.index)}


def build_docs(ws, out_dir: Path | None = None, *, warehouse: bool = True) -> DocsSite:
    """Gather the project, its lineage, the last run and (when reachable) the warehouse, and write the site."""
    from martctl.docs.collect import collect, read_last_run
    from martctl.docs.site import write_site

    started = time.perf_counter()
    out = Path(out_dir) if out_dir else ws.target_dir / "docs"
    warnings: list[str] = []
    compiled = ws.compile_keys(list(ws.project.marts), strict=False)
    facts = _warehouse(ws, compiled, warnings) if warehouse else {}
    site = collect(ws.project, ws.graph, {k: m.sql for k, m in compiled.marts.items()}, ws.lineage(),
                   read_last_run(ws.target_dir), facts)
    site["target"] = ws.target.name
    files = write_site(site, out, ws.target.name)
    return DocsSite(out, out / "index.html", len(site["marts"]), len(site["sources"]), len(files),
                    time.perf_counter() - started, bool(facts), warnings)


def _warehouse(ws, compiled, warnings: list[str]) -> dict:
    """Row counts and column types from the target, or {} (with a warning) when it cannot be read."""
    from martctl.docs.warehouse import warehouse_facts
    from martctl.engine.adapters.base import get_adapter
    from martctl.project.loader import missing_env_problems

    if missing_env_problems(ws.project, ws.target):
        warnings.append(f"target '{ws.target.name}' needs environment variables: no row counts")
        return {}
    adapter = get_adapter(ws.target, ws.root)
    try:
        adapter.require_existing()
        adapter.connect()
    except Exception as exc:  # noqa: BLE001 - the site is built from the project alone
        warnings.append(f"warehouse not read ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}): no row counts")
        return {}
    try:
        relations = {k: compiled.relation(k) for k in list(ws.project.sources) + list(ws.project.marts)}
        return warehouse_facts(adapter, relations)
    finally:
        adapter.close()


def docs_server(ws, port: int = 8080, site_dir: Path | None = None):
    """An HTTP server on localhost for the built site (target/docs/); ProjectError when it is not built."""
    from martctl.docs.serve import docs_server as server

    folder = Path(site_dir) if site_dir else ws.target_dir / "docs"
    if not (folder / "index.html").is_file():
        raise ProjectError(f"no docs site in {folder} (index.html is missing)", hint="martctl docs build")
    try:
        return server(folder, port)
    except OSError as exc:
        raise ProjectError(f"cannot serve on port {port}: {exc.strerror or exc}", hint="pick another: --port N") from None


@dataclass
class Preview:
    """A mart's first rows (`martctl show`)."""

    mart: str
    relation: str
    columns: list[str]
    rows: list[tuple]

    def as_dict(self) -> dict[str, Any]:
        return {"mart": self.mart, "relation": self.relation, "columns": self.columns,
                "rows": [dict(zip(self.columns, row)) for row in self.rows]}


def show(ws, name: str, limit: int = 20) -> Preview:
    """The first `limit` rows of a mart (area.name, or a bare name when unambiguous) as built on the target."""
    from sqlglot import exp

    from martctl.engine.adapters.base import get_adapter

    key = resolve_mart(ws, name)
    if limit < 0:
        raise ProjectError(f"-n must be 0 or more, got {limit}")
    ws._require_target()
    schema, table = ws.compile_keys([key], strict=False).relation(key)
    adapter = get_adapter(ws.target, ws.root)
    adapter.require_existing()
    adapter.connect()
    try:
        if adapter.columns(schema, table) is None:
            raise ProjectError(f"'{key}' is not built on target '{ws.target.name}' yet ({schema}.{table} does not exist)",
                               hint=f"martctl build -s {key}")
        query = exp.select("*").from_(exp.table_(table, db=schema, quoted=True)).limit(limit)
        result = adapter.query(query.sql(dialect=adapter.dialect), limit=limit)
    finally:
        adapter.close()
    return Preview(key, f"{schema}.{table}", list(result.columns), [tuple(r) for r in result.rows])


def resolve_mart(ws, name: str) -> str:
    """area.name, or a bare name that one mart has; else a ProjectError with a "did you mean"."""
    marts = ws.project.marts
    if name in marts:
        return name
    bare = [k for k, m in marts.items() if m.name == name]
    if len(bare) == 1:
        return bare[0]
    if bare:
        raise ProjectError(f"'{name}' is ambiguous: {', '.join(sorted(bare))}", hint="name it as area.name")
    hint = did_you_mean(name, list(marts) + [m.name for m in marts.values()]) or "martctl ls lists the marts"
    raise ProjectError(f"unknown mart '{name}'", hint=hint)
