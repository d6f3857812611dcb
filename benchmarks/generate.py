"""Generate a martctl project of N marts: a layered DAG of realistic DuckDB SQL over tiny seeds.

    from benchmarks.generate import generate_project
    root = generate_project(Path("/tmp/p1000"), 1000)

Every mart outputs the same columns (customer_id, day, amount, n), unique per (customer_id, day),
so any mart can read any earlier one and every mart builds. Shapes: aggregates, joins, windows,
CTEs; some marts keep their SQL in a sibling .sql file, some carry column tests.
Run as a script: `python benchmarks/generate.py DIR N [SEED]`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

CONFIG = """\
name: bench_{n}
dialect: duckdb
default_target: local
targets:
  local: {{type: duckdb, path: warehouse.duckdb, threads: 4}}
sources:
  raw: {{tables: [customers, orders, sessions]}}
seeds:
  schema: raw
  column_types:
    orders: {{amount: "decimal(12,2)"}}
vars:
  min_amount: 0
"""

SEEDS = {
    "customers.csv": "customer_id,name,country,signed_up_at\n"
    "1,Ada,FR,2026-01-05\n2,Bob,DE,2026-01-11\n3,Chen,FR,2026-02-20\n4,Dana,NL,2026-03-02\n",
    "orders.csv": "order_id,customer_id,ordered_at,amount,status\n"
    "10,1,2026-03-01 10:00:00,120.50,completed\n11,1,2026-03-02 09:30:00,35.00,completed\n"
    "12,2,2026-03-01 12:00:00,80.00,cancelled\n13,3,2026-03-03 08:15:00,12.25,completed\n"
    "14,4,2026-03-03 18:45:00,64.10,completed\n",
    "sessions.csv": "session_id,customer_id,started_at,pageviews,converted\n"
    "1,1,2026-03-01 09:55:00,7,true\n2,2,2026-03-01 11:40:00,3,false\n"
    "3,3,2026-03-03 08:00:00,5,true\n4,1,2026-03-02 09:00:00,2,false\n",
}

# layer 0: read sources; output (customer_id, day, amount, n), unique per (customer_id, day)
ROOTS = [
    """\
select customer_id, cast(ordered_at as date) as day,
       sum(amount) as amount, count(*) as n
from raw.orders
where status = 'completed' and amount > :min_amount
group by customer_id, cast(ordered_at as date)""",
    """\
with daily as (
    select customer_id, cast(started_at as date) as day, pageviews, converted
    from raw.sessions
)
select customer_id, day,
       sum(pageviews) * 1.0 as amount,
       count(*) filter (where converted) as n
from daily
group by all""",
    """\
select o.customer_id, cast(o.ordered_at as date) as day,
       sum(case when c.country = 'FR' then o.amount else o.amount / 2 end) as amount,
       count(distinct o.order_id) as n
from raw.orders o
join raw.customers c on c.customer_id = o.customer_id
group by 1, 2""",
]

# later layers: {a} and {b} are earlier marts (area.name)
ONE_INPUT = [
    """\
with base as (
    select customer_id, day, amount, n
    from {a}
    where amount >= 0
)
select customer_id, day, round(sum(amount) / nullif(sum(n), 0), 2) as amount, sum(n) as n
from base
group by customer_id, day""",
    """\
select customer_id, day,
       sum(amount) over (partition by customer_id order by day
                         rows between unbounded preceding and current row) as amount,
       row_number() over (partition by customer_id order by day) as n
from {a}""",
    """\
with customers as (
    select customer_id, country from raw.customers
),
enriched as (
    select x.customer_id, x.day, x.amount, x.n, c.country
    from {a} x
    join customers c on c.customer_id = x.customer_id
)
select customer_id, day,
       max(amount) filter (where country <> 'XX') as amount,
       sum(n) as n
from enriched
group by customer_id, day""",
    """\
select customer_id, day, amount * 1.1 as amount,
       n + lag(n, 1, 0) over (partition by customer_id order by day) as n
from (
    select customer_id, day, amount, n from {a} where n is not null
) t""",
]

TWO_INPUTS = [
    """\
select a.customer_id, a.day,
       a.amount + coalesce(b.amount, 0) as amount,
       a.n + coalesce(b.n, 0) as n
from {a} a
left join {b} b on b.customer_id = a.customer_id and b.day = a.day""",
    """\
with unioned as (
    select customer_id, day, amount, n from {a}
    union all
    select customer_id, day, amount, n from {b}
)
select customer_id, day, sum(amount) as amount, count(*) as n
from unioned
group by customer_id, day""",
    """\
with ranked as (
    select a.customer_id, a.day, greatest(a.amount, b.amount) as amount, a.n,
           rank() over (partition by a.customer_id order by a.amount desc) as rnk
    from {a} a
    join {b} b using (customer_id, day)
)
select customer_id, day, amount, n + rnk as n
from ranked""",
]

TESTS = """\
columns:
  customer_id: {description: Customer key, tests: [not_null]}
  amount: {description: A money-like measure}
tests:
  - unique: [customer_id, day]
"""


def _indent(sql: str) -> str:
    return "".join("  " + line + "\n" for line in sql.splitlines())


def _layers(n_marts: int) -> list[int]:
    """The layer of each mart: about a tenth of the marts are roots, up to 12 layers."""
    depth = max(2, min(12, n_marts // 10 or 1))
    return [min(depth - 1, i * depth // n_marts) for i in range(n_marts)]


def seed_rows(rows: int, seed: int = 0) -> dict[str, str]:
    """Seed CSVs of `rows` orders and `rows` sessions over rows // 10 customers (30 days of March 2026)."""
    rng = random.Random(seed)
    customers = max(4, rows // 10)
    countries = ["FR", "DE", "NL", "ES", "IT"]
    out = {"customers.csv": "customer_id,name,country,signed_up_at\n" + "".join(
        f"{c},name_{c},{countries[c % 5]},2026-01-{1 + c % 28:02d}\n" for c in range(1, customers + 1))}
    out["orders.csv"] = "order_id,customer_id,ordered_at,amount,status\n" + "".join(
        f"{i},{rng.randint(1, customers)},2026-03-{rng.randint(1, 30):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00,"
        f"{rng.randint(100, 50000) / 100:.2f},{'cancelled' if rng.random() < 0.1 else 'completed'}\n" for i in range(1, rows + 1))
    out["sessions.csv"] = "session_id,customer_id,started_at,pageviews,converted\n" + "".join(
        f"{i},{rng.randint(1, customers)},2026-03-{rng.randint(1, 30):02d} {rng.randint(0, 23):02d}:00:00,"
        f"{rng.randint(1, 20)},{'true' if rng.random() < 0.3 else 'false'}\n" for i in range(1, rows + 1))
    return out


def generate_project(root: Path, n_marts: int, seed: int = 0, rows: int | None = None) -> Path:
    """Write a project of `n_marts` valid, buildable DuckDB marts under `root`; return `root`.
    `rows`: seeds of that many orders and sessions instead of the tiny hand-written ones."""
    rng = random.Random(seed)
    root = Path(root)
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(CONFIG.format(n=n_marts), encoding="utf-8")
    for name, text in (seed_rows(rows, seed) if rows else SEEDS).items():
        (root / "seeds" / name).write_text(text, encoding="utf-8")
    n_areas = max(1, n_marts // 50)
    layer_of = _layers(n_marts)
    by_layer: dict[int, list[str]] = {}
    for i in range(n_marts):
        layer = layer_of[i]
        area = f"area_{i % n_areas:02d}"
        name = f"mart_{i:05d}"
        earlier = [k for lv in range(layer) for k in by_layer.get(lv, [])]
        recent = by_layer.get(layer - 1, earlier)
        if layer == 0:
            sql = rng.choice(ROOTS)
        elif len(earlier) > 1 and rng.random() < 0.4:
            a = rng.choice(recent)
            b = rng.choice([k for k in earlier if k != a])
            sql = rng.choice(TWO_INPUTS).format(a=a, b=b)
        else:
            sql = rng.choice(ONE_INPUT).format(a=rng.choice(recent))
        by_layer.setdefault(layer, []).append(f"{area}.{name}")
        folder = root / "marts" / area
        folder.mkdir(parents=True, exist_ok=True)
        head = (
            f"description: Generated mart {i} (layer {layer}).\n"
            f"owner: team_{i % 7}\n"
            f"materialized: {'view' if i % 3 == 0 else 'table'}\n"
            f"tags: [layer_{layer}{', daily' if i % 2 else ''}]\n"
        )
        if i % 5 == 4:  # the SQL in a sibling file
            (folder / f"{name}.sql").write_text(sql + "\n", encoding="utf-8")
            body = head
        else:
            body = head + "sql: |\n" + _indent(sql)
        if i % 4 == 0:
            body += TESTS
        (folder / f"{name}.yml").write_text(body, encoding="utf-8")
    return root


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python benchmarks/generate.py DIR N [SEED]")
    out = generate_project(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    print(out)
