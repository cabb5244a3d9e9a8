"""Phase in / phase out and capacity allocation, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlab.inventory import (
    allocation_vs_forecast,
    capacity_load,
    phase_in_ramp,
    phase_out_exposure,
    stock_position,
)

AS_OF = pd.Timestamp("2025-06-30")
MONTH = pd.Period("2025-06", "M")


def _position(material="M1", on_hand=100.0, on_order=0.0, cost=2.0):
    stock = pd.DataFrame(
        {
            "material_id": [material],
            "plant": ["1000"],
            "snapshot_date": [AS_OF],
            "customer_id": [None],
            "on_hand": [on_hand],
            "in_transit": [0.0],
            "blocked": [0.0],
            "on_order": [on_order],
            "unit_cost": [cost],
            "currency": ["EUR"],
        }
    )
    return stock_position(stock, as_of=AS_OF)


def _plan(end_of_life, material="M1", **columns):
    return pd.DataFrame(
        {
            "material_id": [material],
            "plant": ["1000"],
            "lead_time_days": [30],
            "lot_size": [np.nan],
            "end_of_life": pd.to_datetime([end_of_life]),
            **columns,
        }
    )


def _monthly(values, *, first=MONTH + 1, column="forecast", material="M1"):
    return pd.DataFrame(
        {
            "material_id": material,
            "plant": "1000",
            "period": pd.period_range(first, periods=len(values), freq="M"),
            column: values,
        }
    )


NO_ORDERS = _monthly([], column="quantity")


def test_stock_exactly_equal_to_remaining_demand_leaves_no_deadstock():
    # end of life in September: July, August, September forecast 30 + 40 + 30 = 100 = stock
    got = phase_out_exposure(
        _plan("2025-09-30"), _position(), NO_ORDERS, _monthly([30.0, 40, 30, 50]), as_of=AS_OF
    ).iloc[0]
    assert got["months_left"] == 3 and got["remaining_demand"] == 100.0
    assert got["surplus"] == 0.0 and got["deadstock_at_risk"] == 0.0
    assert got["proposal"] == "balanced: run down as planned" and got["last_time_buy"] == 0.0


def test_open_orders_beyond_the_forecast_count_and_supply_beyond_demand_is_at_risk():
    orders = _monthly([60.0], column="quantity")  # July already ordered above its forecast
    backlog = _monthly([5.0], first=MONTH - 1, column="quantity")  # overdue from May
    got = phase_out_exposure(
        _plan("2025-08-31"),
        _position(on_hand=100.0, on_order=50.0),
        pd.concat([orders, backlog]),
        _monthly([30.0, 40.0, 30.0]),
        as_of=AS_OF,
        customer_forecast=_monthly([80.0, 80.0, 80.0], column="quantity"),
    ).iloc[0]
    assert got["backlog"] == 5.0
    assert got["remaining_demand"] == 5 + 60 + 40  # max(order, forecast) per month
    assert got["surplus"] == 150 - 105
    assert got["cancel_supply"] == 45.0 and got["sell_off"] == 0.0
    assert got["deadstock_at_risk"] == 90.0
    assert got["remaining_customer"] == 5 + 80 + 80
    assert got["note"].startswith("customers forecast 60 more")


def test_an_end_of_life_in_the_past_leaves_only_open_orders_as_demand():
    orders = _monthly([10.0], column="quantity")
    got = phase_out_exposure(
        _plan("2025-03-31"), _position(on_hand=100.0), orders, _monthly([30.0] * 3), as_of=AS_OF
    ).iloc[0]
    assert got["months_left"] == 0 and got["remaining_demand"] == 10.0
    assert got["deadstock_at_risk"] == 180.0 and got["sell_off"] == 90.0
    assert got["note"] == "end of life passed"


def test_a_shortfall_proposes_a_last_time_buy_in_whole_lots():
    got = phase_out_exposure(
        _plan("2025-12-31", lot_size=[25.0]),
        _position(on_hand=20.0),
        NO_ORDERS,
        _monthly([10.0] * 6),
        as_of=AS_OF,
    ).iloc[0]
    assert got["surplus"] == -40.0 and got["last_time_buy"] == 50.0
    assert got["proposal"] == "last-time buy 50"


def test_phase_out_flag_without_a_date_counts_the_whole_forecast():
    plan = _plan(None)
    got = phase_out_exposure(
        plan, _position(), NO_ORDERS, _monthly([10.0] * 12), as_of=AS_OF, phase_out=["M1"]
    ).iloc[0]
    assert got["remaining_demand"] == 120.0 and got["note"].startswith("no end-of-life date")


def test_phase_in_gap_and_double_stock():
    plan = pd.concat(
        [
            _plan("2025-12-31", successor_material_id="N1", start_of_production=pd.NaT),
            _plan("2025-12-31", material="M2", successor_material_id="N2"),
            _plan(None, material="N1", start_of_production=pd.Timestamp("2025-10-01")),
            _plan(None, material="N2", start_of_production=pd.Timestamp("2025-08-01")),
        ],
        ignore_index=True,
    )
    position = pd.concat([_position("M1", on_hand=40.0), _position("M2", on_hand=100.0)])
    forecast = pd.concat([_monthly([20.0] * 6), _monthly([20.0] * 6, material="M2")])
    demand = _monthly([20.0] * 3, first=MONTH - 2, column="quantity")
    got = phase_in_ramp(plan, position, forecast, demand, as_of=AS_OF).set_index("material_id")
    # M1 runs out in August (40 = July + August); N1 starts in October: September uncovered
    assert got.loc["M1", "status"] == "coverage gap" and str(got.loc["M1", "run_out"]) == "2025-08"
    assert got.loc["M1", "gap_months"] == 1 and got.loc["M1", "gap_demand"] == 20.0
    # M2 has 100, uses 20 in July; N2 starts in August: 80 left twice over
    assert got.loc["M2", "status"] == "double stock" and got.loc["M2", "double_stock"] == 80.0
    assert got.loc["M2", "double_stock_value"] == 160.0


def _capacity(rows):
    return pd.DataFrame(
        rows,
        columns=[
            "material_id",
            "product_family",
            "period",
            "customer_id",
            "allocated_quantity",
            "capacity",
        ],
    ).assign(period=lambda f: pd.PeriodIndex(f["period"], freq="M"))


def test_allocation_against_forecast_flags_over_and_under_and_an_over_booked_month():
    capacity = _capacity(
        [
            ("M1", None, "2025-07", "C1", 150.0, 200.0),
            ("M1", None, "2025-07", "C2", 60.0, 200.0),
            ("M1", None, "2025-08", "C1", 100.0, 200.0),
            (None, "Drives", "2025-07", "C1", 95.0, None),
        ]
    )
    forecast = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C1", "C1"],
            "material_id": ["M1", "M1", "M1", "M2"],
            "period": pd.PeriodIndex(["2025-07", "2025-07", "2025-08", "2025-07"], freq="M"),
            "quantity": [100.0, 80.0, 100.0, 10.0],
        }
    )
    materials = pd.DataFrame({"material_id": ["M1", "M2"], "product_family": ["Seals", "Drives"]})
    got = allocation_vs_forecast(capacity, forecast, materials)
    assert got["flag"].tolist() == [
        "over-allocated",
        "under-allocated",
        "in line",
        "over-allocated",
    ]
    assert got["ratio"].tolist()[:3] == [1.5, 0.75, 1.0]
    assert got["forecast"].tolist()[3] == 10.0  # the family's materials summed
    load = capacity_load(capacity)
    assert load["over_booked"].tolist() == [True, False, False]
    assert load["allocated"].tolist() == [210.0, 100.0, 95.0]
    bad = capacity.assign(product_family="Seals")
    with pytest.raises(ValueError, match="material_id or a product_family, not both"):
        capacity_load(bad)
