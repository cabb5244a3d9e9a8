"""Forecast lag: how many months ahead of its snapshot a forecast figure looks.

The one definition used by every kamlab module (../shared/DOMAIN.md, "Forecast lag").
"""

from __future__ import annotations

import pandas as pd

__all__ = ["forecast_lag"]


def _month_ordinal(value: pd.Series | pd.Timestamp | pd.Period | str) -> pd.Series | int:
    """Months since 1970-01 of a date, month Period, or a Series of either."""
    if isinstance(value, pd.Series):
        if isinstance(value.dtype, pd.PeriodDtype):
            return value.dt.asfreq("M").array.asi8.astype("int64")
        months = pd.to_datetime(value).dt.to_period("M")
        return months.array.asi8.astype("int64")
    if isinstance(value, pd.Period):
        return value.asfreq("M").ordinal
    return pd.Timestamp(value).to_period("M").ordinal


def forecast_lag(
    snapshot_date: pd.Series | pd.Timestamp | str,
    period: pd.Series | pd.Period | str,
) -> pd.Series | int:
    """Lag in months = target month − snapshot month.

    .. math:: lag = t - s

    where *t* is the target month (`period`) and *s* the calendar month of `snapshot_date`.
    Lag 1 is the month after the snapshot month.

    **Information convention** (the one place it is defined; the statistical backtest and
    :func:`kamlab.accuracy.naive_snapshots` follow it): a month's actual is known from the
    last day of that month on. A snapshot dated the last day of month *s* therefore knows
    month *s* — a statistical snapshot made with data through *s* is dated so, and its lag
    equals its forecast horizon — whereas a snapshot dated earlier in *s* knows months up to
    *s* − 1 only: a customer forecast sent on 12 March for May has lag 2 and was made knowing
    February, so its naive benchmark is February's actual. A target month before the snapshot month gives a negative lag (the caller decides
    what to do with it; :func:`kamlab.accuracy.score` excludes and counts such rows).

    Works on scalars (returns ``int``) and on Series (returns an ``int64`` Series aligned with
    `period`'s index; a missing date or period gives ``<NA>`` in an ``Int64`` Series).

    >>> forecast_lag("2024-03-12", pd.Period("2024-05", "M"))
    2
    >>> forecast_lag(pd.Series(pd.to_datetime(["2024-03-31", "2024-03-31"])),
    ...              pd.Series(pd.period_range("2024-04", periods=2, freq="M"))).tolist()
    [1, 2]
    """
    if isinstance(snapshot_date, pd.Series) or isinstance(period, pd.Series):
        index = period.index if isinstance(period, pd.Series) else snapshot_date.index
        s = (
            pd.Series(snapshot_date, index=index)
            if not isinstance(snapshot_date, pd.Series)
            else snapshot_date
        )
        p = (
            period
            if isinstance(period, pd.Series)
            else pd.Series(pd.Period(period, "M"), index=index)
        )
        missing = s.isna().to_numpy() | p.isna().to_numpy()
        lag = _month_ordinal(p) - _month_ordinal(s)
        out = pd.Series(lag, index=index, dtype="int64", name="lag")
        return out.astype("Int64").mask(missing) if missing.any() else out
    p = period if isinstance(period, pd.Period) else pd.Period(period, "M")
    return int(_month_ordinal(p) - _month_ordinal(snapshot_date))
