"""Payment behaviour: DSO (countback and simple), days to pay, days beyond terms, CEI."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions
from kamlab.receivables._ledger import PAYMENT, Ledger, as_day, build_ledger, days
from kamlab.receivables.history import history_from_ledger, last_month_ends
from kamlab.receivables.open_items import open_cents

__all__ = ["collection_effectiveness", "days_to_pay", "dso"]


def _period_grid(as_of: pd.Timestamp, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Countback periods back from *d*: period 0 = 1st of d's month to d, then whole months.

    Returns the first day of each period (int days) and its length in days, newest first."""
    month = pd.Period(as_of, "M")
    starts = pd.PeriodIndex([month - k for k in range(months)]).start_time
    first = np.array([as_day(s) for s in starts], dtype="int64")
    ends = np.concatenate([[as_day(as_of) + 1], first[:-1]])
    return first, ends - first


def _net_sales(ledger: Ledger, first: np.ndarray, day: int) -> np.ndarray:
    """Net credit sales (invoices − credit notes, by posting date) per group and period."""
    invoices = ledger.invoices
    sign = np.where(invoices["document_type"].astype("string") == "invoice", 1.0, -1.0)
    posted = days(invoices["posting_date"])
    g = ledger.doc_group
    # periods are newest first, so search the reversed (ascending) starts
    k = len(first) - np.searchsorted(first[::-1], posted, side="right")
    ok = (posted <= day) & (k < len(first)) & (k >= 0)
    sales = np.zeros((len(ledger.groups), len(first)))
    np.add.at(sales, (g[ok], k[ok]), sign[ok] * invoices["amount"].to_numpy("float64")[ok])
    return sales


def dso(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    instalments: pd.DataFrame | None = None,
    simple_months: int = DEFAULTS.receivables.dso_simple_months,
    countback_months: int = DEFAULTS.receivables.dso_countback_months,
) -> pd.DataFrame:
    """Days sales outstanding per customer and currency as of *d*, countback and simple.

    R = receivables at *d* (net open amount of all items, DOMAIN.md ageing). Sales = net
    credit sales (invoices − credit notes, by posting date) per period, where period 0 runs
    from the 1st of *d*'s month to *d* and earlier periods are whole calendar months.

    - countback: walk back period by period; while R ≥ the period's sales S_k, take all its
      days and R −= S_k; in the period where R < S_k add R / S_k × days_k and stop.
    - simple: R / Σ S_k × Σ days_k over the last `simple_months` periods.

    Source: DOMAIN.md; the countback ("exhaustion") method as in Salek, *Accounts
    Receivable Management Best Practices* (Wiley 2005). Unit: days; lower is better.
    Edge cases (``reason`` column): R ≤ 0 gives DSO 0 ("no receivables"); R above all
    sales of `countback_months` periods gives NaN countback ("receivables exceed sales of the
    look-back"); no sales in the simple window gives NaN simple DSO.

    Example: as of 31 Mar, R = 150; March sales 100 (31 days), February 100 (29 days):
    countback = 31 + 50/100 × 29 = 45.5 days; simple over 2 months = 150/200 × 60 = 45.

    >>> inv = pd.DataFrame({"document_id": ["I1", "I2"], "customer_id": ["C1", "C1"],
    ...     "document_type": ["invoice", "invoice"],
    ...     "posting_date": pd.to_datetime(["2024-02-10", "2024-03-10"]),
    ...     "due_date": pd.to_datetime(["2024-03-10", "2024-04-10"]),
    ...     "amount": [100.0, 100.0], "currency": ["EUR", "EUR"],
    ...     "reference_document": [None, None]})
    >>> pay = pd.DataFrame({"payment_id": ["P1"], "line": [1], "customer_id": ["C1"],
    ...     "payment_date": pd.to_datetime(["2024-03-20"]), "amount": [50.0],
    ...     "currency": ["EUR"], "allocated_document": ["I1"]})
    >>> d = dso(inv, pay, as_of="2024-03-31", simple_months=2)
    >>> d[["receivables", "dso_countback", "dso_simple"]].to_dict("records")
    [{'receivables': 150.0, 'dso_countback': 45.5, 'dso_simple': 45.0}]
    """
    d = pd.Timestamp(as_of)
    day = as_day(d)
    ledger = build_ledger(invoices, payments, instalments)
    groups = ledger.groups
    first, length = _period_grid(d, max(countback_months, simple_months))
    sales = _net_sales(ledger, first, day)
    per_group = np.bincount(
        ledger.item_group,
        weights=open_cents(ledger, day).astype("float64"),
        minlength=len(groups),
    )
    receivables = np.round(per_group) / 100.0

    cb = sales[:, :countback_months]
    cum = np.cumsum(cb, axis=1)
    covered = cum >= receivables[:, None] - 1e-9
    k = np.where(covered.any(axis=1), covered.argmax(axis=1), -1)
    days_before = np.concatenate([[0], np.cumsum(length[:countback_months])])
    rows = np.arange(len(groups))
    kk = np.clip(k, 0, None)
    rest = receivables - np.where(kk > 0, cum[rows, kk - 1], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(cb[rows, kk] > 0, rest / cb[rows, kk], 0.0)
    countback = days_before[kk] + part * length[kk]
    countback = np.where(k < 0, np.nan, countback)

    window_sales = sales[:, :simple_months].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        simple = receivables / window_sales * length[:simple_months].sum()
    simple = np.where(window_sales > 0, simple, np.nan)

    none = receivables <= 0
    reason = np.where(
        none,
        "no receivables",
        np.where(
            k < 0,
            "receivables exceed sales of the look-back",
            np.where(window_sales > 0, "", "no sales in the simple-DSO window"),
        ),
    )
    out = groups.copy()
    out["receivables"] = receivables
    out["sales_simple_window"] = np.round(window_sales, 2)
    out["dso_countback"] = np.round(np.where(none, 0.0, countback), 2)
    out["dso_simple"] = np.round(np.where(none, 0.0, simple), 2)
    out["reason"] = pd.array(reason, dtype="string")
    return out.sort_values(["customer_id", "currency"], ignore_index=True)


def days_to_pay(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    instalments: pd.DataFrame | None = None,
    by: Sequence[str] = ("customer_id",),
    monthly: bool = False,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Amount-weighted average days to pay and days beyond terms per `by`, currency (and month).

    Over the payment allocations to invoices (weights a = amount allocated):
    days_to_pay = Σ a·(payment_date − posting_date) / Σ a;
    days_beyond_terms = Σ a·(payment_date − due_date) / Σ a (due date of the instalment
    paid, for instalment invoices). DOMAIN.md; unit days, lower is better, negative days
    beyond terms = paid early. `monthly=True` adds ``period`` (month of the payment) for a
    trend; `start`/`end` restrict payment dates. Payments on account pay no invoice and are
    left out, counted in ``attrs["excluded"]`` (with their amount, per currency).

    >>> inv = pd.DataFrame({"document_id": ["I1", "I2"], "customer_id": ["C1", "C1"],
    ...     "document_type": ["invoice", "invoice"],
    ...     "posting_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
    ...     "due_date": pd.to_datetime(["2024-01-31", "2024-01-31"]),
    ...     "amount": [100.0, 300.0], "currency": ["EUR", "EUR"],
    ...     "reference_document": [None, None]})
    >>> pay = pd.DataFrame({"payment_id": ["P1", "P2"], "line": [1, 1],
    ...     "customer_id": ["C1", "C1"],
    ...     "payment_date": pd.to_datetime(["2024-01-21", "2024-02-10"]),
    ...     "amount": [100.0, 300.0], "currency": ["EUR", "EUR"],
    ...     "allocated_document": ["I1", "I2"]})
    >>> days_to_pay(inv, pay)[["days_to_pay", "days_beyond_terms"]].to_dict("records")
    [{'days_to_pay': 35.0, 'days_beyond_terms': 5.0}]
    """
    ledger = build_ledger(invoices, payments, instalments)
    paid = ledger.pieces["kind"] == PAYMENT
    pieces = {name: values[paid] for name, values in ledger.pieces.items()}
    items = ledger.items
    it = pieces["item"]
    pay_day = pieces["source_day"]
    group = ledger.item_group[it]
    frame = pd.DataFrame(
        {
            "customer_id": ledger.groups["customer_id"].array.take(group),
            "currency": ledger.groups["currency"].array.take(group),
            "amount": pieces["cents"].astype("float64") / 100.0,
            "pay_day": pay_day,
            "to_pay": (pay_day - items["posting_day"][it]).astype("float64"),
            "beyond": (pay_day - items["due_day"][it]).astype("float64"),
        }
    )
    extra = [c for c in by if c not in ("customer_id", "currency")]
    if extra:
        raise ValueError(f"days_to_pay: by may hold customer_id only, got {list(by)}")
    if start is not None:
        frame = frame.loc[frame["pay_day"] >= as_day(start)]
    if end is not None:
        frame = frame.loc[frame["pay_day"] <= as_day(end)]
    keys = [*by, "currency"]
    if monthly:
        frame["period"] = pd.PeriodIndex(
            frame["pay_day"].to_numpy().astype("datetime64[D]"), freq="M"
        )
        keys.append("period")
    frame = frame.assign(w_to_pay=frame["amount"] * frame["to_pay"])
    frame = frame.assign(w_beyond=frame["amount"] * frame["beyond"])
    g = frame.groupby(keys, observed=True, as_index=False).agg(
        allocations=("amount", "size"),
        amount=("amount", "sum"),
        w_to_pay=("w_to_pay", "sum"),
        w_beyond=("w_beyond", "sum"),
    )
    g["days_to_pay"] = (g["w_to_pay"] / g["amount"]).round(2)
    g["days_beyond_terms"] = (g["w_beyond"] / g["amount"]).round(2)
    g["amount"] = g["amount"].round(2)
    out = g.drop(columns=["w_to_pay", "w_beyond"]).sort_values(keys, ignore_index=True)
    unallocated = _text_empty(payments, "allocated_document")
    out.attrs["excluded"] = Exclusions(
        payments.loc[unallocated]
        .groupby("currency", observed=True)["amount"]
        .agg(["size", "sum"])
        .rename(columns={"size": "rows", "sum": "amount"})
        .reset_index()
        .assign(table="payments", reason="payment on account: pays no invoice")
    )
    return out


def _text_empty(frame: pd.DataFrame, column: str) -> pd.Series:
    s = frame[column].astype("string")
    return (s.isna() | (s.str.strip() == "")).fillna(True).astype(bool)


def collection_effectiveness(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    months: int = DEFAULTS.receivables.history_months,
    instalments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Collection effectiveness index (CEI) per customer, currency and month.

    CEI = (opening + sales − closing_total) / (opening + sales − closing_current) × 100,
    with opening = receivables at the previous month-end, sales = net credit sales posted
    in the month, closing_total / closing_current = all / not-yet-due (due-date basis)
    receivables at the month-end (DOMAIN.md). Unit %, higher is better, 100 = everything
    that could be collected was. A denominator ≤ 0 gives NaN with a ``reason``.

    Example: opening 100, sales 50, closing 60 of which 40 not yet due:
    CEI = (100 + 50 − 60) / (100 + 50 − 40) × 100 = 81.82.

    >>> inv = pd.DataFrame({"document_id": ["I1", "I2"], "customer_id": ["C1", "C1"],
    ...     "document_type": ["invoice", "invoice"],
    ...     "posting_date": pd.to_datetime(["2024-01-10", "2024-02-15"]),
    ...     "due_date": pd.to_datetime(["2024-02-09", "2024-03-15"]),
    ...     "amount": [100.0, 50.0], "currency": ["EUR", "EUR"],
    ...     "reference_document": [None, None]})
    >>> pay = pd.DataFrame({"payment_id": ["P1", "P2"], "line": [1, 1],
    ...     "customer_id": ["C1", "C1"],
    ...     "payment_date": pd.to_datetime(["2024-02-20", "2024-02-25"]),
    ...     "amount": [80.0, 10.0], "currency": ["EUR", "EUR"],
    ...     "allocated_document": ["I1", "I2"]})
    >>> c = collection_effectiveness(inv, pay, as_of="2024-02-29", months=1)
    >>> c[["opening", "sales", "closing_total", "closing_current", "cei"]].to_dict("records")
    [{'opening': 100.0, 'sales': 50.0, 'closing_total': 60.0, 'closing_current': 40.0, 'cei': 81.82}]
    """
    ends = last_month_ends(as_of, months + 1)
    ledger = build_ledger(invoices, payments, instalments)
    hist = history_from_ledger(ledger, ends, basis="due_date")
    groups = ledger.groups
    g = pd.MultiIndex.from_frame(groups).get_indexer(
        pd.MultiIndex.from_frame(hist[["customer_id", "currency"]])
    )
    j = np.searchsorted(ends.to_numpy(), hist["month_end"].to_numpy())
    total = np.zeros((len(groups), len(ends)))
    current = np.zeros((len(groups), len(ends)))
    total[g, j] = hist["total"].to_numpy()
    current[g, j] = hist["not due"].to_numpy()
    first, _ = _period_grid(ends[-1], months)
    sales = _net_sales(ledger, first, as_day(ends[-1]))[:, ::-1]  # oldest first
    opening, closing, closing_current = total[:, :-1], total[:, 1:], current[:, 1:]
    numerator = opening + sales - closing
    denominator = opening + sales - closing_current
    with np.errstate(divide="ignore", invalid="ignore"):
        cei = np.where(denominator > 0, numerator / denominator * 100.0, np.nan)
    n = len(groups)
    out = groups.iloc[np.repeat(np.arange(n), months)].reset_index(drop=True)
    out["period"] = np.tile(pd.PeriodIndex(ends[1:], freq="M"), n)
    out["opening"] = opening.ravel().round(2)
    out["sales"] = sales.ravel().round(2)
    out["closing_total"] = closing.ravel().round(2)
    out["closing_current"] = closing_current.ravel().round(2)
    out["cei"] = cei.ravel().round(2)
    out["reason"] = pd.array(
        np.where(denominator.ravel() > 0, "", "nothing collectable (denominator ≤ 0)"),
        dtype="string",
    )
    return out
