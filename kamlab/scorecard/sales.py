"""The scorecard's revenue section: revenue and volume against budget and last year, gross
margin, the revenue bridge, the budget tile and the account's growth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
from kamlab.scorecard.tiles import Tile, rag_status
from kamlab.scorecard.values import absent_section, as_float, not_available, unavailable_note, word

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["budget_tile", "growth", "plan_row", "revenue_12m", "section"]


def section(card: Scorecard) -> Section:
    """Revenue and volume against budget and last year: month, year to date, full year."""
    t = fmt.text
    title = t("Revenue and volume")
    if why := card.absent("orders"):
        return absent_section(title, why)
    body = ""
    month = card.month
    d = card._slice(card.analytics.customer_demand)
    if d is not None and len(d):
        start = pd.Period(f"{month.year - 1}-01", "M")
        d = d[(d["period"] >= start) & (d["period"] <= month)].assign(
            year=lambda f: f["period"].dt.year.astype(str),
            month_name=lambda f: f["period"].map(fmt.month_abbr),
        )
        for currency, part in d.groupby("currency", observed=True, sort=True):
            budget = _budget_by_month(card, str(currency))
            fig = figures.bar_figure(
                part,
                x="month_name",
                y="net_value",
                hue="year",
                title=t(
                    "Net revenue by month, {last} vs {year}, budget {year}"
                    if budget
                    else "Net revenue by month, {last} vs {year}",
                    last=month.year - 1,
                    year=month.year,
                ),
                xlabel=t("Month"),
                ylabel=t("Net revenue ({currency})", currency=currency),
                line=budget,
                line_label=t("Budget {year}", year=month.year),
            )
            body += figure_html(
                fig, alt=t("Net revenue by month in {currency} with budget", currency=currency)
            )
    body += _margin_html(card) + _bridge_html(card)
    missing = unavailable_note(card.analytics, "plan")
    if missing:
        return Section(title, body + missing)
    plan = card._slice(card.analytics.plan)
    if why := card.absent("budget"):
        return Section(
            title,
            body + note_html(t("Budget: not available: {why}.", why=why), kind="unavailable"),
        )
    if plan.empty or not (plan["ytd_plan"].fillna(0) > 0).any():
        return Section(
            title,
            body
            + note_html(
                t("Budget: not available: no budget for this customer."), kind="unavailable"
            ),
        )
    measure = [
        t("{measure} ({currency})", measure=word(m), currency=c)
        if m == "revenue"
        else t("{measure} (units)", measure=word(m))
        for m, c in zip(plan["measure"].astype(str), plan["currency"].astype(str), strict=True)
    ]
    table = pd.DataFrame(
        {
            t("Measure"): measure,
            t("{month} actual", month=fmt.month_abbr(month)): plan["month_actual"],
            t("plan"): plan["month_plan"],
            t("vs plan"): plan["month_variance_pct"],
            t("last year"): plan["month_last_year"],
            t("YTD actual"): plan["ytd_actual"],
            t("YTD plan"): plan["ytd_plan"],
            t("YTD vs plan"): plan["ytd_variance_pct"],
            t("YTD growth"): plan["ytd_growth"],
            t("FY outlook"): plan["fy_outlook"],
            t("FY plan"): plan["fy_plan"],
        }
    )
    pct = dict.fromkeys((t("vs plan"), t("YTD vs plan"), t("YTD growth")), fmt.signed_percent)
    amounts = {c: ",.0f" for c in table.columns if c not in pct and c != t("Measure")}
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
            fmt.text(
                "Budget revised on {day}: full-year plan {before} → {after} ({change}); the "
                "figures above use the revised plan.",
                day=fmt.date(r.revised_on),
                before=fmt.money(r.revenue_before, r.currency),
                after=fmt.money(r.revenue_after, r.currency),
                change=fmt.percent(r.revenue_change_pct, signed=True),
            )
        )
        for r in rows.itertuples()
    )


def budget_tile(card: Scorecard) -> Tile:
    """Revenue year to date against the budget, coloured by the ``budget_*`` settings."""
    label = fmt.text("Revenue vs budget, YTD")
    if tile := card.unavailable_tile(label, "plan") or card.absent_tile(label, "orders", "budget"):
        return tile
    row = plan_row(card, "revenue")
    if row is None or not as_float(row["ytd_plan"]) > 0:
        return Tile(label, "–", "", "grey", not_available(fmt.text("no budget for this customer")))
    value = as_float(row["ytd_variance_pct"])
    s = card.settings.scorecard
    status = rag_status(value, green=s.budget_green, amber=s.budget_amber)
    return Tile(
        label,
        fmt.percent(value, signed=True),
        fmt.text(
            "{actual} vs plan {plan} {currency}",
            actual=fmt.short_amount(row["ytd_actual"]),
            plan=fmt.short_amount(row["ytd_plan"]),
            currency=card.currency,
        ),
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
    """Revenue of the last 12 months against the 12 months before (customer currency), like
    for like.

    Only months whose month a year earlier the data cover are compared (when the data start
    less than 24 months before the review month, the months *m* with *m* − 12 ≥ the first
    month of the data, on both sides). Returns now, last_year, growth (fraction), trend
    ("growing" / "declining" / "stable", material from ``growth_material``), months (how
    many months were compared, 12 when all), partial (fewer than 12) — or None without
    revenue in the compared months a year ago, or without any month to compare.
    """
    d = card._slice(card.analytics.customer_demand)
    d = d[d["currency"] == card.currency].set_index("period")["net_value"]
    month, first = card.month, card.analytics.first_month
    start = month - 11 if first is None else max(month - 11, first + 12)
    if start > month:
        return None  # the data do not reach a year back: nothing like for like
    now = float(d[(d.index >= start) & (d.index <= month)].sum())
    before = float(d[(d.index >= start - 12) & (d.index <= month - 12)].sum())
    if not before > 0 or now != now:
        return None
    g = now / before - 1.0
    size = card.settings.scorecard.growth_material
    trend = "growing" if g >= size else "declining" if g <= -size else "stable"
    months = (month - start).n + 1
    return {
        "now": now,
        "last_year": before,
        "growth": g,
        "trend": trend,
        "months": months,
        "partial": months < 12,
    }


def _budget_by_month(card: Scorecard, currency: str) -> dict[str, float] | None:
    """This year's budgeted revenue per month name ("Jan": 123.0) in `currency`."""
    b = card._slice(getattr(card.analytics, "budget_monthly", None))
    if b is None or b.empty:
        return None
    b = b[(b["currency"] == currency) & (b["period"].dt.year == card.month.year)]
    if b.empty:
        return None
    months = b["period"].map(fmt.month_abbr)
    return dict(zip(months, b["planned_revenue"].astype(float), strict=True))


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
            fmt.text(
                "Gross margin: not available: no unit cost in this customer's currency "
                "(add a rate to [scorecard] fx_rates or a unit cost)."
            ),
            kind="unavailable",
        )
    shown = m[m["period"].dt.year >= last].assign(
        year=lambda f: f["period"].dt.year.astype(str),
        month_name=lambda f: f["period"].map(fmt.month_abbr),
    )
    shown = shown[shown["period"] <= month]
    fig = figures.bar_figure(
        shown,
        x="month_name",
        y="gross_margin",
        hue="year",
        title=fmt.text(
            "Gross margin by month (revenue − quantity × standard cost), {last} vs {year}",
            last=last,
            year=year,
        ),
        xlabel=fmt.text("Month"),
        ylabel=fmt.text("Gross margin ({currency})", currency=cur),
    )
    ytd, ytd_ly = this["gross_margin"].sum(), before["gross_margin"].sum()
    rev, rev_ly = this["revenue"].sum(), before["revenue"].sum()
    pct = ytd / rev if rev else float("nan")
    pct_ly = ytd_ly / rev_ly if rev_ly else float("nan")
    said = fmt.text(
        "Gross margin year to date {margin} {currency} ({share} of revenue) against "
        "{margin_before} ({share_before}) in the same months of {last}.",
        margin=fmt.short_amount(ytd),
        currency=cur,
        share=fmt.percent(pct),
        margin_before=fmt.short_amount(ytd_ly),
        share_before=fmt.percent(pct_ly),
        last=last,
    )
    return figure_html(fig, alt=fmt.text("Gross margin by month")) + note_html(said)


def _bridge_html(card: Scorecard) -> str:
    """Revenue year to date against last year, split into volume, mix, price, new, lost."""
    b = card._slice(getattr(card.analytics, "bridge", None))
    if b is None or b.empty:
        return ""
    b = b[b["currency"] == card.currency]
    if b.empty:
        return ""
    r = b.iloc[0]
    t = fmt.text
    steps = [
        (t("Revenue last year, same months"), r["revenue_base"]),
        (t("Volume: more or fewer units"), r["volume_effect"]),
        (t("Mix: dearer or cheaper materials"), r["mix_effect"]),
        (t("Price: price changes on the same materials"), r["price_effect"]),
        (t("New materials"), r["new_effect"]),
        (t("Materials no longer bought"), r["lost_effect"]),
        (t("Revenue this year to date"), r["revenue_current"]),
    ]
    last = len(steps) - 1
    amounts = [
        fmt.number(v) if i in (0, last) else ("+" if float(v) >= 0 else "") + fmt.number(v)
        for i, (_, v) in enumerate(steps)
    ]
    table = pd.DataFrame(
        {t("Revenue bridge, year to date"): [k for k, _ in steps], f"{card.currency}": amounts}
    )
    return note_html(t("Why revenue changed against last year:")) + table_html(
        table, print_rows=None
    )
