"""KAM views on top of score: accuracy trend, forecast value added, bias alerts, challenge list."""

import numpy as np
import pandas as pd
import pytest

from kamlab.accuracy import (
    accuracy_trend,
    bias_alerts,
    challenge_list,
    fva_league,
    naive_snapshots,
    value_added,
)

PERIODS = pd.period_range("2023-01", "2024-06", freq="M")


@pytest.fixture
def actuals():
    c1 = [("C1", m, p, 100.0) for m in ("M1", "M2") for p in PERIODS]  # flat: naive is perfect
    cycle = [10.0, 50.0, 30.0]
    c2 = [("C2", "M3", p, cycle[i % 3]) for i, p in enumerate(PERIODS)]  # naive is poor
    return pd.DataFrame(c1 + c2, columns=["customer_id", "material_id", "period", "quantity"])


@pytest.fixture
def forecasts(actuals):
    naive = naive_snapshots(actuals, lags=[1, 2])
    truth = actuals.rename(columns={"quantity": "y"})
    base = naive.merge(truth, on=["customer_id", "material_id", "period"])
    over = np.where(base["customer_id"] == "C1", 1.3, 1.0)  # C1 over-forecasts by 30 %
    customer = base.assign(quantity=base["y"] * over, source="customer")
    stat = base[base["period"] >= pd.Period("2023-07", "M")].assign(
        quantity=lambda d: d["y"] * 1.1, source="statistical"
    )
    cols = ["customer_id", "material_id", "snapshot_date", "period", "quantity", "source"]
    return pd.concat([naive, customer[cols], stat[cols]], ignore_index=True)


def test_fva_is_negative_when_the_customer_forecast_is_worse_than_naive(actuals, forecasts):
    fva = value_added(actuals, forecasts)
    c1 = fva[(fva["customer_id"] == "C1") & (fva["lag"] == 1)].iloc[0]
    assert c1["error_naive"] == pytest.approx(0.0)
    assert c1["error_customer"] == pytest.approx(0.3)
    assert c1["error_statistical"] == pytest.approx(0.1)
    assert c1["fva_customer_vs_naive"] == pytest.approx(-30.0)  # WAPE points
    assert c1["fva_statistical_vs_customer"] == pytest.approx(20.0)
    assert c1["fva_statistical_vs_naive"] == pytest.approx(-10.0)


def test_fva_is_positive_when_the_customer_beats_naive(actuals, forecasts):
    fva = value_added(actuals, forecasts)
    c2 = fva[(fva["customer_id"] == "C2") & (fva["lag"] == 1)].iloc[0]
    assert c2["error_customer"] == 0.0
    assert c2["fva_customer_vs_naive"] > 0


def test_fva_compares_only_points_every_step_forecast(actuals, forecasts):
    fva = value_added(actuals, forecasts)
    stat_points = (forecasts["source"] == "statistical").sum()
    assert fva["n_points"].sum() == stat_points  # statistical covers the fewest points
    ex = fva.attrs["excluded"].set_index(["source", "reason"])["rows"]
    assert ex[("naive", "not forecast by every step")] > 0


def test_league_table_ranks_the_customer_adding_most_value_first(actuals, forecasts):
    league = fva_league(value_added(actuals, forecasts), lag=1)
    assert league["customer_id"].tolist() == ["C2", "C1"]
    assert league["rank"].tolist() == [1, 2]
    assert league["adds_value"].tolist() == [True, False]


def test_bias_alert_flags_persistent_over_forecasting_with_direction_and_size(actuals, forecasts):
    alerts = bias_alerts(actuals, forecasts, by=["customer_id"], window=6)
    c1 = alerts[alerts["customer_id"] == "C1"].iloc[0]
    assert c1["tracking_signal"] == pytest.approx(-12.0)  # 12 points, all over by the same 30 %
    assert bool(c1["alert"]) and c1["direction"] == "over-forecast"
    assert c1["bias"] == pytest.approx(0.3)
    assert c1["bias_quantity"] == pytest.approx(12 * 30.0)
    c2 = alerts[alerts["customer_id"] == "C2"].iloc[0]
    assert not c2["alert"] and c2["direction"] == "none"
    assert alerts["customer_id"].iloc[0] == "C1"  # alerts first


def test_bias_alert_limit_comes_from_the_argument(actuals, forecasts):
    alerts = bias_alerts(actuals, forecasts, by=["customer_id"], window=6, limit=20)
    assert not alerts["alert"].any()


def test_under_forecasting_is_flagged_as_under(actuals, forecasts):
    low = forecasts.assign(
        quantity=np.where(forecasts["source"] == "customer", 0.5, 1.0) * forecasts["quantity"]
    )
    alerts = bias_alerts(actuals, low, by=["customer_id"])
    assert set(alerts["direction"]) == {"under-forecast"}


def test_accuracy_trend_covers_the_last_months_per_lag(actuals, forecasts):
    trend = accuracy_trend(actuals, forecasts, lags=[1, 2], months=12)
    assert trend["period"].min() == pd.Period("2023-07", "M")
    assert trend["period"].max() == pd.Period("2024-06", "M")
    c = trend[(trend["source"] == "statistical") & (trend["lag"] == 1)]
    assert len(c) == 12
    assert c["value"].to_numpy() == pytest.approx(0.9)


# ---- challenge list -------------------------------------------------------------------


@pytest.fixture
def challenge_inputs():
    snap_old, snap_new = pd.Timestamp("2024-05-10"), pd.Timestamp("2024-06-10")
    cf = pd.DataFrame(
        [
            ("C1", "M1", snap_old, "2024-07", 999.0),  # older snapshot: ignored
            ("C1", "M1", snap_new, "2024-07", 145.0),  # +45 %, above 80 % interval
            ("C1", "M2", snap_new, "2024-07", 60.0),  # -40 % below, below interval
            ("C1", "M3", snap_new, "2024-07", 105.0),  # within everything
            ("C1", "M4", snap_new, "2024-07", 104.0),  # fine vs statistical, +160 % vs last year
            ("C1", "M5", snap_new, "2024-07", 50.0),  # no statistical forecast
        ],
        columns=["customer_id", "material_id", "snapshot_date", "period", "quantity"],
    ).assign(period=lambda d: pd.PeriodIndex(d["period"], freq="M"))
    stat = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M2", "M3", "M4"],
            "period": pd.Period("2024-07", "M"),
            "forecast": 100.0,
            "lo_80": 80.0,
            "hi_80": 120.0,
            "lo_95": 70.0,
            "hi_95": 130.0,
        }
    )
    act = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M2", "M3", "M4"],
            "period": pd.Period("2023-07", "M"),
            "quantity": [90.0, 100.0, 100.0, 40.0],
            "net_value": [900.0, 2000.0, 1000.0, 400.0],  # prices 10, 20, 10, 10
            "currency": "EUR",
        }
    )
    return cf, stat, act


def test_challenge_list_ranks_by_value_at_stake_and_says_why(challenge_inputs):
    cf, stat, act = challenge_inputs
    out = challenge_list(cf, stat, act)
    assert out["material_id"].tolist() == ["M2", "M1", "M4"]  # 40*20=800, 45*10=450, 4*10=40
    assert out["value_at_stake"].tolist() == [800.0, 450.0, 40.0]
    assert out["rank"].tolist() == [1, 2, 3]
    reasons = dict(zip(out["material_id"], out["reason"], strict=True))
    assert reasons["M1"] == (
        "customer +45 % above statistical forecast and above the 80 % interval; "
        "+61 % vs same month last year"
    )
    # -40 % vs last year stays within the 50 % last-year threshold, so it is not mentioned
    assert reasons["M2"] == "customer -40 % below statistical forecast and below the 80 % interval"
    assert reasons["M4"] == "customer +160 % vs same month last year"
    assert out["currency"].unique().tolist() == ["EUR"]


def test_challenge_list_counts_figures_without_a_statistical_forecast(challenge_inputs):
    cf, stat, act = challenge_inputs
    ex = challenge_list(cf, stat, act).attrs["excluded"]
    assert ex["rows"].sum() == 1 and ex["quantity"].sum() == 50.0


def test_challenge_thresholds_and_level_are_parameters(challenge_inputs):
    cf, stat, act = challenge_inputs
    wide = challenge_list(cf, stat, act, level=95, deviation=0.5, last_year_deviation=2.0)
    assert wide["material_id"].tolist() == ["M2", "M1"]  # 60 < lo_95 = 70, 145 > hi_95 = 130
    assert (
        wide["reason"]
        .iloc[1]
        .startswith("customer +45 % above statistical forecast and above the 95 % interval")
    )


def test_challenge_list_uses_a_prices_frame_when_given(challenge_inputs):
    cf, stat, act = challenge_inputs
    prices = pd.DataFrame({"material_id": ["M1", "M2", "M4"], "price": [100.0, 1.0, 1.0]})
    out = challenge_list(cf, stat, act, prices=prices)
    assert out["material_id"].iloc[0] == "M1"
    assert out["value_at_stake"].iloc[0] == 4500.0


def test_challenge_list_takes_the_latest_snapshot_up_to_as_of(challenge_inputs):
    cf, stat, act = challenge_inputs
    out = challenge_list(cf, stat, act, as_of="2024-05-31")
    assert out["customer_forecast"].tolist() == [999.0]


def test_a_zero_statistical_forecast_is_described_not_divided(challenge_inputs):
    cf, stat, act = challenge_inputs
    out = challenge_list(cf, stat.assign(forecast=0.0, lo_80=0.0, hi_80=0.0), act)
    m3 = out[out["material_id"] == "M3"].iloc[0]
    assert (
        m3["reason"]
        == "customer forecasts 105 where the statistical forecast is 0 and above the 80 % interval"
    )
    assert np.isnan(m3["deviation"])


def test_bias_alerts_give_one_row_per_series_that_has_points(actuals, forecasts):
    alerts = bias_alerts(actuals, forecasts)  # by customer × material
    assert len(alerts) == 3  # C1/M1, C1/M2, C2/M3: no invented customer × material pairs
    assert (alerts["n_points"] == 6).all()


def test_bias_alert_without_actual_demand_says_why_its_relative_bias_is_missing():
    months = pd.period_range("2024-01", periods=6, freq="M")
    actuals = pd.DataFrame(
        {"customer_id": "C1", "material_id": "M1", "period": months, "quantity": 0.0}
    )
    fc = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": "M1",
            "source": "customer",
            "snapshot_date": (months - 1).to_timestamp(),
            "period": months,
            "quantity": 5.0,
        }
    )
    r = bias_alerts(actuals, fc).iloc[0]
    assert np.isnan(r["bias"]) and r["bias_quantity"] == 30.0
    assert isinstance(r["note"], str) and r["note"]
    assert r["direction"] == "over-forecast"
