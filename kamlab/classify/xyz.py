"""XYZ classification by the variability of monthly demand, and the ABC × XYZ matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.classify.abc import _bare, _require
from kamlab.classify.cutoff import as_on_paper
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions

__all__ = ["abc_xyz", "xyz"]

_C = DEFAULTS.classify


def xyz(
    demand: pd.DataFrame,
    *,
    keys: Sequence[str] = ("customer_id", "material_id"),
    period: str = "period",
    value: str = "quantity",
    window: int = _C.xyz_window,
    end: pd.Period | str | None = None,
    start: pd.Period | str | None = None,
    cutoffs: tuple[float, float] = _C.xyz_cutoffs,
) -> pd.DataFrame:
    """XYZ class of each series by the coefficient of variation of its monthly demand.

    Over the `window` months ending at `end` (default: the last month in `demand`), a month
    without a row (or with a NaN value) counts as zero demand (zero-filled), rows outside the
    window are ignored. Rows are first summed per `keys` and month, so a customer × material
    frame gives per-customer XYZ with ``keys=["customer_id"]``:

    .. math::

        CV = \\sigma / \\mu, \\quad \\mu = \\frac{1}{w}\\sum_t y_t, \\quad
        \\sigma = \\sqrt{\\frac{1}{w}\\sum_t (y_t - \\mu)^2}

    (population standard deviation, *w* = `window`). X if CV < 0.5, Y if 0.5 ≤ CV ≤ 1.0,
    Z if CV > 1.0 (`cutoffs`): a CV exactly on a cut-off is Y, DOMAIN.md's "Y 0.5–1.0"
    read inclusively. A series whose mean over the window is zero (or negative) is Z with
    CV NaN and a reason. Because the window is fixed, a series that started inside it has
    zeros before its first order and looks more variable; that is intended (it is).

    `start` is the first month the data cover: months of the window before it are unknown,
    not zero demand, so the window shrinks to the months from `start` (``months`` says how
    many, *w* above is that number, and the reason says the window is partial). A window
    that ends before `start` gives no class (NaN, with a reason).

    Source: XYZ analysis as in Scholz-Reiter et al. (2012), "Integration of demand
    variability in ABC analysis"; definition and cut-offs in ../shared/DOMAIN.md.

    Returns one row per series: keys, ``months`` (w), ``mean``, ``std``, ``cv``,
    ``xyz_class``, ``reason``.

    >>> d = pd.DataFrame({"material_id": "M", "period": pd.period_range("2024-01", periods=4,
    ...                   freq="M"), "quantity": [1.0, 3.0, 1.0, 3.0]})
    >>> r = xyz(d, keys=["material_id"], window=4).iloc[0]
    >>> print(float(r.cv), r.xyz_class)
    0.5 Y

    The same series when the data start in its third month: two months, both counted.

    >>> r = xyz(d, keys=["material_id"], window=4, start="2024-03").iloc[0]
    >>> print(int(r.months), float(r.cv), r.xyz_class)
    2 0.5 Y
    """
    keys = list(keys)
    _require(demand, [*keys, period, value], "xyz")
    if window < 1:
        raise ValueError(f"xyz: window must be >= 1 month, got {window}")
    cut_x, cut_y = (float(c) for c in cutoffs)
    if not 0 < cut_x <= cut_y:
        raise ValueError(f"xyz: cutoffs must satisfy 0 < x <= y, got {cutoffs!r}")
    ordinal = pd.PeriodIndex(demand[period]).asi8
    if end is not None:
        last = pd.Period(end, "M").ordinal
    else:
        last = int(ordinal.max(initial=0))
    by_series = demand.groupby(keys, observed=True, sort=True)
    code = by_series.ngroup().to_numpy()
    series = by_series.size().index
    # one row per series, one column per month of the window; rows of one month add up
    month = ordinal - (last - window + 1)
    inside = (month >= 0) & (month < window)
    y = np.nan_to_num(demand[value].to_numpy(dtype="float64", na_value=np.nan))
    grid = np.bincount(
        code[inside] * window + month[inside],
        weights=y[inside],
        minlength=len(series) * window,
    ).reshape(len(series), window)
    # months before the data start are unknown, not zero demand: left out of the window
    skip = (
        0
        if start is None
        else min(max(pd.Period(start, "M").ordinal - (last - window + 1), 0), window)
    )
    covered = window - skip
    grid = grid[:, skip:]
    if covered == 0:
        grid = np.full((len(series), 1), np.nan)
    mean = pd.Series(grid.mean(axis=1), index=series)
    std = pd.Series(grid.std(axis=1), index=series)  # population sd (ddof 0)
    flat = mean <= 0
    cv = (std / mean).where(~flat)
    rounded = as_on_paper(cv)
    cls = np.select([flat, rounded < cut_x, rounded <= cut_y], ["Z", "X", "Y"], default="Z")
    partial = f" (the {covered} months the data cover)" if 0 < covered < window else ""
    reason = np.select(
        [flat, cls == "X", cls == "Y"],
        [
            f"no demand in the {window} months to the window end",
            f"CV below {cut_x:g}{partial}",
            f"CV from {cut_x:g} to {cut_y:g}{partial}",
        ],
        default=f"CV above {cut_y:g}{partial}",
    )
    if covered == 0:
        cls = np.full(len(series), None, dtype=object)
        reason = np.full(len(series), "the window ends before the data start", dtype=object)
    out = pd.DataFrame(
        {
            "months": np.full(len(mean), covered, dtype="int64"),
            "mean": mean.to_numpy(dtype="float64"),
            "std": std.to_numpy(dtype="float64"),
            "cv": cv.to_numpy(dtype="float64"),
            "xyz_class": pd.array(cls, dtype="string"),
            "reason": pd.array(reason, dtype="string"),
        },
        index=mean.index,
    ).reset_index()
    return out


def abc_xyz(
    abc_classes: pd.DataFrame,
    xyz_classes: pd.DataFrame,
    *,
    keys: str | Sequence[str] = "customer_id",
    value: str = "net_value",
) -> pd.DataFrame:
    """The ABC × XYZ matrix: items and value in each of the nine cells.

    `abc_classes` is the result of :func:`kamlab.classify.abc` and `xyz_classes` that of
    :func:`xyz`, both on the same `keys`. An item found in only one of them is left out and
    counted in ``result.attrs["excluded"]`` (reason: which class it lacks). Every cell is
    present, empty ones with 0 items and 0 value; ``value_share`` is the cell's share of
    the matrix's positive value (NaN if the matrix holds no positive value).

    Returns nine rows: ``abc_class``, ``xyz_class``, ``items``, `value`, ``value_share``.

    >>> a = pd.DataFrame({"customer_id": ["p", "q"], "net_value": [90.0, 10.0],
    ...                   "abc_class": ["A", "C"]})
    >>> x = pd.DataFrame({"customer_id": ["p", "q"], "xyz_class": ["X", "X"]})
    >>> m = abc_xyz(a, x)
    >>> m[m["items"] > 0].to_string(index=False)
    'abc_class xyz_class  items  net_value  value_share\\n        A         X      1       90.0          0.9\\n        C         X      1       10.0          0.1'
    """
    keys = [keys] if isinstance(keys, str) else list(keys)
    _require(abc_classes, [*keys, value, "abc_class"], "abc_xyz")
    _require(xyz_classes, [*keys, "xyz_class"], "abc_xyz")
    both = _bare(abc_classes)[[*keys, value, "abc_class"]].merge(
        _bare(xyz_classes)[[*keys, "xyz_class"]], on=keys, how="outer", indicator=True
    )
    only_abc = int((both["_merge"] == "left_only").sum())
    only_xyz = int((both["_merge"] == "right_only").sum())
    both = both[both["_merge"] == "both"]
    positive = both[value].clip(lower=0)
    cells = (
        both.assign(_v=positive)
        .groupby(["abc_class", "xyz_class"], observed=True)
        .agg(items=("_v", "size"), _v=("_v", "sum"))
    )
    grid = pd.MultiIndex.from_product([["A", "B", "C"], ["X", "Y", "Z"]], names=cells.index.names)
    cells = cells.reindex(grid, fill_value=0)
    total = float(cells["_v"].sum())
    out = pd.DataFrame(
        {
            "items": cells["items"].astype("int64"),
            value: cells["_v"].astype("float64"),
            "value_share": cells["_v"] / total if total > 0 else np.nan,
        }
    ).reset_index()
    out["abc_class"] = out["abc_class"].astype("string")
    out["xyz_class"] = out["xyz_class"].astype("string")
    out.attrs["excluded"] = Exclusions(
        pd.DataFrame(
            {
                "table": ["abc_classes", "xyz_classes"],
                "reason": ["item has no XYZ class", "item has no ABC class"],
                "rows": [only_abc, only_xyz],
            }
        )
    )
    return out
