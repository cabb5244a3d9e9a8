"""kamlab's intermittent-demand forecasts on the car-parts data next to statsforecast.

Run from the repository root (about a minute on 2 cores):

    PYTHONPATH=. python benchmarks/carparts.py

Data: ../shared/data/carparts.csv (Hyndman's expsmooth "carparts", 51 months), the series
complete over all 51 months, the last 12 months held out. Series whose in-sample scale is 0
(no demand change in the 39 training months) have undefined RMSSE/MASE and are left out of
every score (counted in the output). Metrics per series from kamlab.accuracy, then the mean
over series: RMSSE and MASE with the lag-1 naive scale (season_length = 1, as in M5 and
as the peer figures in issue 7), pinball loss of the interval bounds as quantiles (0.025,
0.1, 0.9, 0.975; statsforecast's peers get conformal intervals, 2 windows of 12 months) and
of the point forecast at 0.5 (= MAE / 2). kamlab's forecast() starts each series at its
first demand (its contract); statsforecast sees the full 39 months.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kamlab.accuracy import mase, pinball_loss, rmsse
from kamlab.forecast import forecast
from kamlab.forecast import intermittent as im

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "carparts.csv"
H = 12
QUANTILES = {"lo_95": 0.025, "lo_80": 0.1, "hi_80": 0.9, "hi_95": 0.975}


def load() -> tuple[list[str], np.ndarray]:
    wide = pd.read_csv(DATA, dtype={"month": str})
    values = wide.drop(columns="month")
    complete = sorted(values.columns[values.notna().all()])  # results come back sorted by id
    return complete, values[complete].to_numpy(dtype=float).T


def scores(
    train: np.ndarray, test: np.ndarray, point: np.ndarray, q: dict[str, np.ndarray] | None
) -> tuple[float, ...]:
    """Mean RMSSE, MASE, pinball at 0.5 and mean pinball of the interval quantiles."""
    r = [
        rmsse(a, f, y_train=x, season_length=1) for a, f, x in zip(test, point, train, strict=True)
    ]
    m = [mase(a, f, y_train=x, season_length=1) for a, f, x in zip(test, point, train, strict=True)]
    p50 = pinball_loss(test.ravel(), point.ravel(), quantile=0.5)
    pq = (
        float(
            np.mean(
                [pinball_loss(test.ravel(), q[k].ravel(), quantile=v) for k, v in QUANTILES.items()]
            )
        )
        if q
        else np.nan
    )
    return float(np.mean(r)), float(np.mean(m)), p50, pq


def main() -> None:
    parts, values = load()
    train_all, test_all = values[:, :-H], values[:, -H:]
    scale = np.mean(np.diff(train_all, axis=1) ** 2, axis=1)
    keep = scale > 0
    train, test = train_all[keep], test_all[keep]
    names = [p for p, k in zip(parts, keep, strict=True) if k]
    n = len(names)
    print(
        f"carparts: {len(parts)} complete series; {int((~keep).sum())} with a zero in-sample "
        f"scale left out; {n} scored; {train.shape[1]} months of history, {H} held out"
    )
    periods = pd.period_range("1998-01", periods=train.shape[1], freq="M")
    demand = pd.DataFrame(
        {
            "part": np.repeat(names, train.shape[1]),
            "period": np.tile(periods, n),
            "quantity": train.ravel(),
        }
    )
    rows = []

    t0 = time.perf_counter()
    fc = forecast(demand, H, keys=("part",), n_jobs=os.cpu_count()).sort_values(["part", "period"])
    wall = time.perf_counter() - t0
    grab = {k: fc[k].to_numpy().reshape(n, H) for k in ("forecast", *QUANTILES)}
    rows.append(
        (
            "kamlab.forecast (default: TSB 0.2/0.2)",
            *scores(train, test, grab["forecast"], grab),
            n / wall,
        )
    )
    used = fc.groupby("method").size() // H

    # kamlab's other intermittent methods, point forecasts, on the same trimmed series
    Y = train.copy()
    first = np.argmax(Y > 0, axis=1)
    Y[np.arange(Y.shape[1])[None, :] < first[:, None]] = np.nan
    variants = {
        "kamlab Croston (0.1)": lambda: im.croston(Y),
        "kamlab SBA (0.1)": lambda: im.croston(Y, debias=True),
        "kamlab TSB (optimised per series)": lambda: im.tsb(Y)["rate"],
        "kamlab ADIDA": lambda: im.adida(Y),
        "kamlab IMAPA": lambda: im.imapa(Y),
        "kamlab mean of TSB(opt), ADIDA, IMAPA": lambda: (
            (im.tsb(Y)["rate"] + im.adida(Y) + im.imapa(Y)) / 3
        ),
    }
    for name, fn in variants.items():
        t0 = time.perf_counter()
        rate = fn()
        wall = time.perf_counter() - t0
        rows.append(
            (name, *scores(train, test, np.repeat(rate[:, None], H, axis=1), None), n / wall)
        )
    zero = np.zeros_like(test)
    rows.append(
        ("all-zero forecast", *scores(train, test, zero, dict.fromkeys(QUANTILES, zero)), np.nan)
    )

    from statsforecast import StatsForecast
    from statsforecast.models import ADIDA, IMAPA, TSB, CrostonOptimized
    from statsforecast.utils import ConformalIntervals

    df = pd.DataFrame(
        {
            "unique_id": np.repeat(names, train.shape[1]),
            "ds": np.tile(periods.to_timestamp(), n),
            "y": train.ravel(),
        }
    )
    conformal = ConformalIntervals(h=H, n_windows=2)
    for model in (
        CrostonOptimized(prediction_intervals=conformal),
        TSB(alpha_d=0.2, alpha_p=0.2, prediction_intervals=conformal),
        ADIDA(prediction_intervals=conformal),
        IMAPA(prediction_intervals=conformal),
    ):
        sf = StatsForecast(models=[model], freq="MS", n_jobs=os.cpu_count() or 1)
        warm = df[df["unique_id"].isin(names[:2])]
        StatsForecast(models=[model], freq="MS").forecast(h=H, df=warm)  # JIT warm-up, untimed
        t0 = time.perf_counter()
        res = sf.forecast(h=H, df=df, level=[80, 95]).sort_values(["unique_id", "ds"])
        wall = time.perf_counter() - t0
        alias = str(model)
        cols = {
            "lo_95": f"{alias}-lo-95",
            "lo_80": f"{alias}-lo-80",
            "hi_80": f"{alias}-hi-80",
            "hi_95": f"{alias}-hi-95",
        }
        q = {k: np.maximum(res[c].to_numpy().reshape(n, H), 0) for k, c in cols.items()}
        point = res[alias].to_numpy().reshape(n, H)
        rows.append((f"statsforecast {alias}", *scores(train, test, point, q), n / wall))

    table = pd.DataFrame(
        rows, columns=["model", "RMSSE", "MASE", "pinball 0.5", "pinball q", "series/s"]
    )
    with pd.option_context("display.width", 140, "display.precision", 4):
        print(table.to_string(index=False))
    print("pinball q = mean pinball loss over the quantiles", list(QUANTILES.values()))
    print("kamlab methods used:", {k: int(v) for k, v in used.items()})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
