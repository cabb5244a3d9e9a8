"""The monthly chain (``kamlab.chain.prepare``) in one plain Python process, timed step by step.

Run by hand (once; the machine is shared):
    PYTHONPATH=. python benchmarks/chain.py                  # default demo, 40 customers
    PYTHONPATH=. python benchmarks/chain.py --large          # 2000 customers × 2000 materials × 60 months

demo → CSV → ingest into DuckDB → load → every shared-analytics step of the pack
(``kamlab.chain.STEPS``: forecast and backtest, accuracy, service, receivables, classify),
with the demo's own ``kamlab.toml`` (its exchange rates). It is exactly what a pack
computes before its first kernel starts, so it is the floor for the pack benchmark: a pack
cannot be faster than this. Prints step, seconds, rows, then wall time and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from kamlab.chain import prepare, resolve_settings
from kamlab.data import demo, store
from kamlab.data.ingest import ingest


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--large", action="store_true", help="2000 customers × 2000 materials × 60")
    p.add_argument("--month", default="2026-10")
    args = p.parse_args(argv)
    size = {"customers": 2000, "materials": 2000, "months": 60} if args.large else {}
    wall = time.perf_counter()

    def report(step: str, seconds: float, rows: int | None = None) -> None:
        print(f"{step:<28} {seconds:9.2f} {'' if rows is None else f'{rows:>10,}'}", flush=True)

    print(f"{'step':<28} {'seconds':>9} {'rows':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        paths = demo.write_demo(Path(tmp) / "extracts", end=args.month, seed=0, **size)
        report("demo.write_demo", time.perf_counter() - started)
        toml = next(p for p in paths if p.name == "kamlab.toml")
        settings = resolve_settings(toml)
        db = Path(tmp) / "kam.duckdb"
        started = time.perf_counter()
        ingest(Path(tmp) / "extracts", db, settings=settings)
        report("ingest", time.perf_counter() - started)
        started = time.perf_counter()
        ds = store.load(db)
        report("store.load", time.perf_counter() - started, len(ds.orders))
        prepare(ds, args.month, settings=settings, on_step=report)
    total = time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total (wall)':<28} {total:9.2f}")
    print(f"peak memory (maxrss): {peak:,.0f} MB; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
