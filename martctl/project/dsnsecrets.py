"""The pieces of a DSN's password that an error message can echo, however malformed the DSN.

libpq and psycopg quote what they could not parse: a bad percent-encoding (`"Pct%zzSecret55"`),
a word after an unquoted space (`missing "=" after "Secret44"`), what followed a second '@'
(`failed to resolve host 'Secret66@127.0.0.1'`). Masking only the whole DSN or the password as
written misses those, so every piece goes into the target's secrets.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MIN_LENGTH = 3  # shorter pieces are not masked alone: replacing every "ab" would garble messages
_SEPARATORS = re.compile(r"[\s@%/:?&=;,'\"\\]+")
_PASSWORD_KEY = re.compile(r"password\s*=\s*", re.IGNORECASE)
_NEXT_KEY = re.compile(r"\s+[A-Za-z_]+\s*=")  # where the next key=value pair of a conninfo starts


def password_parts(dsn: str) -> list[str]:
    """The password (as written and decoded) and each piece of it, longest first."""
    found: set[str] = set()
    for password in _passwords(dsn or ""):
        for text in (password, unquote(password), re.sub(r"\\(.)", r"\1", password)):
            found.add(text)
            found.update(_SEPARATORS.split(text))
    return sorted((p for p in found if len(p) >= MIN_LENGTH), key=len, reverse=True)


def _passwords(dsn: str) -> list[str]:
    """What the user meant as the password: a URL's userinfo after ':' up to the last '@', and
    every password= value (quoted: to the closing quote or the end; plain: to the next key=)."""
    passwords = []
    if "://" in dsn:
        rest = dsn.split("://", 1)[1]
        userinfo = rest[: rest.rfind("@")] if "@" in rest else ""
        if ":" in userinfo:
            passwords.append(userinfo.split(":", 1)[1])
    for match in _PASSWORD_KEY.finditer(dsn):
        value = dsn[match.end():]
        if value.startswith("'"):
            closing = re.search(r"(?<!\\)'", value[1:])
            passwords.append(value[1: closing.start() + 1] if closing else value[1:])
        else:
            following = _NEXT_KEY.search(value)
            value = value[: following.start()] if following else value
            passwords.append(value.split("&", 1)[0] if "://" in dsn else value)  # a URL's query: to the next &
    return passwords
