"""Naive forecast snapshots: the no-effort benchmark every forecast must beat (FVA's first step)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.accuracy.scoring import _plain
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions

__all__ = ["naive_snapshots"]

_A = DEFAULTS.accuracy
_SERIES = ["customer_id", "material_id"]


def naive_snapshots(
    actuals: pd.DataFrame,
    *,
    snapshot_dates: Sequence[pd.Timestamp] | pd.Series | pd.DataFrame | None = None,
    lags: Sequence[int] = _A.lags,
    seasonal: bool = False,
    season_length: int = _A.season_length,
) -> pd.DataFrame:
    """Naive forecasts shaped like customer forecasts, one snapshot per date in `snapshot_dates`.

    For a snapshot dated in month *s* and target month *t = s + lag*, the naive forecast uses
    exactly the actuals known at the snapshot date, under the convention of
    :func:`kamlab.accuracy.forecast_lag` (a month's actual is known from its last day on). Let
    *b* be the last month known at the snapshot: *b = s* for a snapshot dated the last day of
    *s* (the date the statistical backtest gives a snapshot made with data through *s*), else
    *b = s − 1* (a forecast sent on 12 March knows February, not March). Then:

    * naive (``seasonal=False``): *f_t = y_b*;
    * seasonal naive: *f_t = y_{t−km}*, the same month *k* seasons earlier with the smallest
      k ≥ 1 such that *t − km ≤ b* (m = `season_length`, 12 for months).

    So a month-end snapshot's lag 1 is a one-step-ahead naive, like the statistical snapshot
    and a customer forecast sent that day; a mid-month snapshot's lag 1 is two steps ahead of
    its latest actual, as it is for the customer forecast sent that day.

    Source: Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.), §5.2;
    the naive step of Forecast Value Added analysis (Gilliland 2010).

    `actuals` is monthly demand (customer_id, material_id, period, quantity); a month inside
    the actuals' range without a row counts as 0 demand. A series gets forecasts only from
    snapshots that know its first actual month (it is not known before). `snapshot_dates`
    default: the last day of every month from the first actual month to the last one; a
    frame with customer_id and snapshot_date gives each customer its own snapshot dates —
    pass the customer forecasts' (customer_id, snapshot_date) pairs to benchmark them, since
    a plain list of all customers' dates would give every series one snapshot per date and
    :func:`~kamlab.accuracy.score` would then drop all but the latest of each month as
    superseded. A snapshot whose last known month *b* lies outside the actuals raises
    ``ValueError``.
    Seasonal rows
    whose source month precedes the actuals are left out and counted in
    ``attrs["excluded"]``.

    Returns customer_id, material_id, snapshot_date, period, quantity, source (``"naive"`` or
    ``"seasonal naive"``). ``attrs["excluded"]`` is set only when rows were left out, since
    pandas cannot ``concat`` two frames whose attrs both hold a DataFrame.

    >>> actuals = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "period": pd.period_range("2024-01", periods=3, freq="M"), "quantity": [4.0, 6.0, 5.0]})
    >>> naive_snapshots(actuals, snapshot_dates=[pd.Timestamp("2024-03-10")], lags=[1, 2])[
    ...     ["period", "quantity"]].to_string(index=False)
    ' period  quantity\\n2024-04       6.0\\n2024-05       6.0'
    >>> naive_snapshots(actuals, snapshot_dates=[pd.Timestamp("2024-03-31")], lags=[1])[
    ...     ["period", "quantity"]].to_string(index=False)
    ' period  quantity\\n2024-04       5.0'
    """
    a = _plain(actuals)[[*_SERIES, "period", "quantity"]]
    source = "seasonal naive" if seasonal else "naive"
    columns = [*_SERIES, "snapshot_date", "period", "quantity", "source"]
    if a.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    month = a["period"].array.asi8
    first, last = int(month.min()), int(month.max())
    if snapshot_dates is None:
        months = pd.period_range(
            pd.Period(ordinal=first, freq="M"), pd.Period(ordinal=last, freq="M"), freq="M"
        )
        dates = months.to_timestamp(how="end").normalize()
        per_customer = None
    elif isinstance(snapshot_dates, pd.DataFrame):
        per_customer = _plain(snapshot_dates)[["customer_id", "snapshot_date"]].drop_duplicates()
        when = pd.to_datetime(per_customer["snapshot_date"])
        dates = pd.DatetimeIndex(when).unique()
        per_customer = per_customer.assign(_s=dates.get_indexer(when))
    else:
        dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(snapshot_dates))).unique()
        per_customer = None
    snap = dates.to_period("M").asi8
    known_through_s = np.asarray(dates.normalize().is_month_end)
    base = np.where(known_through_s, snap, snap - 1)  # the last month known at the date
    outside = (base < first) | (base > last)
    if outside.any():
        raise ValueError(
            "naive_snapshots: the last month known at a snapshot (its month if dated the "
            "month's last day, else the month before) must lie within the actuals "
            f"({pd.Period(ordinal=first, freq='M')} … {pd.Period(ordinal=last, freq='M')}); "
            f"got snapshot dates {list(dates[outside].strftime('%Y-%m-%d'))}"
        )
    codes, uniques = pd.MultiIndex.from_frame(a[_SERIES]).factorize()
    grid = np.zeros((len(uniques), last - first + 1))
    grid[codes, month - first] = a["quantity"].to_numpy("float64")
    start = np.full(len(uniques), last + 1, dtype="int64")
    np.minimum.at(start, codes, month)

    lags_arr = np.asarray(list(lags), dtype="int64")
    if per_customer is None:
        s_idx, c_idx = np.nonzero(start[None, :] <= base[:, None])  # snapshot × known series
    else:  # each series × its own customer's snapshots
        series = pd.DataFrame(
            {"customer_id": uniques.get_level_values(0), "_c": np.arange(len(uniques))}
        )
        pairs = series.merge(per_customer[["customer_id", "_s"]], on="customer_id")
        s_idx, c_idx = pairs["_s"].to_numpy(), pairs["_c"].to_numpy()
        known = start[c_idx] <= base[s_idx]
        s_idx, c_idx = s_idx[known], c_idx[known]
    n = len(s_idx)
    s_idx = np.repeat(s_idx, len(lags_arr))
    c_idx = np.repeat(c_idx, len(lags_arr))
    lag = np.tile(lags_arr, n)
    target = snap[s_idx] + lag
    if seasonal:
        k = -(-(target - base[s_idx]) // season_length)  # smallest k with target − k·m ≤ b
        src = target - k * season_length
    else:
        src = base[s_idx]
    ok = src >= first
    excluded = pd.DataFrame(
        {
            "table": ["forecasts"],
            "source": [source],
            "reason": ["no actual a season before the target month"],
            "rows": [int((~ok).sum())],
        }
    )
    s_idx, c_idx, target, src = s_idx[ok], c_idx[ok], target[ok], src[ok]
    keys = uniques[c_idx].to_frame(index=False, name=_SERIES)
    out = keys.assign(
        snapshot_date=dates[s_idx],
        period=pd.PeriodIndex.from_ordinals(target, freq="M"),
        quantity=grid[c_idx, src - first],
        source=source,
    )
    out = out[columns]
    if not ok.all():  # only then: two frames whose attrs hold DataFrames cannot be concatenated
        out.attrs["excluded"] = Exclusions(excluded)
    return out
