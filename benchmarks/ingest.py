"""Benchmark: ingest the large demo size (2,000 customers x 60 months) and load one customer.

    PYTHONPATH=. python benchmarks/ingest.py [--customers 2000 --materials 2000 --months 60]

Each step runs in a fresh process, so its peak memory (VmHWM) is its own:
1. ``kamlab.data.demo.write_demo`` writes the extracts as CSV into a temporary folder;
2. peer: ``pandas.read_csv`` of every file with default options (reading only, no checks);
3. kamlab ``ingest``: read as text, validate every contract rule, write DuckDB atomically;
4. kamlab ``load`` of one customer from the database.
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
    start = time.perf_counter()
    if step == "write":
        from kamlab.data.demo import write_demo

        write_demo(folder, fmt="csv", seed=0, **size)
        rows = sum(sum(1 for _ in p.open()) - 1 for p in Path(folder).glob("*.csv"))
    elif step == "read_csv":
        rows = sum(len(pd.read_csv(p)) for p in sorted(Path(folder).glob("*.csv")))
    elif step == "ingest":
        from kamlab.data.ingest import ingest

        rows = int(ingest(folder, db).rows.sum())
    else:
        from kamlab.data.store import load

        first = pd.read_csv(Path(folder) / "customers.csv", dtype=str)["customer_id"].iloc[0]
        rows = int(load(db, customers=[first]).row_counts().sum())
    seconds = time.perf_counter() - start
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": _peak_mb()}))


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
    args = parser.parse_args()
    size = {"customers": args.customers, "materials": args.materials, "months": args.months}
    wall = time.perf_counter()
    steps = (
        ("write", "kamlab demo: generate + write CSV"),
        ("read_csv", "peer: pandas.read_csv, all files (reading only)"),
        ("ingest", "kamlab ingest: read + validate + write DuckDB"),
        ("load", "kamlab load, one customer"),
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="kamlab-bench-") as tmp:
        folder, db = Path(tmp) / "extracts", Path(tmp) / "kam.duckdb"
        for step, label in steps:
            got = _run(step, folder, db, size)
            rows.append(
                {
                    "step": label,
                    "rows": got["rows"],
                    "seconds": round(got["seconds"], 2),
                    "rows/s": round(got["rows"] / got["seconds"]),
                    "peak MB": round(got["peak_mb"]),
                }
            )
        csv_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        db_mb = db.stat().st_size / 2**20
    print(
        f"{args.customers:,} customers x {args.materials:,} materials x {args.months} months: "
        f"{csv_mb:,.0f} MB of CSV -> {db_mb:,.0f} MB DuckDB"
    )
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"wall time {time.perf_counter() - wall:.1f} s")


if __name__ == "__main__":
    main()
