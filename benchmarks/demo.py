"""Benchmark the demo data generator at the default and the large size.

Run by hand (once; the machine is shared):  PYTHONPATH=. python benchmarks/demo.py
Options: --sizes default,large (which sizes), --write DIR (also time write_demo to CSV there).

Each size runs in a fresh subprocess so its peak RSS (ru_maxrss) is its own. Reported: wall
and CPU seconds, peak memory, rows generated (all tables) and rows per CPU second.

Peer figure: ``utilsforecast.data.generate_series`` (Nixtla's seeded panel generator, the
STYLE.md anchor for "one seeded generator") producing as many monthly series x months as our
demand grid has customer x material series, timed the same way. It only makes one demand
table, so its rows/s is an upper bound for "a seeded generator in pandas", not a like-for-like
comparison.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SIZES = {
    "default": {"customers": 40, "materials": 400, "months": 36},
    "large": {"customers": 2000, "materials": 2000, "months": 60},
}
END = "2025-12"


def _ours(size: str, write: str | None) -> dict:
    from kamlab.data.demo import generate, write_demo

    kw = {**SIZES[size], "end": END}
    wall, cpu = time.perf_counter(), time.process_time()
    frames = generate(**kw)
    out = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "rows": sum(len(f) for f in frames.values()),
        "orders": len(frames["orders"]),
        "series": len(frames["orders"][["customer_id", "material_id"]].drop_duplicates()),
        "frames_mb": sum(f.memory_usage(deep=True).sum() for f in frames.values()) / 2**20,
    }
    if write:
        del frames
        wall = time.perf_counter()
        write_demo(f"{write}/{size}", **kw)
        out["write_csv_s"] = time.perf_counter() - wall
    return out


def _peer(series: int, months: int) -> dict:
    from utilsforecast.data import generate_series

    wall, cpu = time.perf_counter(), time.process_time()
    frame = generate_series(series, freq="MS", min_length=months, max_length=months, seed=0)
    return {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "rows": len(frame),
    }


def _child(args: argparse.Namespace) -> None:
    if args.child == "ours":
        result = _ours(args.size, args.write)
    else:
        result = _peer(args.series, args.months)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run(*extra: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *extra], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="default,large")
    parser.add_argument("--write", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--size", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--series", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--months", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    header = f"{'size':<8} {'who':<22} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'rows':>11} {'rows/cpu s':>11}"
    print(header)
    print("-" * len(header))
    for size in args.sizes.split(","):
        extra = ["--write", args.write] if args.write else []
        ours = _run("--child", "ours", "--size", size, *extra)
        months = SIZES[size]["months"]
        peer = _run("--child", "peer", "--series", str(ours["series"]), "--months", str(months))
        for who, r in (("kamlab demo (all tables)", ours), ("utilsforecast (demand)", peer)):
            print(
                f"{size:<8} {who:<22} {r['wall_s']:>7.1f} {r['cpu_s']:>7.1f} "
                f"{r['peak_mb']:>8.0f} {r['rows']:>11,} {r['rows'] / max(r['cpu_s'], 1e-9):>11,.0f}"
            )
        print(
            f"{'':<8} ours: {ours['orders']:,} order lines, {ours['series']:,} series, "
            f"frames {ours['frames_mb']:,.0f} MB"
            + (f", write_demo CSV {ours['write_csv_s']:.1f} s" if "write_csv_s" in ours else "")
        )


if __name__ == "__main__":
    main()
