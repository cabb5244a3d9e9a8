"""Month-end ageing for many month-ends in one pass over the ledger (trend charts, CEI, provision)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions
from kamlab.receivables._ledger import Ledger, as_day, build_ledger
from kamlab.receivables.ageing import _BASES, _check_edges, _totals, bucket_index, bucket_labels

__all__ = ["ageing_history", "last_month_ends"]


def last_month_ends(as_of: str | pd.Timestamp, months: int) -> pd.DatetimeIndex:
    """The last `months` month-ends on or before `as_of`, oldest first.

    >>> [str(d.date()) for d in last_month_ends("2024-03-15", 3)]
    ['2023-12-31', '2024-01-31', '2024-02-29']
    """
    d = pd.Timestamp(as_of).normalize()
    last = pd.Period(d, "M")
    if d != last.end_time.normalize():
        last -= 1
    periods = pd.period_range(end=last, periods=months, freq="M")
    return pd.DatetimeIndex(periods.end_time.normalize())


def ageing_history(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    month_ends: Sequence | pd.DatetimeIndex | None = None,
    as_of: str | pd.Timestamp | None = None,
    months: int = DEFAULTS.receivables.history_months,
    instalments: pd.DataFrame | None = None,
    basis: str = DEFAULTS.receivables.basis,
    edges: Sequence[int] = DEFAULTS.receivables.bucket_edges,
) -> pd.DataFrame:
    """Ageing per customer and currency at each of several month-ends, in one call.

    Same figures as ``ageing_summary(ageing(open_items(..., as_of=m), as_of=m))`` for each
    month-end *m* (a property test checks it), without re-reading the data per month: each
    item's open amount is a step function (its events sorted by date, summed once) that is
    read off at all month-ends with ``searchsorted``; only item-months with a non-zero open
    amount are materialised.

    Parameters
    ----------
    month_ends : dates to age at; default the last `months` month-ends on or before `as_of`.
    basis, edges : as in :func:`kamlab.receivables.ageing`.

    Returns
    -------
    DataFrame: month_end, customer_id, currency, items, one column per bucket (gross: debit
    items only), unapplied (credits and payments not applied), total (net), overdue (gross),
    as in :func:`~kamlab.receivables.ageing_summary` (no received_since column: it belongs
    to a single as-of list). Groups with no open item at a month-end have no row.

    >>> inv = pd.DataFrame({"document_id": ["I1"], "customer_id": ["C1"],
    ...     "document_type": ["invoice"], "posting_date": pd.to_datetime(["2024-01-15"]),
    ...     "due_date": pd.to_datetime(["2024-02-14"]), "amount": [100.0],
    ...     "currency": ["EUR"], "reference_document": [None]})
    >>> pay = pd.DataFrame({"payment_id": ["P1"], "line": [1], "customer_id": ["C1"],
    ...     "payment_date": pd.to_datetime(["2024-03-10"]), "amount": [100.0],
    ...     "currency": ["EUR"], "allocated_document": ["I1"]})
    >>> h = ageing_history(inv, pay, as_of="2024-03-31", months=3)
    >>> h[["not due", "1-30", "total"]].to_dict("records")
    [{'not due': 100.0, '1-30': 0.0, 'total': 100.0}, {'not due': 0.0, '1-30': 100.0, 'total': 100.0}]
    >>> h["month_end"].dt.strftime("%Y-%m-%d").tolist()
    ['2024-01-31', '2024-02-29']
    """
    if month_ends is None:
        if as_of is None:
            raise ValueError("ageing_history: pass month_ends or as_of")
        month_ends = last_month_ends(as_of, months)
    ledger = build_ledger(invoices, payments, instalments)
    out = history_from_ledger(ledger, month_ends, basis=basis, edges=edges)
    if len(ledger.notes):
        out.attrs["excluded"] = Exclusions(ledger.notes)
    return out


def history_from_ledger(
    ledger: Ledger,
    dates: Sequence | pd.DatetimeIndex,
    *,
    basis: str = DEFAULTS.receivables.basis,
    edges: Sequence[int] = DEFAULTS.receivables.bucket_edges,
) -> pd.DataFrame:
    """:func:`ageing_history` on a ledger already built."""
    if basis not in _BASES:
        raise ValueError(f"ageing_history: basis must be one of {_BASES}, got {basis!r}")
    edges = _check_edges(edges)
    labels = bucket_labels(edges)
    me = np.sort(np.array([as_day(d) for d in dates], dtype="int64"))
    n_dates, n_groups, n_buckets = len(me), len(ledger.groups), len(labels)

    order = np.lexsort((ledger.event_day, ledger.event_item))
    item = ledger.event_item[order]
    day = ledger.event_day[order]
    delta = ledger.event_delta[order]
    if len(item):
        new = np.ones(len(item), dtype=bool)
        new[1:] = (item[1:] != item[:-1]) | (day[1:] != day[:-1])
        starts = np.flatnonzero(new)
        item, day = item[starts], day[starts]
        delta = np.add.reduceat(delta, starts)
    first = np.ones(len(item), dtype=bool)
    first[1:] = item[1:] != item[:-1]
    total = np.cumsum(delta)
    before = (total - delta)[first]  # running total before each item's first event
    value = total - np.repeat(before, np.diff(np.append(np.flatnonzero(first), len(item))))
    last = np.ones(len(item), dtype=bool)
    last[:-1] = first[1:]
    next_day = np.where(last, np.iinfo("int64").max, np.roll(day, -1))

    j0 = np.searchsorted(me, day, side="left")
    j1 = np.searchsorted(me, next_day, side="left")
    n = np.where(value != 0, j1 - j0, 0)
    seg = np.repeat(np.arange(len(item)), n)
    j = j0[seg] + (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n))
    it = item[seg]
    ref = ledger.items["due_day" if basis == "due_date" else "posting_day"]
    v = value[seg]
    # debit items age into their bucket; credits (negative items) go to one more slot, unapplied
    b = np.where(v < 0, n_buckets, bucket_index(me[j] - ref[it], edges))
    g = ledger.item_group[it]
    slots = n_buckets + 1
    cell = (j * n_groups + g) * slots + b
    amounts = np.bincount(cell, weights=v, minlength=n_dates * n_groups * slots)
    counts = np.bincount(j * n_groups + g, minlength=n_dates * n_groups)
    amounts = amounts.reshape(n_dates * n_groups, slots)
    live = np.flatnonzero(counts)
    out = pd.DataFrame(np.round(amounts[live, :n_buckets]) / 100.0, columns=labels)
    out["unapplied"] = -np.round(amounts[live, n_buckets]) / 100.0 + 0.0
    jj, gg = np.divmod(live, n_groups)
    out.insert(0, "items", counts[live].astype("int64"))
    out.insert(0, "currency", ledger.groups["currency"].to_numpy()[gg])
    out.insert(0, "customer_id", ledger.groups["customer_id"].to_numpy()[gg])
    out.insert(0, "month_end", me[jj].astype("datetime64[D]").astype("datetime64[s]"))
    out = _totals(out, labels)
    for col in ("customer_id", "currency"):
        out[col] = out[col].astype("string")
    return out.sort_values(["month_end", "customer_id", "currency"], ignore_index=True)
