"""kamlab.opportunities: hand-worked pipeline, win rate, RFQs, lost sales and NPI projects."""

import numpy as np
import pandas as pd
import pytest

from kamlab.exclusions import excluded
from kamlab.opportunities import (
    lost_sales,
    npi_projects,
    pipeline_at_risk,
    pipeline_forecast,
    rfq_activity,
    weighted_pipeline,
    win_rate,
)

COLUMNS = ["opportunity_id", "customer_id", "type", "status", "stage", "probability",
           "annual_value", "annual_volume", "currency", "created_date", "stage_date",
           "expected_award_date", "planned_sop_date", "sop_date", "decided_date",
           "loss_reason", "competitor"]  # fmt: skip
DATES = ["created_date", "stage_date", "expected_award_date", "planned_sop_date", "sop_date",
         "decided_date"]  # fmt: skip


def _opps(rows):
    f = pd.DataFrame(rows, columns=COLUMNS)
    for c in DATES:
        f[c] = pd.to_datetime(f[c])
    return f.assign(material_id=None, product_family="Sensors")


@pytest.fixture
def book():
    return _opps(
        [
            # id, cust, type, status, stage, p, value, volume, cur, created, stage_date,
            # award, planned SOP, SOP, decided, loss reason, competitor
            ("O1", "C1", "rfq", "open", "quotation", 0.5, 12000.0, 1200.0, "EUR",
             "2024-01-10", "2024-02-01", "2024-07-15", None, "2024-09-01", None, None, None),
            ("O2", "C1", "quote", "open", "negotiation", 0.2, 6000.0, 600.0, "USD",
             "2024-02-10", "2024-03-01", "2024-05-01", None, "2024-08-15", None, None, None),
            ("O3", "C1", "rfq", "won", "closed", 1.0, 2400.0, 240.0, "EUR",
             "2024-01-05", "2024-03-01", "2024-03-01", None, "2024-08-01", "2024-03-01", None,
             None),
            ("O4", "C1", "rfq", "lost", "quotation", 0.3, 9000.0, 900.0, "EUR",
             "2024-02-01", "2024-02-15", "2024-04-01", None, None, "2024-04-11", "price",
             "Nordic Bearings AB"),
            ("O5", "C1", "rfq", "won", "closed", 1.0, 3000.0, 300.0, "EUR",
             "2024-03-01", "2024-03-20", "2024-05-01", None, "2024-06-01", "2024-05-01", None,
             None),
            # decided only after the window: still open on 30 June
            ("O6", "C1", "tender", "lost", "quotation", 0.4, 5000.0, 500.0, "EUR",
             "2024-04-01", "2024-04-01", "2024-06-01", None, None, "2024-07-20", "technical",
             "Nordic Bearings AB"),
            ("N1", "C1", "npi", "open", "prototype", 0.6, 50000.0, 5000.0, "EUR",
             "2023-06-01", "2024-01-15", "2024-06-01", "2024-10-01", "2025-03-01", None, None,
             None),
            ("N2", "C1", "npi", "open", "samples", 0.7, 20000.0, 2000.0, "EUR",
             "2024-03-01", "2024-06-01", "2024-09-01", "2025-01-01", "2025-01-01", None, None,
             None),
        ]
    )  # fmt: skip


def test_weighted_pipeline_is_per_currency_and_refused_across_currencies_without_rates(book):
    w = weighted_pipeline(book, as_of="2024-06-30")
    eur = w[w["currency"] == "EUR"].set_index("start_month")["weighted_value"]
    # O1 0.5 x 12,000 in 2024-09; O6 (open on 30 June) 0.4 x 5,000 by its award month 2024-06
    assert eur[pd.Period("2024-09", "M")] == 6000.0
    assert eur[pd.Period("2024-06", "M")] == 2000.0
    assert w.loc[w["currency"] == "USD", "weighted_value"].tolist() == [1200.0]
    with pytest.raises(ValueError, match="EUR, USD into EUR needs rates"):
        weighted_pipeline(book, as_of="2024-06-30", by=(), reporting_currency="EUR")
    with pytest.raises(ValueError, match=r"no rate to EUR for \['USD'\]"):
        weighted_pipeline(book, as_of="2024-06-30", reporting_currency="EUR", rates={"EUR": 1})
    total = weighted_pipeline(
        book, as_of="2024-06-30", by=(), reporting_currency="EUR", rates={"EUR": 1.0, "USD": 0.9}
    )
    assert total["currency"].unique().tolist() == ["EUR"]
    # 6,000 + 2,000 + 0.9 x 1,200 + NPI 0.6 x 50,000 + 0.7 x 20,000
    assert total["weighted_value"].sum() == pytest.approx(6000 + 2000 + 1080 + 30000 + 14000)


def test_win_rate_excludes_open_opportunities(book):
    r = win_rate(book, start="2024-01-01", end="2024-06-30", by=("type",)).set_index("type")
    # rfq: O3, O5 won, O4 lost, O1 open -> 2 / 3 (open not counted as lost)
    assert (r.loc["rfq", "won"], r.loc["rfq", "lost"], r.loc["rfq", "open"]) == (2, 1, 1)
    assert r.loc["rfq", "win_rate"] == pytest.approx(2 / 3)
    assert r.loc["rfq", "value_win_rate"] == pytest.approx(5400 / 14400)
    # cycle: O3 56 days, O4 70, O5 61
    assert r.loc["rfq", "cycle_days_mean"] == pytest.approx((56 + 70 + 61) / 3)
    # cycle time is a duration: one figure over both currencies, not one per currency
    mixed = book.assign(currency=np.where(book["opportunity_id"] == "O4", "USD", book["currency"]))
    m = win_rate(mixed, start="2024-01-01", end="2024-06-30", by=("type",))
    rfq = m[m["type"] == "rfq"]
    assert sorted(rfq["currency"]) == ["EUR", "USD"]
    assert rfq["cycle_days_mean"].tolist() == pytest.approx([(56 + 70 + 61) / 3] * 2)
    assert rfq["cycle_days_median"].tolist() == [61.0, 61.0]
    # the tender was lost only on 20 July: open on 30 June, no win rate yet
    assert r.loc["tender", "open"] == 1 and np.isnan(r.loc["tender", "win_rate"])
    ex = excluded(r).set_index("reason")["rows"]
    assert ex["open: no outcome yet (not in win rate)"] == 5
    # negative control: counting open ones as lost would give 2 / 4
    assert r.loc["rfq", "win_rate"] != pytest.approx(0.5)


def test_pipeline_forecast_is_a_labelled_layer_from_start_of_production(book):
    f = pipeline_forecast(book, as_of="2024-06-30", horizon=3, by=("customer_id",))
    assert set(f["layer"]) == {"pipeline"}
    eur = f[f["currency"] == "EUR"].set_index("period")["value"]
    # July: O6 from its award month (0.4 x 5,000 / 12) and O3, won, SOP 1 Aug -> not yet
    assert eur[pd.Period("2024-07", "M")] == pytest.approx(0.4 * 5000 / 12)
    # August adds O3 at weight 1 (won, start ahead): 2,400 / 12
    assert eur[pd.Period("2024-08", "M")] == pytest.approx(0.4 * 5000 / 12 + 200)
    # September adds O1 0.5 x 12,000 / 12 = 500
    assert eur[pd.Period("2024-09", "M")] == pytest.approx(0.4 * 5000 / 12 + 200 + 500)
    usd = f[f["currency"] == "USD"].set_index("period")["quantity"]
    assert usd[pd.Period("2024-08", "M")] == pytest.approx(0.2 * 600 / 12)


def test_rfq_activity_counts_rfqs_and_wins_per_month_against_target(book):
    targets = pd.DataFrame(
        {"customer_id": "C1", "period": pd.period_range("2024-01", "2024-03", freq="M"),
         "rfqs_target": [2.0, 2.0, 2.0], "won_target": [1.0, 1.0, 1.0]}
    )  # fmt: skip
    r = rfq_activity(book, start="2024-01-01", end="2024-03-31", targets=targets)
    assert r["period"].astype(str).tolist() == ["2024-01", "2024-02", "2024-03"]
    assert r["rfqs"].tolist() == [2, 1, 1]  # O1, O3 | O4 | O5 (O2 is a quote, N2 an NPI)
    assert r["opportunities"].tolist() == [2, 2, 2]
    assert r["won"].tolist() == [0, 0, 1]
    assert r["rfqs_vs_target"].tolist() == [1.0, 0.5, 0.5]
    assert r["won_vs_target"].tolist() == [0.0, 0.0, 1.0]


def test_lost_sales_name_the_reason_and_the_competitor(book):
    listed = lost_sales(book, start="2024-01-01", end="2024-12-31")
    assert listed["opportunity_id"].tolist() == ["O4", "O6"]
    by = lost_sales(book, start="2024-01-01", end="2024-12-31", by=("competitor",))
    assert by.to_dict("records") == [
        {"competitor": "Nordic Bearings AB", "currency": "EUR", "lost": 2, "annual_value": 14000.0}
    ]


def test_npi_projects_show_age_in_stage_and_slippage(book):
    r = npi_projects(book, as_of="2024-06-30", stall_days=90).set_index("opportunity_id")
    assert r.loc["N1", "age_in_stage_days"] == 167.0  # since 15 January
    assert r.loc["N1", "slippage_days"] == 151.0  # SOP 1 Oct 2024 -> 1 Mar 2025
    assert r.loc["N1", "flag"] == "stalled"
    assert r.loc["N2", "flag"] == "" and r.loc["N2", "slippage_days"] == 0.0
    assert r.index.tolist() == ["N1", "N2"]


def test_pipeline_at_risk_is_open_business_overdue_or_stalled(book):
    r = pipeline_at_risk(book, as_of="2024-06-30", stall_days=90)
    # O1 stalled since 1 Feb; O2 award due 1 May; N1 stalled; O6 award overdue (1 June)
    assert r["opportunity_id"].tolist() == ["N1", "O1", "O6", "O2"]
    assert r.set_index("opportunity_id")["reason"]["O2"] == "award overdue, stalled"
    assert r["at_stake"].tolist() == [30000.0, 6000.0, 2000.0, 1200.0]
