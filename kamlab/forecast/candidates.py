"""The smooth-demand candidate models, fitted at several origins in one pass over the history.

Every function takes a batch ``Z`` (series × periods, right-aligned, NaN before each series'
start) and `stops`, a list of column counts: the result for stop *s* is the forecast made
with the first *s* columns only (the parameters chosen by in-sample error up to *s*, the
states at *s*), exactly what a separate fit on ``Z[:, :s]`` gives, but from one pass over the
columns (the grid kernels of :mod:`kamlab.forecast.smoothing` record their sums at each
stop). Results are arrays (stops × series × h).

Candidates (Hyndman et al. 2008; Fiorucci et al. 2016; Hyndman & Billah 2003):

- ``SES`` — ETS(A,N,N), alpha from a grid, initial level in closed form;
- ``Theta`` — SES plus half the least-squares slope as drift;
- ``DOTM`` — the dynamic optimised Theta model;
- ``Damped`` — ETS(A,Ad,N), phi < 1; ``Holt`` — ETS(A,A,N) (phi = 1), same grid pass;
- ``ARI`` — ARIMA(2,1,0) with drift: AR(2) with intercept on the first differences, by least
  squares (a stationarity check falls back to the mean difference, i.e. a random walk with
  drift);
- ``DOTM+Theta+Damped`` — the mean of those three (the engine's former only method).

The engine applies them to the seasonally adjusted series, on the original scale and in logs,
and adds seasonal naive, naive and the mean (:func:`simple_forecasts`) on the raw series.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kamlab.forecast import smoothing as sm

__all__ = ["MODELS", "model_forecasts", "simple_forecasts", "spread"]

MODELS = ("DOTM+Theta+Damped", "DOTM", "Theta", "Damped", "Holt", "SES", "ARI")

_SES_ALPHA = np.array(
    [0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0]
)
_HOLT_PHI = np.r_[sm._PHI, 1.0]  # the damped grid plus phi = 1 (Holt's linear trend)


def _counts(Z: np.ndarray, stops: list[int]) -> np.ndarray:
    """Observed periods of each row in the first s columns, per stop (stops × rows)."""
    seen = np.cumsum(~np.isnan(Z), axis=1)
    return np.stack([seen[:, s - 1] for s in stops])


def _slope(Z: np.ndarray, stops: list[int]) -> np.ndarray:
    """Least-squares slope of each row on time over its first s columns, per stop."""
    valid = ~np.isnan(Z)
    t = np.broadcast_to(np.arange(Z.shape[1], dtype=float), Z.shape)
    y = np.nan_to_num(Z)
    tv = np.where(valid, t, 0.0)
    sums = [np.cumsum(a, axis=1) for a in (valid.astype(float), tv, y, tv * tv, tv * y)]
    out = []
    for s in stops:
        n, st, sy, stt, sty = (a[:, s - 1] for a in sums)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = (sty - st * sy / n) / (stt - st * st / n)
        out.append(np.nan_to_num(b, nan=0.0, posinf=0.0, neginf=0.0))
    return np.stack(out)


def _pick(values: np.ndarray, j: np.ndarray) -> np.ndarray:
    """values (stops × rows × K) at index j (stops × rows)."""
    return np.take_along_axis(values, j[..., None], axis=2)[..., 0]


def _ari(Z: np.ndarray, stops: list[int], h: int) -> np.ndarray:
    """ARIMA(2,1,0) with drift by least squares on the differences, per stop (see module doc)."""
    rows, T = Z.shape
    D = np.diff(Z, axis=1, prepend=np.nan)  # D[:, t] = Z[:, t] - Z[:, t-1]
    stop = np.sort(np.asarray(stops, dtype=np.int64))
    xtxs, xtys, nobss = (
        np.zeros((len(stop), rows, 3, 3)),
        np.zeros((len(stop), rows, 3)),
        np.zeros((len(stop), rows)),
    )
    _ari_sums(np.ascontiguousarray(D), sm._lead(Z, stops), stop, xtxs, xtys, nobss)
    snaps = list(zip(xtxs, xtys, nobss, strict=True))
    out = np.zeros((len(stops), rows, h))
    for i, (s, (a, b, n)) in enumerate(zip(stops, snaps, strict=True)):
        ridge = 1e-8 * (np.trace(a, axis1=1, axis2=2) + 1.0)
        coef = np.linalg.solve(a + ridge[:, None, None] * np.eye(3), b[..., None])[..., 0]
        c, p1, p2 = coef.T
        stationary = (np.abs(p2) < 1) & (p1 + p2 < 1) & (p2 - p1 < 1) & (n >= 8)
        with np.errstate(invalid="ignore"):
            drift = np.nanmean(np.where(np.arange(T)[None, :] < s, D, np.nan), axis=1)
        drift = np.nan_to_num(drift)
        c = np.where(stationary, c, drift)
        p1, p2 = np.where(stationary, p1, 0.0), np.where(stationary, p2, 0.0)
        last = Z[:, s - 1]
        d1, d2 = np.nan_to_num(D[:, s - 1]), np.nan_to_num(D[:, s - 2])
        level = last.copy()
        for j in range(h):
            d_next = c + p1 * d1 + p2 * d2
            level = level + d_next
            out[i, :, j] = level
            d1, d2 = d_next, d1
    return out


@njit(cache=True, nogil=True)
def _ari_sums(D, lead, stops, out_xtx, out_xty, out_n):  # pragma: no cover - compiled
    """The normal equations of :func:`_ari` (regressors 1, d(t-1), d(t-2); target d(t)) summed
    over each row's columns up to each stop; a column with a NaN adds exact zeros."""
    x = np.zeros(3)
    xtx, xty = np.zeros((3, 3)), np.zeros(3)
    for i in range(D.shape[0]):
        for a in range(3):
            xty[a] = 0.0
            for b in range(3):
                xtx[a, b] = 0.0
        nobs = 0.0
        s = 0
        for t in range(lead, stops[-1]):
            if t >= 3:
                x[0], x[1], x[2] = 1.0, D[i, t - 1], D[i, t - 2]
                ok = not (np.isnan(x[1]) or np.isnan(x[2]) or np.isnan(D[i, t]))
                d = D[i, t] if ok else 0.0
                if not ok:
                    x[0], x[1], x[2] = 0.0, 0.0, 0.0
                for a in range(3):
                    for b in range(3):
                        xtx[a, b] += x[a] * x[b]
                    xty[a] += x[a] * d
                nobs += 1.0 if ok else 0.0
            while s < len(stops) and stops[s] == t + 1:
                for a in range(3):
                    out_xty[s, i, a] = xty[a]
                    for b in range(3):
                        out_xtx[s, i, a, b] = xtx[a, b]
                out_n[s, i] = nobs
                s += 1


def model_forecasts(
    Z: np.ndarray, h: int, stops: list[int]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Forecasts of every model in :data:`MODELS` per stop, and the fit statistics for spread.

    Returns ``(forecasts, fit)``: forecasts[name] is (stops × rows × h); fit holds ``n``,
    ``ses_sse``, ``damped_sse`` and the damped parameters ``alpha``, ``beta``, ``cum_phi``
    (for :func:`spread`), each with the leading stops axis.
    """
    steps = np.arange(h, dtype=float)
    n = _counts(Z, stops)
    # SES (and Theta's SES part)
    sse, level = sm._ses_grid(Z, _SES_ALPHA, stops)
    j = np.argmin(sse, axis=2)
    ses_level, ses_sse, ses_alpha = _pick(level, j), _pick(sse, j), _SES_ALPHA[j]
    out = {"SES": np.repeat(ses_level[..., None], h, axis=2)}
    slope = _slope(Z, stops)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lead = (1 - (1 - ses_alpha) ** n) / ses_alpha
    out["Theta"] = ses_level[..., None] + 0.5 * slope[..., None] * (steps + lead[..., None])
    # damped trend and Holt from one grid (phi = 1 is Holt)
    a, bs, p = np.meshgrid(sm._ALPHA_COARSE[1:], sm._BETA_SHARE, _HOLT_PHI, indexing="ij")
    alpha, beta, phi = a.ravel(), (a * bs).ravel(), p.ravel()
    sse_d, lvl_d, tr_d = sm._damped_grid(Z, alpha, beta, phi, stops)
    damped_sse = np.where(phi < 1, sse_d, np.inf)
    jd = np.argmin(damped_sse, axis=2)
    ph = phi[jd]
    cum_phi = np.cumsum(ph[..., None] ** (steps + 1), axis=2)
    out["Damped"] = _pick(lvl_d, jd)[..., None] + cum_phi * _pick(tr_d, jd)[..., None]
    jh = np.argmin(np.where(phi == 1, sse_d, np.inf), axis=2)
    out["Holt"] = _pick(lvl_d, jh)[..., None] + (steps + 1) * _pick(tr_d, jh)[..., None]
    # DOTM
    at, th = np.meshgrid(sm._DOTM_ALPHA, sm._THETA, indexing="ij")
    al, theta = at.ravel(), th.ravel()
    crit, lvl, gain, A, B = sm._dotm_grid(Z, al, theta, 3, stops)
    jt = np.argmin(crit, axis=2)
    g, a_j, w = _pick(gain, jt), al[jt], 1 - 1 / theta[jt]
    lead = (1 - g * (1 - a_j)) / a_j
    out["DOTM"] = _pick(lvl, jt)[..., None] + w[..., None] * (
        (g * A)[..., None] + (steps + lead[..., None]) * B[..., None]
    )
    out["ARI"] = _ari(Z, stops, h)
    fit = {
        "n": n,
        "ses_sse": ses_sse,
        "damped_sse": _pick(sse_d, jd),
        "alpha": alpha[jd],
        "beta": beta[jd],
        "cum_phi": cum_phi,
    }
    return out, fit


def combine_theta_damped(forecasts: dict[str, np.ndarray]) -> np.ndarray:
    """The mean of DOTM, Theta and damped trend (on whatever scale they are given)."""
    return (forecasts["DOTM"] + forecasts["Theta"] + forecasts["Damped"]) / 3


def spread(fit: dict[str, np.ndarray], h: int) -> np.ndarray:
    """h-step standard deviation (stops × rows × h) on the scale the models were fitted on.

    One-step variance: the mean of the SES and damped-trend in-sample error variances
    (denominator n − 3); growth with horizon as ETS(A,Ad,N):
    :math:`\\sigma^2 (1 + \\sum_{j=1}^{h-1} c_j^2)`, :math:`c_j = \\alpha + \\beta\\phi_j`
    (Hyndman et al. 2008, table 6.1).
    """
    sigma2 = (fit["ses_sse"] + fit["damped_sse"]) / 2 / np.maximum(fit["n"] - 3, 1)
    c = fit["alpha"][..., None] + fit["beta"][..., None] * fit["cum_phi"][..., : h - 1]
    mult = np.concatenate([np.ones(c.shape[:-1] + (1,)), 1 + np.cumsum(c**2, axis=-1)], axis=-1)
    return np.sqrt(sigma2[..., None] * mult)


def simple_forecasts(Y: np.ndarray, h: int, stops: list[int], m: int) -> dict[str, np.ndarray]:
    """Seasonal naive, naive and the mean of the history per stop (stops × rows × h).

    Seasonal naive repeats the last `m` periods before the stop (naive where fewer than `m`
    are observed).
    """
    rows = len(Y)
    j = np.arange(h)
    out = {k: np.zeros((len(stops), rows, h)) for k in ("Seasonal naive", "Naive", "Mean")}
    for i, s in enumerate(stops):
        hist = Y[:, :s]
        last = hist[:, -1]
        out["Naive"][i] = last[:, None]
        with np.errstate(invalid="ignore"):
            out["Mean"][i] = np.nanmean(hist, axis=1)[:, None]
        if s >= m:
            src = s - m + (j % m)
            snaive = hist[:, src]
            short = np.isnan(hist[:, s - m])
            out["Seasonal naive"][i] = np.where(short[:, None], last[:, None], snaive)
        else:
            out["Seasonal naive"][i] = last[:, None]
    return out
