"""Smooth-demand kernels: seasonality test, classical decomposition, SES, Theta, DOTM, damped trend.

All fitting is vectorised over a batch of series held in one matrix ``Y`` (series × periods,
**right-aligned**: every row ends at the last column, NaN before each series' first period).
Smoothing parameters are chosen per series from a grid by in-sample squared error, and
initial levels in closed form (a prediction is linear in them), so no numerical optimiser
runs per series. The grid kernels (``_ses_grid``, ``_damped_grid``, ``_dotm_grid``) can record
their sums at several column counts ("stops") in one pass: the fits that
:mod:`kamlab.forecast.candidates` validates at rolling origins. Their recursions are compiled
(numba: one row at a time, the whole parameter grid per column), with exactly the arithmetic,
in the same order, of the array form they replaced, so the numbers are the same bit for bit. :func:`ses`, :func:`theta`,
:func:`damped_trend` and :func:`dotm` are the single-origin forms, checked against statsmodels
and statsforecast in the tests.

Sources: Makridakis & Hibon (2000); Hyndman & Billah (2003); Hyndman et al. (2008);
Fiorucci et al. (2016). The seasonality test is the M3/M4 Theta benchmarks' 90 % ACF rule:
with *n > 2m* periods a series is seasonal when
:math:`|r_m| > 1.645\\sqrt{(1 + 2\\sum_{k<m} r_k^2)/n}`; the decomposition is classical and
multiplicative (centred 2×m moving average, indices normalised to mean 1). How the engine
combines these: :mod:`kamlab.forecast.selection`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "damped_trend",
    "dotm",
    "seasonal_indices",
    "seasonality_test",
    "ses",
    "theta",
]

_ALPHA_COARSE = np.array([0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
_PHI = np.array([0.8, 0.9, 0.95, 0.98])
_BETA_SHARE = np.array([0.02, 0.1, 0.3])  # beta as a share of alpha (beta <= alpha)


def _first_valid(Y: np.ndarray) -> np.ndarray:
    """Column index of each row's first non-NaN value (rows are right-aligned)."""
    return np.argmax(~np.isnan(Y), axis=1)


def seasonality_test(Y: np.ndarray, m: int) -> np.ndarray:
    """90 % autocorrelation test at lag `m` per row; rows with ``n <= 2m`` are not seasonal.

    >>> t = np.arange(48)
    >>> y = 10 + 3 * np.sin(2 * np.pi * t / 12)
    >>> seasonality_test(np.vstack([y, np.full(48, 5.0) + t % 2]), 12).tolist()
    [True, False]
    """
    n = (~np.isnan(Y)).sum(axis=1)
    mean = np.nanmean(Y, axis=1, keepdims=True)
    X = np.nan_to_num(Y - mean)
    denom = (X**2).sum(axis=1)
    r = np.stack([(X[:, k:] * X[:, :-k]).sum(axis=1) for k in range(1, m + 1)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = r / denom[:, None]
        limit = 1.645 * np.sqrt((1 + 2 * (r[:, : m - 1] ** 2).sum(axis=1)) / n)
        seasonal = np.abs(r[:, m - 1]) > limit
    return seasonal & (n > 2 * m) & (denom > 0)


def seasonal_indices(Y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Classical multiplicative seasonal indices per row and column phase.

    Returns ``(indices, ok)``: ``indices`` is (rows × m), the index of column ``t`` being
    ``indices[:, t % m]``, normalised to mean 1; ``ok`` is False where the decomposition is
    not usable (a non-positive trend-cycle, or an index below 0.05).
    """
    rows, T = Y.shape
    Z = np.nan_to_num(Y)
    valid = (~np.isnan(Y)).astype(float)
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    k = len(w)
    ma = np.full((rows, T), np.nan)
    cnt = np.zeros((rows, T - k + 1))
    acc = np.zeros((rows, T - k + 1))
    for j, wj in enumerate(w):
        acc += wj * Z[:, j : T - k + 1 + j]
        cnt += valid[:, j : T - k + 1 + j]
    acc[cnt < k] = np.nan
    ma[:, k // 2 : k // 2 + T - k + 1] = acc
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ma > 0, Y / ma, np.nan)
    bad_ma = np.nanmin(np.where(np.isnan(ma), np.inf, ma), axis=1) <= 0
    phase = np.arange(T) % m
    idx = np.full((rows, m), np.nan)
    for p in range(m):
        col = ratio[:, phase == p]
        has = (~np.isnan(col)).any(axis=1)
        idx[has, p] = np.nanmean(col[has], axis=1)
    ok = ~np.isnan(idx).any(axis=1) & ~bad_ma
    idx = np.where(ok[:, None], idx, 1.0)
    idx = idx / idx.mean(axis=1, keepdims=True)
    ok &= (idx > 0.05).all(axis=1)
    idx = np.where(ok[:, None], idx, 1.0)
    return idx, ok


def _stop_set(T: int, stops: list[int] | None) -> tuple[list[int], bool]:
    """The columns counts after which states are recorded, and whether to squeeze the axis."""
    return ([T], True) if stops is None else (list(stops), False)


def _floats(Y: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(Y, dtype=np.float64)


@njit(cache=True, inline="always")
def _floor0(v):  # pragma: no cover - compiled
    """np.maximum(v, 0.0) for one number (NaN and -0.0 stay as they are)."""
    return 0.0 if v < 0.0 else v


def _lead(Y: np.ndarray, stops: list[int] | None = None) -> int:
    """The first column any row has a value in (at most the first stop's last column).

    Rows are right-aligned, so a batch of late starters (a backtest origin's block) begins
    with columns that are NaN in every row. The recursions leave every state and sum
    untouched in such a column (a NaN adds exactly 0 and updates nothing), so they start
    here: the same numbers, without the empty columns' work.
    """
    seen = ~np.isnan(Y).all(axis=0)
    lead = int(np.argmax(seen)) if seen.any() else Y.shape[1]
    return lead if stops is None else min(lead, min(stops) - 1)


def _ses_grid(
    Y: np.ndarray, alpha: np.ndarray, stops: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """SSE and final level of SES for every row × alpha (alpha: (K,) or (rows, K)).

    The initial level is optimised too, in closed form: a one-step prediction is linear in
    it, :math:`\\hat y_t = c_t + (1-\\alpha)^t \\ell_0`, so the SSE is a quadratic in
    :math:`\\ell_0` minimised by least squares. With `stops` (column counts), the fit on
    the first *s* columns is recorded for each stop *s* (a leading axis in the result): the
    same numbers as a separate fit on ``Y[:, :s]``, from one pass.
    """
    stops, squeeze = _stop_set(Y.shape[1], stops)
    rows, K = len(Y), alpha.shape[-1]
    at = np.ascontiguousarray(np.broadcast_to(alpha, (rows, K)), dtype=float)
    stop = np.sort(np.asarray(stops, dtype=np.int64))
    sse, lvl = np.zeros((len(stop), rows, K)), np.zeros((len(stop), rows, K))
    _ses_rows(_floats(Y), at, _lead(Y, stops), stop, sse, lvl)
    return (sse[0], lvl[0]) if squeeze else (sse, lvl)


@njit(cache=True, nogil=True)
def _ses_rows(Y, alpha, lead, stops, out_sse, out_level):  # pragma: no cover - compiled
    """The loop of :func:`_ses_grid` for one row at a time, over all alphas at once."""
    rows, K = alpha.shape
    level, gain = np.zeros(K), np.zeros(K)  # the level when l0 = 0; (1 - alpha)^t
    srr, srg, sgg = np.zeros(K), np.zeros(K), np.zeros(K)
    for i in range(rows):
        a = alpha[i]
        for j in range(K):
            level[j], gain[j], srr[j], srg[j], sgg[j] = 0.0, 1.0, 0.0, 0.0, 0.0
        s = 0
        for t in range(lead, stops[-1]):
            y = Y[i, t]
            if np.isnan(y):
                for j in range(K):  # adds exact zeros, as the array form does
                    srr[j] += 0.0 * 0.0
                    srg[j] += 0.0 * 0.0
                    sgg[j] += 0.0 * 0.0
                    level[j] += a[j] * 0.0
            else:
                for j in range(K):
                    r = y - level[j]
                    g = gain[j]
                    srr[j] += r * r
                    srg[j] += r * g
                    sgg[j] += g * g
                    level[j] += a[j] * r
                    gain[j] = g * (1 - a[j])
            while s < len(stops) and stops[s] == t + 1:
                for j in range(K):
                    l0 = srg[j] / sgg[j] if sgg[j] > 0 else 0.0
                    out_sse[s, i, j] = _floor0(srr[j] - l0 * srg[j])
                    out_level[s, i, j] = level[j] + gain[j] * l0
                s += 1


def _refine(best: np.ndarray, grid: np.ndarray, lo: float, hi: float, n: int = 7) -> np.ndarray:
    """A per-row fine grid between the coarse neighbours of each row's best value."""
    i = np.searchsorted(grid, best)
    left = np.where(i > 0, grid[np.maximum(i - 1, 0)], lo)
    right = np.where(i < len(grid) - 1, grid[np.minimum(i + 1, len(grid) - 1)], hi)
    return left[:, None] + (right - left)[:, None] * np.linspace(0, 1, n)[None, :]


def ses(Y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """Simple exponential smoothing with alpha chosen per row by in-sample SSE.

    Returns ``mean`` (rows × h), ``alpha``,
    ``level``, ``sse``.

    >>> r = ses(np.array([[np.nan, 5.0, 5.0, 5.0, 5.0]]), 2)
    >>> r["mean"].tolist()
    [[5.0, 5.0]]
    """
    sse, _ = _ses_grid(Y, _ALPHA_COARSE)
    best = _ALPHA_COARSE[np.argmin(sse, axis=1)]
    fine = _refine(best, _ALPHA_COARSE, 0.001, 1.0)
    sse, level = _ses_grid(Y, fine)
    j = np.argmin(sse, axis=1)
    rows = np.arange(len(Y))
    alpha, lvl = fine[rows, j], level[rows, j]
    return {
        "mean": np.repeat(lvl[:, None], h, axis=1),
        "alpha": alpha,
        "level": lvl,
        "sse": sse[rows, j],
    }


def theta(Y: np.ndarray, h: int, fitted_ses: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Theta method forecasts (Hyndman & Billah 2003): SES plus half the OLS slope as drift.

    .. math:: \\hat y_{n+h} = \\ell_n + \\tfrac{b}{2}\\,\\big((h-1) + (1-(1-\\alpha)^n)/\\alpha\\big)

    >>> y = np.arange(1.0, 25.0)[None, :]
    >>> bool(theta(y, 3)[0, 0] > 24)
    True
    """
    s = fitted_ses if fitted_ses is not None else ses(Y, h)
    n = (~np.isnan(Y)).sum(axis=1)
    t = np.arange(Y.shape[1], dtype=float)[None, :]
    valid = ~np.isnan(Y)
    tm = np.where(valid, t, 0).sum(axis=1) / n
    ym = np.nansum(Y, axis=1) / n
    dt = np.where(valid, t - tm[:, None], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (dt * np.nan_to_num(Y - ym[:, None])).sum(axis=1) / (dt**2).sum(axis=1)
    slope = np.nan_to_num(slope)
    a = s["alpha"]
    steps = np.arange(h)[None, :] + ((1 - (1 - a) ** n) / a)[:, None]
    return s["mean"] + 0.5 * slope[:, None] * steps


def _damped_grid(
    Y: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    phi: np.ndarray,
    stops: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SSE, final level and trend of ETS(A,Ad,N) for each row × parameter triple.

    With `stops`, recorded after each stop's column count (leading axis), as :func:`_ses_grid`.
    """
    stops, squeeze = _stop_set(Y.shape[1], stops)
    start = _first_valid(Y)
    rows = np.arange(len(Y))
    y0 = Y[rows, start]
    # initial trend: mean first difference over the first (up to) 12 months
    nxt = np.minimum(start + 12, Y.shape[1] - 1)
    b0 = np.where(nxt > start, (Y[rows, nxt] - y0) / np.maximum(nxt - start, 1), 0.0)
    stop = np.sort(np.asarray(stops, dtype=np.int64))
    out = [np.zeros((len(stop), len(Y), alpha.shape[-1])) for _ in range(3)]
    grid = [np.ascontiguousarray(v, dtype=float) for v in (alpha, beta, phi)]
    _damped_rows(_floats(Y), start, y0, b0, *grid, _lead(Y, stops), stop, *out)
    sse_s, level_s, trend_s = out
    return (sse_s[0], level_s[0], trend_s[0]) if squeeze else (sse_s, level_s, trend_s)


@njit(cache=True, nogil=True)
def _damped_rows(
    Y, start, y0, b0, alpha, beta, phi, lead, stops, out_sse, out_level, out_trend
):  # pragma: no cover - compiled
    """The loop of :func:`_damped_grid` for one row at a time, over all parameters at once."""
    K = alpha.shape[0]
    level, trend, sse = np.zeros(K), np.zeros(K), np.zeros(K)
    for i in range(Y.shape[0]):
        for j in range(K):
            level[j], trend[j], sse[j] = y0[i], b0[i], 0.0
        s = 0
        for t in range(lead, stops[-1]):
            y = Y[i, t]
            if t > start[i] and not np.isnan(y):
                for j in range(K):
                    lv, tr = level[j], trend[j]
                    pred = lv + phi[j] * tr
                    e = y - pred
                    ok = not np.isnan(e)
                    e0 = e if ok else 0.0
                    sse[j] += e0 * e0
                    level[j] = pred + alpha[j] * e if ok else lv
                    trend[j] = phi[j] * tr + beta[j] * e if ok else tr
            else:
                for j in range(K):
                    sse[j] += 0.0 * 0.0
            while s < len(stops) and stops[s] == t + 1:
                for j in range(K):
                    out_sse[s, i, j] = sse[j]
                    out_level[s, i, j] = level[j]
                    out_trend[s, i, j] = trend[j]
                s += 1


def damped_trend(Y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """Additive damped trend ETS(A,Ad,N), parameters per row from a grid by in-sample SSE.

    >>> y = np.arange(1.0, 25.0)[None, :]
    >>> f = damped_trend(y, 2)["mean"]
    >>> bool(24 < f[0, 0] < f[0, 1] < 27)
    True
    """
    a, bs, p = np.meshgrid(_ALPHA_COARSE[1:], _BETA_SHARE, _PHI, indexing="ij")
    alpha, beta, phi = a.ravel(), (a * bs).ravel(), p.ravel()
    sse, level, trend = _damped_grid(Y, alpha, beta, phi)
    j = np.argmin(sse, axis=1)
    rows = np.arange(len(Y))
    al, be, ph = alpha[j], beta[j], phi[j]
    lvl, tr = level[rows, j], trend[rows, j]
    cum_phi = np.cumsum(ph[:, None] ** np.arange(1, h + 1)[None, :], axis=1)
    return {
        "mean": lvl[:, None] + cum_phi * tr[:, None],
        "alpha": al,
        "beta": be,
        "phi": ph,
        "cum_phi": cum_phi,
        "sse": sse[rows, j],
    }


_THETA = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0])


_DOTM_ALPHA = np.array([0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99])


def _dotm_grid(
    Y: np.ndarray,
    alpha: np.ndarray,
    theta: np.ndarray,
    nmse: int,
    stops: list[int] | None = None,
) -> tuple[np.ndarray, ...]:
    """Criterion and final states of the dynamic optimised Theta model per row × (alpha, theta).

    State recursions (Fiorucci et al. 2016, eqs. for DOTM), t = 1..n:
    :math:`\\ell_t = \\alpha y_t + (1-\\alpha)\\ell_{t-1}`;
    :math:`\\bar y_t`, and the least-squares intercept :math:`A_t` and slope :math:`B_t` of
    :math:`y_1..y_t` on time, updated recursively; k-step prediction from origin t:
    :math:`\\ell_t + (1 - 1/\\theta)\\{(1-\\alpha)^t A_t + [(k-1) + (1-(1-\\alpha)^{t+1})/\\alpha] B_t\\}`.
    The criterion is the sum over k = 1..`nmse` of in-sample k-step squared errors from
    origins t ≥ 1; predictions are linear in :math:`\\ell_0` (weight :math:`(1-\\alpha)^t`), so it is
    optimised in closed form. With `stops`, every output gets a leading axis: the fit on the
    first *s* columns for each stop *s* (as :func:`_ses_grid`).
    """
    stops, squeeze = _stop_set(Y.shape[1], stops)
    rows, K = len(Y), alpha.shape[-1]
    stop = np.sort(np.asarray(stops, dtype=np.int64))
    out = [np.zeros((len(stop), rows, K)) for _ in range(3)] + [
        np.zeros((len(stop), rows)) for _ in range(2)
    ]
    alpha = np.ascontiguousarray(alpha, dtype=float)
    w = np.ascontiguousarray(1 - 1 / theta, dtype=float)
    _dotm_rows(_floats(Y), alpha, w, nmse, _lead(Y, stops), stop, *out)
    return tuple(v[0] for v in out) if squeeze else tuple(out)


@njit(cache=True, nogil=True)
def _dotm_rows(
    Y, alpha, w, nmse, lead, stops, out_crit, out_level, out_gain, out_A, out_B
):  # pragma: no cover - compiled
    """The loop of :func:`_dotm_grid` for one row at a time, over all (alpha, theta) at once;
    the k-step predictions of the last `nmse` columns are kept in a ring."""
    K = alpha.shape[0]
    level, gain = np.zeros(K), np.zeros(K)
    srr, srg, sgg = np.zeros(K), np.zeros(K), np.zeros(K)
    pred = np.zeros((nmse, nmse, K))  # ring slot (column % nmse) x step x grid point
    gains = np.zeros((nmse, K))
    seen = np.zeros(nmse, dtype=np.bool_)
    base = np.zeros(K)
    for i in range(Y.shape[0]):
        for j in range(K):
            level[j], gain[j], srr[j], srg[j], sgg[j] = 0.0, 1.0, 0.0, 0.0, 0.0
        ybar, A, B, t = 0.0, 0.0, 0.0, 0.0
        s = 0
        for c in range(lead, stops[-1]):
            y = Y[i, c]
            ok = not np.isnan(y)
            for k in range(1, min(nmse, c - lead) + 1):
                slot = (c - k) % nmse
                if ok and seen[slot]:
                    for j in range(K):
                        r = y - pred[slot, k - 1, j]
                        g = gains[slot, j]
                        srr[j] += r * r
                        srg[j] += r * g
                        sgg[j] += g * g
                else:
                    for j in range(K):  # exact zeros, as the array form adds
                        srr[j] += 0.0 * 0.0
                        srg[j] += 0.0 * 0.0
                        sgg[j] += 0.0 * 0.0
            yv = y if ok else 0.0
            tn = t + (1.0 if ok else 0.0)
            if ok:
                for j in range(K):
                    level[j] = alpha[j] * yv + (1 - alpha[j]) * level[j]
                    gain[j] = gain[j] * (1 - alpha[j])
                new_bar = (t * ybar + yv) / max(tn, 1.0)
                if t >= 1:
                    B = ((tn - 2) * B + 6 * (yv - ybar) / max(tn, 1.0)) / (tn + 1)
                else:
                    B = 0.0
                ybar = new_bar
                A = ybar - (tn + 1) * B / 2
            t = tn
            slot = c % nmse
            seen[slot] = t >= 1
            for j in range(K):
                base[j] = (1 - gain[j] * (1 - alpha[j])) / alpha[j]
                gains[slot, j] = gain[j]
            for k in range(nmse):
                for j in range(K):
                    pred[slot, k, j] = level[j] + w[j] * (gain[j] * A + (k + base[j]) * B)
            while s < len(stops) and stops[s] == c + 1:
                for j in range(K):
                    l0 = srg[j] / sgg[j] if sgg[j] > 0 else 0.0
                    out_crit[s, i, j] = _floor0(srr[j] - l0 * srg[j])
                    out_level[s, i, j] = level[j] + gain[j] * l0
                    out_gain[s, i, j] = gain[j]
                out_A[s, i], out_B[s, i] = A, B
                s += 1


def dotm(Y: np.ndarray, h: int, *, nmse: int = 3) -> dict[str, np.ndarray]:
    """Dynamic optimised Theta model (DOTM), alpha and theta from a grid, l0 in closed form.

    Forecast :math:`\\ell_n + (1-1/\\theta)\\{(1-\\alpha)^n A_n + [(h-1) +
    (1-(1-\\alpha)^{n+1})/\\alpha] B_n\\}`; θ = 1 is SES, θ = 2 the dynamic standard Theta
    model. Source: Fiorucci, Pellegrini, Louzada, Petropoulos & Koehler (2016), "Models for
    optimising the theta method and their relationship to state space models", IJF 32(4).
    Returns ``mean``, ``alpha``, ``theta``, ``sse`` (the criterion) and ``ses_mean`` (the
    best θ = 1 fit, i.e. SES).

    >>> y = np.arange(1.0, 25.0)[None, :]
    >>> fit = dotm(y, 2)  # a straight line: the largest theta (6) carries 5/6 of the slope
    >>> print(float(fit["theta"][0]), [round(float(v), 3) for v in fit["mean"][0]])
    6.0 [24.832, 25.665]
    """
    a, th = np.meshgrid(_DOTM_ALPHA, _THETA, indexing="ij")
    alpha, theta = a.ravel(), th.ravel()
    crit, level, gain, A, B = _dotm_grid(Y, alpha, theta, nmse)
    rows = np.arange(len(Y))

    def _forecast(j: np.ndarray) -> np.ndarray:
        al, g = alpha[j], gain[rows, j]
        steps = np.arange(h)[None, :] + ((1 - g * (1 - al)) / al)[:, None]
        w = (1 - 1 / theta[j])[:, None]
        return level[rows, j][:, None] + w * (g[:, None] * A[:, None] + steps * B[:, None])

    j = np.argmin(crit, axis=1)
    j_ses = np.argmin(np.where(theta == 1.0, crit, np.inf), axis=1)
    return {
        "mean": _forecast(j),
        "alpha": alpha[j],
        "theta": theta[j],
        "sse": crit[rows, j],
        "ses_mean": _forecast(j_ses),
    }
