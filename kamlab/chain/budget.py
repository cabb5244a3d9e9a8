"""``kamlab budget``: draft next year's budget from the database and write the workbook.

The side-effect edge of :mod:`kamlab.budget`: it resolves the settings and the database as
a pack does, forecasts each customer × material to December of the budget year (without the
lifecycle taper, which the draft applies to each phase-out's end of life), drafts the budget
and writes the workbook a KAM edits (:mod:`kamlab.data.budget_workbook`). The workbook also
carries every budget row already in the database, so ingesting it back keeps the history.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kamlab.chain.errors import ChainError
from kamlab.chain.settings import resolve_settings
from kamlab.chain.source import latest_month, load_dataset, parse_month, resolve_source
from kamlab.chain.steps import forecast_options

__all__ = ["BudgetDraft", "draft_budget_workbook"]


@dataclass(frozen=True)
class BudgetDraft:
    """What ``kamlab budget`` wrote: the workbook, the draft table and the months drafted."""

    path: Path
    draft: pd.DataFrame
    as_of: pd.Timestamp


def draft_budget_workbook(
    year: int,
    *,
    source: str | os.PathLike | None = None,
    config: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    customers: list[str] | None = None,
    month: str | None = None,
) -> BudgetDraft:
    """Draft the `year` budget from the data up to `month` (default: the data's last month)
    and write it to `out` (default ``<reports>/budget-<year>.xlsx``)."""
    from kamlab.budget import budget_in_force, draft_budget
    from kamlab.data.budget_workbook import write_budget_workbook
    from kamlab.demand import monthly_demand
    from kamlab.forecast import forecast

    settings = resolve_settings(config)
    ds = load_dataset(resolve_source(source, settings=settings), customers)
    if ds.orders.empty:
        raise ChainError("a budget draft needs orders: the data holds none")
    last = parse_month(month) if month else latest_month(ds)
    end = pd.Period(f"{year}-12", "M")
    if end <= last:
        raise ChainError(
            f"the {year} budget ends before or with the history ({last}): nothing to draft"
        )
    if pd.Period(f"{year}-01", "M").ordinal - last.ordinal > 12:
        raise ChainError(f"the {year} budget starts more than a year after the history ({last})")
    as_of = last.to_timestamp(how="end").normalize()
    orders = ds.orders.loc[ds.orders["requested_date"] <= as_of]
    demand = monthly_demand(orders, end=last)
    fc = forecast(  # no lifecycle: the draft tapers each phase-out to its own end of life
        demand[["customer_id", "material_id", "period", "quantity"]],
        end.ordinal - last.ordinal,
        end=last,
        **forecast_options(settings),
    )
    b = settings.budget
    draft = draft_budget(
        fc,
        ds.materials,
        year=year,
        as_of=as_of,
        orders=orders,
        prices=ds.prices,
        opportunities=ds.opportunities,
        plan=ds.material_plan,
        customers=ds.customers,
        price_increase=b.price_increase,
        npi_ramp_months=b.npi_ramp_months,
        price_months=b.price_months,
        phaseout_months=settings.forecast.phaseout_months,
    )
    history = ds.budget
    in_year = pd.PeriodIndex(history["period"]).year == year if len(history) else []
    approved = budget_in_force(history.loc[in_year], as_of=as_of) if len(history) else None
    path = Path(out) if out else Path(settings.pack.reports_dir) / f"budget-{year}.xlsx"
    write_budget_workbook(
        draft,
        path,
        year=year,
        drafted_on=pd.Timestamp.now().normalize(),
        customers=ds.customers,
        approved=approved,
        versions=history,
    )
    return BudgetDraft(path=path, draft=draft, as_of=as_of)
