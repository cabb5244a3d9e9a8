"""Key-account matrix: customer attractiveness against our strength, with explained scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from kamlab.classify.abc import _require
from kamlab.config import DEFAULTS
from kamlab.currency import Rates, rate_factors
from kamlab.exclusions import Exclusions

__all__ = ["account_criteria", "key_account_matrix"]

_C = DEFAULTS.classify

_QUADRANTS = {
    (True, True): "strategic",
    (True, False): "development",
    (False, True): "status",
    (False, False): "streamline",
}


def _scaled(values: pd.Series, lower_is_better: bool) -> pd.Series:
    """Rank within the portfolio scaled to 0–1: (rank − 1) / (n − 1), ties share their mean rank."""
    x = pd.to_numeric(values, errors="coerce").astype("float64")
    if lower_is_better:
        x = -x
    n = int(x.notna().sum())
    if n <= 1:
        return x.where(x.isna(), 0.5)
    return (x.rank(method="average") - 1) / (n - 1)


def _check_weights(weights: Mapping[str, float], axis: str) -> None:
    if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(
            f"key_account_matrix: {axis}_weights must be non-negative with a positive sum, "
            f"got {dict(weights)!r}"
        )


def _axis(
    criteria: pd.DataFrame, weights: Mapping[str, float], lower_is_better: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Scaled values, effective (re-normalised) weights and contributions of one axis."""
    names = list(weights)
    scaled = pd.DataFrame(
        {
            c: _scaled(criteria[c], c in lower_is_better)
            if c in criteria.columns
            else pd.Series(np.nan, index=criteria.index)
            for c in names
        },
        index=criteria.index,
    )
    raw = np.array([weights[c] for c in names], dtype="float64")
    available = scaled.notna().to_numpy()
    w = np.where(available, raw, 0.0)
    total = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(available & (total > 0), w / total, np.nan)
    weight = pd.DataFrame(w, index=criteria.index, columns=names)
    return scaled, weight, weight * scaled


def _leader(contribution: pd.DataFrame) -> pd.Series:
    """Name of the criterion contributing most per row ('' when all are missing)."""
    values = contribution.to_numpy(dtype="float64")
    if values.shape[1] == 0:
        return pd.Series("", index=contribution.index, dtype="string")
    best = np.nanargmax(np.where(np.isnan(values), -np.inf, values), axis=1)
    names = np.asarray(contribution.columns, dtype=object)[best]
    names = np.where(np.isnan(values).all(axis=1), "", names)
    return pd.Series(names, index=contribution.index, dtype="string")


def key_account_matrix(
    criteria: pd.DataFrame,
    *,
    attractiveness_weights: Mapping[str, float] = _C.attractiveness_weights,
    strength_weights: Mapping[str, float] = _C.strength_weights,
    threshold: float = _C.matrix_threshold,
    lower_is_better: Sequence[str] = _C.lower_is_better,
    key: str = "customer_id",
) -> pd.DataFrame:
    """Place each customer in the key-account matrix, with each criterion's contribution.

    `criteria` has one row per customer and one column per criterion (see
    :func:`account_criteria`). Each criterion *c* is scaled to 0–1 by its rank within the
    portfolio, *s_c = (r_c − 1) / (n_c − 1)* with *r_c* the average rank (ties share it) among
    the *n_c* customers that have a value; for criteria in `lower_is_better` (days beyond
    terms, complaints) the lowest raw value ranks highest. With one customer having a value,
    *s_c* = 0.5 (mid-rank: nothing to compare with). Per axis

    .. math::

        score = \\sum_c \\tilde w_c\\, s_c, \\qquad \\tilde w_c = w_c / \\sum_{k\\,available} w_k

    over the criteria the customer has: a missing criterion (NaN, or a column absent from
    `criteria`) drops out and the remaining weights are re-normalised, which the
    ``explanation`` says. ``{c}_contribution`` = *w̃_c s_c*, so the contributions of an axis sum
    to its score. High means score ≥ `threshold` (default 0.5; a score exactly on it is high). Quadrants: strategic (high
    attractiveness, high strength), development (high, low), status (low, high), streamline
    (low, low); a customer with no criterion on an axis is ``"unclassified"``.

    Source: key-account portfolio after McDonald, Millman & Rogers (1997), "Key account
    management: theory, practice and challenges", and Cheverton (2015), *Key Account
    Management*, ch. 9 (attractiveness vs relative strength); definition in
    ../shared/DOMAIN.md. Rank scaling makes scores robust to outliers and units.

    Returns one row per customer: `key`, ``attractiveness``, ``strength`` (0–1),
    ``quadrant``, ``explanation``, then per criterion ``{c}_scaled``, ``{c}_weight``
    (effective) and ``{c}_contribution``.

    >>> crit = pd.DataFrame({"customer_id": ["a", "b", "c"], "revenue": [300.0, 200.0, 100.0],
    ...                      "complaints": [1.0, 3.0, 2.0]})
    >>> m = key_account_matrix(crit, attractiveness_weights={"revenue": 1.0},
    ...                        strength_weights={"complaints": 1.0})
    >>> m[["customer_id", "attractiveness", "strength", "quadrant"]].to_string(index=False)
    'customer_id  attractiveness  strength    quadrant\\n          a             1.0       1.0   strategic\\n          b             0.5       0.0 development\\n          c             0.0       0.5      status'
    """
    _require(criteria, [key], "key_account_matrix")
    _check_weights(attractiveness_weights, "attractiveness")
    _check_weights(strength_weights, "strength")
    both = set(attractiveness_weights) & set(strength_weights)
    if both:
        raise ValueError(f"key_account_matrix: criteria on both axes: {sorted(both)}")
    if criteria[key].duplicated().any():
        raise ValueError(f"key_account_matrix: criteria must have one row per {key}")
    frame = criteria.reset_index(drop=True)
    out = frame[[key]].copy()
    parts, leaders, missing = {}, {}, pd.Series("", index=frame.index, dtype="string")
    for axis, weights in (
        ("attractiveness", attractiveness_weights),
        ("strength", strength_weights),
    ):
        scaled, weight, contribution = _axis(frame, weights, lower_is_better)
        out[axis] = contribution.sum(axis=1, min_count=1)
        parts[axis] = (scaled, weight, contribution)
        leaders[axis] = _leader(contribution)
        for c in weights:
            missing = missing + scaled[c].isna().map({True: f"{c}, ", False: ""}).astype("string")
    # compared after rounding, so a score of 0.5 on paper is not 0.49999999999999994
    high_a = out["attractiveness"].round(12) >= threshold
    high_s = out["strength"].round(12) >= threshold
    quadrant = np.select(
        [
            out["attractiveness"].isna() | out["strength"].isna(),
            high_a & high_s,
            high_a & ~high_s,
            ~high_a & high_s,
        ],
        ["unclassified", _QUADRANTS[True, True], _QUADRANTS[True, False], _QUADRANTS[False, True]],
        default=_QUADRANTS[False, False],
    )
    out["quadrant"] = pd.array(quadrant, dtype="string")
    text = out["quadrant"]
    for axis in ("attractiveness", "strength"):
        score = out[axis].round(2).astype("string").fillna("n/a")
        leader = leaders[axis].str.replace("_", " ")  # "share of business", not the column name
        lead = leader.where(leader == "", " led by " + leader)
        text = text + f"; {axis} " + score + lead
    missing = missing.str.removesuffix(", ")
    note = ("; missing: " + missing + " (weights re-normalised over the rest)").where(
        missing != "", ""
    )
    n_with = {c: int(frame[c].notna().sum()) for c in frame.columns if c != key}
    single = [c for c, n in n_with.items() if n == 1]
    used = [*attractiveness_weights, *strength_weights]
    lone = [c for c in used if c in single]
    lone_note = f"; only one customer has {', '.join(lone)}: scaled 0.5" if lone else ""
    out["explanation"] = (text + note + lone_note).astype("string")
    for axis in ("attractiveness", "strength"):
        scaled, weight, contribution = parts[axis]
        for c in scaled.columns:
            out[f"{c}_scaled"] = scaled[c]
            out[f"{c}_weight"] = weight[c]
            out[f"{c}_contribution"] = contribution[c]
    return out


def _as_series(values: pd.Series | pd.DataFrame, key: str, name: str) -> pd.Series:
    """A criterion given as a Series keyed by `key` or a frame with `key` and one value column."""
    if isinstance(values, pd.DataFrame):
        frame = values.set_index(key) if key in values.columns else values
        if name in frame.columns:
            values = frame[name]
        elif frame.shape[1] == 1:
            values = frame.iloc[:, 0]
        else:
            raise ValueError(
                f"account_criteria: {name}: expected a Series keyed by {key} or a frame with "
                f"{key} and one value column (or a {name!r} column), got {list(frame.columns)}"
            )
    if values.index.has_duplicates:
        raise ValueError(f"account_criteria: {name}: more than one value per {key}")
    return pd.to_numeric(values, errors="coerce").astype("float64")


def account_criteria(
    demand: pd.DataFrame,
    *,
    as_of: pd.Period | str,
    customers: pd.DataFrame | None = None,
    materials: pd.DataFrame | None = None,
    payment_behaviour: pd.Series | pd.DataFrame | None = None,
    otif: pd.Series | pd.DataFrame | None = None,
    forecast_accuracy: pd.Series | pd.DataFrame | None = None,
    complaints: pd.Series | pd.DataFrame | None = None,
    share_of_business: pd.Series | pd.DataFrame | None = None,
    rates: Rates | None = None,
    months: int = _C.criteria_months,
    start: pd.Period | str | None = None,
    key: str = "customer_id",
) -> pd.DataFrame:
    """The criteria frame for :func:`key_account_matrix`, one row per customer.

    From monthly `demand` (:func:`kamlab.demand.monthly_demand`: customer_id, material_id,
    currency, period, quantity, net_value), over the `months` months ending at `as_of`:

    - ``revenue`` = Σ net_value (0 for a customer without orders);
    - ``growth`` = revenue / revenue of the `months` before − 1 (NaN if that was 0), like
      for like: when the data start (`start`, the first month they cover) inside the earlier
      window, only months *m* of the recent window with *m* − `months` ≥ `start` are
      compared with their months a window earlier (NaN when no month pairs);
    - ``margin`` = (Σ net_value − Σ quantity · unit_cost) / Σ net_value over the lines whose
      material has a ``unit_cost`` in the line's currency (``materials.cost_currency``) —
      or, when `rates` are given, any cost currency with a rate (cost and sales are both
      converted into the common currency); other lines are left out of the margin and
      counted in ``attrs["excluded"]``.

    Amounts in several currencies are never added: pass `rates` (currency → factor into one
    common currency, undated or dated: :mod:`kamlab.currency`; revenue converts at the rate
    of its month's end, unit cost at the closing rate of `as_of`) or `demand` must hold a
    single currency (else ``ValueError``).

    The other criteria are computed elsewhere and passed in, keyed by customer (a Series
    indexed by `key`, or a frame with `key` and one value column): ``payment_behaviour``
    (days beyond terms, amount-weighted; lower is better), ``otif`` (fraction),
    ``forecast_accuracy`` (1 − WAPE), ``complaints`` (per delivered volume, e.g. PPM; lower
    is better), ``share_of_business`` (default: ``customers.wallet_share`` when present).
    A criterion not given is NaN, so the matrix re-weights over the rest.

    Customers: those in `customers` if given, else those in `demand`; values passed for
    other customers are left out and counted in ``attrs["excluded"]``.

    >>> d = pd.DataFrame({"customer_id": "a", "material_id": "m", "currency": "EUR",
    ...     "period": pd.period_range("2023-01", periods=24, freq="M"),
    ...     "quantity": 1.0, "net_value": [10.0] * 12 + [15.0] * 12})
    >>> mat = pd.DataFrame({"material_id": ["m"], "unit_cost": [6.0], "cost_currency": ["EUR"]})
    >>> r = account_criteria(d, as_of="2024-12", materials=mat).iloc[0]
    >>> print(float(r.revenue), float(r.growth), float(r.margin))
    180.0 0.5 0.6
    """
    _require(demand, [key, "period", "quantity", "net_value"], "account_criteria")
    end = pd.Period(as_of, "M").ordinal
    ordinal = pd.PeriodIndex(demand["period"]).asi8
    current = (ordinal > end - months) & (ordinal <= end)
    previous = (ordinal > end - 2 * months) & (ordinal <= end - months)
    # factorised once, summed with bincount: a few million demand rows stay fast
    customer_code, customer_ids = pd.factorize(demand[key])
    if "currency" in demand.columns:
        currency_code, currencies = pd.factorize(demand["currency"].astype("string"))
    else:
        currency_code, currencies = np.full(len(demand), -1), pd.Index([], dtype="string")
    if rates is not None and "currency" in demand.columns:
        try:  # revenue at the rate of its month's end (kamlab.currency)
            factor = rate_factors(demand["currency"], rates, on=demand["period"])
        except ValueError as err:
            raise ValueError(f"account_criteria: {err}") from None
    elif len(currencies) > 1:
        raise ValueError(
            f"account_criteria: demand is in currencies {sorted(currencies)}; "
            "revenue is never added or ranked across currencies: pass rates= to convert"
        )
    else:
        factor = np.ones(len(demand))
    value = demand["net_value"].to_numpy(dtype="float64", na_value=np.nan) * factor
    quantity = demand["quantity"].to_numpy(dtype="float64", na_value=np.nan)

    def per_customer(weights: np.ndarray, rows: np.ndarray) -> pd.Series:
        w = np.where(rows, np.nan_to_num(weights), 0.0)
        return pd.Series(
            np.bincount(customer_code, weights=w, minlength=len(customer_ids)),
            index=customer_ids,
        )

    revenue = per_customer(value, current)
    before = per_customer(value, previous)
    if start is not None and pd.Period(start, "M").ordinal > end - 2 * months + 1:
        first = pd.Period(start, "M").ordinal  # like for like: months paired with covered ones
        before = per_customer(value, previous & (ordinal >= first))
        after = per_customer(value, current & (ordinal >= first + months))
        if first + months > end:  # no month pairs with a covered one: unknown
            before = before * np.nan
    else:
        after = revenue
    excluded = []

    margin = pd.Series(np.nan, index=customer_ids)
    if materials is not None and "unit_cost" in materials.columns:
        _require(demand, ["material_id"], "account_criteria")
        material_code, material_ids = pd.factorize(demand["material_id"])
        cost = materials.set_index("material_id").reindex(material_ids)
        unit_cost = np.append(cost["unit_cost"].to_numpy(dtype="float64", na_value=np.nan), np.nan)
        line_cost = unit_cost[material_code]
        usable = current & ~np.isnan(line_cost)
        cost_factor = factor  # unit_cost taken as in the line currency
        reason = "no unit_cost in the line's currency: left out of margin"
        if "cost_currency" in cost.columns and rates is not None:  # convert cost on its own
            to_common = rate_factors(
                cost["cost_currency"], rates, on=pd.Period(as_of, "M").end_time, missing="nan"
            )  # unit cost at the closing rate of `as_of`
            cost_factor = np.append(to_common, np.nan)[material_code]
            usable &= ~np.isnan(cost_factor)
            reason = "no unit_cost, or no rate for its cost_currency: left out of margin"
        elif "cost_currency" in cost.columns:
            cost_code = currencies.get_indexer(cost["cost_currency"].astype("string"))
            cost_code = np.append(np.where(cost["cost_currency"].isna(), -2, cost_code), -2)
            usable &= (cost_code[material_code] == currency_code) & (currency_code >= 0)
        no_cost = current & ~usable & (quantity > 0)
        excluded.append(("demand", reason, no_cost.sum()))
        sales = per_customer(value, usable)
        costs = per_customer(quantity * line_cost * np.where(usable, cost_factor, 0.0), usable)
        with np.errstate(divide="ignore", invalid="ignore"):
            margin = ((sales - costs) / sales).where(sales > 0)

    ids = (
        pd.Index(customers[key].astype("string").unique(), name=key)
        if customers is not None
        else pd.Index(revenue.index.astype("string"), name=key)
    )
    if share_of_business is None and customers is not None and "wallet_share" in customers:
        share_of_business = customers.set_index(key)["wallet_share"]
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = (after / before - 1).where(before > 0)
    out = pd.DataFrame(index=ids)
    out["revenue"] = revenue.reindex(ids, fill_value=0.0).astype("float64")
    out["growth"] = growth.reindex(ids).astype("float64")
    out["margin"] = margin.reindex(ids).astype("float64")
    given = {
        "payment_behaviour": payment_behaviour,
        "share_of_business": share_of_business,
        "otif": otif,
        "forecast_accuracy": forecast_accuracy,
        "complaints": complaints,
    }
    for name, values in given.items():
        if values is None:
            out[name] = np.nan
            continue
        series = _as_series(values, key, name)
        series.index = series.index.astype("string")
        out[name] = series.reindex(ids)
        outside = int((~series.index.isin(ids)).sum())
        excluded.append((name, f"customer not in the portfolio: left out of {name}", outside))
    if customers is not None:
        outside = int((~revenue.index.astype("string").isin(ids)).sum())
        excluded.append(("demand", "customer not in customers: left out", outside))
    out = out.reset_index()
    out.attrs["excluded"] = Exclusions(
        pd.DataFrame(excluded, columns=["table", "reason", "rows"]).astype({"rows": "int64"})
    )
    return out
