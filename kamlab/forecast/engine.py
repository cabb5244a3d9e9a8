"""The statistical forecast of every series: method choice, intervals, backtests, parallelism.

A tidy monthly demand frame becomes a matrix (series × months, right-aligned at the forecast
origin, NaN before each series' first demand, zeros for months without orders). Blocks of
rows are forecast independently (so results never depend on the number of workers) by
:func:`_forecast_block`, in this process, in worker processes, or on a Dask cluster.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import as_completed
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy.stats import norm

from kamlab.classify.pattern import PATTERNS, pattern_matrix
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions
from kamlab.forecast import selection
from kamlab.forecast.intermittent import validated_rate
from kamlab.forecast.selection import STRATEGIES, validated_forecast
from kamlab.processes import process_pool

__all__ = ["OriginSnapshots", "backtest", "forecast"]

_F = DEFAULTS.forecast
_C = DEFAULTS.classify
_PATTERNS = np.array(PATTERNS)


class OriginSnapshots(Protocol):
    """Where :func:`backtest` finds and keeps the forecasts of single origins.

    `series` holds the forecast series at `origin` (the backtest's keys and ``phase_out``),
    in row order; `first` is the first month of the origin's block. A snapshot is the
    forecast block's arrays: ``forecast`` and the bounds (series × lag), ``method`` and
    ``pattern`` (per series). :meth:`load` returns None when it does not hold the origin.
    """

    def load(
        self, origin: pd.Period, *, first: pd.Period, series: pd.DataFrame
    ) -> dict[str, np.ndarray] | None: ...

    def save(
        self,
        origin: pd.Period,
        *,
        first: pd.Period,
        series: pd.DataFrame,
        snapshot: dict[str, np.ndarray],
    ) -> None: ...


def _taper(h: int, months: int) -> np.ndarray:
    """Phase-out factor per horizon: linear from (months-1)/months down to 0 after `months`."""
    return np.clip(1 - np.arange(1, h + 1) / months, 0.0, 1.0)


def _forecast_block(
    Y: np.ndarray,
    phase_out: np.ndarray,
    h: int,
    levels: tuple[float, ...],
    m: int,
    min_seasonal: int,
    min_history: int,
    phaseout_months: int,
    tsb_params: tuple[float, float],
    cutoffs: tuple[float, float],
    strategies: tuple[str, ...] = STRATEGIES,
) -> dict[str, np.ndarray]:
    """Point forecasts, bounds, method and reason for each row of one block (`strategies`:
    those computed for smooth and erratic rows, see
    :func:`~kamlab.forecast.selection.validated_forecast`)."""
    rows = len(Y)
    n = (~np.isnan(Y)).sum(axis=1)
    adi, cv2, code = pattern_matrix(Y, adi_cutoff=cutoffs[0], cv2_cutoff=cutoffs[1])
    mean = np.zeros((rows, h))
    bounds = {f"{s}_{lv:g}": np.zeros((rows, h)) for lv in levels for s in ("lo", "hi")}
    method = np.full(rows, "zero", dtype=object)
    reason = np.full(rows, "no demand in the history: zero forecast", dtype=object)

    short = (code > 0) & (n < min_history)
    if short.any():
        hist = Y[short]
        mu = np.nanmean(hist, axis=1)
        sd = np.sqrt(np.maximum(np.nanvar(hist, axis=1), mu))  # at least Poisson spread
        mean[short] = mu[:, None]
        for lv in levels:
            z = norm.ppf(0.5 + lv / 200)
            bounds[f"lo_{lv:g}"][short] = np.maximum(mu - z * sd, 0)[:, None]
            bounds[f"hi_{lv:g}"][short] = (mu + z * sd)[:, None]
        method[short] = "mean"
        reason[short] = [
            f"only {k} period(s) since the first demand (< {min_history}): mean of the history, "
            "interval at least Poisson-wide"
            for k in n[short]
        ]

    smooth = np.isin(code, (1, 2)) & ~short
    S = len(STRATEGIES)
    alt = None
    if smooth.any():
        fit = validated_forecast(
            Y[smooth], h, m=m, min_seasonal=min_seasonal, levels=levels, strategies=strategies
        )
        mean[smooth] = fit["mean"]
        for key in bounds:
            bounds[key][smooth] = fit[key]
        method[smooth] = fit["method"]
        kind = np.where(
            fit["seasonal"],
            "seasonal (90 % ACF test), multiplicatively adjusted",
            np.where(
                n[smooth] < min_seasonal,
                f"under {min_seasonal} periods: no seasonality tried",
                "no significant seasonality",
            ),
        )
        prefix = [
            f"{p} demand (ADI {a:.2f}, CV² {v:.2f})"
            for p, a, v in zip(
                _PATTERNS[code[smooth]].tolist(),
                adi[smooth].tolist(),
                cv2[smooth].tolist(),
                strict=True,
            )
        ]
        reason[smooth] = [
            f"{pre}; {k}; {r}"
            for pre, k, r in zip(prefix, kind.tolist(), fit["reason"], strict=True)
        ]
        alt = fit["strategies"]
        st_reason = np.empty((int(smooth.sum()), S), dtype=object)
        st_reason[:, 0] = reason[smooth]
        err = alt["error"]
        window = [
            f"validation MASE {{:.2f}} over the last {hv} periods ({min(3, hv)} origins)"
            if hv
            else "too short to validate{}"
            for hv in fit["validated"].tolist()
        ]
        for j, name in enumerate(STRATEGIES[1:], start=1):
            meth = alt["method"][:, j].tolist()
            col = []
            for i, pre in enumerate(prefix):
                w = window[i].format(err[i, j]) if "{" in window[i] else window[i][:-2]
                if meth[i] == fit["method"][i]:  # the strategy cannot run here: combination
                    col.append(st_reason[i, 0])
                elif name == "ETS":
                    with_season = "with" if alt["ets_seasonal"][i] else "without"
                    col.append(
                        f"{pre}; {meth[i]}, the lowest AICc among fifteen ETS models "
                        f"({with_season} a seasonal component); {w}"
                    )
                elif name == "seasonal ETS":
                    col.append(
                        f"{pre}; {meth[i]}, the lowest AICc among the seasonal ETS models; {w}"
                    )
                elif name == "median":
                    col.append(f"{pre}; {kind[i]}; {meth[i]} (SCUM-style median); {w}")
                else:
                    col.append(f"{pre}; seasonal naive; {w}")
            st_reason[:, j] = col

    sparse = (code >= 3) & ~short
    if sparse.any():
        fit = validated_rate(Y[sparse], h, m=m, levels=levels, tsb_params=tsb_params)
        mean[sparse] = fit["rate"][:, None]
        for key in bounds:
            bounds[key][sparse] = fit[key][:, None]
        method[sparse] = fit["method"]
        reason[sparse] = [
            f"{p} demand (ADI {a:.2f}, CV² {v:.2f}): {meth} demand rate, "
            + (
                f"lowest validation RMSE ({e:.3g} a period) over the last {hv} periods "
                "(3 origins) among TSB, SBA, IMAPA, ADIDA, recent mean and zero"
                if hv
                else "too short to validate: TSB"
            )
            + "; bounds from demand occurrence × observed sizes"
            for p, a, v, meth, e, hv in zip(
                _PATTERNS[code[sparse]].tolist(),
                adi[sparse].tolist(),
                cv2[sparse].tolist(),
                fit["method"],
                fit["error"].tolist(),
                fit["validated"].tolist(),
                strict=True,
            )
        ]

    # every strategy's result per row (rows × strategies …): the portfolio's choice among them
    # is made over all blocks (:func:`_choose`); rows that are not smooth have one answer
    st = {k: np.repeat(v[:, None, :], S, axis=1) for k, v in (("forecast", mean), *bounds.items())}
    st_method = np.repeat(method[:, None], S, axis=1)
    st_reasons = np.repeat(reason[:, None], S, axis=1)
    st_error = np.full((rows, S), np.nan)
    if alt is not None:
        st["forecast"][smooth] = alt["mean"]
        for key in bounds:
            st[key][smooth] = alt[key]
        st_method[smooth] = alt["method"]
        st_reasons[smooth] = st_reason
        st_error[smooth] = alt["error"]
    fade = phase_out & (code > 0)
    if fade.any():
        f = _taper(h, phaseout_months)[None, None, :]
        for key in st:
            st[key][fade] *= f
        tail = f"; phase-out material: tapered linearly to zero over {phaseout_months} months"
        st_reasons[fade] = np.array(
            [f"{r}{tail}" for r in st_reasons[fade].ravel()], dtype=object
        ).reshape(int(fade.sum()), S)
    return {
        **st,
        "method": st_method,
        "pattern": _PATTERNS[code],
        "reason": st_reasons,
        "error": st_error,
        "code": code,
    }


def _choose(
    res: dict[str, np.ndarray], given: pd.DataFrame | None = None
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """The portfolio's strategy per demand pattern, and each row's result under it.

    For smooth and erratic series apart, the strategy of
    :data:`kamlab.forecast.selection.STRATEGIES` with the lowest mean validation MASE over
    the validated series wins if it beats today's combination by more than
    :data:`kamlab.forecast.selection.SWITCH_MARGIN` and the paired t statistic of the
    per-series differences is at least :data:`~kamlab.forecast.selection.SWITCH_T` (else
    the combination stays: a few noisy series must not switch a portfolio); a pattern
    without validated series keeps the combination. Returns the rows' arrays (one strategy
    each) and the report: pattern, validated series, the mean validation MASE of every
    strategy, the winner, its margin over the combination (%) and the t statistic of the
    lowest-MASE strategy against the combination. `given` (such a report, made on other
    series: a sample of the portfolio) decides instead: its strategy per pattern (none:
    the combination) is applied, and it is the report.
    """
    code, err = res.pop("code"), res.pop("error")
    rows = len(code)
    pick = np.zeros(rows, dtype=np.int64)
    report = []
    clause = np.full(rows, "", dtype=object)
    for c in (1, 2):
        if given is not None:
            row = given[given["pattern"] == PATTERNS[c]]
            if row.empty:
                continue
            k = int(row["series"].iloc[0])
            if not k:  # nothing validated in the sample: the combination
                continue
            score = row[[f"MASE {s}" for s in STRATEGIES]].to_numpy(dtype=float)[0]
            win = STRATEGIES.index(row["strategy"].iloc[0])
            pick[code == c] = win
            report.append(row.iloc[0].to_dict())
        else:
            sel = (code == c) & np.isfinite(err).all(axis=1)
            if not sel.any():
                continue
            win, k, score, entry = _decide(err[sel])
            pick[code == c] = win
            report.append({"pattern": PATTERNS[c], **entry})
        others = ", ".join(f"{s} {v:.3f}" for s, v in zip(STRATEGIES, score, strict=True))
        why = (
            "the lowest mean validation MASE"
            if win
            else f"no other strategy's mean validation MASE lower by more than "
            f"{100 * selection.SWITCH_MARGIN:g} % with a paired t of at least "
            f"{selection.SWITCH_T:g}"
        )
        whose = "this portfolio's" if given is None else "a stable sample of this portfolio's"
        clause[code == c] = (
            f"; strategy {STRATEGIES[win]}: {why} over {whose} "
            f"{k} validated {PATTERNS[c]} series ({others})"
        )
    r = np.arange(rows)
    out = {k: (v if k == "pattern" else v[r, pick]) for k, v in res.items()}
    if "reason" in out:
        out["reason"] = np.array(
            [a + b for a, b in zip(out["reason"], clause, strict=True)], dtype=object
        )
    cols = [
        "pattern",
        "series",
        *(f"MASE {s}" for s in STRATEGIES),
        "strategy",
        "margin %",
        "t best",
    ]
    return out, pd.DataFrame(report, columns=cols)


def _decide(err: np.ndarray) -> tuple[int, int, np.ndarray, dict[str, Any]]:
    """The strategy (its index in :data:`~kamlab.forecast.selection.STRATEGIES`) that series
    with validation errors `err` (series × strategies) choose (:func:`_choose`), the number
    of series, the mean validation MASE per strategy and the report's entries."""
    score = err.mean(axis=0)
    gain = err[:, :1] - err  # per series: the combination's error minus each's
    k = len(err)
    t = np.zeros(len(score))  # one series: no evidence for a switch
    if k > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.nan_to_num(gain.mean(axis=0) / (gain.std(axis=0, ddof=1) / np.sqrt(k)))
    win = int(np.argmin(score))
    clear = score[win] < score[0] * (1 - selection.SWITCH_MARGIN) - 1e-9
    if not clear or t[win] < selection.SWITCH_T:  # not clearly better: today's stays
        win = 0
    if selection.FORCE is not None:
        win = STRATEGIES.index(selection.FORCE)
    entry = {
        "series": k,
        **{f"MASE {s}": float(v) for s, v in zip(STRATEGIES, score, strict=True)},
        "strategy": STRATEGIES[win],
        "margin %": float(100 * (score[0] - score[win]) / score[0]) if score[0] else 0.0,
        "t best": float(t[int(np.argmin(score))]),
    }
    return win, k, score, entry


def _run_blocks(
    Y: np.ndarray,
    phase_out: np.ndarray,
    args: tuple[Any, ...],
    *,
    n_jobs: int | None,
    scheduler: Any,
    progress: bool,
    chunk_size: int,
    given: pd.DataFrame | None = None,
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Forecast `Y` in blocks of `chunk_size` rows, serially, in processes or on Dask, and
    choose the portfolio's strategies (:func:`_choose`, or apply the `given` report's):
    the rows' results and the report."""
    from tqdm.std import tqdm  # text bars: no ipywidgets warning in notebooks

    starts = list(range(0, len(Y), chunk_size)) or [0]
    blocks = [(Y[s : s + chunk_size], phase_out[s : s + chunk_size]) for s in starts]
    jobs = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    results: list[dict[str, np.ndarray] | None] = [None] * len(blocks)
    bar = tqdm(total=len(Y), desc="forecast", unit="series", disable=not progress)
    if scheduler is not None:
        from distributed import Client
        from distributed import as_completed as dask_completed

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            futures = [client.submit(_forecast_block, y, p, *args, pure=False) for y, p in blocks]
            where = {f.key: i for i, f in enumerate(futures)}
            for fut in dask_completed(futures):
                i = where[fut.key]
                results[i] = fut.result()
                bar.update(len(blocks[i][0]))
        finally:
            if client is not scheduler:
                client.close()
    elif jobs <= 1 or len(blocks) == 1:
        for i, (y, p) in enumerate(blocks):
            results[i] = _forecast_block(y, p, *args)
            bar.update(len(y))
    else:
        with process_pool(min(jobs, len(blocks))) as pool:
            futures = {
                pool.submit(_forecast_block, y, p, *args): i for i, (y, p) in enumerate(blocks)
            }
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                bar.update(len(blocks[i][0]))
    bar.close()
    return _choose({k: np.concatenate([r[k] for r in results]) for k in results[0]}, given)


def _series_matrix(
    demand: pd.DataFrame, keys: list[str], period: str, value: str, end: pd.Period | None
) -> tuple[pd.DataFrame, np.ndarray, pd.Period, pd.DataFrame]:
    """Series keys, right-aligned matrix ending at `end`, `end`, and the excluded-rows table."""
    missing = [c for c in (*keys, period, value) if c not in demand.columns]
    if missing:
        raise ValueError(f"forecast: demand lacks column(s) {missing}; has {list(demand.columns)}")
    frame = demand[[*keys, period, value]]
    excluded = []
    qty = frame[value].to_numpy(dtype="float64", na_value=np.nan)
    nan = np.isnan(qty)
    if nan.any():
        excluded.append(("demand", "missing quantity, read as zero", int(nan.sum()), 0.0))
    neg = qty < 0
    if neg.any():
        excluded.append(
            ("demand", "negative quantity, read as zero", int(neg.sum()), float(qty[neg].sum()))
        )
    qty = np.where(nan | neg, 0.0, qty)
    dtype = frame[period].dtype
    freq = dtype.freq if isinstance(dtype, pd.PeriodDtype) else "M"
    ords = np.asarray(pd.PeriodIndex(frame[period], freq=freq).asi8)
    end = pd.Period(end, freq) if end is not None else None
    end_ord = end.ordinal if end is not None else (int(ords.max()) if len(ords) else 0)
    late = ords > end_ord
    if late.any():
        excluded.append(
            ("demand", f"period after the origin {end}", int(late.sum()), float(qty[late].sum()))
        )
    groups = frame.groupby(keys, sort=True, observed=True, dropna=False)
    codes = groups.ngroup().to_numpy()
    series = groups.size().index.to_frame(index=False)[keys]
    keep = ~late & (qty > 0)
    start = int(ords[keep].min()) if keep.any() else end_ord
    T = max(end_ord - start + 1, 1)
    Y = np.zeros((len(series), T))
    np.add.at(Y, (codes[keep], ords[keep] - start), qty[keep])
    first = np.where((Y > 0).any(axis=1), np.argmax(Y > 0, axis=1), T)
    Y[np.arange(T)[None, :] < first[:, None]] = np.nan
    table = pd.DataFrame(excluded, columns=["table", "reason", "rows", "quantity"])
    return series, Y, pd.PeriodIndex.from_ordinals([end_ord], freq=freq)[0], table


def _phase_out(series: pd.DataFrame, lifecycle: pd.DataFrame | None) -> np.ndarray:
    """True for series whose material is flagged phase-out in `lifecycle`."""
    if lifecycle is None or "material_id" not in series.columns:
        return np.zeros(len(series), dtype=bool)
    flags = lifecycle.set_index("material_id")["lifecycle"]
    life = series["material_id"].map(flags).astype("string").fillna("")
    return (life.str.replace("_", "-").str.lower() == "phase-out").to_numpy(dtype=bool)


def _options(
    level: Sequence[float],
    m: int,
    min_seasonal: int | None,
    min_history: int,
    phaseout_months: int,
    tsb_params: tuple[float, float],
    adi_cutoff: float,
    cv2_cutoff: float,
) -> tuple[Any, ...]:
    levels = tuple(float(lv) for lv in level)
    if any(not 0 < lv < 100 for lv in levels):
        raise ValueError(f"forecast: level must lie strictly between 0 and 100, got {level}")
    if int(m) < 1:
        raise ValueError(f"forecast: season_length must be a positive number of periods, got {m}")
    seasons = 2 * int(m) if min_seasonal is None else int(min_seasonal)
    return (
        levels,
        int(m),
        seasons,
        max(min_history, 1),
        phaseout_months,
        tuple(tsb_params),
        (float(adi_cutoff), float(cv2_cutoff)),
    )


def _to_frame(
    series: pd.DataFrame, res: dict[str, np.ndarray], periods: pd.PeriodIndex, h: int
) -> pd.DataFrame:
    """Long frame: one row per series × horizon."""
    idx = np.repeat(np.arange(len(series)), h)
    out = series.iloc[idx].reset_index(drop=True)
    out["period"] = periods[np.tile(np.arange(h), len(series))]
    for k, v in res.items():
        if v.ndim == 2:
            out[k] = v.ravel()
        else:  # one string per series, repeated by taking: no h-fold copy of long reasons
            out[k] = pd.array(v.astype(str), dtype="string").take(idx)
    return out


def forecast(
    demand: pd.DataFrame,
    h: int = _F.horizon,
    *,
    level: Sequence[float] = _F.levels,
    keys: Sequence[str] = ("customer_id", "material_id"),
    period: str = "period",
    value: str = "quantity",
    lifecycle: pd.DataFrame | None = None,
    end: pd.Period | str | None = None,
    n_jobs: int | None = None,
    scheduler: Any = None,
    progress: bool = False,
    season_length: int = _F.season_length,
    min_seasonal_history: int | None = None,
    min_history: int = _F.min_history,
    phaseout_months: int = _F.phaseout_months,
    chunk_size: int = _F.chunk_size,
    tsb_params: tuple[float, float] = (_F.tsb_alpha, _F.tsb_beta),
    adi_cutoff: float = _C.adi_cutoff,
    cv2_cutoff: float = _C.cv2_cutoff,
    strategy: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Statistical forecast for the `h` periods after `end`, per series, with intervals.

    Each series (one per `keys` combination) runs from its first period with demand to `end`
    (default: the last period in `demand`); periods without a row are zero demand. Periods
    are monthly by default; any ``Period`` frequency works (quarterly: ``season_length=4``).
    The method follows the series' demand pattern (Syntetos–Boylan with `adi_cutoff` and
    `cv2_cutoff`, :func:`kamlab.classify.pattern.pattern_matrix`), and every choice is made by
    rolling-origin validation inside the history (three origins in the last `h` periods):

    - smooth / erratic: the strategy of :data:`kamlab.forecast.selection.STRATEGIES` that
      won this call's validation for the pattern (:func:`_choose`; the report is
      ``attrs["strategy"]``). By default and wherever no other strategy clearly wins, the
      mean of DOTM, Theta and damped trend on the seasonally adjusted series, in logs where
      allowed (:mod:`kamlab.forecast.selection`; seasonality needs ≥
      `min_seasonal_history` periods, default two seasons, and a significant 90 % ACF test
      at lag `season_length`); else ETS by AICc (:mod:`kamlab.forecast.ets`), seasonal ETS,
      the median of ETS, DOTM and ARIMA, or the seasonal naive. The per-series validation
      errors are reported in ``reason`` and widen the intervals;
    - intermittent / lumpy: TSB (`tsb_params`), SBA, IMAPA, ADIDA, the mean of the last season
      or zero, the lowest validation MSE per series
      (:func:`kamlab.forecast.intermittent.validated_rate`); bounds are quantiles of demand
      occurrence × observed sizes;
    - fewer than `min_history` periods since the first demand: the mean of the history;
    - no demand at all: zero;
    - a material whose `lifecycle` (frame material_id, lifecycle) is "phase-out": the above,
      tapered linearly to zero over `phaseout_months` periods.

    `strategy` (a report like ``attrs["strategy"]``, e.g.
    :func:`kamlab.forecast.portfolio_strategy`'s) sets the strategy per pattern instead of
    this call's validation; only the strategies it names are computed, so a subset of a
    portfolio is forecast as the whole would be.

    Forecasts and bounds are never negative. Results do not depend on `n_jobs`, `scheduler`
    or the chunking: each series is forecast alone. `n_jobs` processes (default: all cores)
    share chunks of `chunk_size` series; `scheduler` (a Dask ``Client`` or scheduler address)
    runs the chunks on a Dask cluster instead. Missing or negative quantities count as zero
    and are reported in ``attrs["excluded"]`` (table, reason, rows, quantity), as are rows
    after `end`.

    Returns one row per series × future month: *keys*, ``period``, ``forecast``,
    ``lo_<L>``/``hi_<L>`` per level L, ``method``, ``pattern``, ``reason``; the portfolio's
    strategy report in ``attrs["strategy"]``.

    >>> d = pd.DataFrame({"customer_id": "C", "material_id": "M",
    ...                   "period": pd.period_range("2024-01", periods=24, freq="M"),
    ...                   "quantity": 10.0})
    >>> fc = forecast(d, 3, n_jobs=1)
    >>> fc[["period", "forecast", "method"]].to_string(index=False)
    ' period  forecast            method\\n2026-01      10.0 DOTM+Theta+Damped\\n2026-02      10.0 DOTM+Theta+Damped\\n2026-03      10.0 DOTM+Theta+Damped'
    """
    keys = list(keys)
    if h < 1:
        raise ValueError(f"forecast: h must be a positive number of periods, got {h}")
    args = (
        h,
        *_options(
            level,
            season_length,
            min_seasonal_history,
            min_history,
            phaseout_months,
            tsb_params,
            adi_cutoff,
            cv2_cutoff,
        ),
    )
    args = (*args, _computed(strategy))
    series, Y, end_p, excluded = _series_matrix(demand, keys, period, value, end)
    periods = pd.period_range(end_p + 1, periods=h, freq=end_p.freq)
    if series.empty:
        empty = _forecast_block(np.zeros((0, 1)), np.zeros(0, dtype=bool), *args)
        res, report = _choose(empty, strategy)
    else:
        res, report = _run_blocks(
            Y,
            _phase_out(series, lifecycle),
            args,
            n_jobs=n_jobs,
            scheduler=scheduler,
            progress=progress,
            chunk_size=chunk_size,
            given=strategy,
        )
    out = _to_frame(series, res, periods, h)
    out.attrs["excluded"] = Exclusions(excluded)
    out.attrs["strategy"] = Exclusions(report)  # a table that compares whole: survives concat
    return out


def _computed(given: pd.DataFrame | None) -> tuple[str, ...]:
    """The strategies to compute: those `given` applies (and the combination), else all."""
    if given is None:
        return STRATEGIES
    return tuple(s for s in STRATEGIES if s == STRATEGIES[0] or s in set(given["strategy"]))


def _at_origin(strategy: pd.DataFrame, origin: pd.Period) -> pd.DataFrame:
    """The rows of `strategy` for `origin` (a ValueError when it has none)."""
    if "origin" not in strategy.columns:
        raise ValueError("backtest: strategy needs an origin column (portfolio_strategy)")
    mine = strategy[strategy["origin"] == origin]
    if mine.empty:
        raise ValueError(f"backtest: strategy has no row for the origin {origin}")
    return mine


def backtest(
    demand: pd.DataFrame,
    *,
    origins: int = _F.backtest_origins,
    max_lag: int = _F.backtest_max_lag,
    level: Sequence[float] = _F.levels,
    keys: Sequence[str] = ("customer_id", "material_id"),
    period: str = "period",
    value: str = "quantity",
    lifecycle: pd.DataFrame | None = None,
    end: pd.Period | str | None = None,
    n_jobs: int | None = None,
    scheduler: Any = None,
    progress: bool = False,
    season_length: int = _F.season_length,
    min_seasonal_history: int | None = None,
    min_history: int = _F.min_history,
    phaseout_months: int = _F.phaseout_months,
    chunk_size: int = _F.chunk_size,
    tsb_params: tuple[float, float] = (_F.tsb_alpha, _F.tsb_beta),
    adi_cutoff: float = _C.adi_cutoff,
    cv2_cutoff: float = _C.cv2_cutoff,
    snapshots: OriginSnapshots | None = None,
    strategy: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rolling-origin snapshots of :func:`forecast`, shaped like ``customer_forecasts``.

    The origins are the `origins` months before `end` (default: the last month in
    `demand`), so every snapshot's lag-1 month has an actual. A snapshot made with data
    through month *s* has ``snapshot_date`` = the last day of *s* and forecasts the months
    *s*+1 … *s*+`max_lag`; ``lag`` = period − snapshot month (the convention of
    ``kamlab.accuracy.forecast_lag``), so lag 1 is the next month. Each snapshot only sees
    the data up to its origin (pattern, seasonality and parameters are re-chosen per origin);
    a series without demand by an origin has no snapshot then (counted in
    ``attrs["excluded"]``). Targets after `end` are kept: they are what was forecast.
    Each origin is forecast on its own block (the months from the first demand of any series
    to the origin), so a snapshot is a function of the data up to its origin alone: next
    month's backtest repeats this month's snapshots bit for bit. `snapshots` (an
    :class:`OriginSnapshots`) supplies the origins it already holds and keeps the new ones.
    `strategy` (:func:`kamlab.forecast.portfolio_strategy`'s report with an ``origin``
    column covering every origin) sets each origin's strategy per pattern, as in
    :func:`forecast`.

    Returns *keys*, ``snapshot_date``, ``period``, ``quantity`` (the point forecast),
    ``lo_<L>``/``hi_<L>``, ``method``, ``pattern``, ``lag``, ``source`` ("statistical");
    ``attrs["origins"]`` counts the origins ``reused`` from `snapshots` and ``computed``.
    """
    keys = list(keys)
    if origins < 1 or max_lag < 1:
        raise ValueError(f"backtest: origins and max_lag must be ≥ 1, got {origins}, {max_lag}")
    args = (
        max_lag,
        *_options(
            level,
            season_length,
            min_seasonal_history,
            min_history,
            phaseout_months,
            tsb_params,
            adi_cutoff,
            cv2_cutoff,
        ),
    )
    series, Y, end_p, excluded = _series_matrix(demand, keys, period, value, end)
    T = Y.shape[1]
    first = end_p - (T - 1)  # the matrix's first month: the first demand of any series
    phase = _phase_out(series, lifecycle)
    from tqdm.std import tqdm  # text bars: no ipywidgets warning in notebooks

    parts, which, snap = [], [], []
    reused = 0
    for back in tqdm(range(origins, 0, -1), desc="backtest", unit="origin", disable=not progress):
        cut = T - back
        if cut < 1:
            continue
        # the origin's own block, months first..origin: a row's result depends on the data
        # up to the origin only (a block padded to the full width T would change how
        # numpy's pairwise sums round as T grows month by month)
        rows = np.flatnonzero(~np.isnan(Y[:, cut - 1]))
        if not len(rows):
            continue
        origin = end_p - back
        given = None if strategy is None else _at_origin(strategy, origin)
        res = None
        if snapshots is not None:
            alive = series.iloc[rows].reset_index(drop=True).assign(phase_out=phase[rows])
            if given is not None:  # the snapshot depends on the strategies applied
                alive["strategy"] = ";".join(given["pattern"] + ":" + given["strategy"])
            res = snapshots.load(origin, first=first, series=alive)
            reused += res is not None
        if res is None:
            res, _ = _run_blocks(
                Y[rows, :cut],
                phase[rows],
                (*args, _computed(given)),
                n_jobs=n_jobs,
                scheduler=scheduler,
                progress=False,
                chunk_size=chunk_size,
                given=given,
            )
            res.pop("reason")
            if snapshots is not None:
                snapshots.save(origin, first=first, series=alive, snapshot=res)
        parts.append(res)
        which.append(rows)
        snap.append(np.full(len(rows), origin.ordinal))
    not_started = len(series) * min(origins, max(T - 1, 0)) - sum(map(len, which))
    if parts:
        res = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        rows, snap_ord = np.concatenate(which), np.concatenate(snap)
    else:
        res, _ = _choose(_forecast_block(np.zeros((0, 1)), np.zeros(0, dtype=bool), *args))
        res.pop("reason")
        rows, snap_ord = np.zeros(0, int), np.zeros(0, int)
    idx = np.repeat(np.arange(len(rows)), max_lag)
    lag = np.tile(np.arange(1, max_lag + 1), len(rows))
    out = series.iloc[rows[idx]].reset_index(drop=True)
    snap_p = pd.PeriodIndex.from_ordinals(snap_ord[idx], freq=end_p.freq)
    out["snapshot_date"] = snap_p.to_timestamp(how="end").normalize().astype("datetime64[s]")
    out["period"] = pd.PeriodIndex.from_ordinals(snap_ord[idx] + lag, freq=end_p.freq)
    out["quantity"] = res.pop("forecast").ravel()
    for k, v in res.items():
        out[k] = v.ravel() if v.ndim == 2 else pd.array(v[idx].astype(str), dtype="string")
    out["lag"] = lag
    out["source"] = pd.array(["statistical"] * len(out), dtype="string")
    if not_started:
        excluded = pd.concat(
            [
                excluded,
                pd.DataFrame(
                    {
                        "table": ["demand"],
                        "reason": ["series without demand yet at an origin: no snapshot"],
                        "rows": [not_started],
                        "quantity": [0.0],
                    }
                ),
            ],
            ignore_index=True,
        )
    out = out.sort_values([*keys, "snapshot_date", "period"], ignore_index=True)
    out.attrs["excluded"] = Exclusions(excluded)
    out.attrs["origins"] = {"reused": reused, "computed": len(parts) - reused}
    return out
