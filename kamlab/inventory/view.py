"""The whole inventory step of a pack: every supply table, once, from the pack's frames.

:func:`supply_view` is pure (frames in, frames out); the chain calls it once per pack and the
scorecard slices its result per customer. Material stock is shared by the customers who buy
the material (:mod:`kamlab.inventory.customers`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd

from kamlab.config import DEFAULTS, InventorySettings
from kamlab.inventory._series import bare
from kamlab.inventory.capacity import allocation_vs_forecast, capacity_load
from kamlab.inventory.coverage import stock_coverage
from kamlab.inventory.customers import (
    customer_phase_out,
    customer_shares,
    customer_stock,
    money_at_stake,
)
from kamlab.inventory.health import stock_health
from kamlab.inventory.pipo import phase_in_ramp, phase_out_exposure
from kamlab.inventory.position import plant_demand, stock_position
from kamlab.inventory.safety_stock import forecast_error_sigma, recommended_safety_stock

__all__ = [
    "SupplyView",
    "demand_plan",
    "latest_customer_forecast",
    "open_order_quantity",
    "supply_view",
]

_KEYS = ["material_id", "plant"]


@dataclass
class SupplyView:
    """The inventory tables of one pack (the fields of the same names on ``PackAnalytics``)."""

    stock_position: pd.DataFrame  # stock_position per material x plant
    stock_coverage: pd.DataFrame  # months of stock vs statistical and customer forecast
    stock_health: pd.DataFrame  # stock_health per material x plant
    safety_stock: pd.DataFrame  # recommended_safety_stock vs SAP per material x plant
    phase_out: pd.DataFrame  # phase_out_exposure per phase-out material x plant
    phase_in: pd.DataFrame  # phase_in_ramp per predecessor -> successor
    allocation: pd.DataFrame  # allocation_vs_forecast per customer x material x month
    capacity_load: pd.DataFrame  # capacity_load per material (family) x month
    supply_shares: pd.DataFrame  # customer_shares: customer x material share of demand
    customer_stock: pd.DataFrame  # customer_stock: stock health per customer x material
    customer_phase_out: pd.DataFrame  # customer_phase_out: PIPO list per customer
    supply_at_stake: pd.DataFrame  # money_at_stake: customer_id, currency, amount, kind
    material_context: pd.DataFrame  # material_id, lifecycle, stock, end_of_life

    def frames(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def open_order_quantity(orders: pd.DataFrame, deliveries: pd.DataFrame) -> pd.DataFrame:
    """Open quantity per customer, material and requested month: open lines less delivered.

    Returns customer_id, material_id, period, quantity (> 0 only).
    """
    orders, deliveries = bare(orders), bare(deliveries)
    open_lines = orders.loc[orders["status"] == "open"]
    delivered = deliveries.groupby(["order_id", "line"], observed=True)["delivered_quantity"].sum()
    lines = open_lines.merge(
        delivered.rename("_d").reset_index(), on=["order_id", "line"], how="left"
    )
    left = (lines["quantity"] - lines["_d"].fillna(0.0)).clip(lower=0.0)
    out = pd.DataFrame(
        {
            "customer_id": lines["customer_id"],
            "material_id": lines["material_id"],
            "period": lines["requested_date"].dt.to_period("M"),
            "quantity": left,
        }
    )
    out = out.loc[out["quantity"] > 0]
    return out.groupby(["customer_id", "material_id", "period"], observed=True, as_index=False)[
        "quantity"
    ].sum()


def latest_customer_forecast(
    customer_forecasts: pd.DataFrame, *, as_of: pd.Timestamp | str
) -> pd.DataFrame:
    """Each customer's latest snapshot on or before `as_of`, for the months after `as_of`."""
    as_of = pd.Timestamp(as_of)
    cf = customer_forecasts.loc[customer_forecasts["snapshot_date"] <= as_of]
    latest = cf.groupby("customer_id", observed=True)["snapshot_date"].transform("max")
    cf = cf.loc[(cf["snapshot_date"] == latest) & (cf["period"] > pd.Period(as_of, "M"))]
    return cf[["customer_id", "material_id", "period", "quantity"]].reset_index(drop=True)


def demand_plan(customer_forecast: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """The forecast a customer is planned for: its own forecast of a material where it sent one,
    else the statistical forecast. Returns customer_id, material_id, period, quantity, source."""
    own = bare(customer_forecast)[["customer_id", "material_id", "period", "quantity"]]
    sent = pd.MultiIndex.from_frame(own[["customer_id", "material_id"]].drop_duplicates())
    stat = bare(forecast)
    mine = pd.MultiIndex.from_frame(stat[["customer_id", "material_id"]])
    stat = stat.loc[~mine.isin(sent), ["customer_id", "material_id", "period", "forecast"]]
    stat = stat.rename(columns={"forecast": "quantity"})
    return pd.concat(
        [own.assign(source="customer"), stat.assign(source="statistical")], ignore_index=True
    )


def supply_view(
    *,
    stock: pd.DataFrame,
    material_plan: pd.DataFrame,
    capacity: pd.DataFrame,
    materials: pd.DataFrame,
    demand: pd.DataFrame,
    open_orders: pd.DataFrame,
    customer_forecast: pd.DataFrame,
    forecast: pd.DataFrame,
    backtest: pd.DataFrame | None,
    as_of: pd.Timestamp | str,
    settings: InventorySettings = DEFAULTS.inventory,
    horizon: int = 12,
) -> SupplyView:
    """Every inventory table of a pack as of `as_of` (see the module docstring).

    `demand`: monthly demand per customer_id, material_id, period, quantity (history);
    `open_orders`: :func:`open_order_quantity`; `customer_forecast`:
    :func:`latest_customer_forecast`; `forecast`: :func:`kamlab.forecast.forecast` per customer
    and material (``forecast`` column); `backtest`: :func:`kamlab.forecast.backtest` or None.
    """
    s = settings
    as_of = pd.Timestamp(as_of)
    end = pd.Period(as_of, "M")
    position = stock_position(stock, as_of=as_of)
    plants = pd.concat([material_plan[_KEYS], position[_KEYS]], ignore_index=True)
    history = plant_demand(demand, plants)
    stat = plant_demand(forecast, plants, value="forecast")
    theirs = plant_demand(customer_forecast, plants)
    orders = plant_demand(open_orders, plants)

    cover = stock_coverage(position, stat, start=end + 1, horizon=horizon)
    cover_customer = stock_coverage(
        position, theirs, start=end + 1, horizon=horizon, value="quantity"
    )
    cover = cover.rename(
        columns={"coverage_months": "coverage_statistical", "coverage_note": "note_statistical"}
    )
    cover["coverage_customer"] = cover_customer["coverage_months"].to_numpy()
    cover["note_customer"] = cover_customer["coverage_note"].to_numpy()
    cover["customer_forecast_total"] = cover_customer["forecast_total"].to_numpy()

    health = stock_health(
        position,
        history,
        stat,
        end=end,
        deadstock_months=s.deadstock_months,
        overstock_months=s.overstock_months,
        slow_mover_months=s.slow_mover_months,
        demand_months=s.demand_months,
    )
    errors = None
    if backtest is not None and len(backtest):
        errors = forecast_error_sigma(backtest, demand, lag=s.error_lag, end=end)
    safety = recommended_safety_stock(
        material_plan,
        history,
        end=end,
        errors=errors,
        position=position,
        service_measure=s.service_measure,
        cycle_service_level=s.cycle_service_level,
        fill_rate=s.fill_rate,
        demand_months=s.demand_months,
        min_error_points=s.min_error_points,
        bootstrap_draws=s.bootstrap_draws,
        intermittent_patterns=s.intermittent_patterns,
        tolerance=s.safety_stock_tolerance,
        random_state=s.random_state,
    )
    lifecycle = materials[["material_id", "lifecycle"]]
    phase_out = phase_out_exposure(
        material_plan,
        position,
        orders,
        stat,
        as_of=as_of,
        customer_forecast=theirs,
        errors=errors,
        service_level=s.cycle_service_level,
        phase_out=lifecycle.loc[lifecycle["lifecycle"] == "phase-out", "material_id"].tolist(),
    )
    phase_in = phase_in_ramp(material_plan, position, stat, history, as_of=as_of)
    allocation = allocation_vs_forecast(
        capacity,
        demand_plan(customer_forecast, forecast),
        materials,
        tolerance=s.allocation_tolerance,
    )
    load = capacity_load(capacity)
    shares = customer_shares(demand, end=end, months=s.demand_months)
    held = position.groupby("material_id", observed=True)["usable"].sum().rename("stock")
    eol = material_plan.groupby("material_id", observed=True)["end_of_life"].min()
    context = lifecycle.set_index("material_id").join(held).join(eol).reset_index()
    context = context.loc[context["stock"].notna() | context["end_of_life"].notna()].reset_index(
        drop=True
    )
    stock = customer_stock(health, cover, shares)
    pipo = customer_phase_out(phase_out, shares)
    return SupplyView(
        stock_position=position,
        stock_coverage=cover,
        stock_health=health,
        safety_stock=safety,
        phase_out=phase_out,
        phase_in=phase_in,
        allocation=allocation,
        capacity_load=load,
        supply_shares=shares,
        customer_stock=stock,
        customer_phase_out=pipo,
        supply_at_stake=money_at_stake(stock, pipo, safety, shares),
        material_context=context,
    )
