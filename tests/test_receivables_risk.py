"""Late-payment risk: no leakage from after as_of, deterministic, baseline by hand."""

import numpy as np
import pandas as pd
import pytest
from receivables_ledgers import invoices, payments, random_ledger

from kamlab.receivables import late_payment_risk, settlements

AS_OF = "2023-06-30"


@pytest.fixture(scope="module")
def ledger():
    inv, pay, _ = random_ledger(700, customers=12, seed=11)
    return inv, pay


@pytest.fixture(scope="module")
def risk(ledger):
    inv, pay = ledger
    return late_payment_risk(inv, pay, as_of=AS_OF, late_days=10)


def test_settlement_is_the_allocation_that_clears_the_last_cent():
    inv = invoices(("I1", "C1", "invoice", "2024-01-01", "2024-01-31", 100.0, "EUR", None))
    pay = payments(
        ("P1", 1, "C1", "2024-01-20", 60.0, "EUR", "I1"),
        ("P2", 1, "C1", "2024-02-05", 40.0, "EUR", "I1", "2024-02-12"),
    )
    got = settlements(inv, pay).iloc[0]
    assert got["settled_date"] == pd.Timestamp("2024-02-12")
    assert got["days_late"] == 12
    open_ = settlements(inv, pay.iloc[:1]).iloc[0]
    assert pd.isna(open_["settled_date"]) and pd.isna(open_["days_late"])


def test_payments_after_as_of_do_not_change_the_probabilities(ledger, risk):
    inv, pay = ledger
    base = risk
    assert base["model"].eq("calibrated gradient boosting").all()
    assert len(base) > 10
    # rewrite the future: every payment after as_of becomes one day after as_of
    future = pay["payment_date"] > pd.Timestamp(AS_OF)
    moved = pay.assign(
        payment_date=pay["payment_date"].where(~future, pd.Timestamp(AS_OF) + pd.Timedelta(days=1)),
        allocation_date=pay["allocation_date"].where(~future),
    )
    again = late_payment_risk(inv, moved, as_of=AS_OF, late_days=10)
    pd.testing.assert_frame_equal(base, again)


def test_the_model_is_deterministic_and_gives_probabilities(ledger, risk):
    inv, pay = ledger
    a = risk
    b = late_payment_risk(inv, pay, as_of=AS_OF, late_days=10)
    pd.testing.assert_frame_equal(a, b)
    assert a["probability"].between(0, 1).all()


def test_the_baseline_is_the_customers_late_rate_before_as_of(ledger, risk):
    inv, pay = ledger
    got = risk
    s = settlements(inv, pay)
    known = s.loc[s["settled_date"] < pd.Timestamp(AS_OF)]
    row = got.loc[got["posting_date"] == got["posting_date"].max()].iloc[0]
    mine = known.loc[
        (known["customer_id"] == row["customer_id"]) & (known["settled_date"] < row["posting_date"])
    ]
    assert row["hist_invoices"] == len(mine)
    assert row["baseline"] == pytest.approx((mine["days_late"] > 10).mean(), abs=1e-6)


def test_with_little_history_the_baseline_is_returned_and_said_so():
    inv, pay, _ = random_ledger(60, customers=3, seed=2)
    got = late_payment_risk(inv, pay, as_of="2022-04-30", late_days=10)
    assert got["model"].eq("baseline (too little history)").all()
    np.testing.assert_array_equal(got["probability"], got["baseline"])
