"""The scorecard's revenue section: revenue and volume against budget and last year, gross
margin, the revenue bridge, the budget tile and the account's growth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
from kamlab.scorecard.tiles import Tile, rag_status
from kamlab.scorecard.values import absent_section, as_float, unavailable_note

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["budget_tile", "growth", "plan_row", "revenue_12m", "section"]


def section(card: Scorecard) -> Section:
    """Revenue and volume against budget and last year: month, year to date, full year."""
    title = "Revenue and volume"
    if why := card.absent("orders"):
        return absent_section(title, why)
    body = ""
    month = card.month
    d = card._slice(card.analytics.customer_demand)
    if d is not None and len(d):
        start = pd.Period(f"{month.year - 1}-01", "M")
        d = d[(d["period"] >= start) & (d["period"] <= month)].assign(
            year=lambda f: f["period"].dt.year.astype(str),
            month_name=lambda f: f["period"].dt.strftime("%b"),
        )
        for currency, part in d.groupby("currency", observed=True, sort=True):
            budget = _budget_by_month(card, str(currency))
            fig = figures.bar_figure(
                part,
                x="month_name",
                y="net_value",
                hue="year",
                title=f"Net revenue by month, {month.year - 1} vs {month.year}"
                + (f", budget {month.year}" if budget else ""),
                xlabel="Month",
                ylabel=f"Net revenue ({currency})",
                line=budget,
                line_label=f"Budget {month.year}",
            )
            body += figure_html(fig, alt=f"Net revenue by month in {currency} with budget")
    body += _margin_html(card) + _bridge_html(card)
    missing = unavailable_note(card.analytics, "plan")
    if missing:
        return Section(title, body + missing)
    plan = card._slice(card.analytics.plan)
    if why := card.absent("budget"):
        return Section(
            title, body + note_html(f"Budget: not available: {why}.", kind="unavailable")
        )
    if plan.empty or not (plan["ytd_plan"].fillna(0) > 0).any():
        return Section(
            title,
            body
            + note_html("Budget: not available: no budget for this customer.", kind="unavailable"),
        )
    table = pd.DataFrame(
        {
            "Measure": plan["measure"].astype(str)
            + " ("
            + plan["currency"].astype(str).where(plan["measure"] == "revenue", "units")
            + ")",
            f"{fmt.month_abbr(month)} actual": plan["month_actual"],
            "plan": plan["month_plan"],
            "vs plan": plan["month_variance_pct"],
            "last year": plan["month_last_year"],
            "YTD actual": plan["ytd_actual"],
            "YTD plan": plan["ytd_plan"],
            "YTD vs plan": plan["ytd_variance_pct"],
            "YTD growth": plan["ytd_growth"],
            "FY outlook": plan["fy_outlook"],
            "FY plan": plan["fy_plan"],
        }
    )
    pct = dict.fromkeys(("vs plan", "YTD vs plan", "YTD growth"), fmt.signed_percent)
    amounts = {c: ",.0f" for c in table.columns if c not in pct and c != "Measure"}
    body += table_html(table, formats={**amounts, **pct}) + _revision_html(card)
    return Section(title, body)


def _revision_html(card: Scorecard) -> str:
    """What the budget revision in force changed in this year's full-year plan, if any."""
    revisions = card._slice(getattr(card.analytics, "budget_revisions", None))
    if revisions is None or revisions.empty:
        return ""
    rows = revisions[revisions["year"] == card.month.year]
    return "".join(
        note_html(
            f"Budget revised on {fmt.date(r.revised_on)}: full-year plan "
            f"{fmt.money(r.revenue_before, r.currency)} → {fmt.money(r.revenue_after, r.currency)} "
            f"({fmt.percent(r.revenue_change_pct, signed=True)}); the figures above use the "
            "revised plan."
        )
        for r in rows.itertuples()
    )


def budget_tile(card: Scorecard) -> Tile:
    """Revenue year to date against the budget, coloured by the ``budget_*`` settings."""
    label = "Revenue vs budget, YTD"
    if tile := card.unavailable_tile(label, "plan") or card.absent_tile(label, "orders", "budget"):
        return tile
    row = plan_row(card, "revenue")
    if row is None or not as_float(row["ytd_plan"]) > 0:
        return Tile(label, "–", "", "grey", "not available: no budget for this customer")
    value = as_float(row["ytd_variance_pct"])
    s = card.settings.scorecard
    status = rag_status(value, green=s.budget_green, amber=s.budget_amber)
    return Tile(
        label,
        fmt.percent(value, signed=True),
        f"{fmt.short_amount(row['ytd_actual'])} vs plan "
        f"{fmt.short_amount(row['ytd_plan'])} {card.currency}",
        status,
        number=value,
        unit="share",
    )


def plan_row(card: Scorecard, measure: str) -> pd.Series | None:
    """The customer's plan row of `measure` in its currency, or None."""
    plan = card._slice(card.analytics.plan)
    if plan is None:
        return None
    row = plan[(plan["measure"] == measure) & (plan["currency"] == card.currency)]
    return row.iloc[0] if len(row) else None


def revenue_12m(card: Scorecard) -> float:
    """Net revenue of the last 12 months in the customer's currency (0 if none)."""
    d = card._slice(card.analytics.customer_demand)
    d = d[(d["currency"] == card.currency) & (d["period"] > card.month - 12)]
    return float(d.loc[d["period"] <= card.month, "net_value"].sum())


def growth(card: Scorecard) -> dict | None:
    """Revenue of the last 12 months against the 12 months before (customer currency).

    Returns now, last_year, growth (fraction), trend ("growing" / "declining" / "stable",
    material from ``growth_material``) or None without revenue a year ago.
    """
    d = card._slice(card.analytics.customer_demand)
    d = d[d["currency"] == card.currency].set_index("period")["net_value"]
    month = card.month
    now = float(d[(d.index > month - 12) & (d.index <= month)].sum())
    before = float(d[(d.index > month - 24) & (d.index <= month - 12)].sum())
    if not before > 0 or now != now:
        return None
    g = now / before - 1.0
    size = card.settings.scorecard.growth_material
    trend = "growing" if g >= size else "declining" if g <= -size else "stable"
    return {"now": now, "last_year": before, "growth": g, "trend": trend}


def _budget_by_month(card: Scorecard, currency: str) -> dict[str, float] | None:
    """This year's budgeted revenue per month name ("Jan": 123.0) in `currency`."""
    b = card._slice(getattr(card.analytics, "budget_monthly", None))
    if b is None or b.empty:
        return None
    b = b[(b["currency"] == currency) & (b["period"].dt.year == card.month.year)]
    if b.empty:
        return None
    return dict(zip(b["period"].dt.strftime("%b"), b["planned_revenue"].astype(float), strict=True))


def _margin_html(card: Scorecard) -> str:
    """Gross margin by month this year against last year, and year to date."""
    m = card._slice(getattr(card.analytics, "margin_monthly", None))
    if m is None or m.empty:
        return ""
    cur, month = card.currency, card.month
    m = m[m["currency"] == cur]
    year, last = month.year, month.year - 1
    this = m[(m["period"].dt.year == year) & (m["period"] <= month)]
    before = m[(m["period"].dt.year == last) & (m["period"].dt.month <= month.month)]
    if this.empty:
        return note_html(
            "Gross margin: not available: no unit cost in this customer's currency "
            "(add a rate to [scorecard] fx_rates or a unit cost).",
            kind="unavailable",
        )
    shown = m[m["period"].dt.year >= last].assign(
        year=lambda f: f["period"].dt.year.astype(str),
        month_name=lambda f: f["period"].dt.strftime("%b"),
    )
    shown = shown[shown["period"] <= month]
    fig = figures.bar_figure(
        shown,
        x="month_name",
        y="gross_margin",
        hue="year",
        title=f"Gross margin by month (revenue − quantity × standard cost), {last} vs {year}",
        xlabel="Month",
        ylabel=f"Gross margin ({cur})",
    )
    ytd, ytd_ly = this["gross_margin"].sum(), before["gross_margin"].sum()
    rev, rev_ly = this["revenue"].sum(), before["revenue"].sum()
    pct = ytd / rev if rev else float("nan")
    pct_ly = ytd_ly / rev_ly if rev_ly else float("nan")
    text = (
        f"Gross margin year to date {fmt.short_amount(ytd)} {cur} ({fmt.percent(pct)} of "
        f"revenue) against {fmt.short_amount(ytd_ly)} ({fmt.percent(pct_ly)}) in the same "
        f"months of {last}."
    )
    return figure_html(fig, alt="Gross margin by month") + note_html(text)


def _bridge_html(card: Scorecard) -> str:
    """Revenue year to date against last year, split into volume, mix, price, new, lost."""
    b = card._slice(getattr(card.analytics, "bridge", None))
    if b is None or b.empty:
        return ""
    b = b[b["currency"] == card.currency]
    if b.empty:
        return ""
    r = b.iloc[0]
    steps = [
        ("Revenue last year, same months", r["revenue_base"]),
        ("Volume: more or fewer units", r["volume_effect"]),
        ("Mix: dearer or cheaper materials", r["mix_effect"]),
        ("Price: price changes on the same materials", r["price_effect"]),
        ("New materials", r["new_effect"]),
        ("Materials no longer bought", r["lost_effect"]),
        ("Revenue this year to date", r["revenue_current"]),
    ]
    last = len(steps) - 1
    amounts = [
        f"{float(v):,.0f}" if i in (0, last) else f"{float(v):+,.0f}"
        for i, (_, v) in enumerate(steps)
    ]
    table = pd.DataFrame(
        {"Revenue bridge, year to date": [k for k, _ in steps], f"{card.currency}": amounts}
    )
    return note_html("Why revenue changed against last year:") + table_html(table, print_rows=None)
