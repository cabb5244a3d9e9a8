"""Ageing of the IBM sample AR data reproduces the figures worked out in shared/data/README.md."""

import pytest
from receivables_ledgers import ibm_ledger

from kamlab.receivables import ageing, ageing_summary, open_items

pytestmark = pytest.mark.usefixtures("shared_data")


@pytest.mark.parametrize(
    ("as_of", "count", "amount", "overdue"),
    [("2012-12-31", 99, 5725.06, 13), ("2013-06-30", 84, 5119.85, 12)],
)
def test_open_invoices_and_overdue_count_match_the_readme(as_of, count, amount, overdue):
    inv, pay = ibm_ledger()
    aged = ageing(open_items(inv, pay, as_of=as_of), as_of=as_of)
    assert len(aged) == count
    assert (aged["item_type"] == "invoice").all()
    assert aged["open_amount"].sum() == pytest.approx(amount, abs=0.005)
    assert int((aged["days_overdue"] > 0).sum()) == overdue
    table = ageing_summary(aged, by=())
    assert table["total"].tolist() == [amount]
    assert table["items"].tolist() == [count]
