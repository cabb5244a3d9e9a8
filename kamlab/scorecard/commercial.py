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
from kamlab.scorecard.values import data_text, not_available_html, word

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
    what = fmt.text(_NO_DATA_WHAT.get(what, what))
    said = (
        fmt.text(
            "No {what} for this customer this month ({why}).", what=what, why="; ".join(reasons)
        )
        if reasons
        else fmt.text("No {what} for this customer this month.", what=what)
    )
    return Section(title, note_html(said, kind="unavailable"), status="empty")


#: the labels of the visit counts, one template per kind of visit
VISIT_LABELS = {
    "visit": "Visits, last {n} months",
    "voc": "Voice-of-customer meetings, last {n} months",
    "review": "Account reviews, last {n} months",
}

#: what a commercial section lacks when it has no data (catalog entries)
_NO_DATA_WHAT = {
    "price data": "price data",
    "CRM pipeline": "CRM pipeline",
    "NPI projects or lost sales": "NPI projects or lost sales",
    "market estimates": "market estimates",
    "satisfaction data": "satisfaction data",
}


def _facts(facts: dict[str, str]) -> str:
    rows = pd.DataFrame({"": list(facts), " ": list(facts.values())})
    return table_html(rows, classes="kam-facts")


def _g(value: object) -> str:
    """A score as written ("97", "88.2"), with the active language's decimal mark."""
    lang = fmt.current()
    shown = lang.number(value, digits=2)
    mark = "." if lang.english else lang.locale.number_symbols["latn"]["decimal"]
    return shown.rstrip("0").rstrip(mark) if mark in shown else shown


def _against(count: object, target: object) -> str:
    """ "12" or "12 (target 15)"."""
    if pd.isna(target):
        return fmt.count(count)
    return fmt.text("{n} (target {target})", n=fmt.count(count), target=fmt.number(target))


def _date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).map(fmt.date)


def _price_unit_errors(audit: pd.DataFrame | None) -> dict[str, float]:
    """Per currency, the amount billed above the agreements on lines whose finding is a
    price-unit mix-up (issue "price unit"): a record error, not an overbilling."""
    if audit is None or audit.empty:
        return {}
    unit = audit[audit["issue"].astype("string") == "price unit"]
    above = (-unit["at_stake"]).clip(lower=0)
    return {
        str(c): float(v) for c, v in above.groupby(unit["currency"], observed=True).sum().items()
    }


# -- prices and margin -----------------------------------------------------------------------
def prices(card: Scorecard) -> Section:
    """Price realisation against the agreements, the price-record audit, special prices, margin."""
    t = fmt.text
    title = t("Prices and margin")
    if empty := _no_data(
        title, card, ("price_summary", "price_audit", "margin", "price_requests"), "price data"
    ):
        return empty
    body = ""
    months = card.settings.commercial.window_months
    summary = _slice(card, "price_summary")
    audit = _slice(card, "price_audit")
    if summary is not None and len(summary):
        record_errors = _price_unit_errors(audit)
        for row in summary.itertuples(index=False):
            cur = str(row.currency)
            unit = record_errors.get(cur, 0.0)
            facts = {
                t("Billed / agreed price, last {n} months", n=fmt.count(months)): fmt.percent(
                    row.realisation, digits=1
                ),
                t("Billed below the agreements (leakage)"): fmt.money(row.leakage, cur),
                t("Billed above the agreements"): fmt.money(max(row.overbilled - unit, 0.0), cur),
            }
            if unit > 0:  # a price-unit mix-up in a record, not money taken from the customer
                facts[t("Price-unit record errors (billed at a multiple of the agreed price)")] = t(
                    "{amount}: check the price unit in the price record",
                    amount=fmt.money(unit, cur),
                )  # fmt: skip
            facts[t("Invoice lines checked / off the agreement")] = (
                f"{fmt.count(row.lines)} / {fmt.count(row.lines - row.lines_ok)}"
            )
            facts[t("Revenue without any agreed price")] = fmt.money(row.revenue_unagreed, cur)
            body += _facts(facts)
    else:
        body += _unavailable_note(card, "price_summary")
    if audit is not None and len(audit):
        body += note_html(
            t(
                "Price-record audit: invoice lines not billed at the agreed price, biggest money "
                "first. Correct the price record or the billing, then credit or re-invoice."
            )
        )
        by_issue = (
            audit.groupby(["issue", "currency"], observed=True)
            .agg(lines=("issue", "size"), at_stake=("at_stake", "sum"))
            .reset_index()
            .sort_values("at_stake", ascending=False, key=lambda s: s.abs())
        )
        body += table_html(
            by_issue.assign(issue=by_issue["issue"].map(data_text)).rename(columns={"issue": t("Finding"), "currency": t("Currency"),
                                     "lines": t("Lines"), "at_stake": t("Agreed − billed")}),
            formats={t("Agreed − billed"): ",.0f", t("Lines"): ",d"},
        )  # fmt: skip
        top = audit.head(6)
        body += table_html(
            pd.DataFrame(
                {
                    t("Billed"): _date(top["billing_date"]) if "billing_date" in top else "–",
                    t("Material"): top["material_id"].astype(str),
                    t("Qty"): top["quantity"],
                    t("Billed / unit"): top["billed_unit_price"],
                    t("Agreed / unit"): top["agreed_unit_price"],
                    t("Agreed − billed"): top["at_stake"],
                    t("Currency"): top["currency"].astype(str),
                    t("Finding"): top["finding"].map(data_text),
                }
            ),
            formats={t("Qty"): ",.0f", t("Billed / unit"): ",.4g", t("Agreed / unit"): ",.4g",
                     t("Agreed − billed"): ",.0f"},
        )  # fmt: skip
    elif summary is not None and len(summary):
        body += note_html(t("Every invoice line was billed at its agreed price."))
    requests = _slice(card, "price_requests")
    if requests is not None and len(requests):
        live = requests[requests["state"].isin(["open", "expiring", "expired", "active"])]
        if len(live):
            body += note_html(t("Special price requests: open ones, and approved ones by expiry."))
            body += table_html(
                pd.DataFrame(
                    {
                        t("Request"): live["request_id"].astype(str),
                        t("Material"): live["material_id"].astype(str),
                        t("State"): live["state"].map(word),
                        t("Waiting (days)"): live["age_days"],
                        t("Discount granted"): live["discount"].map(fmt.percent),
                        t("Expires"): _date(live["expiry_date"]).fillna("–"),
                        t("Reason"): live["reason"].astype(str),
                    }
                ),
                formats={t("Waiting (days)"): ",.0f"},
                max_rows=8,
            )
    margin = _slice(card, "margin")
    if margin is not None and len(margin):
        monthly = margin.groupby(["currency", "period"], observed=True, as_index=False)[
            ["revenue", "gross_margin"]
        ].sum()
        monthly["margin_pct"] = monthly["gross_margin"] / monthly["revenue"]
        last = monthly.sort_values("period").groupby("currency", observed=True).tail(6)
        body += note_html(t("Gross margin at standard cost, last 6 billing months and by family."))
        body += table_html(
            pd.DataFrame(
                {
                    t("Month"): last["period"].map(fmt.month_year),
                    t("Revenue"): last["revenue"],
                    t("Gross margin"): last["gross_margin"],
                    t("Margin"): last["margin_pct"].map(fmt.percent),
                    t("Currency"): last["currency"].astype(str),
                }
            ),
            formats={t("Revenue"): ",.0f", t("Gross margin"): ",.0f"},
            classes="kam-table kam-print-hide",  # the revenue section's margin chart prints
        )
        fam = margin.groupby(["product_family", "currency"], observed=True, as_index=False)[
            ["revenue", "gross_margin"]
        ].sum()
        fam["margin_pct"] = fam["gross_margin"] / fam["revenue"]
        fam = fam.sort_values("revenue", ascending=False)
        body += table_html(
            fam.rename(columns={"product_family": t("Family"), "currency": t("Currency"),
                                "revenue": t("Revenue"), "gross_margin": t("Gross margin"),
                                "margin_pct": t("Margin")}),
            formats={t("Revenue"): ",.0f", t("Gross margin"): ",.0f", t("Margin"): fmt.percent},
            max_rows=8,
        )  # fmt: skip
    body += note_html(
        fmt.text(
            "Price change against last year, split into price, volume and mix: see Revenue and "
            "volume."
        )
    )
    return Section(title, body)


def _unavailable_note(card: Scorecard, *names: str) -> str:
    missing = sorted(
        {card.analytics.unavailable[n] for n in names if n in card.analytics.unavailable}
    )
    return not_available_html("; ".join(missing)) if missing else ""


# -- pipeline ----------------------------------------------------------------------------------
def pipeline(card: Scorecard) -> Section:
    """Weighted pipeline by start month, win rate and cycle time, RFQs and wins, deals at risk."""
    t = fmt.text
    title = t("Pipeline")
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
        body += note_html(t("Open opportunities by expected start of production (quarter)."))
        body += table_html(
            quarters.rename(columns={"start": t("Start"), "currency": t("Currency"),
                                     "opportunities": t("Opportunities"), "value": t("Value / year"),
                                     "weighted_value": t("× probability")}),
            formats={t("Opportunities"): "d", t("Value / year"): ",.0f", t("× probability"): ",.0f"},
            max_rows=8,
        )  # fmt: skip
        totals = pipe.groupby("currency", observed=True)[["opportunities", "value",
                                                          "weighted_value"]].sum()  # fmt: skip
        body += _facts(
            {
                t("Open opportunities ({currency})", currency=cur): t(
                    "{n} worth {value} a year, {weighted} weighted",
                    n=fmt.count(r.opportunities),
                    value=fmt.money(r.value, str(cur)),
                    weighted=fmt.money(r.weighted_value, str(cur)),
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
            t(
                "Pipeline layer: expected new business per quarter (won projects not yet "
                "started, open opportunities × probability, from their start of production). "
                "Read it on top of the statistical forecast (Demand and forecast); it is never "
                "added into it."
            )
        )
        body += table_html(
            q.rename(columns={"quarter": t("Quarter"), "currency": t("Currency"),
                              "value": t("Expected revenue")}),
            formats={t("Expected revenue"): ",.0f"},
        )  # fmt: skip
    wins = _slice(card, "win_rate")
    months = card.settings.commercial.window_months
    if wins is not None and len(wins):
        body += note_html(
            t(
                "Win rate of the opportunities decided in the last {n} months (open ones have "
                "no outcome yet and are left out).",
                n=fmt.count(months),
            )
        )
        body += table_html(
            pd.DataFrame(
                {
                    t("Type"): wins["type"].astype(str).str.upper(),
                    t("Won"): wins["won"],
                    t("Lost"): wins["lost"],
                    t("Still open"): wins["open"],
                    t("Win rate"): wins["win_rate"].map(fmt.percent),
                    t("Value win rate"): wins["value_win_rate"].map(fmt.percent),
                    t("Days to decide (median)"): wins["cycle_days_median"],
                    t("Currency"): wins["currency"].astype(str),
                }
            ),
            formats={
                t("Won"): "d",
                t("Lost"): "d",
                t("Still open"): "d",
                t("Days to decide (median)"): ",.0f",
            },
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
                t("RFQs and tenders received, last {n} months", n=fmt.count(months)): _against(
                    rfq["rfqs"].sum(), target_rfq
                ),
                t("Orders won, last {n} months", n=fmt.count(months)): _against(
                    rfq["won"].sum(), target_won
                ),
            }
        )
    risk = _slice(card, "pipeline_at_risk")
    if risk is not None and len(risk):
        body += note_html(
            t("Opportunities at risk: the award date has passed or they have not moved.")
        )
        body += table_html(
            pd.DataFrame(
                {
                    t("Opportunity"): risk["opportunity_id"].astype(str),
                    t("Type"): risk["type"].astype(str).str.upper(),
                    t("Stage"): risk["stage"].map(word),
                    t("Why"): risk["reason"].map(data_text),
                    t("Weighted value / year"): risk["at_stake"],
                    t("Currency"): risk["currency"].astype(str),
                }
            ),
            formats={t("Weighted value / year"): ",.0f"},
            max_rows=8,
        )
    return Section(title, body)


# -- projects and lost sales ---------------------------------------------------------------------
def projects(card: Scorecard) -> Section:
    """New-product projects (stage, age in stage, SOP slippage) and the sales lost, with why."""
    t = fmt.text
    title = t("Projects and lost sales")
    if empty := _no_data(title, card, ("npi", "lost_sales"), "NPI projects or lost sales"):
        return empty
    body = ""
    npi = _slice(card, "npi")
    if npi is not None and len(npi):
        body += note_html(
            t(
                "New-product projects: a project in one stage for longer than {days} days is "
                "stalled; slippage is the expected start of production against the first plan.",
                days=fmt.count(card.settings.commercial.stall_days),
            )
        )
        body += table_html(
            pd.DataFrame(
                {
                    t("Project"): npi["opportunity_id"].astype(str),
                    t("Family"): npi["product_family"].astype(str),
                    t("Stage"): npi["stage"].map(word),
                    t("Days in stage"): npi["age_in_stage_days"],
                    t("Planned SOP"): _date(npi["planned_sop_date"]).fillna("–"),
                    t("Expected SOP"): _date(npi["sop_date"]).fillna("–"),
                    t("Slippage (days)"): npi["slippage_days"],
                    t("Value / year"): npi["annual_value"],
                    t("Currency"): npi["currency"].astype(str),
                    t("Flag"): npi["flag"].map(data_text),
                }
            ),
            formats={t("Days in stage"): ",.0f", t("Slippage (days)"): "+,.0f",
                     t("Value / year"): ",.0f"},
            max_rows=10,
        )  # fmt: skip
    elif npi is not None:
        body += note_html(t("No new-product project open for this customer."))
    lost = _slice(card, "lost_sales")
    if lost is not None and len(lost):
        months = card.settings.commercial.window_months
        body += note_html(
            t("Opportunities lost in the last {n} months, biggest first.", n=fmt.count(months))
        )
        body += table_html(
            pd.DataFrame(
                {
                    t("Lost on"): _date(lost["decided_date"]),
                    t("Opportunity"): lost["opportunity_id"].astype(str),
                    t("Type"): lost["type"].astype(str).str.upper(),
                    t("Family"): lost["product_family"].astype(str),
                    t("Value / year"): lost["annual_value"],
                    t("Currency"): lost["currency"].astype(str),
                    t("Reason"): lost["loss_reason"].map(word),
                    t("Competitor"): lost["competitor"].map(word),
                }
            ),
            formats={t("Value / year"): ",.0f"},
            max_rows=10,
        )
    elif lost is not None:
        months = card.settings.commercial.window_months
        body += note_html(t("No opportunity lost in the last {n} months.", n=fmt.count(months)))
    return Section(title, body)


# -- market and competitors (3C) -----------------------------------------------------------------
def market(card: Scorecard) -> Section:
    """Share of business per family, its trend, and the competitors: the 3C table."""
    t = fmt.text
    title = t("Share of business and competitors")
    if empty := _no_data(title, card, ("three_c", "share_of_business", "competitors"),
                         "market estimates"):  # fmt: skip
        return empty
    body = ""
    three = _slice(card, "three_c")
    if three is not None and len(three):
        body += note_html(
            t(
                "3C: company (our sales and share), customer (its purchases and their growth), "
                "competitor (the largest one named). Share shown as unknown where no estimate "
                "exists."
            )
        )
        body += table_html(
            pd.DataFrame(
                {
                    t("Family"): three["product_family"].astype(str),
                    t("Our sales (12 m)"): three["our_sales"],
                    t("Share"): three["share_of_business"].map(fmt.percent),
                    t("Change"): three["change"].map(fmt.points),
                    t("Customer buys (12 m)"): three["total_purchases"],
                    t("Growth"): three["market_growth"].map(fmt.signed_percent),
                    t("Main competitor"): three["main_competitor"].astype(str).replace("nan", "–"),
                    t("Its share"): three["competitor_share"].map(fmt.percent),
                    t("Currency"): three["currency"].astype(str),
                    t("Note"): three["reason"].astype(str).replace("nan", "").map(word),
                }
            ),
            formats={t("Our sales (12 m)"): ",.0f", t("Customer buys (12 m)"): ",.0f"},
            max_rows=10,
        )
    comp = _slice(card, "competitors")
    if comp is not None and len(comp):
        body += note_html(
            t("Competitors at the customer: share at the latest estimate, deals lost to them.")
        )
        body += table_html(
            pd.DataFrame(
                {
                    t("Competitor"): comp["competitor"].astype(str),
                    t("Families"): comp["families"].astype(str).replace("nan", "–"),
                    t("Share"): comp["share"].map(fmt.percent),
                    t("Change"): comp["change"].map(fmt.points),
                    t("Deals lost to them"): comp["lost_to"],
                    t("Value lost / year"): comp["lost_value"],
                    t("Activity seen"): comp["activity"].astype(str).replace(["nan", "None"], "–"),
                }
            ),
            formats={t("Deals lost to them"): "d", t("Value lost / year"): ",.0f"},
            max_rows=8,
        )
    return Section(title, body)


# -- satisfaction ----------------------------------------------------------------------------------
def satisfaction(card: Scorecard) -> Section:
    """Vendor rating trend, issues closed on time, visits and VOC meetings against plan."""
    t = fmt.text
    title = t("Customer satisfaction")
    if empty := _no_data(title, card, ("ratings", "issues", "visits"), "satisfaction data"):
        return empty
    body = ""
    ratings = _slice(card, "ratings")
    if ratings is not None and len(ratings):
        recent = ratings.tail(4)
        body += table_html(
            pd.DataFrame(
                {
                    t("Rating"): recent["period"].astype(str),
                    t("Score"): recent["score"].map(_g) + " / " + recent["scale_max"].map(_g),
                    t("Of best"): recent["score_pct"].map(fmt.percent),
                    t("Change"): recent["change"].map(lambda v: fmt.points(v, digits=1)),
                    t("Rank"): recent["rank"],
                }
            ),
            formats={t("Rank"): lambda v: f"{int(v)}"},
            print_rows=None,  # the trend, oldest first: a whole
        )
        last = ratings.iloc[-1]
        values = {"score": _g(last["score"]), "max": _g(last["scale_max"]),
                  "share": fmt.percent(last["score_pct"])}  # fmt: skip
        if pd.isna(last["rank"]):
            said = t("{score} of {max} ({share})", **values)
        elif "suppliers" in ratings and not pd.isna(last.get("suppliers")):
            said = t("{score} of {max} ({share}), rank {rank} of {suppliers} suppliers",
                     rank=int(last["rank"]), suppliers=int(last["suppliers"]), **values)  # fmt: skip
        else:
            said = t("{score} of {max} ({share}), rank {rank}", rank=int(last["rank"]), **values)
        body += _facts({t("Latest vendor rating ({period})", period=last["period"]): said})
    issues = _slice(card, "issues")
    visits = _slice(card, "visits")
    facts = {}
    if issues is not None and len(issues):
        r = issues.iloc[0]
        facts[t("Complaints closed within {days} days", days=fmt.count(r["target_days"]))] = t(
            "{share} ({on_time} on time, {late} late, {overdue} open and overdue)",
            share=fmt.percent(r["on_time_rate"]),
            on_time=fmt.count(r["closed_on_time"]),
            late=fmt.count(r["closed_late"]),
            overdue=fmt.count(r["overdue"]),
        )
    if visits is not None and len(visits):
        names = VISIT_LABELS
        n = fmt.count(card.settings.commercial.window_months)
        for row in visits.itertuples(index=False):
            label = (
                t(names[str(row.type)], n=n)
                if str(row.type) in names
                else t("{type}, last {n} months", type=str(row.type), n=n)
            )
            said = t(
                "{held} held of {planned} planned ({share})",
                held=fmt.count(row.held),
                planned=fmt.number(row.plan),
                share=fmt.percent(row.vs_plan),
            )
            if row.missed:
                said = t("{visits}, {missed} not held", visits=said, missed=fmt.count(row.missed))
            if not pd.isna(row.next_planned):
                said = t("{visits}; next {day}", visits=said, day=fmt.date(row.next_planned))
            facts[label] = said
    if facts:
        body += _facts(facts)
    body += note_html(t("Complaint counts and PPM: see Service."))
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
