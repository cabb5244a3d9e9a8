"""Benchmark: ingest the large demo size (2,000 customers x 60 months) and load one customer.

    PYTHONPATH=. python benchmarks/ingest.py [--customers 2000 --materials 2000 --months 60]

Writes the extracts as CSV into a temporary folder (with ``kamlab.data.demo`` when it is
available, else with the synthetic generator below, same tables and similar sizes), then in
fresh processes so peak memory is the step's own:
- baseline: ``pandas.read_csv`` of every file with default options (reading only);
- kamlab ``ingest``: read as text, validate every contract rule, write DuckDB;
- kamlab ``load`` of one customer from the database.
Prints rows, seconds, rows/s and peak RSS per step.
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
import pyarrow as pa
import pyarrow.csv as pacsv


def _synthetic(customers: int, materials: int, months: int, seed: int = 0) -> dict:
    """Contract tables of roughly the demo's shape, vectorised (fallback without the demo)."""
    rng = np.random.default_rng(seed)
    start = pd.Period("2021-01", "M")
    month_start = pd.period_range(start, periods=months, freq="M").to_timestamp().to_numpy()
    cust = np.array([f"C{i:05d}" for i in range(customers)], dtype=object)
    mats = np.array([f"M{i:06d}" for i in range(materials)], dtype=object)
    cur = rng.choice(["EUR", "USD", "GBP"], customers, p=[0.7, 0.2, 0.1])
    day = np.timedelta64(1, "D")
    out = {
        "customers": pd.DataFrame(
            {
                "customer_id": cust,
                "name": [f"Customer {i}" for i in range(customers)],
                "account_manager": rng.choice(["Ann", "Bob", "Cleo"], customers),
                "region": rng.choice(["DACH", "NA", "UK"], customers),
                "segment": rng.choice(["auto", "food"], customers),
                "currency": cur,
                "credit_limit": rng.integers(10, 500, customers) * 1000.0,
                "payment_terms_days": rng.choice([30, 60, 90], customers),
                "otif_target": 0.95,
                "forecast_accuracy_target": 0.8,
            }
        ),
        "materials": pd.DataFrame(
            {
                "material_id": mats,
                "description": [f"Part {i}" for i in range(materials)],
                "product_family": rng.choice(["A", "B", "C", "D"], materials),
                "lifecycle": rng.choice(["active", "phase-in", "phase-out"], materials),
            }
        ),
    }
    # orders: per customer and month 5 orders x 4 lines
    c_idx = np.repeat(np.arange(customers), months * 5)
    m_idx = np.tile(np.repeat(np.arange(months), 5), customers)
    n_orders = len(c_idx)
    order_id = np.char.add("O", np.arange(n_orders).astype(str)).astype(object)
    oc, om, oid = np.repeat(c_idx, 4), np.repeat(m_idx, 4), np.repeat(order_id, 4)
    n = len(oc)
    order_date = month_start[om] + rng.integers(0, 28, n) * day
    requested = order_date + rng.integers(7, 40, n) * day
    qty = rng.integers(1, 500, n).astype(float)
    status = rng.choice(["delivered", "open", "cancelled"], n, p=[0.9, 0.05, 0.05])
    out["orders"] = pd.DataFrame(
        {
            "order_id": oid,
            "line": np.tile([10, 20, 30, 40], n_orders),
            "customer_id": cust[oc],
            "material_id": mats[rng.integers(0, materials, n)],
            "order_date": order_date,
            "requested_date": requested,
            "confirmed_date": requested + rng.integers(0, 5, n) * day,
            "quantity": qty,
            "net_value": np.round(qty * rng.uniform(1, 50, n), 2),
            "currency": cur[oc],
            "status": status,
        }
    )
    o = out["orders"]
    done = (status == "delivered").nonzero()[0]
    out["deliveries"] = pd.DataFrame(
        {
            "delivery_id": np.char.add("D", done.astype(str)).astype(object),
            "order_id": o["order_id"].to_numpy()[done],
            "line": o["line"].to_numpy()[done],
            "delivered_date": requested[done] + rng.integers(-3, 10, len(done)) * day,
            "delivered_quantity": qty[done],
            "air_freight": rng.random(len(done)) < 0.03,
        }
    )
    # forecasts: 5 materials per customer, every snapshot month, lags 1-6
    fc_c = np.repeat(np.arange(customers), 5 * months * 6)
    fc_m = np.tile(np.repeat(np.arange(5), months * 6), customers)
    fc_s = np.tile(np.repeat(np.arange(months), 6), customers * 5)
    fc_l = np.tile(np.arange(1, 7), customers * 5 * months)
    snap = pd.period_range(start, periods=months, freq="M")
    out["customer_forecasts"] = pd.DataFrame(
        {
            "customer_id": cust[fc_c],
            "material_id": mats[(fc_c * 7 + fc_m) % materials],
            "snapshot_date": snap.to_timestamp(how="end").normalize().to_numpy()[fc_s],
            "period": (snap[fc_s] + fc_l).astype(str),
            "quantity": rng.integers(0, 500, len(fc_c)).astype(float),
        }
    )
    # invoices: one per order; 2 % credit notes; payments for 90 %; instalments for 3 %
    first = np.arange(0, n, 4)
    inv_amount = o.groupby("order_id", sort=False)["net_value"].sum().to_numpy() + 1
    k = len(first)
    posting = order_date[first] + 20 * day
    doc = np.char.add("I", np.arange(k).astype(str)).astype(object)
    cn = rng.random(k) < 0.02
    cn_idx = cn.nonzero()[0]
    invoices = pd.DataFrame(
        {
            "document_id": np.concatenate(
                [doc, np.char.add("CN", cn_idx.astype(str)).astype(object)]
            ),
            "customer_id": np.concatenate([cust[oc[first]], cust[oc[first[cn_idx]]]]),
            "document_type": ["invoice"] * k + ["credit_note"] * len(cn_idx),
            "posting_date": np.concatenate([posting, posting[cn_idx] + 5 * day]),
            "due_date": np.concatenate([posting + 30 * day, posting[cn_idx] + 5 * day]),
            "amount": np.concatenate([inv_amount, np.round(inv_amount[cn_idx] * 0.1, 2)]),
            "currency": np.concatenate([cur[oc[first]], cur[oc[first[cn_idx]]]]),
            "reference_document": np.concatenate([np.full(k, None, object), doc[cn_idx]]),
        }
    )
    out["invoices"] = invoices
    paid = (rng.random(k) < 0.9).nonzero()[0]
    out["payments"] = pd.DataFrame(
        {
            "payment_id": np.char.add("P", paid.astype(str)).astype(object),
            "line": 1,
            "customer_id": cust[oc[first[paid]]],
            "payment_date": posting[paid] + rng.integers(10, 90, len(paid)) * day,
            "amount": inv_amount[paid],
            "currency": cur[oc[first[paid]]],
            "allocated_document": doc[paid],
        }
    )
    split = ((rng.random(k) < 0.03) & ~cn).nonzero()[0]
    part1 = np.round(inv_amount[split] * 0.3, 2)
    out["instalments"] = pd.DataFrame(
        {
            "document_id": np.repeat(doc[split], 2),
            "instalment": np.tile([1, 2], len(split)),
            "due_date": np.column_stack(
                [posting[split] + 30 * day, posting[split] + 60 * day]
            ).ravel(),
            "amount": np.column_stack([part1, inv_amount[split] - part1]).ravel(),
        }
    )
    bad = rng.choice(len(done), len(done) // 100, replace=False)
    opened = requested[done][bad] + 12 * day
    out["complaints"] = pd.DataFrame(
        {
            "complaint_id": np.char.add("Q", np.arange(len(bad)).astype(str)).astype(object),
            "customer_id": o["customer_id"].to_numpy()[done][bad],
            "material_id": o["material_id"].to_numpy()[done][bad],
            "opened_date": opened,
            "closed_date": opened + 14 * day,
            "category": rng.choice(["damage", "quality", "wrong part"], len(bad)),
            "rejected_quantity": rng.integers(1, 20, len(bad)).astype(float),
        }
    )
    out["budget"] = pd.DataFrame(
        {
            "customer_id": np.repeat(cust, months),
            "period": np.tile(snap.astype(str), customers),
            "product_family": None,
            "planned_quantity": 1000.0,
            "planned_revenue": 20000.0,
            "currency": np.repeat(cur, months),
        }
    )
    return out


def _write_csv(frames: dict, folder: Path) -> None:
    for name, frame in frames.items():
        table = pa.Table.from_pandas(frame, preserve_index=False)
        cols = []
        for field, col in zip(table.schema, table.columns, strict=True):
            if pa.types.is_timestamp(field.type):
                col = col.cast(pa.date32())
            cols.append(col)
        pacsv.write_csv(pa.table(cols, names=table.column_names), folder / f"{name}.csv")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(step: str, folder: str, db: str, customer: str) -> None:
    """Run one step in this (fresh) process and print its figures as JSON."""
    start = time.perf_counter()
    if step == "read_csv":
        rows = sum(len(pd.read_csv(p)) for p in sorted(Path(folder).glob("*.csv")))
    elif step == "ingest":
        from kamlab.data.ingest import ingest

        rows = int(ingest(folder, db).rows.sum())
    else:
        from kamlab.data.store import load

        rows = int(load(db, customers=[customer]).row_counts().sum())
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - start, "peak_mb": _peak_mb()}))


def _run(step: str, folder: Path, db: Path, customer: str) -> dict:
    code = f"import benchmarks.ingest as b; b._child({step!r}, {str(folder)!r}, {str(db)!r}, {customer!r})"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--materials", type=int, default=2000)
    parser.add_argument("--months", type=int, default=60)
    args = parser.parse_args()
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kamlab-bench-") as tmp:
        folder, db = Path(tmp) / "extracts", Path(tmp) / "kam.duckdb"
        folder.mkdir()
        try:
            from kamlab.data.demo import write_demo

            source = "kamlab.data.demo"
            write_demo(
                folder,
                fmt="csv",
                customers=args.customers,
                materials=args.materials,
                months=args.months,
                seed=0,
            )
        except ImportError:
            source = "synthetic (benchmarks/ingest.py)"
            _write_csv(_synthetic(args.customers, args.materials, args.months), folder)
        size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        customer = pd.read_csv(folder / "customers.csv", usecols=["customer_id"], dtype=str)
        customer = customer["customer_id"].iloc[0]
        print(
            f"extracts: {source}, {args.customers} customers x {args.months} months, "
            f"{args.materials} materials, {size:,.0f} MB of CSV"
        )
        rows = []
        for step, label in (
            ("read_csv", "pandas.read_csv, all files (reading only; peer)"),
            ("ingest", "kamlab ingest: read + validate + DuckDB"),
            ("load", f"kamlab load, one customer ({customer})"),
        ):
            got = _run(step, folder, db, customer)
            rows.append(
                {
                    "step": label,
                    "rows": got["rows"],
                    "seconds": round(got["seconds"], 2),
                    "rows/s": round(got["rows"] / got["seconds"]),
                    "peak RSS MB": round(got["peak_mb"]),
                }
            )
        print(pd.DataFrame(rows).to_string(index=False))
    print(f"wall time {time.perf_counter() - wall:.1f} s")


if __name__ == "__main__":
    main()
