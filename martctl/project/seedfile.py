"""Seed CSVs are checked before any is loaded: UTF-8, comma-separated, a header naming each column once,
every row with the header's number of fields, and every value of the column's type: the declared one
(seeds.column_types, or the source's columns), else the type the column's other values share.

Without this, DuckDB's sniffer reads a file with one short row as a single VARCHAR column, and
`martctl seed` says OK."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path
from typing import Iterable

from martctl.errors import Problem, ProjectError
from martctl.project.model import SourceTable
from martctl.project.scratch import scratch_duckdb
from martctl.project.textfile import UnreadableFile, read_text

# The CSV format both engines read: DuckDB's read_csv gets these options, Postgres gets rows from csv.reader.
DUCKDB_CSV_OPTIONS = {"delim": ",", "quote": '"', "escape": '"', "header": True}
CSV_OPTIONS_SQL = ", ".join(f"{k}={v!r}".replace("True", "true") for k, v in DUCKDB_CSV_OPTIONS.items())
# A column whose values but a few are of one kind: those few are typos. Ties go to the first kind.
KINDS = (("DOUBLE", "a number"), ("TIMESTAMP", "a date or timestamp"), ("BOOLEAN", "true or false"))
MAX_ODD = 10  # at most this many odd values (and at most 1 in 100) make a column "mostly of one kind"

_lock = threading.Lock()
_checked: dict = {}


def check_seeds(seeds: Iterable[SourceTable], config_file: Path | None = None) -> None:
    """Raise ProjectError listing the problems of these seeds (nothing loaded yet)."""
    problems = [p for seed in seeds for p in seed_problems(seed, config_file)]
    if problems:
        raise ProjectError(problems)


def seed_problems(seed: SourceTable, config_file: Path | None = None) -> list[Problem]:
    """What is wrong with one seed file ([] when it loads as declared); remembered per file version."""
    path = Path(seed.seed)
    try:
        stat = path.stat()
    except OSError as exc:
        return [Problem(f"cannot read seed: {exc.strerror or exc}", path)]
    stamp = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, tuple(sorted(_declared(seed).items())))
    with _lock:
        if stamp not in _checked:
            _checked[stamp] = _problems(seed, config_file)
        return list(_checked[stamp])


def _declared(seed: SourceTable) -> dict[str, str]:
    return {c: t for c, t in {**dict(seed.columns), **dict(seed.column_types)}.items() if t}


def _problems(seed: SourceTable, config_file: Path | None) -> list[Problem]:
    path = Path(seed.seed)
    try:
        text = read_text(path)
    except UnreadableFile as exc:
        return [exc.problem]
    rows, lines, problem = _rows(path, text)
    problem = problem or _mixed_line_endings(path, text)
    if problem is not None:
        return [problem]
    header, rows, lines = rows[0], rows[1:], lines[1:]
    declared = _declared(seed)
    types: dict[int, list[str]] = {}
    problems: list[Problem] = []
    for index, column in enumerate(header):
        if column in declared:
            sql_type = _sql_type(declared[column])
            if sql_type is None:
                problems.append(Problem(f"seed {seed.name}: column '{column}' has an unknown type '{declared[column]}'",
                                        config_file, hint="write a SQL type: bigint, double, decimal(12,2), date, varchar"))
            types[index] = [sql_type] if sql_type else []
        else:
            types[index] = [t for t, _ in KINDS]
    try:
        failures = _failures(path, len(header), types, len(rows))
    except Exception as exc:  # duckdb.Error: what DuckDB's reader says is what `martctl seed` would say
        return problems + [Problem(f"DuckDB cannot read this CSV: {str(exc).strip().splitlines()[0]}", path)]
    for index, column in enumerate(header):
        present = sum(1 for row in rows if row[index] != "")
        found = (_not_declared(column, types[index], failures[index]) if column in declared
                 else _odd_value(seed, column, present, failures[index]))
        if found is not None:
            row, message, hint = found
            problems.append(Problem(message.format(value=rows[row][index]), path, lines[row], hint=hint))
    return problems


def _mixed_line_endings(path: Path, text: str) -> Problem | None:
    """DuckDB's reader refuses a file whose lines end in both \\n and \\r\\n (an appended line, say)."""
    names = {"\r\n": "\\r\\n (Windows)", "\n": "\\n (Unix)", "\r": "\\r (old Mac)"}
    first = None
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        ending = next((e for e in names if line.endswith(e)), None)
        if ending is None:
            continue
        if first is None:
            first = ending
        elif ending != first:
            return Problem(f"this line ends in {names[ending]}, the lines above in {names[first]}", path, number,
                           hint="give every line the same ending (dos2unix or unix2dos converts a file)")
    return None


def _sql_type(kind: str) -> str | None:
    from sqlglot import exp

    try:
        return exp.DataType.build(kind, dialect="duckdb").sql("duckdb")
    except Exception:
        return None


def _failures(path: Path, width: int, types: dict[int, list[str]], count: int) -> dict[int, list[tuple[int, int]]]:
    """For each column and each of its types, (how many, first row index) of the non-empty values that do
    not cast to it: one pass of DuckDB's CSV reader over the file, every field read as text by position."""
    names = [f"c{i}" for i in range(width)]
    lists = [(i, f"count(*) filter (where {bad}), min(r) filter (where {bad})")
             for i in range(width) for t in types[i]
             for bad in [f"c{i} <> '' and try_cast(c{i} as {t}) is null"]]
    query = (f"select count(*){''.join(', ' + sql for _, sql in lists)} from (select row_number() over () - 1 as r, * "
             f"from read_csv(?, all_varchar=true, strict_mode=true, {CSV_OPTIONS_SQL}, names=?))")
    with scratch_duckdb() as con:
        found = con.execute(query, [str(path), names]).fetchone()
    result: dict[int, list[tuple[int, int]]] = {i: [] for i in range(width)}
    if found[0] != count:  # DuckDB and Python's csv disagree on the rows: leave the types to the load
        return {i: [(0, 0) for _ in types[i]] for i in range(width)}
    for n, (index, _) in enumerate(lists):
        result[index].append((found[1 + 2 * n], found[2 + 2 * n]))
    return result


def _not_declared(column: str, sql_types: list[str], failures: list[tuple[int, int]]):
    """(row index, message, hint) for the first value that is not of the declared type, or None."""
    if not sql_types or not failures[0][0]:
        return None
    count, first = failures[0]
    more = f" ({count - 1} more below)" if count > 1 else ""
    return first, f"'{{value}}' in column '{column}' is not a {sql_types[0]}, its declared type{more}", \
        "fix the value, or change the column's type in config.yaml"


def _odd_value(seed: SourceTable, column: str, present: int, failures: list[tuple[int, int]]):
    """(row index, message, hint) for the first odd value of a column of one kind but a few, or None."""
    if present < 10 or any(count == 0 for count, _ in failures):
        return None  # too few to tell, or the whole column is of one kind
    (count, first), kind = min(zip(failures, (k for _, k in KINDS)), key=lambda pair: pair[0][0])
    if count > min(MAX_ODD, max(1, present // 100)) or present - count < 10:
        return None  # a text column
    return first, f"'{{value}}' in column '{column}' is not {kind}, unlike its other {present - count} values", \
        f"fix the value, or declare the column as text in config.yaml: seeds: {{column_types: {{{seed.name}: {{{column}: varchar}}}}}}"


def _rows(path: Path, text: str) -> tuple[list[list[str]], list[int], Problem | None]:
    """The records (blank lines skipped) and the line each starts on, or the first structural problem."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            return rows, lines, Problem(f"not valid CSV: {exc}", path, reader.line_num or start,
                                        hint='quote a field holding commas, quotes or line breaks: "a, b" ("" for a quote)')
        if not row:
            continue
        if rows and len(row) != len(rows[0]):
            return rows, lines, Problem(
                f"this row has {len(row)} field{'s' if len(row) != 1 else ''}, the header has {len(rows[0])}",
                path, start, hint="give every row one value per header column (an empty field for none); "
                "quote values that hold commas")
        rows.append(row)
        lines.append(start)
    if not rows:
        return rows, lines, Problem("seed has no header row", path, 1, hint="the first line must name the columns")
    header = rows[0]
    blank = next((i for i, name in enumerate(header, 1) if not name.strip()), None)
    if blank is not None:
        return rows, lines, Problem(f"header column {blank} has no name", path, 1, hint="name every column on the first line")
    twice = next((name for i, name in enumerate(header) if name.lower() in (n.lower() for n in header[:i])), None)
    if twice is not None:
        return rows, lines, Problem(f"header names column '{twice}' twice", path, 1, hint="give each column its own name")
    return rows, lines, None
