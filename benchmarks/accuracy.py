"""Benchmark kamlab.accuracy.score at the large demo size against a naive groupby-apply version.

Run by hand (once; the machine is shared):  PYTHONPATH=. python benchmarks/accuracy.py
Options: --customers N (default 2000), --keep DIR.

Data: ``kamlab.data.demo.generate(customers=2000, materials=2000, months=60, end="2025-12")``:
actuals = ``monthly_demand(orders)`` up to 2025-12; forecasts = the customers' own snapshots
plus naive snapshots (kamlab.accuracy.naive_snapshots) for the same series, both cut to lags
1-6 and the last 24 target months. Each path runs in a fresh subprocess that reads the
frames from Parquet, so its peak RSS (ru_maxrss) is its own; the table shows it in total and
above the memory the loaded frames already took.

Peer figure: the same table (customer × source × lag × metric × both poolings) computed the
way one writes it first, pandas ``groupby(...).apply`` calling the array kernels per group.
The two must agree on every value (the largest difference is printed). The peer takes
minutes per hundred customers here, so it runs on the first ``--peer-customers`` customers
and kamlab is timed on that same subset for the speed-up, and once more at full size.

Measured 2026-11-22 on the shared 2-core machine (load ~9, so wall ≫ CPU):

    path                                 cust.   fc rows   wall s   CPU s  peak MB  +loaded
    kamlab score, vectorised (full)      1,701  8,332,369   154.6    45.2    3,330      279
    kamlab score, vectorised (subset)      200    977,387    14.9     3.9    3,051        0
    peer: groupby-apply of the kernels     200    977,387   535.6   178.1    3,051        0
    speed-up on the same data: 36.0x wall, 46.0x CPU; 38,400 values agree to 2.9e-11
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

END = "2025-12"
MONTHS = 60
MATERIALS = 2000
LAGS = (1, 2, 3, 4, 5, 6)
WINDOW = 24  # target months scored
METRICS = ("mae", "rmse", "mape", "smape", "wape", "accuracy", "bias", "mase")
BY = ("customer_id",)


def _prepare(customers: int, out: Path) -> str:
    from kamlab.accuracy import forecast_lag, naive_snapshots
    from kamlab.data.demo import generate
    from kamlab.demand import monthly_demand

    d = generate(customers=customers, materials=MATERIALS, months=MONTHS, end=END)
    end = pd.Period(END, "M")
    actuals = monthly_demand(d["orders"])
    actuals = actuals[actuals["period"] <= end][
        ["customer_id", "material_id", "period", "quantity"]
    ]
    first = end - (WINDOW - 1)
    cf = d["customer_forecasts"].assign(source="customer")
    cf = cf[(cf["period"] >= first) & (cf["period"] <= end)]
    cf = cf[forecast_lag(cf["snapshot_date"], cf["period"]).isin(LAGS)]
    series = cf[["customer_id", "material_id"]].drop_duplicates()
    known = actuals.merge(series, on=["customer_id", "material_id"])
    snaps = pd.period_range(first - 6, end - 1, freq="M").to_timestamp(how="end").normalize()
    naive = naive_snapshots(known, snapshot_dates=snaps, lags=LAGS)
    naive = naive[(naive["period"] >= first) & (naive["period"] <= end)]
    forecasts = pd.concat([cf, naive], ignore_index=True)
    for name, frame in (("actuals", actuals), ("forecasts", forecasts)):
        frame = frame.assign(period=frame["period"].array.asi8)
        frame.attrs = {}  # attrs holding DataFrames cannot be written to Parquet metadata
        frame.to_parquet(out / f"{name}.parquet")
    return (
        f"generate(customers={customers}, materials={MATERIALS}, months={MONTHS}): "
        f"{len(actuals):,} actual rows, {len(series):,} forecast series, "
        f"{len(forecasts):,} forecast rows (customer {len(cf):,} + naive {len(naive):,})"
    )


def _load(data: Path, customers: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frames, cut to the first `customers` customer ids (None: all)."""
    frames = []
    for name in ("actuals", "forecasts"):
        f = pd.read_parquet(data / f"{name}.parquet")
        f["period"] = pd.PeriodIndex.from_ordinals(f["period"].to_numpy(), freq="M")
        frames.append(f)
    if customers is not None:
        keep = np.sort(frames[1]["customer_id"].unique())[:customers]
        frames = [f[f["customer_id"].isin(keep)].reset_index(drop=True) for f in frames]
    return frames[0], frames[1]


def _naive_score(actuals: pd.DataFrame, forecasts: pd.DataFrame) -> pd.DataFrame:
    """The same table by groupby-apply over the array kernels (the obvious first version)."""
    from kamlab import accuracy as acc
    from kamlab.accuracy import pair_forecasts
    from kamlab.accuracy.metrics import _naive_scale

    pairs = pair_forecasts(actuals, forecasts, lags=LAGS, as_of=END)
    pairs.attrs = {}  # pandas' concat inside apply cannot compare attrs holding DataFrames
    history = {
        k: g["quantity"].to_numpy()
        for k, g in actuals.groupby(["customer_id", "material_id"], observed=True)
    }
    scale = {k: _naive_scale(v, 12, 1) for k, v in history.items()}  # no history: NaN
    kernels = {m: getattr(acc, m) for m in METRICS if m != "mase"}

    def per_series(g: pd.DataFrame) -> pd.Series:
        y, f = g["actual"], g["forecast"]
        out = {m: k(y, f) for m, k in kernels.items()}
        out["mase"] = acc.mase(y, f, y_train=history.get((g.name[0], g.name[-1]), []))
        return pd.Series(out)

    def volume(g: pd.DataFrame) -> pd.Series:
        y, f = g["actual"].to_numpy(), g["forecast"].to_numpy()
        out = {m: k(y, f) for m, k in kernels.items()}
        # volume MASE: mean over points of |e| / their series' scale (scale 0: only exact points)
        sc = g["scale"].to_numpy()
        ok = (sc > 0) | ((sc == 0) & (y == f))
        terms = np.abs(f - y)[ok] / np.where(sc[ok] > 0, sc[ok], 1.0)
        out["mase"] = float(np.mean(terms)) if ok.any() else np.nan
        return pd.Series(out)

    pairs["scale"] = pairs[["customer_id", "material_id"]].apply(tuple, axis=1).map(scale)
    keys = [*BY, "source", "lag"]
    vol = pairs.groupby(keys).apply(volume).stack().rename("value")
    per = pairs.groupby([*keys, "material_id"]).apply(per_series)
    mean = per.groupby(level=list(range(len(keys)))).mean().stack().rename("value")
    out = pd.concat(
        [
            vol.reset_index().assign(pooling="volume"),
            mean.reset_index().assign(pooling="series_mean"),
        ]
    )
    return out.rename(columns={f"level_{len(keys)}": "metric"})


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _step(name: str, data: Path, customers: int | None) -> dict:
    actuals, forecasts = _load(data, customers)
    loaded = _maxrss_mb()
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    if name == "vectorised":
        from kamlab.accuracy import score

        table = score(actuals, forecasts, by=BY, lags=LAGS, metrics=METRICS, as_of=END)
    else:
        table = _naive_score(actuals, forecasts)
    seconds = time.perf_counter() - t0
    result = table[["customer_id", "source", "lag", "metric", "pooling", "value"]]
    result.attrs = {}  # attrs holding DataFrames cannot be written to Parquet metadata
    result.to_parquet(data / f"result_{name}_{customers}.parquet")
    return {
        "seconds": seconds,
        "peak_mb": _maxrss_mb(),
        "above_loaded_mb": _maxrss_mb() - loaded,
        "cpu_s": _cpu_s() - cpu0,
        "rows": len(table),
        "customers": int(forecasts["customer_id"].nunique()),
        "forecast_rows": len(forecasts),
    }


def _run(step: str, data: Path, customers: int | None) -> dict:
    cmd = [sys.executable, __file__, "--step", step, "--data", str(data)]
    if customers is not None:
        cmd += ["--subset", str(customers)]
    run = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def _row(label: str, f: dict) -> str:
    return (
        f"{label:<44}{f['customers']:>6,}{f['forecast_rows']:>12,}{f['seconds']:>9.1f}"
        f"{f['cpu_s']:>9.1f}{f['peak_mb']:>10.0f}{f['above_loaded_mb']:>10.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument(
        "--peer-customers",
        type=int,
        default=200,
        help="customers the (slow) peer and the like-for-like kamlab run score; 0 = all",
    )
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--step", choices=["vectorised", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--subset", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.data, args.subset)))
        return
    subset = args.peer_customers or None
    with tempfile.TemporaryDirectory() as tmp:
        data = args.keep or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        described = _prepare(args.customers, data)
        print(f"data: {described} ({time.perf_counter() - t0:.0f} s to build)", flush=True)
        full = _run("vectorised", data, None)
        ours = _run("vectorised", data, subset)
        peer = _run("naive", data, subset)
        key = ["customer_id", "source", "lag", "metric", "pooling"]
        a = pd.read_parquet(data / f"result_vectorised_{subset}.parquet").set_index(key)["value"]
        b = pd.read_parquet(data / f"result_naive_{subset}.parquet").set_index(key)["value"]
        both = pd.concat([a.rename("ours"), b.rename("peer")], axis=1, join="outer")
        diff = (both["ours"] - both["peer"]).abs()
        same_nan = bool((both["ours"].isna() == both["peer"].isna()).all())
    print()
    print(
        f"{'path':<44}{'cust.':>6}{'fc rows':>12}{'wall s':>9}{'CPU s':>9}"
        f"{'peak MB':>10}{'+loaded':>10}"
    )
    print(_row("kamlab score, vectorised (full size)", full))
    print(_row("kamlab score, vectorised (peer's subset)", ours))
    print(_row("peer: groupby-apply of the kernels", peer))
    print(
        f"speed-up on the same data: {peer['seconds'] / ours['seconds']:.1f}x wall, "
        f"{peer['cpu_s'] / ours['cpu_s']:.1f}x CPU (target >= 10x)"
    )
    print(
        f"values compared: {len(both):,}; max |difference| {np.nanmax(diff):.2e}; "
        f"NaN in the same places: {same_nan}"
    )


if __name__ == "__main__":
    main()
