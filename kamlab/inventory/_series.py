"""Long frames <-> series × month matrices (the vectorised core of the inventory modules)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DAYS_PER_MONTH", "bare", "key_index", "month_matrix", "with_category_keys"]

DAYS_PER_MONTH = 365.25 / 12  # lead times in days become months with this


def bare(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` without its ``attrs`` (pandas compares attrs on merge; callers' attrs vary)."""
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


def with_category_keys(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """`frame` with its `keys` as categoricals: every later key lookup on it is an integer take
    (worth it for a frame looked up several times, such as a forecast of millions of rows)."""
    out = bare(frame)
    for k in keys:
        if not isinstance(out[k].dtype, pd.CategoricalDtype):
            out[k] = out[k].astype("category")
    return out


def _arrow_text(values) -> pa.Array:
    array = pa.array(np.asarray(values, dtype=object) if isinstance(values, np.ndarray) else values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.large_string())


def _column_codes(frame_values: pd.Series, series_values: pd.Series):
    """(code of each frame value, code of each series value, number of codes); -1 = absent."""
    if isinstance(series_values.dtype, pd.CategoricalDtype):
        uniques = series_values.cat.categories
        series_code = series_values.cat.codes.to_numpy().astype("int64")
    else:
        series_code, uniques = pd.factorize(series_values)
    value_set = _arrow_text(uniques)
    if isinstance(frame_values.dtype, pd.CategoricalDtype):
        where = pc.index_in(_arrow_text(frame_values.cat.categories), value_set=value_set)
        where = where.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")
        codes = frame_values.cat.codes.to_numpy()
        frame_code = np.where(codes >= 0, where[np.maximum(codes, 0)], -1)
    else:
        found = pc.index_in(_arrow_text(frame_values), value_set=value_set)
        frame_code = found.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")
    return frame_code, series_code.astype("int64"), len(uniques) + 1


def key_index(frame: pd.DataFrame, keys: Sequence[str], series: pd.DataFrame) -> np.ndarray:
    """Row of `series` (unique `keys`) for each row of `frame`; -1 where absent.

    Keys are coded column by column (Arrow's hash lookup; categoricals by their categories),
    combined into one integer and looked up in an integer index, so no tuple of strings is
    ever hashed per row.
    """
    if len(series) == 0 or len(frame) == 0:
        return np.full(len(frame), -1, dtype="int64")
    frame_code = np.zeros(len(frame), dtype="int64")
    series_code = np.zeros(len(series), dtype="int64")
    missing = np.zeros(len(frame), dtype=bool)
    for k in keys:
        f_code, s_code, size = _column_codes(frame[k], series[k])
        missing |= f_code < 0
        frame_code = frame_code * size + f_code
        series_code = series_code * size + s_code
    out = pd.Index(series_code).get_indexer(frame_code)
    out[missing] = -1
    return out


def month_matrix(
    frame: pd.DataFrame,
    series: pd.DataFrame,
    *,
    keys: Sequence[str],
    first: pd.Period,
    months: int,
    period: str = "period",
    value: str = "quantity",
    with_rows: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sum of `value` per row of `series` × month `first` … `first`+`months`-1 (zeros elsewhere).

    Rows of `frame` outside the series or the months are not in the matrix (the callers say
    which months they look at). `with_rows`: also the number of `frame` rows in each cell
    (a cell with rows summing to 0 is not a cell without rows).
    """
    shape = (len(series), max(months, 0))
    if frame.empty or months <= 0 or series.empty:
        return (np.zeros(shape), np.zeros(shape, "int64")) if with_rows else np.zeros(shape)
    row = key_index(frame, keys, series)
    col = frame[period].array.asi8 - first.ordinal
    ok = (row >= 0) & (col >= 0) & (col < months)
    values = frame[value].to_numpy(dtype="float64", na_value=0.0)
    cell = row[ok] * months + col[ok]
    flat = np.bincount(cell, values[ok], minlength=len(series) * months)
    if not with_rows:
        return flat.reshape(shape)
    return flat.reshape(shape), np.bincount(cell, minlength=len(series) * months).reshape(shape)
