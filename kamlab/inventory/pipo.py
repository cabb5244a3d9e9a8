"""Phase in / phase out (PIPO): what a phasing-out material still holds against what is left to
sell, and whether its successor's ramp-up meets the predecessor's run-down."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.inventory._series import key_index, month_matrix
from kamlab.inventory.coverage import months_of_stock

__all__ = ["phase_in_ramp", "phase_out_exposure"]


def _values(frame: pd.DataFrame | None, series: pd.DataFrame, keys: list[str], column: str):
    if frame is None or frame.empty:
        return np.zeros(len(series))
    at = key_index(series, keys, frame)
    values = frame[column].to_numpy(dtype="float64", na_value=0.0)
    return np.where(at >= 0, values[np.maximum(at, 0)], 0.0)


def phase_out_exposure(
    plan: pd.DataFrame,
    position: pd.DataFrame,
    open_orders: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str,
    customer_forecast: pd.DataFrame | None = None,
    phase_out: Sequence[str] = (),
    keys: Sequence[str] = ("material_id", "plant"),
    forecast_value: str = "forecast",
) -> pd.DataFrame:
    """Exposure of each phase-out material: supply held and coming against demand left until
    its end of life, with the deadstock at risk and a proposal.

    Rows: the `plan` rows with an ``end_of_life``, and those whose material is in `phase_out`
    (lifecycle phase-out without a date: their whole forecast counts, and the note says so).

    .. math::

        \\text{supply} = \\text{usable stock} + \\text{on order}, \\qquad
        \\text{remaining} = B + \\sum_{m = a+1}^{e} \\max(o_m, f_m)

    with *B* the open customer orders requested up to the as-of month *a* (backlog), *o_m*
    the open orders and *f_m* the statistical forecast for month *m*, up to the end-of-life
    month *e* (an order already placed for a month is demand even where the forecast is
    lower; an end of life in the past leaves only open orders). surplus = supply −
    remaining; **deadstock at risk** = surplus⁺ × unit cost (stock currency). Proposal:
    with a surplus, cancel open supply first (up to on order), then sell off or run down the
    rest; with a shortfall, a **last-time buy** of the shortfall rounded up to the lot size.
    ``remaining_customer`` is the same sum with the customers' latest forecast (summed over
    customers) in place of *f*: where customers still forecast more, confirm it with binding
    orders before buying. Source: the final-order ("last-time buy") problem (Teunter & Fortuin 1999, "End-of-life
    service", Int. J. Production Economics 59) with point forecasts, as PIPO practice uses it.

    `open_orders`: keys, ``period`` (requested month), ``quantity`` (open quantity);
    `forecast` and `customer_forecast`: keys, ``period``, value (monthly, from the as-of
    month on).

    Returns keys, ``end_of_life``, ``months_left``, ``usable``, ``on_order``, ``backlog``,
    ``remaining_demand``, ``remaining_customer``, ``supply``, ``surplus``, ``unit_cost``,
    ``currency``, ``deadstock_at_risk``, ``cancel_supply``, ``sell_off``, ``last_time_buy``,
    ``proposal``, ``note``.
    """
    keys = list(keys)
    as_of = pd.Timestamp(as_of)
    month = pd.Period(as_of, "M")
    eol_given = plan["end_of_life"].notna()
    flagged = plan["material_id"].isin(list(phase_out))
    rows = plan.loc[eol_given | flagged].reset_index(drop=True)
    series = rows[keys]
    eol = rows["end_of_life"]
    unknown = eol.isna().to_numpy()
    eol_month = np.where(unknown, month.ordinal, eol.dt.to_period("M").array.asi8)
    horizon = max(1, int((eol_month - month.ordinal).max(initial=0)))
    if unknown.any():  # no date: the whole forecast given
        last = int(forecast["period"].array.asi8.max(initial=month.ordinal))
        horizon = max(horizon, last - month.ordinal)
    months_left = np.where(unknown, horizon, eol_month - month.ordinal)
    fc = month_matrix(
        forecast, series, keys=keys, first=month + 1, months=horizon, value=forecast_value
    )
    orders = month_matrix(open_orders, series, keys=keys, first=month + 1, months=horizon)
    backlog_rows = open_orders.loc[open_orders["period"] <= month]
    backlog = month_matrix(
        backlog_rows.assign(period=month), series, keys=keys, first=month, months=1
    )[:, 0]
    inside = np.arange(horizon)[None, :] < months_left[:, None]
    remaining = backlog + (np.maximum(orders, fc) * inside).sum(axis=1)
    if customer_forecast is not None:
        cf = month_matrix(customer_forecast, series, keys=keys, first=month + 1, months=horizon)
        remaining_customer = backlog + (np.maximum(orders, cf) * inside).sum(axis=1)
    else:
        remaining_customer = np.full(len(rows), np.nan)
    # beyond the end of life only the orders already placed are demand
    late_orders = (orders * ~inside).sum(axis=1)
    remaining = remaining + late_orders
    remaining_customer = remaining_customer + late_orders

    usable = _values(position, series, keys, "usable")
    on_order = _values(position, series, keys, "on_order")
    supply = usable + on_order
    surplus = supply - remaining
    at = key_index(series, keys, position) if len(position) else np.full(len(rows), -1)
    cost = (
        np.where(
            at >= 0, position["unit_cost"].to_numpy(dtype="float64")[np.maximum(at, 0)], np.nan
        )
        if len(position)
        else np.full(len(rows), np.nan)
    )
    currency = (
        np.where(at >= 0, position["currency"].to_numpy(dtype=object)[np.maximum(at, 0)], None)
        if len(position)
        else np.full(len(rows), None)
    )
    cancel = np.clip(surplus, 0.0, on_order)
    sell = np.maximum(surplus - cancel, 0.0)
    lot = (
        rows["lot_size"].to_numpy(dtype="float64", na_value=0.0)
        if "lot_size" in rows
        else np.zeros(len(rows))
    )
    short = np.maximum(-surplus, 0.0)
    ltb = np.where(
        short > 0,
        np.where(lot > 0, np.ceil(short / np.where(lot > 0, lot, 1.0)) * lot, np.ceil(short)),
        0.0,
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
    note = np.full(len(rows), "", dtype=object)
    note = np.where(eol.notna() & (eol < as_of), "end of life passed", note)
    note = np.where(unknown, "no end-of-life date: whole forecast counted", note)
    more = remaining_customer > remaining
    note = np.where(
        more & (note == ""),
        "customers forecast "
        + _num(remaining_customer - remaining)
        + " more: ask for binding orders",
        note,
    )
    out = series.assign(
        end_of_life=eol.to_numpy(),
        months_left=np.maximum(months_left, 0),
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
