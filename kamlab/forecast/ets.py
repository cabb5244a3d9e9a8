"""Seasonal state-space exponential smoothing (ETS), chosen per series by AICc.

Models (Hyndman, Koehler, Ord & Snyder 2008, "Forecasting with Exponential Smoothing: the
State Space Approach", tables 2.2/2.3): error A or M, trend N, additive (A) or damped
additive (Ad), season N, A or M — the fifteen of :data:`MODELS` (additive error with a
multiplicative season is left out, as ``forecast::ets`` does by default: it is numerically
unstable). With the one-step
prediction :math:`\\mu_t` and :math:`\\varepsilon_t = (y_t - \\mu_t)/\\mu_t`:

- season N or A: :math:`\\mu_t = \\ell_{t-1} + \\phi b_{t-1} + s_{t-m}`;
  :math:`\\ell_t = \\ell_{t-1} + \\phi b_{t-1} + \\alpha e_t`, :math:`b_t = \\phi b_{t-1} + \\beta e_t`,
  :math:`s_t = s_{t-m} + \\gamma e_t` with :math:`e_t = y_t - \\mu_t` — the same recursion for
  additive and multiplicative error (:math:`\\mu_t\\varepsilon_t = e_t`), so one pass scores both;
- season M (error M): :math:`\\mu_t = (\\ell_{t-1} + \\phi b_{t-1}) s_{t-m}`;
  :math:`\\ell_t = (\\ell_{t-1} + \\phi b_{t-1})(1 + \\alpha\\varepsilon_t)`,
  :math:`b_t = \\phi b_{t-1} + \\beta(\\ell_{t-1} + \\phi b_{t-1})\\varepsilon_t`,
  :math:`s_t = s_{t-m}(1 + \\gamma\\varepsilon_t)`.

Criterion (Hyndman et al. 2008, §5.2): :math:`n\\log(\\sum e_t^2/n)` (error A) or
:math:`n\\log(\\sum \\varepsilon_t^2/n) + 2\\sum\\log\\mu_t` (error M), plus the AICc penalty
:math:`2k + 2k(k+1)/(n-k-1)`, *k* counting the smoothing parameters, the initial states
(level, trend, *m* − 1 seasonal) and σ, as ``forecast::ets`` does. Multiplicative models need
every value so far positive. Parameters come from a grid (α; β as a share of α; φ; γ as a
share of 1 − α), initial states from the heuristic of §2.6.1: seasonal indices from the first
two or three seasons against a least-squares line, then level and trend from a line through
the seasonally adjusted first values. The recursions are compiled (numba, one row at a time,
the whole grid per row) and, like the other kernels, record their fits at several column
counts ("stops") in one pass, for the rolling-origin validation.

h-step spread: the class-1 formula :math:`\\sigma^2(1 + \\sum_{j<h} c_j^2)`,
:math:`c_j = \\alpha + \\beta\\sum_{i\\le j}\\phi^i + \\gamma[j \\bmod m = 0]` (table 6.1),
for multiplicative error taken relative to the point forecast (an approximation).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["MODELS", "ets", "ets_forecasts"]

MODELS = (
    "ANN", "AAdN", "ANA", "AAdA", "MNN", "MAdN", "MNA", "MAdA", "MNM", "MAdM",
    "AAN", "AAA", "MAN", "MAA", "MAM",
)  # fmt: skip
_SEASONAL = np.array([name[-1] != "N" for name in MODELS])
_ALL = np.ones(len(MODELS), dtype=bool)
# without the undamped trends (A): they lost on the development sets' validation windows
# inside the median and the seasonal choice (benchmarks/forecast_notes.md)
_DAMPED = np.array([name[1:-1] != "A" for name in MODELS])
_ALPHA = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
_BETA_SHARE = np.array([0.02, 0.1, 0.3])
_PHI = np.array([0.8, 0.9, 0.98, 1.0])  # phi = 1: the undamped trend (A)
_GAMMA_SHARE = np.array([0.02, 0.1, 0.3])
# recursion families: (trend, season 0 none / 1 additive / 2 multiplicative), the model index
# scored with additive error and with multiplicative error (-1: not scored), and the same for
# the grid points with phi = 1 (the undamped trend)
_FAMILIES = (
    (False, 0, 0, 4, -1, -1),
    (True, 0, 1, 5, 10, 12),
    (False, 1, 2, 6, -1, -1),
    (True, 1, 3, 7, 11, 13),
    (False, 2, -1, 8, -1, -1),
    (True, 2, -1, 9, -1, 14),
)


def _grid(damped: bool, seasonal: bool) -> tuple[np.ndarray, ...]:
    """alpha, beta, phi, gamma of every grid point of one family."""
    a = _ALPHA
    b = _BETA_SHARE if damped else np.zeros(1)
    p = _PHI if damped else np.zeros(1)
    g = _GAMMA_SHARE if seasonal else np.zeros(1)
    A, B, P, G = (v.ravel() for v in np.meshgrid(a, b, p, g, indexing="ij"))
    return A, A * B, P, (1 - A) * G


@njit(cache=True, inline="always")
def _adjusted(y, idx, k, season, m):  # pragma: no cover - compiled
    """Value `y` at position `k` with the seasonal index removed (1: minus, 2: divided by)."""
    if season == 1:
        return y - idx[k % m]
    if season == 2:
        return y / idx[k % m]
    return y


@njit(cache=True, nogil=True)
def _line(Y, i, st, w, idx, season, m):  # pragma: no cover - compiled
    """Least-squares intercept (at the first value) and slope of the first `w` values of row
    `i` after removing the seasonal indices `idx` (season 1: minus, 2: divided by)."""
    st_t = 0.0
    sy = 0.0
    stt = 0.0
    sty = 0.0
    for k in range(w):
        y = _adjusted(Y[i, st + k], idx, k, season, m)
        st_t += k
        sy += y
        stt += k * k
        sty += k * y
    den = stt - st_t * st_t / w
    slope = (sty - st_t * sy / w) / den if den > 0 else 0.0
    return sy / w - slope * st_t / w, slope


@njit(cache=True, nogil=True)
def _ets_rows(
    Y,
    start,
    init_n,
    stops,
    m,
    damped,
    season,
    npar,
    alpha,
    beta,
    phi,
    gamma,
    model_a,
    model_m,
    undamped_a,
    undamped_m,
    out_crit,
    out_fc,
    out_sig2,
    out_par,
):  # pragma: no cover - compiled
    """One recursion family over every row and grid point; at each stop keeps, per error
    type, the grid point with the lowest AICc: its criterion, forecast path, σ² and
    parameters (α, β, φ, γ)."""
    rows = Y.shape[0]
    K = alpha.shape[0]
    S = stops.shape[0]
    h = out_fc.shape[3]
    mm = max(m, 1)
    ring = np.zeros(mm)
    idx = np.ones(mm)
    for i in range(rows):
        st = start[i]
        w = init_n[i]
        if w < (2 * m if season > 0 else 2):
            continue
        # initial states (Hyndman et al. 2008, §2.6.1)
        for p in range(mm):
            idx[p] = 0.0 if season == 1 else 1.0
        ok = True
        if season > 0:
            c, d = _line(Y, i, st, w, idx, 0, mm)
            cnt = np.zeros(mm)
            acc = np.zeros(mm)
            for k in range(w):
                fit = c + d * k
                y = Y[i, st + k]
                if season == 1:
                    acc[k % mm] += y - fit
                else:
                    if fit <= 0 or y <= 0:
                        ok = False
                    else:
                        acc[k % mm] += y / fit
                cnt[k % mm] += 1
            if not ok:
                continue
            tot = 0.0
            for p in range(mm):
                idx[p] = acc[p] / cnt[p]
                tot += idx[p]
            for p in range(mm):
                if season == 1:
                    idx[p] -= tot / mm
                else:
                    idx[p] /= tot / mm
                    if idx[p] <= 0.05:
                        ok = False
            if not ok:
                continue
        c, d = _line(Y, i, st, w, idx, season, mm)
        if damped:
            l0, b0 = c - d, d
        else:
            l0, b0 = 0.0, 0.0
            nl = min(w, mm if mm > 1 else 4)
            for k in range(nl):
                l0 += _adjusted(Y[i, st + k], idx, k, season, mm) / nl
        for j in range(K):
            a, be, ph, g = alpha[j], beta[j], phi[j], gamma[j]
            lvl, tr = l0, b0
            for p in range(mm):
                ring[p] = idx[p]
            sse, sre, slog, n = 0.0, 0.0, 0.0, 0
            positive, broken = True, False
            si = 0
            while si < S and stops[si] <= st:
                si += 1
            for t in range(st, stops[S - 1]):
                k = t - st
                p = k % mm
                y = Y[i, t]
                tp = ph * tr
                base = lvl + tp
                if season == 1:
                    mu = base + ring[p]
                elif season == 2:
                    mu = base * ring[p]
                else:
                    mu = base
                if not np.isnan(y):
                    e = y - mu
                    n += 1
                    sse += e * e
                    if positive and mu > 0 and y > 0:
                        r = e / mu
                        sre += r * r
                        slog += np.log(mu)
                    else:
                        positive = False
                    if season == 2:
                        if mu <= 0 or base <= 0:
                            broken = True
                            break
                        r = e / mu
                        lvl = base * (1 + a * r)
                        tr = tp + be * base * r
                        ring[p] = ring[p] * (1 + g * r)
                    else:
                        lvl = base + a * e
                        tr = tp + be * e
                        if season == 1:
                            ring[p] += g * e
                else:
                    lvl, tr = base, tp
                while si < S and stops[si] == t + 1:
                    kp = npar - 1 if ph == 1.0 else npar
                    if n - kp - 1 > 0:
                        pen = 2.0 * kp + 2.0 * kp * (kp + 1) / (n - kp - 1)
                        for err in range(2):
                            if ph == 1.0:
                                mi = undamped_a if err == 0 else undamped_m
                            else:
                                mi = model_a if err == 0 else model_m
                            if mi < 0 or (err == 1 and not positive):
                                continue
                            if err == 0:
                                crit = n * np.log(max(sse / n, 1e-300)) + pen
                            else:
                                crit = n * np.log(max(sre / n, 1e-300)) + 2 * slog + pen
                            if crit < out_crit[si, i, mi]:
                                out_crit[si, i, mi] = crit
                                s2 = (sse if err == 0 else sre) / max(n - kp, 1)
                                out_sig2[si, i, mi] = s2
                                out_par[si, i, mi, 0] = a
                                out_par[si, i, mi, 1] = be
                                out_par[si, i, mi, 2] = ph
                                out_par[si, i, mi, 3] = g
                                cum = 0.0
                                phq = 1.0
                                for q in range(h):
                                    phq *= ph
                                    cum += phq
                                    f = lvl + cum * tr
                                    sp = ring[(k + 1 + q) % mm]
                                    if season == 1:
                                        f += sp
                                    elif season == 2:
                                        f *= sp
                                    out_fc[si, i, mi, q] = f
                    si += 1
            if broken:
                continue


def _start(Y: np.ndarray) -> np.ndarray:
    return np.argmax(~np.isnan(Y), axis=1).astype(np.int64)


def ets_forecasts(Y: np.ndarray, h: int, stops: list[int], m: int) -> dict[str, np.ndarray]:
    """Every ETS model's best fit at each stop, and the AICc choice among them.

    `Y` is a right-aligned batch (rows × periods, NaN before each start, none after). The
    initial states of every stop come from the values before the first stop (at most three
    seasons; seasonal models need two, non-seasonal ones the first ten values or fewer).
    Returns (stop axis first) ``crit`` (stops × rows × models, inf where a model cannot be
    fitted), ``forecasts`` (stops × rows × models × h), ``mean`` and ``sigma`` of the AICc
    choice (stops × rows × h), ``model`` (its index in :data:`MODELS`, -1 where none fits:
    then ``mean`` is NaN) and ``seasonal`` (stops × rows); the same four prefixed
    ``seasonal_`` for the AICc choice among the seasonal models without an undamped trend,
    ``damped_`` for the choice among all models without an undamped trend.
    """
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    rows = len(Y)
    stop = np.sort(np.asarray(stops, dtype=np.int64))
    S = len(stop)
    start = _start(Y)
    before = np.maximum(stop[0] - start, 0)
    M = len(MODELS)
    crit = np.full((S, rows, M), np.inf)
    fc = np.full((S, rows, M, h), np.nan)
    sig2 = np.full((S, rows, M), np.nan)
    par = np.zeros((S, rows, M, 4))
    mm = max(int(m), 1)
    for damped, season, ma, mmod, ua, um in _FAMILIES:
        if season and mm < 2:
            continue
        if season:
            w = np.minimum(before, 3 * mm) // mm * mm
        else:
            w = np.minimum(before, 10)
        npar = 2 + (3 if damped else 0) + (mm if season else 0) + 1
        a, b, p, g = _grid(damped, bool(season))
        _ets_rows(
            Y,
            start,
            w.astype(np.int64),
            stop,
            mm,
            damped,
            season,
            npar,
            a,
            b,
            p,
            g,
            ma,
            mmod,
            ua,
            um,
            crit,
            fc,
            sig2,
            par,
        )
    out = {"crit": crit, "forecasts": fc}
    subsets = (("", _ALL), ("seasonal_", _SEASONAL & _DAMPED), ("damped_", _DAMPED))
    for prefix, allowed in subsets:
        pick = _choice(np.where(allowed, crit, np.inf), fc, sig2, par, mm)
        out.update({prefix + k: v for k, v in pick.items()})
    return out


def _choice(
    crit: np.ndarray, fc: np.ndarray, sig2: np.ndarray, par: np.ndarray, m: int
) -> dict[str, np.ndarray]:
    """The lowest-AICc model per stop and row: mean, sigma, model index (-1: none), seasonal."""
    S, rows, _, h = fc.shape
    best = np.argmin(crit, axis=2)
    none = ~np.isfinite(np.take_along_axis(crit, best[..., None], axis=2)[..., 0])
    pick = best[..., None, None]
    mean = np.take_along_axis(fc, np.broadcast_to(pick, (S, rows, 1, h)), axis=2)[:, :, 0]
    s2 = np.take_along_axis(sig2, best[..., None], axis=2)[..., 0]
    pb = np.take_along_axis(par, np.broadcast_to(pick, (S, rows, 1, 4)), axis=2)[:, :, 0]
    alpha, beta, phi, gamma = (pb[..., c] for c in range(4))
    j = np.arange(1, h)
    cum_phi = np.cumsum(phi[..., None] ** j, axis=-1) if h > 1 else np.zeros((S, rows, 0))
    season_hit = (j % m == 0) if m > 1 else np.zeros(len(j), dtype=bool)
    c = alpha[..., None] + beta[..., None] * cum_phi + gamma[..., None] * season_hit
    mult = np.concatenate([np.ones((S, rows, 1)), 1 + np.cumsum(c**2, axis=-1)], axis=-1)
    sd = np.sqrt(np.nan_to_num(s2)[..., None] * mult)
    relative = np.array([name[0] == "M" for name in MODELS])[best]
    sigma = np.where(relative[..., None], np.abs(mean) * sd, sd)
    return {
        "mean": np.where(none[..., None], np.nan, mean),
        "sigma": sigma,
        "model": np.where(none, -1, best),
        "seasonal": _SEASONAL[best] & ~none,
    }


def ets(Y: np.ndarray, h: int, m: int) -> dict[str, np.ndarray]:
    """ETS chosen by AICc per row, fitted on all of `Y` (the single-origin form).

    Returns ``mean`` (rows × h), ``sigma`` (h-step standard deviation), ``model`` (name per
    row, "" where none fits) and ``crit`` (rows × models).

    >>> t = np.arange(48)
    >>> y = (100 + t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    >>> ets(y[None, :], 12, 12)["model"][0][-1]  # a seasonal model
    'M'
    """
    r = ets_forecasts(Y, h, [Y.shape[1]], m)
    names = np.array([*MODELS, ""])
    return {
        "mean": r["mean"][0],
        "sigma": r["sigma"][0],
        "model": names[r["model"][0]],
        "crit": r["crit"][0],
    }
