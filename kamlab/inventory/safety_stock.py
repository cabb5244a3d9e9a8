"""Safety stock and reorder point per Plan For Every Part (PFEP), against the values in SAP.

The recommended safety stock protects against the demand uncertainty over the replenishment
lead time at a target service level, measured one of two ways (Silver, Pyke & Thomas 2017,
"Inventory and Production Management in Supply Chains", 4th ed., ch. 6; Axsäter 2015,
"Inventory Control", 3rd ed., ch. 5):

- **cycle service level** (P1): the probability of no stock-out in a replenishment cycle;
- **fill rate** (P2, β): the share of demand met from stock on hand.

Smooth and erratic items use the normal approximation of lead-time demand; its spread is the
forecast's own validated error (backtest residuals, rolling origins inside the history) where
enough residuals exist, else the month-to-month variability of demand. Intermittent and lumpy
items (Syntetos–Boylan) use the empirical distribution of lead-time demand instead, by
bootstrapping months of the item's own history (a compound Bernoulli: whether a month has
demand and how much, as observed; Willemain, Smart & Schwarz 2004), because their lead-time
demand is skewed and often zero: the normal approximation misplaces its upper quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtr

from kamlab.classify import demand_pattern
from kamlab.config import DEFAULTS
from kamlab.inventory._series import DAYS_PER_MONTH, bare, key_index, month_matrix
from kamlab.inventory.policy import (
    discrete_reorder_point,
    lead_time_sigma,
    poisson_loss,
    poisson_reorder_point,
    safety_factor,
    standard_normal_loss,
    whole_units,
)

__all__ = [
    "bootstrap_lead_time_demand",
    "forecast_error_sigma",
    "lead_time_demand_distribution",
    "recommended_safety_stock",
    "safety_stock_cycle",
    "safety_stock_fill_rate",
]

_I = DEFAULTS.inventory


def safety_stock_cycle(
    sigma_demand: np.ndarray | float,
    lead_time: np.ndarray | float,
    *,
    service_level: float,
    mean_demand: np.ndarray | float = 0.0,
    sigma_lead_time: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Safety stock for a cycle service level (P1) under normal lead-time demand.

    .. math:: SS = z_{CSL}\\,\\sigma_{LT}, \\quad z_{CSL} = \\Phi^{-1}(CSL)

    with σ_LT from :func:`lead_time_sigma` (Silver, Pyke & Thomas 2017, ch. 6): σ_d is the σ
    of one period's forecast error (or of demand, where the plan is its mean), the lead time
    in the same periods. Unrounded; units: those of demand; with σ_d = 100 a month and
    L = 1 month at 95 %, SS = 1.6449 × 100 = 164.5. The same k and SS, with the policy's
    evaluation, from :func:`~kamlab.inventory.continuous_review`.

    >>> round(float(safety_stock_cycle(100.0, 1.0, service_level=0.95)), 1)
    164.5
    """
    sigma = lead_time_sigma(
        sigma_demand, lead_time, mean_demand=mean_demand, sigma_lead_time=sigma_lead_time
    )
    return safety_factor(cycle_service_level=service_level) * sigma


def safety_stock_fill_rate(
    sigma_demand: np.ndarray | float,
    lead_time: np.ndarray | float,
    *,
    fill_rate: float,
    order_quantity: np.ndarray | float,
    mean_demand: np.ndarray | float = 0.0,
    sigma_lead_time: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Safety stock for a fill rate (P2, β) under normal lead-time demand.

    .. math::

        \\sigma_{LT}\\,G(k) = (1 - \\beta)\\,Q, \\qquad SS = \\max(0,\\ k\\,\\sigma_{LT})

    The expected shortage per replenishment cycle may be (1 − β) of the order quantity *Q*
    (Silver, Pyke & Thomas 2017, ch. 6; Axsäter 2015, ch. 5); G is the
    :func:`standard_normal_loss`. A negative *k* (the cycle stock alone meets the target)
    gives no safety stock (:func:`~kamlab.inventory.continuous_review` keeps the negative
    k). σ and periods as in :func:`safety_stock_cycle`; unrounded. Example: σ_LT = 100,
    Q = 500, β = 0.98: G(k) = 0.1, k = 0.9023, SS = 90.2.

    >>> round(float(safety_stock_fill_rate(100.0, 1.0, fill_rate=0.98, order_quantity=500.0)), 1)
    90.2
    """
    sigma = lead_time_sigma(
        sigma_demand, lead_time, mean_demand=mean_demand, sigma_lead_time=sigma_lead_time
    )
    k = safety_factor(fill_rate=fill_rate, demand_per_cycle=order_quantity, sigma=sigma)
    return np.where(sigma > 0, np.maximum(0.0, k * sigma), 0.0)


def bootstrap_lead_time_demand(
    history: np.ndarray,
    lead_time: np.ndarray,
    *,
    draws: int = _I.bootstrap_draws,
    rng: np.random.Generator,
    block: int = 20_000_000,
) -> np.ndarray:
    """Simulated lead-time demands (series × `draws`) from each series' own monthly history.

    Each draw sums ⌊L⌋ months picked at random (with replacement) from the row of `history`
    (months × series, zero months included, so months with and without demand come in their
    observed proportions, with the observed sizes: a compound Bernoulli with the empirical
    size distribution), plus the fraction L − ⌊L⌋ of one more such month (Willemain, Smart &
    Schwarz 2004, without their Markov step). `lead_time` is in months, per series. Rows are
    simulated in blocks of about `block` cells to bound memory.
    """
    history = np.asarray(history, dtype="float64")
    lead_time = np.asarray(lead_time, dtype="float64")
    n, t = history.shape
    out = np.zeros((n, draws))
    if n == 0 or t == 0:
        return out
    whole = np.floor(lead_time).astype("int64")
    frac = lead_time - whole
    months = int((whole + (frac > 0)).max(initial=0))
    if months == 0:
        return out
    step = max(1, block // (draws * months))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        pick = rng.integers(0, t, size=(hi - lo, draws, months))
        values = np.take_along_axis(history[lo:hi, None, :], pick, axis=2)
        j = np.arange(months)[None, :]
        weight = np.where(
            j < whole[lo:hi, None], 1.0, np.where(j == whole[lo:hi, None], frac[lo:hi, None], 0.0)
        )
        out[lo:hi] = np.einsum("sdm,sm->sd", values, weight)
    return out


def lead_time_demand_distribution(
    history: np.ndarray, lead_time: np.ndarray, *, block: int = 20_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """The exact distribution of lead-time demand under the empirical model: (values, probs).

    The same model as :func:`bootstrap_lead_time_demand` (lead-time demand = ⌊L⌋ months drawn
    with replacement from the row's history months, plus L − ⌊L⌋ of one more), but every
    combination is listed with its probability instead of sampled. A row's history is first
    reduced to its distinct monthly values (atoms) with their frequencies (months without
    demand are one atom), so an intermittent row of 12 months with 3 distinct sizes has
    4^⌈L⌉ outcomes, not 12^⌈L⌉. All rows must draw the same number of months ⌈L⌉. Rows with
    fewer atoms are padded with atoms of probability 0.

    >>> values, probs = lead_time_demand_distribution(np.array([[0.0, 100.0, 0.0, 0.0]]),
    ...                                               np.array([1.5]))
    >>> sorted(zip(values[0].tolist(), probs[0].tolist()))
    [(0.0, 0.5625), (50.0, 0.1875), (100.0, 0.1875), (150.0, 0.0625)]
    """
    history = np.asarray(history, dtype="float64")
    lead_time = np.asarray(lead_time, dtype="float64")
    n, t = history.shape
    whole = np.floor(np.round(lead_time, 9)).astype("int64")
    frac = np.round(lead_time - whole, 9)
    months = int(np.ceil(np.round(lead_time, 9)).max(initial=0))
    if n == 0 or months == 0 or t == 0:
        return np.zeros((n, 1)), np.ones((n, 1))
    # atoms: sorted distinct values per row, with their frequency; padding has probability 0
    ordered = np.sort(history, axis=1)
    first = np.ones_like(ordered, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    k = int(first.sum(axis=1).max())
    slot = np.cumsum(first, axis=1) - 1
    rows = np.repeat(np.arange(n), t)
    atoms = np.zeros((n, k))
    atoms[rows, slot.ravel()] = ordered.ravel()
    mass = np.bincount(rows * k + slot.ravel(), minlength=n * k).reshape(n, k) / t
    weight = np.where(np.arange(months)[None, :] < whole[:, None], 1.0, frac[:, None])
    width = k**months
    values, probs = np.empty((n, width)), np.empty((n, width))
    step = max(1, block // width)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        acc = np.zeros((hi - lo,) + (1,) * months)
        p = np.ones((hi - lo,) + (1,) * months)
        for j in range(months):  # broadcasting: month j varies along axis j + 1
            shape = [hi - lo] + [1] * months
            shape[j + 1] = k
            acc = acc + (atoms[lo:hi] * weight[lo:hi, j, None]).reshape(shape)
            p = p * mass[lo:hi].reshape(shape)
        values[lo:hi] = acc.reshape(hi - lo, width)
        probs[lo:hi] = p.reshape(hi - lo, width)
    return values, probs


def forecast_error_sigma(
    backtest: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    keys: Sequence[str] = ("material_id",),
    lag: int = _I.error_lag,
    end: pd.Period | str,
    forecast_value: str = "quantity",
) -> pd.DataFrame:
    """Root mean squared error of the statistical forecast at `lag`, per `keys` (a σ per month).

    .. math:: \\sigma_e = \\sqrt{\\tfrac{1}{n}\\sum_t (y_t - \\hat y_{t \\mid t-\\text{lag}})^2}

    over the backtest's target months up to `end` (rolling origins: each forecast saw only
    the data before it, so these are validated, out-of-sample errors; Silver, Pyke & Thomas
    2017, ch. 4 and 6, use the forecast-error σ, not the demand σ, for safety stocks). `backtest` is
    :func:`kamlab.forecast.backtest` output, `demand` the actuals; both are summed to `keys`
    first (per customer forecasts become one forecast of the material). A target month
    without demand rows is an actual of zero.

    Returns `keys`, ``error_sigma``, ``error_points`` (months scored).
    """
    keys = list(keys)
    end = pd.Period(end, "M")
    backtest, demand = bare(backtest), bare(demand)
    bt = backtest.loc[(backtest["lag"] == lag) & (backtest["period"] <= end)]
    series = bt[keys].drop_duplicates().reset_index(drop=True)
    if bt.empty:
        return series.assign(error_sigma=np.zeros(0), error_points=np.zeros(0, dtype="int64"))
    first = bt["period"].min()
    months = end.ordinal - first.ordinal + 1
    grid = {"keys": keys, "first": first, "months": months}
    forecast = month_matrix(bt, series, value=forecast_value, **grid)
    scored = month_matrix(bt.assign(_n=1.0), series, value="_n", **grid) > 0
    actual = month_matrix(demand, series, **grid)
    points = scored.sum(axis=1)
    squared = np.where(scored, (actual - forecast) ** 2, 0.0).sum(axis=1)
    return series.assign(error_sigma=np.sqrt(squared / points), error_points=points)


def recommended_safety_stock(
    plan: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    end: pd.Period | str,
    errors: pd.DataFrame | None = None,
    position: pd.DataFrame | None = None,
    keys: Sequence[str] = ("material_id", "plant"),
    service_measure: str = _I.service_measure,
    cycle_service_level: float = _I.cycle_service_level,
    fill_rate: float = _I.fill_rate,
    demand_months: int = _I.demand_months,
    min_error_points: int = _I.min_error_points,
    bootstrap_draws: int = _I.bootstrap_draws,
    exact_months: int = 3,
    intermittent_patterns: Sequence[str] = _I.intermittent_patterns,
    intermittent_model: str = "empirical",
    round_up: bool = True,
    tolerance: float = _I.safety_stock_tolerance,
    random_state: int = _I.random_state,
) -> pd.DataFrame:
    """Recommended safety stock and reorder point per row of `plan`, against the SAP values.

    Per material and plant, with *L* = ``lead_time_days`` / 30.44 months (fractions kept),
    σ_L from ``lead_time_sd_days``, *d* and σ_d the mean and standard deviation (ddof 1) of
    monthly demand over the `demand_months` months up to `end` (`demand`: keys, period,
    quantity; months without rows are 0):

    - **normal** (smooth, erratic, no pattern): σ_d is the forecast-error σ of `errors`
      (:func:`forecast_error_sigma`) when it has at least `min_error_points` residuals, else
      the σ of monthly demand (``sigma_basis`` says which); SS by :func:`safety_stock_cycle`
      or :func:`safety_stock_fill_rate` (order quantity *Q* = ``lot_size``, else one month
      of demand *d*), not below 0; reorder point = *d L* + SS.
    - **intermittent** (`intermittent_patterns`), `intermittent_model` ``"empirical"``: the
      reorder point is the CSL quantile of the item's own lead-time demand distribution (or
      its lowest value meeting the fill rate, :func:`~kamlab.inventory.discrete_reorder_point`),
      exact by :func:`lead_time_demand_distribution` for lead times up to `exact_months`
      months, else simulated by :func:`bootstrap_lead_time_demand`; ``"poisson"``: the
      integer level of Poisson lead-time demand with mean *d L*
      (:func:`~kamlab.inventory.poisson_reorder_point`). The level is the distribution's own
      value, never put through the normal formula again; SS = reorder point − *d L*, the
      reorder point not below *d L* (no negative safety stock).
    - a material with an ``end_of_life`` (phase-out) gets none: its stock is run down (PIPO).

    **Rounding.** ``safety_stock_unrounded`` and ``reorder_point_unrounded`` are the formula's
    figures. With `round_up` (the default: SAP holds whole units), ``recommended_safety_stock``
    and ``recommended_reorder_point`` are each rounded up to a whole unit once
    (:func:`~kamlab.inventory.whole_units`, from the unrounded figure; the ROP is not built
    from a rounded SS); without it they equal the unrounded figures.

    **SAP's policy evaluated** (:func:`~kamlab.inventory.evaluate_policy`, on the same
    distribution as the recommendation): the SAP reorder point, else *d L* + SAP safety stock
    (empty = 0), gives ``sap_cycle_service_level`` (P(lead-time demand ≤ ROP)),
    ``sap_expected_shortage`` (units short per replenishment cycle, ESC) and ``sap_fill_rate``
    (1 − ESC / *Q*).

    Compared with SAP: ``change`` = recommended − SAP safety stock (an empty SAP value is 0);
    ``money_tied_up`` = −change × unit cost where SAP holds more than needed, ``money_at_risk``
    = change × unit cost where it holds less (the cover missing to reach the service level),
    in the stock's currency (from `position`, :func:`kamlab.inventory.stock_position`).
    ``propose`` is true when SAP is off by more than `tolerance` of the recommendation (or SAP
    has a value where none is needed). Items with no demand in the window get 0.

    Returns `keys`, ``pattern``, ``method``, ``sigma_basis``, ``lead_time_months``,
    ``mean_demand``, ``sigma``, ``recommended_safety_stock``, ``recommended_reorder_point``,
    ``sap_safety_stock``, ``sap_reorder_point``, ``change``, ``unit_cost``, ``currency``,
    ``money_tied_up``, ``money_at_risk``, ``propose``, ``safety_stock_unrounded``,
    ``reorder_point_unrounded``, ``order_quantity``, ``sap_cycle_service_level``,
    ``sap_expected_shortage``, ``sap_fill_rate``.
    """
    fn = "recommended_safety_stock"
    if service_measure not in ("cycle", "fill_rate"):
        raise ValueError(
            f"{fn}: service_measure must be 'cycle' or 'fill_rate', got {service_measure!r}"
        )
    if intermittent_model not in ("empirical", "poisson"):
        raise ValueError(
            f"{fn}: intermittent_model must be 'empirical' or 'poisson', got {intermittent_model!r}"
        )
    keys = list(keys)
    end = pd.Period(end, "M")
    series = plan[keys].reset_index(drop=True)
    n = len(series)
    history = month_matrix(
        demand, series, keys=keys, first=end - demand_months + 1, months=demand_months
    )
    d = history.mean(axis=1) if demand_months else np.zeros(n)
    sd = history.std(axis=1, ddof=1) if demand_months > 1 else np.zeros(n)
    lt = plan["lead_time_days"].to_numpy(dtype="float64") / DAYS_PER_MONTH
    lt_sd = _column(plan, "lead_time_sd_days") / DAYS_PER_MONTH
    lot = _column(plan, "lot_size")
    q = np.where(lot > 0, lot, d)
    mu = d * lt

    pattern = _patterns(history, series)
    sigma, basis = sd, np.full(n, "demand history", dtype=object)
    if errors is not None and len(errors):
        at = key_index(series, [k for k in keys if k in errors.columns], errors)
        found = at >= 0
        points = np.where(found, errors["error_points"].to_numpy()[np.maximum(at, 0)], 0)
        use = found & (points >= min_error_points)
        sigma = np.where(
            use, errors["error_sigma"].to_numpy(dtype="float64")[np.maximum(at, 0)], sd
        )
        basis = np.where(use, "forecast errors", basis)
    if service_measure == "cycle":
        ss = safety_stock_cycle(
            sigma, lt, service_level=cycle_service_level, mean_demand=d, sigma_lead_time=lt_sd
        )
        target = cycle_service_level
    else:
        ss = safety_stock_fill_rate(
            sigma, lt, fill_rate=fill_rate, order_quantity=q, mean_demand=d, sigma_lead_time=lt_sd
        )
        target = fill_rate
    ss = np.maximum(ss, 0.0)
    rop = mu + ss
    method = np.full(n, f"normal, {_label(service_measure, target)}", dtype=object)
    sap_ss = _column(plan, "safety_stock")
    sap_rop = _column(plan, "reorder_point")
    sap_level = np.where(np.isnan(sap_rop), mu + np.nan_to_num(sap_ss), sap_rop)
    sigma_lt = lead_time_sigma(sigma, lt, mean_demand=d, sigma_lead_time=lt_sd)
    sap_csl, sap_esc = _normal_service(mu, sigma_lt, sap_level)

    boot = np.isin(pattern, list(intermittent_patterns))
    label = _label(service_measure, target)
    rule = (
        {"cycle_service_level": cycle_service_level}
        if service_measure == "cycle"
        else {"fill_rate": fill_rate}
    )
    if boot.any() and intermittent_model == "poisson":
        rows = np.flatnonzero(boot)
        rop[rows] = poisson_reorder_point(mu[rows], **rule, order_quantity=q[rows])
        method[rows] = f"Poisson lead-time demand, {label}"
        sap_csl[rows] = stats.poisson.cdf(np.floor(sap_level[rows]), mu[rows])
        sap_esc[rows] = _poisson_shortage(sap_level[rows], mu[rows])
    elif boot.any():
        rng = np.random.default_rng(random_state)
        rows = np.flatnonzero(boot)
        drawn = np.ceil(np.round(lt[rows], 9)).astype("int64")  # months of history per outcome
        ordered = np.sort(history[rows], axis=1)  # distinct values per row: the atoms
        atoms = 1 + (ordered[:, 1:] != ordered[:, :-1]).sum(axis=1)
        group = drawn * (demand_months + 1) + np.where(drawn <= exact_months, atoms, 0)
        level = np.zeros(len(rows))
        for g in np.unique(group):  # rows alike in months drawn and atoms: no padding waste
            m = g // (demand_months + 1)
            part = rows[group == g]
            if m <= exact_months:
                values, probs = lead_time_demand_distribution(history[part], lt[part])
                method[part] = f"exact lead-time demand distribution, {label}"
            else:
                values = bootstrap_lead_time_demand(
                    history[part], lt[part], draws=bootstrap_draws, rng=rng
                )
                probs = np.full(values.shape, 1.0 / max(values.shape[1], 1))
                method[part] = f"bootstrap of lead-time demand, {label}"
            level[group == g] = discrete_reorder_point(
                values, probs, **rule, order_quantity=q[part]
            )
            at = sap_level[part][:, None]
            sap_csl[part] = (probs * (values <= at + 1e-9)).sum(axis=1)
            sap_esc[part] = (probs * np.maximum(values - at, 0.0)).sum(axis=1)
        rop[rows] = level
        basis[rows] = "demand history"
        sigma = np.where(boot, np.nan, sigma)
    rop = np.maximum(rop, mu)  # an intermittent level below the mean: no negative SS
    ss = np.where(boot, rop - mu, ss)
    none = ~(history > 0).any(axis=1)
    ending = plan["end_of_life"].notna().to_numpy() if "end_of_life" in plan else np.zeros(n, bool)
    ss = np.where(none | ending, 0.0, ss)
    rop = np.where(none | ending, mu, rop)
    method[none] = "no demand in the window"
    method[ending] = "phase-out: run down, no safety stock"
    basis[none | ending] = ""  # no spread was used
    rec, rec_rop = (whole_units(ss), whole_units(rop)) if round_up else (ss, rop)

    change = rec - np.nan_to_num(sap_ss)
    cost, currency = _costs(position, series, keys)
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.abs(change) > tolerance * rec
        sap_fill = np.where(q > 0, 1.0 - sap_esc / q, np.nan)
    out = series.assign(
        pattern=pattern,
        method=method,
        sigma_basis=basis,
        lead_time_months=lt,
        mean_demand=d,
        sigma=sigma,
        recommended_safety_stock=rec,
        recommended_reorder_point=rec_rop,
        sap_safety_stock=sap_ss,
        sap_reorder_point=sap_rop,
        change=change,
        unit_cost=cost,
        currency=currency,
        money_tied_up=np.where(change < 0, -change * cost, 0.0),
        money_at_risk=np.where(change > 0, change * cost, 0.0),
        propose=off & (change != 0),
        safety_stock_unrounded=ss,
        reorder_point_unrounded=rop,
        order_quantity=q,
        sap_cycle_service_level=sap_csl,
        sap_expected_shortage=sap_esc,
        sap_fill_rate=sap_fill,
    )
    return out


def _normal_service(mu: np.ndarray, sigma: np.ndarray, level: np.ndarray):
    """(P(X ≤ level), E[(X − level)⁺]) for normal X (mean `mu`, σ `sigma`; σ 0: a point)."""
    safe = np.where(sigma > 0, sigma, 1.0)
    k = (level - mu) / safe
    csl = np.where(sigma > 0, ndtr(k), (level >= mu).astype("float64"))
    esc = np.where(sigma > 0, sigma * standard_normal_loss(k), np.maximum(mu - level, 0.0))
    return csl, esc


def _poisson_shortage(level: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """E[(X − level)⁺] for Poisson X and a real level (interpolated between integers)."""
    lo = np.floor(np.maximum(level, 0.0))
    frac = np.maximum(level, 0.0) - lo
    a, b = poisson_loss(lo, mean), poisson_loss(lo + 1.0, mean)
    return a + frac * (b - a)


def _label(measure: str, target: float) -> str:
    return f"{'cycle service' if measure == 'cycle' else 'fill rate'} {target:.0%}"


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[name].to_numpy(dtype="float64", na_value=np.nan)


def _patterns(history: np.ndarray, series: pd.DataFrame) -> np.ndarray:
    """Syntetos–Boylan pattern of each row of `history` (months before the first demand are
    not observed), by :func:`kamlab.classify.demand_pattern`.

    A row with demand in every month has ADI = 1, so it is smooth or erratic whatever its CV²:
    for the choice made here (normal or empirical) that is all that matters, and it is labelled
    so without the classification's cost.
    """
    n, t = history.shape
    out = np.full(n, "no demand", dtype=object)
    if n == 0 or t == 0:
        return out
    every = (history > 0).all(axis=1)
    out[every] = "smooth or erratic"
    gaps = np.flatnonzero(~every & (history > 0).any(axis=1))
    started = np.cumsum(history[gaps] > 0, axis=1) > 0
    rows, cols = np.nonzero(started)
    long = pd.DataFrame(
        {
            "_row": gaps[rows],
            "period": pd.PeriodIndex.from_ordinals(cols, freq="M"),
            "quantity": history[gaps[rows], cols],
        }
    )
    found = demand_pattern(long, keys=["_row"])
    out[found["_row"].to_numpy()] = found["pattern"].to_numpy(dtype=object)
    return out


def _costs(position: pd.DataFrame | None, series: pd.DataFrame, keys: list[str]):
    n = len(series)
    if position is None or position.empty:
        return np.full(n, np.nan), np.full(n, None, dtype=object)
    at = key_index(series, keys, position)
    ok = at >= 0
    cost = np.where(ok, position["unit_cost"].to_numpy(dtype="float64")[np.maximum(at, 0)], np.nan)
    currency = np.where(ok, position["currency"].to_numpy(dtype=object)[np.maximum(at, 0)], None)
    return cost, currency
