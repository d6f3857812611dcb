"""Does the target engine have every function martctl's output calls? Checked on the output's
tokens against the function lists in martctl/compiler/targets/ (generated from the engines'
catalogs), so a missing function is a compile error, not a run-time one."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from sqlglot.tokens import TokenType

# keyword tokens the engines also accept as function names (LEFT(s, 2), REPLACE(...), ...)
_KEYWORD_FUNCTIONS = {TokenType.LEFT, TokenType.RIGHT, TokenType.REPLACE, TokenType.FIRST, TokenType.FORMAT}
_NAME_TOKENS = {TokenType.VAR, TokenType.IDENTIFIER, *_KEYWORD_FUNCTIONS}
# tokens after which, inside a call's parentheses, commas no longer separate arguments
_ARGS_END = {TokenType.ORDER_BY, TokenType.FROM, TokenType.IN, TokenType.FOR, TokenType.ALIAS}

# SQL syntax that looks like a call but is grammar, not a catalog function
SYNTAX_CALLS = {
    "postgres": {"cast", "extract", "substring", "position", "trim", "overlay", "coalesce", "nullif", "greatest",
                 "least", "row", "grouping", "normalize", "collation", "xmlelement", "xmlforest", "xmlparse",
                 "xmlpi", "xmlroot", "xmlserialize", "xmlexists", "xmlagg", "treat"},
    "duckdb": {"cast", "try_cast", "extract", "coalesce", "nullif", "row", "grouping", "columns", "struct_pack",
               "position", "trim", "substring", "overlay", "unpack", "exists"},
    "spark": {"cast", "try_cast", "extract", "position", "trim", "substring", "overlay", "exists", "grouping",
              "in", "values"},
}


class Call(NamedTuple):
    name: str  # lower case, as the engine resolves it
    args: int
    position: int  # character offset of the name in the text


@lru_cache(maxsize=None)
def functions(dialect: str) -> dict[str, tuple[tuple[int, int], ...]] | None:
    """The function list of an engine (None when martctl keeps none for it)."""
    from importlib import import_module

    try:
        return import_module(f"martctl.compiler.targets.{dialect}").FUNCTIONS
    except ModuleNotFoundError:
        return None


def calls(tokens) -> list[Call]:
    """The function calls in a token list: name, argument count, offset."""
    found = []
    count = len(tokens)
    for i in range(count - 1):
        token = tokens[i]
        if tokens[i + 1].token_type != TokenType.L_PAREN or token.token_type not in _NAME_TOKENS:
            continue
        before = tokens[i - 1].token_type if i else None
        if before == TokenType.ALIAS:  # AS t(a, b): a column list
            continue
        if token.text.upper() == "GROUP" and i and tokens[i - 1].text.upper() == "WITHIN":
            continue  # WITHIN GROUP (ORDER BY ...)
        if before == TokenType.DOT and (i < 2 or tokens[i - 2].text.lower() != "pg_catalog"):
            continue  # a schema-qualified (user's own) function: not ours to know
        args, end = _arguments(tokens, i + 1)
        if _is_cte_columns(tokens, end):
            continue  # WITH t(a, b) AS (...): a CTE's column list
        name = token.text if token.token_type == TokenType.IDENTIFIER else token.text.lower()
        found.append(Call(name, args, token.start))
    return found


def _is_cte_columns(tokens, end: int) -> bool:
    """`) AS (` or `) AS [NOT] MATERIALIZED (` after the parentheses closed at `end`."""
    following = [t.text.upper() if t.token_type != TokenType.L_PAREN else "(" for t in tokens[end + 1: end + 5]]
    if following[:1] != ["AS"]:
        return False
    rest = [w for w in following[1:] if w not in ("NOT", "MATERIALIZED")]
    return rest[:1] == ["("]


def _arguments(tokens, open_at: int) -> tuple[int, int]:
    """(argument count, index of the closing parenthesis) of the call opened at `open_at`."""
    depth, commas, empty, counting = 0, 0, True, True
    for j in range(open_at, len(tokens)):
        kind = tokens[j].token_type
        if kind in (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE):
            depth += 1
            if depth > 1:
                empty = False
            continue
        if kind in (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE):
            depth -= 1
            if depth == 0:
                return (0 if empty else commas + 1), j
            continue
        if depth == 1:
            if kind == TokenType.STAR and empty and tokens[j + 1].token_type == TokenType.R_PAREN:
                continue  # count(*)
            if kind == TokenType.DISTINCT and empty:
                continue
            empty = False
            if kind in _ARGS_END:
                counting = False
            elif kind == TokenType.COMMA and counting:
                commas += 1
    return (0 if empty else commas + 1), len(tokens) - 1


def missing(tokens, dialect: str) -> list[Call]:
    """The calls `dialect`'s engine does not have (by name, or by argument count)."""
    known = functions(dialect)
    if known is None:
        return []
    syntax = SYNTAX_CALLS.get(dialect, set())
    out = []
    for call in calls(tokens):
        if call.name in syntax:
            continue
        spans = known.get(call.name)
        if spans is None or not any(low <= call.args and (high == -1 or call.args <= high) for low, high in spans):
            out.append(call)
    return out


def arity(dialect: str, name: str) -> str:
    """'takes 1 or 2 arguments' as the engine declares it."""
    spans = (functions(dialect) or {}).get(name) or ()
    said = [f"{low}+" if high == -1 else (str(low) if low == high else f"{low}-{high}") for low, high in spans]
    return "takes " + " or ".join(said) + " arguments" if said else "does not exist"
