"""Air freight: how often deliveries were expedited by air, and what it cost against sales."""

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

__all__ = ["air_freight"]


def air_freight(
    deliveries: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    as_of: object,
    start: object | None = None,
    by: Sequence[str] = ("customer_id",),
    include: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Air-freight occurrences and cost share of delivered net value, per group and currency.

    Over the delivery lines delivered in [`start`, `as_of`] (``start=None``: all history):

    .. math::

        \\text{air\\_freight\\_share} = \\frac{\\#\\{\\text{air-freight delivery lines}\\}}
        {\\#\\{\\text{delivery lines}\\}}, \\qquad
        \\text{cost\\_share} = \\frac{\\sum_{\\text{air}} \\text{freight\\_cost}}
        {\\sum \\text{delivered\\_quantity} \\cdot \\text{net\\_value} / \\text{quantity}}

    The denominator is the net value delivered (each delivery line valued pro rata at its
    order line's price), in the order's currency, the currency of freight_cost per the
    contract; amounts are never added across currencies, so the result has one row per group
    and currency. Both are fractions, lower is better. Air freight is the usual *premium
    freight* of supplier scorecards: transport paid on top to save a delivery date.

    Edge cases: without a ``freight_cost`` column, costs are NaN with reason
    ``"no freight_cost in deliveries"``; an air-freight line with an empty cost is counted in
    ``air_freight_cost_missing`` and left out of the cost; no delivered value gives NaN cost
    share with a reason. Deliveries outside the window or without an order line are counted in
    ``attrs["excluded"]``. With ``"period"`` in `by`, the month is the delivery month.

    >>> orders = pd.DataFrame({"order_id": ["A"], "line": [1], "customer_id": ["C1"],
    ...     "material_id": ["M1"], "quantity": [10.0], "net_value": [1000.0], "currency": ["EUR"]})
    >>> deliveries = pd.DataFrame({"order_id": "A", "line": 1,
    ...     "delivered_date": pd.to_datetime(["2024-01-05", "2024-01-20"]),
    ...     "delivered_quantity": [8.0, 2.0], "air_freight": [False, True],
    ...     "freight_cost": [10.0, 50.0]})
    >>> r = air_freight(deliveries, orders, as_of="2024-01-31").iloc[0]
    >>> print(int(r.air_freight_deliveries), float(r.air_freight_share), float(r.cost_share))
    1 0.5 0.05
    """
    fn = "air_freight"
    by = list(by)
    order_keys = [k for k in by if k != "period"]
    _require(
        deliveries,
        ["order_id", "line", "delivered_date", "delivered_quantity", "air_freight"],
        table="deliveries",
        function=fn,
    )
    _require(
        orders,
        ["order_id", "line", "quantity", "net_value", "currency", *order_keys],
        table="orders",
        function=fn,
    )
    as_of = _timestamp(as_of, name="as_of", function=fn)
    lo = _timestamp(start, name="start", function=fn) if start is not None else None
    has_cost = "freight_cost" in deliveries.columns
    d, orphan = _join_order_lines(
        deliveries, orders, ["quantity", "net_value", "currency", *order_keys], function=fn
    )
    orphan_quantity = float(deliveries.loc[orphan, "delivered_quantity"].sum())
    outside = (d["delivered_date"] > as_of).to_numpy()
    if lo is not None:
        outside = outside | (d["delivered_date"] < lo).to_numpy()
    excluded = _excluded(
        [
            (
                "deliveries",
                "no matching order line",
                int(orphan.sum()),
                orphan_quantity,
            ),
            (
                "deliveries",
                "delivered outside [start, as_of]",
                int(outside.sum()),
                float(d.loc[outside, "delivered_quantity"].sum()),
            ),
        ]  # fmt: skip
    )
    d = d.loc[~outside]
    air = d["air_freight"].to_numpy(dtype="bool")
    price = _ratio(d["net_value"], d["quantity"]).fillna(0.0).to_numpy()
    cost = d["freight_cost"].astype("float64").to_numpy() if has_cost else np.full(len(d), np.nan)
    frame = pd.DataFrame(
        {
            **{k: d[k] for k in order_keys},
            **({"period": d["delivered_date"].dt.to_period("M")} if "period" in by else {}),
            "currency": d["currency"],
            "delivery_lines": 1,
            "air_freight_deliveries": air.astype("int64"),
            "air_freight_cost": np.where(air, np.nan_to_num(cost), 0.0),
            "air_freight_cost_missing": (air & np.isnan(cost)).astype("int64"),
            "net_value_delivered": d["delivered_quantity"].to_numpy(dtype="float64") * price,
        }
    )
    keys = [*by, "currency"]
    out = frame.groupby(keys, observed=True, as_index=False, sort=True).sum()
    out = _complete(out, include, by)
    counts = ["delivery_lines", "air_freight_deliveries", "air_freight_cost_missing"]
    out[counts] = out[counts].fillna(0).astype("int64")
    out[["air_freight_cost", "net_value_delivered"]] = out[
        ["air_freight_cost", "net_value_delivered"]
    ].fillna(0.0)
    if not has_cost:
        out["air_freight_cost"] = np.nan
    out["air_freight_share"] = _ratio(out["air_freight_deliveries"], out["delivery_lines"])
    out["cost_share"] = _ratio(out["air_freight_cost"], out["net_value_delivered"])
    out["reason"] = pd.array(
        np.select(
            [
                out["delivery_lines"] == 0,
                np.full(len(out), not has_cost),
                out["net_value_delivered"] == 0,
            ],
            ["no deliveries in window", "no freight_cost in deliveries", "no value delivered"],
            None,
        ),
        dtype="string",
    )
    out = out[
        [*keys, "delivery_lines", "air_freight_deliveries", "air_freight_share",
         "air_freight_cost", "air_freight_cost_missing", "net_value_delivered", "cost_share",
         "reason"]
    ].reset_index(drop=True)  # fmt: skip
    out.attrs["excluded"] = Exclusions(excluded)
    return out
