"""Accuracy by lag per target month: the series behind waterfall and trend charts."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from kamlab.accuracy.scoring import _plain, score
from kamlab.config import DEFAULTS

__all__ = ["accuracy_trend"]

_A = DEFAULTS.accuracy


def accuracy_trend(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    lags: Sequence[int] = _A.lags,
    metric: str = "accuracy",
    months: int = _A.trend_months,
    as_of: pd.Period | str | None = None,
    materials: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    keys: Sequence[str] = ("customer_id", "material_id"),
) -> pd.DataFrame:
    """`metric` (volume-pooled) per target month × source × lag over the last `months` months.

    The window ends at `as_of` (default: the last actual month) and covers `months` target
    months (12–24 for the monthly pack); forecasts for earlier target months are outside the
    window and not scored. Each row is one point of a trend line (x = period, one line per
    lag) or one cell of a waterfall (rows = target month, columns = lag). Scoring rules,
    exclusions (``attrs["excluded"]``), series `keys` and units are those of
    :func:`kamlab.accuracy.score`.

    Returns *by, period, source, lag, metric, value, n_points, note.

    >>> actuals = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "period": pd.period_range("2024-01", periods=3, freq="M"), "quantity": [10.0, 8.0, 4.0]})
    >>> forecasts = pd.DataFrame({"customer_id": "C1", "material_id": "M1", "source": "customer",
    ...     "snapshot_date": pd.to_datetime(["2024-01-05", "2024-02-05"]),
    ...     "period": pd.PeriodIndex(["2024-02", "2024-03"], freq="M"), "quantity": [10.0, 5.0]})
    >>> accuracy_trend(actuals, forecasts, lags=[1])[["period", "lag", "value"]].to_string(index=False)
    ' period  lag  value\\n2024-02    1   0.75\\n2024-03    1   0.75'
    """
    last = pd.Period(as_of, "M") if as_of is not None else actuals["period"].max()
    first = last - (months - 1)
    forecasts = _plain(forecasts)
    window = forecasts[(forecasts["period"] >= first) & (forecasts["period"] <= last)]
    out = score(
        actuals,
        window,
        by=[*by, "period"],
        lags=lags,
        metrics=[metric],
        pooling="volume",
        materials=materials,
        customers=customers,
        as_of=last,
        keys=keys,
    )
    return out[[*by, "period", "source", "lag", "metric", "value", "n_points", "note"]]
