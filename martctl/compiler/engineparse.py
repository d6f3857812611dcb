"""DuckDB's own parser as a second opinion: sqlglot repairs some SQL that DuckDB rejects
(`select a,, b` becomes `SELECT a, b`), so a mart written in DuckDB SQL is also parsed, not run,
by DuckDB itself (extract_statements; json_serialize_sql for the place of an error) before
martctl accepts it."""

from __future__ import annotations

import json

import sqlglot
from sqlglot.tokens import TokenType

from martctl.compiler.sql import sql_location
from martctl.errors import Problem
from martctl.project.model import Mart
from martctl.project.scratch import scratch_duckdb

_VALUE_END = {TokenType.NUMBER, TokenType.VAR, TokenType.STRING, TokenType.IDENTIFIER, TokenType.R_PAREN,
              TokenType.R_BRACKET, TokenType.R_BRACE}


def duckdb_text(sql: str) -> str:
    """The SQL with martctl's `:name` vars written `$name` (DuckDB's spelling), same length, so
    positions in DuckDB's errors are positions in the user's text. A slice `x[1:n]` is left alone."""
    chars = list(sql)
    tokens = sqlglot.tokenize(sql, read="duckdb")
    for before, colon, name in zip([None, *tokens], tokens, tokens[1:]):
        if (colon.token_type == TokenType.COLON and name.start == colon.end + 1 and name.token_type == TokenType.VAR
                and (before is None or before.token_type not in _VALUE_END)):
            chars[colon.start] = "$"
    return "".join(chars)


def _parses(con, text: str) -> bool:
    """DuckDB's parser alone (extract_statements: ~0.1 ms a mart, nothing runs)."""
    import duckdb

    try:
        con.extract_statements(text)
    except duckdb.ParserException:
        return False
    return True


def duckdb_complaint(sql: str) -> tuple[str, int | None] | None:
    """None when DuckDB's parser accepts the query, else (its message, character offset or None)."""
    with scratch_duckdb() as con:
        if _parses(con, sql) or (":" in sql and _parses(con, duckdb_text(sql))):
            return None
        # rejected: json_serialize_sql (7x slower) says where, as a character offset
        found = json.loads(con.execute("select json_serialize_sql(?)", [duckdb_text(sql)]).fetchone()[0])
    if not found.get("error") or found.get("error_type") != "parser":
        return None
    position = found.get("position")
    return found.get("error_message") or "syntax error", int(position) if position not in (None, "") else None


def engine_problem(mart: Mart) -> Problem | None:
    """A Problem when DuckDB's parser rejects a DuckDB mart's SQL that sqlglot accepted."""
    if mart.dialect != "duckdb":
        return None
    complaint = duckdb_complaint(mart.sql)
    if complaint is None:
        return None
    message, offset = complaint
    line = col = None
    if offset is not None and 0 <= offset <= len(mart.sql):
        line = mart.sql.count("\n", 0, offset) + 1
        col = offset - (mart.sql.rfind("\n", 0, offset) + 1) + 1
    file_line, col, snippet = sql_location(mart, line, col)
    return Problem(
        f"mart '{mart.key}': SQL does not parse (DuckDB): {message}",
        mart.sql_path,
        file_line,
        col,
        hint="fix the SQL near the marked place (sqlglot would accept it, but DuckDB will not run it)",
        snippet=snippet,
    )
