"""The portfolio's forecast strategy per demand pattern, validated on a stable sample of it.

:func:`kamlab.forecast.forecast` chooses its strategy (:data:`~kamlab.forecast.selection.
STRATEGIES`) over the series it is given. A chain that forecasts a portfolio in customer
chunks must not let each chunk choose: :func:`portfolio_strategy` makes the choice once per
origin on the whole portfolio — on at most `sample` series per pattern, the first by a
BLAKE2b hash of their keys among those validated at the origin, so the same series whatever
the chunking and (a series' hash never changes) mostly the same ones month after month —
and ``forecast(..., strategy=)`` / ``backtest(..., strategy=)`` apply it to any subset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.classify.pattern import PATTERNS, pattern_matrix
from kamlab.config import DEFAULTS
from kamlab.forecast.engine import _decide, _options, _series_matrix
from kamlab.forecast.selection import STRATEGIES, validated_forecast

__all__ = ["SAMPLE", "portfolio_strategy", "series_rank"]

_F = DEFAULTS.forecast
_C = DEFAULTS.classify
SAMPLE = 300  # validated series per pattern and origin (smooth, erratic) that choose


def series_rank(series: pd.DataFrame) -> np.ndarray:
    """Each row's place in the stable sampling order: ascending BLAKE2b hash (8 bytes) of its
    key values joined by a unit separator (the same in every process and run)."""
    text = series.astype("string").fillna("").agg("\x1f".join, axis=1).tolist()
    digest = [
        int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "big")
        for t in text
    ]
    return np.argsort(np.argsort(np.array(digest, dtype=np.uint64), kind="stable"))


def portfolio_strategy(
    demand: pd.DataFrame,
    h: int = _F.horizon,
    *,
    origins: Sequence[pd.Period | str],
    sample: int = SAMPLE,
    keys: Sequence[str] = ("customer_id", "material_id"),
    period: str = "period",
    value: str = "quantity",
    season_length: int = _F.season_length,
    min_seasonal_history: int | None = None,
    min_history: int = _F.min_history,
    adi_cutoff: float = _C.adi_cutoff,
    cv2_cutoff: float = _C.cv2_cutoff,
) -> pd.DataFrame:
    """The strategy of smooth and erratic demand at each of `origins`, chosen on a sample.

    At an origin, each series' history up to it is classified (as :func:`~kamlab.forecast.
    forecast` does); of the smooth and of the erratic series with a validation window
    (at least two half-horizons of history), the first `sample` in :func:`series_rank`
    order are validated with every strategy for horizon `h`, and the choice is
    :func:`kamlab.forecast.engine._choose`'s on them. Only data up to the origin is used.

    Returns one row per origin × pattern (smooth, erratic): ``origin``, ``pattern``,
    ``series`` (validated in the sample; 0: none, the combination stays), the mean
    validation MASE of each strategy, ``strategy``, ``margin %`` and ``t best`` — the
    columns of ``forecast(...).attrs["strategy"]``, which it may be given to.
    """
    keys = list(keys)
    levels, m, min_seasonal, min_history, *_, cutoffs = _options(
        _F.levels,
        season_length,
        min_seasonal_history,
        min_history,
        _F.phaseout_months,
        (_F.tsb_alpha, _F.tsb_beta),
        adi_cutoff,
        cv2_cutoff,
    )
    wanted = sorted({pd.Period(o, "M") if isinstance(o, str) else o for o in origins})
    cols = [f"MASE {s}" for s in STRATEGIES]
    rows: list[dict] = []
    if not wanted:
        return pd.DataFrame(rows, columns=["origin", "pattern", "series", *cols])
    series, Y, end_p, _ = _series_matrix(demand, keys, period, value, wanted[-1])
    rank = series_rank(series) if len(series) else np.zeros(0, dtype=np.int64)
    order = np.argsort(rank)
    T = Y.shape[1]
    half = -(-h // 2)
    for origin in wanted:
        cut = T - (end_p.ordinal - origin.ordinal)
        X = Y[order, : max(cut, 0)]
        alive = np.flatnonzero(~np.isnan(X[:, -1])) if cut > 0 else np.zeros(0, dtype=int)
        X = X[alive]
        _, _, code = pattern_matrix(X, adi_cutoff=cutoffs[0], cv2_cutoff=cutoffs[1])
        n = (~np.isnan(X)).sum(axis=1)
        ok = (n >= max(min_history, 2 * half)) & np.isin(code, (1, 2))
        pick = np.concatenate([np.flatnonzero(ok & (code == c))[:sample] for c in (1, 2)])
        err = np.zeros((0, len(STRATEGIES)))
        if len(pick):
            fit = validated_forecast(X[pick], h, m=m, min_seasonal=min_seasonal, levels=levels)
            err = fit["strategies"]["error"]
        for c in (1, 2):
            mine = err[(code[pick] == c) & np.isfinite(err).all(axis=1)]
            entry = {"series": 0, **dict.fromkeys(cols, np.nan), "strategy": STRATEGIES[0]}
            entry |= {"margin %": 0.0, "t best": 0.0}
            if len(mine):
                entry = _decide(mine)[3]
            rows.append({"origin": origin, "pattern": PATTERNS[c], **entry})
    out = pd.DataFrame(rows)
    out["origin"] = pd.PeriodIndex(out["origin"], freq=end_p.freq)
    out["pattern"] = out["pattern"].astype("string")
    out["strategy"] = out["strategy"].astype("string")
    return out
