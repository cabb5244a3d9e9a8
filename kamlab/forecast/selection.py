"""Model choice by rolling-origin validation inside the training window (smooth demand).

For a batch of right-aligned series (series × periods, all ending at the forecast origin T):

1. **Validation window.** With *n* observed periods and forecast horizon *h*, the validation
   horizon is *v = h* when *n ≥ 2h*, else *v = ⌈h/2⌉* when *n ≥ 2⌈h/2⌉*; shorter series are
   not validated (they get the DOTM+Theta+Damped mean and the reason says so). Origins:
   T − v, T − v + ⌈v/3⌉, T − v + 2⌈v/3⌉ (three, fewer when v < 3); each forecasts up to T,
   so the errors cover every horizon 1 … v, the short ones more often.
2. **What a validation origin may see.** Seasonality (90 % ACF test, at least
   `min_seasonal` periods, i.e. two seasons by default) and the classical multiplicative
   indices are estimated on the history before the *first* origin and used at all three;
   every model's parameters and states at an origin come from the history before it
   (:mod:`kamlab.forecast.candidates`). Nothing after an origin informs its forecast.
3. **Candidates.** The models of :data:`kamlab.forecast.candidates.MODELS` on the seasonally
   adjusted series, on the original scale and — when every value is positive and there are
   at least `min_seasonal` periods — in logs (back-transformed with exp), then
   re-seasonalised; plus seasonal naive, naive and the mean of the raw history.
4. **Validation error**: the mean absolute error over all origins and horizons, scaled by
   the in-sample MAE of the seasonal naive before the first origin (MASE; naive when the
   history is shorter than two seasons).
5. **Choice** (:data:`RULE`): the mean of the :data:`TOP_K` candidates with the lowest
   validation MASE; the decision between per-series selection, this mean and the fixed
   DOTM+Theta+Damped mean was taken on validation scores (benchmarks/forecast_notes.md).
6. **Final forecast**: the chosen candidates refitted on the whole history (seasonality
   re-tested and indices re-estimated on all of it), combined with the same weights.
   Intervals: normal on the scale of the best candidate (in logs: multiplicative) with the
   h-step spread of :func:`kamlab.forecast.candidates.spread`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import norm

from kamlab.forecast import candidates as cd
from kamlab.forecast import smoothing as sm

__all__ = ["RULE", "TOP_K", "validated_forecast"]

# The choice rule and its alternatives, all scored on validation windows of the development
# sets (benchmarks/forecast_notes.md): "fixed" (the DOTM+Theta+Damped mean, in logs where
# allowed) won there against per-series "select", "top_k" means, "margin" (another candidate
# only if it beats the better combination by MARGIN), "transform" (the combination's scale by
# validation) and larger "ensemble" means. The others stay selectable for that comparison.
RULE = "fixed"
TOP_K = 3
MARGIN = 0.8
ENSEMBLE = ("DOTM", "Theta", "Damped")
CALIBRATE = True
WIDEN_ONLY = True  # validation errors may widen, never narrow, the model spread
PRIOR = 0.5  # weight of the model's own spread against the validation errors' spread
_SIMPLE = ("Seasonal naive", "Naive", "Mean")
_SCALES = ("log", "raw")
CANDIDATES = tuple(
    [(name, sc) for sc in _SCALES for name in cd.MODELS] + [(name, "raw") for name in _SIMPLE]
)


def _label(name: str, scale: str) -> str:
    return f"{name} in logs" if scale == "log" and name not in _SIMPLE else name


def _adjustment(
    Y: np.ndarray, m: int, min_seasonal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seasonal flag, indices (rows × m, by column phase) and log eligibility from `Y`."""
    rows = len(Y)
    n = (~np.isnan(Y)).sum(axis=1)
    seasonal = np.zeros(rows, dtype=bool)
    idx = np.ones((rows, max(m, 1)))
    if m > 1:
        test = sm.seasonality_test(Y, m) & (n >= min_seasonal)
        if test.any():
            sidx, ok = sm.seasonal_indices(Y[test], m)
            seasonal[test] = ok
            idx[test] = sidx
    adj = Y / idx[:, np.arange(Y.shape[1]) % max(m, 1)]
    positive = np.nanmin(np.where(np.isnan(adj), np.inf, adj), axis=1) > 0
    return seasonal, idx, positive & (n >= min_seasonal)


def _fit_all(
    Y: np.ndarray,
    h: int,
    stops: list[int],
    m: int,
    idx: np.ndarray,
    logged: np.ndarray,
    scales: tuple[str, ...] = _SCALES,
) -> tuple[dict[tuple[str, str], np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """Every candidate's forecast (stops × rows × h) from each stop, and the fits' statistics.

    Log-scale candidates are NaN for rows not eligible for logs.
    """
    mm = max(m, 1)
    T = Y.shape[1]
    adj = Y / idx[:, np.arange(T) % mm]
    out: dict[tuple[str, str], np.ndarray] = {}
    stats: dict[str, dict[str, np.ndarray]] = {}
    phase = np.array([(s + np.arange(h)) % mm for s in stops])  # stops × h
    season = np.stack([idx[:, p] for p in phase])  # stops × rows × h
    positive = np.nanmin(np.where(np.isnan(adj), np.inf, adj), axis=1) > 0
    for sc in scales:
        sel = logged & positive if sc == "log" else np.ones(len(Y), dtype=bool)
        if not sel.any():
            for name in cd.MODELS:
                out[(name, sc)] = np.full((len(stops), len(Y), h), np.nan)
            continue
        z = np.log(adj[sel]) if sc == "log" else adj[sel]
        fc, fit = cd.model_forecasts(z, h, stops)
        if sc == "log":
            fc = {k: np.exp(np.minimum(v, 700.0)) for k, v in fc.items()}
        fc["DOTM+Theta+Damped"] = cd.combine_theta_damped(fc)
        for name in cd.MODELS:
            full = np.full((len(stops), len(Y), h), np.nan)
            full[:, sel] = fc[name] * season[:, sel]
            out[(name, sc)] = full
        stats[sc] = {"rows": sel, "sigma": cd.spread(fit, h)}
    for name, v in cd.simple_forecasts(Y, h, stops, mm).items():
        out[(name, "raw")] = v
    return out, stats


def _scale(Y: np.ndarray, m: int) -> np.ndarray:
    """In-sample MAE of the seasonal naive (naive when under two seasons) per row; 1 if 0."""
    n = (~np.isnan(Y)).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row of one value: NaN, then 1
        naive = np.nanmean(np.abs(np.diff(Y, axis=1)), axis=1)
        seasonal = np.nanmean(np.abs(Y[:, m:] - Y[:, :-m]), axis=1) if 1 < m < Y.shape[1] else naive
    out = np.where(n > 2 * m, seasonal, naive)
    return np.where(np.nan_to_num(out) > 0, out, 1.0)


def _weights(err: np.ndarray) -> np.ndarray:
    """Combination weights (rows × candidates) from validation errors, by :data:`RULE`."""
    rows, C = err.shape
    e = np.where(np.isnan(err), np.inf, err)
    combos = [CANDIDATES.index(("DOTM+Theta+Damped", sc)) for sc in _SCALES]
    w = np.zeros((rows, C))
    if RULE == "fixed":  # the combination in logs where logs are allowed
        pick = np.where(np.isfinite(e[:, combos[0]]), combos[0], combos[1])
        w[np.arange(rows), pick] = 1.0
        return w
    if RULE == "transform":  # the combination on the scale with the lower validation error
        pick = np.array(combos)[np.argmin(e[:, combos], axis=1)]
        w[np.arange(rows), pick] = 1.0
        return w
    if RULE == "margin":  # any candidate, if clearly better than the better combination
        best_combo = np.array(combos)[np.argmin(e[:, combos], axis=1)]
        best = np.argmin(e, axis=1)
        clear = e[np.arange(rows), best] < MARGIN * e[np.arange(rows), best_combo]
        w[np.arange(rows), np.where(clear, best, best_combo)] = 1.0
        return w
    if RULE == "ensemble":  # equal mean of ENSEMBLE, in logs where allowed
        has_log = np.isfinite(e[:, combos[0]])
        for sc in _SCALES:
            rows_sc = has_log if sc == "log" else ~has_log
            cols = [c for c, (nm, s_) in enumerate(CANDIDATES) if s_ == sc and nm in ENSEMBLE]
            w[np.ix_(rows_sc, cols)] = 1.0
        return w / w.sum(axis=1, keepdims=True)
    k = 1 if RULE == "select" else TOP_K
    order = np.argsort(e, axis=1, kind="stable")[:, :k]
    finite = np.isfinite(np.take_along_axis(e, order, axis=1))
    np.put_along_axis(w, order, finite.astype(float), axis=1)
    return w / np.maximum(w.sum(axis=1, keepdims=True), 1)


def _validate(Y: np.ndarray, v: int, m: int, min_seasonal: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation MASE (rows × candidates) over origins in the last `v` periods, and the mean
    squared standardised error of the DOTM+Theta+Damped mean per scale (rows × 2: log, raw).

    A standardised error is the validation error divided by the model's h-step spread
    (:func:`kamlab.forecast.candidates.spread`), on the log scale for the log candidate.
    """
    T = Y.shape[1]
    step = -(-v // 3)
    stops = sorted({T - v + k * step for k in range(3) if T - v + k * step < T})
    first = Y[:, : stops[0]]
    _, idx, logged = _adjustment(first, m, min_seasonal)
    fc, stats = _fit_all(Y[:, : stops[-1]], v, stops, m, idx, logged)
    actual = np.full((len(stops), len(Y), v), np.nan)
    for i, s in enumerate(stops):
        k = min(v, T - s)
        actual[i, :, :k] = Y[:, s : s + k]
    scale = _scale(first, m)
    err = np.full((len(Y), len(CANDIDATES)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log candidates: NaN without logs
        for c, key in enumerate(CANDIDATES):
            err[:, c] = np.nanmean(np.abs(actual - fc[key]), axis=(0, 2)) / scale
        z2 = np.full((len(Y), 2), np.nan)
        season = np.stack([idx[:, (s + np.arange(v)) % max(m, 1)] for s in stops])
        for i, sc in enumerate(_SCALES):
            if sc not in stats:
                continue
            sel = stats[sc]["rows"]
            sigma = stats[sc]["sigma"]
            f = fc[("DOTM+Theta+Damped", sc)][:, sel]
            a = actual[:, sel]
            if sc == "log":
                with np.errstate(divide="ignore", invalid="ignore"):
                    z = np.where(a > 0, (np.log(a) - np.log(f)) / sigma, np.nan)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    z = (a - f) / (sigma * season[:, sel])
            z = np.where(np.isfinite(z), z, np.nan)
            z2[sel, i] = np.nanmean(z**2, axis=(0, 2))
    return err, z2


def validated_forecast(
    Y: np.ndarray, h: int, *, m: int, min_seasonal: int, levels: tuple[float, ...]
) -> dict[str, np.ndarray]:
    """Validated choice, final forecast and bounds for each row of `Y` (see module doc).

    Returns ``mean`` (rows × h), ``lo_L``/``hi_L`` per level, ``method``, ``reason`` (str per
    row), ``seasonal`` (bool per row), ``validated`` (validation horizon, 0 if none).
    """
    rows, T = Y.shape
    n = (~np.isnan(Y)).sum(axis=1)
    half = -(-h // 2)
    horizon = np.where(n >= 2 * h, h, np.where(n >= 2 * half, half, 0))
    err = np.full((rows, len(CANDIDATES)), np.nan)
    z2 = np.full((rows, 2), np.nan)
    for v in (h, half):
        sel = horizon == v
        if sel.any() and v > 0:
            err[sel], z2[sel] = _validate(Y[sel], v, m, min_seasonal)
    w = _weights(err)
    none = horizon == 0
    w[none] = 0.0
    w[none, CANDIDATES.index(("DOTM+Theta+Damped", "raw"))] = 1.0

    seasonal, idx, logged = _adjustment(Y, m, min_seasonal)
    # a log candidate chosen where the whole history no longer allows logs: its raw twin
    for c, (name, sc) in enumerate(CANDIDATES):
        if sc == "log":
            twin = CANDIDATES.index((name, "raw"))
            w[~logged, twin] += w[~logged, c]
            w[~logged, c] = 0.0
    need_log = w[:, [c for c, (_, sc) in enumerate(CANDIDATES) if sc == "log"]].sum(axis=1) > 0
    scales = ("log", "raw") if (logged & need_log).any() else ("raw",)
    fc, stats = _fit_all(Y, h, [T], m, idx, logged & need_log, scales)
    mean = np.zeros((rows, h))
    for c, key in enumerate(CANDIDATES):
        if w[:, c].any():
            mean += w[:, c, None] * np.nan_to_num(fc[key][0])
    mean = np.maximum(mean, 0.0)

    best = np.argmax(w, axis=1)
    in_logs = np.array([CANDIDATES[b][1] == "log" for b in best]) & logged & need_log
    sigma = np.zeros((rows, h))
    raw = stats["raw"]
    sigma[raw["rows"]] = raw["sigma"][0]
    if "log" in stats:
        lg = stats["log"]
        full = np.zeros((rows, h))
        full[lg["rows"]] = lg["sigma"][0]
        sigma = np.where(in_logs[:, None], full, sigma)
    if CALIBRATE:
        # spread rescaled by the validation errors, shrunk half-way to the model's own
        seen = np.where(in_logs, z2[:, 0], z2[:, 1])
        factor = np.sqrt(PRIOR + (1 - PRIOR) * np.where(np.isnan(seen), 1.0, seen))
        if WIDEN_ONLY:
            factor = np.maximum(factor, 1.0)
        sigma = sigma * factor[:, None]
    season = idx[:, (T + np.arange(h)) % max(m, 1)]
    out: dict[str, np.ndarray] = {"mean": mean}
    for lv in levels:
        z = norm.ppf(0.5 + lv / 200)
        spread = np.exp(np.minimum(z * sigma, 30.0))
        lo = np.where(in_logs[:, None], mean / spread, mean - z * sigma * season)
        hi = np.where(in_logs[:, None], mean * spread, mean + z * sigma * season)
        out[f"lo_{lv:g}"] = np.maximum(lo, 0.0)
        out[f"hi_{lv:g}"] = np.maximum(hi, mean)
    out["method"], out["reason"] = _describe(w, err, horizon)
    out["seasonal"] = seasonal
    out["validated"] = horizon
    return out


def _describe(w: np.ndarray, err: np.ndarray, horizon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Method name and the validation sentence per row."""
    method = np.empty(len(w), dtype=object)
    reason = np.empty(len(w), dtype=object)
    labels = [_label(*k) for k in CANDIDATES]
    top = np.argmax(w, axis=1)
    scale = ["in logs" if CANDIDATES[t][1] == "log" else "on the original scale" for t in top]
    fixed = CANDIDATES.index(("DOTM+Theta+Damped", "raw"))
    if RULE == "fixed":  # one candidate per row (see _weights): the sentences in one pass
        best = np.argmin(np.where(np.isnan(err), np.inf, err), axis=1)
        rows = np.arange(len(w))
        short = (
            "too short to validate (fewer than two validation horizons of history): "
            "mean of DOTM, Theta and damped trend on the original scale"
        )
        method[:] = [labels[t] for t in top]
        reason[:] = [
            f"mean of DOTM, Theta and damped trend {sc} (the rule that won on "
            f"validation data), validation MASE {e_top:.2f} "
            f"over the last {hz} periods ({min(3, hz)} origins); "
            f"best single candidate {labels[b]} {e_best:.2f}"
            if hz
            else short
            for sc, e_top, hz, b, e_best in zip(
                scale,
                err[rows, top].tolist(),
                horizon.tolist(),
                best.tolist(),
                np.where(np.isnan(err[rows, best]), np.inf, err[rows, best]).tolist(),
                strict=True,
            )
        ]
        method[horizon == 0] = "DOTM+Theta+Damped"
        return method, reason
    for r in range(len(w)):
        if horizon[r] == 0:
            method[r] = "DOTM+Theta+Damped"
            reason[r] = (
                "too short to validate (fewer than two validation horizons of history): "
                "mean of DOTM, Theta and damped trend on the original scale"
            )
            continue
        chosen = np.flatnonzero(w[r])
        chosen = chosen[np.argsort(err[r, chosen])]
        parts = ", ".join(f"{labels[c]} {err[r, c]:.2f}" for c in chosen)
        window = f"over the last {horizon[r]} periods ({min(3, horizon[r])} origins)"
        if RULE == "fixed":
            e = np.where(np.isnan(err[r]), np.inf, err[r])
            best = int(np.argmin(e))
            method[r] = labels[chosen[0]]
            reason[r] = (
                f"mean of DOTM, Theta and damped trend {scale[r]} (the rule that won on "
                f"validation data), validation MASE {err[r, chosen[0]]:.2f} "
                f"{window}; best single candidate {labels[best]} {e[best]:.2f}"
            )
        elif len(chosen) == 1:
            ref = f"; DOTM+Theta+Damped {err[r, fixed]:.2f}" if fixed not in chosen else ""
            method[r] = labels[chosen[0]]
            reason[r] = f"chosen by validation MASE {window}: {parts}{ref}"
        else:
            method[r] = "mean of " + " + ".join(labels[c] for c in chosen)
            reason[r] = f"mean of the {len(chosen)} lowest validation MASE {window}: {parts}"
    return method, reason
