"""Bias alerts: series whose forecasts sit persistently above or below demand."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.accuracy.scoring import _SERIES, _attach, _plain, pair_forecasts, score_pairs
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions

__all__ = ["bias_alerts"]

_A = DEFAULTS.accuracy


def bias_alerts(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame | None,
    *,
    by: Sequence[str] | None = None,
    keys: Sequence[str] = _SERIES,
    source: str = "customer",
    lags: Sequence[int] = _A.bias_lags,
    window: int = _A.tracking_signal_window,
    limit: float = _A.tracking_signal_limit,
    as_of: pd.Period | str | None = None,
    materials: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Tracking signal of `source`'s forecasts per group and lag over the last `window` months.

    .. math:: TS = \\frac{\\sum_t (y_t - f_t)}{MAD}

    over the target months (as_of − window, as_of] (`as_of` default: the last actual month),
    :func:`kamlab.accuracy.tracking_signal` (Brown 1959). |TS| > `limit` (default 4, from
    ``AccuracySettings``) flags persistent bias: with a 6-month window it takes errors of
    mostly one sign. TS > 0 means actuals above forecast (**under-forecast**), TS < 0
    **over-forecast**. The size is given both as relative bias Σ(f − y)/Σy
    (:func:`kamlab.accuracy.bias`, + = over) and as the quantity Σ(f − y).

    `keys` name a series (default customer × material); `by` (default: `keys`) groups the
    alerts. `pairs` (from :func:`kamlab.accuracy.pair_forecasts` over the same `keys` and
    as_of) skips pairing again: its points of `source`, `lags` and the window are used, and
    its exclusions for `source` are reported; `forecasts` may then be None.

    Returns *by, lag, n_points, tracking_signal, bias, bias_quantity, note (why bias or TS
    is NaN, e.g. no actual demand in the window), alert (bool), direction ("over-forecast" /
    "under-forecast" / "none"), sorted alerts first by |TS|.
    Pairing exclusions are in ``attrs["excluded"]``.

    >>> actuals = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "period": pd.period_range("2024-01", periods=6, freq="M"), "quantity": 10.0})
    >>> fc = pd.DataFrame({"customer_id": "C1", "material_id": "M1", "source": "customer",
    ...     "snapshot_date": pd.period_range("2023-12", periods=6, freq="M").to_timestamp(),
    ...     "period": pd.period_range("2024-01", periods=6, freq="M"), "quantity": 13.0})
    >>> r = bias_alerts(actuals, fc).iloc[0]
    >>> float(r["tracking_signal"]), float(r["bias"]), bool(r["alert"]), r["direction"]
    (-6.0, 0.3, True, 'over-forecast')
    """
    actuals = _plain(actuals)
    keys = list(keys)
    by = keys if by is None else list(by)
    last = pd.Period(as_of, "M") if as_of is not None else actuals["period"].max()
    first = last - (window - 1)
    if pairs is None:
        forecasts = _plain(forecasts)
        fc = forecasts[
            (forecasts["source"] == source)
            & (forecasts["period"] >= first)
            & (forecasts["period"] <= last)
        ]
        pairs = pair_forecasts(actuals, fc, keys=keys, lags=lags, materials=materials, as_of=last)
        excluded = pairs.attrs["excluded"]
    else:
        excluded = pairs.attrs.get("excluded")
        if excluded is not None:
            excluded = excluded[excluded["source"] == source]
        pairs = pairs[
            (pairs["source"] == source)
            & (pairs["period"] >= first)
            & (pairs["period"] <= last)
            & pairs["lag"].isin([int(x) for x in lags])
        ]
    group = [*by, "source", "lag"]
    scored = score_pairs(
        pairs,
        by=by,
        keys=keys,
        metrics=["tracking_signal", "bias"],
        pooling=["volume"],
        materials=materials,
        customers=customers,
    )
    wide = scored.set_index([*group, "metric"])["value"].unstack("metric")
    wide = wide.reindex(columns=["tracking_signal", "bias"])
    n = scored.groupby(group, dropna=False, observed=True, sort=True)["n_points"].first()
    note = scored.set_index([*group, "metric"])["note"].unstack("metric")
    note = note.reindex(columns=["tracking_signal", "bias"])
    data = _attach(_plain(pairs), by, materials, customers)
    qty = (
        (data["forecast"] - data["actual"])
        .groupby([data[k] for k in group], dropna=False, observed=True)
        .sum()
    )
    out = pd.DataFrame(
        {
            "n_points": n,
            "tracking_signal": wide["tracking_signal"],
            "bias": wide["bias"],
            "bias_quantity": qty.reindex(n.index),
            "note": note["bias"].reindex(n.index).combine_first(note["tracking_signal"]),
        }
    ).reset_index()
    out["n_points"] = out["n_points"].astype("int64")
    ts = out["tracking_signal"]
    out["alert"] = ts.abs() > limit
    out["direction"] = np.where(
        ~out["alert"], "none", np.where(ts < 0, "over-forecast", "under-forecast")
    )
    out = out.assign(_abs=ts.abs()).sort_values(
        ["alert", "_abs"], ascending=[False, False], ignore_index=True
    )
    out = out.drop(columns=["_abs", "source"])
    if excluded is not None:
        out.attrs["excluded"] = Exclusions(excluded)
    return out
