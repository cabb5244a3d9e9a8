"""Open items as of any date: what each customer owes, document by document, on day *d*."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.exclusions import Exclusions
from kamlab.receivables._ledger import PAYMENT, Ledger, as_day, build_ledger, to_dates

__all__ = ["open_items"]

_COLUMNS = [
    "customer_id",
    "currency",
    "item_type",
    "document_id",
    "line",
    "instalment",
    "posting_date",
    "due_date",
    "amount",
    "open_amount",
    "received_since",
    "overpaid",
]


def open_items(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    instalments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Open receivable items as of `as_of` (DOMAIN.md, "Receivables ageing").

    open_amount(doc, d) = amount − Σ allocations to doc with allocation_date ≤ d, over
    documents dated ≤ d. A payment line or credit note not (yet) allocated at *d* is its own
    negative item (``item_type`` "payment" / "credit_note"), dated by its own date. An invoice
    with instalments gives one item per instalment (allocations naming no instalment go to
    the earliest due first). An invoice paid more than its amount keeps a negative open
    amount and ``overpaid=True``. Payment lines dated after *d* are not netted: they appear in
    ``received_since`` on the invoice item they clear when that item exists at *d* (a
    payment after *d* for a document not yet posted at *d* is simply not in the ledger yet;
    ``attrs["excluded"]`` counts every row dated after *d*).

    Parameters
    ----------
    invoices, payments, instalments : contract tables (kamlab/data/contract.py).
    as_of : the date *d*; everything dated after it is in the future.

    Returns
    -------
    DataFrame, one row per item with a non-zero open amount or money received since *d*:
    customer_id, currency, item_type, document_id, line (payment line), instalment,
    posting_date (payment: payment_date), due_date (payment: payment_date), amount (signed:
    credits negative), open_amount (signed), received_since, overpaid. Amounts are in the
    item's own currency; rows ordered by customer, currency, due date, input order.
    ``attrs["excluded"]`` (table, reason, rows) counts rows dated after
    *d* and rows treated specially (unknown allocated document: kept on account).

    Examples
    --------
    Invoice of 100 paid 40 on 10 Feb, the rest on 10 Apr; as of 31 Mar 60 is open and the
    April payment shows as received since:

    >>> inv = pd.DataFrame({"document_id": ["I1"], "customer_id": ["C1"],
    ...     "document_type": ["invoice"], "posting_date": pd.to_datetime(["2024-01-15"]),
    ...     "due_date": pd.to_datetime(["2024-02-14"]), "amount": [100.0],
    ...     "currency": ["EUR"], "reference_document": [None]})
    >>> pay = pd.DataFrame({"payment_id": ["P1", "P2"], "line": [1, 1],
    ...     "customer_id": ["C1", "C1"],
    ...     "payment_date": pd.to_datetime(["2024-02-10", "2024-04-10"]),
    ...     "amount": [40.0, 60.0], "currency": ["EUR", "EUR"],
    ...     "allocated_document": ["I1", "I1"]})
    >>> oi = open_items(inv, pay, as_of="2024-03-31")
    >>> oi[["document_id", "open_amount", "received_since"]].to_dict("records")
    [{'document_id': 'I1', 'open_amount': 60.0, 'received_since': 60.0}]
    """
    ledger = build_ledger(invoices, payments, instalments)
    out = _evaluate(ledger, as_day(as_of))
    after = pd.DataFrame(
        {
            "table": ["invoices", "payments"],
            "reason": ["dated after as_of: not yet in the ledger"] * 2,
            "rows": [
                int((pd.to_datetime(invoices["posting_date"]) > pd.Timestamp(as_of)).sum()),
                int((pd.to_datetime(payments["payment_date"]) > pd.Timestamp(as_of)).sum()),
            ],
        }
    )
    out.attrs["excluded"] = Exclusions(pd.concat([after, ledger.notes], ignore_index=True))
    out.attrs["as_of"] = pd.Timestamp(as_of)
    return out


def open_cents(ledger: Ledger, day: int) -> np.ndarray:
    """Open amount (cents) of every ledger item as of `day` (0 for items not yet existing)."""
    mask = ledger.event_day <= day
    sums = np.bincount(
        ledger.event_item[mask], weights=ledger.event_delta[mask], minlength=ledger.n_items
    )
    return np.round(sums).astype("int64")


def _evaluate(ledger: Ledger, day: int) -> pd.DataFrame:
    items = ledger.items
    open_ = open_cents(ledger, day)
    exists = items["posting_day"] <= day

    # payments after d: attach to the invoice item they clear when it exists at d
    pieces = ledger.pieces
    later = (pieces["kind"] == PAYMENT) & (pieces["source_day"] > day)
    later &= exists[pieces["item"]]
    received = np.bincount(
        pieces["item"][later],
        weights=pieces["cents"].astype("float64")[later],
        minlength=ledger.n_items,
    )
    received = np.round(received).astype("int64")
    keep = np.flatnonzero(exists & ((open_ != 0) | (received != 0)))
    labels = ledger.labels(keep)
    # order: customer, currency, due date, then input order (integer sort of the kept rows)
    order = np.lexsort(
        (
            items["row"][keep],
            items["kind"][keep],
            items["due_day"][keep],
            pd.factorize(labels["currency"], sort=True)[0],
            pd.factorize(labels["customer_id"], sort=True)[0],
        )
    )
    keep = keep[order]
    out = labels.iloc[order].reset_index(drop=True)
    amount = items["amount_cents"][keep]
    out["posting_date"] = to_dates(items["posting_day"][keep])
    out["due_date"] = to_dates(items["due_day"][keep])
    out["amount"] = amount / 100.0
    out["open_amount"] = open_[keep] / 100.0
    out["received_since"] = received[keep] / 100.0
    out["overpaid"] = (amount > 0) & (open_[keep] < 0)
    return out[_COLUMNS]
