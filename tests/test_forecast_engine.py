"""kamlab.forecast: forecast() and backtest() on hand-checkable and simulated series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlab.classify import demand_pattern
from kamlab.classify.pattern import pattern_matrix
from kamlab.forecast import backtest, forecast
from kamlab.forecast.engine import _PATTERNS, _series_matrix
from kamlab.forecast.selection import validated_forecast

START = pd.Period("2022-01", "M")


def _frame(series: dict[str, np.ndarray], start: pd.Period = START) -> pd.DataFrame:
    """Long demand frame, customer C, one material per dict entry, all ending together."""
    end = max(len(v) for v in series.values())
    parts = []
    for mat, vals in series.items():
        first = start + (end - len(vals))
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": "C",
                    "material_id": mat,
                    "period": pd.period_range(first, periods=len(vals), freq="M"),
                    "quantity": np.asarray(vals, dtype=float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _one(fc: pd.DataFrame, mat: str) -> pd.DataFrame:
    return fc[fc["material_id"] == mat].reset_index(drop=True)


def test_a_constant_series_is_forecast_as_that_constant_with_a_tight_interval():
    fc = forecast(_frame({"M": np.full(36, 50.0)}), 6, n_jobs=1)
    assert np.allclose(fc["forecast"], 50.0)
    assert np.allclose(fc["lo_95"], 50.0) and np.allclose(fc["hi_95"], 50.0)
    assert fc["method"].str.startswith("DOTM+Theta+Damped").all()
    assert fc["period"].iloc[0] == START + 36


def test_a_linear_trend_is_continued_upwards():
    y = 100 + 5.0 * np.arange(36)
    f = forecast(_frame({"M": y}), 6, n_jobs=1)["forecast"].to_numpy()
    assert np.all(np.diff(f) > 0)
    # the trend models continue the line; SES (one of three) stays at the last level 275
    assert 275 < f[0] < 285 and 280 < f[5] < 310


def test_a_pure_seasonal_series_repeats_its_season():
    season = np.array([1.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]) * 100
    fc = forecast(_frame({"M": np.tile(season, 3)}), 12, n_jobs=1)
    assert np.allclose(fc["forecast"], season, rtol=0.02)
    # a one-series portfolio: no paired evidence against the combination, which stays
    assert fc["reason"].iloc[0].startswith("smooth demand (")
    assert "seasonal (90 %" in fc["reason"].iloc[0]
    assert "strategy combination" in fc["reason"].iloc[0]


def test_a_seasonal_pattern_is_not_tried_on_less_than_two_years():
    season = np.array([1.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]) * 100
    fc = forecast(_frame({"M": np.tile(season, 2)[:20]}), 3, n_jobs=1)
    strategy = fc.attrs["strategy"]["strategy"].iloc[0]
    assert (
        strategy != "combination"
        or "under 24 periods: no seasonality tried" in fc["reason"].iloc[0]
    )
    fit = validated_forecast(
        np.tile(season, 2)[None, :20], 3, m=12, min_seasonal=24, levels=(80.0,)
    )
    assert not fit["seasonal"][0] and not fit["strategies"]["ets_seasonal"][0]


def test_intermittent_demand_gets_a_flat_croston_type_rate_within_the_data_range():
    y = np.tile([0.0, 0, 6, 0, 0, 3], 6)
    fc = forecast(_frame({"M": y}), 4, n_jobs=1)
    assert (fc["pattern"] == "intermittent").all()
    assert fc["method"].isin(["TSB", "SBA", "IMAPA", "ADIDA", "Recent mean"]).all()
    assert "lowest validation RMSE" in fc["reason"].iloc[0]
    assert np.ptp(fc["forecast"]) == 0 and 1.0 < fc["forecast"].iloc[0] < 2.0  # mean 1.5
    assert (fc["lo_80"] == 0).all() and (fc["hi_80"] >= 3).all()


def test_forecasts_and_bounds_are_never_negative_even_for_a_collapsing_series():
    rng = np.random.default_rng(1)
    y = np.maximum(200 - 8.0 * np.arange(30) + rng.normal(0, 10, 30), 0)
    data = {"down": y, "noise": np.abs(rng.normal(0, 30, 30)), "spiky": rng.poisson(0.3, 30) * 9}
    fc = forecast(_frame(data), 12, n_jobs=1)
    cols = ["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert (fc[cols] >= 0).all().all()
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["hi_80"]).all()
    assert (fc["hi_80"] <= fc["hi_95"]).all()


def test_a_two_month_old_material_gets_the_mean_of_its_history_and_says_why():
    fc = forecast(_frame({"OLD": np.full(30, 10.0), "NEW": np.array([4.0, 8.0])}), 3, n_jobs=1)
    new = _one(fc, "NEW")
    assert np.allclose(new["forecast"], 6.0)
    assert (new["method"] == "mean").all()
    assert new["reason"].iloc[0].startswith("only 2 period(s) since the first demand")
    assert (new["hi_80"] > 6.0).all() and (new["lo_80"] >= 0).all()


def test_a_series_starts_at_its_first_demand_and_leading_zeros_are_ignored():
    y = np.r_[np.zeros(20), np.full(16, 12.0)]
    fc = forecast(_frame({"M": y}), 2, n_jobs=1)
    assert np.allclose(fc["forecast"], 12.0) and (fc["pattern"] == "smooth").all()


def test_missing_months_are_zero_demand():
    d = _frame({"M": np.tile([0.0, 10.0], 12)})
    gaps = d[d["quantity"] > 0]  # the zero months are simply absent
    a = forecast(d, 3, n_jobs=1).drop(columns="reason")
    b = forecast(gaps, 3, n_jobs=1).drop(columns="reason")
    pd.testing.assert_frame_equal(a, b)
    assert (a["pattern"] == "intermittent").all()


def test_a_phase_out_material_tapers_to_zero_and_says_so():
    d = _frame({"A": np.full(36, 20.0), "B": np.full(36, 20.0), "C": np.full(36, 20.0)})
    life = pd.DataFrame(
        {"material_id": ["A", "B", "C"], "lifecycle": ["active", "phase-out", "phase-out"]}
    )
    fc = forecast(d, 8, lifecycle=life, n_jobs=1, phaseout_months=4)
    assert np.allclose(_one(fc, "A")["forecast"], 20.0)
    for material in ("B", "C"):  # several phase-out rows in one block
        out = _one(fc, material)["forecast"].to_numpy()
        assert np.allclose(out, [15, 10, 5, 0, 0, 0, 0, 0])
        assert "phase-out material" in _one(fc, material)["reason"].iloc[0]


def test_a_series_without_demand_forecasts_zero():
    fc = forecast(_frame({"Z": np.zeros(12), "A": np.full(12, 3.0)}), 2, n_jobs=1)
    z = _one(fc, "Z")
    assert (z["forecast"] == 0).all() and (z["pattern"] == "no demand").all()
    assert (z["method"] == "zero").all()


def test_empty_demand_gives_an_empty_frame_with_the_columns():
    d = _frame({"A": np.full(12, 3.0)}).iloc[:0]
    fc = forecast(d, 3)
    assert fc.empty
    assert {"forecast", "lo_80", "hi_95", "method", "pattern", "reason"} <= set(fc.columns)


def test_missing_and_negative_quantities_count_as_zero_and_are_reported():
    d = _frame({"A": np.full(24, 3.0)})
    d.loc[3, "quantity"] = np.nan
    d.loc[4, "quantity"] = -2.0
    fc = forecast(d, 1, n_jobs=1)
    ex = fc.attrs["excluded"].set_index("reason")["rows"]
    assert ex["missing quantity, read as zero"] == 1
    assert ex["negative quantity, read as zero"] == 1


def test_rows_after_the_origin_are_left_out_and_counted():
    d = _frame({"A": np.full(24, 3.0)})
    fc = forecast(d, 2, end=START + 20, n_jobs=1)
    assert fc["period"].iloc[0] == START + 21
    assert fc.attrs["excluded"]["rows"].iloc[0] == 3


def test_unknown_columns_and_bad_levels_are_refused_with_their_names():
    d = _frame({"A": np.full(12, 3.0)})
    with pytest.raises(ValueError, match="lacks column"):
        forecast(d.drop(columns="quantity"), 3)
    with pytest.raises(ValueError, match="level must lie"):
        forecast(d, 3, level=(80, 100))


def _simulated(n: int, months: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """`n` AR(1) series around a level of 100, with the next 6 months held back."""
    rng = np.random.default_rng(seed)
    y = np.empty((n, months + 6))
    y[:, 0] = 100 + rng.normal(0, 10, n)
    for t in range(1, months + 6):
        y[:, t] = 100 + 0.5 * (y[:, t - 1] - 100) + rng.normal(0, 10, n)
    frames = {f"S{i:03d}": y[i, :months] for i in range(n)}
    return _frame(frames), y[:, months:]


def test_interval_coverage_on_simulated_ar_series_is_close_to_nominal():
    d, future = _simulated(300, 48, seed=7)
    fc = forecast(d, 6, n_jobs=1).sort_values(["material_id", "period"])
    actual = future.ravel()
    for lv in (80, 95):
        inside = (fc[f"lo_{lv}"].to_numpy() <= actual) & (actual <= fc[f"hi_{lv}"].to_numpy())
        assert abs(100 * inside.mean() - lv) <= 7, (lv, inside.mean())


def test_results_are_the_same_twice_and_with_one_or_two_processes():
    d, _ = _simulated(40, 30, seed=3)
    rng = np.random.default_rng(0)
    d = pd.concat(
        [d, _frame({f"I{i}": rng.poisson(0.4, 30) * 5.0 for i in range(20)})], ignore_index=True
    )
    a = forecast(d, 4, n_jobs=1, chunk_size=16)
    b = forecast(d, 4, n_jobs=1, chunk_size=16)
    c = forecast(d, 4, n_jobs=2, chunk_size=16, progress=True)
    e = forecast(d, 4, n_jobs=1)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    pd.testing.assert_frame_equal(a, e)


def test_the_pattern_used_agrees_with_classify_demand_pattern():
    rng = np.random.default_rng(5)
    data = {f"M{i}": rng.poisson(rng.uniform(0.2, 5), 24) * rng.uniform(1, 9) for i in range(60)}
    data["Z"] = np.zeros(24)
    d = _frame(data)
    series, Y, _, _ = _series_matrix(d, ["customer_id", "material_id"], "period", "quantity", None)
    _, _, code = pattern_matrix(Y)
    ref = demand_pattern(d).set_index("material_id")["pattern"]
    assert list(_PATTERNS[code]) == list(ref.loc[series["material_id"]])


def test_a_backtest_has_one_snapshot_per_origin_with_lags_one_to_max_lag():
    d = _frame({"A": np.full(30, 5.0), "B": np.tile([0.0, 4.0], 15), "NEW": np.full(3, 7.0)})
    bt = backtest(d, origins=4, max_lag=3, n_jobs=1)
    end = START + 29
    a = bt[bt["material_id"] == "A"]
    assert len(a) == 4 * 3
    snaps = sorted(a["snapshot_date"].unique())
    assert [pd.Timestamp(s) for s in snaps] == [
        (end - k).to_timestamp(how="end").normalize() for k in (4, 3, 2, 1)
    ]
    months = pd.PeriodIndex(a["snapshot_date"], freq="M")
    assert ((a["period"] - months).map(lambda o: o.n) == a["lag"]).all()
    assert set(a["lag"]) == {1, 2, 3} and np.allclose(a["quantity"], 5.0)
    # NEW starts 3 months before the end: only the last 2 origins see it
    assert bt.loc[bt["material_id"] == "NEW", "snapshot_date"].nunique() == 2
    assert bt.attrs["excluded"]["rows"].iloc[-1] == 2
    assert (bt["source"] == "statistical").all()
    assert {"customer_id", "material_id", "snapshot_date", "period", "quantity"} <= set(bt.columns)


def test_a_backtest_snapshot_equals_a_forecast_from_that_origin():
    d, _ = _simulated(5, 36, seed=11)
    bt = backtest(d, origins=3, max_lag=2, n_jobs=1)
    origin = START + 33
    fc = forecast(d, 2, end=origin, n_jobs=1)
    snap = bt[bt["snapshot_date"] == origin.to_timestamp(how="end").normalize()]
    assert np.allclose(snap["quantity"].to_numpy(), fc["forecast"].to_numpy())


def test_a_short_steeply_growing_series_does_not_explode():
    y = np.array([1074.0, 6655, 12657, 14786, 608, 9262, 12001])
    fc = forecast(_frame({"M": y}), 6, n_jobs=1)
    assert fc["forecast"].max() < 3 * y.max() and fc["hi_95"].max() < 10 * y.max()
    assert "in logs" not in fc["method"].iloc[0]  # under two seasons: no logs


def test_the_configured_pattern_cut_offs_reach_the_forecast():
    y = np.tile([6.0, 0.0, 6.0], 12)  # ADI 1.5: intermittent at 1.32, smooth at a 2.0 cut-off
    d = _frame({"M": y})
    assert (forecast(d, 2, n_jobs=1)["pattern"] == "intermittent").all()
    assert (forecast(d, 2, n_jobs=1, adi_cutoff=2.0)["pattern"] == "smooth").all()
