"""Open items as of a date, on hand-worked ledgers (DOMAIN.md "Receivables ageing")."""

import pandas as pd
import pytest
from receivables_ledgers import invoices, no_payments, payments

from kamlab.receivables import ageing, ageing_summary, open_items

INV = ("I1", "C1", "invoice", "2024-01-10", "2024-02-09", 100.0, "EUR", None)


def _open(oi: pd.DataFrame) -> dict:
    return {
        (r.item_type, r.document_id, None if pd.isna(r.instalment) else int(r.instalment)): (
            r.open_amount
        )
        for r in oi.itertuples()
    }


def test_an_unpaid_invoice_is_open_for_its_full_amount():
    oi = open_items(invoices(INV), no_payments(), as_of="2024-03-31")
    assert _open(oi) == {("invoice", "I1", None): 100.0}


def test_a_partial_payment_leaves_the_rest_open():
    pay = payments(("P1", 1, "C1", "2024-02-01", 30.0, "EUR", "I1"))
    oi = open_items(invoices(INV), pay, as_of="2024-03-31")
    assert _open(oi) == {("invoice", "I1", None): 70.0}


def test_a_fully_paid_invoice_is_not_listed():
    pay = payments(("P1", 1, "C1", "2024-02-01", 100.0, "EUR", "I1"))
    oi = open_items(invoices(INV), pay, as_of="2024-03-31")
    assert oi.empty


def test_a_payment_dated_after_the_as_of_date_does_not_count_and_shows_as_received_since():
    pay = payments(("P1", 1, "C1", "2024-04-02", 100.0, "EUR", "I1"))
    oi = open_items(invoices(INV), pay, as_of="2024-03-31")
    assert _open(oi) == {("invoice", "I1", None): 100.0}
    assert oi["received_since"].tolist() == [100.0]


def test_a_payment_on_account_is_a_separate_negative_item_aged_by_its_own_date():
    pay = payments(("P1", 1, "C1", "2024-03-01", 40.0, "EUR", None))
    oi = open_items(invoices(INV), pay, as_of="2024-03-31")
    assert _open(oi) == {("invoice", "I1", None): 100.0, ("payment", "P1", None): -40.0}
    aged = ageing(oi, as_of="2024-03-31").set_index("item_type")
    assert aged.loc["payment", "days_overdue"] == 30
    assert aged.loc["payment", "bucket"] == "1-30"
    assert aged.loc["invoice", "days_overdue"] == 51


def test_a_payment_received_before_the_invoice_is_on_account_until_its_allocation_date():
    inv = invoices(("I1", "C1", "invoice", "2024-03-10", "2024-04-09", 100.0, "EUR", None))
    pay = payments(("P1", 1, "C1", "2024-03-01", 100.0, "EUR", "I1", "2024-03-20"))
    before_invoice = open_items(inv, pay, as_of="2024-03-05")
    assert _open(before_invoice) == {("payment", "P1", None): -100.0}
    before_clearing = open_items(inv, pay, as_of="2024-03-15")
    assert _open(before_clearing) == {
        ("invoice", "I1", None): 100.0,
        ("payment", "P1", None): -100.0,
    }
    assert open_items(inv, pay, as_of="2024-03-20").empty


def test_a_prepayment_without_allocation_date_clears_on_the_invoice_posting_date():
    inv = invoices(("I1", "C1", "invoice", "2024-03-10", "2024-04-09", 100.0, "EUR", None))
    pay = payments(("P1", 1, "C1", "2024-03-01", 100.0, "EUR", "I1"))
    assert _open(open_items(inv, pay, as_of="2024-03-09")) == {("payment", "P1", None): -100.0}
    assert open_items(inv, pay, as_of="2024-03-10").empty


def test_a_credit_note_against_an_invoice_reduces_it_from_the_later_posting_date():
    inv = invoices(INV, ("K1", "C1", "credit_note", "2024-02-15", "2024-02-15", 25.0, "EUR", "I1"))
    assert _open(open_items(inv, no_payments(), as_of="2024-02-14")) == {
        ("invoice", "I1", None): 100.0
    }
    assert _open(open_items(inv, no_payments(), as_of="2024-02-15")) == {
        ("invoice", "I1", None): 75.0
    }


def test_a_credit_note_allocated_later_is_on_account_until_its_allocation_date():
    inv = invoices(
        INV,
        ("K1", "C1", "credit_note", "2024-02-15", "2024-02-15", 25.0, "EUR", "I1", "2024-03-01"),
    )
    oi = open_items(inv, no_payments(), as_of="2024-02-20")
    assert _open(oi) == {("invoice", "I1", None): 100.0, ("credit_note", "K1", None): -25.0}
    assert _open(open_items(inv, no_payments(), as_of="2024-03-01")) == {
        ("invoice", "I1", None): 75.0
    }


def test_a_credit_note_on_account_stays_a_negative_item():
    inv = invoices(INV, ("K1", "C1", "credit_note", "2024-02-15", "2024-02-15", 25.0, "EUR", None))
    oi = open_items(inv, no_payments(), as_of="2024-06-30")
    assert _open(oi) == {("invoice", "I1", None): 100.0, ("credit_note", "K1", None): -25.0}
    summary = ageing_summary(ageing(oi, as_of="2024-06-30"))
    assert summary["total"].tolist() == [75.0]


def test_an_overpaid_invoice_is_shown_as_a_credit():
    pay = payments(("P1", 1, "C1", "2024-02-01", 110.0, "EUR", "I1"))
    oi = open_items(invoices(INV), pay, as_of="2024-03-31")
    assert _open(oi) == {("invoice", "I1", None): -10.0}
    assert oi["overpaid"].tolist() == [True]


def test_an_invoice_posted_after_the_as_of_date_does_not_exist_yet():
    oi = open_items(invoices(INV), no_payments(), as_of="2024-01-09")
    assert oi.empty
    excluded = oi.attrs["excluded"].set_index("table")
    assert excluded.loc["invoices", "rows"] == 1


def test_instalments_are_aged_separately_and_unnamed_payments_go_to_the_earliest_due():
    inv = invoices(("I1", "C1", "invoice", "2024-01-01", "2024-03-01", 100.0, "EUR", None))
    inst = pd.DataFrame(
        {
            "document_id": ["I1", "I1"],
            "instalment": [2, 1],
            "due_date": pd.to_datetime(["2024-03-01", "2024-01-31"]),
            "amount": [70.0, 30.0],
        }
    )
    pay = payments(("P1", 1, "C1", "2024-02-10", 40.0, "EUR", "I1"))
    oi = open_items(inv, pay, as_of="2024-03-31", instalments=inst)
    assert _open(oi) == {("invoice", "I1", 2): 60.0}
    before = open_items(inv, pay, as_of="2024-02-05", instalments=inst)
    aged = ageing(before, as_of="2024-02-05")
    assert aged[["instalment", "open_amount", "bucket"]].astype(object).values.tolist() == [
        [1, 30.0, "1-30"],
        [2, 70.0, "not due"],
    ]


def test_a_payment_naming_an_instalment_clears_that_instalment():
    inv = invoices(("I1", "C1", "invoice", "2024-01-01", "2024-03-01", 100.0, "EUR", None))
    inst = pd.DataFrame(
        {
            "document_id": ["I1", "I1"],
            "instalment": [1, 2],
            "due_date": pd.to_datetime(["2024-01-31", "2024-03-01"]),
            "amount": [30.0, 70.0],
        }
    )
    pay = payments(
        ("P1", 1, "C1", "2024-02-10", 70.0, "EUR", "I1", None, 2),
        ("P2", 1, "C1", "2024-02-11", 10.0, "EUR", "I1"),
    )
    oi = open_items(inv, pay, as_of="2024-03-31", instalments=inst)
    assert _open(oi) == {("invoice", "I1", 1): 20.0}


def test_customers_and_currencies_are_kept_apart():
    inv = invoices(
        INV,
        ("I2", "C1", "invoice", "2024-01-10", "2024-02-09", 50.0, "USD", None),
        ("I3", "C2", "invoice", "2024-03-20", "2024-04-19", 80.0, "EUR", None),
    )
    aged = ageing(open_items(inv, no_payments(), as_of="2024-03-31"), as_of="2024-03-31")
    table = ageing_summary(aged)
    got = table.set_index(["customer_id", "currency"])[["not due", "31-60", "total"]]
    assert got.to_dict("index") == {
        ("C1", "EUR"): {"not due": 0.0, "31-60": 100.0, "total": 100.0},
        ("C1", "USD"): {"not due": 0.0, "31-60": 50.0, "total": 50.0},
        ("C2", "EUR"): {"not due": 80.0, "31-60": 0.0, "total": 80.0},
    }
    portfolio = ageing_summary(aged, by=())
    assert portfolio.set_index("currency")["total"].to_dict() == {"EUR": 180.0, "USD": 50.0}


@pytest.mark.parametrize(
    ("as_of", "bucket"),
    [
        ("2024-02-09", "not due"),  # due today
        ("2024-02-10", "1-30"),
        ("2024-03-10", "1-30"),  # exactly 30 days overdue
        ("2024-03-11", "31-60"),
        ("2024-06-08", "91-120"),  # 120 days
        ("2024-06-09", ">120"),
    ],
)
def test_bucket_edges_fall_on_the_documented_side(as_of, bucket):
    aged = ageing(open_items(invoices(INV), no_payments(), as_of=as_of), as_of=as_of)
    assert aged["bucket"].tolist() == [bucket]


def test_posting_date_basis_ages_from_the_posting_date():
    oi = open_items(invoices(INV), no_payments(), as_of="2024-02-09")
    aged = ageing(oi, as_of="2024-02-09", basis="posting_date")
    assert aged["days_overdue"].tolist() == [30]
    assert aged["bucket"].tolist() == ["1-30"]


def test_an_unknown_basis_is_refused_with_the_allowed_values():
    oi = open_items(invoices(INV), no_payments(), as_of="2024-02-09")
    with pytest.raises(ValueError, match="basis must be one of"):
        ageing(oi, as_of="2024-02-09", basis="document_date")


def test_the_input_frames_are_not_changed():
    inv = invoices(INV)
    pay = payments(("P1", 1, "C1", "2024-02-01", 30.0, "EUR", "I1"))
    before = (inv.copy(), pay.copy())
    open_items(inv, pay, as_of="2024-03-31")
    pd.testing.assert_frame_equal(inv, before[0])
    pd.testing.assert_frame_equal(pay, before[1])


def test_empty_ledgers_give_an_empty_table_with_the_columns():
    oi = open_items(invoices(INV).iloc[:0], no_payments(), as_of="2024-03-31")
    assert oi.empty
    assert "open_amount" in oi.columns
    assert ageing_summary(ageing(oi, as_of="2024-03-31")).empty
