"""Benchmark kamlab.service at the large demo size: OTIF over every order line, and friends.

Run by hand (once; the machine is shared):  PYTHONPATH=. python benchmarks/service.py
Wall time suffers on a shared machine; the CPU-seconds column (user + system) is steadier.
Options: --lines N (default 3,000,000 when the demo generator is absent), --keep DIR.

Data: ``kamlab.data.demo.generate(customers=2000, materials=2000, months=60)`` when it exists,
otherwise a seeded synthetic generator of the same shape below. Each step runs in a fresh
subprocess that reads the tables from Parquet, so its peak RSS is its own (ru_maxrss), reported
both in total and above the memory the loaded tables already took.

Peer figure: the same per-line OTIF computed by DuckDB SQL straight from the definitions
(DOMAIN.md), timed the same way; the two must agree on every count.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

AS_OF = "2025-12-31"
MONTHS = 60
CUSTOMERS = 2000
MATERIALS = 2000


def _synthetic(lines: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Orders, deliveries, customers, materials, budget shaped like the contract (seeded)."""
    rng = np.random.default_rng(seed)
    cust = pd.Index([f"C{i:04d}" for i in range(CUSTOMERS)], dtype="string")
    mats = pd.Index([f"M{i:04d}" for i in range(MATERIALS)], dtype="string")
    customers = pd.DataFrame(
        {
            "customer_id": cust,
            "currency": np.where(rng.random(CUSTOMERS) < 0.8, "EUR", "USD"),
            "otif_target": rng.choice([0.9, 0.95, 0.98, np.nan], CUSTOMERS, p=[0.4, 0.4, 0.1, 0.1]),
        }
    )
    materials = pd.DataFrame(
        {"material_id": mats, "product_family": [f"F{i % 20:02d}" for i in range(MATERIALS)]}
    )
    start = pd.Timestamp("2021-01-01")
    c = rng.integers(0, CUSTOMERS, lines)
    m = rng.integers(0, MATERIALS, lines)
    requested = start + pd.to_timedelta(rng.integers(0, MONTHS * 30 + 45, lines), unit="D")
    confirmed = requested + pd.to_timedelta(rng.integers(-2, 6, lines), unit="D")
    quantity = rng.integers(1, 200, lines).astype("float64")
    price = 5.0 + (m % 97)
    status = np.where(rng.random(lines) < 0.03, "cancelled", "delivered")
    as_of = pd.Timestamp(AS_OF)
    status = np.where(
        (status == "delivered") & (requested > as_of - pd.Timedelta(days=20)), "open", status
    )
    orders = pd.DataFrame(
        {
            "order_id": pd.array(
                np.char.add("O", (np.arange(lines) // 4).astype(str)), dtype="string"
            ),
            "line": (np.arange(lines) % 4 + 1) * 10,
            "customer_id": cust[c],
            "material_id": mats[m],
            "order_date": requested - pd.to_timedelta(rng.integers(5, 60, lines), unit="D"),
            "requested_date": requested,
            "confirmed_date": confirmed.where(rng.random(lines) > 0.1),
            "quantity": quantity,
            "net_value": quantity * price,
            "currency": customers["currency"].to_numpy()[c],
            "status": status,
        }
    )
    shipped = status != "cancelled"
    parts = np.where(shipped, rng.choice([0, 1, 2, 3], lines, p=[0.03, 0.8, 0.14, 0.03]), 0)
    idx = np.repeat(np.arange(lines), parts)
    share = np.where(parts[idx] == 1, 1.0, rng.uniform(0.2, 0.7, len(idx)))
    delivered_quantity = np.round(quantity[idx] * share)  # splits may fall short or over
    delay = np.rint(rng.normal(-3.0, 2.5, len(idx))).astype("int64")
    deliveries = pd.DataFrame(
        {
            "delivery_id": pd.array(
                np.char.add("D", np.arange(len(idx)).astype(str)), dtype="string"
            ),
            "order_id": orders["order_id"].to_numpy()[idx],
            "line": orders["line"].to_numpy()[idx],
            "delivered_date": requested[idx] + pd.to_timedelta(delay, unit="D"),
            "delivered_quantity": delivered_quantity,
            "air_freight": rng.random(len(idx)) < 0.02,
            "freight_cost": rng.uniform(20, 400, len(idx)),
        }
    )
    periods = pd.period_range("2021-01", periods=MONTHS, freq="M")
    budget = (
        orders.assign(period=orders["requested_date"].dt.to_period("M"))
        .groupby(["customer_id", "period", "currency"], as_index=False)[["quantity", "net_value"]]
        .sum()
        .rename(columns={"quantity": "planned_quantity", "net_value": "planned_revenue"})
        .assign(product_family=None)
    )
    budget = budget[budget["period"].isin(periods)]
    return {
        "customers": customers,
        "materials": materials,
        "orders": orders,
        "deliveries": deliveries,
        "budget": budget,
    }


def _make_data(lines: int) -> tuple[dict[str, pd.DataFrame], str]:
    try:
        from kamlab.data.demo import generate  # lands with the demo helper's branch
    except ImportError:
        return _synthetic(lines), f"synthetic generator (kamlab.data.demo absent), {lines:,} lines"
    return (
        generate(customers=CUSTOMERS, materials=MATERIALS, months=MONTHS),
        "kamlab.data.demo.generate(customers=2000, materials=2000, months=60)",
    )


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _step(name: str, data: Path) -> dict:
    """Run one measured step in this (fresh) process; return its figures."""
    import duckdb

    import kamlab.service  # noqa: F401

    tables = {p.stem: pd.read_parquet(p) for p in data.glob("*.parquet")}
    if "budget" in tables:
        tables["budget"]["period"] = pd.PeriodIndex(tables["budget"]["period"], freq="M")
    loaded = _maxrss_mb()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    result: dict = {}
    if name == "otif":
        from kamlab.service import delivery_performance, otif, sla_adherence

        lines = delivery_performance(tables["orders"], tables["deliveries"], as_of=AS_OF)
        by_customer = otif(lines)
        by_month = otif(lines, by=("customer_id", "period"))
        sla = sla_adherence(by_customer, tables["customers"])
        result = {
            "lines_due": int(by_customer["lines_due"].sum()),
            "lines_otif": int(by_customer["lines_otif"].sum()),
            "lines_on_time": int(by_customer["lines_on_time"].sum()),
            "groups": f"{len(by_customer)} customers, {len(by_month)} customer-months",
            "sla_met": int((sla["status"] == "met").sum()),
        }
    elif name == "duckdb_otif":
        import duckdb

        con = duckdb.connect()
        con.register("orders", tables["orders"])
        con.register("deliveries", tables["deliveries"])
        row = con.execute(
            f"""
            with due as (
              select order_id, line, quantity, requested_date as due_date
              from orders
              where status <> 'cancelled' and order_date <= date '{AS_OF}'
                and requested_date <= date '{AS_OF}' and quantity > 0
            ), got as (
              select d.order_id, d.line,
                     sum(case when d.delivered_date <= u.due_date
                              then d.delivered_quantity else 0 end) as q_window
              from deliveries d join due u using (order_id, line)
              where d.delivered_date <= date '{AS_OF}'
              group by all
            )
            select count(*) as lines_due,
                   count(*) filter (where coalesce(q_window, 0) >= quantity) as lines_otif,
                   count(*) filter (where coalesce(q_window, 0) > 0) as lines_on_time
            from due left join got using (order_id, line)
            """
        ).fetchone()
        result = {"lines_due": row[0], "lines_otif": row[1], "lines_on_time": row[2]}
    elif name == "plan":
        from kamlab.service import plan_vs_actual, price_volume_mix

        pva = plan_vs_actual(tables["orders"], tables["budget"], month="2025-06")
        pvm = price_volume_mix(tables["orders"], month="2025-06", window="ytd")
        gap = (pvm[["volume_effect", "mix_effect", "price_effect", "new_effect", "lost_effect"]]
               .sum(axis=1) - pvm["revenue_change"]).abs().max()  # fmt: skip
        result = {"groups": f"{len(pva)} plan rows, {len(pvm)} PVM rows", "pvm_max_gap": float(gap)}
    elif name == "quality_freight":
        from kamlab.service import air_freight

        af = air_freight(tables["deliveries"], tables["orders"], as_of=AS_OF, start="2025-01-01")
        result = {"groups": f"{len(af)} air-freight rows"}
    result["seconds"] = time.perf_counter() - t0
    result["cpu_seconds"] = _cpu_seconds() - cpu0
    result["peak_rss_mb"] = _maxrss_mb()
    result["above_load_mb"] = result["peak_rss_mb"] - loaded
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=3_000_000)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.data)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        data = args.keep or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        tables, source = _make_data(args.lines)
        for name, frame in tables.items():
            frame.to_parquet(data / f"{name}.parquet")
        n_orders, n_deliveries = len(tables["orders"]), len(tables["deliveries"])
        del tables
        print(f"data: {source}; {n_orders:,} order lines, {n_deliveries:,} delivery lines "
              f"(generated in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
        figures = {}
        for step in ("otif", "duckdb_otif", "plan", "quality_freight"):
            out = subprocess.run(
                [sys.executable, __file__, "--step", step, "--data", str(data)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            figures[step] = json.loads(out.stdout.strip().splitlines()[-1])

    ours, peer = figures["otif"], figures["duckdb_otif"]
    print()
    print(f"{'step':<44}{'wall s':>9}{'CPU s':>8}{'peak MB':>10}{'above load':>12}")
    rows = [
        ("OTIF: delivery_performance + otif x2 + SLA", ours),
        ("peer: DuckDB SQL per-line OTIF (requested)", peer),
        ("plan_vs_actual + price_volume_mix (YTD)", figures["plan"]),
        ("air_freight (2025)", figures["quality_freight"]),
    ]
    for label, f in rows:
        print(
            f"{label:<44}{f['seconds']:>9.1f}{f['cpu_seconds']:>8.1f}"
            f"{f['peak_rss_mb']:>10.0f}{f['above_load_mb']:>12.0f}"
        )
    print()
    print(f"{'count':<16}{'kamlab':>14}{'DuckDB peer':>14}")
    for key in ("lines_due", "lines_on_time", "lines_otif"):
        print(f"{key:<16}{ours[key]:>14,}{peer[key]:>14,}")
    agree = all(ours[k] == peer[k] for k in ("lines_due", "lines_on_time", "lines_otif"))
    print(f"agree: {agree}; OTIF {ours['lines_otif'] / ours['lines_due']:.4f}; {ours['groups']}; "
          f"SLA met by {ours['sla_met']} customers")  # fmt: skip
    print(f"plan: {figures['plan']['groups']}; PVM max |sum of effects - change| = "
          f"{figures['plan']['pvm_max_gap']:.2e}")  # fmt: skip
    print("classification of 2,000 customers: benchmarks/classify.py (same demo size)")


if __name__ == "__main__":
    main()
