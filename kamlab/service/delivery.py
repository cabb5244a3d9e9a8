"""Delivery performance per order line (on time, in full, OTIF) and its aggregates (OTIF %, OTD %).

Definitions (../shared/DOMAIN.md, "OTIF"), made precise for split deliveries:

* **due date** *d* — the line's requested date, or its confirmed date (``date_basis``); a line
  without a confirmation is measured against its requested date and says so in ``date_basis``.
* **window** — deliveries count if delivered on or before *d* + ``days_late_tolerance`` and,
  when ``days_early_tolerance`` is set, on or after *d* − ``days_early_tolerance`` (too early is
  then not on time). Without an early tolerance the window is open to the left.
* **in full** — delivered quantity inside the window ≥ ordered quantity × (1 − quantity tolerance).
* **on time (OTD)** — quantity ignored: the line received a delivery inside the window. Without
  an early tolerance this is "the *first* delivery arrived by *d* + tolerance".
* **OTIF** — on time and in full. Because in full only counts in-window quantity, a line is OTIF
  exactly when the in-window quantity reaches the in-full threshold, and OTIF ≤ OTD always.
  So ``in_full`` equals ``otif`` on every line; to tell *short* from *late*,
  ``delivered_in_full`` ignores the window: every delivery up to ``as_of`` counts. A line not
  OTIF that is ``delivered_in_full`` came late; one that is not came short (so far).
* **lines due** — lines whose window has closed by ``as_of`` (*d* + late tolerance ≤ as_of; with
  no tolerance, due date ≤ as_of). An open line past due without any delivery is due and fails.
  Cancelled lines, lines ordered after ``as_of``, lines not yet due and zero-quantity lines are
  left out and counted in ``attrs["excluded"]``. Deliveries after ``as_of`` are not yet known.

Sources: ASCM SCOR Digital Standard (formerly SCOR 12.0), metric RL.1.1 *Perfect Order
Fulfillment* with its components RL.2.1 *% of orders delivered in full* and RL.2.2 *Delivery
performance to customer commit date*; the delivery window and in-window quantity as in
retailers' supplier OTIF programmes — Walmart's (since 2017) window runs from MABD − n days to
the must-arrive-by date, an arrival outside it is early or late, and in full counts the cases
received within the window (SupplyPike supplier wiki, "OTIF – How to meet delivery
appointments", "Walmart OTIF fundamentals"); McKinsey & Company (2017), "Defining 'on-time,
in-full' in the consumer sector", on why the date basis, level and tolerances must be stated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions
from kamlab.service._common import (
    _complete,
    _excluded,
    _line_position,
    _ratio,
    _require,
    _timestamp,
)

__all__ = ["delivery_performance", "otif"]

_S = DEFAULTS.service
_LINE = ["order_id", "line"]
_ORDER_COLUMNS = [
    "order_id",
    "line",
    "customer_id",
    "material_id",
    "order_date",
    "requested_date",
    "confirmed_date",
    "quantity",
    "net_value",
    "currency",
    "status",
]
_DELIVERY_COLUMNS = ["order_id", "line", "delivered_date", "delivered_quantity", "air_freight"]


def delivery_performance(
    orders: pd.DataFrame,
    deliveries: pd.DataFrame,
    *,
    as_of: object,
    date_basis: str = _S.date_basis,
    days_late_tolerance: int = _S.days_late_tolerance,
    days_early_tolerance: int | None = _S.days_early_tolerance,
    quantity_tolerance: float = _S.quantity_tolerance,
) -> pd.DataFrame:
    """On time, in full and OTIF of every order line due by `as_of` (module docstring: rules).

    Per line, with ordered quantity *Q*, due date *d*, window *W* and deliveries *(tₖ, qₖ)* up
    to `as_of`:

    .. math::

        q_W = \\sum_{t_k \\in W} q_k, \\quad
        \\text{in\\_full} = q_W \\ge Q(1 - \\tau_q), \\quad
        \\text{on\\_time} = q_W > 0, \\quad
        \\text{otif} = \\text{on\\_time} \\wedge \\text{in\\_full}

    ``fill_rate`` = min(q_W, Q) / Q (on-time volume fill, over-delivery capped);
    ``days_late`` = (completion date − *d*) in days, negative = early, where the completion
    date is the delivery at which the cumulative delivered quantity (any date ≤ as_of) first
    reaches Q(1 − τ_q); a line not completed by `as_of` has ``completion_date`` NaT and gets
    as_of − *d* (late so far), unless it was closed short (status ``delivered`` and no
    delivery after `as_of`): then its last delivery − *d*. ``air_freight`` = any of its deliveries went by air.

    Parameters
    ----------
    orders, deliveries
        Contract tables (kamlab/data/contract.py).
    as_of
        Measurement date: only deliveries on or before it are known, and a line is due when its
        window closed on or before it.
    date_basis
        ``"requested"`` or ``"confirmed"``; echoed per line in the ``date_basis`` column.
    days_late_tolerance, days_early_tolerance
        Days after (before) the due date still on time; ``days_early_tolerance=None`` means
        early deliveries are on time.
    quantity_tolerance
        Fraction short still in full (0 ≤ τ_q < 1).

    Returns
    -------
    One row per due line: order_id, line, customer_id, material_id, currency, status,
    quantity, net_value, due_date, date_basis, period (month of the due date), window_start,
    window_end, delivered_quantity (all deliveries ≤ as_of), delivered_quantity_in_window,
    first_delivered_date, completion_date, days_late, on_time, in_full, delivered_in_full,
    otif, fill_rate, air_freight. ``attrs["excluded"]``: (table, reason, rows, quantity);
    ``attrs["parameters"]``: the arguments.

    Examples
    --------
    Line 1 (10 due 10 Jan) arrives split: 6 on 8 Jan, 4 on 12 Jan: on time (first delivery in
    time) but not in full, so not OTIF. Line 2 is open and past due: a failure.

    >>> orders = pd.DataFrame({
    ...     "order_id": ["A", "A"], "line": [1, 2], "customer_id": "C1", "material_id": "M1",
    ...     "order_date": pd.Timestamp("2024-01-01"),
    ...     "requested_date": pd.to_datetime(["2024-01-10", "2024-01-15"]),
    ...     "confirmed_date": pd.NaT, "quantity": [10.0, 5.0], "net_value": [100.0, 50.0],
    ...     "currency": "EUR", "status": ["delivered", "open"]})
    >>> deliveries = pd.DataFrame({
    ...     "delivery_id": ["D1", "D2"], "order_id": "A", "line": [1, 1],
    ...     "delivered_date": pd.to_datetime(["2024-01-08", "2024-01-12"]),
    ...     "delivered_quantity": [6.0, 4.0], "air_freight": [False, True]})
    >>> lines = delivery_performance(orders, deliveries, as_of="2024-01-31")
    >>> lines[["line", "on_time", "in_full", "otif", "days_late", "fill_rate"]].to_string(index=False)
    ' line  on_time  in_full  otif  days_late  fill_rate\\n    1     True    False False          2        0.6\\n    2    False    False False         16        0.0'
    """
    fn = "delivery_performance"
    _require(orders, _ORDER_COLUMNS, table="orders", function=fn)
    _require(deliveries, _DELIVERY_COLUMNS, table="deliveries", function=fn)
    as_of = _timestamp(as_of, name="as_of", function=fn)
    if date_basis not in ("requested", "confirmed"):
        raise ValueError(f"{fn}: date_basis must be 'requested' or 'confirmed', got {date_basis!r}")
    if days_late_tolerance < 0:
        raise ValueError(f"{fn}: days_late_tolerance must be >= 0, got {days_late_tolerance}")
    if days_early_tolerance is not None and days_early_tolerance < 0:
        raise ValueError(
            f"{fn}: days_early_tolerance must be >= 0 or None, got {days_early_tolerance}"
        )
    if not 0 <= quantity_tolerance < 1:
        raise ValueError(f"{fn}: quantity_tolerance must be in [0, 1), got {quantity_tolerance}")

    o = orders[_ORDER_COLUMNS].reset_index(drop=True)
    requested = o["requested_date"].astype("datetime64[s]")
    if date_basis == "confirmed":
        confirmed = o["confirmed_date"].astype("datetime64[s]")
        due = confirmed.fillna(requested)
        on_confirmed = confirmed.notna().to_numpy()
    else:
        due = requested
        on_confirmed = np.zeros(len(o), dtype=bool)
    late = pd.Timedelta(days=days_late_tolerance)
    window_end = due + late

    quantity = o["quantity"].to_numpy(dtype="float64")
    reasons = [
        ("cancelled order line", (o["status"] == "cancelled").to_numpy()),
        ("ordered after as_of", (o["order_date"] > as_of).to_numpy()),
        ("not yet due at as_of", (window_end > as_of).to_numpy()),
        ("zero ordered quantity", quantity == 0),
    ]
    keep = np.ones(len(o), dtype=bool)
    excluded_rows = []
    for reason, mask in reasons:
        hit = keep & mask
        excluded_rows.append(("orders", reason, int(hit.sum()), float(quantity[hit].sum())))
        keep &= ~mask

    # deliveries, mapped to the position of their order line
    position = _line_position(o, deliveries, function=fn)
    all_when = deliveries["delivered_date"].astype("datetime64[s]").to_numpy()
    all_qty = deliveries["delivered_quantity"].to_numpy(dtype="float64")
    orphan = position < 0
    after = (all_when > as_of.to_datetime64()) & ~orphan
    excluded_rows += [
        ("deliveries", "no matching order line", int(orphan.sum()), float(all_qty[orphan].sum())),
        ("deliveries", "delivered after as_of", int(after.sum()), float(all_qty[after].sum())),
    ]
    use = ~orphan & ~after
    use[use] = keep[position[use]]
    row = position[use]
    when = all_when[use]
    qty = all_qty[use]
    by_air = deliveries["air_freight"].to_numpy(dtype="bool")[use]

    due_np = due.to_numpy()
    inside = when <= window_end.to_numpy()[row]
    window_start = pd.Series(pd.NaT, index=o.index, dtype="datetime64[s]")
    if days_early_tolerance is not None:
        window_start = due - pd.Timedelta(days=days_early_tolerance)
        inside &= when >= window_start.to_numpy()[row]

    n = len(o)
    in_window = np.bincount(row, weights=np.where(inside, qty, 0.0), minlength=n)
    delivered = np.bincount(row, weights=qty, minlength=n)
    threshold = quantity * (1.0 - quantity_tolerance)
    # a small relative slack so "short by exactly the tolerance" survives float rounding
    slack = 1e-9 * np.maximum(quantity, 1.0)
    in_full = in_window >= threshold - slack
    on_time = in_window > 0

    # deliveries of each line in date order: first delivery and completion date
    order = np.lexsort((when.view("int64"), row))
    s_row, s_when, s_qty = row[order], when[order], qty[order]
    first = _first_dates(s_row[s_qty > 0], s_when[s_qty > 0], n)
    cumulative = pd.Series(s_qty).groupby(s_row).cumsum().to_numpy()
    reached = cumulative >= (threshold - slack)[s_row]
    completion = _first_dates(s_row[reached], s_when[reached], n)

    # a line closed short (status delivered, nothing of it delivered after as_of) will never
    # complete: it is late to its last delivery, not "late so far" until as_of
    later = np.bincount(position[after], minlength=n) > 0
    last = _last_dates(s_row, s_when, n)
    closed = (o["status"] == "delivered").to_numpy() & ~later & ~np.isnat(last)
    open_until = np.where(closed, last, as_of.to_datetime64().astype("datetime64[s]"))
    end = np.where(np.isnat(completion), open_until, completion)
    days_late = (end - due_np) // np.timedelta64(1, "D")
    air = np.bincount(row, weights=by_air, minlength=n) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        fill_rate = np.minimum(in_window, quantity) / quantity

    out = pd.DataFrame(
        {
            "order_id": o["order_id"],
            "line": o["line"],
            "customer_id": o["customer_id"],
            "material_id": o["material_id"],
            "currency": o["currency"],
            "status": o["status"],
            "quantity": quantity,
            "net_value": o["net_value"].to_numpy(dtype="float64"),
            "due_date": due,
            "date_basis": pd.Categorical.from_codes(
                on_confirmed.astype("int8"), categories=["requested", "confirmed"]
            ),
            "period": due.dt.to_period("M"),
            "window_start": window_start,
            "window_end": window_end,
            "delivered_quantity": delivered,
            "delivered_quantity_in_window": in_window,
            "first_delivered_date": first,
            "completion_date": completion,
            "days_late": days_late.astype("int64"),
            "on_time": on_time,
            "in_full": in_full,
            "delivered_in_full": delivered >= threshold - slack,
            "otif": on_time & in_full,
            "fill_rate": fill_rate,
            "air_freight": air,
        }
    ).loc[keep]
    out = out.reset_index(drop=True)
    out.attrs["excluded"] = Exclusions(_excluded(excluded_rows))
    out.attrs["parameters"] = {
        "as_of": as_of,
        "date_basis": date_basis,
        "days_late_tolerance": days_late_tolerance,
        "days_early_tolerance": days_early_tolerance,
        "quantity_tolerance": quantity_tolerance,
    }
    return out


def _last_dates(row: np.ndarray, when: np.ndarray, n: int) -> np.ndarray:
    """`when` of the last entry of each position 0..n-1 in (row, when)-sorted arrays; else NaT."""
    out = np.full(n, np.datetime64("NaT", "s"))
    if len(row):
        tail = np.r_[row[1:] != row[:-1], True]
        out[row[tail]] = when[tail]
    return out


def _first_dates(row: np.ndarray, when: np.ndarray, n: int) -> np.ndarray:
    """`when` of the first entry of each position 0..n-1 in (row, when)-sorted arrays; else NaT."""
    out = np.full(n, np.datetime64("NaT", "s"))
    if len(row):
        head = np.r_[True, row[1:] != row[:-1]]
        out[row[head]] = when[head]
    return out


def otif(
    lines: pd.DataFrame,
    *,
    by: Sequence[str] = ("customer_id",),
    include: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """OTIF %, OTD %, in-full % and volume fill rate of due lines, per `by` group.

    .. math::

        \\text{otif} = \\frac{\\#\\{\\text{lines on time and in full}\\}}{\\#\\{\\text{lines due}\\}},
        \\quad
        \\text{otd} = \\frac{\\#\\{\\text{lines on time}\\}}{\\#\\{\\text{lines due}\\}},
        \\quad
        \\text{fill\\_rate} = \\frac{\\sum \\min(q_W, Q)}{\\sum Q}

    All rates are fractions 0–1, higher is better; the fill rate weights lines by ordered
    quantity (add quantities of different materials only where that is meaningful). Source and
    line rules: :func:`delivery_performance` (SCOR RL.1.1 / RL.2.1 / RL.2.2).

    Parameters
    ----------
    lines
        Output of :func:`delivery_performance`.
    by
        Grouping columns of `lines`, e.g. ``("customer_id",)``, ``("customer_id", "period")``
        (month of the due date) or ``("material_id",)``.
    include
        Optional frame of `by` combinations that must appear (e.g. all customers); a group
        without lines due gets zero counts, NaN rates and reason ``"no lines due"``.

    Returns
    -------
    One row per group: *by*, date_basis (``requested`` / ``confirmed`` / ``mixed`` when some
    lines had no confirmation), lines_due, lines_on_time, lines_in_full, lines_otif,
    lines_air_freight, otif, otd, in_full, quantity_due, quantity_in_window, fill_rate,
    reason (NA when the rates are defined). When `lines` has ``delivered_in_full`` (the
    output of :func:`delivery_performance` does), also lines_delivered_in_full and
    delivered_in_full (its share of lines due): in full whenever delivered, so short lines
    and late lines can be told apart.

    >>> lines = pd.DataFrame({"customer_id": ["C1"] * 4, "date_basis": "requested",
    ...     "on_time": [True, True, True, False], "in_full": [True, True, False, False],
    ...     "otif": [True, True, False, False], "air_freight": False,
    ...     "quantity": [10.0, 10.0, 10.0, 10.0],
    ...     "delivered_quantity_in_window": [10.0, 12.0, 5.0, 0.0]})
    >>> r = otif(lines).iloc[0]
    >>> print(float(r.otif), float(r.otd), float(r.fill_rate))
    0.5 0.75 0.625
    """
    by = list(by)
    _require(
        lines,
        [*by, "date_basis", "on_time", "in_full", "otif", "air_freight", "quantity",
         "delivered_quantity_in_window"],
        table="lines", function="otif",
    )  # fmt: skip
    frame = pd.DataFrame(
        {
            **{k: lines[k] for k in by},
            "lines_due": 1,
            "lines_on_time": lines["on_time"].astype("int64"),
            "lines_in_full": lines["in_full"].astype("int64"),
            "lines_otif": lines["otif"].astype("int64"),
            "lines_air_freight": lines["air_freight"].astype("int64"),
            "_confirmed": (lines["date_basis"] == "confirmed").astype("int64"),
            "quantity_due": lines["quantity"].astype("float64"),
            "quantity_in_window": np.minimum(
                lines["delivered_quantity_in_window"].to_numpy(dtype="float64"),
                lines["quantity"].to_numpy(dtype="float64"),
            ),
        }
    )
    whenever = "delivered_in_full" in lines.columns
    if whenever:
        frame["lines_delivered_in_full"] = lines["delivered_in_full"].astype("int64").to_numpy()
    out = frame.groupby(by, observed=True, as_index=False, sort=True).sum()
    out = _complete(out, include, by)
    counts = [
        "lines_due", "lines_on_time", "lines_in_full", "lines_otif", "lines_air_freight",
        "_confirmed",
    ]  # fmt: skip
    counts += ["lines_delivered_in_full"] if whenever else []
    out[counts] = out[counts].fillna(0).astype("int64")
    out[["quantity_due", "quantity_in_window"]] = out[
        ["quantity_due", "quantity_in_window"]
    ].fillna(0.0)
    out["date_basis"] = pd.array(
        np.select(
            [out["lines_due"] == 0, out["_confirmed"] == out["lines_due"], out["_confirmed"] == 0],
            [None, "confirmed", "requested"],
            "mixed",
        ),
        dtype="string",
    )
    out["otif"] = _ratio(out["lines_otif"], out["lines_due"])
    out["otd"] = _ratio(out["lines_on_time"], out["lines_due"])
    out["in_full"] = _ratio(out["lines_in_full"], out["lines_due"])
    out["fill_rate"] = _ratio(out["quantity_in_window"], out["quantity_due"])
    if whenever:
        out["delivered_in_full"] = _ratio(out["lines_delivered_in_full"], out["lines_due"])
    out["reason"] = pd.array(np.where(out["lines_due"] == 0, "no lines due", None), dtype="string")
    columns = [
        *by, "date_basis", "lines_due", "lines_on_time", "lines_in_full", "lines_otif",
        "lines_air_freight", "otif", "otd", "in_full", "quantity_due", "quantity_in_window",
        "fill_rate", "reason",
    ]  # fmt: skip
    if whenever:
        columns[columns.index("lines_air_freight") : 0] = ["lines_delivered_in_full"]
        columns[columns.index("quantity_due") : 0] = ["delivered_in_full"]
    return out[columns].reset_index(drop=True)
