"""Money at stake per customer, counted once: the amounts of the month's findings.

Every finding of :func:`kamlab.findings.findings` that puts money at risk carries its amount
in one currency, and each amount belongs to exactly one kind (:data:`kamlab.findings.OWNERSHIP`
says which kind owns an overlap: an invoice both long overdue and above the credit limit is
counted as overdue; the stock of a phase-out material as phase-out exposure, never again as
overstock). So a customer's money at stake is the sum of its findings' amounts per currency,
and nothing here adds two measures of the same money. Amounts in different currencies are
never added: a page that wants one figure converts with stated rates.
"""

from __future__ import annotations

import pandas as pd

from kamlab.findings import KINDS
from kamlab.service._common import _require

__all__ = ["KINDS", "money_at_stake"]


def money_at_stake(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per customer × currency × kind with an amount at stake (> 0), from `findings`.

    Returns customer_id, currency, kind, amount (money in that currency), in the order of
    :data:`kamlab.findings.KINDS` per customer.

    >>> f = pd.DataFrame({"customer_id": ["C1", "C1"], "kind": ["overdue", "otif_below_target"],
    ...     "currency": ["EUR", None], "amount": [120.0, float("nan")]})
    >>> money_at_stake(f).to_dict("records")
    [{'customer_id': 'C1', 'currency': 'EUR', 'kind': 'overdue', 'amount': 120.0}]
    """
    _require(findings, ["customer_id", "kind", "currency", "amount"], table="findings",
             function="money_at_stake")  # fmt: skip
    f = findings[findings["amount"] > 0]
    out = f.groupby(["customer_id", "currency", "kind"], observed=True, as_index=False)[
        "amount"
    ].sum()
    order = {k: i for i, k in enumerate(KINDS)}
    out = out.assign(_o=out["kind"].map(order)).sort_values(["customer_id", "_o", "currency"])
    out = out[["customer_id", "currency", "kind", "amount"]].reset_index(drop=True)
    for c in ("customer_id", "currency", "kind"):
        out[c] = out[c].astype("str")
    return out.astype({"amount": "float64"})
