"""DDL and DML around a mart's query, built as sqlglot ASTs for any dialect.

Every function returns an expression; the adapter renders it with `.sql(dialect)`. A query may be
given as an AST or as text that sqlglot already generated (a CompiledMart's `.sql`): text is kept
as one leaf so it is neither parsed nor rendered twice, and its line N stays line N of the
statement (engines' error positions then point into the compiled SQL).
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from sqlglot import exp

ASIDE_SUFFIX = "__martctl_new"  # a table built aside, swapped in when complete
BATCH_SUFFIX = "__martctl_batch"  # an incremental batch, dropped after use

Relation = tuple[str, str]
Query = exp.Expression | str


def table(relation: Relation, alias: str | None = None) -> exp.Table:
    """schema.name as a table node (identifiers quoted only where they must be)."""
    schema, name = relation
    node = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema) if schema else None)
    if alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return node


def aside(relation: Relation) -> Relation:
    return (relation[0], relation[1] + ASIDE_SUFFIX)


def batch(relation: Relation) -> Relation:
    return (relation[0], relation[1] + BATCH_SUFFIX)


def is_leftover(name: str) -> bool:
    """A relation martctl builds for a moment and a killed run may leave behind."""
    return name.endswith(ASIDE_SUFFIX) or name.endswith(BATCH_SUFFIX)


def _query(query: Query) -> exp.Expression:
    return exp.Var(this=query) if isinstance(query, str) else query


def create_schema(schema: str) -> exp.Create:
    return exp.Create(this=exp.Table(this=exp.to_identifier(schema)), kind="SCHEMA", exists=True)


def create_table_as(relation: Relation, query: Query, replace: bool = False, temporary: bool = False) -> exp.Create:
    properties = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
    return exp.Create(
        this=table(relation), kind="TABLE", expression=_query(query), replace=replace, properties=properties
    )


def create_view(relation: Relation, query: Query, replace: bool = True) -> exp.Create:
    return exp.Create(this=table(relation), kind="VIEW", expression=_query(query), replace=replace)


def drop(relation: Relation, kind: str = "TABLE", exists: bool = True, cascade: bool = False) -> exp.Drop:
    """kind: TABLE or VIEW."""
    return exp.Drop(tables=[table(relation)], kind=kind.upper(), exists=exists, cascade=cascade)


def rename(relation: Relation, new_name: str, kind: str = "TABLE") -> exp.Alter:
    """ALTER TABLE schema.old RENAME TO new (same schema)."""
    return exp.Alter(
        this=table(relation), kind=kind.upper(), actions=[exp.AlterRename(this=exp.Table(this=exp.to_identifier(new_name)))]
    )


def swap(relation: Relation, existing_kind: str | None, cascade: bool = False) -> list[exp.Expression]:
    """Replace `relation` with its aside table: drop the old one (if any, of its kind), rename.

    Run these in one transaction (with the CREATE of the aside table where the engine allows it)
    so readers see the old or the new version, never none."""
    statements: list[exp.Expression] = []
    if existing_kind:
        statements.append(drop(relation, existing_kind, cascade=cascade))
    statements.append(rename(aside(relation), relation[1]))
    return statements


def select_columns(relation: Relation, columns: Sequence[str] | None = None, alias: str | None = None) -> exp.Select:
    """SELECT cols (or *) FROM relation."""
    projections = [exp.column(c, quoted=None) for c in columns] if columns else [exp.Star()]
    return exp.select(*projections).from_(table(relation, alias), copy=False)


def insert(relation: Relation, query: Query, columns: Sequence[str] | None = None) -> exp.Insert:
    """INSERT INTO relation (cols) query."""
    this: exp.Expression = table(relation)
    if columns:
        this = exp.Schema(this=this, expressions=[exp.to_identifier(c) for c in columns])
    return exp.Insert(this=this, expression=_query(query))


def _key_match(keys: Sequence[str], left: str, right: str) -> exp.Expression:
    return exp.and_(*[exp.EQ(this=exp.column(k, left), expression=exp.column(k, right)) for k in keys])


def delete_matching(relation: Relation, source: Relation, keys: Sequence[str]) -> exp.Delete:
    """DELETE FROM relation the rows whose unique key is in `source` (delete+insert merge, step 1).

    The target keeps its own name as its qualifier (a DELETE alias is not portable)."""
    target_name = relation[1]
    match = _key_match(keys, "__martctl_src", target_name)
    probe = exp.select(exp.Literal.number(1)).from_(table(source, "__martctl_src")).where(match)
    return exp.Delete(this=table(relation), where=exp.Where(this=exp.Exists(this=probe)))


def _this_to(tree: exp.Expression, relation: Relation) -> exp.Expression:
    """Point every table named `this` (the mart's current table, in incremental filters) at `relation`."""
    for node in list(tree.find_all(exp.Table)):
        if node.name.lower() == "this" and not node.db:
            alias = node.args.get("alias")
            node.replace(table(relation, alias.name if alias else None))
    return tree


def new_rows_predicate(incremental: Mapping, relation: Relation, dialect: str) -> exp.Expression | None:
    """The WHERE that keeps only new rows, from the mart's `incremental:` block (in its dialect).

    `cursor: col` keeps rows whose col is above the current table's max(col) (all rows when the
    table is empty); `filter: sql` is a predicate where the table name `this` is the current table.
    Both may be given (they are and-ed); neither means every row of the query is new."""
    import sqlglot

    parts: list[exp.Expression] = []
    cursor = incremental.get("cursor")
    if cursor:
        current_max = exp.Subquery(this=exp.select(exp.Max(this=exp.column(cursor, quoted=None))).from_(table(relation)))
        parts.append(
            exp.or_(
                exp.Is(this=current_max, expression=exp.Null()),
                exp.GT(this=exp.column(cursor, "__martctl_new_rows"), expression=current_max.copy()),
            )
        )
    text = incremental.get("filter")
    if text:
        parts.append(_this_to(sqlglot.condition(text, dialect=dialect), relation))
    return exp.and_(*parts) if parts else None


def filtered(query: Query, predicate: exp.Expression | None) -> exp.Expression:
    """SELECT * FROM (query) AS __martctl_new_rows WHERE predicate."""
    if predicate is None:
        return _query(query)
    inner = exp.Subquery(this=_query(query), alias=exp.TableAlias(this=exp.to_identifier("__martctl_new_rows")))
    return exp.select(exp.Star()).from_(inner).where(exp.paren(predicate))


def in_range(column: str, start: str, end: str, kind: str | None, dialect: str) -> exp.Expression:
    """column >= start AND column < end, each bound a string literal cast to `kind` (the cursor's type
    in the warehouse; None: unknown, the literal as it is)."""
    def bound(value: str) -> exp.Expression:
        literal = exp.Literal.string(value)
        if not kind:
            return literal
        try:
            target = exp.DataType.build(kind, dialect=dialect)
        except Exception:  # a catalog type sqlglot cannot read: kept as the catalog spells it
            target = exp.DataType.build(kind, udt=True)
        return exp.Cast(this=literal, to=target)

    col = exp.column(column, quoted=None)
    return exp.and_(exp.GTE(this=col, expression=bound(start)), exp.LT(this=col.copy(), expression=bound(end)))


def _cursor_type(columns: Sequence[str] | Mapping[str, str | None], cursor: str) -> str | None:
    if not isinstance(columns, Mapping):
        return None
    found = {name.lower(): kind for name, kind in columns.items()}
    return found.get(cursor.lower())


def incremental_statements(compiled, columns: Sequence[str] | Mapping[str, str | None],
                           query: Query | None = None) -> list[exp.Expression]:
    """What a later run of an incremental mart executes, in one transaction: the new rows (cursor
    and/or filter) into a batch table, with `strategy: merge` and a unique_key the rows they replace
    deleted, the batch inserted into the existing `columns`, the batch dropped.

    A backfill (`compiled.backfill` = (start, end)) takes the query's rows whose cursor is in
    [start, end) instead, and deletes the table's rows in that range first (merge: and the rows of
    the same unique_key). `columns` may map each column to its type: the bounds are cast to the cursor's."""
    relation, spec = compiled.relation, compiled.mart.incremental
    batch_relation = batch(relation)
    query = compiled.sql if query is None else query  # the compiled text, or its tree (to render elsewhere)
    window = getattr(compiled, "backfill", None)
    if window:
        cursor = spec["cursor"]
        rows_in = in_range(cursor, *window, _cursor_type(columns, cursor), compiled.dialect)
        statements: list[exp.Expression] = [
            create_table_as(batch_relation, filtered(query, _qualified(rows_in.copy(), "__martctl_new_rows"))),
            exp.Delete(this=table(relation), where=exp.Where(this=rows_in))]
    else:
        predicate = new_rows_predicate(spec, relation, compiled.mart.dialect)
        statements = [create_table_as(batch_relation, filtered(query, predicate))]
    keys = tuple(spec.get("unique_key") or ())
    if spec.get("strategy", "merge") == "merge" and keys:
        statements.append(delete_matching(relation, batch_relation, keys))
    statements += [insert(relation, select_columns(batch_relation, columns), columns), drop(batch_relation)]
    return statements


def _qualified(predicate: exp.Expression, alias: str) -> exp.Expression:
    for column in predicate.find_all(exp.Column):
        column.set("table", exp.to_identifier(alias))
    return predicate


def render(statements: Iterable[exp.Expression], dialect: str) -> list[str]:
    return [s.sql(dialect) for s in statements]
