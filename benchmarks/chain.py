"""The monthly chain (``kamlab.chain.prepare``) in one plain Python process, timed step by step.

Run by hand (once; the machine is shared):
    PYTHONPATH=. python benchmarks/chain.py                  # default demo, 40 customers
    PYTHONPATH=. python benchmarks/chain.py --size medium    # 400 customers × 2000 materials × 60
    PYTHONPATH=. python benchmarks/chain.py --size large     # 2000 customers × 2000 materials × 60
    PYTHONPATH=. python benchmarks/chain.py --database kam.duckdb --config kamlab.toml  # reuse
    PYTHONPATH=. nice -n 10 python benchmarks/chain.py --size xl --database xl.duckdb
        # 10,000 customers: built block by block into xl.duckdb (kept; resumable), then the chain
    PYTHONPATH=. python benchmarks/chain.py --database kam.duckdb --config kamlab.toml --next-month
        # the month before --month from scratch, then --month from the backtest origins it left

Above :data:`BLOCK_CUSTOMERS` customers the demo is never held whole: it is generated and
ingested 1,000 customers at a time (:func:`build_blocked_store`) and the blocks are unioned
in DuckDB; the ``demo+ingest (blocks)`` row is that build.

demo → CSV → ingest into DuckDB → load → every shared-analytics step of the pack
(``kamlab.chain.STEPS``: forecast, accuracy with its backtests by customer chunk, service,
receivables and payment risk by customer chunk read from the store, classify, …), with the
demo's own ``kamlab.toml`` (its exchange rates); ``--whole`` runs every step on the whole
dataset in this process instead (the chain before steps read their chunks). It is
exactly what a pack computes before its first kernel starts, so it is the floor for the pack
benchmark: a pack cannot be faster than this.

Prints per step: wall seconds, CPU seconds (this process and its finished worker
processes), the peak memory during the
step — the proportional set size (PSS) of this process plus its worker processes, sampled
every 0.25 s (psutil), so forecast/backtest workers count, shared pages once — and the PSS
of this process alone after the step ("client MB": what the chain still holds). Then wall time, overall peak and the
machine load (``os.getloadavg``: on a shared machine, wall time is only meaningful beside it).
The "before" of a change: run this same file with the old code first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from kamlab.chain import load_dataset, prepare, resolve_settings
from kamlab.data import demo, store
from kamlab.data.ingest import ingest

SIZES = {
    "default": {},
    "medium": {"customers": 400, "materials": 2000, "months": 60},
    "large": {"customers": 2000, "materials": 2000, "months": 60},
    "xl": {"customers": 10_000, "materials": 2000, "months": 60},
}
BLOCK_CUSTOMERS = 1000  # a size above this is generated and ingested block by block
# ids that name a document, order, … of one block: prefixed with the block so blocks never clash
_BLOCK_IDS = (
    "order_id", "delivery_id", "document_id", "reference_document", "payment_id",
    "allocated_document", "complaint_id", "price_request_id", "request_id", "opportunity_id",
    "visit_id", "action_id",
)  # fmt: skip


def build_blocked_store(
    db: Path, work: Path, *, customers: int, materials: int, months: int, end: str
) -> Path:
    """Build the store of a demo too large to hold in memory; returns its ``kamlab.toml``.

    The demo is generated, written (Parquet) and ingested (validated) in blocks of
    :data:`BLOCK_CUSTOMERS` customers, one block in memory at a time (block b: seed b, the
    same materials), and the block stores are then unioned by DuckDB (which spills to disk)
    into `db`, sorted as :func:`kamlab.data.store.write` sorts. Block b's customer ids get
    the block number in their two leading digits, its other document ids a ``B<b>-`` prefix;
    rows that belong to no customer (materials, plans, central stock) come from block 0.
    The density per customer is the demo's: a block's customers buy as the demo's do.
    """
    import duckdb

    from kamlab.data.contract import TABLES
    from kamlab.data.store import _SORT

    blocks = -(-customers // BLOCK_CUSTOMERS)
    paths, toml = [], None
    for b in range(blocks):
        part = work / f"block{b}.duckdb"
        paths.append(part)
        if part.is_file():  # a resumed build reuses finished blocks
            continue
        n = min(BLOCK_CUSTOMERS, customers - b * BLOCK_CUSTOMERS)
        started = time.perf_counter()
        files = demo.write_demo(
            work / f"extracts{b}", fmt="parquet", customers=n, materials=materials,
            months=months, end=end, seed=b,
        )  # fmt: skip
        toml = next(p for p in files if p.name == "kamlab.toml")
        ingest(work / f"extracts{b}", part, settings=resolve_settings(toml))
        for f in files:
            f.unlink()
        print(f"block {b}: {n} customers in {time.perf_counter() - started:.1f} s", flush=True)
    toml = work / "kamlab.toml"
    demo._write_settings(work)
    tmp = db.with_name(f".{db.name}.building")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        con.execute("SET preserve_insertion_order = false")
        for b, part in enumerate(paths):
            con.execute(f"ATTACH '{part}' AS b{b} (READ_ONLY)")
        for name, spec in TABLES.items():
            selects = []
            for b in range(blocks):
                cols = []
                for c in spec.column_names:
                    if c == "customer_id":
                        cols.append(f"'{b:02d}' || substr(customer_id, 3) AS customer_id")
                    elif c in _BLOCK_IDS:
                        cols.append(f"'B{b}-' || {c} AS {c}")
                    else:
                        cols.append(f'"{c}"')
                where = ""
                if b and name in ("materials", "material_plan"):
                    continue
                if b and "customer_id" in spec.column_names:
                    where = " WHERE customer_id IS NOT NULL"
                selects.append(f"SELECT {', '.join(cols)} FROM b{b}.{name}{where}")
            first = _SORT.get(name, "customer_id")
            order = ", ".join(f'"{c}"' for c in dict.fromkeys([first, *spec.key]))
            con.execute(f"CREATE TABLE {name} AS {' UNION ALL '.join(selects)} ORDER BY {order}")
        every = " UNION ALL ".join(f"SELECT * FROM b{b}.exclusions" for b in range(blocks))
        con.execute(
            'CREATE TABLE exclusions AS SELECT "table", reason, CAST(SUM("rows") AS BIGINT) '
            f'AS "rows" FROM ({every}) GROUP BY "table", reason ORDER BY "table", reason'
        )
        con.execute(
            "CREATE TABLE _kamlab AS SELECT * REPLACE (now() AS written_at) FROM b0._kamlab"
        )
        con.execute("CHECKPOINT")
    tmp.rename(db)
    return toml


class MemorySampler(threading.Thread):
    """Peak memory (MB) of this process and its children, sampled in the background.

    Proportional set size (PSS): a page shared by forked workers counts once in the sum, so
    the figure is what the machine really gives the run (RSS would count it per process).
    """

    def __init__(self, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.every, self.me = every, psutil.Process()
        self.step_peak = self.peak = self.rss_peak = 0.0
        self._halt = threading.Event()

    def sample(self) -> float:
        """PSS of the process tree now (MB); also tracks the RSS sum's peak."""
        pss = rss = 0
        for p in [self.me, *self.me.children(recursive=True)]:
            try:
                info = p.memory_full_info()
            except psutil.Error:
                continue
            pss, rss = pss + info.pss, rss + info.rss
        self.rss_peak = max(self.rss_peak, rss / 2**20)
        return pss / 2**20

    def run(self) -> None:
        while not self._halt.wait(self.every):
            now = self.sample()
            self.step_peak, self.peak = max(self.step_peak, now), max(self.peak, now)

    def take_step_peak(self) -> float:
        peak, self.step_peak = max(self.step_peak, self.sample()), 0.0
        return peak

    def own(self) -> float:
        """PSS of this process alone now (MB): what the client still holds after a step."""
        try:
            return self.me.memory_full_info().pss / 2**20
        except psutil.Error:
            return float("nan")

    def stop(self) -> None:
        self._halt.set()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="default")
    p.add_argument("--large", action="store_true", help="same as --size large")
    p.add_argument("--month", default="2026-10")
    p.add_argument("--database", help="an ingested store to reuse (skips demo and ingest)")
    p.add_argument("--config", help="its kamlab.toml (with --database)")
    p.add_argument("--n-jobs", type=int, default=None, help="worker processes (default: cores)")
    p.add_argument("--scheduler", help="Dask scheduler address for the chunked steps")
    p.add_argument("--chunk-customers", type=int, help="customers per chunk (default: the chain's)")
    p.add_argument(
        "--next-month",
        action="store_true",
        help="the month before --month from scratch, then --month reusing its backtest origins",
    )
    p.add_argument(
        "--whole",
        action="store_true",
        help="load every table in this process and run every step on it (no chunk reads)",
    )
    args = p.parse_args(argv)
    if args.chunk_customers:
        import kamlab.chain.chunks as chunks

        chunks.CUSTOMERS_PER_CHUNK = args.chunk_customers
    size = SIZES["large" if args.large else args.size]
    sampler = MemorySampler()
    sampler.start()
    wall = time.perf_counter()

    def cpu_seconds() -> float:  # this process + its finished workers (pools end per step)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    cpu = cpu_seconds()

    def report(step: str, seconds: float, rows: int | None = None) -> None:
        nonlocal cpu
        used, cpu = cpu_seconds() - cpu, cpu_seconds()
        shown = "" if rows is None else f"{rows:>10,}"
        peak = sampler.take_step_peak()
        print(
            f"{step:<20} {seconds:9.2f} {used:9.2f} {peak:10,.0f} {sampler.own():10,.0f} "
            f"{os.getloadavg()[0]:7.2f} {shown}",
            flush=True,
        )

    def timed(step: str, func, rows=None):
        started = time.perf_counter()
        out = func()
        report(step, time.perf_counter() - started, rows(out) if rows else None)
        return out

    options = {}
    if "n_jobs" in inspect.signature(prepare).parameters:  # absent before the chunked chain
        options = {"n_jobs": args.n_jobs, "scheduler": args.scheduler}
    print(
        f"{'step':<20} {'wall s':>9} {'cpu s':>9} {'PSS MB':>10} {'client MB':>10} {'load 1m':>7} {'rows':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if args.database and Path(args.database).is_file():
            db, settings = Path(args.database), resolve_settings(args.config)
        elif size.get("customers", 0) > BLOCK_CUSTOMERS:  # never the whole demo in memory
            db = Path(args.database or Path(tmp) / "kam.duckdb")
            work = db.with_name(db.name + ".blocks")
            work.mkdir(parents=True, exist_ok=True)
            toml = timed(
                "demo+ingest (blocks)",
                lambda: build_blocked_store(db, work, end=args.month, **size),
            )
            settings = resolve_settings(toml)
            sampler.peak = 0.0  # the overall peak is the chain's (the build has its own row)
        else:
            paths = timed(
                "demo.write_demo",
                lambda: demo.write_demo(Path(tmp) / "extracts", end=args.month, seed=0, **size),
            )
            settings = resolve_settings(next(p for p in paths if p.name == "kamlab.toml"))
            db = Path(tmp) / "kam.duckdb"
            timed("ingest", lambda: ingest(Path(tmp) / "extracts", db, settings=settings))
        chunked = "source" in inspect.signature(prepare).parameters and not args.whole
        if chunked:  # as a pack does: the chunked steps read their customers from the store
            options["source"] = db
            ds = timed(
                "store.load",
                lambda: load_dataset(db, chunked=True),
                rows=lambda d: len(d.orders),
            )
        else:
            ds = timed("store.load", lambda: store.load(db), rows=lambda d: len(d.orders))
        if not args.next_month:
            prepare(ds, args.month, settings=settings, on_step=report, **options)
        else:  # last month from scratch, then this month from the origins it left behind
            from kamlab.chain import code_version
            from kamlab.chain.backtests import origin_cache, reusing

            month, cpus = pd.Period(args.month, "M"), []
            for label, period in (("from scratch", month - 1), ("next month", month)):
                print(f"-- {period} {label}", flush=True)
                started = cpu_seconds()
                cache = origin_cache(
                    Path(tmp) / "origins", db, period, settings, code=code_version()
                )
                with reusing(cache):
                    prepare(ds, period, settings=settings, on_step=report, **options)
                cpus.append(cpu_seconds() - started)
            print(
                f"next month {cpus[1]:.1f} CPU s against {cpus[0]:.1f} from scratch "
                f"({cpus[1] / cpus[0]:.0%})"
            )
    total = time.perf_counter() - wall
    sampler.stop()
    print(f"{'total':<20} {total:9.2f} {cpu_seconds():9.2f}")
    print(
        f"peak memory (this process + workers, sampled): PSS {sampler.peak:,.0f} MB "
        f"(RSS sum {sampler.rss_peak:,.0f} MB); "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"{os.cpu_count()} cores; python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
