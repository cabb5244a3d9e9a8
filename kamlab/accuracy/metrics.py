"""Forecast error metrics as array kernels: ``name(y_true, y_pred, *, ...) -> float``.

Notation (../shared/DOMAIN.md, "Error metrics"): *y* actual, *f* forecast, *e = f − y*,
*n* scored points. Names ending in an error (``mae``, ``wape`` ...) are lower-is-better;
``accuracy`` and ``coverage`` are higher-is-better; ``bias`` and ``tracking_signal`` are
signed and best at 0.

Shared edge-case rules, so that no kernel returns ``inf`` or a silent ``NaN``:

* a pair where *y* or *f* is NaN is skipped (a missing actual is "not known yet");
* no points left (empty input, or all NaN) returns ``nan``: there is nothing to score;
* a ratio whose denominator is 0 returns 0.0 when its numerator is 0 too (a perfect
  forecast of zero demand) and ``nan`` otherwise (undefined, e.g. WAPE when all actuals
  are 0 but the forecast is not); the frame functions (:func:`kamlab.accuracy.score`) put
  the reason beside such a value.

Sources: Hyndman & Koehler (2006), "Another look at measures of forecast accuracy",
*International Journal of Forecasting* 22(4) (MAE, RMSE, MAPE, MASE); Makridakis & Hibon
(2000), "The M3-Competition", IJF 16(4), and Makridakis, Spiliotis & Assimakopoulos (2020),
"The M4 Competition", IJF 36(1) (sMAPE, RMSSE in M5); Kolassa & Schütz (2007), "Advantages
of the MAD/Mean ratio over the MAPE", *Foresight* 6 (WAPE); Brown (1959), *Statistical
Forecasting for Inventory Control* (tracking signal); Koenker & Bassett (1978), "Regression
quantiles", *Econometrica* 46(1) (pinball loss); Gneiting & Raftery (2007), "Strictly proper
scoring rules, prediction, and estimation", *JASA* 102(477), and Winkler (1972) (interval
score).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "accuracy",
    "bias",
    "coverage",
    "mae",
    "mape",
    "mase",
    "pinball_loss",
    "rmse",
    "rmsse",
    "smape",
    "tracking_signal",
    "wape",
    "winkler_score",
]

ArrayLike = Sequence[float] | np.ndarray


def _clean(*arrays: ArrayLike) -> tuple[np.ndarray, ...]:
    """Float arrays of equal length with every position holding a NaN in any array dropped."""
    arrs = [np.asarray(a, dtype="float64").ravel() for a in arrays]
    n = len(arrs[0])
    if any(len(a) != n for a in arrs):
        lengths = [len(a) for a in arrs]
        raise ValueError(f"accuracy metrics: inputs must have equal length, got {lengths}")
    keep = np.ones(n, dtype=bool)
    for a in arrs:
        keep &= ~np.isnan(a)
    return tuple(a[keep] for a in arrs)


def _ratio(num: float, den: float) -> float:
    """num / den, with 0/0 = 0.0 and x/0 = nan (never inf)."""
    if den == 0:
        return 0.0 if num == 0 else float("nan")
    return float(num / den)


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error, in the unit of the data (lower is better, best 0).

    .. math:: MAE = \\frac{1}{n} \\sum_t |y_t - f_t|

    Source: Hyndman & Koehler (2006). Empty input returns ``nan``; NaN pairs are skipped.

    >>> mae([10, 0, 5], [8, 1, 5])
    1.0
    """
    y, f = _clean(y_true, y_pred)
    return float(np.mean(np.abs(f - y))) if len(y) else float("nan")


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error, in the unit of the data (lower is better, best 0).

    .. math:: RMSE = \\sqrt{\\frac{1}{n} \\sum_t (y_t - f_t)^2}

    Source: Hyndman & Koehler (2006). Empty input returns ``nan``; NaN pairs are skipped.

    >>> rmse([10, 0, 5], [8, 1, 5])  # sqrt((4 + 1 + 0) / 3)
    1.2909944487358056
    """
    y, f = _clean(y_true, y_pred)
    return float(np.sqrt(np.mean((f - y) ** 2))) if len(y) else float("nan")


def mape(
    y_true: ArrayLike, y_pred: ArrayLike, *, return_excluded: bool = False
) -> float | tuple[float, int]:
    """Mean absolute percentage error over the points with non-zero actuals, in % (lower is better).

    .. math:: MAPE = \\frac{100}{n_{y \\ne 0}} \\sum_{t: y_t \\ne 0} \\frac{|y_t - f_t|}{|y_t|}

    Points with *y* = 0 are excluded (the term is undefined); with ``return_excluded=True`` the
    result is ``(mape, number of points excluded)`` so a report can say how many. No non-zero
    actual left (empty or all-zero actuals) returns ``nan``. Unit: percent, not a fraction
    (scikit-learn's ``mean_absolute_percentage_error`` returns a fraction and keeps y = 0 with
    a tiny epsilon denominator; kamlab follows DOMAIN.md and Hyndman & Koehler 2006).

    >>> mape([10, 0, 5], [8, 1, 5], return_excluded=True)  # (20 % + 0 %) / 2, one y = 0
    (10.0, 1)
    """
    y, f = _clean(y_true, y_pred)
    nz = y != 0
    value = float(100 * np.mean(np.abs(f[nz] - y[nz]) / np.abs(y[nz]))) if nz.any() else np.nan
    return (float(value), int((~nz).sum())) if return_excluded else float(value)


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric MAPE, M3/M4 convention, in % from 0 to 200 (lower is better).

    .. math:: sMAPE = \\frac{200}{n} \\sum_t \\frac{|y_t - f_t|}{|y_t| + |f_t|}

    A term with y = f = 0 counts 0 (a perfect forecast of no demand). Source: Makridakis &
    Hibon (2000), M3; Makridakis et al. (2020), M4. utilsforecast's ``smape`` averages
    |y − f| / (|y| + |f|) without the factor 200 (a fraction from 0 to 1); kamlab keeps the
    competitions' percent scale so figures compare with the published M3/M4 results.
    Empty input returns ``nan``.

    >>> smape([10, 0, 0], [8, 1, 0])  # 200 * (2/18 + 1/1 + 0) / 3
    74.07407407407408
    """
    y, f = _clean(y_true, y_pred)
    if not len(y):
        return float("nan")
    den = np.abs(y) + np.abs(f)
    terms = np.divide(np.abs(f - y), den, out=np.zeros_like(den), where=den != 0)
    return float(200 * np.mean(terms))


def wape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Weighted absolute percentage error (MAD/Mean ratio), a fraction (lower is better, best 0).

    .. math:: WAPE = \\frac{\\sum_t |y_t - f_t|}{\\sum_t |y_t|}

    Source: Kolassa & Schütz (2007). All actuals 0: 0.0 if every forecast is 0 too, else
    ``nan`` (undefined). Empty input returns ``nan``.

    >>> wape([10, 0, 5], [8, 1, 5])  # (2 + 1 + 0) / 15
    0.2
    """
    y, f = _clean(y_true, y_pred)
    if not len(y):
        return float("nan")
    return _ratio(np.abs(f - y).sum(), np.abs(y).sum())


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Supply-chain forecast accuracy, a fraction from 0 to 1 (higher is better, best 1).

    .. math:: accuracy = \\max(0,\\ 1 - WAPE)

    The usual S&OP figure (e.g. Gilliland 2010, *The Business Forecasting Deal*). All actuals
    0: 1.0 if every forecast is 0 too, else 0.0 (the limit of WAPE → ∞). Empty input returns
    ``nan``.

    >>> accuracy([10, 0, 5], [8, 1, 5])
    0.8
    >>> accuracy([0, 0], [3, 0])
    0.0
    """
    y, f = _clean(y_true, y_pred)
    if not len(y):
        return float("nan")
    err, vol = np.abs(f - y).sum(), np.abs(y).sum()
    if vol == 0:
        return 1.0 if err == 0 else 0.0
    return float(max(0.0, 1.0 - err / vol))


def bias(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Relative bias, a signed fraction (best 0; positive = over-forecast).

    .. math:: bias = \\frac{\\sum_t (f_t - y_t)}{\\sum_t y_t}

    Source: DOMAIN.md; the "percent bias" of supply-chain practice (Gilliland 2010). Sum of
    actuals 0: 0.0 if the errors sum to 0, else ``nan``. Empty input returns ``nan``.

    >>> bias([10, 0, 5], [8, 1, 5])  # (-2 + 1 + 0) / 15
    -0.06666666666666667
    """
    y, f = _clean(y_true, y_pred)
    if not len(y):
        return float("nan")
    return _ratio((f - y).sum(), y.sum())


def _naive_scale(y_train: ArrayLike, season_length: int, power: int) -> float:
    """In-sample mean of |y_t − y_{t−m}|^power, m = season_length (1 if the history is too short)."""
    (y,) = _clean(y_train)
    m = season_length if len(y) > season_length else 1
    if len(y) <= m:
        return float("nan")
    return float(np.mean(np.abs(y[m:] - y[:-m]) ** power))


def mase(
    y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike, season_length: int = 12
) -> float:
    """Mean absolute scaled error, unitless (lower is better; < 1 beats the in-sample naive).

    .. math::

        MASE = \\frac{\\frac{1}{n}\\sum_t |y_t - f_t|}
                     {\\frac{1}{T-m}\\sum_{j=m+1}^{T} |y_j - y_{j-m}|}

    The scale is the in-sample MAE of the seasonal naive forecast on `y_train` (the history,
    NaN skipped), with m = `season_length` (12 for months), or m = 1 when the history has no
    more than m points. Source: Hyndman & Koehler (2006). Edge cases: fewer than 2 history
    points → ``nan``; a scale of 0 (a flat history, e.g. all zeros) → 0.0 if the forecast is
    perfect, else ``nan``: a finite MASE would need an arbitrary floor, and ∞ would break any
    mean taken over series, so kamlab reports it as undefined and says why. Empty input
    returns ``nan``.

    >>> mase([3, 5], [4, 4], y_train=[1, 2, 4, 3], season_length=12)  # 1 / mean(1, 2, 1)
    0.75
    """
    y, f = _clean(y_true, y_pred)
    scale = _naive_scale(y_train, season_length, 1)
    if not len(y) or np.isnan(scale):
        return float("nan")
    return _ratio(np.mean(np.abs(f - y)), scale)


def rmsse(
    y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike, season_length: int = 12
) -> float:
    """Root mean squared scaled error, unitless (lower is better).

    .. math::

        RMSSE = \\sqrt{\\frac{\\frac{1}{n}\\sum_t (y_t - f_t)^2}
                            {\\frac{1}{T-m}\\sum_{j=m+1}^{T} (y_j - y_{j-m})^2}}

    Scale and edge cases as :func:`mase`, with squares. Source: Hyndman & Koehler (2006);
    used in the M5 competition (Makridakis, Spiliotis & Assimakopoulos 2022, IJF 38(4)).

    >>> rmsse([3, 5], [4, 4], y_train=[1, 2, 4, 3])  # sqrt(1 / mean(1, 4, 1))
    0.7071067811865476
    """
    y, f = _clean(y_true, y_pred)
    scale = _naive_scale(y_train, season_length, 2)
    if not len(y) or np.isnan(scale):
        return float("nan")
    ratio = _ratio(np.mean((f - y) ** 2), scale)
    return float(np.sqrt(ratio))


def tracking_signal(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Tracking signal: cumulative error in units of the mean absolute deviation (best 0).

    .. math:: TS = \\frac{\\sum_t (y_t - f_t)}{MAD}, \\qquad MAD = \\frac{1}{n}\\sum_t |y_t - f_t|

    Sign as in DOMAIN.md and Brown (1959): **positive = actuals above forecast, i.e.
    under-forecast** (the opposite sign to :func:`bias`). It lies in [−n, n]; |TS| > 4
    (``AccuracySettings.tracking_signal_limit``) flags persistent bias. MAD = 0 (every
    forecast exact) → 0.0. Empty input returns ``nan``.

    >>> tracking_signal([10, 12, 11], [8, 9, 12])  # (2 + 3 - 1) / 2
    2.0
    """
    y, f = _clean(y_true, y_pred)
    if not len(y):
        return float("nan")
    return _ratio((y - f).sum(), np.mean(np.abs(y - f)))


def pinball_loss(y_true: ArrayLike, y_pred: ArrayLike, *, quantile: float = 0.5) -> float:
    """Mean pinball (quantile) loss of a `quantile` forecast, in the unit of the data (lower is better).

    .. math:: L_q = \\frac{1}{n}\\sum_t \\max\\big(q (y_t - f_t),\\ (q - 1)(y_t - f_t)\\big)

    Source: Koenker & Bassett (1978). At q = 0.5 it is half the MAE. Empty input returns
    ``nan``; `quantile` must lie in (0, 1).

    >>> pinball_loss([10, 10], [8, 12], quantile=0.9)  # (0.9*2 + 0.1*2) / 2
    1.0
    """
    if not 0 < quantile < 1:
        raise ValueError(f"pinball_loss: quantile must lie in (0, 1), got {quantile}")
    y, f = _clean(y_true, y_pred)
    if not len(y):
        return float("nan")
    d = y - f
    return float(np.mean(np.maximum(quantile * d, (quantile - 1) * d)))


def coverage(y_true: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actuals inside their prediction interval [lower, upper], a fraction (best = the nominal level).

    .. math:: coverage = \\frac{1}{n}\\sum_t \\mathbf{1}\\{l_t \\le y_t \\le u_t\\}

    Bounds are inclusive. Source: Gneiting & Raftery (2007), calibration of interval
    forecasts. Empty input returns ``nan``.

    >>> coverage([5, 9, 1], [4, 4, 2], [6, 8, 3])
    0.3333333333333333
    """
    y, lo, hi = _clean(y_true, lower, upper)
    if not len(y):
        return float("nan")
    return float(np.mean((y >= lo) & (y <= hi)))


def winkler_score(
    y_true: ArrayLike, lower: ArrayLike, upper: ArrayLike, *, level: float = 80
) -> float:
    """Mean interval (Winkler) score of central `level` % intervals, in data units (lower is better).

    .. math::

        S_\\alpha = \\frac{1}{n}\\sum_t (u_t - l_t)
            + \\frac{2}{\\alpha}(l_t - y_t)\\mathbf{1}\\{y_t < l_t\\}
            + \\frac{2}{\\alpha}(y_t - u_t)\\mathbf{1}\\{y_t > u_t\\},
        \\qquad \\alpha = 1 - level/100

    Source: Winkler (1972); Gneiting & Raftery (2007), eq. 43 (the interval score). Empty
    input returns ``nan``; `level` must lie in (0, 100).

    >>> winkler_score([5, 9], [4, 4], [6, 8], level=80)  # (2 + (4 + 2 / 0.2 * 1)) / 2
    8.0
    """
    if not 0 < level < 100:
        raise ValueError(f"winkler_score: level must lie in (0, 100), got {level}")
    y, lo, hi = _clean(y_true, lower, upper)
    if not len(y):
        return float("nan")
    alpha = 1 - level / 100
    penalty = (2 / alpha) * (np.clip(lo - y, 0, None) + np.clip(y - hi, 0, None))
    return float(np.mean(hi - lo + penalty))
