"""Coverage: how many months the stock lasts against a forecast (statistical or customer's)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.inventory._series import month_matrix

__all__ = ["months_of_stock", "stock_coverage"]

NO_DEMAND = "no forecast demand: the stock is never used up"


def months_of_stock(stock: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Months of forecast demand `stock` covers, walking forward month by month.

    .. math::

        c = k + \\frac{S - F_k}{f_{k+1}}, \\qquad F_k = \\sum_{j \\le k} f_j \\le S < F_{k+1}

    for stock *S* and monthly forecasts *f₁ … f_h* (rows of `forecast`, one per series): the
    forward version of the countback used for DSO, so a seasonal peak or a phase-out taper is
    taken as forecast rather than averaged away ("days of supply"). Stock left after the horizon is used at the horizon's mean monthly rate; with
    no forecast demand at all, positive stock covers ``inf`` months (stated, not a division
    error). No stock covers 0 months. Unit: months.

    >>> months_of_stock(np.array([150.0, 5.0, 0.0]), np.array([[100.0, 100.0]] * 2 + [[0, 1.0]]))
    array([1.5 , 0.05, 0.  ])
    >>> months_of_stock(np.array([300.0, 1.0]), np.array([[100.0, 100.0], [0.0, 0.0]]))
    array([ 3., inf])
    """
    stock = np.asarray(stock, dtype="float64")
    forecast = np.clip(np.nan_to_num(np.asarray(forecast, dtype="float64")), 0.0, None)
    n, h = forecast.shape
    cum = np.cumsum(forecast, axis=1)
    full = (cum <= stock[:, None]).sum(axis=1)
    rows = np.arange(n)
    used = np.where(full > 0, cum[rows, np.maximum(full - 1, 0)], 0.0) if h else np.zeros(n)
    inside = full < h
    nxt = forecast[rows, np.minimum(full, h - 1)] if h else np.zeros(n)
    total = cum[:, -1] if h else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        within = full + (stock - used) / nxt
        beyond = np.where(total > 0, h + (stock - total) / (total / max(h, 1)), np.inf)
    out = np.where(inside, within, beyond)
    return np.where(stock > 0, out, 0.0)


def stock_coverage(
    position: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    start: pd.Period | str,
    horizon: int = 12,
    keys: Sequence[str] = ("material_id", "plant"),
    stock: str = "usable",
    period: str = "period",
    value: str = "forecast",
) -> pd.DataFrame:
    """Months of stock per row of `position` against `forecast` for `horizon` months from `start`.

    `forecast` is a long frame (`keys`, `period`, `value`): the statistical forecast, or the
    customer's (summed over customers, latest snapshot). Months without a forecast row are
    zero. See :func:`months_of_stock` for the definition.

    Returns `keys`, ``stock`` (the `stock` column), ``forecast_total`` (over the horizon),
    ``coverage_months`` (``inf`` when nothing is forecast) and ``coverage_note`` (says so).
    """
    keys = list(keys)
    start = pd.Period(start, "M")
    series = position[keys].reset_index(drop=True)
    matrix = month_matrix(
        forecast, series, keys=keys, first=start, months=horizon, period=period, value=value
    )
    held = position[stock].to_numpy(dtype="float64", na_value=0.0)
    months = months_of_stock(held, matrix)
    out = series.assign(stock=held, forecast_total=matrix.sum(axis=1), coverage_months=months)
    out["coverage_note"] = np.where(np.isinf(months), NO_DEMAND, "")
    return out
