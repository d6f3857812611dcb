"""Moving a view's SQL from one environment's layer to another's (`marketing__dev.x` -> `marketing.x`)."""

from __future__ import annotations

from typing import Mapping

from sqlglot import exp


def retarget(sql: str, dialect: str, schemas: Mapping[str, str], from_prod: bool = False) -> str:
    """A view's SQL with every table of one environment's layer read from another's.

    From an environment's layer (`marketing__dev`, a name no alias takes by chance) the schema before a
    `.` is replaced where sqlglot's tokenizer finds it: no parse, no regeneration, the rest of the text
    byte for byte. From prod's plain schema names (which an alias may share) the SQL is parsed and only
    its tables are moved."""
    import sqlglot
    from sqlglot.tokens import TokenType

    if from_prod:
        tree = sqlglot.parse_one(sql, read=dialect)
        for table in tree.find_all(exp.Table):
            if table.db in schemas:
                table.set("db", exp.to_identifier(schemas[table.db]))
        return tree.sql(dialect)
    tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    pieces, at = [], 0
    for token, following in zip(tokens, tokens[1:]):
        name = token.text if token.token_type == TokenType.IDENTIFIER else token.text.lower()
        if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER) and following.token_type == TokenType.DOT \
                and name in schemas:
            quoted = token.token_type == TokenType.IDENTIFIER
            pieces += [sql[at:token.start], exp.to_identifier(schemas[name], quoted=quoted).sql(dialect)]
            at = token.end + 1
    return "".join(pieces) + sql[at:]
