"""Benchmark: ingest the large demo size (2,000 customers x 60 months) and load one customer.

    PYTHONPATH=. python benchmarks/ingest.py [--customers 2000 --materials 2000 --months 60]
        [--extracts DIR] [--steps write,read_csv,ingest,load,ingest_sql]

Each step runs in a fresh process, so its peak memory (VmHWM) is its own:
1. ``kamlab.data.demo.write_demo`` writes the extracts as CSV into a temporary folder
   (``--extracts DIR``: into DIR, kept, and not written again when DIR holds them: the
   same files for runs of two code versions, e.g. ``PYTHONPATH=/tmp/old-kamlab``);
2. peer: ``pandas.read_csv`` of every file with default options (reading only, no checks);
3. kamlab ``ingest``: read as text, validate every contract rule, write DuckDB atomically;
4. kamlab ``load`` of one customer from the database;
5. ``ingest_sql`` (issue 23): the same extracts with orders split into ``order_header.csv``
   (order_id, customer_id, order_date, currency) and ``order_lines.csv`` (the rest; split
   before the clock starts), the orders table assembled by a ``[mapping.orders] sql`` join.
Prints rows, seconds, rows/s and peak memory per step, and the wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss not inherited at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child(step: str, folder: str, db: str, size: dict) -> None:
    """Run one step in this (fresh) process and print its figures as JSON."""
    start, cpu = time.perf_counter(), time.process_time()
    if step == "write":
        from kamlab.data.demo import write_demo

        write_demo(folder, fmt="csv", seed=0, **size)
        rows = sum(sum(1 for _ in p.open()) - 1 for p in Path(folder).glob("*.csv"))
    elif step == "read_csv":
        rows = sum(len(pd.read_csv(p)) for p in sorted(Path(folder).glob("*.csv")))
    elif step == "ingest":
        from kamlab.data.ingest import ingest

        rows = int(ingest(folder, db).rows.sum())
    elif step == "ingest_sql":
        from kamlab.config import load_settings
        from kamlab.data.ingest import ingest

        split = Path(folder).with_name(Path(folder).name + "-header-lines")
        settings = load_settings(split / "mapping.toml")
        start, cpu = time.perf_counter(), time.process_time()  # split, settings: not timed
        rows = int(ingest(split, db, settings=settings).rows.sum())
    else:
        from kamlab.data.store import load

        first = pd.read_csv(Path(folder) / "customers.csv", dtype=str)["customer_id"].iloc[0]
        rows = int(load(db, customers=[first]).row_counts().sum())
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu  # this process; DuckDB's threads included
    print(json.dumps({"rows": rows, "seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb()}))


ORDERS_SQL = """
SELECT h.order_id, l.line, h.customer_id, l.material_id, h.order_date, l.requested_date,
       l.confirmed_date, l.quantity, l.net_value, h.currency, l.status
FROM order_header h JOIN order_lines l USING (order_id)
"""


def _split_orders(folder: Path) -> Path:
    """A sibling folder holding the extracts with orders.csv split into header and lines
    (the other files linked), and the mapping that joins them back."""
    split = folder.with_name(folder.name + "-header-lines")
    if (split / "mapping.toml").is_file():
        return split
    split.mkdir(exist_ok=True)
    for path in folder.glob("*.csv"):
        if path.name != "orders.csv" and not (split / path.name).exists():
            (split / path.name).symlink_to(path)
    orders = pd.read_csv(folder / "orders.csv", dtype="str", keep_default_na=False)
    head = ["order_id", "customer_id", "order_date", "currency"]
    header = orders[head].drop_duplicates()
    if header["order_id"].duplicated().any():
        raise SystemExit("orders.csv: an order with two customers, dates or currencies")
    header.to_csv(split / "order_header.csv", index=False)
    orders.drop(columns=head[1:]).to_csv(split / "order_lines.csv", index=False)
    (split / "mapping.toml").write_text(f'[mapping.orders]\nsql = """{ORDERS_SQL}"""\n')
    return split


def _run(step: str, folder: Path, db: Path, size: dict) -> dict:
    code = (
        f"import benchmarks.ingest as b; b._child({step!r}, {str(folder)!r}, {str(db)!r}, {size!r})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--materials", type=int, default=2000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--extracts", default=None, help="folder for the extracts, kept")
    parser.add_argument("--steps", default="write,read_csv,ingest,load")
    args = parser.parse_args()
    size = {"customers": args.customers, "materials": args.materials, "months": args.months}
    wall = time.perf_counter()
    labels = {
        "write": "kamlab demo: generate + write CSV",
        "read_csv": "peer: pandas.read_csv, all files (reading only)",
        "ingest": "kamlab ingest: read + validate + write DuckDB",
        "load": "kamlab load, one customer",
        "ingest_sql": "kamlab ingest, orders by SQL from header + lines",
    }
    steps = [(step, labels[step]) for step in args.steps.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kamlab-bench-") as tmp:
        folder = Path(args.extracts).resolve() if args.extracts else Path(tmp) / "extracts"
        db = Path(tmp) / "kam.duckdb"
        for step, label in steps:
            if step == "write" and (folder / "orders.csv").is_file():
                continue  # --extracts DIR written by an earlier run
            if step == "ingest_sql":
                _split_orders(folder)
            got = _run(step, folder, db, size)
            rows.append(
                {
                    "step": label,
                    "rows": got["rows"],
                    "seconds": round(got["seconds"], 2),
                    "CPU s": round(got.get("cpu", float("nan")), 2),
                    "rows/s": round(got["rows"] / got["seconds"]),
                    "peak MB": round(got["peak_mb"]),
                }
            )
        csv_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        db_mb = db.stat().st_size / 2**20 if db.is_file() else float("nan")
    print(
        f"{args.customers:,} customers x {args.materials:,} materials x {args.months} months: "
        f"{csv_mb:,.0f} MB of CSV -> {db_mb:,.0f} MB DuckDB"
    )
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"wall time {time.perf_counter() - wall:.1f} s")


if __name__ == "__main__":
    main()
