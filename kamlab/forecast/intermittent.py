"""Intermittent and lumpy demand: Croston, SBA, TSB, ADIDA, IMAPA and their combination.

Like :mod:`kamlab.forecast.smoothing`, every function works on a batch ``Y`` (series × months,
right-aligned, NaN before each series' first month, zeros for months without orders) and is
vectorised over the rows. All these methods give a flat forecast (a demand *rate* per month).

Sources: Croston (1972), "Forecasting and stock control for intermittent demands", ORQ 23(3);
Syntetos & Boylan (2005), "The accuracy of intermittent demand estimates", IJF 21(2) (SBA);
Teunter, Syntetos & Babai (2011), "Intermittent demand: linking forecasting to inventory
obsolescence", EJOR 214(3) (TSB); Nikolopoulos et al. (2011), JORS 62(3) (ADIDA);
Petropoulos & Kourentzes (2015), JORS 66(6) (IMAPA).
"""

from __future__ import annotations

import numpy as np

from kamlab.forecast.smoothing import _lead, ses

__all__ = [
    "adida",
    "croston",
    "demand_quantiles",
    "imapa",
    "mean_interval",
    "RATE_METHODS",
    "tsb",
    "validated_rate",
]

_ALPHA = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5])
_BETA = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5])


def croston(Y: np.ndarray, *, alpha: float = 0.1, debias: bool = False) -> np.ndarray:
    """Croston's method (``debias=True``: SBA) with a fixed smoothing constant; one rate per row.

    Sizes *z* and inter-demand intervals *p* are smoothed at demand months only,
    :math:`z \\leftarrow z + \\alpha(y - z)`, :math:`p \\leftarrow p + \\alpha(q - p)`, where *q*
    counts the months since the previous demand (the first demand's from the series' start).
    Both start at their in-sample means (mean non-zero size, ADI), the "mean" initialisation
    of Kourentzes' tsintermittent, because a series that starts at its first demand would
    otherwise begin with an interval of 1 and over-forecast. Forecast :math:`z/p`, SBA
    :math:`(1-\\alpha/2)\\,z/p`. A row without demand forecasts 0.

    Worked example, y = 3, 0, 0, 6, 0, 2 and α = 0.1: z₀ = 11/3, p₀ = 6/3 = 2; month 1
    (q = 1): z = 3.6, p = 1.9; month 4 (q = 3): z = 3.84, p = 2.01; month 6 (q = 2):
    z = 3.656, p = 2.009; forecast 3.656 / 2.009 = 1.81981, SBA 0.95 × that = 1.72882:

    >>> y = np.array([[3.0, 0, 0, 6, 0, 2]])
    >>> print(round(float(croston(y)[0]), 5), round(float(croston(y, debias=True)[0]), 5))
    1.81981 1.72882
    """
    valid = ~np.isnan(Y)
    occur = valid & (np.nan_to_num(Y) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(occur, Y, 0.0).sum(axis=1) / occur.sum(axis=1)
        p = valid.sum(axis=1) / occur.sum(axis=1)
    q = np.zeros(len(Y))
    for t in range(_lead(Y), Y.shape[1]):
        q = np.where(valid[:, t], q + 1, q)
        dem = occur[:, t]
        z = np.where(dem, z + alpha * (Y[:, t] - z), z)
        p = np.where(dem, p + alpha * (q - p), p)
        q = np.where(dem, 0.0, q)
    rate = np.nan_to_num(z / p)
    return rate * (1 - alpha / 2) if debias else rate


def _tsb_grid(
    Y: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SSE, final probability and size of TSB for every row × (alpha, beta) pair."""
    valid = ~np.isnan(Y)
    occur = np.where(valid, Y > 0, False)
    n = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p0 = occur.sum(axis=1) / n
        z0 = np.where(occur, Y, 0).sum(axis=1) / occur.sum(axis=1)
    z0 = np.nan_to_num(z0)
    k = alpha.shape[-1]
    prob = np.broadcast_to(p0[:, None], (len(Y), k)).copy()
    size = np.broadcast_to(z0[:, None], (len(Y), k)).copy()
    sse = np.zeros_like(prob)
    for t in range(_lead(Y), Y.shape[1]):
        y = Y[:, t][:, None]
        ok = valid[:, t][:, None]
        e = np.where(ok, y - prob * size, 0.0)
        sse += e * e
        d = occur[:, t][:, None]
        prob = np.where(ok, prob + beta * (d - prob), prob)
        size = np.where(d, size + alpha * (y - size), size)
    return sse, prob, size


def tsb(
    Y: np.ndarray, *, alpha: float | None = None, beta: float | None = None
) -> dict[str, np.ndarray]:
    """TSB: demand probability smoothed every month, size at demands; rate = probability × size.

    :math:`\\hat p \\leftarrow \\hat p + \\beta(d_t - \\hat p)` every month (:math:`d_t` = 1 if
    there is demand), :math:`z \\leftarrow z + \\alpha(y_t - z)` at demand months; forecast
    :math:`\\hat p z`. Probability and size start at their in-sample means. With `alpha` and
    `beta` given they are used as such; otherwise both are picked per row from a grid by
    in-sample one-step squared error. Returns ``rate``, ``prob``, ``alpha``, ``beta``, ``sse``.

    >>> print(round(float(tsb(np.array([[2.0, 0, 2, 0, 2, 0]]))["rate"][0]), 2))
    1.0
    >>> print(round(float(tsb(np.array([[4.0, 0, 0, 0]]), alpha=0.2, beta=0.5)["rate"][0]), 4))
    0.3125
    """
    if alpha is not None and beta is not None:
        grid_a, grid_b = np.array([alpha]), np.array([beta])
    else:
        a, b = np.meshgrid(_ALPHA, _BETA, indexing="ij")
        grid_a, grid_b = a.ravel(), b.ravel()
    sse, prob, size = _tsb_grid(Y, grid_a, grid_b)
    j = np.argmin(sse, axis=1)
    rows = np.arange(len(Y))
    return {
        "rate": prob[rows, j] * size[rows, j],
        "prob": prob[rows, j],
        "alpha": grid_a[j],
        "beta": grid_b[j],
        "sse": sse[rows, j],
    }


def mean_interval(Y: np.ndarray) -> np.ndarray:
    """Average inter-demand interval (ADI) per row: months observed / months with demand."""
    valid = ~np.isnan(Y)
    with np.errstate(divide="ignore", invalid="ignore"):
        return valid.sum(axis=1) / np.where(valid, Y > 0, False).sum(axis=1)


def _aggregate(Y: np.ndarray, k: int) -> np.ndarray:
    """Sum right-aligned rows into non-overlapping buckets of `k` months, from the end."""
    T = Y.shape[1] // k * k
    blocks = Y[:, Y.shape[1] - T :].reshape(len(Y), T // k, k)
    return blocks.sum(axis=2)  # a bucket touching a NaN month is NaN


def adida(Y: np.ndarray, k: np.ndarray | int | None = None) -> np.ndarray:
    """ADIDA: SES on demand summed over buckets of `k` months, divided back by `k`.

    `k` defaults to each row's mean interval rounded (at least 1). Rows with fewer than two
    full buckets use k = 1.

    >>> print(round(float(adida(np.array([[0.0, 4, 0, 4, 0, 4, 0, 4]]))[0]), 3))
    2.0
    """
    n = (~np.isnan(Y)).sum(axis=1)
    if k is None:
        k = np.maximum(np.round(np.nan_to_num(mean_interval(Y), nan=1.0)), 1).astype(int)
    k = np.broadcast_to(np.asarray(k, dtype=int), (len(Y),))
    k = np.where(n >= 2 * k, k, 1)
    rate = np.zeros(len(Y))
    for kk in np.unique(k):
        rows = np.flatnonzero(k == kk)
        agg = _aggregate(Y[rows], int(kk))
        rate[rows] = ses(agg, 1)["level"] / kk
    return rate


def imapa(Y: np.ndarray) -> np.ndarray:
    """IMAPA: mean of ADIDA rates over aggregation levels 1 .. round(mean interval).

    >>> print(round(float(imapa(np.array([[0.0, 4, 0, 4, 0, 4, 0, 4]]))[0]), 3))
    2.0
    """
    top = np.maximum(np.round(np.nan_to_num(mean_interval(Y), nan=1.0)), 1).astype(int)
    n = (~np.isnan(Y)).sum(axis=1)
    total = np.zeros(len(Y))
    if not len(Y):
        return total
    # ADIDA at level kk for the rows that reach it (top >= kk); a row with fewer than two
    # buckets of kk falls back to k = 1 (see adida), the plain SES rate, fitted once.
    # Rows are fitted independently, so this is adida(Y, min(kk, top)) row for row.
    single = ses(Y, 1)["level"]
    total += np.where(top >= 1, single, 0.0)
    for kk in range(2, int(top.max()) + 1):
        rows = np.flatnonzero(top >= kk)
        rate = single[rows]
        long = n[rows] >= 2 * kk
        if long.any():
            rate[long] = ses(_aggregate(Y[rows[long]], kk), 1)["level"] / kk
        total[rows] += rate
    return total / top


def demand_quantiles(Y: np.ndarray, rate: np.ndarray, prob: np.ndarray, q: float) -> np.ndarray:
    """Quantile `q` of one month's demand: occurrence with probability `prob`, sizes as observed.

    The predictive distribution is a mixture: no demand with probability 1 − p, otherwise a
    size drawn from the series' observed non-zero sizes, rescaled so that the mean equals
    `rate` (p · mean size = rate). Quantile: 0 when q ≤ 1 − p, else the empirical size
    quantile at (q − (1 − p))/p (linear interpolation).

    >>> y = np.array([[1.0, 0, 3, 0, 2, 0]])
    >>> print(float(demand_quantiles(y, np.array([1.0]), np.array([0.5]), 0.9)[0]))
    2.6
    """
    valid = ~np.isnan(Y)
    sizes = np.where(valid & (Y > 0), Y, np.nan)
    srt = np.sort(sizes, axis=1)  # NaN last
    cnt = (~np.isnan(srt)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = rate / (prob * np.nanmean(sizes, axis=1))
        u = (q - (1 - prob)) / prob
    u = np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0)
    pos = u * np.maximum(cnt - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(cnt - 1, 0))
    rows = np.arange(len(Y))
    has = cnt > 0
    v = np.where(
        has,
        np.nan_to_num(srt[rows, lo]) + (pos - lo) * np.nan_to_num(srt[rows, hi] - srt[rows, lo]),
        0.0,
    )
    out = np.where(q <= 1 - prob, 0.0, v * np.nan_to_num(scale))
    return np.maximum(out, 0.0)


RATE_METHODS = ("TSB", "SBA", "IMAPA", "ADIDA", "Recent mean", "Zero")
RATE_RULE = "select"  # or one of RATE_METHODS for everyone (a development comparison)


def _rates(Y: np.ndarray, m: int, tsb_params: tuple[float, float]) -> dict[str, np.ndarray]:
    """Each candidate's flat rate per row from the whole of `Y` (see :func:`validated_rate`)."""
    recent = Y[:, -max(m, 1) :]
    with np.errstate(invalid="ignore"):
        mean = np.nan_to_num(np.nanmean(recent, axis=1) if recent.size else np.zeros(len(Y)))
    return {
        "TSB": tsb(Y, alpha=tsb_params[0], beta=tsb_params[1])["rate"],
        "SBA": croston(Y, alpha=0.1, debias=True),
        "IMAPA": imapa(Y),
        "ADIDA": adida(Y),
        "Recent mean": mean,
        "Zero": np.zeros(len(Y)),
    }


def validated_rate(
    Y: np.ndarray,
    h: int,
    *,
    m: int,
    levels: tuple[float, ...],
    tsb_params: tuple[float, float] = (0.2, 0.2),
) -> dict[str, np.ndarray]:
    """Intermittent demand: the rate method chosen per row by rolling-origin validation.

    Candidates (:data:`RATE_METHODS`): TSB with `tsb_params`, SBA (alpha 0.1), IMAPA, ADIDA,
    the mean of the last `m` periods (one season) and zero. Validation as for smooth demand
    (:mod:`kamlab.forecast.selection`): horizon *v = h* (or ⌈h/2⌉ for a series shorter than
    2h, none under 2⌈h/2⌉ periods: then TSB), three origins in the last *v* periods, each
    method refitted on the history before each origin; the error is the mean squared error
    over all origins and horizons (a rate's MSE is smallest at the future mean demand, so the
    choice does not reward shrinking towards zero the way per-series MAE or RMSSE over sparse
    months would). The method with the lowest validation MSE is refitted on the whole history.

    Bounds: quantiles of demand occurrence (TSB's probability) × observed sizes
    (:func:`demand_quantiles`), with sizes rescaled to the chosen rate (to TSB's where the
    choice is zero, so that the interval still shows what a demand month brings).

    Returns ``rate``, ``lo_L``/``hi_L``, ``method``, ``error`` (the chosen method's validation
    RMSE, NaN if not validated), ``validated`` (the validation horizon, 0 if none).
    """
    rows, T = Y.shape
    n = (~np.isnan(Y)).sum(axis=1)
    half = -(-h // 2)
    horizon = np.where(n >= 2 * h, h, np.where(n >= 2 * half, half, 0))
    err = np.full((rows, len(RATE_METHODS)), np.inf)
    for v in (h, half):
        sel = np.flatnonzero(horizon == v)
        if not len(sel) or v == 0:
            continue
        step = -(-v // 3)
        stops = sorted({T - v + k * step for k in range(3) if T - v + k * step < T})
        sq = np.zeros((len(sel), len(RATE_METHODS)))
        count = np.zeros(len(sel))
        for s in stops:
            rates = _rates(Y[sel, :s], m, tsb_params)
            actual = Y[sel, s:]
            ok = ~np.isnan(actual)
            count += ok.sum(axis=1)
            for c, name in enumerate(RATE_METHODS):
                sq[:, c] += np.where(
                    ok, (np.nan_to_num(actual) - rates[name][:, None]) ** 2, 0
                ).sum(axis=1)
        err[sel] = sq / np.maximum(count, 1)[:, None]
    if RATE_RULE == "select":
        choice = np.where(horizon > 0, np.argmin(err, axis=1), 0)
    else:
        choice = np.full(rows, RATE_METHODS.index(RATE_RULE))
    rates = _rates(Y, m, tsb_params)
    table = np.stack([rates[k] for k in RATE_METHODS], axis=1)
    rate = table[np.arange(rows), choice]
    t = tsb(Y, alpha=tsb_params[0], beta=tsb_params[1])
    shape_rate = np.where(rate > 0, rate, t["rate"])
    out = {"rate": rate}
    for lv in levels:
        a = (1 - lv / 100) / 2
        out[f"lo_{lv:g}"] = np.minimum(demand_quantiles(Y, shape_rate, t["prob"], a), rate)
        out[f"hi_{lv:g}"] = np.maximum(demand_quantiles(Y, shape_rate, t["prob"], 1 - a), rate)
    out["method"] = np.asarray(RATE_METHODS, dtype=object)[choice]
    chosen_err = err[np.arange(rows), choice]
    out["error"] = np.where(horizon > 0, np.sqrt(chosen_err), np.nan)
    out["validated"] = horizon
    return out
