"""The commercial sections of a customer's scorecard, and their sheets for pack.xlsx.

Each function takes a :class:`~kamlab.scorecard.card.Scorecard` and returns one
:class:`~kamlab.scorecard.render.Section`: prices and margin, pipeline, projects and lost
sales, market and competitors (3C), customer satisfaction. They only select and format the
frames :mod:`kamlab.chain` computed once per pack (``PackAnalytics.price_summary`` ...);
where a table was not supplied the section says "no data" and never fails. They are
tables, not figures: a scorecard page stays under ``[pack] max_scorecard_kb`` (300 KB), and
the pipeline layer belongs on the demand figure (``PackAnalytics.pipeline_forecast``).
"""

from __future__ import annotations

import pandas as pd

from kamlab.chain import PackAnalytics
from kamlab.i18n import formats as fmt
from kamlab.scorecard.card import Scorecard
from kamlab.scorecard.render import Section, note_html, table_html

__all__ = [
    "SECTIONS",
    "market",
    "pipeline",
    "portfolio_summary",
    "prices",
    "projects",
    "satisfaction",
    "workbook_sheets",
]

#: the commercial section functions, in the order the scorecard notebook shows them
SECTIONS = ("prices", "pipeline", "projects", "market", "satisfaction")


def _slice(card: Scorecard, name: str) -> pd.DataFrame | None:
    frame = getattr(card.analytics, name, None)
    if frame is None:
        return None
    return card._slice(frame)


def _no_data(title: str, card: Scorecard, names: tuple[str, ...], what: str) -> Section | None:
    """The "no data" section when every one of `names` is absent or empty for the customer."""
    frames = [_slice(card, n) for n in names]
    if any(f is not None and len(f) for f in frames):
        return None
    reasons = sorted(
        {card.analytics.unavailable[n] for n in names if n in card.analytics.unavailable}
    )
    text = f"No {what} for this customer this month"
    text += f" ({'; '.join(reasons)})." if reasons else "."
    return Section(title, note_html(text, kind="unavailable"), status="empty")


def _facts(facts: dict[str, str]) -> str:
    rows = pd.DataFrame({"": list(facts), " ": list(facts.values())})
    return table_html(rows, classes="kam-facts")


def _date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).map(fmt.date)


# -- prices and margin -----------------------------------------------------------------------
def prices(card: Scorecard) -> Section:
    """Price realisation against the agreements, the price-record audit, special prices, margin."""
    title = "Prices and margin"
    if empty := _no_data(
        title, card, ("price_summary", "price_audit", "margin", "price_requests"), "price data"
    ):
        return empty
    body = ""
    months = card.settings.commercial.window_months
    summary = _slice(card, "price_summary")
    if summary is not None and len(summary):
        for row in summary.itertuples(index=False):
            cur = str(row.currency)
            body += _facts(
                {
                    f"Billed / agreed price, last {months} months": fmt.percent(
                        row.realisation, digits=1
                    ),
                    "Billed below the agreements (leakage)": fmt.money(row.leakage, cur),
                    "Billed above the agreements": fmt.money(row.overbilled, cur),
                    "Invoice lines checked / off the agreement": (
                        f"{int(row.lines):,} / {int(row.lines - row.lines_ok):,}"
                    ),
                    "Revenue without any agreed price": fmt.money(row.revenue_unagreed, cur),
                }
            )
    else:
        body += _unavailable_note(card, "price_summary")
    audit = _slice(card, "price_audit")
    if audit is not None and len(audit):
        body += note_html(
            "Price-record audit: invoice lines not billed at the agreed price, biggest money "
            "first. Correct the price record or the billing, then credit or re-invoice."
        )
        by_issue = (
            audit.groupby(["issue", "currency"], observed=True)
            .agg(lines=("issue", "size"), at_stake=("at_stake", "sum"))
            .reset_index()
            .sort_values("at_stake", ascending=False, key=lambda s: s.abs())
        )
        body += table_html(
            by_issue.rename(columns={"issue": "Finding", "currency": "Currency",
                                     "lines": "Lines", "at_stake": "Agreed − billed"}),
            formats={"Agreed − billed": ",.0f", "Lines": ",d"},
        )  # fmt: skip
        top = audit.head(6)
        body += table_html(
            pd.DataFrame(
                {
                    "Billed": _date(top["billing_date"]) if "billing_date" in top else "–",
                    "Material": top["material_id"].astype(str),
                    "Qty": top["quantity"],
                    "Billed / unit": top["billed_unit_price"],
                    "Agreed / unit": top["agreed_unit_price"],
                    "Agreed − billed": top["at_stake"],
                    "Currency": top["currency"].astype(str),
                    "Finding": top["finding"].astype(str),
                }
            ),
            formats={"Qty": ",.0f", "Billed / unit": ",.4g", "Agreed / unit": ",.4g",
                     "Agreed − billed": ",.0f"},
        )  # fmt: skip
    elif summary is not None and len(summary):
        body += note_html("Every invoice line was billed at its agreed price.")
    requests = _slice(card, "price_requests")
    if requests is not None and len(requests):
        live = requests[requests["state"].isin(["open", "expiring", "expired", "active"])]
        if len(live):
            body += note_html("Special price requests: open ones, and approved ones by expiry.")
            body += table_html(
                pd.DataFrame(
                    {
                        "Request": live["request_id"].astype(str),
                        "Material": live["material_id"].astype(str),
                        "State": live["state"].astype(str),
                        "Waiting (days)": live["age_days"],
                        "Discount granted": live["discount"].map(fmt.percent),
                        "Expires": _date(live["expiry_date"]).fillna("–"),
                        "Reason": live["reason"].astype(str),
                    }
                ),
                formats={"Waiting (days)": ",.0f"},
                max_rows=8,
            )
    margin = _slice(card, "margin")
    if margin is not None and len(margin):
        monthly = margin.groupby(["currency", "period"], observed=True, as_index=False)[
            ["revenue", "gross_margin"]
        ].sum()
        monthly["margin_pct"] = monthly["gross_margin"] / monthly["revenue"]
        last = monthly.sort_values("period").groupby("currency", observed=True).tail(6)
        body += note_html("Gross margin at standard cost, last 6 billing months and by family.")
        body += table_html(
            pd.DataFrame(
                {
                    "Month": last["period"].dt.strftime("%b %Y"),
                    "Revenue": last["revenue"],
                    "Gross margin": last["gross_margin"],
                    "Margin": last["margin_pct"].map(fmt.percent),
                    "Currency": last["currency"].astype(str),
                }
            ),
            formats={"Revenue": ",.0f", "Gross margin": ",.0f"},
            classes="kam-table kam-print-hide",  # the revenue section's margin chart prints
        )
        fam = margin.groupby(["product_family", "currency"], observed=True, as_index=False)[
            ["revenue", "gross_margin"]
        ].sum()
        fam["margin_pct"] = fam["gross_margin"] / fam["revenue"]
        fam = fam.sort_values("revenue", ascending=False)
        body += table_html(
            fam.rename(columns={"product_family": "Family", "currency": "Currency",
                                "revenue": "Revenue", "gross_margin": "Gross margin",
                                "margin_pct": "Margin"}),
            formats={"Revenue": ",.0f", "Gross margin": ",.0f", "Margin": fmt.percent},
            max_rows=8,
        )  # fmt: skip
    body += note_html(
        "Price change against last year, split into price, volume and mix: see Revenue and volume."
    )
    return Section(title, body)


def _unavailable_note(card: Scorecard, *names: str) -> str:
    missing = sorted(
        {card.analytics.unavailable[n] for n in names if n in card.analytics.unavailable}
    )
    return note_html(f"Not available: {'; '.join(missing)}.", kind="unavailable") if missing else ""


# -- pipeline ----------------------------------------------------------------------------------
def pipeline(card: Scorecard) -> Section:
    """Weighted pipeline by start month, win rate and cycle time, RFQs and wins, deals at risk."""
    title = "Pipeline"
    if empty := _no_data(
        title, card, ("pipeline", "win_rate", "rfq_activity", "pipeline_at_risk"), "CRM pipeline"
    ):
        return empty
    body = ""
    pipe = _slice(card, "pipeline")
    if pipe is not None and len(pipe):
        ahead = pipe[pipe["start_month"] >= card.month - 2]
        quarters = (
            ahead.assign(start=ahead["start_month"].dt.asfreq("Q").astype(str))
            .groupby(["start", "currency"], observed=True, as_index=False)[
                ["opportunities", "value", "weighted_value"]
            ]
            .sum()
        )
        body += note_html("Open opportunities by expected start of production (quarter).")
        body += table_html(
            quarters.rename(columns={"start": "Start", "currency": "Currency",
                                     "opportunities": "Opportunities", "value": "Value / year",
                                     "weighted_value": "× probability"}),
            formats={"Opportunities": "d", "Value / year": ",.0f", "× probability": ",.0f"},
            max_rows=8,
        )  # fmt: skip
        totals = pipe.groupby("currency", observed=True)[["opportunities", "value",
                                                          "weighted_value"]].sum()  # fmt: skip
        body += _facts(
            {
                f"Open opportunities ({cur})": (
                    f"{int(r.opportunities)} worth {fmt.money(r.value, str(cur))} a year, "
                    f"{fmt.money(r.weighted_value, str(cur))} weighted"
                )
                for cur, r in totals.iterrows()
            }
        )
    layer = _slice(card, "pipeline_forecast")
    if layer is not None and len(layer):
        q = (
            layer.assign(quarter=layer["period"].dt.asfreq("Q").astype(str))
            .groupby(["quarter", "currency"], observed=True, as_index=False)[["value"]]
            .sum()
        )
        body += note_html(
            "Pipeline layer: expected new business per quarter (won projects not yet started, "
            "open opportunities × probability, from their start of production). Read it on top "
            "of the statistical forecast (Demand and forecast); it is never added into it."
        )
        body += table_html(
            q.rename(columns={"quarter": "Quarter", "currency": "Currency",
                              "value": "Expected revenue"}),
            formats={"Expected revenue": ",.0f"},
        )  # fmt: skip
    wins = _slice(card, "win_rate")
    months = card.settings.commercial.window_months
    if wins is not None and len(wins):
        body += note_html(
            f"Win rate of the opportunities decided in the last {months} months (open ones "
            "have no outcome yet and are left out)."
        )
        body += table_html(
            pd.DataFrame(
                {
                    "Type": wins["type"].astype(str).str.upper(),
                    "Won": wins["won"],
                    "Lost": wins["lost"],
                    "Still open": wins["open"],
                    "Win rate": wins["win_rate"].map(fmt.percent),
                    "Value win rate": wins["value_win_rate"].map(fmt.percent),
                    "Days to decide (median)": wins["cycle_days_median"],
                    "Currency": wins["currency"].astype(str),
                }
            ),
            formats={"Won": "d", "Lost": "d", "Still open": "d", "Days to decide (median)": ",.0f"},
            print_rows=None,  # one row per type, a whole
        )
    rfq = _slice(card, "rfq_activity")
    if rfq is not None and len(rfq):
        target_rfq, target_won = (
            rfq["rfqs_target"].sum(min_count=1),
            rfq["won_target"].sum(min_count=1),
        )
        body += _facts(
            {
                f"RFQs and tenders received, last {months} months": (
                    f"{int(rfq['rfqs'].sum())}"
                    + ("" if pd.isna(target_rfq) else f" (target {target_rfq:,.0f})")
                ),
                f"Orders won, last {months} months": (
                    f"{int(rfq['won'].sum())}"
                    + ("" if pd.isna(target_won) else f" (target {target_won:,.0f})")
                ),
            }
        )
    risk = _slice(card, "pipeline_at_risk")
    if risk is not None and len(risk):
        body += note_html(
            "Opportunities at risk: the award date has passed or they have not moved."
        )
        body += table_html(
            pd.DataFrame(
                {
                    "Opportunity": risk["opportunity_id"].astype(str),
                    "Type": risk["type"].astype(str).str.upper(),
                    "Stage": risk["stage"].astype(str),
                    "Why": risk["reason"].astype(str),
                    "Weighted value / year": risk["at_stake"],
                    "Currency": risk["currency"].astype(str),
                }
            ),
            formats={"Weighted value / year": ",.0f"},
            max_rows=8,
        )
    return Section(title, body)


# -- projects and lost sales ---------------------------------------------------------------------
def projects(card: Scorecard) -> Section:
    """New-product projects (stage, age in stage, SOP slippage) and the sales lost, with why."""
    title = "Projects and lost sales"
    if empty := _no_data(title, card, ("npi", "lost_sales"), "NPI projects or lost sales"):
        return empty
    body = ""
    npi = _slice(card, "npi")
    if npi is not None and len(npi):
        body += note_html(
            "New-product projects: a project in one stage for longer than "
            f"{card.settings.commercial.stall_days} days is stalled; slippage is the expected "
            "start of production against the first plan."
        )
        body += table_html(
            pd.DataFrame(
                {
                    "Project": npi["opportunity_id"].astype(str),
                    "Family": npi["product_family"].astype(str),
                    "Stage": npi["stage"].astype(str),
                    "Days in stage": npi["age_in_stage_days"],
                    "Planned SOP": _date(npi["planned_sop_date"]).fillna("–"),
                    "Expected SOP": _date(npi["sop_date"]).fillna("–"),
                    "Slippage (days)": npi["slippage_days"],
                    "Value / year": npi["annual_value"],
                    "Currency": npi["currency"].astype(str),
                    "Flag": npi["flag"].astype(str),
                }
            ),
            formats={"Days in stage": ",.0f", "Slippage (days)": "+,.0f",
                     "Value / year": ",.0f"},
            max_rows=10,
        )  # fmt: skip
    elif npi is not None:
        body += note_html("No new-product project open for this customer.")
    lost = _slice(card, "lost_sales")
    if lost is not None and len(lost):
        months = card.settings.commercial.window_months
        body += note_html(f"Opportunities lost in the last {months} months, biggest first.")
        body += table_html(
            pd.DataFrame(
                {
                    "Lost on": _date(lost["decided_date"]),
                    "Opportunity": lost["opportunity_id"].astype(str),
                    "Type": lost["type"].astype(str).str.upper(),
                    "Family": lost["product_family"].astype(str),
                    "Value / year": lost["annual_value"],
                    "Currency": lost["currency"].astype(str),
                    "Reason": lost["loss_reason"].astype(str),
                    "Competitor": lost["competitor"].astype(str),
                }
            ),
            formats={"Value / year": ",.0f"},
            max_rows=10,
        )
    elif lost is not None:
        months = card.settings.commercial.window_months
        body += note_html(f"No opportunity lost in the last {months} months.")
    return Section(title, body)


# -- market and competitors (3C) -----------------------------------------------------------------
def market(card: Scorecard) -> Section:
    """Share of business per family, its trend, and the competitors: the 3C table."""
    title = "Share of business and competitors"
    if empty := _no_data(title, card, ("three_c", "share_of_business", "competitors"),
                         "market estimates"):  # fmt: skip
        return empty
    body = ""
    three = _slice(card, "three_c")
    if three is not None and len(three):
        body += note_html(
            "3C: company (our sales and share), customer (its purchases and their growth), "
            "competitor (the largest one named). Share shown as unknown where no estimate exists."
        )
        body += table_html(
            pd.DataFrame(
                {
                    "Family": three["product_family"].astype(str),
                    "Our sales (12 m)": three["our_sales"],
                    "Share": three["share_of_business"].map(fmt.percent),
                    "Change": three["change"].map(fmt.points),
                    "Customer buys (12 m)": three["total_purchases"],
                    "Growth": three["market_growth"].map(fmt.signed_percent),
                    "Main competitor": three["main_competitor"].astype(str).replace("nan", "–"),
                    "Its share": three["competitor_share"].map(fmt.percent),
                    "Currency": three["currency"].astype(str),
                    "Note": three["reason"].astype(str).replace("nan", ""),
                }
            ),
            formats={"Our sales (12 m)": ",.0f", "Customer buys (12 m)": ",.0f"},
            max_rows=10,
        )
    comp = _slice(card, "competitors")
    if comp is not None and len(comp):
        body += note_html(
            "Competitors at the customer: share at the latest estimate, deals lost to them."
        )
        body += table_html(
            pd.DataFrame(
                {
                    "Competitor": comp["competitor"].astype(str),
                    "Families": comp["families"].astype(str).replace("nan", "–"),
                    "Share": comp["share"].map(fmt.percent),
                    "Change": comp["change"].map(fmt.points),
                    "Deals lost to them": comp["lost_to"],
                    "Value lost / year": comp["lost_value"],
                    "Activity seen": comp["activity"].astype(str).replace(["nan", "None"], "–"),
                }
            ),
            formats={"Deals lost to them": "d", "Value lost / year": ",.0f"},
            max_rows=8,
        )
    return Section(title, body)


# -- satisfaction ----------------------------------------------------------------------------------
def satisfaction(card: Scorecard) -> Section:
    """Vendor rating trend, issues closed on time, visits and VOC meetings against plan."""
    title = "Customer satisfaction"
    if empty := _no_data(title, card, ("ratings", "issues", "visits"), "satisfaction data"):
        return empty
    body = ""
    ratings = _slice(card, "ratings")
    if ratings is not None and len(ratings):
        recent = ratings.tail(4)
        body += table_html(
            pd.DataFrame(
                {
                    "Rating": recent["period"].astype(str),
                    "Score": recent["score"].map(lambda v: f"{v:g}")
                    + " / "
                    + recent["scale_max"].map(lambda v: f"{v:g}"),
                    "Of best": recent["score_pct"].map(fmt.percent),
                    "Change": recent["change"].map(lambda v: fmt.points(v, digits=1)),
                    "Rank": recent["rank"],
                }
            ),
            formats={"Rank": lambda v: f"{int(v)}"},
            print_rows=None,  # the trend, oldest first: a whole
        )
        last = ratings.iloc[-1]
        rank = "" if pd.isna(last["rank"]) else f", rank {int(last['rank'])}"
        if "suppliers" in ratings and not pd.isna(last.get("suppliers")):
            rank += f" of {int(last['suppliers'])} suppliers"
        body += _facts(
            {
                f"Latest vendor rating ({last['period']})": (
                    f"{last['score']:g} of {last['scale_max']:g} ({fmt.percent(last['score_pct'])}){rank}"
                ),
            }
        )
    issues = _slice(card, "issues")
    visits = _slice(card, "visits")
    facts = {}
    if issues is not None and len(issues):
        r = issues.iloc[0]
        facts[f"Complaints closed within {int(r['target_days'])} days"] = (
            f"{fmt.percent(r['on_time_rate'])} ({int(r['closed_on_time'])} on time, "
            f"{int(r['closed_late'])} late, {int(r['overdue'])} open and overdue)"
        )
    if visits is not None and len(visits):
        names = {
            "visit": "Visits",
            "voc": "Voice-of-customer meetings",
            "review": "Account reviews",
        }
        for row in visits.itertuples(index=False):
            label = names.get(str(row.type), str(row.type))
            text = f"{int(row.held)} held of {row.plan:.0f} planned ({fmt.percent(row.vs_plan)})"
            if row.missed:
                text += f", {int(row.missed)} not held"
            if not pd.isna(row.next_planned):
                text += f"; next {pd.Timestamp(row.next_planned):%d %b %Y}"
            facts[f"{label}, last {card.settings.commercial.window_months} months"] = text
    if facts:
        body += _facts(facts)
    body += note_html("Complaint counts and PPM: see Service.")
    return Section(title, body)


# -- pack.xlsx -----------------------------------------------------------------------------------
def workbook_sheets(analytics: PackAnalytics) -> dict[str, pd.DataFrame]:
    """The commercial sheets of pack.xlsx, sheet name -> frame (all customers; empty ones left out).

    Price audit, special prices, price realisation, pipeline, lost sales, NPI projects,
    share of business (3C) and money at stake, as computed once for the pack.
    """
    sheets = {
        "Price realisation": analytics.price_summary,
        "Price audit": analytics.price_audit,
        "Special prices": analytics.price_requests,
        "Pipeline": analytics.pipeline,
        "Lost sales": analytics.lost_sales,
        "NPI projects": analytics.npi,
        "Share of business (3C)": analytics.three_c,
        "Money at stake": analytics.money_at_stake,
    }
    out = {}
    for name, frame in sheets.items():
        if frame is None or len(frame) == 0:
            continue
        frame = frame.copy()
        for col in frame.columns:
            if isinstance(frame[col].dtype, pd.PeriodDtype):
                frame[col] = frame[col].astype(str)
            elif isinstance(frame[col].dtype, pd.CategoricalDtype):
                frame[col] = frame[col].astype(str)
        out[name] = frame
    return out


def portfolio_summary(analytics: PackAnalytics) -> pd.DataFrame:
    """One row per customer × currency for the portfolio page: the commercial headline figures.

    price realisation and leakage (last window), weighted open pipeline, lost sales (annual
    value, last window), stalled NPI projects, share of business at the latest estimate
    (our sales ÷ the customer's purchases over the families with an estimate). Figures come
    from the pack's analytics; nothing is added across currencies.
    """
    ids = analytics.customers[["customer_id", "currency"]].astype(str)
    out = ids.copy()

    def per_customer(frame: pd.DataFrame | None, columns: dict[str, str]) -> None:
        nonlocal out
        if frame is None or len(frame) == 0:
            for name in columns.values():
                out[name] = float("nan")
            return
        f = frame.assign(customer_id=frame["customer_id"].astype(str),
                         currency=frame["currency"].astype(str))  # fmt: skip
        g = f.groupby(["customer_id", "currency"], observed=True)[list(columns)].sum(min_count=1)
        out = out.merge(g.rename(columns=columns).reset_index(), how="left",
                        on=["customer_id", "currency"])  # fmt: skip

    per_customer(analytics.price_summary, {"leakage": "price_leakage", "revenue": "revenue_billed",
                                           "agreed_value": "_agreed"})  # fmt: skip
    out["price_realisation"] = out["revenue_billed"] / out["_agreed"]
    out = out.drop(columns="_agreed")
    per_customer(analytics.pipeline, {"weighted_value": "weighted_pipeline"})
    per_customer(analytics.lost_sales, {"annual_value": "lost_sales"})
    npi = analytics.npi
    stalled = (
        npi[npi["flag"] == "stalled"].groupby("customer_id").size()
        if npi is not None and len(npi)
        else pd.Series(dtype="int64")
    )
    out["stalled_projects"] = out["customer_id"].map(stalled).fillna(0).astype("int64")
    share = analytics.share_of_business
    if share is not None and len(share):
        latest = share.dropna(subset=["total_purchases"]).sort_values("period")
        latest = latest.groupby(["customer_id", "product_family"], observed=True).tail(1)
        latest = latest.assign(customer_id=latest["customer_id"].astype(str),
                               currency=latest["currency"].astype(str))  # fmt: skip
        g = latest.groupby(["customer_id", "currency"], observed=True)[
            ["our_sales", "total_purchases"]
        ].sum()
        g["share_of_business"] = g["our_sales"] / g["total_purchases"]
        out = out.merge(g[["share_of_business"]].reset_index(), how="left",
                        on=["customer_id", "currency"])  # fmt: skip
    else:
        out["share_of_business"] = float("nan")
    return out
