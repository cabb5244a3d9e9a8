"""The scorecard's service section and OTIF tile: OTIF, OTD, SLA adherence, air freight and
complaints (:mod:`kamlab.service`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, table_html
from kamlab.scorecard.tiles import Tile, target_tile
from kamlab.scorecard.values import (
    absent_section,
    as_float,
    first,
    not_available,
    unavailable_section,
)

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["otif_tile", "section"]


def section(card: Scorecard) -> Section:
    """OTIF, OTD, SLA adherence, air freight and complaints."""
    t = fmt.text
    title = t("Service")
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
        long["KPI"] = long["KPI"].map({"otif": t("OTIF"), "otd": t("OTD")})
        fig = figures.trend_figure(
            long.dropna(subset=["share"]),
            x="period",
            y="share",
            hue="KPI",
            title=t("OTIF and on-time delivery by month (confirmed date)")
            if card.settings.service.date_basis == "confirmed"
            else t("OTIF and on-time delivery by month (requested date)"),
            xlabel=t("Month due"),
            ylabel=t("Order lines (%)"),
            target=as_float(card.customer["otif_target"]),
            target_label=t("OTIF target"),
            percent=True,
        )
        body += figure_html(fig, alt=t("OTIF and OTD by month"))
    year = card._slice(card.analytics.service_year)
    air = card._slice(card.analytics.air_freight)
    qual = card._slice(card.analytics.quality)
    air_count = fmt.count(first(air, "air_freight_deliveries"))
    air_share = fmt.percent(first(air, "air_freight_share"))
    if why := card.absent("complaints"):  # no complaints table: not "0 / 0", not "PPM 0"
        complaints = ppm = not_available(why)
    else:
        complaints = (
            f"{fmt.count(first(qual, 'complaints'))} / {fmt.count(first(qual, 'open_complaints'))}"
        )
        ppm = fmt.number(first(qual, "ppm"))
    facts = {
        t("OTIF, last 12 months"): fmt.percent(first(year, "otif")),
        t("On-time delivery (OTD), last 12 months"): fmt.percent(first(year, "otd")),
        t("Lines due, last 12 months"): fmt.count(first(year, "lines_due")),
        t("Air-freight deliveries (share of delivery lines)"): f"{air_count} ({air_share})",
        t("Air-freight cost, share of delivered value"): fmt.percent(
            first(air, "cost_share"), digits=1
        ),
        t("Complaints / still open"): complaints,
        t("Rejected parts per million delivered (PPM)"): ppm,
    }
    rows = pd.DataFrame({"": list(facts), " ": list(facts.values())})
    return Section(title, body + table_html(rows, classes="kam-facts"))


def otif_tile(card: Scorecard) -> Tile:
    """OTIF pooled over the last ``otif_months`` against the customer's target."""
    n = card.settings.scorecard.otif_months
    label = (
        fmt.text("OTIF, last {n} months", n=fmt.count(n))
        if n > 1
        else fmt.text("OTIF {month}", month=fmt.month_year(card.month))
    )
    if tile := card.unavailable_tile(label, "sla") or card.absent_tile(
        label, "orders", "deliveries"
    ):
        return tile
    row = card._slice(card.analytics.sla).iloc[0]  # service.sla_adherence over n months
    due = as_float(row["lines_due"])
    if not due > 0:
        return Tile(label, "–", "", "grey", fmt.text("no order lines due"))
    value, target = as_float(row["otif"]), as_float(row["otif_target"])
    note = fmt.text(
        "{done} of {due} order lines on time and in full",
        done=fmt.count(round(value * due)),
        due=fmt.count(due),
    )
    return target_tile(label, value, target, margin=card.settings.scorecard.amber_margin, note=note)
