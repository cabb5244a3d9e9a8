"""kamlab.market and kamlab.satisfaction: hand-worked share of business, 3C, ratings, visits."""

import numpy as np
import pandas as pd
import pytest

from kamlab.exclusions import excluded
from kamlab.market import competitor_activity, share_of_business, three_c
from kamlab.satisfaction import issues_closed_on_time, vendor_rating_trend, visits_vs_plan


@pytest.fixture
def orders():
    rows = [
        # customer, material, requested, net value, currency, status
        ("C1", "M1", "2023-03-10", 400.0, "EUR", "delivered"),
        ("C1", "M1", "2023-11-10", 400.0, "EUR", "delivered"),
        ("C1", "M1", "2024-06-10", 900.0, "EUR", "delivered"),
        ("C1", "M1", "2024-06-11", 500.0, "EUR", "cancelled"),
        ("C1", "M2", "2024-05-10", 300.0, "EUR", "delivered"),
        ("C2", "M1", "2024-04-10", 100.0, "GBP", "delivered"),
    ]
    f = pd.DataFrame(
        rows,
        columns=["customer_id", "material_id", "requested_date", "net_value", "currency", "status"],
    )
    return f.assign(requested_date=pd.to_datetime(f["requested_date"]), quantity=1.0)


@pytest.fixture
def materials():
    return pd.DataFrame({"material_id": ["M1", "M2"], "product_family": ["Bearings", "Seals"]})


@pytest.fixture
def market():
    rows = [
        ("C1", "2023-12", "Bearings", None, 4000.0, "EUR", None, None),
        ("C1", "2023-12", "Bearings", "Nordic Bearings AB", None, "EUR", 0.5, None),
        ("C1", "2024-06", "Bearings", None, 3000.0, "EUR", None, None),
        ("C1", "2024-06", "Bearings", "Nordic Bearings AB", None, "EUR", 0.6, "price cut 5 %"),
        ("C1", "2024-06", "Bearings", "Kugel GmbH", None, "EUR", 0.1, None),
        # C2's estimate is in EUR while we bill it in GBP
        ("C2", "2024-06", "Bearings", None, 1000.0, "EUR", None, None),
    ]
    f = pd.DataFrame(
        rows,
        columns=["customer_id", "period", "product_family", "competitor", "total_purchases",
                 "currency", "share", "activity"],
    )  # fmt: skip
    return f.assign(period=pd.PeriodIndex(f["period"], freq="M"))


def test_share_of_business_per_family_with_trend_and_a_missing_estimate(orders, materials, market):
    r = share_of_business(orders, materials, market, month="2024-06")
    c1 = r[(r["customer_id"] == "C1") & (r["product_family"] == "Bearings")]
    # 12 months to Dec 2023: 800 of 4,000; to June 2024: 400 + 900 (cancelled left out) of 3,000
    assert c1["share_of_business"].tolist() == pytest.approx([0.2, 1300 / 3000])
    assert c1["change"].iloc[1] == pytest.approx(1300 / 3000 - 0.2)
    seals = r[(r["customer_id"] == "C1") & (r["product_family"] == "Seals")].iloc[0]
    # we sold 300 of seals but nobody estimated the customer's purchases: NaN, not 0
    assert seals["our_sales"] == 300.0 and np.isnan(seals["share_of_business"])
    assert seals["reason"] == "no market estimate"
    c2 = r[r["customer_id"] == "C2"].iloc[0]
    assert np.isnan(c2["share_of_business"]) and c2["reason"] == "estimate in another currency"


def test_share_of_business_per_customer_adds_families_with_an_estimate_only(
    orders, materials, market
):
    r = share_of_business(orders, materials, market, month="2024-06", by=("customer_id",))
    now = r[(r["customer_id"] == "C1") & (r["period"] == pd.Period("2024-06", "M"))].iloc[0]
    assert now["share_of_business"] == pytest.approx(1300 / 3000)
    assert now["our_sales"] == 1600.0 and now["coverage"] == pytest.approx(1300 / 1600)


def test_competitors_and_the_3c_table(orders, materials, market):
    opps = pd.DataFrame(
        {"customer_id": ["C1"], "status": ["lost"], "competitor": ["Nordic Bearings AB"],
         "decided_date": pd.to_datetime(["2024-04-11"]), "annual_value": [9000.0],
         "currency": ["EUR"]}
    )  # fmt: skip
    a = competitor_activity(market, opps, month="2024-06")
    nb = a[a["competitor"] == "Nordic Bearings AB"].iloc[0]
    assert nb["share"] == 0.6 and nb["change"] == pytest.approx(0.1)
    assert nb["activity"] == "price cut 5 %" and nb["lost_to"] == 1 and nb["lost_value"] == 9000.0
    assert a["competitor"].tolist()[:2] == ["Nordic Bearings AB", "Kugel GmbH"]
    share = share_of_business(orders, materials, market, month="2024-06")
    t = three_c(share, market, month="2024-06")
    row = t[(t["customer_id"] == "C1") & (t["product_family"] == "Bearings")].iloc[0]
    assert row["main_competitor"] == "Nordic Bearings AB"
    assert row["market_growth"] == pytest.approx(3000 / 4000 - 1)
    assert row["competitors"] == 2
    assert row["unexplained_share"] == pytest.approx(1 - 1300 / 3000 - 0.7)


def test_vendor_rating_trend_on_one_scale():
    ratings = pd.DataFrame(
        {"customer_id": "C1", "period": pd.period_range("2024-01", periods=3, freq="Q").asfreq(
            "M"), "score": [80.0, 72.0, 90.0], "scale_max": 100.0, "rank": [2, 4, 1]}
    )  # fmt: skip
    r = vendor_rating_trend(ratings, month="2024-12")
    assert r["score_pct"].tolist() == [0.8, 0.72, 0.9]
    assert r["change"].tolist()[1:] == pytest.approx([-0.08, 0.18])
    assert r["rank_change"].tolist()[1:] == [-2.0, 3.0]


def test_issues_closed_on_time_leaves_issues_open_within_target_out_of_the_rate():
    c = pd.DataFrame(
        {"customer_id": "C1",
         "opened_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-03-25",
                                        "2023-12-20"]),
         "closed_date": pd.to_datetime(["2024-01-31", "2024-02-01", None, None, "2024-01-05"])}
    )  # fmt: skip
    r = issues_closed_on_time(c, start="2024-01-01", as_of="2024-03-31", target_days=30).iloc[0]
    # 30 days: on time; 31 days: late; open 60 days: overdue; open 6 days: no outcome yet
    assert (r.closed_on_time, r.closed_late, r.overdue, r.open_in_time) == (1, 1, 1, 1)
    assert r.on_time_rate == pytest.approx(1 / 3)
    r = issues_closed_on_time(c, start="2024-01-01", as_of="2024-03-31", target_days=30)
    assert excluded(r)["rows"].tolist() == [1]  # opened before the window: counted, not used


def test_visits_against_a_plan_prorated_to_the_window():
    v = pd.DataFrame(
        {"visit_id": list("ABCDE"), "customer_id": "C1",
         "visit_date": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-05-01", "2024-05-15",
                                       "2024-08-01"]),
         "type": ["visit", "visit", "voc", "visit", "visit"],
         "status": [None, "held", "held", "planned", "planned"]}
    )  # fmt: skip
    r = visits_vs_plan(
        v, start="2024-01-01", as_of="2024-06-30", plan={"visit": 12, "voc": 2},
        customers=["C1", "C9"],
    ).set_index(["customer_id", "type"])  # fmt: skip
    years = 182 / 365.25
    assert r.loc[("C1", "visit"), "held"] == 2 and r.loc[("C1", "visit"), "missed"] == 1
    assert r.loc[("C1", "visit"), "plan"] == pytest.approx(12 * years)
    assert r.loc[("C1", "voc"), "vs_plan"] == pytest.approx(1 / (2 * years))
    assert r.loc[("C1", "visit"), "next_planned"] == pd.Timestamp("2024-08-01")
    assert r.loc[("C9", "visit"), "held"] == 0 and r.loc[("C9", "visit"), "vs_plan"] == 0.0
