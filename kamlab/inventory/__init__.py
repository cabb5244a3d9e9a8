"""Inventory for the key account: stock position and coverage, stock health (deadstock,
overstock, slow movers), safety stock per PFEP, phase in / phase out, capacity allocation.

One concept per module; everything public is re-exported here. Quantities are in the
material's unit, money at cost in the stock's currency (never added across currencies),
months as monthly ``Period``.
"""

from kamlab.inventory.capacity import allocation_vs_forecast, capacity_load
from kamlab.inventory.coverage import coverage, months_of_stock
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

__all__ = [
    "STATUSES",
    "allocation_vs_forecast",
    "bootstrap_lead_time_demand",
    "capacity_load",
    "coverage",
    "forecast_error_sigma",
    "inverse_normal_loss",
    "lead_time_demand_distribution",
    "lead_time_sigma",
    "months_of_stock",
    "phase_in_ramp",
    "phase_out_exposure",
    "plant_demand",
    "recommended_safety_stock",
    "safety_stock_cycle",
    "safety_stock_fill_rate",
    "standard_normal_loss",
    "stock_health",
    "stock_position",
]
