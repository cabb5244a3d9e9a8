"""Seconds per customer of the monthly pack against two references, measured in one run.

    PYTHONPATH=. python benchmarks/pack.py [--customers 40] [--loop-customers 8]
        [--floor-customers N] [--workers 1 2] [--cluster-workers 2]

Builds the 40-customer demo (history to 2025-06) into a temporary folder, prepares the
month's shared analytics once (cached on disk; every method below reads the same cache,
so the table compares per-customer work only), then times:

* floor          the same 20 sections (tables + figures) for every customer (or the first
                 ``--floor-customers``) in one plain Python process, one HTML page each;
* papermill loop the scorecard notebook per customer with plain ``papermill`` (a fresh
                 kernel each time) plus the same nbconvert HTML export, on the first
                 ``--loop-customers`` customers (it is slow; per-customer time is what counts);
* kamlab pack    ``build_pack`` with 1 and 2 workers: warm kernels, real papermill, HTML,
                 index, Excel and run log — wall time of the whole build / customers;
* Dask cluster   the same on a ``distributed.LocalCluster`` of ``--cluster-workers``
                 worker processes on loopback (``--scheduler``'s code path).

Each row gives wall seconds per customer (the whole build / customers), the mean notebook
seconds per customer on one worker (papermill, kernel and HTML export: what a customer costs
a worker, without the pack's start-up and index/workbook), the CPU seconds per customer of
this process and all its children (kernels and workers included; the reliable figure on a
shared machine), and the 1-minute machine load when the row finished.

Targets (issue 15): ≤ 1.0 s per customer per worker on one warm worker; 2 workers (local or
a Dask cluster) ≥ 1.7 × faster than 1 worker, within what 2 shared cores allow.
Peak memory is the largest resident set of this process and of any child (kernels).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

MONTH = "2025-06"


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (workers, kernels)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load() -> float:
    return os.getloadavg()[0]


FX = "fx_rates = { EUR = 1.0, USD = 0.92, CHF = 1.05, GBP = 1.17 }\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--loop-customers", type=int, default=8)
    parser.add_argument(
        "--floor-customers", type=int, default=None, help="time the floor on the first N only"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--cluster-workers",
        type=int,
        default=2,
        help="also build on a local Dask cluster (loopback) of this many worker processes; 0: no",
    )
    args = parser.parse_args()

    import nbformat
    import papermill as pm

    from kamlab.chain import load_analytics
    from kamlab.config import load_settings
    from kamlab.data.demo import write_demo
    from kamlab.data.ingest import ingest
    from kamlab.pack import build_pack
    from kamlab.pack.html import atomic_write, notebook_html
    from kamlab.pack.runner import NOTEBOOKS
    from kamlab.scorecard import Scorecard, commercial, supply

    root = Path(tempfile.mkdtemp(prefix="kamlab-bench-pack-"))
    t = time.perf_counter()
    write_demo(root / "extracts", customers=args.customers, end=MONTH, seed=0)
    database = root / "kam.duckdb"
    ingest(root / "extracts", database)
    print(f"demo data: {time.perf_counter() - t:.1f} s ({root})")
    config = root / "kamlab.toml"
    config.write_text("[scorecard]\n" + FX)
    settings = load_settings(config)
    cache = root / "cache"

    t = time.perf_counter()
    analytics = load_analytics(database, MONTH, settings=settings, cache_dir=cache)
    prepare = time.perf_counter() - t
    customers = analytics.customer_ids()
    print(f"shared analytics, once per pack: {prepare:.1f} s")

    rows = []  # (method, workers, customers, wall s, s/customer, notebook s, CPU s/customer, load)

    def add(row: tuple) -> None:
        rows.append(row)
        show(row)

    def show(row: tuple) -> None:
        name, workers, n, wall, per, notebook, cpu, load_1m = row
        print(
            f"{name:46} {workers:>7} {n:>9} {wall:8.1f} {per:10.2f} "
            f"{notebook:10.2f} {cpu:10.2f} {load_1m:7.2f}",
            flush=True,
        )

    print(
        f"\n{'method':46} {'workers':>7} {'customers':>9} {'wall s':>8} {'s/customer':>10} "
        f"{'notebook s':>10} {'CPU s/cust':>10} {'load 1m':>7}",
        flush=True,
    )

    # the floor: same sections, one plain process
    sections = Scorecard.SECTIONS
    more = [getattr(commercial, s) for s in commercial.SECTIONS]  # as the notebook shows them
    more += [
        supply.stock_health,
        supply.phase_in_out,
        supply.safety_stock,
        supply.capacity_allocation,
    ]
    t, cpu = time.perf_counter(), cpu_seconds()
    floor_ids = customers[: args.floor_customers]
    for cid in floor_ids:
        card = Scorecard(analytics, cid)
        page = "".join(getattr(card, s)()._repr_html_() for s in sections)
        page += "".join(section(card)._repr_html_() for section in more)
        atomic_write(root / "floor" / f"{cid}.html", f"<html><body>{page}</body></html>")
    wall, n = time.perf_counter() - t, len(floor_ids)
    floor = wall / n
    add(("floor: same analytics + plots, one process", 1, n, wall, floor, floor,
                 (cpu_seconds() - cpu) / n, load()))  # fmt: skip

    # plain papermill loop: fresh kernel per customer
    loop_ids = customers[: args.loop_customers]
    t, cpu = time.perf_counter(), cpu_seconds()
    for cid in loop_ids:
        out = root / "loop" / f"{cid}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        params = {
            "customer_id": cid,
            "month": MONTH,
            "source": str(database),
            "options": {"cache_dir": str(cache), "settings": str(config)},
        }
        pm.execute_notebook(
            NOTEBOOKS / "scorecard.ipynb", out, parameters=params, progress_bar=False
        )
        atomic_write(
            out.with_suffix(".html"), notebook_html(nbformat.read(out, as_version=4), title=cid)
        )
    wall, n = time.perf_counter() - t, len(loop_ids)
    loop = wall / n
    add(("papermill loop, fresh kernel each", 1, n, wall, loop, loop,
                 (cpu_seconds() - cpu) / n, load()))  # fmt: skip

    def pack_row(name: str, workers: int, result, wall: float, cpu: float) -> tuple:
        assert not result.failed, result.failed
        cards = [r for r in result.results if r.kind == "scorecard"]
        notebook = sum(r.seconds for r in cards) / len(cards)
        n = len(customers)
        return (name, workers, n, wall, wall / n, notebook, cpu / n, load())

    packs = {}
    for workers in args.workers:
        t, cpu = time.perf_counter(), cpu_seconds()
        result = build_pack(
            MONTH,
            workers=workers,
            source=database,
            reports_dir=root / f"reports-{workers}",
            settings_path=config,
            cache_dir=cache,
            progress=False,
        )
        wall, cpu = time.perf_counter() - t, cpu_seconds() - cpu
        packs[workers] = result
        name = f"kamlab pack, warm kernels ({workers} worker{'s' * (workers > 1)})"
        add(pack_row(name, workers, result, wall, cpu))

    if args.cluster_workers:
        from distributed import LocalCluster

        n = args.cluster_workers
        cpu = cpu_seconds()  # the cluster's start and stop count too: its processes are ours
        with LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            t = time.perf_counter()
            result = build_pack(
                MONTH,
                source=database,
                reports_dir=root / "reports-dask",
                settings_path=config,
                cache_dir=cache,
                scheduler=cluster.scheduler_address,
                progress=False,
            )
            wall = time.perf_counter() - t
        cpu = cpu_seconds() - cpu
        add(pack_row(f"kamlab pack, local Dask cluster ({n} workers)", n, result, wall, cpu))

    print("\nall rows again, for the record:")
    for row in rows:
        show(row)
    sizes = [
        p.stat().st_size / 1024
        for p in (packs[args.workers[0]].directory / "customers").glob("*.html")
    ]
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\nscorecard HTML: median {sorted(sizes)[len(sizes) // 2]:.0f} KB, max {max(sizes):.0f} KB"
    )
    print(f"peak memory: this process {self_mb:.0f} MB, largest child {child_mb:.0f} MB")
    one = next((r for r in rows if r[0].startswith("kamlab pack, warm") and r[1] == 1), None)
    if one:
        print(
            f"target ≤ 1.0 s per customer per worker (1 worker): {one[4]:.2f} s wall, "
            f"{one[5]:.2f} s per notebook ({'met' if one[4] <= 1.0 else 'missed'})"
        )
        for r in rows:
            if r[0].startswith("kamlab") and r[1] > 1:
                print(
                    f"speed-up over 1 worker, {r[0]}: {one[4] / r[4]:.2f} × "
                    f"(target ≥ 1.7 ×; load {r[7]:.2f} on {os.cpu_count()} cores)"
                )
    print("machine load (1, 5, 15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    best = min(r[4] for r in rows if r[0].startswith("kamlab"))
    print(f"pack / floor: {best / floor:.2f} ×; papermill loop / pack: {loop / best:.1f} ×")


if __name__ == "__main__":
    main()
