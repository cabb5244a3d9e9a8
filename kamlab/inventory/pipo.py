"""Phase in / phase out (PIPO): what a phasing-out material still holds against what is left to
sell, and whether its successor's ramp-up meets the predecessor's run-down."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr

from kamlab.inventory._series import key_index, month_matrix
from kamlab.inventory.coverage import months_of_stock
from kamlab.inventory.policy import last_time_buy

__all__ = ["phase_in_ramp", "phase_out_exposure"]


def _values(
    frame: pd.DataFrame | None,
    series: pd.DataFrame,
    keys: list[str],
    column: str,
    *,
    missing: float = 0.0,
) -> np.ndarray:
    """`column` of `frame` for each row of `series` (by `keys`); `missing` where absent."""
    if frame is None or frame.empty:
        return np.full(len(series), missing)
    at = key_index(series, keys, frame)
    values = frame[column].to_numpy(dtype="float64", na_value=missing)
    return np.where(at >= 0, values[np.maximum(at, 0)], missing)


def _last_month(frames, month: pd.Period) -> int:
    """The latest ``period`` (ordinal) in `frames` (None or empty ones skipped), else `month`."""
    found = [int(f["period"].array.asi8.max()) for f in frames if f is not None and len(f)]
    return max(found, default=month.ordinal)


def _currency(position: pd.DataFrame, series: pd.DataFrame, keys: list[str]) -> np.ndarray:
    if position is None or position.empty:
        return np.full(len(series), None, dtype=object)
    at = key_index(series, keys, position)
    return np.where(at >= 0, position["currency"].to_numpy(dtype=object)[np.maximum(at, 0)], None)


def phase_out_exposure(
    plan: pd.DataFrame,
    position: pd.DataFrame,
    open_orders: pd.DataFrame,
    forecast: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp | str,
    customer_forecast: pd.DataFrame | None = None,
    open_supply: pd.DataFrame | None = None,
    errors: pd.DataFrame | None = None,
    service_level: float = 0.95,
    phase_out: Sequence[str] = (),
    keys: Sequence[str] = ("material_id", "plant"),
    forecast_value: str = "forecast",
) -> pd.DataFrame:
    """Exposure of each phase-out material: supply held and coming against demand left until
    its end of life, with the deadstock at risk and a proposal.

    Rows: the `plan` rows with an ``end_of_life``, and those whose material is in `phase_out`
    (lifecycle phase-out without a date: their whole forecast counts, and the note says so).
    Each row is computed from its own data only (its answer does not change with the other
    materials passed).

    .. math::

        \text{supply} = \text{usable stock} + \text{on order}, \\qquad
        \text{remaining} = B + \\sum_{m = a+1}^{e} \\max(o_m, f_m) + \\sum_{m > e} o_m

    with *B* the open customer orders requested up to the as-of month *a* (backlog), *o_m*
    the open orders and *f_m* the forecast for month *m*, up to the end-of-life month *e*
    (an order already placed for a month is demand even where the forecast is lower; orders
    placed for months after *e* are demand too; an end of life in the past leaves only open
    orders). *f* is the statistical forecast; a row without any statistical forecast in its
    window uses the customers' forecast (``forecast_source`` says which). surplus = supply −
    remaining; **deadstock at risk** = surplus⁺ × unit cost (stock currency).

    **Open supply.** `open_supply` (keys, ``period`` = due month, ``quantity``: the open
    production and purchase orders) replaces the position's ``on_order`` when given;
    ``supply_after_end_of_life`` is the part due after *e*. With a surplus the proposal
    cuts open supply first (``cancel_supply``, up to on order), before any sell-off or run-down
    of stock (``sell_off``); with a shortfall, a **last-time buy** of the shortfall rounded
    up to the lot size (the point forecast).

    **Last-time buy at a service level** (:func:`~kamlab.inventory.last_time_buy`): the
    `service_level` quantile of the remaining demand, normal with σ = σ_e √n (σ_e the
    monthly forecast-error σ of `errors`, :func:`~kamlab.inventory.forecast_error_sigma`,
    n the months left, at least 1), less supply, rounded up to whole units and lots:
    ``last_time_buy_service``; ``service_level_point`` is the service the point-forecast buy
    gives; ``cost_one_more`` the expected deadstock cost of one unit more cover (unit cost ×
    the chance it is never sold) and ``short_one_less`` the expected units short added by one
    unit less. NaN without an error σ for the row. Rounding: the buys are whole units, every
    other quantity unrounded.

    ``remaining_customer`` is the same sum with the customers' latest forecast (summed over
    customers) in place of *f*: where customers still forecast more, confirm it with binding
    orders before buying. Source: the final-order ("last-time buy") problem (Teunter &
    Fortuin 1999, "End-of-life service", Int. J. Production Economics 59), as PIPO practice
    uses it.

    `open_orders`: keys, ``period`` (requested month), ``quantity`` (open quantity);
    `forecast` and `customer_forecast`: keys, ``period``, value (monthly, from the as-of
    month on); `forecast` may be None (the customers' forecast is then the only one).

    Returns keys, ``end_of_life``, ``months_left``, ``usable``, ``on_order``, ``backlog``,
    ``remaining_demand``, ``remaining_customer``, ``supply``, ``surplus``, ``unit_cost``,
    ``currency``, ``deadstock_at_risk``, ``cancel_supply``, ``sell_off``, ``last_time_buy``,
    ``proposal``, ``note``, ``forecast_source``, ``supply_after_end_of_life``,
    ``remaining_sigma``, ``last_time_buy_service``, ``service_level_point``,
    ``cost_one_more``, ``short_one_less``.
    """
    keys = list(keys)
    as_of = pd.Timestamp(as_of)
    month = pd.Period(as_of, "M")
    eol_given = plan["end_of_life"].notna()
    flagged = plan["material_id"].isin(list(phase_out))
    rows = plan.loc[eol_given | flagged].reset_index(drop=True)
    series = rows[keys]
    n = len(rows)
    eol = rows["end_of_life"]
    unknown = eol.isna().to_numpy()
    # no date: the whole forecast given; a row's window ends at its own end of life
    last_forecast = _last_month((forecast, customer_forecast), month)
    eol_month = np.where(unknown, last_forecast, eol.dt.to_period("M").array.asi8)
    months_left = np.maximum(eol_month - month.ordinal, 0)
    last_order = _last_month((open_orders,), month)
    last_supply = _last_month((open_supply,), month)
    horizon = max(
        1, int(months_left.max(initial=0)), last_order - month.ordinal, last_supply - month.ordinal
    )
    grid = {"keys": keys, "first": month + 1, "months": horizon}
    if forecast is not None:
        fc, rows_fc = month_matrix(forecast, series, value=forecast_value, with_rows=True, **grid)
        has_fc = rows_fc > 0
    else:
        fc, has_fc = np.zeros((n, horizon)), np.zeros((n, horizon), bool)
    orders = month_matrix(open_orders, series, **grid)
    backlog_rows = open_orders.loc[open_orders["period"] <= month]
    backlog = month_matrix(
        backlog_rows.assign(period=month), series, keys=keys, first=month, months=1
    )[:, 0]
    inside = np.arange(horizon)[None, :] < months_left[:, None]
    late_orders = (orders * ~inside).sum(axis=1)  # beyond the end of life: orders placed
    if customer_forecast is not None:
        cf = month_matrix(customer_forecast, series, **grid)
        remaining_customer = backlog + (np.maximum(orders, cf) * inside).sum(axis=1) + late_orders
    else:
        cf = np.zeros((n, horizon))
        remaining_customer = np.full(n, np.nan)
    own = (has_fc & inside).any(axis=1)
    theirs = ~own & ((cf > 0) & inside).any(axis=1)
    plan_fc = np.where(theirs[:, None], cf, fc)
    remaining = backlog + (np.maximum(orders, plan_fc) * inside).sum(axis=1) + late_orders
    source = np.select([own, theirs], ["statistical", "customer"], default="none")

    usable = _values(position, series, keys, "usable")
    if open_supply is not None:
        due = month_matrix(open_supply, series, keys=keys, first=month, months=horizon + 1)
        overdue = month_matrix(
            open_supply.loc[open_supply["period"] < month].assign(period=month),
            series,
            keys=keys,
            first=month,
            months=1,
        )[:, 0]
        on_order = due.sum(axis=1) + overdue
        after = (due * (np.arange(horizon + 1)[None, :] > months_left[:, None])).sum(axis=1)
    else:
        on_order = _values(position, series, keys, "on_order")
        after = np.full(n, np.nan)
    supply = usable + on_order
    surplus = supply - remaining
    cost = _values(position, series, keys, "unit_cost", missing=np.nan)
    currency = _currency(position, series, keys)
    cancel = np.clip(surplus, 0.0, on_order)
    sell = np.maximum(surplus - cancel, 0.0)
    lot = (
        rows["lot_size"].to_numpy(dtype="float64", na_value=0.0)
        if "lot_size" in rows
        else np.zeros(n)
    )
    short = np.maximum(-surplus, 0.0)
    ltb = np.where(
        short > 0,
        np.where(lot > 0, np.ceil(short / np.where(lot > 0, lot, 1.0)) * lot, np.ceil(short)),
        0.0,
    )
    error = _values(
        errors,
        series,
        [k for k in keys if errors is None or k in errors],
        "error_sigma",
        missing=np.nan,
    )
    sigma = error * np.sqrt(np.maximum(months_left, 1))
    known = ~np.isnan(sigma)
    ltb_service = np.full(n, np.nan)
    point_service = np.full(n, np.nan)
    one_more = np.full(n, np.nan)
    one_less = np.full(n, np.nan)
    if known.any():
        k = np.flatnonzero(known)
        buy = last_time_buy(
            remaining[k],
            supply[k],
            service_level=service_level,
            sigma=sigma[k],
            lot_size=lot[k],
            unit_cost=cost[k],
        )
        ltb_service[k] = buy["buy"].to_numpy()
        one_more[k] = buy["cost_one_more"].to_numpy()
        one_less[k] = buy["short_one_less"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (supply[k] + ltb[k] - remaining[k]) / sigma[k]
        point_service[k] = np.where(
            sigma[k] > 0, ndtr(z), (supply[k] + ltb[k] >= remaining[k]).astype("float64")
        )

    proposal = np.select(
        [surplus > 0, surplus < 0],
        [
            _join(
                np.where(cancel > 0, "cancel " + _num(cancel) + " on order", ""),
                np.where(sell > 0, "sell off or run down " + _num(sell), ""),
            ),
            "last-time buy " + _num(ltb),
        ],
        default="balanced: run down as planned",
    )
    note = np.full(n, "", dtype=object)
    note = np.where(eol.notna() & (eol < as_of), "end of life passed", note)
    note = np.where(unknown, "no end-of-life date: whole forecast counted", note)
    more = (source == "statistical") & (remaining_customer > remaining)
    note = np.where(
        more & (note == ""),
        "customers forecast "
        + _num(remaining_customer - remaining)
        + " more: ask for binding orders",
        note,
    )
    out = series.assign(
        end_of_life=eol.to_numpy(),
        months_left=months_left,
        usable=usable,
        on_order=on_order,
        backlog=backlog,
        remaining_demand=remaining,
        remaining_customer=remaining_customer,
        supply=supply,
        surplus=surplus,
        unit_cost=cost,
        currency=currency,
        deadstock_at_risk=np.maximum(surplus, 0.0) * np.nan_to_num(cost),
        cancel_supply=cancel,
        sell_off=sell,
        last_time_buy=ltb,
        proposal=proposal,
        note=note,
        forecast_source=source,
        supply_after_end_of_life=after,
        remaining_sigma=sigma,
        last_time_buy_service=ltb_service,
        service_level_point=point_service,
        cost_one_more=one_more,
        short_one_less=one_less,
    )
    return out.sort_values("deadstock_at_risk", ascending=False, ignore_index=True)


def phase_in_ramp(
    plan: pd.DataFrame,
    position: pd.DataFrame,
    forecast: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str,
    keys: Sequence[str] = ("material_id", "plant"),
    forecast_value: str = "forecast",
    horizon: int = 24,
    recent_months: int = 3,
) -> pd.DataFrame:
    """The successor's start against the predecessor's run-down, per predecessor → successor.

    The predecessor's supply (usable + on order) runs out after
    :func:`~kamlab.inventory.coverage.months_of_stock` months of its forecast from the month
    after `as_of`. With the successor's ``start_of_production`` month *s* and the run-out
    month *r*:

    - *r* + 1 < *s*: **coverage gap** of *s* − *r* − 1 months; the demand uncovered is the
      predecessor's mean monthly demand of its last `recent_months` months × the gap;
    - otherwise **double stock**: the predecessor's supply left at *s* (supply − its forecast
      up to *s*), valued at cost, to be run down before switching (or sold off).

    A successor in the same plant is matched (`keys` other than material_id agree). A
    successor without a start date is reported as such.

    Returns keys (the predecessor's), ``successor_material_id``, ``start_of_production``,
    ``run_out`` (month), ``status``, ``gap_months``, ``gap_demand``, ``double_stock``,
    ``double_stock_value``, ``currency``.
    """
    keys = list(keys)
    month = pd.Period(pd.Timestamp(as_of), "M")
    pairs = plan.loc[plan["successor_material_id"].notna()].reset_index(drop=True)
    series = pairs[keys]
    other = [k for k in keys if k != "material_id"]
    succ = pairs[["successor_material_id", *other]].rename(
        columns={"successor_material_id": "material_id"}
    )
    at = key_index(succ, keys, plan)
    sop = (
        plan["start_of_production"].to_numpy()[np.maximum(at, 0)]
        if len(plan)
        else np.array([], "datetime64[us]")
    )
    sop = np.where(at >= 0, sop, np.datetime64("NaT"))
    sop = pd.Series(sop, dtype="datetime64[us]")
    fc = month_matrix(
        forecast, series, keys=keys, first=month + 1, months=horizon, value=forecast_value
    )
    supply = _values(position, series, keys, "usable") + _values(position, series, keys, "on_order")
    lasts = months_of_stock(supply, fc)
    # the month the last unit is used (the as-of month itself when there is nothing)
    run_out = month.ordinal + np.ceil(np.where(lasts <= horizon, lasts, horizon + 1)).astype(
        "int64"
    )
    start = sop.dt.to_period("M").array.asi8
    known = sop.notna().to_numpy()
    gap = np.where(known, np.maximum(start - run_out - 1, 0), 0)
    recent = month_matrix(
        demand, series, keys=keys, first=month - recent_months + 1, months=recent_months
    )
    level = recent.mean(axis=1) if recent_months else np.zeros(len(series))
    until = np.clip(np.where(known, start - (month.ordinal + 1), 0), 0, horizon)
    used = (
        np.array([fc[i, : until[i]].sum() for i in range(len(series))])
        if len(series)
        else np.zeros(0)
    )
    left = np.where(known & (gap == 0), np.maximum(supply - used, 0.0), 0.0)
    cost = _values(position, series, keys, "unit_cost")
    status = np.select(
        [~known, gap > 0, left > 0],
        ["no start of production planned", "coverage gap", "double stock"],
        default="in step",
    )
    at_pos = key_index(series, keys, position) if len(position) else np.full(len(series), -1)
    currency = (
        np.where(
            at_pos >= 0, position["currency"].to_numpy(dtype=object)[np.maximum(at_pos, 0)], None
        )
        if len(position)
        else np.full(len(series), None)
    )
    nat = np.iinfo("int64").min
    return series.assign(
        successor_material_id=pairs["successor_material_id"].to_numpy(),
        start_of_production=sop.to_numpy(),
        run_out=pd.PeriodIndex.from_ordinals(
            np.where(lasts <= horizon, run_out, nat), freq="M"
        ).array,
        status=status,
        gap_months=gap,
        gap_demand=gap * level,
        double_stock=left,
        double_stock_value=left * cost,
        currency=currency,
    )


def _num(values: np.ndarray) -> np.ndarray:
    return np.array([f"{v:,.0f}" for v in np.asarray(values, dtype="float64")], dtype=object)


def _join(*parts: np.ndarray) -> np.ndarray:
    out = []
    for items in zip(*parts, strict=True):
        out.append("; ".join(p for p in items if p))
    return np.array(out, dtype=object)
