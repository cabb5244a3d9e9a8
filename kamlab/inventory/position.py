"""Stock position: what is on hand, on the way and on order, per material and plant, at cost.

The stock table holds snapshots; the position as of a date takes each line's latest snapshot
on or before that date. Customer-specific (consignment) stock counts in the material's total;
put ``customer_id`` in `keys` to see it apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.exclusions import Exclusions
from kamlab.inventory._series import bare

__all__ = ["plant_demand", "stock_position"]

_LINE = ("material_id", "plant", "customer_id")
_QUANTITIES = ("on_hand", "in_transit", "blocked", "on_order")


def stock_position(
    stock: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str,
    keys: Sequence[str] = ("material_id", "plant"),
) -> pd.DataFrame:
    """Stock per `keys` from each stock line's latest snapshot on or before `as_of`.

    .. math::

        \\text{usable} = \\text{on hand} + \\text{in transit}, \\quad
        \\text{stock value} = (\\text{on hand} + \\text{in transit} + \\text{blocked})
        \\times \\text{unit cost}

    Usable stock is what can serve demand (blocked and quality stock cannot); the value is all
    stock held, at cost, in the stock's ``currency`` (a material and plant valued in two
    currencies raises ``ValueError``: amounts are never added across currencies). Empty
    in-transit, blocked and on-order cells count 0. ``unit_cost`` in the result is the value
    divided by the quantity (the cost of the lines, weighted by quantity); where nothing is
    held (stocked out) it is the mean unit cost of the lines, so a stocked-out material keeps
    its value per unit (money at risk at stock 0 is not NaN).

    Returns `keys`, ``snapshot_date``, ``on_hand``, ``in_transit``, ``blocked``, ``on_order``,
    ``usable``, ``unit_cost``, ``currency``, ``stock_value``. Snapshots after `as_of` are
    left out and counted in ``attrs["excluded"]``.

    >>> stock = pd.DataFrame({"material_id": ["M1", "M1"], "plant": ["1000"] * 2,
    ...     "snapshot_date": pd.to_datetime(["2025-05-31", "2025-06-30"]),
    ...     "customer_id": [None, None], "on_hand": [5.0, 7.0], "in_transit": [None, 3.0],
    ...     "blocked": [1.0, 1.0], "on_order": [None, None], "unit_cost": [2.0, 2.0],
    ...     "currency": ["EUR", "EUR"]})
    >>> stock_position(stock, as_of="2025-06-30")[["usable", "stock_value"]].to_dict("records")
    [{'usable': 10.0, 'stock_value': 22.0}]
    """
    keys = list(keys)
    as_of = pd.Timestamp(as_of)
    later = stock["snapshot_date"] > as_of
    current = stock.loc[~later]
    if len(current):
        line = list(_LINE)
        newest = current.groupby(line, dropna=False, sort=False)["snapshot_date"].transform("max")
        current = current.loc[current["snapshot_date"] == newest]
    qty = {c: current[c].to_numpy(dtype="float64", na_value=0.0) for c in _QUANTITIES}
    held = qty["on_hand"] + qty["in_transit"] + qty["blocked"]
    lines = pd.DataFrame(
        {
            **{k: current[k] for k in keys},
            "snapshot_date": current["snapshot_date"],
            **qty,
            "held": held,
            "stock_value": held * current["unit_cost"].to_numpy(dtype="float64"),
            "_cost": current["unit_cost"].to_numpy(dtype="float64"),
            "currency": current["currency"],
        }
    )
    mixed = lines.groupby(keys, dropna=False, observed=True)["currency"].nunique()
    if (mixed > 1).any():
        bad = mixed[mixed > 1].index[:5].tolist()
        raise ValueError(f"stock_position: stock of {bad} is valued in more than one currency")
    out = lines.groupby([*keys, "currency"], dropna=False, observed=True, sort=True).agg(
        snapshot_date=("snapshot_date", "max"),
        **{c: (c, "sum") for c in (*_QUANTITIES, "held", "stock_value")},
        _cost=("_cost", "mean"),
    )
    out = out.reset_index()
    out["usable"] = out["on_hand"] + out["in_transit"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["unit_cost"] = np.where(
            out["held"] > 0, out["stock_value"] / out["held"], out["_cost"].to_numpy()
        )
    columns = [*keys, "snapshot_date", *_QUANTITIES, "usable", "unit_cost", "currency"]
    out = out[[*columns, "stock_value"]]
    out.attrs["excluded"] = Exclusions(
        {"table": ["stock"], "reason": ["snapshot after as_of"], "rows": [int(later.sum())]}
    )
    return out


def plant_demand(
    demand: pd.DataFrame,
    plants: pd.DataFrame,
    *,
    period: str = "period",
    value: str = "quantity",
) -> pd.DataFrame:
    """Monthly demand per material and plant: a material's demand shared equally by its plants.

    Order lines carry no delivering plant in the contract, so a material's demand (summed over
    customers) is split equally among the plants that stock or plan it (`plants`: frame of
    material_id, plant; duplicates ignored). Demand of a material no plant holds is left out
    and counted in ``attrs["excluded"]`` (it has no stock to cover it).
    """
    demand, plants = bare(demand), bare(plants)
    per_material = demand.groupby(["material_id", period], observed=True, as_index=False)[
        value
    ].sum()
    where = plants[["material_id", "plant"]].drop_duplicates()
    share = 1.0 / where.groupby("material_id")["plant"].transform("size")
    where = where.assign(_share=share.to_numpy())
    out = per_material.merge(where, on="material_id", how="inner")
    out[value] = out[value] * out.pop("_share")
    lost = ~per_material["material_id"].isin(where["material_id"])
    out = out[["material_id", "plant", period, value]]
    out.attrs["excluded"] = Exclusions(
        {
            "table": ["demand"],
            "reason": ["material in no plant's stock or plan"],
            "rows": [int(lost.sum())],
            "quantity": [float(per_material.loc[lost, value].sum())],
        }
    )
    return out
