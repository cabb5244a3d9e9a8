"""Incremental months: next month's chain after this month's (backtest origins reused from the
cache) beside next month's chain from scratch, in the same run.

Run by hand (once; the machine is shared), on an ingested store:
    kamlab demo --out DIR --customers 400 --materials 2000 --months 60 --end 2026-10
    kamlab ingest DIR --database DIR/kam.duckdb
    PYTHONPATH=. nice -n 10 python benchmarks/incremental.py --database DIR/kam.duckdb \\
        --config DIR/kamlab.toml --month 2026-10

Three chains (:func:`kamlab.chain.prepare`, every step, on one loaded dataset), each with the
origin cache :func:`kamlab.chain.load_analytics` uses:

1. ``--month`` from scratch, in an empty cache folder (the baseline: no earlier month);
2. the month before, in a second empty folder (what last month's pack left behind);
3. ``--month`` again in that second folder: only the new origin is forecast.

Prints per chain and step wall and CPU seconds (this process and its finished worker
processes), the origins reused, the load average after each chain, and checks that chains
1 and 3 are identical to the last bit.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from kamlab.chain import code_version, prepare, resolve_settings
from kamlab.chain.backtests import origin_cache, reusing
from kamlab.data import store


def cpu_seconds() -> float:
    """This process and its finished children (the chunk pools end with each step)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class Reuse(logging.Handler):
    """Keeps the chain's "backtest origins ... reused" log line."""

    line = ""

    def emit(self, record: logging.LogRecord) -> None:
        if "backtest origins" in record.getMessage():
            self.line = record.getMessage()


def run(db: Path, month: pd.Period, settings, ds, cache: Path, label: str, reuse: Reuse):
    """One chain in `cache`; prints its steps and total; returns the analytics."""
    steps = []
    wall, cpu = time.perf_counter(), cpu_seconds()
    last = [cpu]

    def on_step(name: str, seconds: float) -> None:
        now = cpu_seconds()
        steps.append((name, seconds, now - last[0]))
        last[0] = now

    backtests = origin_cache(cache, db, month, settings, code=code_version())
    with reusing(backtests):
        out = prepare(ds, month, settings=settings, on_step=on_step)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{label}: {wall:.1f} s wall, {cpu:.1f} s CPU; load average {load}")
    print(f"  {reuse.line}")
    for name, seconds, used in steps:
        print(f"  {name:<18} {seconds:8.2f} {used:8.2f}")
    return out, wall, cpu


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", required=True, help="an ingested store")
    p.add_argument("--config", help="its kamlab.toml")
    p.add_argument("--month", default="2026-10", help="next month (YYYY-MM)")
    args = p.parse_args(argv)
    db, settings, month = Path(args.database), resolve_settings(args.config), pd.Period(args.month)
    reuse = Reuse()
    logging.getLogger("kamlab.chain").addHandler(reuse)
    logging.getLogger("kamlab.chain").setLevel(logging.INFO)
    started = time.perf_counter()
    ds = store.load(db)
    print(f"store.load {time.perf_counter() - started:.1f} s: {len(ds.orders):,} order lines")
    print(f"{'':<20} {'wall s':>8} {'cpu s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        scratch, _, cpu_scratch = run(
            db, month, settings, ds, Path(tmp) / "a", f"{month} from scratch", reuse
        )
        run(db, month - 1, settings, ds, Path(tmp) / "b", f"{month - 1} (this month)", reuse)
        after, _, cpu_after = run(
            db, month, settings, ds, Path(tmp) / "b", f"{month} after {month - 1}", reuse
        )
    for f in dataclasses.fields(scratch):
        x, y = getattr(scratch, f.name), getattr(after, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True, obj=f.name)
    print(
        f"\n{month} after {month - 1} is identical to {month} from scratch; CPU "
        f"{cpu_after:.1f} s vs {cpu_scratch:.1f} s ({cpu_after / cpu_scratch:.0%}); "
        f"{os.cpu_count()} cores; python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
