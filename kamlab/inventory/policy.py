"""The inventory-policy formulas, from given moments: reorder point, safety factor, loss
function, expected shortage, service achieved; continuous and periodic review; Poisson and
empirical (discrete) demand; the last-time buy.

Conventions (every function here):

- **Periods.** Demand moments are per period (a day, a week or a month: any bucket), lead
  time, its σ and the review period are in the same periods (fractions allowed);
  :func:`periods` converts days into periods of a :data:`BUCKET_DAYS` bucket. Quantities are
  in the item's unit.
- **Which σ.** ``sigma_demand`` is the standard deviation of one period's demand *around what
  the planner expects*: the forecast-error σ where a forecast drives the plan (Silver, Pyke &
  Thomas 2017, ch. 4 and 6), the σ of demand itself where the plan is its mean. Periods are
  independent, so σ over *L* periods is σ√L.
- **No hidden rounding.** Every figure is returned unrounded; ``whole_units=True`` adds
  ``*_units`` columns rounded *up* once, at the end (⌈x⌉ after rounding x to 6 decimals, so
  59.0000001 stays 59). Discrete models (Poisson, empirical) are integer by construction.
- **Service.** Cycle service level (P1, CSL) = P(no stock-out in a replenishment cycle)
  = Φ(k); fill rate (P2, β) = share of demand met from stock = 1 − ESC / (demand per cycle),
  with ESC = σ G(k) the expected shortage per cycle (backorders; Silver, Pyke & Thomas 2017,
  ch. 6; Chopra & Meindl, ch. 12 "safety inventory"; Nahmias, ch. 5 "Type 1 / Type 2
  service").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtr, ndtri

__all__ = [
    "BUCKET_DAYS",
    "continuous_review",
    "discrete_loss",
    "discrete_reorder_point",
    "evaluate_policy",
    "expected_shortage",
    "inverse_normal_loss",
    "last_time_buy",
    "lead_time_sigma",
    "periodic_review",
    "periods",
    "poisson_loss",
    "poisson_reorder_point",
    "safety_factor",
    "standard_normal_loss",
    "whole_units",
]

BUCKET_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
_SQRT_2PI = np.sqrt(2.0 * np.pi)


def periods(days: np.ndarray | float, bucket: str = "month") -> np.ndarray:
    """Days as periods of `bucket` ("day", "week", "month" = 365.25 / 12 days).

    >>> float(periods(14, "week")), round(float(periods(45, "month")), 4)
    (2.0, 1.4784)
    """
    if bucket not in BUCKET_DAYS:
        raise ValueError(f"periods: bucket must be one of {sorted(BUCKET_DAYS)}, got {bucket!r}")
    return np.asarray(days, dtype="float64") / BUCKET_DAYS[bucket]


def whole_units(x: np.ndarray | float) -> np.ndarray:
    """`x` rounded up to whole units, once: ⌈round(x, 6)⌉ (59.4 → 60, 59.0000001 → 59)."""
    return np.ceil(np.round(np.asarray(x, dtype="float64"), 6))


def standard_normal_loss(k: np.ndarray | float) -> np.ndarray:
    """The standard normal loss function G(k) = E[(Z − k)⁺] for Z ~ N(0, 1).

    .. math:: G(k) = \\varphi(k) - k\\,(1 - \\Phi(k))

    Expected units short per unit of σ when the reorder point is *k* standard deviations above
    mean lead-time demand (Silver, Pyke & Thomas 2017, ch. 6 and its appendix table of G(k);
    Nahmias's L(z); Stevenson's E(z)). Decreasing in *k*, G(0) = 1/√(2π), G(k) → −k as
    k → −∞.

    >>> round(float(standard_normal_loss(0.0)), 5), round(float(standard_normal_loss(1.0)), 5)
    (0.39894, 0.08332)
    """
    k = np.asarray(k, dtype="float64")
    return np.exp(-0.5 * k * k) / _SQRT_2PI - k * (1.0 - ndtr(k))


def inverse_normal_loss(g: np.ndarray | float) -> np.ndarray:
    """The *k* with G(k) = `g` (vectorised bisection on [−8, 8], to 1e-10).

    `g` ≤ 0 has no solution (``inf``); G(−8) ≈ 8 caps *k* at −8 for bigger `g`.

    >>> round(float(inverse_normal_loss(0.08332)), 3)
    1.0
    """
    g = np.asarray(g, dtype="float64")
    lo, hi = np.full(g.shape, -8.0), np.full(g.shape, 8.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = standard_normal_loss(mid) > g  # G decreases: the root is to the right
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return np.where(g > 0, 0.5 * (lo + hi), np.inf)


def lead_time_sigma(
    sigma_demand: np.ndarray | float,
    lead_time: np.ndarray | float,
    *,
    mean_demand: np.ndarray | float = 0.0,
    sigma_lead_time: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Standard deviation of demand over a (possibly variable) lead time.

    .. math:: \\sigma_{L} = \\sqrt{L\\,\\sigma_d^2 + d^2\\,\\sigma_{LT}^2}

    for demand per period with mean *d* and σ_d (independent periods) and a lead time of mean
    *L* and σ_LT periods, independent of demand (Silver, Pyke & Thomas 2017, ch. 6; Chopra &
    Meindl, ch. 12, eq. for σ_L with uncertain lead time). Units: those of demand. An empty
    σ_LT counts 0.

    >>> float(lead_time_sigma(100.0, 4.0))
    200.0
    """
    sd, lt = np.asarray(sigma_demand, "float64"), np.asarray(lead_time, "float64")
    d, sl = np.asarray(mean_demand, "float64"), np.asarray(sigma_lead_time, "float64")
    return np.sqrt(lt * sd**2 + d**2 * np.nan_to_num(sl) ** 2)


def safety_factor(
    *,
    cycle_service_level: float | np.ndarray | None = None,
    fill_rate: float | np.ndarray | None = None,
    demand_per_cycle: np.ndarray | float | None = None,
    sigma: np.ndarray | float | None = None,
) -> np.ndarray:
    """The safety factor *k* for a service target (give exactly one target).

    - cycle service level: k = Φ⁻¹(CSL) (z);
    - fill rate β: the k with σ G(k) = (1 − β) × `demand_per_cycle` (the order quantity *Q*
      under continuous review, d R under periodic review), by :func:`inverse_normal_loss`.
      σ = 0 (no uncertainty) gives k = 0.

    >>> round(float(safety_factor(cycle_service_level=0.95)), 4)
    1.6449
    """
    if (cycle_service_level is None) == (fill_rate is None):
        raise ValueError("safety_factor: give exactly one of cycle_service_level and fill_rate")
    if cycle_service_level is not None:
        csl = np.asarray(cycle_service_level, dtype="float64")
        _check_unit_interval(csl, "cycle_service_level", "safety_factor")
        return ndtri(csl)
    beta = np.asarray(fill_rate, dtype="float64")
    _check_unit_interval(beta, "fill_rate", "safety_factor")
    if demand_per_cycle is None or sigma is None:
        raise ValueError("safety_factor: a fill rate needs demand_per_cycle and sigma")
    s = np.asarray(sigma, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        k = inverse_normal_loss((1.0 - beta) * np.asarray(demand_per_cycle, "float64") / s)
    return np.where(s > 0, k, 0.0)


def expected_shortage(sigma: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    """Expected shortage per cycle, ESC = σ G(k) (units; Chopra & Meindl's ESC, Nahmias's
    n(R), Stevenson's E(n)), for normal demand over the protection interval with σ `sigma` and
    a reorder point *k* σ above its mean.

    >>> round(float(expected_shortage(707.1068, 1000 / 707.1068)), 2)
    25.13
    """
    return np.asarray(sigma, "float64") * standard_normal_loss(k)


def continuous_review(
    mean_demand: np.ndarray | float,
    sigma_demand: np.ndarray | float,
    lead_time: np.ndarray | float,
    *,
    sigma_lead_time: np.ndarray | float = 0.0,
    order_quantity: np.ndarray | float | None = None,
    cycle_service_level: float | np.ndarray | None = None,
    fill_rate: float | np.ndarray | None = None,
    round_up: bool = False,
) -> pd.DataFrame:
    """Safety stock and reorder point of a continuous-review (s, Q) policy for a service target.

    .. math::

        \\mu_L = d L, \\quad \\sigma_L = \\sqrt{L\\sigma_d^2 + d^2\\sigma_{LT}^2}, \\quad
        SS = k\\,\\sigma_L, \\quad s = \\mu_L + SS

    with k = Φ⁻¹(CSL), or σ_L G(k) = (1 − β) Q for a fill rate β (then a negative k is kept:
    the cycle stock alone over-delivers β; Silver, Pyke & Thomas 2017, ch. 6; Chopra &
    Meindl, ch. 12). Moments per period, lead times in periods (see the module docstring).
    The result also evaluates the policy (:func:`evaluate_policy`): cycle service level,
    ESC and fill rate (NaN without `order_quantity`).

    Returns one row per item: mean_lead_time_demand, sigma_lead_time_demand, k,
    safety_stock, reorder_point, cycle_service_level, expected_shortage, fill_rate; with
    `round_up`, also safety_stock_units and reorder_point_units (each rounded up once).
    """
    d = np.asarray(mean_demand, "float64")
    sigma = lead_time_sigma(sigma_demand, lead_time, mean_demand=d, sigma_lead_time=sigma_lead_time)
    q = None if order_quantity is None else np.asarray(order_quantity, "float64")
    if fill_rate is not None and q is None:
        raise ValueError("continuous_review: a fill rate needs the order_quantity")
    k = safety_factor(
        cycle_service_level=cycle_service_level,
        fill_rate=fill_rate,
        demand_per_cycle=q,
        sigma=sigma,
    )
    mu = d * np.asarray(lead_time, "float64")
    out = _evaluate(mu, sigma, mu + k * sigma, q)
    return _with_units(out, round_up, ("safety_stock", "reorder_point"))


def evaluate_policy(
    mean_demand: np.ndarray | float,
    sigma_demand: np.ndarray | float,
    lead_time: np.ndarray | float,
    *,
    order_quantity: np.ndarray | float | None,
    reorder_point: np.ndarray | float | None = None,
    safety_stock: np.ndarray | float | None = None,
    sigma_lead_time: np.ndarray | float = 0.0,
) -> pd.DataFrame:
    """What an existing (s, Q) policy, e.g. the values in SAP, achieves under normal demand.

    Give the reorder point *s* or the safety stock (then s = d L + SS):

    .. math::

        SS = s - d L, \\quad k = SS / \\sigma_L, \\quad CSL = \\Phi(k), \\quad
        ESC = \\sigma_L\\,G(k), \\quad \\text{fill rate} = 1 - ESC / Q

    (Chopra & Meindl, ch. 12, "evaluating safety inventory, cycle service level and fill
    rate given a replenishment policy"; Silver, Pyke & Thomas 2017, ch. 6). σ_L = 0: CSL is
    1 when s ≥ d L, else 0, ESC = (d L − s)⁺. Fill rate NaN without `order_quantity` (Q in
    units per replenishment; the lot size, or demand per order cycle).

    Returns mean_lead_time_demand, sigma_lead_time_demand, k, safety_stock, reorder_point,
    cycle_service_level, expected_shortage, fill_rate.
    """
    if (reorder_point is None) == (safety_stock is None):
        raise ValueError("evaluate_policy: give exactly one of reorder_point and safety_stock")
    d = np.asarray(mean_demand, "float64")
    sigma = lead_time_sigma(sigma_demand, lead_time, mean_demand=d, sigma_lead_time=sigma_lead_time)
    mu = d * np.asarray(lead_time, "float64")
    s = mu + np.asarray(safety_stock, "float64") if reorder_point is None else reorder_point
    q = None if order_quantity is None else np.asarray(order_quantity, "float64")
    return _evaluate(mu, sigma, np.asarray(s, "float64"), q)


def _evaluate(mu, sigma, s, q) -> pd.DataFrame:
    mu, sigma, s = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(a, "float64")) for a in (mu, sigma, s))
    )
    ss = s - mu
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(sigma > 0, ss / sigma, np.where(ss >= 0, np.inf, -np.inf))
        esc = np.where(
            sigma > 0, expected_shortage(sigma, np.where(sigma > 0, k, 0.0)), np.maximum(-ss, 0.0)
        )
        fill = np.full(mu.shape, np.nan) if q is None else 1.0 - esc / q
    return pd.DataFrame(
        {
            "mean_lead_time_demand": mu,
            "sigma_lead_time_demand": sigma,
            "k": k,
            "safety_stock": ss,
            "reorder_point": s,
            "cycle_service_level": ndtr(k),
            "expected_shortage": esc,
            "fill_rate": fill,
        }
    )


def periodic_review(
    mean_demand: np.ndarray | float,
    sigma_demand: np.ndarray | float,
    lead_time: np.ndarray | float,
    review_period: np.ndarray | float,
    *,
    sigma_lead_time: np.ndarray | float = 0.0,
    cycle_service_level: float | np.ndarray | None = None,
    fill_rate: float | np.ndarray | None = None,
    inventory_position: np.ndarray | float | None = None,
    round_up: bool = False,
) -> pd.DataFrame:
    """Order-up-to level of a periodic-review (R, S) policy: protection over R + L periods.

    .. math::

        \\mu_{R+L} = d (R + L), \\quad \\sigma_{R+L} = \\sqrt{(R + L)\\sigma_d^2 +
        d^2\\sigma_{LT}^2}, \\quad S = \\mu_{R+L} + k\\,\\sigma_{R+L}

    with k = Φ⁻¹(CSL), or σ_{R+L} G(k) = (1 − β) d R for a fill rate β (the shortage per
    review cycle may be (1 − β) of the demand of one review cycle; Silver, Pyke & Thomas
    2017, ch. 6, the (R, S) system; Chopra & Meindl, ch. 12, periodic review; Stevenson,
    ch. 13, fixed-order-interval model). With `inventory_position` (on hand + on order −
    backorders at the review), order_quantity = (S − position)⁺. Units as in the module
    docstring.

    Returns mean_protection_demand, sigma_protection_demand, k, safety_stock,
    order_up_to_level, cycle_service_level, expected_shortage (per review cycle), fill_rate,
    and order_quantity with a position; with `round_up`, safety_stock_units,
    order_up_to_level_units (and order_quantity_units), each rounded up once.
    """
    d = np.asarray(mean_demand, "float64")
    r = np.asarray(review_period, "float64")
    protection = r + np.asarray(lead_time, "float64")
    sigma = lead_time_sigma(
        sigma_demand, protection, mean_demand=d, sigma_lead_time=sigma_lead_time
    )
    k = safety_factor(
        cycle_service_level=cycle_service_level,
        fill_rate=fill_rate,
        demand_per_cycle=d * r,
        sigma=sigma,
    )
    mu = d * protection
    out = _evaluate(mu, sigma, mu + k * sigma, np.broadcast_to(d * r, np.shape(mu)))
    out = out.rename(
        columns={
            "mean_lead_time_demand": "mean_protection_demand",
            "sigma_lead_time_demand": "sigma_protection_demand",
            "reorder_point": "order_up_to_level",
        }
    )
    names = ["safety_stock", "order_up_to_level"]
    if inventory_position is not None:
        position = np.asarray(inventory_position, "float64")
        out["order_quantity"] = np.maximum(out["order_up_to_level"].to_numpy() - position, 0.0)
        names.append("order_quantity")
    return _with_units(out, round_up, names)


def poisson_loss(level: np.ndarray | float, mean: np.ndarray | float) -> np.ndarray:
    """E[(X − s)⁺] for X ~ Poisson(`mean`) and an integer level *s* ≥ 0 (units short).

    .. math:: E[(X - s)^+] = \\lambda\\,P(X \\ge s) - s\\,P(X \\ge s + 1)

    (Silver, Pyke & Thomas 2017, ch. 6, discrete demand; Nahmias, ch. 5, Poisson loss table).

    >>> float(poisson_loss(0, 2.5)), round(float(poisson_loss(1, 1.0)), 4)
    (2.5, 0.3679)
    """
    s = np.asarray(level, "float64")
    lam = np.asarray(mean, "float64")
    return lam * stats.poisson.sf(s - 1, lam) - s * stats.poisson.sf(s, lam)


def poisson_reorder_point(
    mean_lead_time_demand: np.ndarray | float,
    *,
    cycle_service_level: float | None = None,
    fill_rate: float | None = None,
    order_quantity: np.ndarray | float | None = None,
) -> np.ndarray:
    """The smallest integer reorder point (or order-up-to level) for Poisson lead-time demand.

    Cycle service: the smallest s with P(X ≤ s) ≥ CSL (scipy's ``poisson.ppf``). Fill rate:
    the smallest s with E[(X − s)⁺] ≤ (1 − β) Q (:func:`poisson_loss`). For slow movers
    whose demand comes one unit at a time (Silver, Pyke & Thomas 2017, ch. 6 and the
    slow-moving items of ch. 8); lumpy items with bigger sizes want
    :func:`discrete_reorder_point` of their own size distribution.

    >>> poisson_reorder_point(0.75, cycle_service_level=0.95).tolist()
    [2.0]
    """
    lam = np.atleast_1d(np.asarray(mean_lead_time_demand, "float64"))
    if (cycle_service_level is None) == (fill_rate is None):
        raise ValueError(
            "poisson_reorder_point: give exactly one of cycle_service_level and fill_rate"
        )
    if cycle_service_level is not None:
        _check_unit_interval(cycle_service_level, "cycle_service_level", "poisson_reorder_point")
        return stats.poisson.ppf(cycle_service_level - 1e-12, lam)
    _check_unit_interval(fill_rate, "fill_rate", "poisson_reorder_point")
    if order_quantity is None:
        raise ValueError("poisson_reorder_point: a fill rate needs the order_quantity")
    allowed = (1.0 - fill_rate) * np.asarray(order_quantity, "float64")
    lo = np.zeros(lam.shape)  # loss(lo) may exceed allowed; loss(hi) does not
    hi = stats.poisson.ppf(1.0 - 1e-12, lam) + 1.0
    lo, hi = np.broadcast_arrays(lo, hi)
    lo, hi = lo.copy(), hi.copy()
    ok0 = poisson_loss(0.0, lam) <= allowed + 1e-12
    for _ in range(64):
        mid = np.floor(0.5 * (lo + hi))
        good = poisson_loss(mid, lam) <= allowed + 1e-12
        hi = np.where(good, mid, hi)
        lo = np.where(good, lo, mid)
        if np.all(hi - lo <= 1):
            break
    return np.where(ok0, 0.0, hi)


def discrete_reorder_point(
    values: np.ndarray,
    probs: np.ndarray,
    *,
    cycle_service_level: float | None = None,
    fill_rate: float | None = None,
    order_quantity: np.ndarray | float | None = None,
) -> np.ndarray:
    """The reorder point from a discrete lead-time demand distribution (rows: `values` with
    their `probs`, e.g. from :func:`~kamlab.inventory.lead_time_demand_distribution`).

    Cycle service: the CSL quantile itself, the smallest value x with P(X ≤ x) ≥ CSL (no
    normal approximation on top: the level is one of the distribution's values). Fill rate:
    the smallest value x with E[(X − x)⁺] ≤ (1 − β) Q. A level below the smallest value is
    never proposed.

    >>> discrete_reorder_point(np.array([[0.0, 1, 2, 6]]), np.array([[9, 1, 1, 1]]) / 12,
    ...                        cycle_service_level=0.95).tolist()
    [6.0]
    """
    values = np.atleast_2d(np.asarray(values, "float64"))
    probs = np.atleast_2d(np.asarray(probs, "float64"))
    if (cycle_service_level is None) == (fill_rate is None):
        raise ValueError(
            "discrete_reorder_point: give exactly one of cycle_service_level and fill_rate"
        )
    if values.size == 0:
        return np.zeros(len(values))
    order = np.argsort(values, axis=1, kind="stable")
    x = np.take_along_axis(values, order, axis=1)
    w = np.take_along_axis(probs, order, axis=1)
    rows = np.arange(len(x))
    if cycle_service_level is not None:
        _check_unit_interval(cycle_service_level, "cycle_service_level", "discrete_reorder_point")
        cdf = np.cumsum(w, axis=1)
        return x[rows, np.argmax(cdf >= cycle_service_level - 1e-12, axis=1)]
    _check_unit_interval(fill_rate, "fill_rate", "discrete_reorder_point")
    if order_quantity is None:
        raise ValueError("discrete_reorder_point: a fill rate needs the order_quantity")
    shortage = discrete_loss(x, w)
    allowed = (1.0 - fill_rate) * np.broadcast_to(np.asarray(order_quantity, "float64"), (len(x),))[
        :, None
    ]
    return x[rows, np.argmax(shortage <= allowed + 1e-9, axis=1)]


def discrete_loss(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """E[(X − x_j)⁺] at each value of sorted rows `x` with probabilities `w` (same shape).

    E[(X − x_j)⁺] = Σ_{i ≥ j} w_i x_i − x_j Σ_{i ≥ j} w_i (non-increasing in j, last 0).
    """
    tail_value = np.cumsum((w * x)[:, ::-1], axis=1)[:, ::-1]
    tail_mass = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]
    return tail_value - x * tail_mass


def last_time_buy(
    remaining_demand: np.ndarray | float,
    available: np.ndarray | float,
    *,
    service_level: float,
    sigma: np.ndarray | float | None = None,
    distribution: str = "normal",
    lot_size: np.ndarray | float | None = None,
    unit_cost: np.ndarray | float | None = None,
) -> pd.DataFrame:
    """The final order of a phasing-out item that covers its remaining demand at a service
    level, and what one unit more or less of cover changes.

    *D* is the demand remaining until the end of service (mean `remaining_demand`); the cover
    is its `service_level` quantile, the buy what the `available` supply (stock + open supply)
    lacks, rounded up to whole units (and lots):

    .. math::

        \\text{cover} = F_D^{-1}(\\alpha), \\qquad
        \\text{buy} = \\lceil (\\text{cover} - \\text{available})^+ \\rceil

    *D* normal with σ `sigma` (the forecast-error σ over the remaining months, e.g. σ_e √n),
    or Poisson (`distribution="poisson"`, integer cover, for items sold a unit at a time).
    The final-order problem is a newsvendor (Teunter & Fortuin 1999, Int. J. Production
    Economics 59; Silver, Pyke & Thomas 2017, ch. 11 on style goods and final orders; Nahmias,
    ch. 5, the newsvendor): the critical fractile α = c_u / (c_u + c_o) when costs are known.

    The spread, at the level *S* = available + buy: ``service_level_achieved`` = P(D ≤ S);
    ``service_one_less`` / ``service_one_more`` = P(D ≤ S ∓ 1); ``short_one_less`` = the
    expected units short added by one unit less, E[(D − S + 1)⁺] − E[(D − S)⁺];
    ``leftover_one_more`` = the expected units left over added by one unit more,
    E[(S + 1 − D)⁺] − E[(S − D)⁺] (the chance it is never sold); ``cost_one_more`` =
    leftover_one_more × `unit_cost` (money, the cost's currency; NaN without a cost).

    Returns cover, buy, level, service_level_achieved, expected_short, service_one_less,
    service_one_more, short_one_less, leftover_one_more, cost_one_more.
    """
    fn = "last_time_buy"
    _check_unit_interval(service_level, "service_level", fn)
    mu = np.atleast_1d(np.asarray(remaining_demand, "float64"))
    have = np.broadcast_to(np.asarray(available, "float64"), mu.shape)
    if distribution == "normal":
        if sigma is None:
            raise ValueError(f"{fn}: a normal remaining demand needs its sigma")
        sd = np.broadcast_to(np.asarray(sigma, "float64"), mu.shape)
        cover = mu + ndtri(service_level) * sd

        def cdf(x):
            return np.where(sd > 0, ndtr((x - mu) / np.where(sd > 0, sd, 1.0)), x >= mu)

        def short(x):  # E[(D − x)⁺]
            z = (x - mu) / np.where(sd > 0, sd, 1.0)
            return np.where(sd > 0, sd * standard_normal_loss(z), np.maximum(mu - x, 0.0))

    elif distribution == "poisson":
        cover = stats.poisson.ppf(service_level - 1e-12, mu)

        def cdf(x):
            return stats.poisson.cdf(x, mu)

        def short(x):
            return poisson_loss(np.maximum(x, 0.0), mu)

    else:
        raise ValueError(f"{fn}: distribution must be 'normal' or 'poisson', got {distribution!r}")
    buy = whole_units(np.maximum(cover - have, 0.0))
    if lot_size is not None:
        lot = np.broadcast_to(np.asarray(lot_size, "float64"), mu.shape)
        lots = np.where(lot > 0, lot, 1.0)
        buy = np.where(lot > 0, np.ceil(np.round(buy / lots, 9)) * lots, buy)
    level = have + buy

    def over(x):  # E[(x − D)⁺] = x − μ + E[(D − x)⁺]
        return x - mu + short(x)

    leftover = over(level + 1.0) - over(level)
    cost = (
        np.full(mu.shape, np.nan)
        if unit_cost is None
        else leftover * np.asarray(unit_cost, "float64")
    )
    return pd.DataFrame(
        {
            "cover": cover,
            "buy": buy,
            "level": level,
            "service_level_achieved": cdf(level),
            "expected_short": short(level),
            "service_one_less": cdf(level - 1.0),
            "service_one_more": cdf(level + 1.0),
            "short_one_less": short(level - 1.0) - short(level),
            "leftover_one_more": leftover,
            "cost_one_more": cost,
        }
    )


def _with_units(out: pd.DataFrame, round_up: bool, names) -> pd.DataFrame:
    if round_up:
        for name in names:
            out[f"{name}_units"] = whole_units(out[name].to_numpy())
    return out


def _check_unit_interval(value, name: str, function: str) -> None:
    v = np.asarray(value, dtype="float64")
    if not ((v > 0.0) & (v < 1.0)).all():
        raise ValueError(f"{function}: {name} must be in (0, 1), got {value}")
