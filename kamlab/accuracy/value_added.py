"""Forecast Value Added: does each step of the forecast process beat the one before it?"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from kamlab.accuracy.scoring import (
    _SERIES,
    _codes,
    _excluded,
    _plain,
    naive_scales,
    pair_forecasts,
    score_pairs,
)
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions

__all__ = ["fva_league", "value_added"]

_A = DEFAULTS.accuracy
# error metrics FVA may compare, and the factor turning their difference into points
_FACTOR = {"wape": 100.0, "mape": 1.0, "smape": 1.0, "mae": 1.0, "rmse": 1.0, "mase": 1.0}


def value_added(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame | None,
    *,
    by: Sequence[str] = ("customer_id",),
    keys: Sequence[str] = _SERIES,
    lags: Sequence[int] = _A.lags,
    metric: str = _A.fva_metric,
    steps: Sequence[str] = _A.fva_steps,
    materials: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    as_of: pd.Period | str | None = None,
    pairs: pd.DataFrame | None = None,
    scales: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Error of each forecast step side by side per group and lag, with the value each step adds.

    .. math:: FVA(B \\text{ over } A) = error(A) - error(B)

    on the same points (Gilliland 2010, *The Business Forecasting Deal*, ch. 5; DOMAIN.md):
    only points (series `keys` — default customer × material —, target month, lag) that
    every step in `steps` forecast are compared; the others are counted in ``attrs["excluded"]`` ("not forecast by every
    step"). `steps` are sources in process order (default naive → customer → statistical).
    Error = `metric` pooled by volume (WAPE by default). FVA is in points: percentage points
    for WAPE (×100), the metric's own unit otherwise (MAPE/sMAPE already in %). **Positive
    FVA = step B has the smaller error, i.e. it adds value**; negative = it makes the
    forecast worse.

    `pairs` (from :func:`kamlab.accuracy.pair_forecasts` over the same `keys`, lags and
    as_of) skips pairing again: its points of `steps` and `lags` are used, and its
    exclusions for those sources are reported; `forecasts` may then be None. `scales`
    (:func:`kamlab.accuracy.naive_scales`) likewise for MASE.

    Returns *by, lag, n_points, error_<step> for each step, fva_<B>_vs_<A> for each pair of
    steps in order.

    >>> actuals = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "period": pd.period_range("2024-01", periods=2, freq="M"), "quantity": [10.0, 20.0]})
    >>> fc = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "snapshot_date": pd.Timestamp("2024-01-31"), "period": pd.Period("2024-02", "M"),
    ...     "quantity": [10.0, 18.0], "source": ["naive", "customer"]})
    >>> v = value_added(actuals, fc, steps=["naive", "customer"])
    >>> v[["lag", "error_naive", "error_customer", "fva_customer_vs_naive"]].to_string(index=False)
    ' lag  error_naive  error_customer  fva_customer_vs_naive\\n   1          0.5             0.1                   40.0'
    """
    if metric not in _FACTOR:
        raise ValueError(f"value_added: metric must be one of {list(_FACTOR)}, got {metric!r}")
    actuals = _plain(actuals)
    keys = list(keys)
    steps = list(steps)
    if len(steps) < 2:
        raise ValueError(f"value_added: steps needs at least two sources, got {steps}")
    if pairs is None:
        forecasts = _plain(forecasts)
        pairs = pair_forecasts(
            actuals,
            forecasts[forecasts["source"].isin(steps)],
            keys=keys,
            lags=lags,
            materials=materials,
            as_of=as_of,
        )
        excluded = [pairs.attrs["excluded"]]
    else:
        ex = pairs.attrs.get("excluded")
        excluded = [] if ex is None else [ex[ex["source"].isin(steps)]]
        pairs = pairs[pairs["source"].isin(steps) & pairs["lag"].isin([int(x) for x in lags])]
    # a point counts when every step forecast it: distinct sources per series x month x lag
    point = _codes(*(pairs[k] for k in keys), pairs["period"].array.asi8, pairs["lag"])
    point_source = _codes(point, pairs["source"])
    distinct = np.unique(point_source, return_index=True)[1]
    n_steps = np.bincount(point[distinct], minlength=point.max() + 1 if len(point) else 0)[point]
    common = pairs[n_steps == len(steps)]
    rest = pairs[n_steps != len(steps)].rename(columns={"forecast": "quantity"})
    excluded.append(_excluded(rest, "not forecast by every step"))
    if metric == "mase" and scales is None:
        last = pd.Period(as_of, "M") if as_of is not None else actuals["period"].max()
        scales = naive_scales(actuals, keys=keys, season_length=_A.season_length, as_of=last)
    scored = score_pairs(
        common,
        by=by,
        keys=keys,
        metrics=[metric],
        pooling=["volume"],
        materials=materials,
        customers=customers,
        scales=scales if metric == "mase" else None,
    )
    group = [*by, "lag"]
    wide = scored.set_index([*group, "source"])["value"].unstack("source").reindex(columns=steps)
    wide.columns = [f"error_{s}" for s in steps]
    n = scored.groupby(group, dropna=False, observed=True)["n_points"].first().rename("n_points")
    out = pd.concat([n, wide], axis=1)
    for a, b in combinations(steps, 2):
        out[f"fva_{b}_vs_{a}"] = (out[f"error_{a}"] - out[f"error_{b}"]) * _FACTOR[metric]
    out = out.reset_index()
    nonempty = [e for e in excluded if not e.empty]
    out.attrs["excluded"] = Exclusions(
        pd.concat(nonempty, ignore_index=True) if nonempty else excluded[-1]
    )
    out.attrs["metric"] = metric
    return out


def fva_league(fva: pd.DataFrame, *, lag: int = 1, column: str | None = None) -> pd.DataFrame:
    """Portfolio league table: groups of :func:`value_added` at one `lag`, best FVA first.

    `column` defaults to the value of the second step over the first (customer vs naive with
    the default steps). Adds ``rank`` (1 = most value added; ties share the better rank) and
    ``adds_value`` (FVA > 0); groups whose FVA is undefined (NaN) come last, unranked.

    >>> fva = pd.DataFrame({"customer_id": ["C1", "C2"], "lag": 1, "n_points": 4,
    ...     "fva_customer_vs_naive": [-5.0, 12.0]})
    >>> fva_league(fva)[["customer_id", "rank", "adds_value"]].to_string(index=False)
    'customer_id  rank  adds_value\\n         C2     1        True\\n         C1     2       False'
    """
    col = column or next(c for c in fva.columns if c.startswith("fva_"))
    out = fva[fva["lag"] == lag].sort_values(col, ascending=False, na_position="last")
    out = out.assign(
        rank=out[col].rank(ascending=False, method="min").astype("Int64"),
        adds_value=(out[col] > 0).astype("boolean").mask(out[col].isna()),
    )
    return out.reset_index(drop=True)
