"""kamlab.forecast.ets against statsmodels' ETSModel, and its AICc choice on seeded series.

The recursions are checked state for state: our compiled kernel run at one grid point from
the heuristic initial states (recomputed here with numpy.polyfit, independently of the
kernel's own code) must give statsmodels' forecasts with the same parameters and states.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from kamlab.forecast import ets as E

M, W, N, H = 12, 36, 60, 6


def _series(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(N)
    return (100 + 2 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / M)) * np.exp(rng.normal(0, 0.03, N))


def _initial(y: np.ndarray, season: int) -> tuple[float, float, np.ndarray]:
    """Hyndman et al. (2008) §2.6.1 as the kernel documents it, written with numpy.polyfit."""
    k = np.arange(W)
    d, c = np.polyfit(k, y[:W], 1)
    fit = c + d * k
    detr = y[:W] / fit if season == 2 else y[:W] - fit
    idx = np.array([detr[k % M == p].mean() for p in range(M)])
    idx = idx / idx.mean() if season == 2 else idx - idx.mean()
    adj = y[:W] / idx[k % M] if season == 2 else y[:W] - idx[k % M]
    d2, c2 = np.polyfit(k, adj, 1)
    return c2 - d2, d2, idx


def _ours(y, season, model, alpha, beta, phi, gamma):
    crit = np.full((1, 1, len(E.MODELS)), np.inf)
    fc = np.full((1, 1, len(E.MODELS), H), np.nan)
    sig2, par = np.full(crit.shape, np.nan), np.zeros((*crit.shape, 4))
    ma, mm = (model, -1) if model in (3, 11) else (-1, model)
    E._ets_rows(
        y[None, :].copy(),
        np.array([0]),
        np.array([W]),
        np.array([N]),
        M,
        True,
        season,
        18,
        *(np.array([v]) for v in (alpha, beta, phi, gamma)),
        ma,
        mm,
        -1,
        -1,
        crit,
        fc,
        sig2,
        par,
    )
    return fc[0, 0, model]


@pytest.mark.parametrize(
    ("error", "season", "model", "rtol"),
    [("add", 1, 3, 1e-9), ("mul", 1, 7, 1e-9), ("mul", 2, 9, 5e-4)],
)
def test_the_recursions_give_statsmodels_forecasts(error, season, model, rtol):
    """Additive season: equal to rounding. Multiplicative season: statsmodels' seasonal
    update differs from the book's s(1 + γε) in the fourth digit (with γ = 0 they agree to
    rounding, see the last assertion)."""
    y = _series()
    l0, b0, idx = _initial(y, season)
    params = (0.2, 0.02, 0.9, 0.03)
    ours = _ours(y, season, model, *params)
    mod = ETSModel(
        pd.Series(y),
        error=error,
        trend="add",
        damped_trend=True,
        seasonal="add" if season == 1 else "mul",
        seasonal_periods=M,
        initialization_method="known",
        initial_level=l0,
        initial_trend=b0,
        initial_seasonal=idx,
    )
    names = ("smoothing_level", "smoothing_trend", "damping_trend", "smoothing_seasonal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mod.fix_params(dict(zip(names, params, strict=True))):
            ref = np.asarray(mod.fit(disp=False).forecast(H))
        if season == 2:
            with mod.fix_params(dict(zip(names, (*params[:3], 0.0), strict=True))):
                ref0 = np.asarray(mod.fit(disp=False).forecast(H))
            assert _ours(y, season, model, *params[:3], 0.0) == pytest.approx(ref0, rel=1e-9)
    assert ours == pytest.approx(ref, rel=rtol)


def test_aicc_finds_the_season_and_forecasts_as_well_as_statsmodels_maximum_likelihood():
    """On seeded multiplicative seasonal series the AICc choice is a seasonal model, and its
    forecasts are about as close to the noise-free truth as statsmodels' ETS(M,A,M) fitted
    by maximum likelihood (grid parameters and heuristic initial states cost little)."""
    ys = np.array([_series(s) for s in range(4)])
    t = np.arange(N, N + 12)
    truth = (100 + 2 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / M))
    fit = E.ets(ys, 12, M)
    assert all(name.endswith("M") for name in fit["model"])
    ours, ref = [], []
    for y, f in zip(ys, fit["mean"], strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = ETSModel(
                pd.Series(y), error="mul", trend="add", seasonal="mul", seasonal_periods=M
            ).fit(disp=False).forecast(12)  # fmt: skip
        ours.append(np.mean(np.abs(f / truth - 1)))
        ref.append(np.mean(np.abs(np.asarray(r) / truth - 1)))
    assert np.mean(ours) < 0.05
    assert np.mean(ours) <= 1.25 * np.mean(ref) + 0.005


def test_a_series_without_season_gets_a_model_without_one_and_a_growing_spread():
    rng = np.random.default_rng(7)
    y = 100 + np.cumsum(rng.normal(0, 2, (5, 60)), axis=1)
    fit = E.ets(y, 12, M)
    assert np.mean([name.endswith("N") for name in fit["model"]]) >= 0.8
    assert (np.diff(fit["sigma"], axis=1) >= 0).all()


def test_the_stops_repeat_separate_fits_bit_for_bit():
    ys = np.array([_series(s) for s in range(3)])
    both = E.ets_forecasts(ys, 6, [48, 54, 60], M)
    # a separate fit on the first 54 columns, initial states from the values before 48
    alone = E.ets_forecasts(ys[:, :54], 6, [48, 54], M)
    assert np.array_equal(both["mean"][1], alone["mean"][1])
    assert np.array_equal(both["crit"][:2], alone["crit"])


def test_the_median_and_seasonal_choices_leave_out_undamped_trends():
    """A steep linear trend: the full AICc choice takes an undamped trend on some rows (so the
    check can fail), the ``damped_`` and ``seasonal_`` choices never do, and they stay among
    the models allowed (the seasonal one with a season); reruns are bit-for-bit equal."""
    rng = np.random.default_rng(11)
    t = np.arange(N)
    ys = (50 + 4 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / M)) + rng.normal(0, 2, (6, N))
    r = E.ets_forecasts(ys, 12, [N], M)
    names = np.array(E.MODELS)
    assert any(n[1:-1] == "A" for n in names[r["model"][0]])
    for prefix in ("damped_", "seasonal_"):
        chosen = names[r[prefix + "model"][0]]
        assert all(n[1:-1] != "A" for n in chosen)
        assert np.isfinite(r[prefix + "mean"]).all() and (r[prefix + "mean"] > 0).all()
    assert all(n[-1] != "N" for n in names[r["seasonal_model"][0]])
    again = E.ets_forecasts(ys, 12, [N], M)
    assert all(np.array_equal(again[k], r[k]) for k in ("mean", "damped_mean", "seasonal_mean"))
