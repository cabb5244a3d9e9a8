"""Stock health: deadstock, overstock and slow movers, with the money tied up at cost."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS
from kamlab.inventory._series import month_matrix

__all__ = ["STATUSES", "stock_health"]

_I = DEFAULTS.inventory
STATUSES = ("deadstock", "overstock", "slow mover", "healthy", "no stock")


def stock_health(
    position: pd.DataFrame,
    demand: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    end: pd.Period | str,
    keys: Sequence[str] = ("material_id", "plant"),
    deadstock_months: int = _I.deadstock_months,
    overstock_months: float = _I.overstock_months,
    slow_mover_months: int = _I.slow_mover_months,
    demand_months: int = _I.demand_months,
    forecast_value: str = "forecast",
) -> pd.DataFrame:
    """Classify each stock position and value the stock beyond need.

    For stock held *S* (on hand + in transit + blocked) > 0, in order of precedence:

    - **deadstock**: no demand in the last `deadstock_months` months up to `end`; excess = *S*;
    - **overstock**: *S* exceeds the forecast demand of the next `overstock_months` months
      (coverage beyond that many months); excess = *S* − that demand;
    - **slow mover**: demand in at most `slow_mover_months` of the last `demand_months`
      months (ADI ≥ `demand_months` / `slow_mover_months`); excess = 0;
    - **healthy** otherwise; *S* = 0 is **no stock**.

    excess value = excess × unit cost, in the stock's currency (never added across
    currencies). A fractional `overstock_months` counts that share of the last month.
    Source: the disposal of excess stock in Silver, Pyke & Thomas (2017); the thresholds
    are settings (``[inventory]``).

    `demand` is monthly demand per `keys` (``period``, ``quantity``), `forecast` the monthly
    forecast per `keys` from ``end + 1`` (``period``, `forecast_value`).

    Returns `keys`, ``currency``, ``held``, ``stock_value``, ``months_with_demand``,
    ``last_demand`` (month; NaT = none in the months looked at), ``forecast_ahead`` (demand of the overstock window),
    ``status``, ``excess_quantity``, ``excess_value``.
    """
    keys = list(keys)
    end = pd.Period(end, "M")
    series = position[keys].reset_index(drop=True)
    history_months = max(deadstock_months, demand_months)
    first = end - history_months + 1
    history = month_matrix(demand, series, keys=keys, first=first, months=history_months)
    whole = int(np.ceil(overstock_months))
    ahead = month_matrix(
        forecast, series, keys=keys, first=end + 1, months=whole, value=forecast_value
    )
    if whole:
        ahead[:, -1] *= overstock_months - (whole - 1)
    need = ahead.sum(axis=1)
    held = (
        position[["on_hand", "in_transit", "blocked"]]
        .to_numpy(dtype="float64", na_value=0.0)
        .sum(axis=1)
    )
    positive = history > 0
    recent = positive[:, history_months - deadstock_months :].any(axis=1)
    months_with = positive[:, history_months - demand_months :].sum(axis=1)
    has_any = positive.any(axis=1)
    last_col = history_months - 1 - np.argmax(positive[:, ::-1], axis=1)
    nat = np.iinfo("int64").min  # pandas' NaT ordinal
    last = pd.PeriodIndex.from_ordinals(np.where(has_any, first.ordinal + last_col, nat), freq="M")

    status = np.select(
        [held <= 0, ~recent, held > need, months_with <= slow_mover_months],
        ["no stock", "deadstock", "overstock", "slow mover"],
        default="healthy",
    )
    excess = np.select(
        [status == "deadstock", status == "overstock"], [held, held - need], default=0.0
    )
    cost = position["unit_cost"].to_numpy(dtype="float64", na_value=np.nan)
    out = series.assign(
        currency=position["currency"].to_numpy(),
        held=held,
        stock_value=position["stock_value"].to_numpy(dtype="float64"),
        months_with_demand=months_with,
        last_demand=last.array,
        forecast_ahead=need,
        status=pd.Categorical(status, categories=STATUSES),
        excess_quantity=excess,
        excess_value=np.where(excess > 0, excess * cost, 0.0),
    )
    return out
