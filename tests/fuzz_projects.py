"""Malformed projects for tests/test_fuzz.py: a seeded generator, and the worker that runs them.

`generate(root, seed, warehouse)` writes one folder per case under `root`: a small valid project with
one mutation. Each mutation kind says whether its projects must be refused (exit 2) or may happen to
stay valid (a random truncation can cut a comment). `python -m tests.fuzz_projects CASES` runs
`validate` then `build` on every case in this one process (the CLI's main(), in-process) and prints
one JSON line per case, after a "start" line, so the parent can bound each case's time and name a
case that hangs.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

CONFIG = """name: fuzz
dialect: duckdb
default_target: local
targets:
  local: {type: duckdb, path: "WAREHOUSE", threads: 2}
sources:
  raw:
    tables: [orders]
seeds:
  column_types:
    orders: {amount: "decimal(12,2)"}
vars:
  min_amount: 0
  label: paid
"""
DAILY = """name: daily
description: Orders per day.
materialized: table
tags: [daily]
sql: |
  select ordered_on, count(*) as orders, sum(amount) as amount
  from raw.orders
  where amount >= :min_amount
  group by all
columns:
  ordered_on: {tests: [not_null, unique]}
  amount: {tests: [{expression: "amount >= 0"}]}
"""
BIG_YML = "description: Big orders.\nmaterialized: view\ncolumns:\n  id: {tests: [not_null]}\n"
BIG_SQL = "select id, amount, status\nfrom raw.orders\nwhere amount > 10 and status = :label\n"
FINANCE = """marts:
  - name: summary
    sql: select count(*) as days, sum(amount) as amount from sales.daily
    tests:
      - row_count: {min: 1}
  - name: paid
    sql: select * from sales.big
"""
ORDERS = "id,ordered_on,amount,status\n" + "".join(
    f"{i},2026-01-{1 + i % 9:02d},{i * 3.5:.2f},{'paid' if i % 3 else 'open'}\n" for i in range(1, 13)
)
YAML_FILES = ("config.yaml", "marts/sales/daily.yml", "marts/sales/big.yml", "marts/finance/summary.yml")
SQL_MARTS = ("marts/sales/daily.yml", "marts/sales/big.sql")


def base_files(warehouse: Path) -> dict[str, bytes]:
    files = {
        "config.yaml": CONFIG.replace("WAREHOUSE", str(warehouse)),
        "marts/sales/daily.yml": DAILY,
        "marts/sales/big.yml": BIG_YML,
        "marts/sales/big.sql": BIG_SQL,
        "marts/finance/summary.yml": FINANCE,
        "seeds/orders.csv": ORDERS,
    }
    return {k: v.encode() for k, v in files.items()}


# -- mutations: (files, rng) -> files ----------------------------------------------------------------
def invalid_utf8(files, rng):
    path = rng.choice(sorted(files))
    data = files[path]
    at = rng.randrange(len(data) + 1)
    bad = rng.choice([b"\xff", b"\xfe\xfe", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80\x80"])
    return {**files, path: data[:at] + bad + data[at:]}


def alias_bomb(files, rng):
    width, depth = rng.choice([(9, 6), (10, 6), (5, 9), (6, 8), (9, 9), (4, 10), (20, 5)])
    lines = [f"  b0: &b0 [{', '.join(['lol'] * width)}]"]
    lines += [f"  b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * width)}]" for i in range(1, depth)]
    path, key = rng.choice([("config.yaml", "vars"), ("marts/sales/daily.yml", "meta"), ("marts/sales/big.yml", "meta")])
    block = f"{key}:\n" + "\n".join(lines) + "\n"
    text = files[path].decode()
    if path == "config.yaml":
        text = text.replace("vars:\n  min_amount: 0\n  label: paid\n", "") + block
    else:
        text += block
    return {**files, path: text.encode()}


def deep_sql(files, rng):
    depth = rng.randint(150, 400)  # sqlglot's parser reaches Python's stack limit near 40 parentheses, 90 subqueries
    sql = rng.choice([
        "select " + "(" * depth + "1" + ")" * depth + " as x",
        "select * from " + "(select * from " * depth + "raw.orders" + ")" * depth,
        "select " + "coalesce(" * depth + "1" + ")" * depth + " as x",
        "select 1 as x\n" + "\n".join(["union all select 1"] * rng.randint(1000, 1300)),
    ])
    return _with_sql(files, rng, sql)


def deep_yaml(files, rng):
    depth = rng.randint(900, 3000)
    value = rng.choice(["[" * depth + "]" * depth, "{a: " * depth + "1" + "}" * depth])
    path = rng.choice(YAML_FILES)
    key = "vars" if path == "config.yaml" else "meta"
    return {**files, path: files[path] + f"{key}2:\n  deep: {value}\n".encode()}


def duplicate_key(files, rng):
    path = rng.choice(YAML_FILES)
    lines = files[path].decode().splitlines(keepends=True)
    if rng.random() < 0.5 and path == "marts/sales/daily.yml":  # a nested key: a column twice
        at = lines.index("  ordered_on: {tests: [not_null, unique]}\n")
        lines.insert(at + 1, "  ordered_on: {description: twice}\n")
    else:
        top = [line for line in lines if line[:1].isalpha()]
        lines.append(rng.choice(top).split(":")[0] + ": again\n")
    return {**files, path: "".join(lines).encode()}


def wrong_type(files, rng):
    path = rng.choice(YAML_FILES[:3])
    lines = files[path].decode().splitlines(keepends=True)
    index = rng.choice([i for i, line in enumerate(lines) if line[:1].isalpha() and ":" in line])
    key, _, value = lines[index].partition(":")
    scalar = value.strip() and not value.strip().startswith(("[", "{", "|"))
    replacement = rng.choice(["[1, 2]", "{a: 1}"]) if scalar else rng.choice(["42", "true"])
    end = index + 1
    while end < len(lines) and lines[end].startswith(" "):  # drop the old block value
        end += 1
    lines[index:end] = [f"{key}: {replacement}\n"]
    return {**files, path: "".join(lines).encode()}


def bad_csv_row(files, rng):
    row = rng.choice(["13,2026-01-02\n", "13,2026-01-02,4.00,paid,extra\n", "13,2026-01-02,4.0q,paid\n",
                      '13,"2026-01-02,4.00,paid\n', "13,2026-01-02,4.00,paid\r\n", "\n,,,,,\n", "id,ordered_on,amount,status,id\n"])
    return {**files, "seeds/orders.csv": files["seeds/orders.csv"] + row.encode()}


def bad_header(files, rng):
    header = rng.choice(["id,ordered_on,,status", "id,ordered_on,amount,id", "", "id;ordered_on;amount;status"])
    rest = files["seeds/orders.csv"].split(b"\n", 1)[1]
    return {**files, "seeds/orders.csv": header.encode() + b"\n" + rest}


def not_a_query(files, rng):
    sql = rng.choice([
        "drop table raw.orders", "select 1 as x; drop table raw.orders", "select", "select id,, amount from raw.orders",
        "select * from raw.orders where", "insert into raw.orders values (1)", "select 1 as x from from raw.orders",
        "select :nope as x", "select id from raw.missing", "with a as (select 1) select",
        "select 'unterminated", "select \x00 as x", "}{][)(", "select 1 as x from raw.orders group by",
    ])
    return _with_sql(files, rng, sql)


def hostile_path(files, rng):
    target = rng.choice(["../../../../../../etc/passwd", "/etc/passwd", "../../config.yaml", "missing.sql", "/", "..", "."])
    return {**files, "marts/sales/big.yml": files["marts/sales/big.yml"] + f"sql_file: \"{target}\"\n".encode()}


def hostile_name(files, rng):
    name = rng.choice(['"../../x"', '"x; drop table t"', '"a.b"', '" "', '"a/b"', '"a\\"b"', "''", '"x\\u0000y"', '"Daily"', '"select"', "d" * 70])
    text = files["marts/sales/daily.yml"].decode().replace("name: daily", f"name: {name}", 1)
    return {**files, "marts/sales/daily.yml": text.encode()}


def truncate(files, rng):
    path = rng.choice(sorted(files))
    data = files[path]
    return {**files, path: data[: rng.randrange(len(data))]}


def flip_byte(files, rng):
    path = rng.choice(sorted(files))
    data = bytearray(files[path])
    at = rng.randrange(len(data))
    data[at] = rng.choice(b"{}[]:,'\"|&*!%@` \t\n#-?>")
    return {**files, path: bytes(data)}


def _with_sql(files, rng, sql: str):
    path = rng.choice(SQL_MARTS)
    if path.endswith(".sql"):
        return {**files, path: sql.encode()}
    text = files[path].decode()
    start = text.index("sql: |\n")
    end = text.index("columns:")
    return {**files, path: (text[:start] + "sql: |\n" + "".join(f"  {line}\n" for line in sql.splitlines()) + text[end:]).encode()}


@dataclass(frozen=True)
class Kind:
    mutate: Callable
    count: int
    refused: bool  # every project of this kind must be refused (exit 2); else it may stay valid


KINDS = {
    "invalid_utf8": Kind(invalid_utf8, 45, True),
    "alias_bomb": Kind(alias_bomb, 20, True),
    "deep_sql": Kind(deep_sql, 25, True),
    "deep_yaml": Kind(deep_yaml, 20, True),
    "duplicate_key": Kind(duplicate_key, 35, True),
    "wrong_type": Kind(wrong_type, 35, True),
    "bad_csv_row": Kind(bad_csv_row, 35, True),
    "bad_header": Kind(bad_header, 16, True),
    "not_a_query": Kind(not_a_query, 55, True),
    "hostile_path": Kind(hostile_path, 25, True),
    "hostile_name": Kind(hostile_name, 20, True),  # names must be identifiers on every engine (issue 10 item 2)
    "truncate": Kind(truncate, 25, False),
    "flip_byte": Kind(flip_byte, 25, False),
}


def generate(root: Path, seed: int, warehouse: Path) -> dict[str, bool]:
    """Write every case under `root`; return case name -> must be refused."""
    rng = random.Random(seed)
    base = base_files(warehouse)
    cases = {}
    for kind_name, kind in KINDS.items():
        for n in range(kind.count):
            name = f"{kind_name}-{n:03d}"
            write_files(root / name, kind.mutate(dict(base), rng))
            cases[name] = kind.refused
    return cases


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# -- the worker --------------------------------------------------------------------------------------
def fingerprint(path: Path) -> str | None:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest() if path.exists() else None


def run_case(folder: Path, warehouse: Path) -> dict:
    from tests.test_validate import cli

    before = fingerprint(warehouse)
    v_code, v_out = cli("validate", "--project-dir", str(folder))
    b_code, b_out = cli("build", "--project-dir", str(folder))
    return {"validate": int(v_code), "build": int(b_code), "validate_out": v_out[-2000:], "build_out": b_out[-2000:],
            "untouched": fingerprint(warehouse) == before}


def main(argv: list[str]) -> None:
    cases, warehouse = Path(argv[0]), Path(argv[1])
    for folder in sorted(p for p in cases.iterdir() if p.is_dir()):
        print(json.dumps({"start": folder.name}), flush=True)
        print(json.dumps({"case": folder.name, **run_case(folder, warehouse)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
