"""Table and column lineage: one hop per mart (its output columns to its direct inputs' columns,
through its CTEs and subqueries), composed over the project graph.

A hop is plain, JSON-ready data (it is what target/lineage.json caches):

    {"mart": "marketing.campaign_roas", "hash": "...", "inputs": ["raw.orders", ...],
     "columns": {"spend": STEP, ...}, "problems": ["..."]}

    STEP  = {"column": "spend", "kind": "mart"|"cte"|"subquery"|"union", "scope": "spend"|None,
             "expression": "SUM(campaign_performance.spend)", "from": [STEP | REF | UNRESOLVED, ...]}
    REF   = {"ref": "marketing.campaign_performance", "column": "spend"}
    UNRESOLVED = {"unresolved": "why the origin is unknown"}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from martctl.compiler.graph import Graph
from martctl.errors import ProjectError, did_you_mean
from martctl.lineage.cache import FORMAT_VERSION
from martctl.project.model import Project

# --- one hop: a mart's output columns -> its direct inputs' columns -------------------------------


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _relation(project: Project, key: str) -> tuple[str, str]:
    """The (db, table) a mart or source key is qualified as while tracing: its logical name."""
    if key in project.marts:
        mart = project.marts[key]
        return mart.area, mart.name
    source = project.sources[key]
    return source.source, source.name


def mart_hash(project: Project, key: str, inputs: Iterable[str], known: Mapping[str, list[str] | None], vars: Mapping) -> str:
    """What one hop depends on: the mart's SQL and dialect, the vars, its inputs' column names."""
    import sqlglot

    mart = project.marts[key]
    return _digest(
        [FORMAT_VERSION, sqlglot.__version__, key, mart.dialect, mart.sql, dict(vars), list(mart.columns),
         [[i, known.get(i)] for i in inputs]]
    )


def mart_hop(graph, key: str, known: Mapping[str, list[str] | None]) -> dict:
    """Trace every output column of mart `key` to the columns of its direct inputs.

    `known` maps each input key to its column names (None: unknown). Never raises for SQL it
    cannot trace: such columns become UNRESOLVED leaves, the reason in `problems`.
    """
    from sqlglot import exp

    from martctl.compiler.sql import expand_stars, rename_tables

    project = graph.project
    parsed = graph.parsed[key]
    mart = parsed.mart
    tree = parsed.tree.copy()
    ids = {id(new): id(old) for old, new in zip(parsed.tree.walk(), tree.walk())}
    physical: dict[int, tuple[str, str]] = {}
    inputs: dict[str, tuple[str, str]] = {}
    for node in tree.find_all(exp.Table):
        ref = parsed.marts.get(ids.get(id(node))) or parsed.sources.get(ids.get(id(node)))
        if ref:
            physical[id(node)] = inputs[ref] = _relation(project, ref)
    rename_tables(tree, physical)
    schema: dict = {}
    for ref, (db, name) in inputs.items():
        if known.get(ref):
            schema.setdefault(db, {})[name] = {c: "UNKNOWN" for c in known[ref]}
    hop = {"mart": key, "hash": mart_hash(project, key, inputs, known, graph.vars), "inputs": list(inputs),
           "columns": {}, "problems": []}
    by_relation = {f"{db}.{name}": ref for ref, (db, name) in inputs.items()}
    declared = list(mart.columns)
    try:
        tree = expand_stars(tree, schema, mart.dialect)
        columns = _trace(tree, schema, mart.dialect, by_relation)
    except Exception as exc:  # sqlglot's optimizer raises several kinds; say so, trace nothing
        reason = f"cannot trace the SQL of '{key}': {exc}".splitlines()[0]
        hop["problems"].append(reason)
        hop["columns"] = {c: _root(c, None, [{"unresolved": reason}]) for c in declared}
        return hop
    unknown_star = [s for s in _star_inputs(tree, by_relation)]
    for name, step in columns.items():
        hop["columns"][name] = step
    for ref in unknown_star:
        reason = f"select * from {ref}, whose columns are unknown: declare them (columns: in config.yaml sources)"
        hop["problems"].append(reason)
        for name in declared:
            hop["columns"].setdefault(name, _root(name, None, [{"unresolved": reason}]))
    for step in hop["columns"].values():
        for leaf in _leaves(step):
            if "unresolved" in leaf and leaf["unresolved"] not in hop["problems"]:
                hop["problems"].append(leaf["unresolved"])
    return hop


def _root(column: str, expression: str | None, sources: list) -> dict:
    return {"column": column, "kind": "mart", "scope": None, "expression": expression, "from": sources}


def _star_inputs(tree, by_relation: Mapping[str, str]) -> list[str]:
    """Inputs read by a `select *` the qualifier could not expand (unknown columns)."""
    from sqlglot import exp

    found = []
    if not isinstance(tree, exp.Query) or not any(isinstance(s, exp.Star) or s.is_star for s in tree.selects):
        return found
    for table in tree.find_all(exp.Table):
        ref = by_relation.get(f"{table.db}.{table.name}")
        if ref and ref not in found:
            found.append(ref)
    return found


def _leaves(step: dict):
    if "from" not in step:
        yield step
        return
    for child in step["from"]:
        yield from _leaves(child)


def _trace(tree, schema: Mapping, dialect: str, by_relation: Mapping[str, str]) -> dict[str, dict]:
    """sqlglot's lineage for every output column of the qualified tree, as STEP dicts."""
    from sqlglot import exp
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.scope import build_scope

    scope = build_scope(tree)
    if scope is None or not isinstance(tree, exp.Query):
        return {}
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    named = [s.alias_or_name for s in tree.selects if s.alias_or_name and s.alias_or_name != "*"]
    if not named:
        return {}
    nodes = lineage(None, tree, schema, dialect=dialect, scope=scope, trim_selects=False, copy=False)
    memo: dict[int, dict] = {}
    converter = _Converter(dialect, ctes, by_relation, memo)
    return {name: converter.step(node, root=True) for name, node in nodes.items() if name in named}


@dataclass
class _Converter:
    """sqlglot lineage Nodes -> STEP / REF / UNRESOLVED dicts."""

    dialect: str
    ctes: set
    by_relation: Mapping[str, str]
    memo: dict = field(default_factory=dict)

    def step(self, node, root: bool = False, branch: int | None = None, name: str | None = None) -> dict:
        if id(node) in self.memo:
            return self.memo[id(node)]
        from sqlglot import exp

        expression = node.expression
        setop = isinstance(node.source, exp.SetOperation) and node.name == type(node.source).__name__.upper()
        if isinstance(expression, exp.Table) or isinstance(expression, exp.Placeholder) or node.name == "*":
            result = self._leaf(node)
        elif setop:  # UNION/INTERSECT/EXCEPT: one child per branch
            operation = node.name + ("" if node.source.args.get("distinct") else " ALL")
            result = {"column": node.name if not root else expression.alias_or_name, "kind": "mart" if root else "union",
                      "scope": None, "expression": operation, "from": []}
        elif branch is not None:
            result = {"column": expression.alias_or_name, "kind": "branch", "scope": f"{name} {branch}",
                      "expression": _expression_sql(expression, self.dialect), "from": []}
        else:
            column = node.name.rsplit(".", 1)[-1] if not root else node.name
            scope = None if root else (node.reference_node_name or (node.name.rsplit(".", 1)[0] if "." in node.name else None))
            kind = "mart" if root else ("cte" if scope in self.ctes else "subquery")
            result = {"column": column, "kind": kind, "scope": scope, "expression": _expression_sql(expression, self.dialect),
                      "from": []}
        self.memo[id(node)] = result
        if "from" in result:
            seen = set()
            for index, child in enumerate(node.downstream, start=1):
                converted = self.step(child, branch=index if setop else None, name=node.name.lower())
                marker = json.dumps(converted, sort_keys=True) if "ref" in converted or "unresolved" in converted else id(converted)
                if marker not in seen:
                    seen.add(marker)
                    result["from"].append(converted)
            result["from"].sort(key=_child_order)
        return result

    def _leaf(self, node) -> dict:
        from sqlglot import exp

        expression = node.expression
        if node.name == "*" or (isinstance(expression, exp.Query)):
            target = expression.sql(dialect=self.dialect) if isinstance(expression, exp.Expression) else "?"
            if isinstance(expression, exp.Table):
                target = self.by_relation.get(f"{expression.db}.{expression.name}", target)
            return {"unresolved": f"select * from {target}, whose columns are unknown"}
        if isinstance(expression, exp.Table):
            ref = self.by_relation.get(f"{expression.db}.{expression.name}")
            if ref:
                return {"ref": ref, "column": exp.to_column(node.name).name}
            return {"unresolved": f"'{node.name}' comes from {expression.sql(dialect=self.dialect)}, which is not a mart or source"}
        return {"unresolved": f"cannot tell which input '{node.name}' comes from: an input's columns are unknown "
                              "or the column is not in any input"}


def _child_order(child: dict):
    if "ref" in child:
        return (0, child["ref"], child["column"])
    if "unresolved" in child:
        return (2, child["unresolved"], "")
    return (1, child.get("scope") or "", child.get("column") or "")


def _expression_sql(expression, dialect: str) -> str:
    from sqlglot import exp

    inner = expression.this if isinstance(expression, exp.Alias) else expression
    return inner.sql(dialect=dialect)


def output_names(hop: dict) -> list[str]:
    return list(hop["columns"])


# --- the whole project -----------------------------------------------------------------------------


def source_columns(project: Project, catalog: Mapping[str, list[str]] | None = None) -> dict[str, list[str] | None]:
    """Each source's column names: declared or seed header, else from the warehouse catalog, else None."""
    catalog = catalog or {}
    return {k: (list(s.columns) or list(catalog.get(k) or ()) or None) for k, s in project.sources.items()}


def project_key(project: Project, vars: Mapping, catalog: Mapping[str, list[str]] | None = None) -> str:
    """Everything the whole project's lineage depends on, cheap to compute (no SQL parsing)."""
    import sqlglot

    return _digest(
        [FORMAT_VERSION, sqlglot.__version__, dict(vars), sorted(source_columns(project, catalog).items()),
         sorted([k, m.dialect, m.sql, list(m.columns)] for k, m in project.marts.items())]
    )


def compute_hops(graph, previous: Mapping[str, dict] | None = None, catalog: Mapping[str, list[str]] | None = None) -> dict[str, dict]:
    """Every mart's hop in topological order; a hop whose hash is unchanged is reused."""
    project = graph.project
    known: dict[str, list[str] | None] = source_columns(project, catalog)
    hops: dict[str, dict] = {}
    previous = previous or {}
    for key in graph.graph.topological_order():
        old = previous.get(key)
        if old is not None and old.get("hash") == mart_hash(project, key, _input_order(graph, key), known, graph.vars):
            hop = old
        else:
            hop = mart_hop(graph, key, known)
        hops[key] = hop
        known[key] = output_names(hop) or None
    return hops


def _input_order(graph, key: str) -> list[str]:
    """The inputs in the order mart_hop meets them (table nodes in tree order)."""
    from sqlglot import exp

    parsed = graph.parsed[key]
    refs = {**parsed.marts, **parsed.sources}
    return list(dict.fromkeys(refs[id(t)] for t in parsed.tree.find_all(exp.Table) if id(t) in refs))


@dataclass
class ProjectLineage:
    """Lineage of a whole project: per-mart hops plus the sources' columns; answers questions."""

    project: Project
    hops: dict[str, dict]
    key: str = ""
    from_cache: bool = False
    catalog: dict = field(default_factory=dict)
    _readers: dict | None = None

    # -- lookups
    @property
    def graph(self) -> Graph[str]:
        return Graph({k: [i for i in h["inputs"] if i in self.project.marts] for k, h in self.hops.items()})

    def columns(self, relation: str) -> list[str]:
        if relation in self.hops:
            return output_names(self.hops[relation])
        return source_columns(self.project, self.catalog)[relation] or []

    def resolve(self, text: str) -> tuple[str, str | None]:
        """'area.mart' or 'source.table' -> (relation, None); with '.column' -> (relation, column).

        Unknown names raise ProjectError with a "did you mean"."""
        relations = list(self.hops) + list(self.project.sources)
        bare: dict[str, list[str]] = {}
        for key, mart in self.project.marts.items():
            bare.setdefault(mart.name, []).append(key)
        if text in relations:
            return text, None
        if len(bare.get(text, ())) == 1:
            return bare[text][0], None
        head, _, column = text.rpartition(".")
        if len(bare.get(head, ())) == 1:
            head = bare[head][0]
        if head in relations:
            columns = self.columns(head)
            if column in columns:
                return head, column
            lowered = {c.lower(): c for c in columns}
            if column.lower() in lowered:
                return head, lowered[column.lower()]
            hint = did_you_mean(column, columns) or (
                f"columns of {head}: {', '.join(columns)}" if columns else f"the columns of {head} are unknown")
            raise ProjectError(f"'{head}' has no column '{column}'", hint=hint)
        names = relations + [f"{r}.{c}" for r in relations for c in self.columns(r)] if text.count(".") >= 2 else relations
        hint = did_you_mean(text, names) or "name a mart as area.name, a source as source.table, a column as area.name.column"
        raise ProjectError(f"unknown mart, source or column '{text}'", hint=hint)

    # -- column lineage, upstream
    def column_upstream(self, relation: str, column: str, depth: int | None = None) -> dict:
        """The graph of what `relation.column` derives from, down to source columns."""
        nodes: dict[str, dict] = {}
        edges: set[tuple[str, str]] = set()
        unresolved: list[dict] = []
        inner: dict[str, dict] = {}  # node id -> the step drawn there

        def mart_column(key: str, col: str, level: int) -> str:
            node_id = f"{key}.{col}"
            if node_id in nodes:
                return node_id
            step = self.hops[key]["columns"].get(col)
            if step is None:
                return unknown(key, col, f"'{key}' has no column '{col}' (its SQL does not select it)")
            nodes[node_id] = {"kind": "mart", "relation": key, "column": col, "scope": None,
                              "expression": step["expression"]}
            if depth is not None and level >= depth:
                nodes[node_id]["truncated"] = True
                return node_id
            for child in step["from"]:
                edges.add((visit(key, child, level), node_id))
            return node_id

        def unknown(key: str, col: str | None, reason: str) -> str:
            node_id = f"?{key}.{col or ''}#{len(unresolved) + 1}"
            for existing in unresolved:
                if existing["relation"] == key and existing["reason"] == reason:
                    return existing["id"]
            nodes[node_id] = {"kind": "unresolved", "relation": key, "column": col, "scope": None,
                              "expression": None, "reason": reason}
            unresolved.append({"id": node_id, "relation": key, "reason": reason})
            return node_id

        def visit(key: str, step: dict, level: int) -> str:
            if "ref" in step:
                ref, col = step["ref"], step["column"]
                if ref in self.hops:
                    return mart_column(ref, col, level + 1)
                node_id = f"{ref}.{col}"
                nodes.setdefault(node_id, {"kind": "source", "relation": ref, "column": col, "scope": None,
                                           "expression": None})
                return node_id
            if "unresolved" in step:
                return unknown(key, None, step["unresolved"])
            node_id = base = f"{key}:{step.get('scope') or step['kind']}.{step.get('column') or ''}"
            suffix = 1
            while node_id in inner and inner[node_id] is not step and inner[node_id] != step:
                suffix += 1  # two different steps of one mart under one name (e.g. nested unions)
                node_id = f"{base}#{suffix}"
            if node_id in inner:
                return node_id
            inner[node_id] = step
            nodes[node_id] = {"kind": step["kind"], "relation": key, "column": step.get("column"),
                              "scope": step.get("scope"), "expression": step.get("expression")}
            for child in step["from"]:
                edges.add((visit(key, child, level), node_id))
            return node_id

        if relation in self.hops:
            root = mart_column(relation, column, 0)
        else:
            root = f"{relation}.{column}"
            nodes[root] = {"kind": "source", "relation": relation, "column": column, "scope": None, "expression": None}
        sources = sorted(n for n, v in nodes.items() if v["kind"] == "source")
        return {"version": FORMAT_VERSION, "kind": "column", "direction": "upstream", "root": root,
                "nodes": nodes, "edges": _edge_list(edges), "sources": sources,
                "marts": sorted({v["relation"] for v in nodes.values() if v["kind"] == "mart"}),
                "unresolved": [{"relation": u["relation"], "reason": u["reason"]} for u in unresolved]}

    def source_columns(self, relation: str, column: str, _memo: dict | None = None) -> set[str]:
        """The source columns a mart column derives from (composed, memoized)."""
        memo = {} if _memo is None else _memo
        key = (relation, column)
        if key in memo:
            return memo[key]
        found: set[str] = set()
        step = self.hops[relation]["columns"].get(column)
        if step is not None:
            for leaf in _leaves(step):
                if "ref" in leaf:
                    if leaf["ref"] in self.hops:
                        found |= self.source_columns(leaf["ref"], leaf["column"], memo)
                    else:
                        found.add(f"{leaf['ref']}.{leaf['column']}")
        memo[key] = found
        return found

    # -- column lineage, downstream (impact)
    def readers(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(relation, column) -> the mart columns reading it directly."""
        if self._readers is None:
            readers: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for key, hop in self.hops.items():
                for name, step in hop["columns"].items():
                    for leaf in _leaves(step):
                        if "ref" in leaf:
                            item = readers.setdefault((leaf["ref"], leaf["column"]), [])
                            if (key, name) not in item:
                                item.append((key, name))
            self._readers = readers
        return self._readers

    def impact(self, relation: str, column: str, depth: int | None = None) -> dict:
        """Every mart column that depends on `relation.column`, at which distance and through which."""
        readers = self.readers()
        root = f"{relation}.{column}"
        kind = "mart" if relation in self.hops else "source"
        nodes = {root: self._column_node(relation, column, kind)}
        edges: set[tuple[str, str]] = set()
        dependents: dict[str, dict] = {}
        frontier = [(relation, column)]
        level = 0
        while frontier and (depth is None or level < depth):
            level += 1
            nxt = []
            for rel, col in frontier:
                for mart, name in readers.get((rel, col), ()):
                    node_id = f"{mart}.{name}"
                    edges.add((f"{rel}.{col}", node_id))
                    if node_id in nodes:
                        continue
                    nodes[node_id] = self._column_node(mart, name, "mart")
                    parent = dependents.get(f"{rel}.{col}")
                    dependents[node_id] = {"mart": mart, "column": name, "distance": level,
                                           "via": (parent["via"] + [f"{rel}.{col}"]) if parent else []}
                    nxt.append((mart, name))
            frontier = nxt
        listed = sorted(dependents.values(), key=lambda d: (d["distance"], d["mart"], d["column"]))
        return {"version": FORMAT_VERSION, "kind": "column", "direction": "downstream", "root": root,
                "nodes": nodes, "edges": _edge_list(edges), "dependents": listed,
                "marts": sorted({d["mart"] for d in listed})}

    def _column_node(self, relation: str, column: str, kind: str) -> dict:
        expression = None
        if kind == "mart":
            step = self.hops[relation]["columns"].get(column) or {}
            expression = step.get("expression")
        return {"kind": kind, "relation": relation, "column": column, "scope": None, "expression": expression}

    # -- table lineage
    def tables(self, roots: Iterable[str], upstream: bool = True, downstream: bool = True, depth: int | None = None) -> dict:
        """Marts and sources around `roots`: nodes with materialization/owner/tags, edges input -> reader."""
        roots = list(roots)
        graph = self._table_graph()
        keep = set(roots)
        if upstream:
            keep |= graph.upstream(roots, depth)
        if downstream:
            keep |= graph.downstream(roots, depth)
        nodes = {k: self._table_node(k) for k in sorted(keep)}
        edges = {(i, k) for k in keep for i in graph.parents(k) if i in keep}
        return {"version": FORMAT_VERSION, "kind": "table", "roots": roots,
                "direction": "both" if upstream and downstream else ("upstream" if upstream else "downstream"),
                "depth": depth, "nodes": nodes, "edges": _edge_list(edges)}

    def _table_graph(self) -> Graph[str]:
        return Graph({**{s: () for s in self.project.sources}, **{k: h["inputs"] for k, h in self.hops.items()}})

    def _table_node(self, key: str) -> dict:
        if key in self.project.marts:
            mart = self.project.marts[key]
            return {"kind": "mart", "materialized": mart.materialized, "owner": mart.owner, "tags": list(mart.tags),
                    "description": mart.description}
        source = self.project.sources[key]
        return {"kind": "seed" if source.seed is not None else "source", "materialized": None, "owner": None,
                "tags": [], "description": source.description}

    def problems(self) -> list[str]:
        return [f"{k}: {p}" for k, h in self.hops.items() for p in h["problems"]]


def _edge_list(edges: Iterable[tuple[str, str]]) -> list[dict]:
    return [{"from": a, "to": b} for a, b in sorted(edges)]


def project_lineage(project: Project, vars: Mapping[str, Any] | None = None, cache_dir=None,
                    catalog: Mapping[str, list[str]] | None = None, get_graph=None) -> ProjectLineage:
    """The whole project's lineage: from target/lineage.json when nothing changed, else (re)computed
    hop by hop (unchanged marts reused) and cached again. `catalog`: columns of sources that
    declare none, as the warehouse reports them. `get_graph`: returns the caller's parsed graph
    (built with the same vars), so a command that has one does not parse every mart twice."""
    from martctl.compiler.resolve import build_graph
    from martctl.lineage.cache import read_cache, write_cache

    values = {**project.vars, **(vars or {})}
    key = project_key(project, values, catalog)
    cached = read_cache(cache_dir) if cache_dir is not None else None
    if cached is not None and cached.get("key") == key and set(cached["hops"]) == set(project.marts):
        return ProjectLineage(project, cached["hops"], key, from_cache=True, catalog=dict(catalog or {}))
    graph = get_graph() if get_graph is not None else build_graph(project, values)
    hops = compute_hops(graph, cached["hops"] if cached else None, catalog)
    if cache_dir is not None:
        write_cache(cache_dir, key, hops)
    return ProjectLineage(project, hops, key, catalog=dict(catalog or {}))

