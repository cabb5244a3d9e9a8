"""kamlab.forecast's method kernels against hand-worked values and simple references."""

from __future__ import annotations

import numpy as np
import pytest

from kamlab.forecast import intermittent as im
from kamlab.forecast import smoothing as sm


def _pad(y: list[float], width: int) -> np.ndarray:
    """One right-aligned row, NaN-padded on the left to `width`."""
    row = np.full(width, np.nan)
    row[width - len(y) :] = y
    return row[None, :]


def test_croston_and_sba_match_the_hand_worked_values():
    # z0 = 11/3, p0 = 2; demands at months 1 (q=1), 4 (q=3), 6 (q=2), alpha 0.1
    y = np.array([[3.0, 0, 0, 6, 0, 2]])
    z, p = 11 / 3, 2.0
    for size, q in ((3, 1), (6, 3), (2, 2)):
        z, p = z + 0.1 * (size - z), p + 0.1 * (q - p)
    assert im.croston(y)[0] == pytest.approx(z / p)
    assert im.croston(y, debias=True)[0] == pytest.approx(0.95 * z / p)
    assert z / p == pytest.approx(3.656 / 2.009)


def test_croston_ignores_left_padding_and_gives_zero_without_demand():
    y = np.vstack([_pad([3.0, 0, 0, 6, 0, 2], 9), np.full((1, 9), np.nan)])
    rate = im.croston(y)
    assert rate[0] == pytest.approx(im.croston(np.array([[3.0, 0, 0, 6, 0, 2]]))[0])
    assert rate[1] == 0


def test_tsb_with_fixed_constants_matches_a_hand_computation():
    # p0 = 1/4, z0 = 4, beta 0.5: p = 0.625, 0.3125, 0.15625, 0.078125; rate = 4 p = 0.3125
    rate = im.tsb(np.array([[4.0, 0, 0, 0]]), alpha=0.2, beta=0.5)["rate"][0]
    p = 0.25
    for d in (1, 0, 0, 0):
        p += 0.5 * (d - p)
    assert rate == pytest.approx(4 * p)


def test_adida_on_a_regular_pattern_recovers_the_rate():
    y = np.tile([0.0, 0.0, 6.0], 8)[None, :]
    assert im.adida(y)[0] == pytest.approx(2.0, rel=1e-3)
    assert im.imapa(y)[0] == pytest.approx(2.0, rel=0.05)


def test_demand_quantiles_are_zero_below_the_no_demand_probability():
    y = np.array([[5.0, 0, 0, 5, 0, 0]])
    q10 = im.demand_quantiles(y, np.array([2.0]), np.array([0.4]), 0.1)
    q90 = im.demand_quantiles(y, np.array([2.0]), np.array([0.4]), 0.9)
    assert q10[0] == 0 and q90[0] == pytest.approx(5.0)  # mean size 5 × 0.4 = rate 2


def test_ses_of_a_constant_and_of_a_step_is_the_last_level():
    y = np.vstack([_pad([7.0] * 10, 12), _pad([1.0] * 6 + [9.0] * 6, 12)])
    fit = sm.ses(y, 3)
    assert np.allclose(fit["mean"][0], 7.0)
    assert fit["mean"][1, 0] == pytest.approx(9.0, abs=0.05) and fit["alpha"][1] > 0.9


def test_damped_trend_flattens_while_theta_keeps_half_the_slope():
    y = (10 + 2.0 * np.arange(40))[None, :]
    damped = sm.damped_trend(y, 24)["mean"][0]
    theta = sm.theta(y, 24)[0]
    assert np.all(np.diff(damped) > 0) and np.diff(damped)[-1] < np.diff(damped)[0]
    assert np.diff(theta) == pytest.approx(np.full(23, 1.0))  # half of slope 2


def test_the_seasonality_test_needs_more_than_two_years():
    t = np.arange(36)
    y = 100 + 30 * (t % 12 == 0)
    assert sm.seasonality_test(y[None, :].astype(float), 12)[0]
    assert not sm.seasonality_test(y[None, :24].astype(float), 12)[0]


def test_seasonal_indices_average_to_one_and_recover_the_pattern():
    season = np.array([0.8, 0.9, 1.0, 1.1, 1.2, 1.0, 1.0, 0.9, 1.1, 1.0, 1.0, 1.0])
    y = (200 * np.tile(season, 4))[None, :]
    idx, ok = sm.seasonal_indices(y, 12)
    assert ok[0] and idx.mean() == pytest.approx(1.0)
    assert idx[0] == pytest.approx(season / season.mean(), rel=1e-6)


def test_smooth_intervals_widen_with_the_horizon():
    rng = np.random.default_rng(0)
    y = (100 + np.cumsum(rng.normal(0, 3, 48)))[None, :]
    from kamlab.forecast.selection import validated_forecast

    fit = validated_forecast(y, 12, m=12, min_seasonal=24, levels=(80.0,))
    lo, hi, mean = fit["lo_80"], fit["hi_80"], fit["mean"]
    assert np.all(np.diff(hi - lo) > 0) and np.all(lo[0] < mean[0]) and np.all(mean[0] < hi[0])
