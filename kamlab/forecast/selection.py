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
6. **Strategies** (:data:`STRATEGIES`): the combination of 5, ETS by AICc and seasonal ETS
   (:mod:`kamlab.forecast.ets`; the seasonal choice among damped trends only), the median of
   ETS (damped trends only), DOTM and ARI, the seasonal naive — each
   with its validation MASE per row; :func:`kamlab.forecast.engine._choose` picks one per
   portfolio and demand pattern.
7. **Final forecast**: the chosen candidates refitted on the whole history (seasonality
   re-tested and indices re-estimated on all of it), combined with the same weights.
   Intervals: normal on the scale of the best candidate (in logs: multiplicative) with the
   h-step spread of :func:`kamlab.forecast.candidates.spread`.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection

import numpy as np
from scipy.stats import norm

from kamlab.forecast import candidates as cd
from kamlab.forecast import smoothing as sm
from kamlab.forecast.ets import MODELS as ETS_MODELS
from kamlab.forecast.ets import ets_forecasts

__all__ = ["RULE", "STRATEGIES", "TOP_K", "validated_forecast"]

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
PRIOR_ETS = 0.5  # the same for the ETS strategies (their grid-fitted spread)
# the ETS strategies' interval: "own" (ETS's class-1 spread) or "combination" (the combination's
# calibrated spread around the ETS mean): "combination" won on validation (forecast_notes.md)
ETS_SPREAD = "combination"
# another strategy replaces the combination only if its mean validation MASE is lower by more
# than this share (the inner windows favour models that are good over short horizons;
# benchmarks/forecast_notes.md has the validation rows behind the value)
SWITCH_MARGIN = 0.01
SWITCH_T = 2.0  # ... and its per-series gains must have a paired t statistic of at least this
_SIMPLE = ("Seasonal naive", "Naive", "Mean")
_SCALES = ("log", "raw")
CANDIDATES = tuple(
    [(name, sc) for sc in _SCALES for name in cd.MODELS]
    + [(name, "raw") for name in _SIMPLE]
    + [("ETS", "raw"), ("ETS seasonal", "raw"), ("SCUM", "log"), ("SCUM", "raw")]
)
# The strategies a portfolio chooses among by validation (kamlab.forecast.engine picks the one
# with the lowest mean validation MASE per demand pattern): today's combination (RULE), ETS by
# AICc, ETS by AICc among the seasonal damped-trend models (seasonality by validation: with and
# without a season are both candidates), the SCUM-style median of ETS, DOTM and ARIMA
# (Petropoulos & Svetunkov 2020) and the seasonal naive as a floor. The first wins ties.
STRATEGIES = ("combination", "ETS", "seasonal ETS", "median", "seasonal naive")
_NEEDS_ETS = frozenset({"ETS", "seasonal ETS", "median"})  # the strategies that use ETS
BALANCED = True  # validation MASE: horizons weighted equally (else: every error once)
FORCE: str | None = None  # development only (benchmarks): one strategy for every portfolio


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


def _add_ets(
    fc: dict[tuple[str, str], np.ndarray],
    Y: np.ndarray,
    h: int,
    stops: list[int],
    m: int,
    fit: bool = True,
) -> dict[str, np.ndarray]:
    """Add ETS (AICc choice) and the SCUM-style median of ETS, DOTM and ARI per scale to `fc`;
    without `fit` (no strategy asked for needs ETS) they are NaN: no model fits."""
    if fit:
        e = ets_forecasts(Y, h, stops, m)
    else:
        nan = np.full((len(stops), len(Y), h), np.nan)
        none = np.full((len(stops), len(Y)), -1)
        e = {"mean": nan, "sigma": nan, "model": none, "seasonal": none > 0}
        e.update({f"{p}{k}": v for p in ("seasonal_", "damped_") for k, v in e.items()})
    fc[("ETS", "raw")] = e["mean"]
    fc[("ETS seasonal", "raw")] = e["seasonal_mean"]
    for sc in _SCALES:
        if ("DOTM", sc) not in fc:  # the scale was not fitted (no row may use logs)
            fc[("SCUM", sc)] = np.full_like(e["mean"], np.nan)
            continue
        members = [e["damped_mean"], fc[("DOTM", sc)], fc[("ARI", sc)]]
        fc[("SCUM", sc)] = np.median(np.stack(members), 0)
    return e


def _snaive_sigma(Y: np.ndarray, h: int, stops: list[int], m: int) -> np.ndarray:
    """h-step spread of the seasonal naive (stops × rows × h): the in-sample root mean square
    of y_t − y_{t−m} before each stop (naive differences under m + 2 values), times
    √(⌊(j−1)/m⌋ + 1) at horizon j (Hyndman & Athanasopoulos, FPP3 §5.5)."""
    out = np.zeros((len(stops), len(Y), h))
    steps = np.sqrt(np.arange(h) // max(m, 1) + 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, s in enumerate(stops):
            hist = Y[:, :s]
            sd = np.sqrt(np.nanmean((hist[:, m:] - hist[:, :-m]) ** 2, axis=1)) if s > m else None
            nv = np.sqrt(np.nanmean(np.diff(hist, axis=1) ** 2, axis=1))
            sd = nv if sd is None else np.where(np.isnan(sd), nv, sd)
            out[i] = np.nan_to_num(sd)[:, None] * steps
    return out


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


def _validate(
    Y: np.ndarray, v: int, m: int, min_seasonal: int, ets: bool = True
) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Validation MASE (rows × candidates) over origins in the last `v` periods, and the mean
    squared standardised error per row of each strategy's candidate (keys: the combination
    and the SCUM median per scale, ETS and the seasonal naive).

    A standardised error is the validation error divided by the model's h-step spread
    (:func:`kamlab.forecast.candidates.spread`, on the log scale for log candidates; the
    ETS's own; the seasonal naive's, :func:`_snaive_sigma`).
    """
    T = Y.shape[1]
    step = -(-v // 3)
    stops = sorted({T - v + k * step for k in range(3) if T - v + k * step < T})
    first = Y[:, : stops[0]]
    _, idx, logged = _adjustment(first, m, min_seasonal)
    fc, stats = _fit_all(Y[:, : stops[-1]], v, stops, m, idx, logged)
    ets_fit = _add_ets(fc, Y[:, : stops[-1]], v, stops, m, ets)
    actual = np.full((len(stops), len(Y), v), np.nan)
    for i, s in enumerate(stops):
        k = min(v, T - s)
        actual[i, :, :k] = Y[:, s : s + k]
    scale = _scale(first, m)
    err = np.full((len(Y), len(CANDIDATES)), np.nan)
    z2: dict[tuple[str, str], np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log candidates: NaN without logs
        for c, key in enumerate(CANDIDATES):
            gap = np.abs(actual - fc[key])
            if BALANCED:  # every horizon counts once: the mean over origins, then horizons
                err[:, c] = np.nanmean(np.nanmean(gap, axis=0), axis=1) / scale
            else:
                err[:, c] = np.nanmean(gap, axis=(0, 2)) / scale
        season = np.stack([idx[:, (s + np.arange(v)) % max(m, 1)] for s in stops])
        for sc in _SCALES:
            for name in ("DOTM+Theta+Damped", "SCUM"):
                z2[(name, sc)] = np.full(len(Y), np.nan)
            if sc not in stats:
                continue
            sel = stats[sc]["rows"]
            sigma = stats[sc]["sigma"]
            a = actual[:, sel]
            for name in ("DOTM+Theta+Damped", "SCUM"):
                f = fc[(name, sc)][:, sel]
                with np.errstate(divide="ignore", invalid="ignore"):
                    if sc == "log":
                        z = np.where(a > 0, (np.log(a) - np.log(f)) / sigma, np.nan)
                    else:
                        z = (a - f) / (sigma * season[:, sel])
                z = np.where(np.isfinite(z), z, np.nan)
                z2[(name, sc)][sel] = np.nanmean(z**2, axis=(0, 2))
        for key, sigma in (
            (("ETS", "raw"), ets_fit["sigma"]),
            (("ETS seasonal", "raw"), ets_fit["seasonal_sigma"]),
            (("Seasonal naive", "raw"), _snaive_sigma(Y, v, stops, max(m, 1))),
        ):
            with np.errstate(divide="ignore", invalid="ignore"):
                z = (actual - fc[key]) / sigma
            z = np.where(np.isfinite(z), z, np.nan)
            z2[key] = np.nanmean(z**2, axis=(0, 2))
    return err, z2


def _bounds(
    mean: np.ndarray,
    sigma: np.ndarray,
    in_logs: np.ndarray,
    season: np.ndarray,
    levels: tuple[float, ...],
) -> dict[str, np.ndarray]:
    """Normal bounds: in logs multiplicative (mean ÷/× e^{zσ}), else mean ± zσ × season."""
    out = {}
    for lv in levels:
        z = norm.ppf(0.5 + lv / 200)
        spread = np.exp(np.minimum(z * sigma, 30.0))
        lo = np.where(in_logs[:, None], mean / spread, mean - z * sigma * season)
        hi = np.where(in_logs[:, None], mean * spread, mean + z * sigma * season)
        out[f"lo_{lv:g}"] = np.maximum(lo, 0.0)
        out[f"hi_{lv:g}"] = np.maximum(hi, mean)
    return out


def _calibrated(sigma: np.ndarray, seen: np.ndarray, prior: float | None = None) -> np.ndarray:
    """The spread rescaled by the validation errors (mean squared standardised error `seen`),
    shrunk towards the model's own by `prior` (default :data:`PRIOR`); widening only with
    :data:`WIDEN_ONLY`."""
    if not CALIBRATE:
        return sigma
    prior = PRIOR if prior is None else prior
    factor = np.sqrt(prior + (1 - prior) * np.where(np.isnan(seen), 1.0, seen))
    if WIDEN_ONLY:
        factor = np.maximum(factor, 1.0)
    return sigma * factor[:, None]


def validated_forecast(
    Y: np.ndarray,
    h: int,
    *,
    m: int,
    min_seasonal: int,
    levels: tuple[float, ...],
    strategies: Collection[str] = STRATEGIES,
) -> dict[str, np.ndarray]:
    """Validated choice, final forecast and bounds for each row of `Y` (see module doc).

    Returns today's combination (:data:`RULE`) as ``mean`` (rows × h), ``lo_L``/``hi_L`` per
    level, ``method``, ``reason`` (str per row), ``seasonal`` (bool per row, the ACF test),
    ``validated`` (validation horizon, 0 if none), and every strategy of :data:`STRATEGIES`
    in ``strategies``: ``mean`` and the bounds (rows × strategies × h), ``error`` (the
    validation MASE, rows × strategies, NaN where not validated; a strategy that cannot run
    on a row falls back to the combination there, forecast and error alike), ``method``
    (rows × strategies) and ``ets_seasonal`` (the AICc choice has a season). ETS, the
    dearest model, is fitted only when one of `strategies` uses it; else the ETS strategies
    and the median are the combination, as where they cannot run.
    """
    ets = bool(set(strategies) & _NEEDS_ETS)
    rows, T = Y.shape
    n = (~np.isnan(Y)).sum(axis=1)
    half = -(-h // 2)
    horizon = np.where(n >= 2 * h, h, np.where(n >= 2 * half, half, 0))
    err = np.full((rows, len(CANDIDATES)), np.nan)
    z2 = {k: np.full(rows, np.nan) for k in _Z2_KEYS}
    for v in (h, half):
        sel = horizon == v
        if sel.any() and v > 0:
            err[sel], part = _validate(Y[sel], v, m, min_seasonal, ets)
            for k in _Z2_KEYS:
                z2[k][sel] = part[k]
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
    scales = ("log", "raw") if logged.any() else ("raw",)
    fc, stats = _fit_all(Y, h, [T], m, idx, logged, scales)
    ets_fit = _add_ets(fc, Y, h, [T], m, ets)
    mean = np.zeros((rows, h))
    for c, key in enumerate(CANDIDATES):
        if w[:, c].any():
            mean += w[:, c, None] * np.nan_to_num(fc[key][0])
    mean = np.maximum(mean, 0.0)

    best = np.argmax(w, axis=1)
    in_logs = np.array([CANDIDATES[b][1] == "log" for b in best]) & logged
    sig_raw, sig_log = np.zeros((rows, h)), np.zeros((rows, h))
    sig_raw[stats["raw"]["rows"]] = stats["raw"]["sigma"][0]
    if "log" in stats:
        sig_log[stats["log"]["rows"]] = stats["log"]["sigma"][0]
    sigma = np.where(in_logs[:, None], sig_log, sig_raw)
    season = idx[:, (T + np.arange(h)) % max(m, 1)]
    combo_z2 = np.where(in_logs, z2[("DOTM+Theta+Damped", "log")], z2[("DOTM+Theta+Damped", "raw")])
    out: dict[str, np.ndarray] = {
        "mean": mean,
        **_bounds(mean, _calibrated(sigma, combo_z2), in_logs, season, levels),
    }
    out["method"], out["reason"] = _describe(w, err, horizon)
    out["seasonal"] = seasonal
    out["validated"] = horizon
    combo_err = np.where(w.sum(axis=1) > 0, (w * np.nan_to_num(err)).sum(axis=1), np.nan)
    combo_err[none] = np.nan

    # the other strategies; where one cannot run on a row, it is the combination there
    ones = np.ones((rows, h))
    no_log = np.zeros(rows, dtype=bool)
    e_mean = fc[("ETS", "raw")][0]
    e_ok = np.isfinite(e_mean).all(axis=1)
    sc_log = in_logs & np.isfinite(fc[("SCUM", "log")][0]).all(axis=1)
    scum = np.where(sc_log[:, None], fc[("SCUM", "log")][0], fc[("SCUM", "raw")][0])
    scum_sigma = np.where(sc_log[:, None], sig_log, sig_raw)
    s_ok = e_ok & np.isfinite(scum).all(axis=1)
    snaive = fc[("Seasonal naive", "raw")][0]
    sn_sigma = _snaive_sigma(Y, h, [T], max(m, 1))[0]
    col = {
        k: CANDIDATES.index(k)
        for k in (("ETS", "raw"), ("ETS seasonal", "raw"), ("Seasonal naive", "raw"))
    }
    es_mean = fc[("ETS seasonal", "raw")][0]
    scum_err = np.where(sc_log, err[:, CANDIDATES.index(("SCUM", "log"))], np.nan)
    scum_err = np.where(sc_log, scum_err, err[:, CANDIDATES.index(("SCUM", "raw"))])
    scum_z2 = np.where(sc_log, z2[("SCUM", "log")], z2[("SCUM", "raw")])
    variants = {
        "ETS": (
            e_mean,
            ets_fit["sigma"][0],
            no_log,
            ones,
            err[:, col[("ETS", "raw")]],
            z2[("ETS", "raw")],
            e_ok,
        ),
        "seasonal ETS": (
            es_mean,
            ets_fit["seasonal_sigma"][0],
            no_log,
            ones,
            err[:, col[("ETS seasonal", "raw")]],
            z2[("ETS seasonal", "raw")],
            np.isfinite(es_mean).all(axis=1),
        ),
        "median": (scum, scum_sigma, sc_log, season, scum_err, scum_z2, s_ok),
        "seasonal naive": (
            snaive,
            sn_sigma,
            no_log,
            ones,
            err[:, col[("Seasonal naive", "raw")]],
            z2[("Seasonal naive", "raw")],
            np.ones(rows, dtype=bool),
        ),
    }
    label = np.array([f"ETS({','.join(_ets_parts(x))})" for x in (*ETS_MODELS, "?")])
    methods = {
        "ETS": label[ets_fit["model"][0]],
        "seasonal ETS": label[ets_fit["seasonal_model"][0]],
        "median": np.where(sc_log, "median of ETS, DOTM, ARI in logs", "median of ETS, DOTM, ARI"),
        "seasonal naive": np.full(rows, "Seasonal naive"),
    }
    S = len(STRATEGIES)
    strat = {
        k: np.zeros((rows, S, h)) for k in ["mean", *(x for x in out if x[:3] in ("lo_", "hi_"))]
    }
    strat["error"] = np.full((rows, S), np.nan)
    strat["method"] = np.empty((rows, S), dtype=object)
    for k in strat:
        if k not in ("error", "method"):
            strat[k][:, 0] = out[k]
    strat["error"][:, 0] = combo_err
    strat["method"][:, 0] = out["method"]
    for j, name in enumerate(STRATEGIES[1:], start=1):
        f, sig, logs, seas, e, zz, ok = variants[name]
        f = np.maximum(np.where(ok[:, None], np.nan_to_num(f), mean), 0.0)
        prior = PRIOR_ETS if name in ("ETS", "seasonal ETS") else PRIOR
        if name in ("ETS", "seasonal ETS") and ETS_SPREAD == "combination":
            sig, zz, logs, seas, prior = sigma, combo_z2, in_logs, season, PRIOR
        b = _bounds(f, _calibrated(sig, zz, prior), logs, seas, levels)
        strat["mean"][:, j] = f
        for k, val in b.items():
            strat[k][:, j] = np.where(ok[:, None], val, out[k])
        strat["error"][:, j] = np.where(ok & np.isfinite(e), e, combo_err)
        strat["method"][:, j] = np.where(ok, methods[name], out["method"])
    strat["ets_seasonal"] = ets_fit["seasonal"][0]
    out["strategies"] = strat
    return out


def _ets_parts(name: str) -> list[str]:
    """'MAdM' -> ['M', 'Ad', 'M']."""
    return [name[0], name[1:-1], name[-1]] if name != "?" else ["?"]


_Z2_KEYS = (
    ("DOTM+Theta+Damped", "log"),
    ("DOTM+Theta+Damped", "raw"),
    ("SCUM", "log"),
    ("SCUM", "raw"),
    ("ETS", "raw"),
    ("ETS seasonal", "raw"),
    ("Seasonal naive", "raw"),
)


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
