"""Write the demo's seeds/*.csv: deterministic (fixed random seed), a few thousand rows.

    python scripts/make_seeds.py [OUT_DIR]
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

START = date(2026, 1, 1)
DAYS = 120
COUNTRIES = ["FR", "DE", "US", "GB", "ES", "IT", "NL"]
CHANNELS = ["search", "social", "display", "email", "affiliate"]
FIRST = ["Ada", "Bob", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lea", "Max", "Nia", "Oto", "Pia"]
LAST = ["Martin", "Schmidt", "Smith", "Garcia", "Rossi", "Jansen", "Dupont", "Lee", "Khan", "Novak"]


def write(path: Path, header: list[str], rows) -> int:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def main(out: Path) -> None:
    rng = random.Random(20261125)
    out.mkdir(parents=True, exist_ok=True)
    campaigns = []
    for cid in range(1, 25):
        channel = CHANNELS[cid % len(CHANNELS)]
        start = START + timedelta(days=rng.randrange(0, 60))
        end = start + timedelta(days=rng.randrange(20, 60))
        campaigns.append((cid, f"{channel.title()} push {cid:02d}", channel, start.isoformat(), end.isoformat(), rng.choice([500, 1000, 2000, 5000])))
    write(out / "campaigns.csv", ["campaign_id", "name", "channel", "start_date", "end_date", "budget"], campaigns)

    spend_rows = []
    for cid, _, channel, start, end, budget in campaigns:
        day = date.fromisoformat(start)
        while day <= date.fromisoformat(end):
            impressions = rng.randrange(800, 20000)
            clicks = int(impressions * rng.uniform(0.005, 0.06))
            spend = round(clicks * rng.uniform(0.2, 1.8), 2)
            spend_rows.append((cid, day.isoformat(), impressions, clicks, spend))
            day += timedelta(days=1)
    write(out / "ad_spend.csv", ["campaign_id", "day", "impressions", "clicks", "spend"], spend_rows)

    customers = []
    for cust in range(1, 601):
        signed = START + timedelta(days=rng.randrange(0, DAYS))
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        email = f"{name.lower().replace(' ', '.')}{cust}@example.com"
        customers.append((cust, name, email, rng.choice(COUNTRIES), signed.isoformat()))
    write(out / "customers.csv", ["customer_id", "name", "email", "country", "signed_up_at"], customers)

    sessions = []
    orders = []
    order_id = 1000
    for sid in range(1, 4501):
        cust = rng.randrange(1, 601) if rng.random() < 0.7 else ""
        campaign = rng.choice(campaigns)
        day = date.fromisoformat(campaign[3]) + timedelta(days=rng.randrange(0, 20))
        started = datetime(day.year, day.month, day.day, rng.randrange(0, 24), rng.randrange(0, 60))
        converted = bool(cust) and rng.random() < 0.25
        sessions.append((sid, cust, campaign[0], campaign[2], started.isoformat(sep=" "), rng.randrange(1, 30), str(converted).lower()))
        if converted:
            order_id += 1
            amount = round(rng.lognormvariate(3.6, 0.7), 2)
            status = rng.choices(["completed", "refunded", "cancelled"], [90, 6, 4])[0]
            orders.append((order_id, cust, sid, (started + timedelta(minutes=rng.randrange(1, 50))).isoformat(sep=" "), amount, status))
    for _ in range(900):  # organic orders with no session
        order_id += 1
        cust = rng.randrange(1, 601)
        day = datetime(START.year, START.month, START.day) + timedelta(days=rng.randrange(0, DAYS), minutes=rng.randrange(0, 1440))
        status = rng.choices(["completed", "refunded", "cancelled"], [90, 6, 4])[0]
        orders.append((order_id, cust, "", day.isoformat(sep=" "), round(rng.lognormvariate(3.4, 0.8), 2), status))
    orders.sort(key=lambda r: r[3])
    write(out / "sessions.csv", ["session_id", "customer_id", "campaign_id", "channel", "started_at", "pageviews", "converted"], sessions)
    write(out / "orders.csv", ["order_id", "customer_id", "session_id", "ordered_at", "amount", "status"], orders)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "seeds")
