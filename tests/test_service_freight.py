"""Air freight: occurrences and cost share of delivered value, per currency."""

import numpy as np
import pandas as pd
import pytest

from kamlab.service import air_freight

ORDERS = pd.DataFrame(
    {
        "order_id": ["A", "A", "B"],
        "line": [1, 2, 1],
        "customer_id": ["C1", "C1", "C1"],
        "material_id": ["M1", "M2", "M1"],
        "quantity": [10.0, 4.0, 5.0],
        "net_value": [1000.0, 400.0, 2000.0],
        "currency": ["EUR", "EUR", "USD"],
    }
)
DELIVERIES = pd.DataFrame(
    {
        "order_id": ["A", "A", "A", "B", "B"],
        "line": [1, 1, 2, 1, 1],
        "delivered_date": pd.to_datetime(
            ["2024-01-05", "2024-01-20", "2024-01-22", "2024-01-10", "2024-03-01"]
        ),
        "delivered_quantity": [8.0, 2.0, 4.0, 5.0, 1.0],
        "air_freight": [False, True, True, False, True],
        "freight_cost": [10.0, 50.0, np.nan, 5.0, 80.0],
    }
)


def test_cost_share_is_air_freight_cost_over_net_value_delivered_per_currency():
    out = air_freight(DELIVERIES, ORDERS, as_of="2024-01-31").set_index("currency")
    eur = out.loc["EUR"]
    assert eur.delivery_lines == 3
    assert eur.air_freight_deliveries == 2
    assert eur.air_freight_share == pytest.approx(2 / 3)
    assert eur.air_freight_cost == 50.0  # the second air line has no cost and is counted
    assert eur.air_freight_cost_missing == 1
    assert eur.net_value_delivered == pytest.approx(800 + 200 + 400)
    assert eur.cost_share == pytest.approx(50 / 1400)
    usd = out.loc["USD"]
    assert usd.air_freight_deliveries == 0 and usd.cost_share == 0.0
    ex = out.attrs["excluded"].set_index("reason")
    assert ex.loc["delivered outside [start, as_of]", "rows"] == 1


def test_without_a_freight_cost_column_costs_are_nan_with_a_reason():
    out = air_freight(DELIVERIES.drop(columns="freight_cost"), ORDERS, as_of="2024-01-31")
    assert out["air_freight_cost"].isna().all()
    assert out["cost_share"].isna().all()
    assert set(out["reason"]) == {"no freight_cost in deliveries"}
    assert out["air_freight_deliveries"].sum() == 2


def test_a_customer_without_deliveries_gets_a_zero_row_with_a_reason():
    out = air_freight(
        DELIVERIES, ORDERS, as_of="2024-01-31", start="2024-01-15",
        include=pd.DataFrame({"customer_id": ["C1", "C9"]}),
    )  # fmt: skip
    c9 = out[out["customer_id"] == "C9"].iloc[0]
    assert c9.delivery_lines == 0 and np.isnan(c9.air_freight_share)
    assert c9.reason == "no deliveries in window"
    assert out[out["customer_id"] == "C1"]["delivery_lines"].sum() == 2
