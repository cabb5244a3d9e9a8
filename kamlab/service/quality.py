"""Quality: complaints, open complaints and their age, rejected quantity in PPM of deliveries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.exclusions import Exclusions
from kamlab.service._common import (
    _complete,
    _excluded,
    _join_order_lines,
    _ratio,
    _require,
    _timestamp,
)

__all__ = ["quality"]


def quality(
    complaints: pd.DataFrame,
    deliveries: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    as_of: object,
    start: object | None = None,
    by: Sequence[str] = ("customer_id",),
    include: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Complaints, open complaints with their age, and rejected parts per million delivered.

    Over the window [`start`, `as_of`] (``start=None``: all history up to `as_of`):

    .. math::

        \\text{ppm} = \\frac{\\sum \\text{rejected\\_quantity}}{\\sum \\text{delivered\\_quantity}}
        \\times 10^6

    with rejected quantity of complaints *opened* in the window and delivered quantity of
    delivery lines *delivered* in the window (lower is better). Source: the customer-reported
    PPM of automotive supplier quality (VDA QMC; IATF 16949:2016 §9.1.2.1 asks suppliers to
    monitor delivered part quality performance), rejected parts ÷ delivered parts × 10⁶.

    Open complaints are counted at `as_of` regardless of `start` (opened ≤ as_of and not
    closed by then); their age = as_of − opened_date in days (mean and max). With
    ``"period"`` in `by`, complaints fall in their opening month and deliveries in their
    delivery month. No delivered quantity gives NaN ppm with reason ``"no deliveries in
    window"``; rejected quantity without deliveries is still shown. Complaints opened after
    `as_of` and deliveries outside the window or without an order line are counted in
    ``attrs["excluded"]``.

    Returns *by*, complaints, rejected_quantity, open_complaints, open_age_mean_days,
    open_age_max_days, delivered_quantity, ppm, reason.

    >>> complaints = pd.DataFrame({"complaint_id": ["Q1", "Q2"], "customer_id": "C1",
    ...     "material_id": "M1", "opened_date": pd.to_datetime(["2024-01-10", "2024-01-21"]),
    ...     "closed_date": pd.to_datetime(["2024-01-15", None]), "category": "damage",
    ...     "rejected_quantity": [30.0, 20.0]})
    >>> orders = pd.DataFrame({"order_id": ["A"], "line": [1], "customer_id": ["C1"],
    ...     "material_id": ["M1"]})
    >>> deliveries = pd.DataFrame({"order_id": ["A"], "line": [1],
    ...     "delivered_date": pd.to_datetime(["2024-01-05"]), "delivered_quantity": [25000.0]})
    >>> r = quality(complaints, deliveries, orders, as_of="2024-01-31").iloc[0]
    >>> print(int(r.complaints), int(r.open_complaints), float(r.open_age_max_days), float(r.ppm))
    2 1 10.0 2000.0
    """
    fn = "quality"
    by = list(by)
    item_keys = [k for k in by if k != "period"]
    _require(
        complaints,
        ["opened_date", "closed_date", "rejected_quantity", *item_keys],
        table="complaints",
        function=fn,
    )
    _require(
        deliveries,
        ["order_id", "line", "delivered_date", "delivered_quantity"],
        table="deliveries",
        function=fn,
    )
    _require(orders, ["order_id", "line", *item_keys], table="orders", function=fn)
    as_of = _timestamp(as_of, name="as_of", function=fn)
    lo = _timestamp(start, name="start", function=fn) if start is not None else None

    c = complaints
    future = (c["opened_date"] > as_of).to_numpy()
    c = c.loc[~future]
    in_window = np.ones(len(c), dtype=bool) if lo is None else (c["opened_date"] >= lo).to_numpy()
    is_open = (c["closed_date"].isna() | (c["closed_date"] > as_of)).to_numpy()
    age = ((as_of - c["opened_date"]) / pd.Timedelta(days=1)).to_numpy(dtype="float64")
    cframe = pd.DataFrame(
        {
            **{k: c[k] for k in item_keys},
            **({"period": c["opened_date"].dt.to_period("M")} if "period" in by else {}),
            "complaints": in_window.astype("int64"),
            "rejected_quantity": np.where(
                in_window, c["rejected_quantity"].to_numpy(dtype="float64"), 0.0
            ),
            "open_complaints": is_open.astype("int64"),
            "_open_age": np.where(is_open, age, np.nan),
        }
    )
    cagg = cframe.groupby(by, observed=True, sort=True).agg(
        complaints=("complaints", "sum"),
        rejected_quantity=("rejected_quantity", "sum"),
        open_complaints=("open_complaints", "sum"),
        open_age_mean_days=("_open_age", "mean"),
        open_age_max_days=("_open_age", "max"),
    )
    # a group whose complaints are all closed and outside the window carries no information
    cagg = cagg[(cagg["complaints"] > 0) | (cagg["open_complaints"] > 0)]

    d, orphan = _join_order_lines(
        deliveries[["order_id", "line", "delivered_date", "delivered_quantity"]],
        orders,
        item_keys,
        function=fn,
    )
    outside = (d["delivered_date"] > as_of).to_numpy()
    if lo is not None:
        outside = outside | (d["delivered_date"] < lo).to_numpy()
    dropped = [
        ("deliveries", "no matching order line", int(orphan.sum()),
         float(deliveries["delivered_quantity"].to_numpy()[orphan].sum())),
        ("deliveries", "delivered outside [start, as_of]", int(outside.sum()),
         float(d["delivered_quantity"].to_numpy()[outside].sum())),
    ]  # fmt: skip
    d = d.loc[~outside]
    dframe = pd.DataFrame(
        {
            **{k: d[k] for k in item_keys},
            **({"period": d["delivered_date"].dt.to_period("M")} if "period" in by else {}),
            "delivered_quantity": d["delivered_quantity"].astype("float64"),
        }
    )
    dagg = dframe.groupby(by, observed=True, sort=True)[["delivered_quantity"]].sum()

    out = cagg.join(dagg, how="outer").reset_index()
    out = _complete(out, include, by)
    for col in ("complaints", "open_complaints"):
        out[col] = out[col].fillna(0).astype("int64")
    for col in ("rejected_quantity", "delivered_quantity"):
        out[col] = out[col].fillna(0.0)
    out["ppm"] = _ratio(out["rejected_quantity"], out["delivered_quantity"]) * 1e6
    out["reason"] = pd.array(
        np.where(out["delivered_quantity"] == 0, "no deliveries in window", None), dtype="string"
    )
    out = out[
        [*by, "complaints", "rejected_quantity", "open_complaints", "open_age_mean_days",
         "open_age_max_days", "delivered_quantity", "ppm", "reason"]
    ].reset_index(drop=True)  # fmt: skip
    out.attrs["excluded"] = Exclusions(
        _excluded(
            [
                (
                    "complaints",
                    "opened after as_of",
                    int(future.sum()),
                    float(complaints.loc[future, "rejected_quantity"].sum()),
                ),
                *dropped,
            ]  # fmt: skip
        )
    )
    return out
