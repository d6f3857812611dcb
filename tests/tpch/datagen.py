"""A small seeded generator of TPC-H-shaped data (the 8 tables), for building the TPC-H queries offline.

DuckDB's `tpch` extension is not bundled in the wheel and cannot be downloaded here, so this follows
the TPC-H specification's rules (clause 4.2.3: key ranges, the word lists, dates and the price and
status formulas) with Python's seeded `random`. Not the official dbgen: the values differ, the shape
does not. Three deliberate changes make every one of the 22 queries return rows at a tiny scale:
the suppliers are spread evenly over the 25 nations, a few orders carry seven large lines (Q18's
`sum(l_quantity) > 300`), and a few comments carry the phrases Q13 and Q16 filter on.

`write_tables(directory, scale)` writes one `<table>.csv` per table ('|'-separated, no header);
`TABLES` gives each table's columns and types (valid DDL on DuckDB and Postgres alike).
"""

from __future__ import annotations

import datetime
import random
from pathlib import Path

TABLES: dict[str, list[tuple[str, str]]] = {
    "region": [("r_regionkey", "INTEGER"), ("r_name", "VARCHAR"), ("r_comment", "VARCHAR")],
    "nation": [("n_nationkey", "INTEGER"), ("n_name", "VARCHAR"), ("n_regionkey", "INTEGER"), ("n_comment", "VARCHAR")],
    "part": [("p_partkey", "INTEGER"), ("p_name", "VARCHAR"), ("p_mfgr", "VARCHAR"), ("p_brand", "VARCHAR"),
             ("p_type", "VARCHAR"), ("p_size", "INTEGER"), ("p_container", "VARCHAR"),
             ("p_retailprice", "DECIMAL(15,2)"), ("p_comment", "VARCHAR")],
    "supplier": [("s_suppkey", "INTEGER"), ("s_name", "VARCHAR"), ("s_address", "VARCHAR"), ("s_nationkey", "INTEGER"),
                 ("s_phone", "VARCHAR"), ("s_acctbal", "DECIMAL(15,2)"), ("s_comment", "VARCHAR")],
    "partsupp": [("ps_partkey", "INTEGER"), ("ps_suppkey", "INTEGER"), ("ps_availqty", "INTEGER"),
                 ("ps_supplycost", "DECIMAL(15,2)"), ("ps_comment", "VARCHAR")],
    "customer": [("c_custkey", "INTEGER"), ("c_name", "VARCHAR"), ("c_address", "VARCHAR"), ("c_nationkey", "INTEGER"),
                 ("c_phone", "VARCHAR"), ("c_acctbal", "DECIMAL(15,2)"), ("c_mktsegment", "VARCHAR"), ("c_comment", "VARCHAR")],
    "orders": [("o_orderkey", "INTEGER"), ("o_custkey", "INTEGER"), ("o_orderstatus", "VARCHAR"),
               ("o_totalprice", "DECIMAL(15,2)"), ("o_orderdate", "DATE"), ("o_orderpriority", "VARCHAR"),
               ("o_clerk", "VARCHAR"), ("o_shippriority", "INTEGER"), ("o_comment", "VARCHAR")],
    "lineitem": [("l_orderkey", "INTEGER"), ("l_partkey", "INTEGER"), ("l_suppkey", "INTEGER"), ("l_linenumber", "INTEGER"),
                 ("l_quantity", "DECIMAL(15,2)"), ("l_extendedprice", "DECIMAL(15,2)"), ("l_discount", "DECIMAL(15,2)"),
                 ("l_tax", "DECIMAL(15,2)"), ("l_returnflag", "VARCHAR"), ("l_linestatus", "VARCHAR"),
                 ("l_shipdate", "DATE"), ("l_commitdate", "DATE"), ("l_receiptdate", "DATE"),
                 ("l_shipinstruct", "VARCHAR"), ("l_shipmode", "VARCHAR"), ("l_comment", "VARCHAR")],
}

REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
NATIONS = [  # (name, region key), in the specification's order: the nation key is the index
    ("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4), ("ETHIOPIA", 0), ("FRANCE", 3),
    ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2), ("IRAN", 4), ("IRAQ", 4), ("JAPAN", 2), ("JORDAN", 4),
    ("KENYA", 0), ("MOROCCO", 0), ("MOZAMBIQUE", 0), ("PERU", 1), ("CHINA", 2), ("ROMANIA", 3), ("SAUDI ARABIA", 4),
    ("VIETNAM", 2), ("RUSSIA", 3), ("UNITED KINGDOM", 3), ("UNITED STATES", 1),
]
COLORS = (
    "almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood burnished chartreuse "
    "chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim dodger drab firebrick floral forest frosted "
    "gainsboro ghost goldenrod green grey honeydew hot indian ivory khaki lace lavender lawn lemon light lime linen "
    "magenta maroon medium metallic midnight mint misty moccasin navajo navy olive orange orchid pale papaya peach "
    "peru pink plum powder puff purple red rose rosy royal saddle salmon sandy seashell sienna sky slate smoke snow "
    "spring steel tan thistle tomato turquoise violet wheat white yellow"
).split()
TYPE_WORDS = (["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"],
              ["ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"],
              ["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"])
CONTAINERS = (["SM", "LG", "MED", "JUMBO", "WRAP"], ["CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"])
SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"]
PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
INSTRUCTIONS = ["DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"]
MODES = ["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"]
WORDS = ("furiously quickly carefully blithely slyly ironic final regular express pending bold even special "
         "silent unusual deposits requests accounts packages theodolites instructions foxes pinto beans "
         "asymptotes dependencies ideas sleep wake haggle nag cajole detect integrate boost").split()

START = datetime.date(1992, 1, 1)
CURRENT = datetime.date(1995, 6, 17)  # the specification's CURRENTDATE: decides line status and return flags
LAST_ORDER = datetime.date(1998, 12, 31) - datetime.timedelta(days=151)


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _text(rng: random.Random, words: int, phrase: str = "") -> str:
    chosen = [rng.choice(WORDS) for _ in range(words)]
    if phrase:
        chosen.insert(rng.randrange(len(chosen) + 1), phrase)
    return " ".join(chosen)


def _phone(rng: random.Random, nation: int) -> str:
    return f"{nation + 10}-{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"


def _retail_cents(partkey: int) -> int:
    return 90000 + (partkey // 10) % 20001 + 100 * (partkey % 1000)


def generate(scale: float = 0.01, seed: int = 20260101) -> dict[str, list[tuple]]:
    """The 8 tables' rows at `scale` (1 = the specification's SF 1; 0.01 = 2,000 parts, 15,000 orders)."""
    rng = random.Random(seed)
    n_part, n_supp, n_cust, n_orders = (max(int(base * scale), least) for base, least in
                                        ((200_000, 200), (10_000, 20), (150_000, 150), (1_500_000, 1_500)))
    tables: dict[str, list[tuple]] = {name: [] for name in TABLES}
    tables["region"] = [(i, name, _text(rng, 6)) for i, name in enumerate(REGIONS)]
    tables["nation"] = [(i, name, region, _text(rng, 8)) for i, (name, region) in enumerate(NATIONS)]
    for key in range(1, n_part + 1):
        m = rng.randint(1, 5)
        kind = " ".join(rng.choice(words) for words in TYPE_WORDS)
        container = " ".join(rng.choice(words) for words in CONTAINERS)
        tables["part"].append((key, " ".join(rng.sample(COLORS, 5)), f"Manufacturer#{m}", f"Brand#{m}{rng.randint(1, 5)}",
                               kind, rng.randint(1, 50), container, _money(_retail_cents(key)), _text(rng, 3)))
    nations = [i % len(NATIONS) for i in range(n_supp)]  # every nation has suppliers, even at a tiny scale
    rng.shuffle(nations)
    for key, nation in enumerate(nations, 1):
        phrase = "Customer Complaints" if key % 7 == 3 else ("Customer Recommends" if key % 7 == 5 else "")
        tables["supplier"].append((key, f"Supplier#{key:09d}", _text(rng, 2), nation, _phone(rng, nation),
                                   _money(rng.randint(-99999, 999999)), _text(rng, 6, phrase)))
    suppliers_of: dict[int, list[int]] = {}
    for part in range(1, n_part + 1):
        suppliers_of[part] = [(part + i * (n_supp // 4 + (part - 1) // n_supp)) % n_supp + 1 for i in range(4)]
        for supp in suppliers_of[part]:
            tables["partsupp"].append((part, supp, rng.randint(1, 9999), _money(rng.randint(100, 100000)), _text(rng, 8)))
    for key in range(1, n_cust + 1):
        nation = rng.randrange(len(NATIONS))
        tables["customer"].append((key, f"Customer#{key:09d}", _text(rng, 2), nation, _phone(rng, nation),
                                   _money(rng.randint(-99999, 999999)), rng.choice(SEGMENTS), _text(rng, 6)))
    span = (LAST_ORDER - START).days
    for key in range(1, n_orders + 1):
        _order(rng, tables, key, n_part, n_cust, suppliers_of, START + datetime.timedelta(days=rng.randint(0, span)),
               big=key % 500 == 250)
    return tables


def _order(rng, tables, key, n_part, n_cust, suppliers_of, ordered: datetime.date, big: bool) -> None:
    """One order and its 1 to 7 lines (7 lines of 45 to 50 items when `big`); a third of the customers never order."""
    customer = rng.randint(1, n_cust)
    while customer % 3 == 0:
        customer = rng.randint(1, n_cust)
    total, statuses = 0, set()
    for number in range(1, (7 if big else rng.randint(1, 7)) + 1):
        part = rng.randint(1, n_part)
        quantity = rng.randint(45, 50) if big else rng.randint(1, 50)
        price = quantity * _retail_cents(part)
        discount, tax = rng.randint(0, 10), rng.randint(0, 8)
        shipped = ordered + datetime.timedelta(days=rng.randint(1, 121))
        committed = ordered + datetime.timedelta(days=rng.randint(30, 90))
        received = shipped + datetime.timedelta(days=rng.randint(1, 30))
        status = "O" if shipped > CURRENT else "F"
        flag = rng.choice("RA") if received <= CURRENT else "N"
        statuses.add(status)
        total += price * (100 + tax) * (100 - discount) // 10000
        tables["lineitem"].append((
            key, part, rng.choice(suppliers_of[part]), number, f"{quantity}.00", _money(price), _money(discount),
            _money(tax), flag, status, shipped, committed, received, rng.choice(INSTRUCTIONS), rng.choice(MODES),
            _text(rng, 4),
        ))
    order_status = statuses.pop() if len(statuses) == 1 else "P"
    phrase = "special packages requests" if key % 11 == 0 else ""
    tables["orders"].append((key, customer, order_status, _money(total), ordered, rng.choice(PRIORITIES),
                             f"Clerk#{rng.randint(1, 1000):09d}", 0, _text(rng, 5, phrase)))


def write_tables(directory: Path, scale: float = 0.01, seed: int = 20260101) -> dict[str, Path]:
    """One '|'-separated `<table>.csv` (no header) per table in `directory`; returns table -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, rows in generate(scale, seed).items():
        path = directory / f"{name}.csv"
        path.write_text("".join("|".join(str(v) for v in row) + "\n" for row in rows), encoding="utf-8")
        paths[name] = path
    return paths


def create_statements(schema: str) -> list[str]:
    """`CREATE TABLE` for each table in `schema` (the same text runs on DuckDB and Postgres)."""
    return [f"CREATE TABLE {schema}.{name} ({', '.join(f'{c} {t}' for c, t in columns)})"
            for name, columns in TABLES.items()]
