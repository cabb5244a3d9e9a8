"""The scorecard's demand section: demand history with the statistical forecast, its
interval and the customer's latest forecast."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, note_html
from kamlab.scorecard.values import absent_section, unavailable_note

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["latest_customer_forecast", "section"]


def section(card: Scorecard) -> Section:
    """Demand history with the statistical forecast, its interval and the customer's forecast."""
    t = fmt.text
    title = t("Demand and forecast")
    if why := card.absent("orders"):
        return absent_section(title, why)
    d = card._slice(card.analytics.customer_demand)
    if d is None or d.empty:
        return Section(
            title, note_html(t("No demand in the data for this customer.")), status="empty"
        )
    history = d[d["period"] > card.month - 24].groupby("period", as_index=False)["quantity"].sum()
    total = card._slice(card.analytics.forecast_total)
    latest = latest_customer_forecast(card)
    level = card.settings.accuracy.challenge_level
    fig = figures.demand_figure(
        history,
        forecast=total,
        customer_forecast=latest,
        level=level,
        title=t(
            "Monthly demand to {month}, forecast for the next {n} months",
            month=fmt.month_year(card.month),
            n=fmt.count(card.settings.forecast.horizon),
        ),
    )
    body = figure_html(fig, alt=t("Monthly demand with the statistical and the customer forecast"))
    body += unavailable_note(card.analytics, "forecast_total")
    if latest is not None and len(latest):
        snap = fmt.date(latest["snapshot_date"].iloc[0])
        body += note_html(
            t(
                "Customer forecast: latest snapshot of {day}. Statistical forecast: sum over "
                "materials with a {level} interval (materials' errors taken as independent).",
                day=snap,
                level=fmt.percent(level / 100),
            )
        )
    return Section(title, body)


def latest_customer_forecast(card: Scorecard) -> pd.DataFrame | None:
    """The customer's latest forecast snapshot after the review month, summed over materials:
    snapshot_date, period, quantity; None when it sends none."""
    cf = card._slice(card.analytics.customer_forecasts)
    if cf is None or cf.empty:
        return None
    latest = cf[cf["snapshot_date"] == cf["snapshot_date"].max()]
    latest = latest[latest["period"] > card.month]
    return latest.groupby(["snapshot_date", "period"], as_index=False)["quantity"].sum()
