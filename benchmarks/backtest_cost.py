"""CPU cost of the chain's accuracy step (backtests by customer chunk) on some of its chunks.

Run by hand (once; the machine is shared), the old code first on ``PYTHONPATH`` for the before:
    PYTHONPATH=. python benchmarks/backtest_cost.py --database kam.duckdb --config kamlab.toml
    PYTHONPATH=. python benchmarks/backtest_cost.py --database large.duckdb --config \
        kamlab.toml --chunks 0,8,16,24

The store is loaded whole; then, in this process alone (``n_jobs=1``, so CPU seconds are
``time.process_time``), the chain's steps up to its accuracy step run as ``prepare`` runs
them — the forecast strategy step where the code has one, not the forecast itself (the
accuracy step only needs it for the challenge list) — with the accuracy step's customer
chunks cut to those numbered in `--chunks` (default: all). Prints CPU and wall seconds per
step, the chunks' share of the portfolio's series, and the accuracy step scaled up to every
chunk by that share; then the load average (``os.getloadavg``).
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

import kamlab.chain.steps as steps
from kamlab.chain import load_dataset, prepare, resolve_settings


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--month", default="2026-10")
    p.add_argument("--chunks", help="comma-separated chunk numbers (default: every chunk)")
    args = p.parse_args(argv)
    settings = resolve_settings(args.config)
    ds = load_dataset(args.database)
    chosen = None if args.chunks is None else [int(c) for c in args.chunks.split(",")]
    every = steps.customer_chunks
    share: dict[str, float] = {}

    def some_chunks(ids, size=None):
        chunks = every(ids, size)
        keep = chunks if chosen is None else [chunks[i] for i in chosen if i < len(chunks)]
        share["customers"] = sum(map(len, keep)) / max(sum(map(len, chunks)), 1)
        return keep

    steps.customer_chunks = some_chunks
    names = {"forecast_strategy", "accuracy"}
    kept = [s for s in steps.STEPS if s.name in names]
    steps.STEPS[:] = kept
    cpu = time.process_time()
    rows = []

    def report(name: str, seconds: float) -> None:
        nonlocal cpu
        used, cpu = time.process_time() - cpu, time.process_time()
        rows.append({"step": name, "wall s": seconds, "cpu s": used})

    prepare(ds, args.month, settings=settings, on_step=report, n_jobs=1)
    out = pd.DataFrame(rows)
    print(out.to_string(index=False, float_format=lambda x: f"{x:,.2f}"))
    acc = out.loc[out["step"] == "accuracy", "cpu s"].sum()
    part = share.get("customers", 1.0)
    print(
        f"accuracy chunks: {args.chunks or 'all'} = {part:.1%} of the customers; accuracy CPU "
        f"scaled to the portfolio {acc / part:,.1f} s; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    main()
