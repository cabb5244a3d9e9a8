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
from kamlab.inventory.policy import (
    BUCKET_DAYS,
    continuous_review,
    discrete_loss,
    discrete_reorder_point,
    evaluate_policy,
    expected_shortage,
    inverse_normal_loss,
    last_time_buy,
    lead_time_sigma,
    periodic_review,
    periods,
    poisson_loss,
    poisson_reorder_point,
    safety_factor,
    standard_normal_loss,
    whole_units,
)
from kamlab.inventory.position import plant_demand, stock_position
from kamlab.inventory.safety_stock import (
    bootstrap_lead_time_demand,
    forecast_error_sigma,
    lead_time_demand_distribution,
    recommended_safety_stock,
    safety_stock_cycle,
    safety_stock_fill_rate,
)
from kamlab.inventory.view import (
    SupplyView,
    demand_plan,
    latest_customer_forecast,
    open_order_quantity,
    supply_view,
)

__all__ = [
    "BUCKET_DAYS",
    "MONEY_KINDS",
    "STATUSES",
    "SupplyView",
    "allocation_vs_forecast",
    "bootstrap_lead_time_demand",
    "capacity_load",
    "continuous_review",
    "customer_phase_out",
    "customer_shares",
    "customer_stock",
    "demand_plan",
    "discrete_loss",
    "discrete_reorder_point",
    "evaluate_policy",
    "expected_shortage",
    "forecast_error_sigma",
    "inverse_normal_loss",
    "last_time_buy",
    "latest_customer_forecast",
    "lead_time_demand_distribution",
    "lead_time_sigma",
    "money_at_stake",
    "months_of_stock",
    "open_order_quantity",
    "periodic_review",
    "periods",
    "phase_in_ramp",
    "phase_out_exposure",
    "plant_demand",
    "poisson_loss",
    "poisson_reorder_point",
    "recommended_safety_stock",
    "safety_factor",
    "safety_stock_cycle",
    "safety_stock_fill_rate",
    "standard_normal_loss",
    "stock_coverage",
    "stock_health",
    "stock_position",
    "supply_view",
    "whole_units",
]
