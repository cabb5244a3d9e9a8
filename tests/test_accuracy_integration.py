"""kamlab.accuracy on demo data with the forecast engine's backtests: one lag convention."""

import numpy as np
import pandas as pd
import pytest

from kamlab.accuracy import (
    bias_alerts,
    challenge_list,
    forecast_lag,
    naive_snapshots,
    score,
    value_added,
)
from kamlab.data.demo import generate
from kamlab.demand import monthly_demand
from kamlab.forecast import backtest, forecast

END = pd.Period("2024-12", "M")


@pytest.fixture(scope="module")
def demo():
    d = generate(customers=3, materials=40, months=36, end=END, seed=1)
    demand = monthly_demand(d["orders"], end=END)  # keeps attrs["excluded"]: must not matter
    assert "excluded" in demand.attrs
    bt = backtest(demand, origins=6, max_lag=3, n_jobs=1)
    return d, demand, bt


def test_backtest_lags_equal_forecast_lag(demo):
    _, _, bt = demo
    assert len(bt) > 0
    assert (forecast_lag(bt["snapshot_date"], bt["period"]) == bt["lag"]).all()


def test_customer_statistical_and_naive_forecasts_score_side_by_side(demo):
    d, demand, bt = demo
    cf = d["customer_forecasts"].assign(source="customer")
    naive = naive_snapshots(demand, snapshot_dates=bt["snapshot_date"].unique(), lags=[1, 2, 3])
    fc = pd.concat([cf, bt.assign(source="statistical"), naive], ignore_index=True)
    s = score(demand, fc, lags=[1, 2, 3], materials=d["materials"], by=["product_family"])
    assert {"customer", "statistical", "naive"} <= set(s["source"])
    assert not np.isinf(s["value"]).any()
    assert s.loc[s["value"].isna(), "note"].notna().all()
    cov = score(demand, bt.assign(source="statistical"), metrics=["coverage"], lags=[1])
    assert cov["value"].between(0, 1).all()
    fva = value_added(demand, fc, lags=[1, 2, 3], materials=d["materials"])
    assert {"fva_customer_vs_naive", "fva_statistical_vs_customer"} <= set(fva.columns)
    alerts = bias_alerts(demand, fc)
    assert set(alerts["direction"]) <= {"none", "over-forecast", "under-forecast"}


def test_challenge_list_on_the_engine_forecast(demo):
    d, demand, _ = demo
    stat = forecast(demand, h=6, n_jobs=1)
    full = monthly_demand(d["orders"], end=END)
    out = challenge_list(d["customer_forecasts"], stat, full)
    assert out["reason"].str.startswith("customer").all()
    ranked = out.dropna(subset=["value_at_stake"])
    assert ranked["value_at_stake"].is_monotonic_decreasing
