"""Quality KPIs: complaint counts, open complaint age and PPM, worked by hand."""

import numpy as np
import pandas as pd
import pytest

from kamlab.service import quality

ORDERS = pd.DataFrame(
    {
        "order_id": ["A", "A", "B"],
        "line": [1, 2, 1],
        "customer_id": ["C1", "C1", "C2"],
        "material_id": ["M1", "M2", "M1"],
    }
)
DELIVERIES = pd.DataFrame(
    {
        "order_id": ["A", "A", "A", "B", "Z"],
        "line": [1, 1, 2, 1, 1],
        "delivered_date": pd.to_datetime(
            ["2023-12-20", "2024-01-05", "2024-01-06", "2024-02-10", "2024-01-01"]
        ),
        "delivered_quantity": [10_000.0, 30_000.0, 10_000.0, 5_000.0, 7.0],
    }
)
COMPLAINTS = pd.DataFrame(
    {
        "complaint_id": ["Q1", "Q2", "Q3", "Q4"],
        "customer_id": ["C1", "C1", "C1", "C2"],
        "material_id": ["M1", "M2", "M1", "M1"],
        "opened_date": pd.to_datetime(["2023-12-28", "2024-01-10", "2024-01-25", "2024-02-15"]),
        "closed_date": pd.to_datetime(["2024-01-05", "2024-02-05", None, None]),
        "category": "damage",
        "rejected_quantity": [10.0, 30.0, 10.0, 99.0],
    }
)


def test_ppm_is_rejected_over_delivered_times_a_million_within_the_window():
    out = quality(COMPLAINTS, DELIVERIES, ORDERS, as_of="2024-01-31", start="2024-01-01")
    c1 = out.set_index("customer_id").loc["C1"]
    # window January: rejected 30 + 10 = 40, delivered 30,000 + 10,000 = 40,000
    assert c1.complaints == 2
    assert c1.rejected_quantity == 40.0
    assert c1.delivered_quantity == 40_000.0
    assert c1.ppm == pytest.approx(1000.0)
    assert out.attrs["excluded"].set_index("reason").loc["opened after as_of", "rows"] == 1


def test_open_complaints_are_counted_at_as_of_with_their_age_in_days():
    out = quality(COMPLAINTS, DELIVERIES, ORDERS, as_of="2024-01-31", start="2024-01-01")
    c1 = out.set_index("customer_id").loc["C1"]
    # open on 31 Jan: Q2 (closed 5 Feb, opened 10 Jan, 21 days) and Q3 (open, 6 days)
    assert c1.open_complaints == 2
    assert c1.open_age_mean_days == pytest.approx(13.5)
    assert c1.open_age_max_days == 21.0


def test_a_customer_without_deliveries_gets_nan_ppm_with_a_reason():
    out = quality(
        COMPLAINTS,
        DELIVERIES,
        ORDERS,
        as_of="2024-01-31",
        start="2024-01-01",
        include=pd.DataFrame({"customer_id": ["C1", "C2", "C3"]}),
    ).set_index("customer_id")
    for customer in ("C2", "C3"):
        assert out.loc[customer, "complaints"] == 0
        assert np.isnan(out.loc[customer, "ppm"])
        assert out.loc[customer, "reason"] == "no deliveries in window"


def test_by_material_and_month_places_complaints_and_deliveries_in_their_own_months():
    out = quality(COMPLAINTS, DELIVERIES, ORDERS, as_of="2024-02-29", by=("material_id", "period"))
    out = out.set_index(["material_id", "period"])
    dec = out.loc[("M1", pd.Period("2023-12", "M"))]
    assert dec.rejected_quantity == 10.0 and dec.delivered_quantity == 10_000.0
    assert dec.ppm == pytest.approx(1000.0)
    feb = out.loc[("M1", pd.Period("2024-02", "M"))]
    assert feb.ppm == pytest.approx(99 / 5000 * 1e6)


def test_no_complaints_at_all_give_zero_ppm_where_there_were_deliveries():
    out = quality(COMPLAINTS.iloc[0:0], DELIVERIES, ORDERS, as_of="2024-01-31")
    assert out["ppm"].tolist() == [0.0]
    assert out.attrs["excluded"].set_index("reason").loc["no matching order line", "rows"] == 1
