"""Credit exposure: credit-limit utilisation and the invoices most overdue."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS

__all__ = ["credit_utilisation", "top_overdue"]


def credit_utilisation(
    open_items: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    warning: float = DEFAULTS.receivables.credit_warning,
) -> pd.DataFrame:
    """Credit-limit utilisation per customer: open receivables / credit_limit.

    utilisation = Σ open_amount of the customer's items in the customer's own currency /
    credit_limit (DOMAIN.md; the limit is set in that currency). Unit: fraction, 1 = limit
    reached. status: "over limit" when utilisation > 1, "warning" when > `warning`
    (``ReceivablesSettings.credit_warning``), else "ok"; "no limit" when the limit is missing
    or 0 (utilisation NaN). Items in another currency are not added: they are counted in
    ``other_currency_items`` and named in ``reason``. A customer without open items has 0.

    >>> oi = pd.DataFrame({"customer_id": ["C1", "C1", "C2"], "currency": ["EUR", "USD", "EUR"],
    ...                    "open_amount": [950.0, 10.0, 50.0]})
    >>> cust = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "currency": ["EUR"] * 3,
    ...                      "credit_limit": [1000.0, 40.0, None]})
    >>> credit_utilisation(oi, cust)[["customer_id", "utilisation", "status"]].to_dict("records")
    [{'customer_id': 'C1', 'utilisation': 0.95, 'status': 'warning'}, {'customer_id': 'C2', 'utilisation': 1.25, 'status': 'over limit'}, {'customer_id': 'C3', 'utilisation': nan, 'status': 'no limit'}]
    """
    cust = customers[["customer_id", "currency", "credit_limit"]].copy()
    cust["customer_id"] = cust["customer_id"].astype("string")
    cust["currency"] = cust["currency"].astype("string")
    items = open_items[["customer_id", "currency", "open_amount"]].merge(
        cust[["customer_id", "currency"]].rename(columns={"currency": "own"}),
        on="customer_id",
        how="left",
    )
    same = (items["currency"] == items["own"]).fillna(False).astype(bool)
    totals = items.loc[same].groupby("customer_id")["open_amount"].sum()
    other = items.loc[~same & (items["open_amount"] != 0)].groupby("customer_id").size()
    out = cust.copy()
    out["open_receivables"] = out["customer_id"].map(totals).fillna(0.0).astype("float64").round(2)
    out["other_currency_items"] = out["customer_id"].map(other).fillna(0).astype("int64")
    limit = out["credit_limit"].astype("float64")
    has_limit = (limit > 0).fillna(False).astype(bool)
    util = np.where(has_limit, out["open_receivables"] / limit.where(has_limit, 1.0), np.nan)
    out["utilisation"] = np.round(util, 4)
    out["status"] = pd.array(
        np.select(
            [~has_limit, util > 1.0, util > warning],
            ["no limit", "over limit", "warning"],
            default="ok",
        ),
        dtype="string",
    )
    out["reason"] = pd.array(
        np.where(
            out["other_currency_items"] > 0,
            "open items in another currency not included",
            "",
        ),
        dtype="string",
    )
    return out.sort_values("customer_id", ignore_index=True)


def top_overdue(
    aged: pd.DataFrame,
    *,
    n: int = DEFAULTS.receivables.top_overdue,
    by: Sequence[str] = ("currency",),
) -> pd.DataFrame:
    """The `n` overdue invoice items with the largest open amount per `by` (and currency).

    Overdue = days_overdue > 0 with a positive open amount on an invoice (credits and
    payments on account are not "overdue invoices"). Amounts are ranked within a currency,
    never across currencies. Input: the output of :func:`kamlab.receivables.ageing`.

    >>> aged = pd.DataFrame({"customer_id": ["C1", "C1", "C2"], "currency": ["EUR"] * 3,
    ...     "item_type": ["invoice"] * 3, "document_id": ["I1", "I2", "I3"],
    ...     "open_amount": [10.0, 30.0, 20.0], "days_overdue": [5, 0, 40]})
    >>> top_overdue(aged, n=2)["document_id"].tolist()
    ['I3', 'I1']
    """
    keys = list(dict.fromkeys([*by, "currency"]))
    mask = (aged["days_overdue"] > 0) & (aged["open_amount"] > 0) & (aged["item_type"] == "invoice")
    ranked = aged.loc[mask].sort_values(
        [*keys, "open_amount", "days_overdue"], ascending=[True] * len(keys) + [False, False]
    )
    out = ranked.groupby(keys, observed=True, sort=False).head(n).reset_index(drop=True)
    out.insert(0, "rank", out.groupby(keys, observed=True).cumcount() + 1)
    return out
