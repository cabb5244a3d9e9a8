"""DSO, days to pay / beyond terms and CEI on hand-worked ledgers."""

import numpy as np
import pandas as pd
import pytest
from receivables_ledgers import invoices, no_payments, payments

from kamlab.receivables import collection_effectiveness, days_to_pay, dso

# sales: 10 Jan 100, 10 Feb 200, 10 Mar 50; 50 of January paid -> receivables 300 at 15 Mar
LEDGER = invoices(
    ("I1", "C1", "invoice", "2024-01-10", "2024-02-09", 100.0, "EUR", None),
    ("I2", "C1", "invoice", "2024-02-10", "2024-03-11", 200.0, "EUR", None),
    ("I3", "C1", "invoice", "2024-03-10", "2024-04-09", 50.0, "EUR", None),
)
PAID = payments(("P1", 1, "C1", "2024-02-20", 50.0, "EUR", "I1"))


def test_countback_dso_consumes_whole_months_then_a_share_of_the_last_one():
    # 15 days of March (50) + February's 29 days (200) + 50/100 of January's 31 days
    got = dso(LEDGER, PAID, as_of="2024-03-15", simple_months=3).iloc[0]
    assert got["receivables"] == 300.0
    assert got["dso_countback"] == pytest.approx(15 + 29 + 15.5)
    assert got["dso_simple"] == pytest.approx(round(300 / 350 * 75, 2))
    assert got["reason"] == ""


def test_countback_dso_is_nan_with_a_reason_when_receivables_exceed_the_look_back_sales():
    got = dso(LEDGER, PAID, as_of="2024-03-15", countback_months=2, simple_months=2).iloc[0]
    assert np.isnan(got["dso_countback"])
    assert got["reason"] == "receivables exceed sales of the look-back"


def test_dso_is_zero_when_nothing_is_owed():
    pay = payments(("P1", 1, "C1", "2024-03-12", 350.0, "EUR", None))
    got = dso(LEDGER, pay, as_of="2024-03-15").iloc[0]
    assert (got["receivables"], got["dso_countback"], got["dso_simple"]) == (0.0, 0.0, 0.0)
    assert got["reason"] == "no receivables"


def test_dso_keeps_currencies_apart():
    inv = invoices(
        ("I1", "C1", "invoice", "2024-03-01", "2024-03-31", 310.0, "EUR", None),
        ("I2", "C1", "invoice", "2024-03-01", "2024-03-31", 100.0, "USD", None),
    )
    pay = payments(("P1", 1, "C1", "2024-03-20", 50.0, "USD", "I2"))
    got = dso(inv, pay, as_of="2024-03-31").set_index("currency")["dso_countback"]
    assert got.to_dict() == {"EUR": 31.0, "USD": 15.5}


def test_days_to_pay_and_beyond_terms_weight_by_amount_and_follow_instalment_due_dates():
    inv = invoices(("I1", "C1", "invoice", "2024-01-01", "2024-03-01", 100.0, "EUR", None))
    inst = pd.DataFrame(
        {
            "document_id": ["I1", "I1"],
            "instalment": [1, 2],
            "due_date": pd.to_datetime(["2024-01-31", "2024-03-01"]),
            "amount": [30.0, 70.0],
        }
    )
    pay = payments(("P1", 1, "C1", "2024-02-10", 100.0, "EUR", "I1"))
    got = days_to_pay(inv, pay, instalments=inst).iloc[0]
    assert got["days_to_pay"] == 40.0
    assert got["days_beyond_terms"] == (30 * 10 + 70 * -20) / 100


def test_days_to_pay_by_month_gives_the_trend_and_leaves_payments_on_account_out():
    pay = payments(
        ("P1", 1, "C1", "2024-02-19", 100.0, "EUR", "I1"),
        ("P2", 1, "C1", "2024-03-21", 200.0, "EUR", "I2"),
        ("P3", 1, "C1", "2024-03-25", 20.0, "EUR", None),
    )
    got = days_to_pay(LEDGER, pay, monthly=True)
    assert got["period"].astype(str).tolist() == ["2024-02", "2024-03"]
    assert got["days_to_pay"].tolist() == [40.0, 40.0]
    assert got["days_beyond_terms"].tolist() == [10.0, 10.0]
    excluded = got.attrs["excluded"]
    assert excluded[["rows", "amount"]].to_dict("records") == [{"rows": 1, "amount": 20.0}]


def test_cei_follows_the_formula_month_by_month():
    # Feb: opening 100 (I1), sales 200, payments 50 on I1 -> closing 250, current 200 (I2)
    # CEI = (100 + 200 - 250) / (100 + 200 - 200) = 50 %
    # Mar: opening 250, sales 50, payments 200 on I2 -> closing 100, current 50 (I3)
    # CEI = (250 + 50 - 100) / (250 + 50 - 50) = 80 %
    pay = payments(
        ("P1", 1, "C1", "2024-02-20", 50.0, "EUR", "I1"),
        ("P2", 1, "C1", "2024-03-20", 200.0, "EUR", "I2"),
    )
    got = collection_effectiveness(LEDGER, pay, as_of="2024-03-31", months=2)
    assert got["period"].astype(str).tolist() == ["2024-02", "2024-03"]
    assert got[["opening", "sales", "closing_total", "closing_current"]].values.tolist() == [
        [100.0, 200.0, 250.0, 200.0],
        [250.0, 50.0, 100.0, 50.0],
    ]
    assert got["cei"].tolist() == [50.0, 80.0]


def test_cei_is_nan_with_a_reason_when_nothing_was_collectable():
    inv = invoices(("I1", "C2", "invoice", "2023-11-10", "2023-12-10", 10.0, "EUR", None))
    pay = payments(("P1", 1, "C2", "2023-12-01", 10.0, "EUR", "I1"))
    got = collection_effectiveness(inv, pay, as_of="2024-02-29", months=2)
    assert got["cei"].isna().all()
    assert set(got["reason"]) == {"nothing collectable (denominator ≤ 0)"}


def test_behaviour_functions_accept_an_empty_ledger():
    empty = LEDGER.iloc[:0]
    assert dso(empty, no_payments(), as_of="2024-03-31").empty
    assert days_to_pay(empty, no_payments()).empty
    assert collection_effectiveness(empty, no_payments(), as_of="2024-03-31", months=2).empty
