"""Plan vs actual and price/volume/mix: hand-worked figures, budget rules, additivity, real file."""

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from kamlab.service import plan_vs_actual, price_volume_mix

SALES_SAMPLE = SHARED_DATA / "sales_data_sample.csv"
EFFECTS = ["volume_effect", "mix_effect", "price_effect", "new_effect", "lost_effect"]


def _orders(rows):
    """rows: (customer, material, requested date, quantity, net_value[, currency[, status]])."""
    frame = pd.DataFrame(
        [
            {
                "order_id": f"O{i}",
                "line": 1,
                "customer_id": r[0],
                "material_id": r[1],
                "requested_date": pd.Timestamp(r[2]),
                "quantity": float(r[3]),
                "net_value": float(r[4]),
                "currency": r[5] if len(r) > 5 else "EUR",
                "status": r[6] if len(r) > 6 else "delivered",
            }
            for i, r in enumerate(rows)
        ]
    )
    return frame.astype({"requested_date": "datetime64[us]"})


MATERIALS = pd.DataFrame(
    {"material_id": ["M1", "M2", "M3"], "product_family": ["Pumps", "Pumps", "Valves"]}
)


def _budget(customer, family, revenue_per_month, quantity_per_month=1.0, currency="EUR"):
    return pd.DataFrame(
        {
            "customer_id": customer,
            "period": pd.period_range("2024-01", periods=12, freq="M"),
            "product_family": family,
            "planned_quantity": quantity_per_month,
            "planned_revenue": revenue_per_month,
            "currency": currency,
        }
    )


def test_plan_vs_actual_month_ytd_outlook_and_run_rate_match_a_hand_calculation():
    orders = _orders(
        [
            ("C1", "M1", "2023-04-10", 5, 150),
            ("C1", "M1", "2023-02-10", 5, 100),
            ("C1", "M1", "2024-01-10", 10, 200),
            ("C1", "M3", "2024-02-15", 4, 120),
            ("C1", "M1", "2024-04-01", 3, 90),
            ("C1", "M1", "2024-04-20", 2, 60),
            ("C1", "M1", "2024-04-25", 9, 999, "EUR", "cancelled"),
            ("C1", "M1", "2024-07-01", 1, 500),  # after the reporting month: ignored
        ]
    )
    budget = pd.concat(
        [_budget("C1", None, 100.0, 4.0), _budget("C1", "Pumps", 60.0, 2.0)], ignore_index=True
    )
    out = plan_vs_actual(orders, budget, MATERIALS, month="2024-04")
    rev = out[out["measure"] == "revenue"].iloc[0]
    # April: actual 90 + 60 = 150 against plan 100 (the total row wins over the family row)
    assert rev.month_actual == 150.0 and rev.month_plan == 100.0
    assert rev.month_variance == 50.0 and rev.month_variance_pct == pytest.approx(0.5)
    assert rev.month_last_year == 150.0
    # year to date Jan-Apr: 200 + 120 + 150 = 470 against 400; last year 100 + 150 = 250
    assert rev.ytd_actual == 470.0 and rev.ytd_plan == 400.0
    assert rev.ytd_variance_pct == pytest.approx(70 / 400)
    assert rev.ytd_last_year == 250.0 and rev.ytd_growth == pytest.approx(470 / 250 - 1)
    assert rev.fy_plan == 1200.0
    assert rev.fy_outlook == 470.0 + 8 * 100.0
    assert rev.fy_run_rate == pytest.approx(470.0 / 4 * 12)
    qty = out[out["measure"] == "quantity"].iloc[0]
    assert qty.month_actual == 5.0 and qty.ytd_actual == 19.0 and qty.ytd_plan == 16.0
    ex = out.attrs["excluded"].set_index("reason")
    assert ex.loc["cancelled order line", "rows"] == 1
    assert ex.loc["family rows where a customer-total row exists", "rows"] == 12


def test_product_family_level_uses_family_rows_and_counts_customer_total_rows():
    orders = _orders([("C1", "M1", "2024-01-10", 10, 200), ("C1", "M3", "2024-01-15", 4, 120)])
    budget = pd.concat(
        [_budget("C1", None, 100.0), _budget("C1", "Pumps", 60.0)], ignore_index=True
    )
    out = plan_vs_actual(
        orders, budget, MATERIALS, month="2024-01", by=("customer_id", "product_family")
    )
    rev = out[out["measure"] == "revenue"].set_index("product_family")
    assert rev.loc["Pumps", "month_actual"] == 200.0 and rev.loc["Pumps", "month_plan"] == 60.0
    assert rev.loc["Valves", "month_actual"] == 120.0
    assert np.isnan(rev.loc["Valves", "month_plan"])
    assert rev.loc["Valves", "reason"] == "no budget in 2024"
    ex = out.attrs["excluded"].set_index("reason")
    assert ex.loc["customer-total row at product-family level", "rows"] == 12


def test_a_customer_with_budget_but_no_orders_and_one_with_nothing_get_rows_with_reasons():
    orders = _orders([("C1", "M1", "2024-01-10", 10, 200)])
    budget = pd.concat([_budget("C1", None, 100.0), _budget("C2", None, 50.0)])
    out = plan_vs_actual(
        orders, budget, month="2024-02", include=pd.DataFrame({"customer_id": ["C1", "C2", "C3"]})
    )
    rev = out[out["measure"] == "revenue"].set_index("customer_id")
    assert rev.loc["C2", "month_actual"] == 0.0 and rev.loc["C2", "month_variance_pct"] == -1.0
    assert rev.loc["C2", "ytd_variance"] == -100.0
    assert rev.loc["C3", "month_actual"] == 0.0 and np.isnan(rev.loc["C3", "month_plan"])
    assert rev.loc["C3", "reason"] == "no orders and no budget"
    assert len(out) == 6  # three customers × two measures


def test_two_currencies_of_one_customer_stay_apart():
    orders = _orders(
        [("C1", "M1", "2024-01-10", 1, 100, "EUR"), ("C1", "M1", "2024-01-11", 1, 300, "USD")]
    )
    out = plan_vs_actual(orders, _budget("C1", None, 100.0), month="2024-01")
    rev = out[out["measure"] == "revenue"].set_index("currency")
    assert rev.loc["EUR", "month_actual"] == 100.0 and rev.loc["USD", "month_actual"] == 300.0
    assert rev.loc["EUR", "month_plan"] == 100.0 and np.isnan(rev.loc["USD", "month_plan"])


def test_empty_orders_and_budget_give_reasoned_rows_not_an_exception():
    orders = _orders([("C1", "M1", "2024-01-10", 1, 100)]).iloc[0:0]
    budget = _budget("C1", None, 1.0).iloc[0:0]
    customers = pd.DataFrame({"customer_id": ["C1"]})
    out = plan_vs_actual(orders, budget, month="2024-01", include=customers)
    assert out["reason"].tolist() == ["no orders and no budget"] * 2
    pvm = price_volume_mix(orders, month="2024-01", include=customers)
    assert pvm["reason"].tolist() == ["no orders in either window"]
    assert pvm["revenue_change"].tolist() == [0.0]


def test_price_volume_mix_matches_the_hand_worked_bridge():
    orders = _orders(
        [
            ("C1", "M1", "2023-01-05", 10, 100),
            ("C1", "M2", "2023-01-05", 10, 200),
            ("C1", "M3", "2023-01-05", 5, 20),
            ("C1", "M1", "2024-01-05", 15, 165),
            ("C1", "M2", "2024-01-05", 5, 100),
            ("C1", "M4", "2024-01-05", 2, 60),
        ]
    )
    r = price_volume_mix(orders, month="2024-01", window="month").iloc[0]
    # continuing M1, M2: Q0 = Q1 = 20, P0 bar = 300/20 = 15, sum q1*p0 = 15*10 + 5*20 = 250
    assert r.volume_effect == 0.0
    assert r.mix_effect == -50.0  # 250 - 20 * 15
    assert r.price_effect == 15.0  # 15 * (11 - 10) + 5 * (20 - 20)
    assert r.new_effect == 60.0 and r.lost_effect == -20.0
    assert r.revenue_change == 5.0
    assert r.price_realisation == pytest.approx(265 / 250 - 1)
    assert (r.items_continuing, r.items_new, r.items_lost) == (2, 1, 1)
    assert r.window_current == "2024-01..2024-01" and r.window_base == "2023-01..2023-01"


def test_volume_effect_prices_the_change_in_total_quantity_at_last_years_average_price():
    orders = _orders([("C1", "M1", "2023-03-05", 10, 100), ("C1", "M1", "2024-03-05", 12, 120)])
    r = price_volume_mix(orders, month="2024-03").iloc[0]
    assert r.volume_effect == 20.0 and r.mix_effect == 0.0 and r.price_effect == 0.0
    assert r.price_realisation == 0.0


def _random_orders(seed, n=2000):
    rng = np.random.default_rng(seed)
    dates = pd.Timestamp("2022-06-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    quantity = rng.integers(0, 50, n).astype(float)
    return pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "line": 1,
            "customer_id": rng.choice(["C1", "C2", "C3"], n),
            "material_id": rng.choice([f"M{i}" for i in range(25)], n),
            "requested_date": dates,
            "quantity": quantity,
            "net_value": quantity * rng.uniform(5, 15, n) + (quantity == 0) * rng.uniform(0, 3, n),
            "currency": rng.choice(["EUR", "USD"], n, p=[0.8, 0.2]),
            "status": rng.choice(["delivered", "open", "cancelled"], n, p=[0.7, 0.2, 0.1]),
        }
    )


@pytest.mark.parametrize("window", ["month", "ytd", "rolling12"])
def test_effects_add_up_to_the_revenue_change_and_the_price_effect_is_sum_q1_dp(window):
    orders = _random_orders(3)
    before = orders.copy()
    out = price_volume_mix(orders, MATERIALS, month="2024-05", window=window)
    pd.testing.assert_frame_equal(orders, before)
    np.testing.assert_allclose(
        out[EFFECTS].sum(axis=1), out["revenue_change"], rtol=1e-12, atol=1e-9
    )
    # independent reference: revenue per window straight from the order lines
    live = orders[orders["status"] != "cancelled"]
    month = live["requested_date"].dt.to_period("M")
    lo = {
        "month": pd.Period("2024-05", "M"),
        "ytd": pd.Period("2024-01", "M"),
        "rolling12": pd.Period("2023-06", "M"),
    }[window]
    cur = live[(month >= lo) & (month <= pd.Period("2024-05", "M"))]
    base = live[(month >= lo - 12) & (month <= pd.Period("2023-05", "M"))]
    for (customer, currency), row in out.set_index(["customer_id", "currency"]).iterrows():
        c = cur[(cur.customer_id == customer) & (cur.currency == currency)]
        b = base[(base.customer_id == customer) & (base.currency == currency)]
        assert row.revenue_current == pytest.approx(c.net_value.sum())
        assert row.revenue_base == pytest.approx(b.net_value.sum())
        q1 = c.groupby("material_id")[["quantity", "net_value"]].sum()
        q0 = b.groupby("material_id")[["quantity", "net_value"]].sum()
        both = q1.join(q0, suffixes=("_1", "_0"), how="outer").fillna(0.0)
        both = both[(both.quantity_1 > 0) & (both.quantity_0 > 0)]
        price = (
            both.quantity_1
            * (both.net_value_1 / both.quantity_1 - both.net_value_0 / both.quantity_0)
        ).sum()
        value_only = pd.concat([c, b])
        value_only = value_only.groupby("material_id").filter(lambda g: g.quantity.sum() == 0)
        in_cur = value_only.index.isin(c.index)
        adjustment = value_only.net_value[in_cur].sum() - value_only.net_value[~in_cur].sum()
        assert row.price_effect == pytest.approx(price + adjustment, abs=1e-9)


def _sales_sample():
    raw = pd.read_csv(SALES_SAMPLE, keep_default_na=False)
    status = raw["STATUS"].map(
        {"Cancelled": "cancelled", "Shipped": "delivered", "Resolved": "delivered"}
    )
    return pd.DataFrame(
        {
            "order_id": raw["ORDERNUMBER"].astype(str),
            "line": raw["ORDERLINENUMBER"],
            "customer_id": raw["CUSTOMERNAME"],
            "material_id": raw["PRODUCTCODE"],
            "requested_date": pd.to_datetime(raw["ORDERDATE"], format="%m/%d/%Y %H:%M"),
            "quantity": raw["QUANTITYORDERED"].astype(float),
            "net_value": raw["SALES"].astype(float),
            "currency": "USD",
            "status": status.fillna("open"),
        }
    ), raw


@pytest.mark.usefixtures("shared_data")
def test_sales_sample_2004_vs_2003_bridge_adds_up_and_totals_match_the_file():
    orders, raw = _sales_sample()
    materials = (
        raw[["PRODUCTCODE", "PRODUCTLINE"]]
        .drop_duplicates()
        .set_axis(["material_id", "product_family"], axis=1)
    )
    pvm = price_volume_mix(orders, materials, month="2004-12", window="ytd")
    np.testing.assert_allclose(pvm[EFFECTS].sum(axis=1), pvm["revenue_change"], atol=1e-6)
    live = raw[raw["STATUS"] != "Cancelled"]
    assert pvm["revenue_current"].sum() == pytest.approx(
        live.loc[live.YEAR_ID == 2004, "SALES"].sum()
    )
    assert pvm["revenue_base"].sum() == pytest.approx(live.loc[live.YEAR_ID == 2003, "SALES"].sum())
    by_family = price_volume_mix(
        orders, materials, month="2004-12", by=("product_family",), window="ytd"
    )
    assert len(by_family) == 7
    # a budget of last year + 10 % per customer and month: plan vs actual on the same file
    ly = orders[(orders.status != "cancelled") & (orders.requested_date.dt.year == 2003)]
    budget = (
        ly.assign(period=ly.requested_date.dt.to_period("M") + 12)
        .groupby(["customer_id", "period", "currency"], as_index=False)[["quantity", "net_value"]]
        .sum()
        .rename(columns={"quantity": "planned_quantity", "net_value": "planned_revenue"})
        .assign(product_family=None)
    )
    budget[["planned_quantity", "planned_revenue"]] *= 1.1
    pva = plan_vs_actual(orders, budget, materials, month="2004-06")
    rev = pva[pva["measure"] == "revenue"]
    assert rev["ytd_last_year"].sum() * 1.1 == pytest.approx(rev["ytd_plan"].sum())
    assert rev["ytd_actual"].sum() == pytest.approx(
        live.loc[(live.YEAR_ID == 2004) & (live.MONTH_ID <= 6), "SALES"].sum()
    )
