"""kamlab.forecast's validation: seeded simulations where the right model is known.

The rolling-origin validation (kamlab.forecast.selection) must rank the right model family
first on series simulated from it; the intermittent choice must find the right rate; a
quarterly series is handled seasonally with season_length=4; the growing demo customer gets
an upward forecast; intervals cover simulated data at close to their nominal rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlab.forecast import backtest, forecast
from kamlab.forecast import intermittent as im
from kamlab.forecast import selection as sl

RNG_SEED = 42
C = {k: i for i, k in enumerate(sl.CANDIDATES)}


def _err(Y: np.ndarray, h: int = 12, m: int = 12) -> np.ndarray:
    return sl._validate(Y, h, m, 2 * m)[0]


def _better(err: np.ndarray, a: tuple[str, str], b: tuple[str, str]) -> float:
    """Share of series where candidate `a` has the lower validation error than `b`."""
    return float(np.mean(err[:, C[a]] < err[:, C[b]]))


def test_validation_prefers_a_trend_model_on_linear_trend_series():
    rng = np.random.default_rng(RNG_SEED)
    t = np.arange(48)
    Y = 100 + 4.0 * t + rng.normal(0, 4, (60, 48))
    err = _err(Y)
    assert _better(err, ("Holt", "raw"), ("SES", "raw")) >= 0.9
    assert _better(err, ("Holt", "raw"), ("Damped", "raw")) >= 0.6
    pool = [
        c
        for c, (name, _) in enumerate(sl.CANDIDATES)
        if name not in ("ETS", "ETS seasonal", "SCUM")
    ]
    e = np.where(np.isnan(err[:, pool]), np.inf, err[:, pool])
    best = [sl.CANDIDATES[pool[i]][0] for i in np.argmin(e, 1)]  # the 17 of the combination's pool
    trended = {"Holt", "Damped", "DOTM", "Theta", "ARI", "DOTM+Theta+Damped"}
    assert np.mean([b in trended for b in best]) >= 0.8


def test_validation_prefers_the_damped_trend_on_a_flattening_series():
    rng = np.random.default_rng(RNG_SEED)
    t = np.arange(48)
    Y = 100 + np.cumsum(6 * 0.94**t) + rng.normal(0, 1.5, (60, 48))
    err = _err(Y)
    assert _better(err, ("Damped", "raw"), ("Holt", "raw")) >= 0.8
    assert _better(err, ("Damped", "raw"), ("SES", "raw")) >= 0.7


def test_validation_and_the_engine_treat_a_seasonal_series_seasonally():
    rng = np.random.default_rng(RNG_SEED)
    t = np.arange(60)
    Y = 200 * (1 + 0.4 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 6, (60, 60))
    seasonal, _, _ = sl._adjustment(Y[:, :48], 12, 24)
    assert seasonal.mean() >= 0.9  # seen before the first validation origin
    err = _err(Y)
    assert _better(err, ("DOTM+Theta+Damped", "raw"), ("Naive", "raw")) >= 0.9
    assert _better(err, ("DOTM+Theta+Damped", "raw"), ("Mean", "raw")) >= 0.9


def test_multiplicative_seasonality_is_found_and_its_swing_grows_with_the_level():
    rng = np.random.default_rng(RNG_SEED)
    t = np.arange(60)
    season = 1 + 0.5 * np.sin(2 * np.pi * t / 12)
    Y = (100 + 1.0 * t) * season * np.exp(rng.normal(0, 0.03, (20, 60)))
    fc = forecast(_frame(Y), 12, n_jobs=1)
    assert fc["reason"].str.contains("seasonal (90 % ACF test)", regex=False).mean() >= 0.9
    assert fc["method"].str.endswith("in logs").all()
    f = fc.pivot_table(index="material_id", columns="period", values="forecast").to_numpy()
    truth = (100 + np.arange(60, 72)) * (1 + 0.5 * np.sin(2 * np.pi * np.arange(60, 72) / 12))
    assert np.median(np.abs(f / truth - 1)) < 0.08
    # the swing is proportional to the level: peak / trough as in the data (1.5 / 0.5)
    assert np.median(f.max(axis=1) / f.min(axis=1)) == pytest.approx(3.0, rel=0.2)


def test_the_intermittent_choice_finds_the_rate_and_a_dead_series():
    rng = np.random.default_rng(RNG_SEED)
    live = rng.poisson(0.3, (200, 48)) * 4.0  # rate 1.2 a month
    dead = np.r_[rng.poisson(0.5, 30) * 4.0, np.zeros(18)][None, :]
    dead[0, 0] = 4.0
    fit = im.validated_rate(np.vstack([live, dead]), 12, m=12, levels=(80,))
    assert np.median(fit["rate"][:-1]) == pytest.approx(1.2, rel=0.25)
    assert fit["method"][-1] == "Zero" and fit["rate"][-1] == 0.0
    assert set(fit["method"][:-1]) <= set(im.RATE_METHODS)
    assert (fit["validated"] == 12).all()


def _frame(Y: np.ndarray, freq: str = "M", end: str = "2024-12") -> pd.DataFrame:
    periods = pd.period_range(end=pd.Period(end, freq), periods=Y.shape[1], freq=freq)
    return pd.DataFrame(
        {
            "customer_id": "C",
            "material_id": np.repeat([f"M{i:03d}" for i in range(len(Y))], Y.shape[1]),
            "period": np.tile(periods, len(Y)),
            "quantity": Y.ravel(),
        }
    )


def test_a_quarterly_series_is_forecast_seasonally_in_quarters():
    rng = np.random.default_rng(RNG_SEED)
    season = np.array([0.6, 1.0, 1.4, 1.0])
    y = 100 * np.tile(season, 8) * np.exp(rng.normal(0, 0.03, 32))
    fc = forecast(_frame(y[None, :], "Q", "2024Q4"), 8, season_length=4, n_jobs=1)
    assert fc["period"].iloc[0] == pd.Period("2025Q1", "Q")
    reason = fc["reason"].iloc[0]
    assert "seasonal (90 % ACF test)" in reason or "with a seasonal component" in reason
    assert np.allclose(fc["forecast"], 100 * np.tile(season, 2), rtol=0.08)
    # without seasons (season_length=1) the same series gets a flat forecast
    flat = forecast(_frame(y[None, :], "Q", "2024Q4"), 8, season_length=1, n_jobs=1)
    assert np.ptp(flat["forecast"]) < 0.2 * np.ptp(fc["forecast"])


def test_the_growing_demo_customer_gets_an_upward_forecast():
    from kamlab.data.demo import generate
    from kamlab.demand import monthly_demand

    data = generate(end="2025-06")
    grower = data["customers"].loc[
        data["customers"].astype(str).apply(lambda c: c.str.contains("Keystone")).any(axis=1),
        "customer_id",
    ]
    orders = data["orders"][data["orders"]["customer_id"].isin(grower)]
    demand = monthly_demand(orders, date_column="order_date")
    end = demand["period"].max()
    fc = forecast(demand, 12, end=end, n_jobs=1)
    total = fc.groupby("period")["forecast"].sum().to_numpy()
    history = demand.groupby("period")["quantity"].sum()
    last_year = history[history.index > end - 12].sum()
    assert total.sum() > last_year  # a year ahead above the last year
    assert total[-1] > total[0]  # and rising


def test_coverage_on_simulated_series_is_within_three_points_of_nominal():
    """Local-level series (random walk plus noise: the model behind SES and the spread)."""
    rng = np.random.default_rng(RNG_SEED)
    n, T, h = 600, 60, 12
    y = 200 + np.cumsum(rng.normal(0, 3, (n, T + h)), axis=1) + rng.normal(0, 6, (n, T + h))
    fc = forecast(_frame(y[:, :T]), h, n_jobs=1).sort_values(["material_id", "period"])
    future = y[:, T:].ravel()
    for lv in (80, 95):
        inside = (fc[f"lo_{lv}"].to_numpy() <= future) & (future <= fc[f"hi_{lv}"].to_numpy())
        assert abs(100 * inside.mean() - lv) <= 3, (lv, inside.mean())


def test_a_backtest_origin_never_sees_data_after_it():
    rng = np.random.default_rng(RNG_SEED)
    y = 100 + rng.normal(0, 5, (3, 40))
    d = _frame(y)
    bt = backtest(d, origins=2, max_lag=3, n_jobs=1)
    cut = pd.Period("2024-12", "M") - 2
    changed = d.copy()
    changed.loc[changed["period"] > cut, "quantity"] *= 50  # the future of the first origin
    bt2 = backtest(changed, origins=2, max_lag=3, n_jobs=1)
    first = bt["snapshot_date"] == bt["snapshot_date"].min()
    assert np.allclose(bt.loc[first, "quantity"], bt2.loc[first, "quantity"])
