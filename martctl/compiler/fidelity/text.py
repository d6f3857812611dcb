"""Pattern languages translated: DuckDB's regexes (RE2) to Postgres's (ARE), globs to regexes,
strftime codes to to_char templates. None where a pattern cannot be carried over exactly."""

from __future__ import annotations

# RE2's Perl classes are ASCII-only; Postgres's follow the locale (\w matches 'é'): spell them out
_PERL = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r ", "D": "^0-9", "W": "^0-9A-Za-z_", "S": "^\\t\\n\\f\\r "}
_POSIX = {"alpha": "A-Za-z", "digit": "0-9", "alnum": "0-9A-Za-z", "upper": "A-Z", "lower": "a-z",
          "space": "\\t\\n\\v\\f\\r ", "punct": "!-/:-@\\[-`{-~", "xdigit": "0-9A-Fa-f", "word": "0-9A-Za-z_"}
_SAME_ESCAPES = set(".^$|?*+()[]{}\\/-tnrfv")
_RENAMED_ESCAPES = {"b": "\\y", "B": "\\Y", "A": "^", "z": "$"}


def re2_to_postgres(pattern: str) -> str | None:
    """An RE2 pattern as a Postgres ARE with the same matches, or None."""
    out, i, n, in_class = [], 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                return None
            nxt = pattern[i + 1]
            if nxt in _PERL:
                body = _PERL[nxt]
                if in_class:
                    if body.startswith("^"):
                        return None  # a negated class inside a class
                    out.append(body)
                else:
                    out.append(f"[{body}]")
            elif nxt in _RENAMED_ESCAPES and not in_class:
                out.append(_RENAMED_ESCAPES[nxt])
            elif nxt in _SAME_ESCAPES:
                out.append(ch + nxt)
            else:
                return None  # \pL, \Q...\E, octal, ...
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):
                end = pattern.find(":]", i)
                name = pattern[i + 2: end] if end > 0 else ""
                if name not in _POSIX:
                    return None
                out.append(_POSIX[name])
                i = end + 2
                continue
            if ch == "]" and not (out and out[-1] in ("[", "[^")):
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if ch == "(" and pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
            return None  # inline flags, named groups: not the same in both
        # RE2's . does not match a newline by default; Postgres's does
        out.append("[^\\n]" if ch == "." else ch)
        i += 1
    return None if in_class else "".join(out)


def glob_to_regex(pattern: str) -> str | None:
    """A GLOB pattern (*, ?, [...]) as an anchored regex."""
    out, i = ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                return None
            body = pattern[i + 1: end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        elif ch in ".^$|+(){}\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out) + "$"


# strftime code -> to_char template part (DuckDB's output, C locale)
_STRFTIME = {
    "Y": "YYYY", "m": "MM", "d": "DD", "H": "HH24", "M": "MI", "S": "SS", "j": "DDD", "y": "YY",
    "b": "Mon", "h": "Mon", "B": "FMMonth", "a": "Dy", "A": "FMDay", "I": "HH12", "p": "AM", "f": "US",
    "G": "IYYY", "V": "IW", "u": "ID", "F": "YYYY-MM-DD", "T": "HH24:MI:SS", "D": "MM/DD/YY", "R": "HH24:MI",
    "g": "IY", "C": "CC", "q": "Q",
}


def strftime_to_char(fmt: str) -> tuple[str | None, str | None]:
    """(to_char template, None) or (None, the code that has no equivalent)."""
    out, literal, i = [], [], 0

    def flush():
        if literal:
            text = "".join(literal).replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'"{text}"')
            literal.clear()

    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code == "%":
                literal.append("%")
            elif code in _STRFTIME:
                flush()
                out.append(_STRFTIME[code])
            else:
                return None, "%" + code
            i += 2
            continue
        literal.append(ch)
        i += 1
    flush()
    return "".join(out), None
