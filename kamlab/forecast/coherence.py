"""Coherent totals: customer and product-family forecasts as sums of material forecasts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kamlab.exclusions import Exclusions

__all__ = ["aggregate_forecast"]

_LEVELS = {"customer": ["customer_id"], "product_family": ["customer_id", "product_family"]}


def aggregate_forecast(
    fc: pd.DataFrame,
    materials: pd.DataFrame | None = None,
    *,
    level: str = "customer",
    dependence: str = "independent",
) -> pd.DataFrame:
    """Bottom-up totals of a material-level forecast (or backtest) per customer or family.

    The point forecast of a group is the sum of its series' forecasts, so the totals shown on
    a scorecard always equal the sum of the material lines (coherence by construction).
    Interval bounds of a total, for each level L with columns ``lo_L``/``hi_L``:

    - ``dependence="independent"`` (default): the series' errors are taken as independent,
      so half-widths add in quadrature,
      :math:`hi = F + \\sqrt{\\sum_i (hi_i - f_i)^2}`, :math:`lo = \\max(0, F - \\sqrt{\\sum_i (f_i - lo_i)^2})`;
      narrower than the sum of bounds, and too narrow when demand of the materials moves
      together;
    - ``dependence="comonotonic"``: perfectly correlated errors, for which quantiles add
      exactly: :math:`hi = \\sum_i hi_i`, :math:`lo = \\sum_i lo_i` (the widest coherent choice).

    `level` is "customer" (by customer_id) or "product_family" (by customer_id and the
    materials' ``product_family``; `materials` maps material_id → product_family, and
    forecast rows of materials it does not list are kept under a missing family and counted
    in ``attrs["excluded"]``). If `fc` has no customer_id column, families are totalled over
    all customers. Backtest columns ``snapshot_date`` and ``lag`` are kept as keys; the point
    column is ``forecast`` (from ``forecast``) or ``quantity`` (from ``backtest``), as in `fc`.

    Returns the group keys, ``period``, the point column, the bounds, ``series`` (number of
    series summed) and ``method`` = "bottom-up".

    >>> fc = pd.DataFrame({"customer_id": ["C", "C"], "material_id": ["A", "B"],
    ...                    "period": pd.Period("2025-01", "M"), "forecast": [3.0, 4.0],
    ...                    "lo_80": [0.0, 0.0], "hi_80": [6.0, 8.0]})
    >>> t = aggregate_forecast(fc).iloc[0]
    >>> print(float(t.forecast), float(t.hi_80), float(t.lo_80))
    7.0 12.0 2.0
    """
    if level not in _LEVELS:
        raise ValueError(f"aggregate_forecast: level must be one of {list(_LEVELS)}, got {level!r}")
    if dependence not in ("independent", "comonotonic"):
        raise ValueError(
            "aggregate_forecast: dependence must be 'independent' or 'comonotonic', "
            f"got {dependence!r}"
        )
    point = "forecast" if "forecast" in fc.columns else "quantity"
    frame = fc
    excluded = pd.DataFrame(columns=["table", "reason", "rows", "quantity"])
    if level == "product_family":
        if materials is None:
            raise ValueError("aggregate_forecast: level='product_family' needs `materials`")
        family = materials.drop_duplicates("material_id").set_index("material_id")["product_family"]
        frame = fc.assign(product_family=fc["material_id"].map(family))
        lost = frame["product_family"].isna()
        if lost.any():
            excluded = pd.DataFrame(
                {
                    "table": ["forecast"],
                    "reason": ["material not in materials: kept under a missing product_family"],
                    "rows": [int(lost.sum())],
                    "quantity": [float(frame.loc[lost, point].sum())],
                }
            )
    by = [k for k in _LEVELS[level] if k in frame.columns]
    by += [k for k in ("snapshot_date", "lag") if k in frame.columns] + ["period"]
    bounds = [c for c in frame.columns if re.fullmatch(r"(lo|hi)_\d+(\.\d+)?", c)]
    work = frame[[*by, point, *bounds]].copy()
    if dependence == "independent":
        for c in bounds:
            work[c] = (work[c] - work[point]) ** 2
    grouped = work.groupby(by, observed=True, dropna=False, sort=True)
    out = grouped[[point, *bounds]].sum()
    out["series"] = grouped.size()
    if dependence == "independent":
        for c in bounds:
            spread = np.sqrt(out[c])
            out[c] = (
                (out[point] - spread).clip(lower=0) if c.startswith("lo") else out[point] + spread
            )
    out = out.reset_index()
    out["method"] = pd.array(["bottom-up"] * len(out), dtype="string")
    out.attrs["excluded"] = Exclusions(excluded)
    return out
