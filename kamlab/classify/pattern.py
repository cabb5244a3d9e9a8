"""Demand pattern per series (Syntetos & Boylan): smooth, erratic, intermittent or lumpy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS

__all__ = ["demand_pattern"]

_C = DEFAULTS.classify


def demand_pattern(
    demand: pd.DataFrame,
    *,
    keys: Sequence[str] = ("customer_id", "material_id"),
    period: str = "period",
    value: str = "quantity",
    adi_cutoff: float = _C.adi_cutoff,
    cv2_cutoff: float = _C.cv2_cutoff,
) -> pd.DataFrame:
    """ADI, CV² and demand pattern of each series in a tidy monthly demand frame.

    .. math::

        ADI = n / n_{+}, \\qquad CV^2 = (\\sigma_{+} / \\mu_{+})^2

    where *n* counts the months from the series' first non-zero month to its last month
    (months without demand must be present as zeros, see :func:`kamlab.demand.fill_months`),
    *n₊* the months with demand, and σ₊, μ₊ the population standard deviation and mean of the
    non-zero sizes. Pattern: smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32,
    CV² ≥ 0.49), intermittent (ADI ≥ 1.32, CV² < 0.49), lumpy (both high); a cut-off value
    itself belongs to the high side. A series without any demand gets ``"no demand"`` and
    NaN ADI/CV². Negative values are treated as zero demand.

    Source: Syntetos, Boylan & Croston (2005), "On the categorization of demand patterns",
    JORS 56(5); cut-offs 1.32 / 0.49 as there. Definition as in ../shared/DOMAIN.md.

    Returns one row per series: keys, ``months`` (n), ``demand_months`` (n₊), ``adi``,
    ``cv2``, ``pattern``.

    >>> d = pd.DataFrame({"customer_id": "C", "material_id": "M",
    ...                   "period": pd.period_range("2024-01", periods=6, freq="M"),
    ...                   "quantity": [0, 4, 0, 4, 0, 4]})
    >>> r = demand_pattern(d).iloc[0]
    >>> print(round(float(r.adi), 3), float(r.cv2), r.pattern)
    1.667 0.0 intermittent
    """
    keys = list(keys)
    frame = demand[[*keys, period, value]].sort_values([*keys, period])
    qty = frame[value].to_numpy(dtype="float64")
    positive = qty > 0
    # months are counted from the series' first non-zero month on
    seen = (
        pd.Series(positive, index=frame.index)
        .groupby([frame[k] for k in keys], observed=True, sort=False)
        .cummax()
    )
    frame = frame.assign(
        _active=seen.to_numpy(), _pos=positive, _size=np.where(positive, qty, np.nan)
    )
    stats = frame.groupby(keys, observed=True, sort=True).agg(
        months=("_active", "sum"),
        demand_months=("_pos", "sum"),
        mean_size=("_size", "mean"),
        std_size=("_size", lambda s: s.std(ddof=0)),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = stats["months"] / stats["demand_months"]
        cv2 = (stats["std_size"] / stats["mean_size"]) ** 2
    adi = adi.where(stats["demand_months"] > 0)
    cv2 = cv2.where(stats["demand_months"] > 0)
    high_adi = adi >= adi_cutoff
    high_cv2 = cv2 >= cv2_cutoff
    pattern = np.select(
        [
            stats["demand_months"] == 0,
            ~high_adi & ~high_cv2,
            ~high_adi & high_cv2,
            high_adi & ~high_cv2,
        ],
        ["no demand", "smooth", "erratic", "intermittent"],
        default="lumpy",
    )
    out = stats[["months", "demand_months"]].astype("int64").assign(adi=adi, cv2=cv2)
    out["pattern"] = pd.array(pattern, dtype="string")
    return out.reset_index()
