"""The scorecard's service section and OTIF tile: OTIF, OTD, SLA adherence, air freight and
complaints (:mod:`kamlab.service`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, table_html
from kamlab.scorecard.tiles import Tile, target_tile
from kamlab.scorecard.values import absent_section, as_float, first, unavailable_section

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["otif_tile", "section"]


def section(card: Scorecard) -> Section:
    """OTIF, OTD, SLA adherence, air freight and complaints."""
    title = "Service"
    if missing := unavailable_section(title, card.analytics, "service"):
        return missing
    for table in ("orders", "deliveries"):
        if why := card.absent(table):
            return absent_section(title, why)
    trend = card._slice(card.analytics.service)
    body = ""
    if len(trend):
        long = trend.melt(
            id_vars=["period"], value_vars=["otif", "otd"], var_name="KPI", value_name="share"
        )
        long["KPI"] = long["KPI"].str.upper()
        fig = figures.trend_figure(
            long.dropna(subset=["share"]),
            x="period",
            y="share",
            hue="KPI",
            title=f"OTIF and on-time delivery by month ({card.settings.service.date_basis} date)",
            xlabel="Month due",
            ylabel="Order lines (%)",
            target=as_float(card.customer["otif_target"]),
            target_label="OTIF target",
            percent=True,
        )
        body += figure_html(fig, alt="OTIF and OTD by month")
    year = card._slice(card.analytics.service_year)
    air = card._slice(card.analytics.air_freight)
    qual = card._slice(card.analytics.quality)
    air_count = fmt.count(first(air, "air_freight_deliveries"))
    air_share = fmt.percent(first(air, "air_freight_share"))
    complaints = fmt.count(first(qual, "complaints"))
    still_open = fmt.count(first(qual, "open_complaints"))
    facts = {
        "OTIF, last 12 months": fmt.percent(first(year, "otif")),
        "On-time delivery (OTD), last 12 months": fmt.percent(first(year, "otd")),
        "Lines due, last 12 months": fmt.count(first(year, "lines_due")),
        "Air-freight deliveries (share of delivery lines)": f"{air_count} ({air_share})",
        "Air-freight cost, share of delivered value": fmt.percent(
            first(air, "cost_share"), digits=1
        ),
        "Complaints / still open": f"{complaints} / {still_open}",
        "Rejected parts per million delivered (PPM)": fmt.number(first(qual, "ppm")),
    }
    rows = pd.DataFrame({"": list(facts), " ": list(facts.values())})
    return Section(title, body + table_html(rows, classes="kam-facts"))


def otif_tile(card: Scorecard) -> Tile:
    """OTIF pooled over the last ``otif_months`` against the customer's target."""
    n = card.settings.scorecard.otif_months
    label = f"OTIF, last {n} months" if n > 1 else f"OTIF {fmt.month_year(card.month)}"
    if tile := card.unavailable_tile(label, "sla") or card.absent_tile(
        label, "orders", "deliveries"
    ):
        return tile
    row = card._slice(card.analytics.sla).iloc[0]  # service.sla_adherence over n months
    due = as_float(row["lines_due"])
    if not due > 0:
        return Tile(label, "–", "", "grey", "no order lines due")
    value, target = as_float(row["otif"]), as_float(row["otif_target"])
    note = f"{fmt.count(round(value * due))} of {fmt.count(due)} order lines on time and in full"
    return target_tile(label, value, target, margin=card.settings.scorecard.amber_margin, note=note)
