"""Versioned tables behind a view: how a Spark mart is replaced without a transaction.

Rules. A table (or incremental, or seed) `<schema>.<name>` is a VIEW `SELECT * FROM
<schema>.<name>__martctl_v<n>`, the physical Parquet table of its current version n. A build
writes version n+1 completely (CREATE TABLE AS), then replaces the view in one metastore call
(CREATE OR REPLACE VIEW), then records the build in martctl's state, then drops every version
but the new one and the one the view read until then (kept so that a query that started on it
can finish). A kill before the view's replacement leaves the old version in place (the unswapped
n+1 is a leftover, dropped by the mart's next build); after it, the new one. A mart materialized as a
view is a plain view.
"""

from __future__ import annotations

import re

from sqlglot import exp

from martctl.engine import ddl

VERSION_MARK = "__martctl_v"
_VERSION = re.compile(r"^(?P<base>.+)__martctl_v(?P<n>\d+)$")


def versioned(relation: tuple[str, str], n: int) -> tuple[str, str]:
    return relation[0], f"{relation[1]}{VERSION_MARK}{n}"


def version_of(name: str) -> tuple[str, int] | None:
    """(base name, n) of a versioned table's name, else None."""
    match = _VERSION.match(name.lower())
    return (match.group("base"), int(match.group("n"))) if match else None


def pointed_version(view_text: str, relation: tuple[str, str]) -> int | None:
    """The version a view's text reads (SELECT * FROM <schema>.<name>__martctl_v<n>), else None."""
    import sqlglot

    try:
        tree = sqlglot.parse_one(view_text, read="spark")
    except Exception:  # a view martctl did not write
        return None
    tables = list(tree.find_all(exp.Table))
    if len(tables) != 1:
        return None
    found = version_of(tables[0].name)
    return found[1] if found and found[0] == relation[1].lower() else None


def point_view(relation: tuple[str, str], n: int) -> exp.Create:
    """CREATE OR REPLACE VIEW <relation> AS SELECT * FROM its version n."""
    return ddl.create_view(relation, ddl.select_columns(versioned(relation, n)))
