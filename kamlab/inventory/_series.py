"""Long frames <-> series × month matrices (the vectorised core of the inventory modules)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["DAYS_PER_MONTH", "bare", "key_index", "month_matrix"]

DAYS_PER_MONTH = 365.25 / 12  # lead times in days become months with this


def bare(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` without its ``attrs`` (pandas compares attrs on merge; callers' attrs vary)."""
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


def key_index(frame: pd.DataFrame, keys: Sequence[str], series: pd.DataFrame) -> np.ndarray:
    """Row of `series` (unique `keys`) for each row of `frame`; -1 where absent."""
    if len(keys) == 1:
        return pd.Index(series[keys[0]]).get_indexer(frame[keys[0]])
    index = pd.MultiIndex.from_frame(series[list(keys)])
    return index.get_indexer(pd.MultiIndex.from_frame(frame[list(keys)]))


def month_matrix(
    frame: pd.DataFrame,
    series: pd.DataFrame,
    *,
    keys: Sequence[str],
    first: pd.Period,
    months: int,
    period: str = "period",
    value: str = "quantity",
) -> np.ndarray:
    """Sum of `value` per row of `series` × month `first` … `first`+`months`-1 (zeros elsewhere).

    Rows of `frame` outside the series or the months are not in the matrix (the callers say
    which months they look at).
    """
    if frame.empty or months <= 0 or series.empty:
        return np.zeros((len(series), max(months, 0)))
    row = key_index(frame, keys, series)
    col = frame[period].array.asi8 - first.ordinal
    ok = (row >= 0) & (col >= 0) & (col < months)
    values = frame[value].to_numpy(dtype="float64", na_value=0.0)
    flat = np.bincount(row[ok] * months + col[ok], values[ok], minlength=len(series) * months)
    return flat.reshape(len(series), months)
