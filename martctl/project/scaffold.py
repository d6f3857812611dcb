"""`martctl init`: a new project that validates and builds at once."""

from __future__ import annotations

from pathlib import Path

from martctl.errors import ProjectError

FILES = {
    "config.yaml": """\
name: {name}
dialect: duckdb                  # the dialect the marts are written in
default_target: local
targets:
  local: {{type: duckdb, path: warehouse.duckdb, threads: 4}}
  # pg: {{type: postgres, dsn: "${{MARTCTL_PG_DSN}}"}}
sources:
  raw: {{tables: [customers, orders]}}   # seeds/*.csv load into schema raw
vars:
  min_amount: 0
""",
    "seeds/customers.csv": "customer_id,name,country,signed_up\n1,Ada,FR,2024-01-05\n2,Bob,DE,2024-02-11\n3,Chen,FR,2024-03-20\n",
    "seeds/orders.csv": "order_id,customer_id,amount,ordered_at\n10,1,120.50,2024-04-01\n11,1,35.00,2024-04-09\n12,2,80.00,2024-04-12\n13,3,12.25,2024-05-02\n",
    "marts/sales/customer_revenue.yml": """\
description: Revenue and order count per customer.
owner: sales
materialized: table
tags: [daily]
sql: |
  select c.customer_id, c.name, c.country,
         count(o.order_id) as orders,
         coalesce(sum(o.amount), 0) as revenue
  from raw.customers c
  left join raw.orders o on o.customer_id = c.customer_id and o.amount > :min_amount
  group by all
columns:
  customer_id: {{description: Customer key, tests: [not_null, unique]}}
  revenue: {{tests: [{{expression: "revenue >= 0"}}]}}
""",
    "marts/sales/revenue_by_country.yml": """\
description: Revenue per country, built on customer_revenue.
owner: sales
materialized: view
sql: |
  select country, sum(revenue) as revenue, sum(orders) as orders
  from sales.customer_revenue
  group by country
tests:
  - unique: [country]
""",
    ".gitignore": "target/\n*.duckdb\n*.duckdb.wal\n*.martctl.lock\n",
}


def init_project(directory: Path, name: str | None = None) -> list[Path]:
    if (directory / "config.yaml").exists():
        raise ProjectError(f"{directory / 'config.yaml'} already exists", hint="choose an empty folder")
    name = name or directory.resolve().name.replace("-", "_") or "project"
    written = []
    for relative, text in FILES.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=name), encoding="utf-8")
        written.append(path)
    return written
