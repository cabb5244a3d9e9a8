"""naive_snapshots: naive and seasonal-naive forecasts shaped like customer forecasts."""

import pandas as pd
import pytest

from kamlab.accuracy import forecast_lag, naive_snapshots


@pytest.fixture
def actuals():
    periods = pd.period_range("2023-01", periods=15, freq="M")  # 2023-01 .. 2024-03
    a = pd.DataFrame(
        {"customer_id": "C1", "material_id": "M1", "period": periods, "quantity": range(1, 16)}
    )
    late = pd.DataFrame(  # a series that starts in 2024-02
        {
            "customer_id": "C2",
            "material_id": "M2",
            "period": pd.PeriodIndex(["2024-02", "2024-03"], freq="M"),
            "quantity": [7.0, 0.0],
        }
    )
    return pd.concat([a, late], ignore_index=True).astype({"quantity": "float64"})


def test_naive_forecasts_the_last_actual_month_before_the_snapshot_for_every_lag(actuals):
    out = naive_snapshots(actuals, snapshot_dates=[pd.Timestamp("2024-03-12")], lags=[1, 2, 3])
    c1 = out[out["customer_id"] == "C1"]
    assert c1["quantity"].tolist() == [14.0, 14.0, 14.0]  # February 2024 = 14th month
    assert forecast_lag(c1["snapshot_date"], c1["period"]).tolist() == [1, 2, 3]
    assert set(out["source"]) == {"naive"}
    assert list(out.columns) == [
        "customer_id", "material_id", "snapshot_date", "period", "quantity", "source"
    ]  # fmt: skip


def test_a_month_end_snapshot_knows_its_own_month_like_the_statistical_backtest(actuals):
    out = naive_snapshots(actuals, snapshot_dates=[pd.Timestamp("2024-02-29")], lags=[1, 2])
    c1 = out[out["customer_id"] == "C1"]
    assert c1["quantity"].tolist() == [14.0, 14.0]  # February 2024 itself: one step ahead
    assert forecast_lag(c1["snapshot_date"], c1["period"]).tolist() == [1, 2]
    # a statistical backtest snapshot dated the same day also uses data through February
    from kamlab.forecast import backtest

    bt = backtest(actuals[actuals["customer_id"] == "C1"], origins=2, max_lag=1, n_jobs=1)
    assert pd.Timestamp("2024-02-29") in set(bt["snapshot_date"])


def test_a_series_gets_naive_forecasts_only_once_its_first_month_is_known(actuals):
    out = naive_snapshots(actuals, snapshot_dates=pd.to_datetime(["2024-01-31", "2024-02-15"]))
    c2 = out[out["customer_id"] == "C2"]
    assert c2.empty  # C2 starts in 2024-02, unknown at both dates
    out = naive_snapshots(actuals, snapshot_dates=pd.to_datetime(["2024-02-29", "2024-03-12"]))
    c2 = out[out["customer_id"] == "C2"]
    assert set(c2["snapshot_date"]) == {pd.Timestamp("2024-02-29"), pd.Timestamp("2024-03-12")}
    assert set(c2["quantity"]) == {7.0}


def test_seasonal_naive_takes_the_same_month_a_year_before(actuals):
    out = naive_snapshots(
        actuals, snapshot_dates=[pd.Timestamp("2024-02-29")], lags=[1, 2], seasonal=True
    )
    c1 = out[out["customer_id"] == "C1"]
    assert c1["period"].astype(str).tolist() == ["2024-03", "2024-04"]
    assert c1["quantity"].tolist() == [3.0, 4.0]  # March and April 2023
    assert set(out["source"]) == {"seasonal naive"}


def test_seasonal_naive_at_a_mid_month_snapshot_never_uses_the_unfinished_month(actuals):
    # on 2024-01-15 the last known month is 2023-12; lag 12 targets 2025-01, whose
    # same month a year before (2024-01) is not known yet: it takes 2023-01 (two years back)
    out = naive_snapshots(
        actuals, snapshot_dates=[pd.Timestamp("2024-01-15")], lags=[11, 12], seasonal=True
    )
    c1 = out[out["customer_id"] == "C1"]
    assert c1["period"].astype(str).tolist() == ["2024-12", "2025-01"]
    assert c1["quantity"].tolist() == [12.0, 1.0]


def test_seasonal_rows_without_a_year_of_history_are_counted_not_lost(actuals):
    out = naive_snapshots(actuals, snapshot_dates=[pd.Timestamp("2023-06-30")], seasonal=True)
    assert out.empty
    assert out.attrs["excluded"]["rows"].sum() == 6


def test_default_snapshots_run_monthly_from_the_first_actual_month(actuals):
    out = naive_snapshots(actuals, lags=[1])
    c1 = out[out["customer_id"] == "C1"]
    assert len(c1) == 15
    assert c1["snapshot_date"].min() == pd.Timestamp("2023-01-31")
    assert c1["quantity"].iloc[0] == 1.0


def test_a_snapshot_outside_the_actuals_is_refused_with_its_date(actuals):
    with pytest.raises(ValueError, match="2025-01-15"):
        naive_snapshots(actuals, snapshot_dates=[pd.Timestamp("2025-01-15")])


def test_empty_actuals_give_an_empty_frame():
    empty = pd.DataFrame(columns=["customer_id", "material_id", "period", "quantity"])
    assert naive_snapshots(empty).empty


def test_per_customer_snapshot_dates_give_each_series_only_its_customers_snapshots(actuals):
    snaps = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "snapshot_date": pd.to_datetime(["2024-03-05", "2024-03-20"]),
        }
    )
    out = naive_snapshots(actuals, snapshot_dates=snaps, lags=[1])
    assert out.groupby("customer_id")["snapshot_date"].agg(list).to_dict() == {
        "C1": [pd.Timestamp("2024-03-05")],
        "C2": [pd.Timestamp("2024-03-20")],
    }


def test_scoring_naive_made_on_the_customers_own_dates_supersedes_nothing(actuals):
    from kamlab.accuracy import pair_forecasts

    snaps = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C1"],
            "snapshot_date": pd.to_datetime(["2024-02-05", "2024-02-20", "2024-01-07"]),
        }
    )
    naive = naive_snapshots(actuals, snapshot_dates=snaps, lags=[1])
    pairs = pair_forecasts(actuals, naive, lags=[1])
    excluded = pairs.attrs.get("excluded")
    reasons = set() if excluded is None else set(excluded["reason"])
    assert "earlier snapshot of the same month superseded" not in reasons
    assert len(pairs) == 2  # C1 for Feb and Mar; C2 starts 2024-02, unknown at its snapshot
