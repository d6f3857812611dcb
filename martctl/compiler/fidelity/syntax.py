"""DuckDB-only syntax: written the Postgres way where an equivalent exists, refused otherwise."""

from __future__ import annotations

from sqlglot import exp

from martctl.compiler.fidelity.registry import refuse, rule


@rule(exp.Order)
def order_by_all(node: exp.Order) -> exp.Expression | None:
    """ORDER BY ALL -> ORDER BY 1, 2, ... (every output column, left to right)."""
    items = node.expressions
    if len(items) != 1 or not isinstance(items[0].this, exp.Var) or items[0].this.name.upper() != "ALL":
        return None
    select = node.parent
    if not isinstance(select, exp.Query):
        return None
    ordered = items[0]
    positions = [
        exp.Ordered(this=exp.Literal.number(i), desc=ordered.args.get("desc"), nulls_first=ordered.args.get("nulls_first"))
        for i in range(1, len(select.selects) + 1)
    ]
    return exp.Order(expressions=positions)


@rule(exp.Union, exp.Except, exp.Intersect)
def set_operation_by_name(node: exp.SetOperation) -> exp.Expression | None:
    """UNION [ALL] BY NAME -> the right side's columns put in the left side's order."""
    if not node.args.get("by_name"):
        return None
    left, right = node.this, node.expression
    if not isinstance(left, exp.Select) or not isinstance(right, exp.Select):
        refuse("UNION BY NAME over nested set operations", node, "list the columns in the same order on both sides")
    names = [s.alias_or_name for s in left.selects]
    by_name = {s.alias_or_name: s for s in right.selects}
    if sorted(names) != sorted(by_name) or len(set(names)) != len(names):
        refuse("UNION BY NAME with different column sets", node, "select the same columns on both sides (null as c)")
    right.set("expressions", [by_name[name] for name in names])
    node.set("by_name", None)
    return node


def semi_anti_join(join: exp.Join) -> None:
    """SEMI/ANTI JOIN -> [NOT] EXISTS in the WHERE clause. Runs before typing: sqlglot's qualify
    reads `n.i` in a SEMI JOIN's ON as a field of a column named n (see sqlglot_bugs)."""
    kind = (join.args.get("kind") or "").upper()
    if kind not in ("SEMI", "ANTI"):
        return
    select = join.parent
    if not isinstance(select, exp.Select) or join.args.get("on") is None:
        refuse(f"{kind} JOIN", join, "where [not] exists (select 1 from ... where ...)")
    probe = exp.Exists(this=exp.select("1").from_(join.this.copy()).where(join.args["on"].copy()))
    join.pop()
    select.where(probe if kind == "SEMI" else exp.Not(this=probe), copy=False)


@rule(exp.Join)
def duckdb_joins(node: exp.Join) -> exp.Expression | None:
    """ASOF and POSITIONAL joins have no Postgres equivalent."""
    method = (node.args.get("method") or "").upper()
    if method in ("ASOF", "POSITIONAL"):
        refuse(f"{method} JOIN", node, "ASOF: a lateral subquery with order by ... limit 1; "
                                       "POSITIONAL: join both sides on row_number() over ()")
    return None


@rule(exp.Struct)
def struct_literal(node: exp.Struct) -> exp.Expression:
    refuse("a struct literal {'a': ...}", node, "separate columns")


@rule(exp.Lambda)
def lambda_(node: exp.Lambda) -> exp.Expression:
    refuse("a lambda (x -> ...)", node, "a subquery over unnest(l)")


@rule(exp.Columns)
def columns_expression(node: exp.Columns) -> exp.Expression:
    refuse("COLUMNS(...)", node, "list the columns")


@rule(exp.TableSample)
def sample(node: exp.TableSample) -> exp.Expression:
    refuse("USING SAMPLE / TABLESAMPLE", node, "samples differ between engines: filter on a hash of a key, e.g. where hash(id) % 10 = 0")


@rule(exp.LimitOptions)
def limit_percent(node: exp.LimitOptions) -> exp.Expression | None:
    if node.args.get("percent"):
        refuse("LIMIT n%", node, "row_number() over () and count(*) over () in a subquery")
    return None


@rule(exp.Collate)
def collate(node: exp.Collate) -> exp.Expression:
    refuse("COLLATE", node, "collation names differ between engines: compare lower(x) for case-insensitive order")
