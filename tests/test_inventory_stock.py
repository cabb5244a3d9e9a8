"""Stock position, coverage and stock health, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlab.exclusions import excluded
from kamlab.inventory import (
    months_of_stock,
    plant_demand,
    stock_coverage,
    stock_health,
    stock_position,
)
from kamlab.inventory.coverage import NO_DEMAND

END = pd.Period("2025-06", "M")


def _stock(**columns) -> pd.DataFrame:
    base = {
        "material_id": ["M1"],
        "plant": ["1000"],
        "snapshot_date": pd.to_datetime(["2025-06-30"]),
        "customer_id": [None],
        "on_hand": [100.0],
        "in_transit": [None],
        "blocked": [None],
        "on_order": [None],
        "unit_cost": [2.0],
        "currency": ["EUR"],
    }
    return pd.DataFrame({**base, **columns})


def test_position_takes_the_latest_snapshot_per_line_and_counts_later_ones():
    stock = pd.concat(
        [
            _stock(snapshot_date=pd.to_datetime(["2025-05-31"]), on_hand=[50.0]),
            _stock(blocked=[10.0]),
            _stock(customer_id=["C1"], on_hand=[20.0], unit_cost=[3.0]),
            _stock(snapshot_date=pd.to_datetime(["2025-07-31"]), on_hand=[999.0]),
        ],
        ignore_index=True,
    )
    got = stock_position(stock, as_of="2025-06-30").iloc[0]
    assert got["on_hand"] == 120.0 and got["usable"] == 120.0 and got["blocked"] == 10.0
    assert got["stock_value"] == 110 * 2.0 + 20 * 3.0
    assert got["unit_cost"] == pytest.approx(280.0 / 130.0)
    assert excluded(stock_position(stock, as_of="2025-06-30"))["rows"].tolist() == [1]
    two = pd.concat([_stock(), _stock(customer_id=["C1"], currency=["USD"])], ignore_index=True)
    with pytest.raises(ValueError, match="more than one currency"):
        stock_position(two, as_of="2025-06-30")


def test_demand_of_a_material_in_two_plants_is_shared_equally_and_homeless_demand_counted():
    demand = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C1"],
            "material_id": ["M1", "M1", "M9"],
            "period": pd.PeriodIndex(["2025-06"] * 3, freq="M"),
            "quantity": [30.0, 10.0, 5.0],
        }
    )
    plants = pd.DataFrame({"material_id": ["M1", "M1"], "plant": ["1000", "2000"]})
    got = plant_demand(demand, plants)
    assert got["quantity"].tolist() == [20.0, 20.0]
    assert excluded(got)["quantity"].tolist() == [5.0]


def test_months_of_stock_walks_the_forecast_and_states_infinite_coverage():
    forecast = np.array([[100.0, 50.0, 0.0], [0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    got = months_of_stock(np.array([125.0, 40.0, 60.0]), forecast)
    # 100 in month 1, 25 of month 2's 50; nothing forecast: inf; 30 over 3 months, then 10/month
    assert got.tolist() == [1.5, np.inf, 6.0]
    assert months_of_stock(np.array([0.0]), np.zeros((1, 3))).tolist() == [0.0]


def test_coverage_with_a_zero_forecast_is_infinite_and_says_why():
    position = stock_position(_stock(), as_of="2025-06-30")
    zero = pd.DataFrame(
        {"material_id": ["M1"], "plant": ["1000"], "period": [END + 1], "forecast": [0.0]}
    )
    got = stock_coverage(position, zero, start=END + 1, horizon=6).iloc[0]
    assert np.isinf(got["coverage_months"]) and got["coverage_note"] == NO_DEMAND
    got = stock_coverage(position, _forecast(40.0), start=END + 1, horizon=6).iloc[0]
    assert got["coverage_months"] == 2.5 and got["coverage_note"] == ""
    # one month of 40, then nothing: 60 left after 6 months, used at 40/6 a month
    once = zero.assign(forecast=40.0)
    assert (
        stock_coverage(position, once, start=END + 1, horizon=6).iloc[0]["coverage_months"] == 15.0
    )


def _monthly(values, material="M1"):
    return pd.DataFrame(
        {
            "material_id": material,
            "plant": "1000",
            "period": pd.period_range(end=END, periods=len(values), freq="M"),
            "quantity": values,
        }
    )


def _forecast(value, material="M1", months=6):
    return pd.DataFrame(
        {
            "material_id": material,
            "plant": "1000",
            "period": pd.period_range(END + 1, periods=months, freq="M"),
            "forecast": value,
        }
    )


def test_stock_health_finds_deadstock_overstock_and_slow_movers():
    materials = ["DEAD", "OVER", "SLOW", "FINE", "NONE"]
    stock = pd.concat(
        [_stock(material_id=[m], on_hand=[0.0 if m == "NONE" else 100.0]) for m in materials],
        ignore_index=True,
    )
    position = stock_position(stock, as_of="2025-06-30")
    demand = pd.concat(
        [
            _monthly([50.0] + [0.0] * 12, "DEAD"),  # last demand 13 months ago
            _monthly([10.0] * 12, "OVER"),
            _monthly([0, 0, 30.0, 0, 0, 0, 30.0, 0, 0, 0, 0, 30.0], "SLOW"),
            _monthly([30.0] * 12, "FINE"),
            _monthly([5.0] * 12, "NONE"),
        ]
    )
    forecast = pd.concat(
        [_forecast(0.0, "DEAD"), _forecast(10.0, "OVER"), _forecast(20.0, "SLOW")]
        + [_forecast(30.0, "FINE"), _forecast(5.0, "NONE")]
    )
    got = stock_health(position, demand, forecast, end=END).set_index("material_id")
    assert got["status"].astype(str).to_dict() == {
        "DEAD": "deadstock",
        "FINE": "healthy",
        "NONE": "no stock",
        "OVER": "overstock",
        "SLOW": "slow mover",
    }
    assert got.loc["DEAD", "excess_value"] == 200.0  # all of it, at cost 2
    assert got.loc["OVER", "excess_quantity"] == 40.0  # 100 less 6 months of 10
    assert got.loc["OVER", "excess_value"] == 80.0
    assert got.loc["SLOW", "months_with_demand"] == 3 and got.loc["SLOW", "excess_value"] == 0
    assert pd.isna(got.loc["DEAD", "last_demand"])  # none within the 12 months looked at
    assert str(got.loc["SLOW", "last_demand"]) == "2025-06"
