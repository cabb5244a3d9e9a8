"""The portfolio's strategy by validation: seeded portfolios where the right strategy is known.

kamlab.forecast validates its strategies (today's combination, ETS by AICc, seasonal ETS,
the SCUM-style median, the seasonal naive) on each portfolio's own rolling origins and uses
the winner per demand pattern (kamlab.forecast.engine._choose).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.forecast import forecast
from kamlab.forecast.selection import STRATEGIES, validated_forecast

SEED = 42


def _frame(Y: np.ndarray) -> pd.DataFrame:
    n, T = Y.shape
    return pd.DataFrame(
        {
            "customer_id": "C",
            "material_id": np.repeat([f"M{i:03d}" for i in range(n)], T),
            "period": np.tile(pd.period_range(end="2025-12", periods=T, freq="M"), n),
            "quantity": Y.ravel(),
        }
    )


def _winner(fc: pd.DataFrame) -> str:
    report = fc.attrs["strategy"]
    assert list(report["pattern"]) == ["smooth"]
    return str(report["strategy"].iloc[0])


def test_a_portfolio_of_short_trending_multiplicative_seasonal_series_picks_seasonal_ets():
    """Three years of strong growth hide the season from the ACF test (no series is adjusted
    seasonally by the combination), but validation finds the seasonal ETS, and its forecasts
    follow the season."""
    rng = np.random.default_rng(SEED)
    t = np.arange(36)
    season = 1 + 0.35 * np.sin(2 * np.pi * t / 12)
    Y = (50 + 4.0 * t) * season * np.exp(rng.normal(0, 0.04, (30, 36)))
    fc = forecast(_frame(Y), 12, n_jobs=1)
    assert _winner(fc) == "seasonal ETS"
    assert fc["method"].str.startswith("ETS(").all()
    assert fc["method"].str.endswith(",M)").mean() >= 0.8
    assert fc["reason"].str.contains("strategy seasonal ETS", regex=False).all()
    f = fc.pivot_table(index="material_id", columns="period", values="forecast").to_numpy()
    truth = (50 + 4.0 * np.arange(36, 48)) * (1 + 0.35 * np.sin(2 * np.pi * np.arange(12) / 12))
    assert np.median(np.abs(f / truth - 1)) < 0.08
    # seasonal shape: the peak month (phase 3) above the trough month (phase 9) in every series
    assert (f[:, 3] > f[:, 9]).all()
    margin = fc.attrs["strategy"]["margin %"].iloc[0]
    assert margin > 20  # the report says by how much it beat the combination


def test_a_portfolio_like_todays_keeps_todays_combination_unchanged():
    """Random walks with drift: the combination wins validation, and the forecasts are
    exactly today's combination (the same code path)."""
    rng = np.random.default_rng(SEED)
    Y = np.maximum(100 + np.cumsum(rng.normal(0.5, 3, (40, 60)), axis=1), 1)
    fc = forecast(_frame(Y), 12, n_jobs=1)
    assert _winner(fc) == "combination"
    assert fc["method"].str.startswith("DOTM+Theta+Damped").all()
    today = validated_forecast(Y, 12, m=12, min_seasonal=24, levels=(80.0, 95.0))
    f = fc.pivot_table(index="material_id", columns="period", values="forecast").to_numpy()
    assert np.array_equal(f, today["mean"])


def test_no_strategy_forecasts_or_bounds_a_negative_quantity():
    rng = np.random.default_rng(SEED)
    t = np.arange(48)
    falling = np.maximum(200 - 5.0 * t, 0) * (1 + 0.4 * np.sin(2 * np.pi * t / 12))
    Y = falling + rng.normal(0, 3, (20, 48)).clip(0)
    fit = validated_forecast(Y, 18, m=12, min_seasonal=24, levels=(80.0, 95.0))
    for key in ("mean", "lo_80", "hi_80", "lo_95", "hi_95"):
        assert (fit["strategies"][key] >= 0).all(), key
    assert fit["strategies"]["mean"].shape == (20, len(STRATEGIES), 18)
    fc = forecast(_frame(Y), 18, n_jobs=1)
    assert (fc[["forecast", "lo_80", "lo_95"]].to_numpy() >= 0).all()


def test_the_choice_and_forecasts_are_deterministic_and_independent_of_chunking():
    rng = np.random.default_rng(SEED)
    t = np.arange(48)
    Y = np.vstack(
        [
            (80 + 2 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * rng.lognormal(0, 0.05, 48)
            for _ in range(12)
        ]
        + [np.maximum(100 + np.cumsum(rng.normal(0, 4, 48)), 1) for _ in range(12)]
    )
    d = _frame(Y)
    a = forecast(d, 12, n_jobs=1)
    b = forecast(d, 12, n_jobs=1)
    c = forecast(d, 12, n_jobs=2, chunk_size=5)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    assert a.attrs["strategy"].equals(c.attrs["strategy"])
