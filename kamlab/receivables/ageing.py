"""Ageing: days overdue and buckets per open item, totals per customer and currency."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS
from kamlab.currency import Rates, convert

__all__ = [
    "ageing",
    "ageing_summary",
    "bucket_labels",
    "days_overdue",
    "in_reporting_currency",
    "overdue_share",
]

_BASES = ("due_date", "posting_date")


def bucket_labels(edges: Sequence[int] = DEFAULTS.receivables.bucket_edges) -> list[str]:
    """Bucket names for `edges`: "not due", then "a-b" per pair of edges, then ">last".

    >>> bucket_labels((0, 30, 60, 90, 120))
    ['not due', '1-30', '31-60', '61-90', '91-120', '>120']
    """
    edges = _check_edges(edges)
    inner = [f"{lo + 1}-{hi}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return ["not due", *inner, f">{edges[-1]}"]


def _check_edges(edges: Sequence[int]) -> tuple[int, ...]:
    edges = tuple(int(e) for e in edges)
    if not edges or edges[0] != 0 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError(f"ageing: edges must start at 0 and increase strictly, got {edges!r}")
    return edges


def bucket_index(days: np.ndarray, edges: Sequence[int]) -> np.ndarray:
    """Bucket number per days-overdue value: 0 = not due (≤ 0), k = (edges[k-1], edges[k]]."""
    return np.searchsorted(np.asarray(edges, dtype="int64"), days, side="left")


def days_overdue(
    items: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    basis: str = DEFAULTS.receivables.basis,
) -> pd.Series:
    """Days overdue of each item as of *d*: d − due_date (basis "due_date") or d − posting_date.

    DOMAIN.md "Receivables ageing". Unit: days; positive = overdue, 0 or negative = not yet
    due (an item due on *d* itself is not overdue). Payments and credits on account carry
    their own date in both columns, so they age from that date.

    >>> items = pd.DataFrame({"posting_date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
    ...                       "due_date": pd.to_datetime(["2024-01-31", "2024-03-31"])})
    >>> days_overdue(items, as_of="2024-03-31").tolist()
    [60, 0]
    >>> days_overdue(items, as_of="2024-03-31", basis="posting_date").tolist()
    [90, 30]
    """
    if basis not in _BASES:
        raise ValueError(f"days_overdue: basis must be one of {_BASES}, got {basis!r}")
    d = pd.Timestamp(as_of)
    return (d - pd.to_datetime(items[basis])).dt.days.astype("int64").rename("days_overdue")


def ageing(
    open_items: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    basis: str = DEFAULTS.receivables.basis,
    edges: Sequence[int] = DEFAULTS.receivables.bucket_edges,
) -> pd.DataFrame:
    """Open items with ``days_overdue`` and ``bucket`` (ordered categorical) added.

    bucket = "not due" when days_overdue ≤ 0, "1-30" when 0 < days ≤ 30, ... and ">120"
    above the last edge (edges from ``ReceivablesSettings.bucket_edges``). So an item exactly
    30 days overdue is in "1-30", 31 days in "31-60".

    >>> items = pd.DataFrame({"posting_date": pd.to_datetime(["2024-01-01"] * 3),
    ...     "due_date": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-04-01"]),
    ...     "open_amount": [1.0, 2.0, 3.0]})
    >>> ageing(items, as_of="2024-03-31")["bucket"].tolist()
    ['1-30', '1-30', 'not due']
    """
    edges = _check_edges(edges)
    labels = bucket_labels(edges)
    out = open_items.copy()
    out["days_overdue"] = days_overdue(open_items, as_of=as_of, basis=basis).to_numpy()
    idx = bucket_index(out["days_overdue"].to_numpy(), edges)
    out["bucket"] = pd.Categorical.from_codes(idx, categories=labels, ordered=True)
    out.attrs = dict(open_items.attrs, basis=basis, edges=edges)
    return out


def ageing_summary(
    aged: pd.DataFrame,
    *,
    by: Sequence[str] = ("customer_id",),
) -> pd.DataFrame:
    """Ageing table: open amount per bucket per `by` keys and currency (never across currencies).

    Columns: *by, currency, items (open items with a non-zero amount), one column per bucket,
    unapplied, total, overdue, received_since. Gross: the buckets hold the debit items
    (invoices, open or part paid) only, so no bucket is negative and an old invoice is never
    hidden by a credit; ``unapplied`` is the credit notes, payments on account and
    overpayments not yet applied to an invoice (a positive amount owed *to* the customer);
    ``total`` = Σ buckets − unapplied (the net open balance); ``overdue`` = the buckets after
    "not due" (gross overdue invoices). ``by=()`` gives the portfolio per currency.

    >>> items = pd.DataFrame({"customer_id": ["C1", "C1", "C1"],
    ...     "currency": ["EUR", "EUR", "USD"],
    ...     "posting_date": pd.to_datetime(["2024-01-01"] * 3),
    ...     "due_date": pd.to_datetime(["2024-02-01", "2024-04-30", "2024-02-01"]),
    ...     "open_amount": [100.0, 50.0, 70.0], "received_since": [0.0, 0.0, 0.0]})
    >>> t = ageing_summary(ageing(items, as_of="2024-03-31"))
    >>> t[["currency", "not due", "31-60", "total", "overdue"]].to_dict("records")
    [{'currency': 'EUR', 'not due': 50.0, '31-60': 100.0, 'total': 150.0, 'overdue': 100.0}, {'currency': 'USD', 'not due': 0.0, '31-60': 70.0, 'total': 70.0, 'overdue': 70.0}]

    An invoice 990 days overdue and an unapplied credit note of the same amount: the invoice
    stays overdue, the credit is shown beside it, the net is 0.

    >>> cn = items.iloc[[0, 0]].assign(open_amount=[100.0, -100.0],
    ...     due_date=pd.to_datetime(["2021-07-15", "2024-03-01"]))
    >>> t = ageing_summary(ageing(cn, as_of="2024-03-31"))
    >>> t[[">120", "unapplied", "total", "overdue"]].to_dict("records")
    [{'>120': 100.0, 'unapplied': 100.0, 'total': 0.0, 'overdue': 100.0}]
    """
    keys = [*by, "currency"]
    labels = list(aged["bucket"].cat.categories)
    amount = aged["open_amount"]
    frame = aged.assign(
        _nonzero=(amount != 0).astype("int64"),
        _debit=amount.clip(lower=0),
        _credit=-amount.clip(upper=0),
    )
    wide = frame.pivot_table(
        index=keys, columns="bucket", values="_debit", aggfunc="sum", observed=False
    )
    wide = wide.reindex(columns=labels).fillna(0.0)
    wide.columns = pd.Index(labels)
    grouped = frame.groupby(keys, observed=True)
    out = pd.concat(
        [
            grouped["_nonzero"].sum().rename("items"),
            wide,
            grouped["_credit"].sum().rename("unapplied"),
        ],
        axis=1,
        join="inner",
    ).reset_index()
    out = _totals(out, labels)
    received = grouped["received_since"].sum().rename("received_since")
    out = out.merge(received.reset_index(), on=keys, how="left")
    return out.sort_values(keys, ignore_index=True)


def _totals(frame: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """total (net open: Σ gross buckets − unapplied) and overdue (gross overdue buckets)."""
    frame[labels] = frame[labels].round(2)
    frame["unapplied"] = frame["unapplied"].round(2)
    frame["total"] = (frame[labels].sum(axis=1) - frame["unapplied"]).round(2)
    frame["overdue"] = frame[labels[1:]].sum(axis=1).round(2)
    return frame


def overdue_share(overdue: float, total: float) -> float:
    """Share of open receivables that is overdue: overdue / total (fraction, lower is better).

    Both in one currency at one date, e.g. the ``overdue`` and ``total`` columns of
    :func:`ageing_summary` or :func:`~kamlab.receivables.ageing_history` at a month end
    (overdue = every bucket after "not due"); NaN when nothing is open (total ≤ 0).

    >>> overdue_share(150.0, 1000.0)
    0.15
    """
    return float(overdue) / float(total) if total > 0 else float("nan")


def in_reporting_currency(
    frame: pd.DataFrame,
    rates: Rates,
    *,
    reporting_currency: str,
    by: Sequence[str] = ("customer_id",),
    amounts: Sequence[str] | None = None,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Amounts converted into `reporting_currency` and added up per `by` keys.

    amount_reporting = amount × rate[currency] at the closing rate of `as_of` (open items
    are revalued at the closing rate; :mod:`kamlab.currency`, which also takes dated
    rates). `rates` are units of `reporting_currency` per unit of a currency (the reporting
    currency itself converts at 1). A currency without a rate raises ``ValueError`` naming
    it: amounts are never added across currencies without a stated rate. `amounts` default:
    every float column but rates-free counts. Output has ``currency`` = `reporting_currency`.

    >>> t = pd.DataFrame({"customer_id": ["C1", "C1"], "currency": ["EUR", "USD"],
    ...                   "total": [100.0, 50.0]})
    >>> in_reporting_currency(t, {"EUR": 1.0, "USD": 0.9}, reporting_currency="EUR",
    ...                       amounts=["total"]).to_dict("records")
    [{'customer_id': 'C1', 'currency': 'EUR', 'total': 145.0}]
    """
    if amounts is None:
        amounts = [
            c for c in frame.columns if frame[c].dtype.kind == "f" and c not in (*by, "currency")
        ]
    converted = convert(
        frame[[*by, "currency", *amounts]],
        rates,
        amounts=amounts,
        reporting_currency=reporting_currency,
        on=as_of,
    )
    keys = list(by)
    if keys:
        out = converted.groupby(keys, as_index=False, observed=True)[list(amounts)].sum()
    else:
        out = converted[list(amounts)].sum().to_frame().T
    out.insert(len(keys), "currency", reporting_currency)
    out[list(amounts)] = out[list(amounts)].round(2)
    return out
