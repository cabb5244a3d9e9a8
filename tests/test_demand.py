import pandas as pd

from kamlab.demand import monthly_demand


def _orders(rows):
    return pd.DataFrame(
        rows, columns=["customer_id", "material_id", "requested_date", "quantity"]
    ).assign(
        requested_date=lambda d: pd.to_datetime(d["requested_date"]),
        net_value=lambda d: d["quantity"] * 10.0,
        currency="EUR",
        status="open",
    )


ORDERS = _orders(
    [
        ("C1", "M1", "2024-01-10", 5.0),  # stops ordering after January 2024
        ("C1", "M2", "2024-01-10", 1.0),
        ("C1", "M2", "2025-06-10", 2.0),  # still ordering
        ("C2", "M3", "2025-02-10", 4.0),  # phase-out material, quiet since February
    ]
)


def test_a_series_quiet_for_a_year_is_marked_ended_not_just_zero_filled():
    d = monthly_demand(ORDERS, end="2025-06")
    ended = d.groupby(["customer_id", "material_id"])["ended"].agg(["min", "max"])
    assert (ended["min"] == ended["max"]).all()  # one flag per series
    assert ended["max"].to_dict() == {("C1", "M1"): True, ("C1", "M2"): False, ("C2", "M3"): False}
    # the zero months are still there (forecasts and XYZ need them), now marked
    m1 = d[d["material_id"] == "M1"]
    assert m1["period"].max() == pd.Period("2025-06", "M") and m1["quantity"].iloc[-1] == 0


def test_ended_after_and_a_phase_out_lifecycle_shorten_the_wait():
    life = pd.DataFrame(
        {"material_id": ["M1", "M2", "M3"], "lifecycle": ["active", "active", "phase-out"]}
    )
    d = monthly_demand(ORDERS, end="2025-06", lifecycle=life)
    flags = d.groupby("material_id")["ended"].first().to_dict()
    assert flags == {"M1": True, "M2": False, "M3": True}  # M3: 4 months quiet >= 3
    d = monthly_demand(ORDERS, end="2024-06", ended_after=6)
    assert d.groupby("material_id")["ended"].first().to_dict() == {"M1": False, "M2": False}
    d = monthly_demand(ORDERS, end="2024-07", ended_after=6)
    assert d.groupby("material_id")["ended"].first().to_dict() == {"M1": True, "M2": True}
