"""statsforecast peers for the forecast benchmarks, run once and cached under benchmarks/.cache/.

Each (data set, model) pair is fitted alone on all cores after an untimed warm-up call that
compiles its numba code; its point forecasts, 80/95 % bounds, wall time and CPU time (this
process plus its worker processes) go to ``benchmarks/.cache/<data set>-<model>.npz``. A rerun
reads the file instead of fitting again; delete the file (or pass ``refresh=True``) to refit.
The cache key includes the number of series and the horizon, so a different subset refits.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from statsforecast.models import AutoCES

__all__ = ["WritableAutoCES", "cpu_seconds", "peer_forecasts"]

CACHE = Path(__file__).resolve().parent / ".cache"


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peer_forecasts(
    name: str,
    df: pd.DataFrame,
    model,
    h: int,
    *,
    freq: str,
    levels: tuple[int, ...] = (80, 95),
    refresh: bool = False,
) -> dict[str, np.ndarray | float]:
    """Forecasts of one statsforecast `model` on `df` (unique_id, ds, y), cached.

    Returns ``mean`` and ``lo_<L>``/``hi_<L>`` (series × h, series in sorted unique_id order;
    NaN bounds where the model gives none), ``wall`` and ``cpu`` seconds.
    """
    from statsforecast import StatsForecast

    n = df["unique_id"].nunique()
    alias = str(model)
    path = CACHE / f"{name}-{alias}-n{n}-h{h}.npz"
    if path.exists() and not refresh:
        with np.load(path) as z:
            return {k: (z[k] if z[k].ndim else float(z[k])) for k in z.files}
    warm = df[df["unique_id"].isin(sorted(df["unique_id"].unique())[:2])]
    StatsForecast(models=[model], freq=freq).forecast(h=h, df=warm, level=list(levels))
    sf = StatsForecast(models=[model], freq=freq, n_jobs=os.cpu_count() or 1)
    c0, t0 = cpu_seconds(), time.perf_counter()
    res = sf.forecast(h=h, df=df, level=list(levels)).sort_values(["unique_id", "ds"])
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    out: dict[str, np.ndarray | float] = {"mean": res[alias].to_numpy(float).reshape(n, h)}
    for lv in levels:
        for side in ("lo", "hi"):
            col = f"{alias}-{side}-{lv}"
            out[f"{side}_{lv}"] = (
                res[col].to_numpy(float).reshape(n, h) if col in res else np.full((n, h), np.nan)
            )
    out["wall"], out["cpu"] = wall, cpu
    CACHE.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **out)
    tmp.replace(path)
    return out


class WritableAutoCES(AutoCES):
    """statsforecast AutoCES that copies each series first.

    Under pandas 3 (Copy-on-Write) the arrays statsforecast hands to a model are read-only, and
    AutoCES's numba kernel reverses its input in place (``y[:] = y[::-1]``), which fails to
    compile on a read-only array; a private copy is what that kernel expects.
    """

    def fit(self, y, X=None):
        return super().fit(np.array(y, dtype=float), X)

    def forecast(self, y, h, X=None, X_future=None, level=None, fitted=False):
        return super().forecast(np.array(y, dtype=float), h, X, X_future, level, fitted)
