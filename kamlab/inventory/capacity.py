"""Capacity allocation: what each customer is allocated against what it is forecast to need."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS
from kamlab.inventory._series import bare

__all__ = ["allocation_vs_forecast", "capacity_load"]

_I = DEFAULTS.inventory


def _check(capacity: pd.DataFrame) -> None:
    both = capacity["material_id"].notna() & capacity["product_family"].notna()
    neither = capacity["material_id"].isna() & capacity["product_family"].isna()
    if (both | neither).any():
        rows = capacity.index[both | neither][:5].tolist()
        raise ValueError(
            "capacity: each row must name a material_id or a product_family, not both or "
            f"neither (rule of the capacity table); rows {rows}"
        )


def _object(capacity: pd.DataFrame) -> pd.Series:
    """What is allocated: the material, or the family (prefixed, so the two never collide)."""
    return (
        capacity["material_id"]
        .astype("str")
        .where(
            capacity["material_id"].notna(), "family " + capacity["product_family"].astype("str")
        )
    )


def allocation_vs_forecast(
    capacity: pd.DataFrame,
    forecast: pd.DataFrame,
    materials: pd.DataFrame,
    *,
    tolerance: float = _I.allocation_tolerance,
    value: str = "quantity",
) -> pd.DataFrame:
    """Allocated quantity against forecast demand per customer, material (or family) and month.

    .. math:: r = \\frac{\\text{allocated}}{\\text{forecast}}

    **over-allocated** when *r* > 1 + `tolerance` (capacity promised beyond need: free it for
    others), **under-allocated** when *r* < 1 − `tolerance` (forecast demand the allocation
    will not cover: a shortage to negotiate); a forecast of 0 with an allocation is
    over-allocated (*r* = inf). `forecast` is per customer_id, material_id, period (e.g.
    the customer's latest forecast, or the statistical one); family allocations compare with
    the forecast summed over the family's materials (`materials`: material_id,
    product_family). Rows of `capacity` name a material or a family (one of them).

    Returns customer_id, material_id, product_family, period, ``allocated``, ``forecast``,
    ``ratio``, ``flag`` (over-allocated / under-allocated / in line).
    """
    _check(capacity)
    capacity, forecast, materials = bare(capacity), bare(forecast), bare(materials)
    fc = forecast.merge(materials[["material_id", "product_family"]], on="material_id", how="left")
    by_material = fc.groupby(["customer_id", "material_id", "period"], observed=True)[value].sum()
    by_family = fc.groupby(["customer_id", "product_family", "period"], observed=True)[value].sum()
    out = capacity[["customer_id", "material_id", "product_family", "period"]].copy()
    out["allocated"] = capacity["allocated_quantity"].to_numpy(dtype="float64")
    per_material = out.merge(
        by_material.rename("_m").reset_index(),
        on=["customer_id", "material_id", "period"],
        how="left",
    )["_m"]
    per_family = out.merge(
        by_family.rename("_f").reset_index(),
        on=["customer_id", "product_family", "period"],
        how="left",
    )["_f"]
    need = np.where(out["material_id"].notna(), per_material, per_family)
    out["forecast"] = np.nan_to_num(need.astype("float64"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            out["forecast"] > 0,
            out["allocated"] / out["forecast"],
            np.where(out["allocated"] > 0, np.inf, 1.0),
        )
    out["ratio"] = ratio
    out["flag"] = np.select(
        [ratio > 1 + tolerance, ratio < 1 - tolerance],
        ["over-allocated", "under-allocated"],
        default="in line",
    )
    return out.reset_index(drop=True)


def capacity_load(capacity: pd.DataFrame) -> pd.DataFrame:
    """Allocations summed per material (or family) and month against its capacity.

    .. math:: \\text{load} = \\sum_{\\text{customers}} \\text{allocated} \\;/\\; \\text{capacity}

    **over-booked** when the sum exceeds the capacity (more promised than can be made);
    capacity unknown (empty) gives no flag.

    Returns material_id, product_family, period, ``allocated``, ``capacity``, ``load``,
    ``customers``, ``over_booked``.
    """
    _check(capacity)
    work = capacity.assign(_object=_object(capacity))
    out = work.groupby(["_object", "period"], observed=True, sort=True).agg(
        material_id=("material_id", "first"),
        product_family=("product_family", "first"),
        allocated=("allocated_quantity", "sum"),
        capacity=("capacity", "max"),
        customers=("customer_id", "nunique"),
    )
    out = out.reset_index().drop(columns="_object")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["load"] = out["allocated"] / out["capacity"]
    out["over_booked"] = (out["allocated"] > out["capacity"]).fillna(False).astype(bool)
    return out[
        [
            "material_id",
            "product_family",
            "period",
            "allocated",
            "capacity",
            "load",
            "customers",
            "over_booked",
        ]
    ]
