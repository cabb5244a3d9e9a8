"""Inventory for the key account: stock position and coverage, stock health (deadstock,
overstock, slow movers), safety stock per PFEP, phase in / phase out, capacity allocation.

One concept per module; everything public is re-exported here. Quantities are in the
material's unit, money at cost in the stock's currency (never added across currencies),
months as monthly ``Period``.
"""

from kamlab.inventory.capacity import allocation_vs_forecast, capacity_load
from kamlab.inventory.coverage import months_of_stock, stock_coverage
from kamlab.inventory.customers import (
    MONEY_KINDS,
    customer_phase_out,
    customer_shares,
    customer_stock,
    money_at_stake,
)
from kamlab.inventory.health import STATUSES, stock_health
from kamlab.inventory.pipo import phase_in_ramp, phase_out_exposure
from kamlab.inventory.position import plant_demand, stock_position
from kamlab.inventory.safety_stock import (
    bootstrap_lead_time_demand,
    forecast_error_sigma,
    inverse_normal_loss,
    lead_time_demand_distribution,
    lead_time_sigma,
    recommended_safety_stock,
    safety_stock_cycle,
    safety_stock_fill_rate,
    standard_normal_loss,
)
from kamlab.inventory.view import (
    SupplyView,
    demand_plan,
    latest_customer_forecast,
    open_order_quantity,
    supply_view,
)

__all__ = [
    "MONEY_KINDS",
    "STATUSES",
    "SupplyView",
    "allocation_vs_forecast",
    "bootstrap_lead_time_demand",
    "capacity_load",
    "customer_phase_out",
    "customer_shares",
    "customer_stock",
    "demand_plan",
    "forecast_error_sigma",
    "inverse_normal_loss",
    "lead_time_demand_distribution",
    "latest_customer_forecast",
    "lead_time_sigma",
    "money_at_stake",
    "months_of_stock",
    "open_order_quantity",
    "phase_in_ramp",
    "phase_out_exposure",
    "plant_demand",
    "recommended_safety_stock",
    "safety_stock_cycle",
    "safety_stock_fill_rate",
    "standard_normal_loss",
    "stock_coverage",
    "stock_health",
    "stock_position",
    "supply_view",
]
