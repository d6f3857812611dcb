"""Fingerprints: a hash of everything that decides a mart's rows, compared from sqlglot trees.

A mart's own part covers its SQL in canonical form (generated from its parsed tree, vars
substituted: comments, whitespace, keyword case and quoting that changes nothing drop out), its
materialization and incremental settings, its dialect and the target's. Its fingerprint adds its
inputs' fingerprints (marts, seeds by content hash, sources by declaration), so a change anywhere
upstream changes every fingerprint downstream of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from sqlglot import exp

from martctl.compiler.nodes import Nodes
from martctl.compiler.sql import changed_by_generating

if TYPE_CHECKING:
    from martctl.compiler.parsed import ParsedMart, ProjectGraph
    from martctl.project.model import SourceTable

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")  # a quoted name that means the same unquoted


def digest(*parts: Any) -> str:
    blob = json.dumps(parts, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


def canonical_sql(tree: exp.Expression, dialect: str, nodes: Nodes | None = None) -> str:
    """The tree as one line of SQL without comments, plain lowercase names unquoted. The tree is
    unquoted in place and restored, and generated from without a copy where the generator leaves it
    as it is (copying is most of the cost); `nodes`: the tree's, when known."""
    from sqlglot.dialects.dialect import Dialect

    nodes = nodes or Nodes(tree)
    unquoted = [n for n in nodes.find_all(exp.Identifier) if n.quoted and _PLAIN.match(n.name)]
    for node in unquoted:
        node.set("quoted", False)
    try:
        generator = Dialect.get_or_raise(dialect).generator(comments=False)
        return generator.generate(tree, copy=changed_by_generating(nodes, dialect))
    finally:
        for node in unquoted:
            node.set("quoted", True)


def canonical_of(parsed: "ParsedMart") -> str:
    """A parsed mart's canonical SQL (in its own dialect)."""
    return canonical_sql(parsed.tree, parsed.mart.dialect, parsed.nodes)


@dataclass(frozen=True)
class Fingerprint:
    """own: the mart's SQL and settings; full: own plus its inputs' fingerprints; sql: the canonical SQL."""

    own: str
    full: str
    sql: str = ""


def seed_hash(source: "SourceTable") -> str:
    """A seed's content hash (its file's bytes and its column type overrides)."""
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(source.seed.read_bytes())
    hasher.update(json.dumps(sorted(source.column_types.items())).encode())
    return hasher.hexdigest()


def source_hash(source: "SourceTable") -> str:
    """A declared source's fingerprint: where it is and the columns it declares (its data is a version)."""
    if source.seed is not None:
        return seed_hash(source)
    return digest(source.schema, source.name, sorted(source.columns.items()))


def canonical_texts(graph: "ProjectGraph", keys: Iterable[str]) -> dict[str, str]:
    """Each mart's canonical SQL; cached in the plan cache with the parse it comes from."""
    entries = graph.plan.get("marts", {}) if graph.plan is not None else {}
    texts, fresh = {}, False
    for key in keys:
        entry = entries.get(key, {})
        text = entry.get("canon")
        if text is None:
            text = canonical_of(graph.parsed[key])
            if key in entries:
                entry["canon"] = text
                fresh = True
        texts[key] = text
    if fresh and graph.plan is not None:
        from martctl.compiler import plancache

        plancache.write(graph.target_dir, graph.plan)
    return texts


def fingerprints(graph: "ProjectGraph", keys: Iterable[str], target_dialect: str,
                 sources: Mapping[str, "SourceTable"]) -> dict[str, Fingerprint]:
    """The fingerprint of each mart in `keys` and of every mart upstream of them (dependency order)."""
    wanted = set(keys)
    needed = wanted | graph.graph.upstream(wanted)
    order = [k for k in graph.graph.topological_order() if k in needed]
    texts = canonical_texts(graph, order)
    source_prints: dict[str, str] = {}
    prints: dict[str, Fingerprint] = {}
    for key in order:
        parsed = graph.parsed[key]
        mart = parsed.mart
        own = digest(texts[key], mart.materialized, dict(mart.incremental), mart.dialect, target_dialect)
        inputs = []
        for ref in parsed.upstream_sources:
            if ref not in source_prints:
                source_prints[ref] = source_hash(sources[ref])
            inputs.append((ref, source_prints[ref]))
        inputs += [(ref, prints[ref].full) for ref in parsed.upstream_marts]
        prints[key] = Fingerprint(own, digest(own, sorted(inputs)), texts[key])
    return prints
