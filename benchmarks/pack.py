"""Seconds per customer of the monthly pack against two references, measured in one run.

    PYTHONPATH=. python benchmarks/pack.py [--customers 40] [--loop-customers 8]

Builds the 40-customer demo (history to 2025-06) into a temporary folder, prepares the
month's shared analytics once (cached on disk; every method below reads the same cache,
so the table compares per-customer work only), then times:

* floor          the same sections (tables + seaborn figures) for every customer in one
                 plain Python process, written as one HTML page per customer;
* papermill loop the scorecard notebook per customer with plain ``papermill`` (a fresh
                 kernel each time) plus the same nbconvert HTML export, on the first
                 ``--loop-customers`` customers (it is slow; per-customer time is what counts);
* kamlab pack    ``build_pack`` with 1 and 2 workers: warm kernels, real papermill, HTML,
                 index, Excel and run log — wall time of the whole build / customers.

Targets (issue 5): pack ≤ 1.5 × floor and ≥ 3 × faster than the papermill loop.
Peak memory is the largest resident set of this process and of any child (kernels).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

MONTH = "2025-06"
FX = "fx_rates = { EUR = 1.0, USD = 0.92, CHF = 1.05, GBP = 1.17 }\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--loop-customers", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
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
    from kamlab.scorecard import Scorecard

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

    rows = []

    # the floor: same sections, one plain process
    sections = Scorecard.SECTIONS
    t = time.perf_counter()
    for cid in customers:
        card = Scorecard(analytics, cid)
        page = "".join(getattr(card, s)()._repr_html_() for s in sections)
        atomic_write(root / "floor" / f"{cid}.html", f"<html><body>{page}</body></html>")
    floor = (time.perf_counter() - t) / len(customers)
    rows.append(
        (
            "floor: same analytics + plots, one process",
            1,
            len(customers),
            floor * len(customers),
            floor,
        )
    )

    # plain papermill loop: fresh kernel per customer
    loop_ids = customers[: args.loop_customers]
    t = time.perf_counter()
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
    loop = (time.perf_counter() - t) / len(loop_ids)
    rows.append(("papermill loop, fresh kernel each", 1, len(loop_ids), loop * len(loop_ids), loop))

    packs = {}
    for workers in args.workers:
        t = time.perf_counter()
        result = build_pack(
            MONTH,
            workers=workers,
            source=database,
            reports_dir=root / f"reports-{workers}",
            settings_path=config,
            cache_dir=cache,
            progress=False,
        )
        wall = time.perf_counter() - t
        failed = len(result.failed)
        assert failed == 0, result.failed
        packs[workers] = result
        rows.append(
            (
                f"kamlab pack, warm kernels ({workers} worker{'s' * (workers > 1)})",
                workers,
                len(customers),
                wall,
                wall / len(customers),
            )
        )

    print()
    print(
        f"{'method':48} {'workers':>7} {'customers':>9} {'wall s':>8} {'s/customer':>10} {'× floor':>8} {'loop ×':>7}"
    )
    for name, workers, n, wall, per in rows:
        print(
            f"{name:48} {workers:>7} {n:>9} {wall:8.1f} {per:10.2f} {per / floor:8.2f} {loop / per:7.1f}"
        )
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
    best = min(per for name, _, _, _, per in rows if name.startswith("kamlab"))
    print(
        f"targets: pack ≤ 1.5 × floor: {best / floor:.2f} × ({'met' if best <= 1.5 * floor else 'missed'}); "
        f"≥ 3 × faster than papermill loop: {loop / best:.1f} × ({'met' if loop >= 3 * best else 'missed'})"
    )


if __name__ == "__main__":
    main()
