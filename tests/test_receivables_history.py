"""Month-end ageing history equals the single as-of ageing at every month-end."""

import pandas as pd
import pytest
from receivables_ledgers import random_ledger

from kamlab.receivables import ageing, ageing_history, ageing_summary, last_month_ends, open_items


@pytest.mark.parametrize(("seed", "basis"), [(0, "due_date"), (1, "posting_date")])
def test_history_equals_the_single_as_of_ageing_at_each_month_end(seed, basis):
    inv, pay, inst = random_ledger(400, seed=seed)
    ends = last_month_ends("2023-12-31", 12)
    hist = ageing_history(inv, pay, month_ends=ends, instalments=inst, basis=basis)
    assert set(hist["month_end"]) == set(ends)
    for m in ends:
        aged = ageing(open_items(inv, pay, as_of=m, instalments=inst), as_of=m, basis=basis)
        single = ageing_summary(aged)
        single = single.loc[single["items"] > 0].drop(columns="received_since")
        got = hist.loc[hist["month_end"] == m].drop(columns="month_end").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, single.reset_index(drop=True), check_dtype=False)


def test_history_matches_totals_worked_from_the_raw_ledger():
    inv, pay, _ = random_ledger(300, seed=5)
    ends = last_month_ends("2023-06-30", 6)
    hist = ageing_history(inv, pay, month_ends=ends)
    for m in ends:
        paid = pay["payment_date"] <= m
        is_cn = inv["document_type"] == "credit_note"
        live = inv["posting_date"] <= m
        expected = (
            inv.loc[live & ~is_cn, "amount"]
            .groupby(inv["currency"])
            .sum()
            .sub(inv.loc[live & is_cn, "amount"].groupby(inv["currency"]).sum(), fill_value=0)
            .sub(pay.loc[paid, "amount"].groupby(pay["currency"]).sum(), fill_value=0)
        )
        got = hist.loc[hist["month_end"] == m].groupby("currency")["total"].sum()
        assert got.round(2).to_dict() == pytest.approx(expected.round(2).to_dict(), abs=0.011)


def test_last_month_ends_skips_a_month_not_yet_closed():
    assert [str(d.date()) for d in last_month_ends("2024-02-29", 2)] == ["2024-01-31", "2024-02-29"]
    assert [str(d.date()) for d in last_month_ends("2024-02-28", 1)] == ["2024-01-31"]


def test_an_empty_ledger_gives_an_empty_history_with_the_bucket_columns():
    inv, pay, _ = random_ledger(10, seed=1)
    hist = ageing_history(inv.iloc[:0], pay.iloc[:0], as_of="2023-12-31", months=3)
    assert hist.empty
    assert {"month_end", "customer_id", "currency", "not due", ">120", "total"} <= set(hist.columns)
