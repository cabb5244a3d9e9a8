"""kamlab's intermittent-demand forecasts on the car-parts data next to statsforecast.

Run from the repository root (peers are fitted once, then read from benchmarks/.cache/):

    PYTHONPATH=. python benchmarks/carparts.py [--validation] [--refresh]

Data: ../shared/data/carparts.csv (Hyndman's expsmooth "carparts", 51 months), the series
complete over all 51 months, the last 12 months held out. Series whose in-sample scale is 0
(no demand change in the 39 training months) have undefined RMSSE/MASE and are left out of
every score (counted in the output). Metrics per series from kamlab.accuracy, then the mean
over series: RMSSE and MASE with the lag-1 naive scale (season_length = 1, as in M5 and
as the peer figures in issue 7), pinball loss of the interval bounds as quantiles (0.025,
0.1, 0.9, 0.975; statsforecast's peers get conformal intervals, 2 windows of 12 months) and
of the point forecast at 0.5 (= MAE / 2); the portfolio's total bias = Σ forecasts / Σ
actuals − 1 over all series and months (per-series RMSSE rewards shrinking towards zero; the
total bias shows it); 80 / 95 % coverage. kamlab's forecast() starts each series at its
first demand (its contract); statsforecast sees the full 39 months.

``--validation`` scores on the last 12 training months instead (history: the first 27),
without reading the test year: the mode in which kamlab's choices are made.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import cpu_seconds, peer_forecasts

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
) -> dict[str, float]:
    """Mean RMSSE, MASE, pinball losses, total bias and coverage."""
    r = [
        rmsse(a, f, y_train=x, season_length=1) for a, f, x in zip(test, point, train, strict=True)
    ]
    m = [mase(a, f, y_train=x, season_length=1) for a, f, x in zip(test, point, train, strict=True)]
    out = {
        "RMSSE": float(np.mean(r)),
        "MASE": float(np.mean(m)),
        "total bias %": float(100 * (point.sum() / test.sum() - 1)),
        "pinball 0.5": pinball_loss(test.ravel(), point.ravel(), quantile=0.5),
        "pinball q": np.nan,
        "cov 80": np.nan,
        "cov 95": np.nan,
    }
    if q:
        out["pinball q"] = float(
            np.mean(
                [pinball_loss(test.ravel(), q[k].ravel(), quantile=v) for k, v in QUANTILES.items()]
            )
        )
        for lv in (80, 95):
            out[f"cov {lv}"] = float(
                100 * np.mean((q[f"lo_{lv}"] <= test) & (test <= q[f"hi_{lv}"]))
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validation", action="store_true", help="score on the last training year")
    parser.add_argument("--refresh", action="store_true", help="refit the cached peers")
    parser.add_argument("--rule", help="development only: a fixed rate method for all series")
    args = parser.parse_args()
    if args.rule:
        im.RATE_RULE = args.rule
    parts, values = load()
    if args.validation:
        values = values[:, :-H]
    train_all, test_all = values[:, :-H], values[:, -H:]
    scale = np.mean(np.diff(train_all, axis=1) ** 2, axis=1)
    keep = scale > 0
    train, test = train_all[keep], test_all[keep]
    names = [p for p, k in zip(parts, keep, strict=True) if k]
    n = len(names)
    what = "VALIDATION (last training year)" if args.validation else "test year"
    print(
        f"carparts: {len(parts)} complete series; {int((~keep).sum())} with a zero in-sample "
        f"scale left out; {n} scored; {train.shape[1]} months of history, {H} held out; "
        f"scored on the {what}"
    )
    periods = pd.period_range("1998-01", periods=train.shape[1], freq="M")
    demand = pd.DataFrame(
        {
            "part": np.repeat(names, train.shape[1]),
            "period": np.tile(periods, n),
            "quantity": train.ravel(),
        }
    )
    rows = {}
    c0, t0 = cpu_seconds(), time.perf_counter()
    fc = forecast(demand, H, keys=("part",), n_jobs=os.cpu_count()).sort_values(["part", "period"])
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    grab = {k: fc[k].to_numpy().reshape(n, H) for k in ("forecast", *QUANTILES)}
    rows["kamlab.forecast (validated choice)"] = {
        **scores(train, test, grab["forecast"], grab),
        "series/s": n / wall,
        "CPU ms/series": 1000 * cpu / n,
    }
    used = (fc.groupby("method").size() // H).sort_values(ascending=False)

    # each of kamlab's rate methods alone, on the same trimmed series (point forecasts)
    Y = train.copy()
    first = np.argmax(Y > 0, axis=1)
    Y[np.arange(Y.shape[1])[None, :] < first[:, None]] = np.nan
    rates = im._rates(Y, 12, (0.2, 0.2))
    for name, rate in rates.items():
        rows[f"kamlab {name} alone"] = scores(
            train, test, np.repeat(rate[:, None], H, axis=1), None
        )

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
    key = "carparts-validation" if args.validation else "carparts"
    for model in (
        CrostonOptimized(prediction_intervals=conformal),
        TSB(alpha_d=0.2, alpha_p=0.2, prediction_intervals=conformal),
        ADIDA(prediction_intervals=conformal),
        IMAPA(prediction_intervals=conformal),
    ):
        r = peer_forecasts(key, df, model, H, freq="MS", refresh=args.refresh)
        q = {k: np.maximum(r[k], 0) for k in QUANTILES}
        rows[f"statsforecast {model}"] = {
            **scores(train, test, r["mean"], q),
            "series/s": n / r["wall"],
            "CPU ms/series": 1000 * r["cpu"] / n,
        }
    table = pd.DataFrame(rows).T
    with pd.option_context("display.width", 180):
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print("pinball q = mean pinball loss over the quantiles", list(QUANTILES.values()))
    print("kamlab methods chosen:", {k: int(v) for k, v in used.items()})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
