"""(ProjectGraph, dialect) -> compiled marts: SQL as the target will run it. Pure but for write_compiled."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

from sqlglot import exp

from martctl.compiler.names import aliases_as_written, check_names, keep_alias_case
from martctl.compiler.parsed import ProjectGraph
from martctl.compiler.refusals import Refused, missing_function_hint, refusal_error, source_line
from martctl.compiler.sql import (
    _Unsupported,
    changed_by_generating,
    expand_stars,
    generate,
    has_star,
    nesting_guard,
    output_columns,
    rename_tables,
    renamed_tables,
    typed,
    unsupported_error,
)
from martctl.compiler.transforms import apply_pre_typing, apply_transforms
from martctl.errors import CompileError, Problem, ProjectError
from martctl.project.model import Mart, Project, SourceTable, Target


@dataclass(frozen=True)
class CompiledMart:
    key: str
    mart: Mart
    sql: str  # the select statement in the target dialect, physical names
    relation: tuple[str, str]  # (schema, table) where it lands
    upstream: tuple[str, ...]  # mart keys it reads
    sources: tuple[str, ...]  # source keys it reads
    columns: Mapping[str, str | None]  # output column -> type (None: unknown)
    dialect: str
    warnings: tuple[str, ...] = ()
    inputs: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # input key -> relation
    backfill: tuple[str, str] | None = None  # [start, end) of the cursor this run replaces (incremental)


@dataclass
class CompiledProject:
    graph: ProjectGraph
    dialect: str
    marts: dict[str, CompiledMart]
    schema_prefix: str = ""
    schema_suffix: str = ""  # an environment's layer (`__dev`); empty for prod

    def relation(self, key: str) -> tuple[str, str]:
        """Physical (schema, table) of a mart or source key."""
        return relation_of(self.graph.project, key, self.schema_prefix, self.schema_suffix)

    @property
    def warnings(self) -> list[str]:
        return [f"{k}: {w}" for k, m in self.marts.items() for w in m.warnings]


def relation_of(project: Project, key: str, schema_prefix: str = "", schema_suffix: str = "") -> tuple[str, str]:
    """Physical (schema, table) of a mart or source; marts and seeds (which martctl loads) take the
    target's schema_prefix, so a dev build never overwrites what production reads, and the suffix of
    an environment's layer (`marketing__dev`)."""
    if key in project.marts:
        mart = project.marts[key]
        return (schema_prefix + mart.area + schema_suffix, mart.name)
    source: SourceTable = project.sources[key]
    if source.seed is None:
        return (source.schema, source.name)
    return (schema_prefix + source.schema + schema_suffix, source.name)


def naming(target: Target | None) -> tuple[str, str]:
    """The (schema_prefix, schema_suffix) a target puts around area and seed schemas."""
    settings = target.settings if target else {}
    return (settings.get("schema_prefix") or "", settings.get("schema_suffix") or "")


def target_seeds(project: Project, target: Target | None) -> list[SourceTable]:
    """The project's seeds, each with the schema it loads into on `target` (its schema_prefix applied)."""
    return [replace(s, schema=relation_of(project, s.key, *naming(target))[0]) for s in project.seeds]


def _nest(schema: dict, relation: tuple[str, str], columns: Mapping[str, str | None]) -> None:
    if columns:
        schema.setdefault(relation[0], {})[relation[1]] = {c: (t or "UNKNOWN") for c, t in columns.items()}


def compile_project(
    graph: ProjectGraph,
    dialect: str | None = None,
    target: Target | None = None,
    select: Iterable[str] | None = None,
    strict: bool = True,
    source_columns: Mapping[str, Mapping[str, str | None]] | None = None,
    types: bool = False,
) -> CompiledProject:
    """Compile the selected marts (all by default) to `dialect` (or the target's). Marts are typed
    (qualify + annotate_types, their ancestors too) when a dialect changes, or always with `types`.
    Each unchanged mart comes from the plan cache (see _Cache)."""
    project = graph.project
    dialect = dialect or (target.dialect if target else project.dialect)
    prefix = naming(target)
    wanted = set(select) if select is not None else set(project.marts)
    cross = types or any(project.marts[k].dialect != dialect for k in wanted)
    # marts whose output columns we must know: the wanted ones and, when typing, all their ancestors
    needed = wanted | graph.graph.upstream(wanted) if cross else wanted
    order = [k for k in graph.graph.topological_order() if k in needed]
    known = _source_columns(project, source_columns or {}, typed=cross)
    cache = _Cache(graph, *cache_settings(dialect, prefix, strict, types, cross))
    compiled = _compile_in_order(graph, order, wanted, known, dialect, prefix, strict, cross, cache)
    cache.save()
    return CompiledProject(graph, dialect, compiled, *prefix)


def _source_columns(project: Project, catalog: Mapping, typed: bool) -> dict[str, Mapping[str, str | None]]:
    """Each source's columns: the catalog's, else declared; when typing, a seed's sniffed types fill the gaps."""
    known: dict[str, Mapping[str, str | None]] = {}
    for key, source in project.sources.items():
        columns = catalog.get(key) or source.columns
        if typed and source.seed is not None and not all(columns.values()):
            from martctl.project.loader import seed_column_types

            columns = {**seed_column_types(source.seed), **{c: t for c, t in columns.items() if t}}
        known[key] = columns
    return known


def _compile_in_order(graph: ProjectGraph, order: list[str], wanted: set, known: dict, dialect: str, prefix: tuple[str, str],
                      strict: bool, typing: bool, cache: "_Cache") -> dict[str, CompiledMart]:
    """Compile `order` (upstream first, each typed against its inputs' `known` columns, which it then
    extends; from `cache` when unchanged); keep the `wanted` ones; every mart's problems are gathered,
    then raised together."""
    project = graph.project
    compiled: dict[str, CompiledMart] = {}
    problems: list[Problem] = []
    for key in order:
        item = cache.get(key, known)
        if item is None:
            try:
                with nesting_guard(project.marts[key]):
                    item = _compile_mart(graph, key, dialect, prefix, known, strict, typing=typing)
            except ProjectError as exc:
                problems.extend(exc.problems)
                known[key] = {c: col.type for c, col in project.marts[key].columns.items()}
                continue
            cache.put(key, item)
        known[key] = item.columns
        if key in wanted:
            compiled[key] = item
    if problems:
        raise CompileError(problems)
    return compiled


class _Cache:
    """Each mart's compiled form in target/.cache/plan.json, keyed by its parse entry, the dialect and
    target settings, and its inputs' columns (so an upstream change that alters them recompiles it)."""

    KEEP = 4  # compiled forms kept per mart (targets, dialects)

    def __init__(self, graph: ProjectGraph, *settings) -> None:
        from martctl.compiler import plancache

        self.graph, self.settings, self.keys, self.changed = graph, settings, {}, False
        self.entries = graph.plan.setdefault("compiled", {}) if graph.plan is not None else None
        self._key = plancache.compile_key

    def _cache_key(self, key: str, known) -> str | None:
        parse_entry = self.graph.plan.get("marts", {}).get(key) if self.entries is not None else None
        if parse_entry is None:
            return None
        parsed = self.graph.parsed[key]
        inputs = [(ref, known.get(ref)) for ref in (*parsed.upstream_marts, *parsed.upstream_sources)]
        return self._key(self.settings, parse_entry["hash"], inputs)

    def get(self, key: str, known) -> CompiledMart | None:
        self.keys[key] = self._cache_key(key, known)
        entry = (self.entries.get(key) or {}).get(self.keys[key]) if self.keys[key] else None
        if entry is None and self.keys[key] and self.settings == self.graph.precompiled_for:
            entry = self.graph.precompiled.pop(key, None)  # made by prefill.py's child: stored as put does
            if entry is not None:
                self._store(key, entry)
        if entry is None:
            return None
        parsed = self.graph.parsed[key]
        return CompiledMart(
            key=key, mart=parsed.mart, sql=entry["sql"], relation=tuple(entry["relation"]),
            upstream=parsed.upstream_marts, sources=parsed.upstream_sources, columns=entry["columns"],
            dialect=self.settings[0], warnings=tuple(entry["warnings"]),
            inputs={k: tuple(v) for k, v in entry["inputs"].items()},
        )

    def put(self, key: str, item: CompiledMart) -> None:
        if self.keys.get(key):
            self._store(key, cache_entry(item))

    def _store(self, key: str, entry: dict) -> None:
        kept = list((self.entries.get(key) or {}).items())[-(self.KEEP - 1):]
        self.entries[key] = {**dict(kept), self.keys[key]: entry}
        self.changed = True

    def save(self) -> None:
        if self.changed:
            from martctl.compiler import plancache

            for gone in set(self.entries) - set(self.graph.project.marts):
                del self.entries[gone]
            plancache.write(self.graph.target_dir, self.graph.plan)


def cache_settings(dialect: str, prefix: tuple[str, str], strict: bool, types: bool, typing: bool) -> tuple:
    """What a compiled entry holds for besides the mart and its inputs' columns (part of its key)."""
    return dialect, prefix, strict, types, typing


def cache_entry(item: CompiledMart) -> dict:
    """A compiled mart as the plan cache keeps it (plain values)."""
    return {"sql": item.sql, "relation": list(item.relation), "columns": dict(item.columns),
            "warnings": list(item.warnings), "inputs": {k: list(v) for k, v in item.inputs.items()}}


def independent_entry(graph: ProjectGraph, key: str, target: Target) -> dict | None:
    """The cache entry of `key` compiled for `target` (not typed, unsupported constructs refused) when
    that cannot depend on its inputs' columns: the mart is in the target's dialect and has no star to
    expand. None otherwise. Valid under cache_settings(target.dialect, naming(target), True, False, False)."""
    parsed = graph.parsed[key]
    if parsed.mart.dialect != target.dialect or has_star(parsed.tree):
        return None
    with nesting_guard(parsed.mart):
        item = _compile_mart(graph, key, target.dialect, naming(target), {}, strict=True, typing=False)
    return cache_entry(item)


def _compile_mart(graph: ProjectGraph, key: str, dialect: str, prefix: tuple[str, str], known, strict: bool, typing: bool) -> CompiledMart:
    project = graph.project
    parsed = graph.parsed[key]
    mart = parsed.mart
    inputs = {ref: relation_of(project, ref, *prefix) for ref in (*parsed.marts.values(), *parsed.sources.values())}
    schema: dict = {}
    for ref, relation in inputs.items():
        _nest(schema, relation, known.get(ref) or {})
    declared = {c: col.type for c, col in mart.columns.items()}
    physical = {node: inputs[ref] for node, ref in (*parsed.marts.items(), *parsed.sources.items())}
    check_names(mart, parsed.tree)
    needs_tree = typing or mart.dialect != dialect or (has_star(parsed.tree) and schema)
    blind = [ref for ref in inputs if not known.get(ref)]
    try:
        if needs_tree:
            tree, text, warnings = _transpiled(parsed, physical, schema, dialect, strict, typing, blind)
        else:  # same dialect, nothing to expand: generate from the shared tree, renamed for the while
            tree, tables = parsed.tree, parsed.nodes.find_all(exp.Table)
            if changed_by_generating(parsed.nodes, dialect):  # generate from a copy, not the shared tree
                tree, tables = tree.copy(), None
                physical = {id(new): physical[id(old)] for old, new in zip(parsed.tree.walk(), tree.walk())
                            if id(old) in physical}
            with renamed_tables(tree, physical, tables):
                text, warnings = generate(tree, dialect, strict=strict)
    except _Unsupported as exc:
        raise unsupported_error(mart, dialect, str(exc)) from None
    except Refused as exc:
        raise refusal_error(mart, dialect, exc.construct, source_line(exc.node), exc.hint) from None
    columns = {c: declared.get(c) or t for c, t in output_columns(tree).items()}
    if mart.dialect != dialect:
        if blind:
            warnings.append(
                f"transpiled from {mart.dialect} without the columns of {', '.join(blind)}: types may not carry over "
                "(declare the columns in config.yaml sources, or compile for a reachable target)"
            )
        complaint = _check_output(mart, tree, text, dialect)
        if complaint:
            raise CompileError(
                Problem(
                    f"mart '{key}': sqlglot's {dialect} output does not parse back: {complaint}",
                    mart.sql_path,
                    mart.sql_line,
                    hint="rewrite the construct portably; please report it",
                )
            )
    return CompiledMart(
        key=key,
        mart=mart,
        sql=text,
        relation=relation_of(project, key, *prefix),
        upstream=parsed.upstream_marts,
        sources=parsed.upstream_sources,
        columns=columns,
        dialect=dialect,
        warnings=tuple(warnings),
        inputs=inputs,
    )


def _blind_hint(blind) -> str | None:
    """Which inputs' columns nobody could tell, and how to tell them."""
    if not blind:
        return None
    sources = [ref for ref in blind if "." in ref]
    return (f"martctl does not know the columns of {', '.join(sources)}: declare them (columns:) under sources in "
            "config.yaml, or make the target reachable so that they are read from its catalog")


def _transpiled(parsed, physical, schema, dialect: str, strict: bool, typing: bool, blind=()):
    """Copy the tree, point it at physical names, type it (or expand its stars), fix, generate."""
    mart = parsed.mart
    written = aliases_as_written(parsed.tree) if mart.dialect == "duckdb" else None
    tree = parsed.tree.copy()
    # copy() makes new nodes: carry the references over by walking both trees in step
    moved = {id(new): physical[id(old)] for old, new in zip(parsed.tree.walk(), tree.walk()) if id(old) in physical}
    rename_tables(tree, moved)
    tree = apply_pre_typing(tree, mart.dialect, dialect)
    if typing or mart.dialect != dialect:
        try:
            tree = typed(tree, schema, mart.dialect)
        except Exception as exc:  # sqlglot's optimizer raises several kinds
            raise CompileError(Problem(f"mart '{mart.key}': cannot resolve its columns: {exc}", mart.sql_path, mart.sql_line,
                                       hint=_blind_hint(blind))) from None
    else:
        tree = expand_stars(tree, schema, mart.dialect)
    tree = apply_transforms(tree, mart.dialect, dialect)
    keep_alias_case(tree, written)
    text, warnings = generate(tree, dialect, strict=strict)
    return tree, text, warnings


def _check_output(mart: Mart, tree, text: str, dialect: str) -> str | None:
    """Raise when the output calls a function the target lacks; the parser's complaint when the
    output does not parse back in `dialect` (else None). One tokenizing serves both."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import SqlglotError

    from martctl.compiler import surface

    engine = Dialect.get_or_raise(dialect)
    try:
        tokens = engine.tokenize(text)
        engine.parser().parse(tokens, text)
    except SqlglotError as exc:
        return str(exc).splitlines()[0]
    absent = surface.missing(tokens, dialect)
    if absent:
        call = absent[0]
        node = _node_of_call(tree, call.name, dialect)
        written = _written(mart, node) or call.name
        raise refusal_error(mart, dialect, f"{written}() with {call.args} argument(s)", source_line(node),
                            missing_function_hint(call.name, dialect))
    return None


def _node_of_call(tree, name: str, dialect: str):
    """The function node of the output tree that is written as `name(...)` in `dialect` (error path only)."""
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect

    from martctl.compiler import surface

    engine = Dialect.get_or_raise(dialect)
    for node in tree.find_all(exp.Func):
        found = surface.calls(engine.tokenize(node.sql(dialect)))
        if found and found[0].name == name:
            return node
    return None


def _written(mart: Mart, node) -> str | None:
    """The function's name exactly as the user wrote it (from the parser's character offsets)."""
    meta = node.meta if node is not None and node._meta else {}
    if "start" in meta and "end" in meta:
        return mart.sql[meta["start"]: meta["end"] + 1]
    return None


def write_compiled(compiled: CompiledProject, target_dir: Path, folder: str = "compiled") -> list[Path]:
    """target/<folder>/<area>/<name>.sql for each compiled mart; returns the files written. A file
    that already holds the same SQL is left alone (reading it is cheaper than rewriting it)."""
    from martctl.project.paths import ProjectFolder

    written = []
    compiled_dir = ProjectFolder(target_dir / folder)
    folders: set[Path] = set()
    for item in compiled.marts.values():
        path = compiled_file(target_dir / folder, item)
        if not compiled_dir.contains(path):  # names are checked on load; this is the last guard
            raise ProjectError(f"mart '{item.mart.area}.{item.mart.name}': its compiled SQL would be written "
                               f"outside target/{folder} ({path})", hint="rename the mart: a plain identifier")
        text = item.sql.rstrip() + ";\n"
        if _holds(path, text):
            continue
        try:
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ProjectError(f"cannot write the compiled SQL of mart '{item.key}' to {path}: {exc.strerror or exc}",
                               hint=f"make target/{folder} a writable folder (martctl writes it anew when it is removed)") from None
        written.append(path)
    return written


def compiled_file(folder: Path, item: CompiledMart) -> Path:
    """<folder>/<area>/<name>.sql (folder: target/compiled): where a mart's compiled SQL is written."""
    return folder / item.mart.area / f"{item.mart.name}.sql"


def unwritten(compiled: CompiledProject, target_dir: Path, keys: Iterable[str]) -> set[str]:
    """Those of `keys` whose compiled file is missing (target/ removed since they were built)."""
    folder = target_dir / "compiled"
    return {key for key in keys if key in compiled.marts and not compiled_file(folder, compiled.marts[key]).is_file()}


def _holds(path: Path, text: str) -> bool:
    """True when `path` is a file whose content is `text` already."""
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, ValueError):
        return False
