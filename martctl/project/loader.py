"""The only module that reads project files (with testspecs.py for the tests in them): config.yaml, marts/**.yml|.sql, seeds/*.csv."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from martctl.errors import Problem, ProjectError, did_you_mean
from martctl.project.dsnsecrets import password_parts
from martctl.project.envvars import expand
from martctl.project.model import (
    MATERIALIZATIONS,
    Column,
    Mart,
    Project,
    SourceTable,
    Target,
)
from martctl.project.names import mart_name_problem, name_problems
from martctl.project.paths import ProjectFolder
from martctl.project.sourcechange import data_version, on_stale
from martctl.project.testspecs import load_tests, load_unit_tests
from martctl.project.textfile import UnreadableFile, read_text, recording_reads
from martctl.project.yamlcheck import Collector
from martctl.project.yamlfile import YamlProblem, key_line, read_yaml, value_first_line

CONFIG_KEYS = {
    "name": str,
    "dialect": str,
    "default_target": str,
    "targets": dict,
    "sources": dict,
    "vars": dict,
    "seeds": dict,
    "allow_outside": list,  # folders outside the project that files may be read from (symlinks)
    "schedule": str,  # the default schedule of every mart (cron or @daily...)
    "areas": dict,  # per area: {schedule: ...}
    "on_stale": str,  # the default of every source: skip | warn | build (project/sourcechange.py)
}
AREA_KEYS = {"schedule": str}
TARGET_KEYS = {"type": str, "threads": int, "dialect": str, "path": str, "dsn": str, "schema_prefix": str}
TARGET_EXTRA_KEYS = {"duckdb": {}, "postgres": {"connect_timeout": int}, "spark": {"master": str, "remote": str, "warehouse": str, "conf": dict}}
SOURCE_KEYS = {"schema": str, "tables": (list, dict), "description": str, "loaded_at": str, "freshness": dict,
               "data_version": str, "on_stale": str}
SOURCE_TABLE_KEYS = {"name": str, "columns": (dict, list), "description": str, "loaded_at": str, "freshness": dict,
                     "data_version": str, "on_stale": str}
FRESHNESS_KEYS = {"loaded_at": str, "warn_after": str, "error_after": str}
SEEDS_KEYS = {"schema": str, "column_types": dict}
MART_KEYS = {
    "name": str,
    "description": str,
    "owner": str,
    "materialized": str,
    "tags": list,
    "sql": str,
    "sql_file": str,
    "dialect": str,
    "columns": dict,
    "tests": list,
    "unit_tests": list,
    "incremental": dict,
    "meta": dict,
    "schedule": str,
    "primary_key": (str, list),  # the column(s) that identify a row (martctl diff compares rows by it)
}
COLUMN_KEYS = {"description": str, "tests": list, "type": str}
INCREMENTAL_KEYS = {"strategy": str, "unique_key": (str, list), "cursor": str, "filter": str}
INCREMENTAL_STRATEGIES = ("merge", "append")
CONFIG_NAMES = ("config.yaml", "config.yml")
def find_config(project_dir: Path) -> Path:
    """config.yaml in `project_dir` or, as git finds its repository, in the nearest parent holding one."""
    start = project_dir.resolve()
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
    raise ProjectError(
        f"no config.yaml in {start} or any folder above it",
        hint="run martctl from a project folder, pass --project-dir, or create one with `martctl init`",
    )


def load_project(project_dir: str | Path = ".", environ=None, problems: list[Problem] | None = None,
                 cache: bool = False) -> Project:
    """Read a whole project; raise ProjectError listing every problem found.

    With a `problems` list, problems are appended to it and the marts that did load are kept
    (so `validate` can go on to check the rest). With `cache` (never with `problems`), the marts of
    mart files unchanged since the last load come from target/.cache (loadcache.py)."""
    config_file = find_config(Path(project_dir))
    # the folder as the user named it when config.yaml is there (messages keep their relative paths), else the parent
    root = config_file.parent if Path(project_dir).resolve() != config_file.parent else Path(project_dir)
    folder = ProjectFolder(root)
    outside = folder.problem(config_file, "this config file")
    if outside:
        raise ProjectError([outside])
    out = Collector(folder)
    try:
        config_text = read_text(config_file)
        config = read_yaml(config_file, config_text) or {}
    except UnreadableFile as exc:
        raise ProjectError([exc.problem]) from None
    except YamlProblem as exc:
        raise ProjectError([exc.problem]) from None
    if not out.check_mapping(config, CONFIG_KEYS, config_file, "config.yaml"):
        raise ProjectError(out.problems)
    for allowed in config.get("allow_outside") or []:
        folder.allow(str(allowed))
    dialect = config.get("dialect") if isinstance(config.get("dialect"), str) else "duckdb"
    if not _check_dialect(dialect, config_file, key_line(config, "dialect"), out):
        dialect = "duckdb"  # reported; `validate` goes on checking the marts with the default
    targets = _load_targets(config, config_file, out, environ)
    default_target = config.get("default_target") or (next(iter(targets)) if targets else "local")
    if not targets:
        targets = {"local": Target("local", "duckdb", {"path": "warehouse.duckdb"}, 4, (), config_file)}
    if default_target not in targets:
        out.add(
            f"default_target '{default_target}' is not among the targets",
            config_file,
            key_line(config, "default_target"),
            hint=did_you_mean(default_target, targets) or f"targets: {', '.join(targets)}",
        )
    seeds_cfg = config.get("seeds") if isinstance(config.get("seeds"), dict) else {}
    if seeds_cfg:
        out.check_mapping(seeds_cfg, SEEDS_KEYS, config_file, "seeds")
    seed_schema = seeds_cfg.get("schema", "raw") if isinstance(seeds_cfg.get("schema", "raw"), str) else "raw"
    sources = _load_sources(config, config_file, out)
    _add_seeds(root, seed_schema, seeds_cfg.get("column_types") or {}, sources, config_file, out)
    vars_ = dict(config.get("vars") or {}) if isinstance(config.get("vars"), dict) else {}
    mart_cache = None
    if cache and problems is None:
        from martctl.project.loadcache import MartFileCache

        mart_cache = MartFileCache(root / "target", config_text)
    marts = _load_marts(root, dialect, config_file, out, mart_cache)
    if mart_cache is not None and not out.problems:
        mart_cache.save({str(m.file) for m in marts.values()})
    marts = _scheduled(marts, config, config_file, out)
    prefixes = [t.settings["schema_prefix"] for t in targets.values() if isinstance(t.settings.get("schema_prefix"), str)]
    out.problems.extend(name_problems(marts.values(), [s for s in sources.values() if s.seed], prefixes, config_file,
                                      key_line(seeds_cfg, "schema")))
    if out.problems:
        if problems is None:
            raise ProjectError(out.problems)
        problems.extend(out.problems)
    return Project(
        root=root,
        name=str(config.get("name") or root.resolve().name),
        dialect=dialect,
        config_file=config_file,
        targets=targets,
        default_target=default_target,
        marts=marts,
        sources=sources,
        vars=vars_,
        seed_schema=seed_schema,
    )


def _check_dialect(dialect: str, file, line, out: Collector) -> bool:
    """True when sqlglot knows the dialect, else the problem is reported."""
    found = dialect_problems(dialect, file, line)
    out.problems.extend(found)
    return not found


def dialect_names() -> list[str]:
    """Every dialect sqlglot knows."""
    from sqlglot.dialects.dialect import Dialects

    return sorted(d.value for d in Dialects if d.value)


def dialect_problems(dialect: str, file=None, line=None) -> list[Problem]:
    """[] when sqlglot knows the dialect, else one problem with a did-you-mean."""
    from sqlglot.dialects.dialect import Dialect

    try:
        Dialect.get_or_raise(dialect)
    except ValueError:

        return [Problem(f"unknown SQL dialect '{dialect}'", file, line, hint=did_you_mean(dialect, dialect_names()))]
    return []


def _load_targets(config, file: Path, out: Collector, environ) -> dict[str, Target]:
    targets: dict[str, Target] = {}
    raw = config.get("targets") or {}
    if not isinstance(raw, dict):
        return targets
    for name, spec in raw.items():
        what = f"target '{name}'"
        if not isinstance(spec, dict):
            out.add(f"{what} must be a mapping", file, key_line(raw, name))
            continue
        kind = spec.get("type")
        if kind not in TARGET_EXTRA_KEYS:
            out.add(
                f"{what}: unknown type {kind!r}",
                file,
                key_line(spec, "type") or key_line(raw, name),
                hint=did_you_mean(str(kind), TARGET_EXTRA_KEYS) or f"types: {', '.join(TARGET_EXTRA_KEYS)}",
            )
            continue
        out.check_mapping(spec, {**TARGET_KEYS, **TARGET_EXTRA_KEYS[kind]}, file, what)
        settings: dict[str, Any] = {}
        secrets: list[str] = []
        missing: list[tuple[str, int]] = []
        for key, value in spec.items():
            if isinstance(value, str):
                value, found, absent = expand(value, environ)
                secrets += found + (password_parts(value) if key == "dsn" else [])
                missing += [(m, key_line(spec, key)) for m in absent]
            settings[key] = value
        if missing:
            settings["_missing_env"] = tuple(missing)
        if isinstance(settings.get("dialect"), str) and not _check_dialect(settings["dialect"], file, key_line(spec, "dialect"), out):
            del settings["dialect"]  # reported; the type's own dialect for the rest of the checks
        threads = spec.get("threads", 4)
        lines = {"": key_line(raw, name), **{str(k): key_line(spec, k) for k in spec}}
        targets[name] = Target(str(name), kind, settings, threads if isinstance(threads, int) else 4,
                               tuple(dict.fromkeys(secrets)), file, lines)
    return targets


def missing_env_problems(project: Project, target: Target) -> list[Problem]:
    """A target whose ${ENV} variables are not set cannot be used."""
    return [
        Problem(
            f"environment variable {name} is not set (target '{target.name}')",
            project.config_file,
            line,
            hint=f"export {name}=... before running, or use ${{{name}:-default}} in config.yaml",
        )
        for name, line in target.settings.get("_missing_env", ())
    ]


def _load_sources(config, file: Path, out: Collector) -> dict[str, SourceTable]:
    sources: dict[str, SourceTable] = {}
    raw = config.get("sources") or {}
    if not isinstance(raw, dict):
        return sources
    dialect = config.get("dialect") if isinstance(config.get("dialect"), str) else "duckdb"
    project_stale = on_stale(config, "skip", file, "config.yaml", out)
    for source_name, spec in raw.items():
        what = f"source '{source_name}'"
        if spec is None:
            spec = {}
        if not out.check_mapping(spec, SOURCE_KEYS, file, what):
            continue
        source_stale, source_version = on_stale(spec, project_stale, file, what, out), data_version(spec, None, dialect, file, what, out)
        schema = spec.get("schema") or source_name
        tables = spec.get("tables") or []
        items = tables.items() if isinstance(tables, dict) else ((t, None) for t in tables)
        for index, (table, table_spec) in enumerate(items):
            line = key_line(tables, table) if isinstance(tables, dict) else tables.lines[index]
            if isinstance(table, dict):  # list item written as {name: x, columns: ...}
                table_spec, table = table, table.get("name")
            if not isinstance(table, str):
                out.add(f"{what}: a table needs a name", file, line)
                continue
            columns: dict[str, str | None] = {}
            description, stale, version = "", source_stale, source_version
            loaded_at = spec.get("loaded_at") if isinstance(spec.get("loaded_at"), str) else None
            freshness = _freshness(spec.get("freshness"), file, key_line(spec, "freshness"), what, out)
            if table_spec is not None and not isinstance(table_spec, dict):
                out.add(f"{what}: table '{table}' must be a mapping (description, columns) or nothing", file, line)
            if isinstance(table_spec, dict):
                out.check_mapping(table_spec, SOURCE_TABLE_KEYS, file, f"source table '{source_name}.{table}'")
                cols = table_spec.get("columns") or {}
                if isinstance(cols, dict):
                    columns = {
                        str(c): (v.get("type") if isinstance(v, dict) else v) for c, v in cols.items()
                    }
                elif isinstance(cols, list):
                    columns = {str(c): None for c in cols}
                description = table_spec.get("description") or ""
                if isinstance(table_spec.get("loaded_at"), str):
                    loaded_at = table_spec["loaded_at"]
                table_what = f"source table '{source_name}.{table}'"
                stale = on_stale(table_spec, stale, file, table_what, out)
                version = data_version(table_spec, version, dialect, file, table_what, out)
                if table_spec.get("freshness") is not None:
                    freshness = _freshness(table_spec["freshness"], file, key_line(table_spec, "freshness"),
                                           f"source table '{source_name}.{table}'", out)
            if freshness and not loaded_at:
                loaded_at = freshness.get("loaded_at")
            sources[f"{source_name}.{table}"] = SourceTable(
                table, schema, source_name, columns, description=description, loaded_at=loaded_at,
                freshness=freshness or {}, on_stale=stale, data_version=version,
            )
    return sources


def _freshness(spec, file: Path, line: int | None, what: str, out: Collector) -> dict | None:
    """freshness: {loaded_at: col, warn_after: 12h, error_after: 1d} -> limits in seconds."""
    from martctl.project.schedule import seconds

    if spec is None or not out.check_mapping(spec, FRESHNESS_KEYS, file, f"{what}: freshness"):
        return None
    found: dict = {"loaded_at": spec.get("loaded_at")}
    for limit in ("warn_after", "error_after"):
        if spec.get(limit) is None:
            continue
        try:
            found[limit] = seconds(str(spec[limit]))
        except ValueError as exc:
            out.add(f"{what}: freshness.{limit}: {exc}", file, line, hint="a number and a unit: 30m, 12h, 2d")
    return found


def _add_seeds(root: Path, schema: str, column_types, sources, config_file: Path, out: Collector) -> None:
    seed_dir = root / "seeds"
    if not seed_dir.is_dir():
        return
    for path in sorted(seed_dir.glob("*.csv")):
        name = path.stem
        outside = out.folder.problem(path, "this seed")
        if outside:
            out.problems.append(outside)
            continue
        key = f"{schema}.{name}"
        try:
            header = _header(path)
        except (OSError, csv.Error) as exc:
            out.add(f"cannot read seed: {exc}", path, 1)
            continue
        if not header:
            out.add("seed has no header row", path, 1, hint="the first line must name the columns")
            continue
        overrides = column_types.get(name) or {}
        declared = sources.get(key)
        columns = {c: overrides.get(c) or (declared.columns.get(c) if declared else None) for c in header}
        for column in overrides:
            if column not in header:
                out.add(
                    f"seeds.column_types.{name}: '{column}' is not a column of {path.name}",
                    config_file,
                    hint=did_you_mean(column, header),
                )
        sources[key] = SourceTable(
            name,
            declared.schema if declared else schema,
            declared.source if declared else schema,
            columns,
            seed=path,
            column_types=dict(overrides),
            description=declared.description if declared else "",
        )


def _scheduled(marts: dict[str, Mart], config, config_file: Path, out: Collector) -> dict[str, Mart]:
    """Each mart's schedule: its own, else its area's (config.yaml areas:), else the project's; each checked."""
    from dataclasses import replace

    from martctl.project.schedule import parse

    def check(expression, file: Path, line: int | None, where: str) -> str | None:
        if expression is None:
            return None
        try:
            parse(str(expression))
        except ValueError as exc:
            out.add(f"{where}: schedule {exc}", file, line,
                    hint="a cron expression such as '0 6 * * *' (UTC), or @hourly, @daily, @weekly, @monthly")
            return None
        return str(expression)

    default = check(config.get("schedule"), config_file, key_line(config, "schedule"), "config.yaml")
    areas = config.get("areas") if isinstance(config.get("areas"), dict) else {}
    by_area = {}
    for area, spec in areas.items():
        if out.check_mapping(spec or {}, AREA_KEYS, config_file, f"areas.{area}"):
            by_area[area] = check((spec or {}).get("schedule"), config_file, key_line(areas, area), f"areas.{area}")
    result = {}
    for key, mart in marts.items():
        own = check(mart.schedule, mart.file, mart.line, f"mart '{key}'")
        schedule = own or by_area.get(mart.area) or default
        result[key] = mart if schedule == mart.schedule else replace(mart, schedule=schedule)
    return result


def _load_marts(root: Path, dialect: str, config_file: Path, out: Collector, cache=None) -> dict[str, Mart]:
    """Every mart under marts/; a file `cache` (loadcache.MartFileCache) holds unchanged is not read again."""
    marts: dict[str, Mart] = {}
    marts_dir = root / "marts"
    if not marts_dir.is_dir():
        return marts
    for path in sorted(marts_dir.rglob("*.y*ml")):
        if path.suffix not in (".yml", ".yaml"):
            continue
        outside = out.folder.problem(path, "this mart file")
        if outside:
            out.problems.append(outside)
            continue
        relative = path.relative_to(marts_dir)
        if len(relative.parts) < 2:
            out.add(
                "a mart file must sit in an area folder",
                path,
                hint=f"move it to marts/<area>/{path.name} (the folder is the schema it lands in)",
            )
            continue
        loaded = cache.get(path) if cache is not None else None
        if loaded is None:
            loaded = _load_mart_file(path, relative.parts[0], dialect, out, cache)
        for mart in loaded:
            if mart.key in marts:
                other = marts[mart.key]
                out.add(
                    f"duplicate mart '{mart.key}' (also declared in {other.file}:{other.line})",
                    path,
                    mart.line,
                    hint="rename one of them: mart names must be unique within an area",
                )
                continue
            marts[mart.key] = mart
    return marts


def _load_mart_file(path: Path, area: str, dialect: str, out: Collector, cache=None):
    """The marts one YAML file declares, one at a time (each mart's problems come before the next
    one's, as `validate` lists them); kept in `cache` when nothing was wrong in the file."""
    found = len(out.problems)
    marts = []
    with recording_reads() as reads:
        for mart in _read_mart_file(path, area, dialect, out):
            marts.append(mart)
            yield mart
    if cache is not None and len(out.problems) == found:
        siblings = [p for m in marts for p in (path.with_suffix(".sql"), path.with_name(f"{m.name}.sql"))]
        cache.put(path, marts, [*reads, *siblings])


def _read_mart_file(path: Path, area: str, dialect: str, out: Collector):
    try:
        doc = read_yaml(path)
    except YamlProblem as exc:
        out.problems.append(exc.problem)
        return
    if doc is None:
        out.add("empty mart file", path, 1, hint="declare a mart (name, sql) or remove the file")
        return
    if isinstance(doc, dict) and "marts" in doc:
        extra = set(doc) - {"marts"}
        for key in extra:
            out.add(f"unknown key '{key}' next to 'marts:'", path, key_line(doc, key))
        specs = doc["marts"]
        if not isinstance(specs, list):
            out.add("'marts' must be a list of marts", path, key_line(doc, "marts"))
            return
        single = False
    else:
        specs, single = [doc], True
    for spec in specs:
        mart = _load_mart(spec, path, area, dialect, single, out)
        if mart is not None:
            yield mart


def _load_mart(spec, path: Path, area: str, dialect: str, single: bool, out: Collector) -> Mart | None:
    """One mart from its YAML mapping. A mart with problems in its details still loads (load_project
    raises anyway), so that validate goes on to check the rest; None when it cannot be a mart at all."""
    if not out.check_mapping(spec, MART_KEYS, path, "mart"):
        return None
    name = _mart_name(spec, path, single, out)
    if name is None:
        return None
    sql, sql_file, sql_line = _mart_sql(spec, path, name, single, out)
    if sql is None:
        return None
    materialized = _materialization(spec, path, out)
    return Mart(
        name=name,
        area=area,
        sql=sql,
        file=path,
        line=spec.line,
        sql_file=sql_file,
        sql_line=sql_line,
        dialect=_mart_dialect(spec, path, dialect, out),
        materialized=materialized,
        description=spec.get("description") or "",
        owner=spec.get("owner"),
        tags=_tags(spec, path, out),
        columns=_load_columns(spec.get("columns") or {}, path, out),
        tests=tuple(load_tests(spec.get("tests") or [], path, None, out, mart_level=True)),
        unit_tests=tuple(load_unit_tests(spec.get("unit_tests") or [], path, out)),
        incremental=_incremental(spec, materialized, path, out),
        meta=dict(spec.get("meta") or {}),
        primary_key=_primary_key(spec, path, out),
        primary_key_line=key_line(spec, "primary_key"),
        schedule=spec.get("schedule") if isinstance(spec.get("schedule"), str) else None,
    )


def _mart_name(spec, path: Path, single: bool, out: Collector) -> str | None:
    """`name:`, or the file's stem for a file holding one mart; a valid identifier on every engine."""
    name = spec.get("name") if isinstance(spec.get("name"), str) else (path.stem if single else None)
    if not name:
        out.add("a mart in a 'marts:' list needs a name", path, spec.line)
        return None
    bad_name = mart_name_problem(str(name), path, spec.line)
    if bad_name:
        out.problems.append(bad_name)
        return None
    return name


def _materialization(spec, path: Path, out: Collector) -> str:
    materialized = spec.get("materialized", "table")
    if materialized not in MATERIALIZATIONS:
        out.add(
            f"unknown materialization '{materialized}'",
            path,
            key_line(spec, "materialized"),
            hint=did_you_mean(str(materialized), MATERIALIZATIONS) or f"one of: {', '.join(MATERIALIZATIONS)}",
        )
    return materialized


def _mart_dialect(spec, path: Path, dialect: str, out: Collector) -> str:
    """The mart's own `dialect:`, or the project's (also when the mart's is unknown: reported)."""
    if spec.get("dialect") and _check_dialect(spec["dialect"], path, key_line(spec, "dialect"), out):
        return spec["dialect"]
    return dialect


def _tags(spec, path: Path, out: Collector) -> tuple[str, ...]:
    tags = spec.get("tags") or []
    if not all(isinstance(t, (str, int)) for t in tags):
        out.add("tags are names: tags: [daily, finance]", path, key_line(spec, "tags"))
        tags = [t for t in tags if isinstance(t, (str, int))]
    return tuple(str(t) for t in tags)


def _incremental(spec, materialized: str, path: Path, out: Collector) -> dict:
    """The `incremental:` block, checked, with its strategy made explicit and unique_key a tuple."""
    incremental = spec.get("incremental") or {}
    if materialized == "incremental" and not incremental:
        out.add(
            "an incremental mart needs an 'incremental:' block",
            path,
            key_line(spec, "materialized"),
            hint="add incremental: {unique_key: id, cursor: updated_at} (or strategy: append)",
        )
    if not incremental:
        return {}
    out.check_mapping(incremental, INCREMENTAL_KEYS, path, "incremental")
    strategy = incremental.get("strategy", "merge" if incremental.get("unique_key") else "append")
    if strategy not in INCREMENTAL_STRATEGIES:
        out.add(f"unknown incremental strategy '{strategy}'", path, key_line(incremental, "strategy"),
                hint=did_you_mean(str(strategy), INCREMENTAL_STRATEGIES) or "merge or append")
    if strategy == "merge" and not incremental.get("unique_key"):
        out.add("incremental strategy 'merge' needs a unique_key", path, key_line(spec, "incremental"))
    key = incremental.get("unique_key")
    return {**incremental, "strategy": strategy, "unique_key": tuple([key] if isinstance(key, str) else key or ())}


def _primary_key(spec, path: Path, out: Collector) -> tuple[str, ...]:
    """`primary_key: id` or `[a, b]`: distinct column names, as a tuple."""
    key = spec.get("primary_key")
    if key is None:
        return ()
    names = [key] if isinstance(key, str) else key
    if not names or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        out.add("primary_key must name one column or a list of distinct columns", path, key_line(spec, "primary_key"),
                hint="primary_key: id  or  primary_key: [campaign_id, day]")
        return ()
    return tuple(names)


def _mart_sql(spec, path: Path, name: str, single: bool, out: Collector):
    inline = spec.get("sql")
    sql_file = spec.get("sql_file")
    sibling = path.with_suffix(".sql") if single else path.with_name(f"{name}.sql")
    if sql_file:
        sql_path = path.parent / sql_file
        outside = out.folder and out.folder.problem(sql_path, f"sql_file '{sql_file}'", path, key_line(spec, "sql_file"))
        if outside:
            out.problems.append(outside)
            return None, None, 1
        if not sql_path.is_file():
            out.add(f"sql_file '{sql_file}' not found", path, key_line(spec, "sql_file"),
                    hint=f"looked for {sql_path}")
            return None, None, 1
    elif sibling.is_file():
        sql_path = sibling
        outside = out.folder and out.folder.problem(sibling, "this SQL file")
        if outside:
            out.problems.append(outside)
            return None, None, 1
    else:
        sql_path = None
    if inline and sql_path:
        out.add(
            f"mart '{name}' has SQL both inline and in {sql_path.name}",
            path,
            key_line(spec, "sql"),
            hint="keep one: remove the 'sql:' key or the .sql file",
        )
        return None, None, 1
    if sql_path:
        try:
            text = read_text(sql_path)
        except UnreadableFile as exc:
            out.problems.append(exc.problem)
            return None, None, 1
        if text.strip():
            return text, sql_path, 1
        out.add("the SQL file is empty", sql_path, 1, hint="write the mart's select statement")
        return None, None, 1
    if not inline or not str(inline).strip():
        out.add(
            f"mart '{name}' has no SQL",
            path,
            spec.line,
            hint=f"add 'sql: |' with a select statement, or put it in {sibling.name} beside this file",
        )
        return None, None, 1
    return str(inline), None, value_first_line(spec, "sql")


def _load_columns(raw, path: Path, out: Collector) -> dict[str, Column]:
    columns: dict[str, Column] = {}
    for name, spec in raw.items():
        line = key_line(raw, name)
        if spec is None:
            spec = {}
        if isinstance(spec, str):
            spec = {"description": spec}
        if not out.check_mapping(spec, COLUMN_KEYS, path, f"column '{name}'"):
            continue
        tests = tuple(load_tests(spec.get("tests") or [], path, name, out, mart_level=False))
        columns[name] = Column(name, spec.get("description") or "", spec.get("type"), tests, line)
    return columns


_SNIFFED: dict = {}


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        return next(csv.reader(handle), [])


def seed_column_types(path: Path) -> dict[str, str | None]:
    """The column types DuckDB's CSV reader infers for a seed (what `martctl seed` will create)."""
    stamp = (str(path.resolve()), path.stat().st_mtime_ns)
    if stamp not in _SNIFFED:
        import duckdb

        from martctl.project.seedfile import CSV_OPTIONS_SQL

        con = duckdb.connect()
        try:
            rows = con.execute(f"DESCRIBE SELECT * FROM read_csv(?, {CSV_OPTIONS_SQL})", [str(path)]).fetchall()
        except duckdb.Error:  # validate, seed and build say why (project/seedfile.py); here: names, types unknown
            return dict.fromkeys(_header(path))
        finally:
            con.close()
        _SNIFFED[stamp] = {row[0]: row[1] for row in rows}
    return dict(_SNIFFED[stamp])
