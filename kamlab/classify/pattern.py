"""Demand pattern per series (Syntetos & Boylan): smooth, erratic, intermittent or lumpy.

The one Syntetos–Boylan kernel: :func:`pattern_code` classes ADI and CV² against the cut-offs
(compared as on paper, :func:`kamlab.classify.cutoff.as_on_paper`), :func:`pattern_matrix`
computes ADI and CV² of series held as rows of a matrix (the forecast engine's layout) and
:func:`demand_pattern` of a tidy frame; both class with :func:`pattern_code`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from kamlab.classify.cutoff import as_on_paper
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions

__all__ = ["PATTERNS", "demand_pattern", "pattern_code", "pattern_matrix"]

_C = DEFAULTS.classify

PATTERNS = ("no demand", "smooth", "erratic", "intermittent", "lumpy")


def pattern_code(
    adi: np.ndarray, cv2: np.ndarray, *, adi_cutoff: float, cv2_cutoff: float
) -> np.ndarray:
    """Index into :data:`PATTERNS` per series from its ADI and CV² (NaN ADI: no demand).

    A value on a cut-off (as on paper: rounded by :func:`~kamlab.classify.cutoff.as_on_paper`)
    belongs to the high side.

    >>> [PATTERNS[c] for c in pattern_code(np.array([1.0, 1.0, 2.0, np.nan]),
    ...     np.array([0.7**2, 0.1, 0.1, np.nan]), adi_cutoff=1.32, cv2_cutoff=0.49)]
    ['erratic', 'smooth', 'intermittent', 'no demand']
    """
    adi, cv2 = np.asarray(adi, dtype=float), np.asarray(cv2, dtype=float)
    high_adi = as_on_paper(adi) >= adi_cutoff
    high_cv2 = as_on_paper(cv2) >= cv2_cutoff
    return np.select(
        [np.isnan(adi), ~high_adi & ~high_cv2, ~high_adi & high_cv2, high_adi & ~high_cv2],
        [0, 1, 2, 3],
        default=4,
    )


def pattern_matrix(
    Y: np.ndarray, *, adi_cutoff: float = _C.adi_cutoff, cv2_cutoff: float = _C.cv2_cutoff
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ADI, CV² and :func:`pattern_code` of each row of `Y` (series × periods).

    NaN cells are not observed (e.g. before a series' first demand) and are not counted;
    same definitions as :func:`demand_pattern` with ``count_from="first_demand"`` when each
    row starts at its first demand.
    """
    valid = ~np.isnan(Y)
    pos = valid & (np.nan_to_num(Y) > 0)
    n_pos = pos.sum(axis=1)
    sizes = np.where(pos, Y, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(n_pos > 0, valid.sum(axis=1) / n_pos, np.nan)
        mu = np.nansum(sizes, axis=1) / n_pos
        var = np.nansum((sizes - mu[:, None]) ** 2, axis=1) / n_pos
        cv2 = np.where(n_pos > 0, var / mu**2, np.nan)
    return adi, cv2, pattern_code(adi, cv2, adi_cutoff=adi_cutoff, cv2_cutoff=cv2_cutoff)


def demand_pattern(
    demand: pd.DataFrame,
    *,
    keys: Sequence[str] = ("customer_id", "material_id"),
    period: str = "period",
    value: str = "quantity",
    adi_cutoff: float = _C.adi_cutoff,
    cv2_cutoff: float = _C.cv2_cutoff,
    count_from: Literal["first_demand", "start"] = "first_demand",
) -> pd.DataFrame:
    """ADI, CV² and demand pattern of each series in a tidy monthly demand frame.

    .. math::

        ADI = n / n_{+}, \\qquad CV^2 = (\\sigma_{+} / \\mu_{+})^2

    where *n* counts the months from the series' first non-zero month (``count_from=
    "first_demand"``, DOMAIN.md) or its first observed month (``"start"``) to its last
    observed month, *n₊* the months with demand, and σ₊, μ₊ the population standard deviation
    and mean of the non-zero sizes. A month inside that span without a row is a month without
    orders and counts as zero demand; a row whose value is NaN is a month *not observed* (e.g.
    a series that ends early) and is not counted at all — those rows are reported in
    ``result.attrs["excluded"]``. Negative values are treated as zero demand.

    Pattern: smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32, CV² ≥ 0.49), intermittent
    (ADI ≥ 1.32, CV² < 0.49), lumpy (both high); a cut-off value itself belongs to the high
    side, compared as on paper (:func:`kamlab.classify.cutoff.as_on_paper`: a CV² of 0.49
    that computes as 0.48999… is erratic/lumpy). Classed by :func:`pattern_code`. A series without any demand gets ``"no demand"`` and NaN ADI/CV².

    Source: Syntetos, Boylan & Croston (2005), "On the categorization of demand patterns",
    JORS 56(5); cut-offs 1.32 / 0.49 as there. Definition as in ../shared/DOMAIN.md.

    Returns one row per series: keys, ``months`` (n), ``demand_months`` (n₊), ``adi``,
    ``cv2``, ``pattern``. Rows are first summed per `keys` and month, so a customer ×
    material frame gives per-customer patterns with ``keys=["customer_id"]``.

    >>> d = pd.DataFrame({"customer_id": "C", "material_id": "M",
    ...                   "period": pd.period_range("2024-01", periods=6, freq="M"),
    ...                   "quantity": [0, 4, 0, 4, 0, 4]})
    >>> r = demand_pattern(d).iloc[0]
    >>> print(round(float(r.adi), 3), float(r.cv2), r.pattern)
    1.667 0.0 intermittent
    >>> print(float(demand_pattern(d, count_from="start").adi.iloc[0]))
    2.0
    """
    if count_from not in ("first_demand", "start"):
        raise ValueError(
            f"demand_pattern: count_from must be 'first_demand' or 'start', got {count_from!r}"
        )
    keys = list(keys)
    # keys are factorised once; everything after works on the integer series code
    by_series = demand.groupby(keys, observed=True, sort=True)
    code = by_series.ngroup().to_numpy()
    series = by_series.size().index
    qty = demand[value].to_numpy(dtype="float64", na_value=np.nan)
    ordinal = pd.PeriodIndex(demand[period]).asi8
    cell = pd.Series(code * (ordinal.max(initial=0) - ordinal.min(initial=0) + 1) + ordinal)
    if cell.duplicated().any():  # e.g. per customer from customer×material: sum each month
        summed = (
            pd.DataFrame({"c": code, "o": ordinal, "q": qty})
            .groupby(["c", "o"], sort=False)["q"]
            .sum(min_count=1)
        )
        code = summed.index.get_level_values("c").to_numpy()
        ordinal = summed.index.get_level_values("o").to_numpy()
        qty = summed.to_numpy()
    ordinal = ordinal.astype("float64")
    observed = ~np.isnan(qty)
    positive = qty > 0
    work = pd.DataFrame(
        {
            "_pos": positive,
            "_pos_ord": np.where(positive, ordinal, np.nan),
            "_obs_ord": np.where(observed, ordinal, np.nan),
            "_size": np.where(positive, qty, np.nan),
        }
    )
    grouped = work.groupby(code, sort=True)
    start_column = "_pos_ord" if count_from == "first_demand" else "_obs_ord"
    start = grouped[start_column].transform("min").to_numpy()
    last = grouped["_obs_ord"].transform("max").to_numpy()
    # a NaN row inside [start, last] is an unobserved month: it shortens the span
    work["_gap"] = ~observed & (ordinal >= start) & (ordinal <= last)
    grouped = work.groupby(code, sort=True)
    stats = grouped.agg(
        first=(start_column, "min"),
        last=("_obs_ord", "max"),
        demand_months=("_pos", "sum"),
        unobserved=("_gap", "sum"),
        mean_size=("_size", "mean"),
    )
    stats["std_size"] = grouped["_size"].std(ddof=0)
    stats.index = series
    months = (stats["last"] - stats["first"] + 1 - stats["unobserved"]).fillna(0)
    has_demand = stats["demand_months"] > 0
    adi = (months / stats["demand_months"]).where(has_demand)
    cv2 = ((stats["std_size"] / stats["mean_size"]) ** 2).where(has_demand)
    code = pattern_code(
        adi.to_numpy(dtype="float64", na_value=np.nan),
        cv2.to_numpy(dtype="float64", na_value=np.nan),
        adi_cutoff=adi_cutoff,
        cv2_cutoff=cv2_cutoff,
    )
    pattern = np.asarray(PATTERNS, dtype=object)[code]
    out = pd.DataFrame(
        {
            "months": months.astype("int64"),
            "demand_months": stats["demand_months"].astype("int64"),
            "adi": adi.astype("float64"),
            "cv2": cv2.astype("float64"),
            "pattern": pd.array(pattern, dtype="string"),
        },
        index=stats.index,
    ).reset_index()
    out.attrs["excluded"] = Exclusions(
        pd.DataFrame(
            {
                "table": ["demand"],
                "reason": ["missing value: month not observed, not counted as zero demand"],
                "rows": [int((~observed).sum())],
            }
        )
    )
    return out
