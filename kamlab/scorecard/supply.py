"""Supply sections of the scorecard, and the supply frames the pack and index use.

Each section function takes a :class:`~kamlab.scorecard.Scorecard` and returns a
:class:`~kamlab.scorecard.render.Section`; a notebook cell calls one. Every number comes from
the inventory fields of :class:`~kamlab.chain.PackAnalytics` (``kamlab.inventory``); a pack
without stock data shows "no data". Money is at cost, in the stock's currency, and a
customer's part of shared stock is its share of the material's demand
(:mod:`kamlab.inventory.customers`).

Frames for other parts of the pack: :func:`safety_stock_proposals` (a pack.xlsx sheet: the
SAP values to change), :func:`supply_at_stake` (customer_id, currency, amount, kind: for the
index priority), :func:`material_context` (lifecycle, stock and end of life per material:
for the challenge list).
"""

from __future__ import annotations

import math

import pandas as pd

from kamlab.chain import PackAnalytics
from kamlab.i18n import formats as fmt
from kamlab.scorecard.render import Section, note_html, table_html
from kamlab.scorecard.values import data_text, word

__all__ = [
    "capacity_allocation",
    "material_context",
    "phase_in_out",
    "portfolio_supply",
    "safety_stock",
    "safety_stock_proposals",
    "stock_health",
    "supply_at_stake",
]

_STAKE = ["customer_id", "currency", "amount", "kind"]


def _no_data(title: str, analytics: PackAnalytics, *names: str) -> Section | None:
    reasons = sorted({analytics.unavailable[n] for n in names if n in analytics.unavailable})
    if any(getattr(analytics, n, None) is None for n in names) and not reasons:
        reasons = [fmt.text("the inventory step did not run")]
    if not reasons:
        return None
    return Section(
        title,
        note_html(fmt.text("No data: {why}.", why="; ".join(reasons)), kind="unavailable"),
        status="unavailable",
    )


def _mine(card, frame: pd.DataFrame) -> pd.DataFrame:
    return card._slice(frame)


def _names(card) -> pd.Series:
    return card.analytics.materials.set_index("material_id")["description"]


def _material(card, ids: pd.Series) -> pd.Series:
    return ids.astype(str) + " " + ids.map(_names(card)).fillna("").astype(str)


def _months(value: object) -> str:
    """Coverage in months; infinite coverage is stated, not hidden."""
    if value is None or pd.isna(value):
        return "–"
    if math.isinf(float(value)):
        return fmt.text("never used up (no forecast)")
    if float(value) > 60:
        return fmt.text("over 5 years")
    return fmt.current().number(value, digits=1)


def _share(value: float) -> str:
    """A setting's share as the sentence shows it: "95%" ("95 %" in de)."""
    return f"{value:.0%}" if fmt.current().english else fmt.percent(value)


def _money(amounts: pd.DataFrame) -> str:
    """'12,300 EUR, 800 USD' (one figure per currency, never added across)."""
    per = amounts.groupby("currency", observed=True)["amount"].sum()
    return ", ".join(f"{fmt.number(v)} {c}" for c, v in per.items() if v > 0) or fmt.text("none")


def stock_health(card) -> Section:
    """The customer's part of the stock of what it buys: deadstock, overstock, slow movers,
    coverage against our and its own forecast, and the money at stake."""
    t = fmt.text
    title = t("Stock health")
    a = card.analytics
    if missing := _no_data(title, a, "customer_stock", "supply_at_stake"):
        return missing
    stock = _mine(card, a.customer_stock)
    if stock.empty:
        return Section(
            title,
            note_html(t("No stock is held for the materials this customer buys.")),
            status="empty",
        )
    stake = _mine(card, a.supply_at_stake)
    held = stock.assign(amount=stock["stock_value"])
    body = note_html(
        t(
            "Stock held for this customer's materials (its share of their demand): {amount} at "
            "cost, over {n} materials.",
            amount=_money(held),
            n=fmt.count(stock["material_id"].nunique()),
        )
    )
    if len(stake):
        body += table_html(
            stake.pivot_table(index="kind", columns="currency", values="amount", aggfunc="sum")
            .reset_index()
            .pipe(lambda f: f.assign(kind=f["kind"].map(data_text)))
            .rename(columns={"kind": t("Money at stake")}),
            formats={c: ",.0f" for c in stake["currency"].unique()},
        )
        body += note_html(
            t(
                "Kinds overlap (a phase-out's surplus is also overstock): read them side by "
                "side, do not add them."
            )
        )
    counts = stock["status"].astype(str).value_counts()
    body += note_html(
        t(
            "Materials by status: {deadstock} deadstock, {overstock} overstock, {slow} slow "
            "mover, {healthy} healthy.",
            deadstock=fmt.count(counts.get("deadstock", 0)),
            overstock=fmt.count(counts.get("overstock", 0)),
            slow=fmt.count(counts.get("slow mover", 0)),
            healthy=fmt.count(counts.get("healthy", 0)),
        )
    )
    worst = stock[stock["excess_value"] > 0].sort_values("excess_value", ascending=False).head(8)
    if len(worst):
        body += table_html(
            pd.DataFrame(
                {
                    t("Material"): _material(card, worst["material_id"]),
                    t("Plant"): worst["plant"].astype(str),
                    t("Status"): worst["status"].map(word),
                    t("Months (our forecast)"): worst["coverage_statistical"],
                    t("Months (customer's)"): worst["coverage_customer"],
                    t("Excess (share)"): worst["excess_value"],
                    t("Currency"): worst["currency"].astype(str),
                }
            ),
            formats={
                t("Months (our forecast)"): _months,
                t("Months (customer's)"): _months,
                t("Excess (share)"): ",.0f",
            },
        )
    return Section(title, body)


def phase_in_out(card) -> Section:
    """Phase-out materials this customer buys: stock and open supply against the demand left
    until end of life, the deadstock at risk and the proposal; and successors' ramp-up."""
    t = fmt.text
    title = t("Phase in / phase out")
    a = card.analytics
    if missing := _no_data(title, a, "customer_phase_out", "phase_in"):
        return missing
    pipo = _mine(card, a.customer_phase_out)
    body = ""
    if pipo.empty:
        body += note_html(t("This customer buys no material that is being phased out."))
    else:
        at_risk = pipo.assign(amount=pipo["customer_at_risk"])
        body += note_html(
            t(
                "{n} phase-out materials; this customer's share of the deadstock at risk: "
                "{amount}.",
                n=fmt.count(len(pipo)),
                amount=_money(at_risk),
            )
        )
        top = pipo.head(10)
        body += table_html(
            pd.DataFrame(
                {
                    t("Material"): _material(card, top["material_id"]),
                    t("End of life"): top["end_of_life"].map(fmt.month_year),
                    t("Stock + on order"): top["supply"],
                    t("Demand left (ours)"): top["remaining_demand"],
                    t("Demand left (customers')"): top["remaining_customer"],
                    t("At risk (share)"): top["customer_at_risk"],
                    t("Currency"): top["currency"].astype(str),
                    t("Proposal"): top["proposal"].map(data_text),
                    t("Note"): top["note"].map(data_text),
                }
            ),
            formats={
                t("Stock + on order"): ",.0f",
                t("Demand left (ours)"): ",.0f",
                t("Demand left (customers')"): ",.0f",
                t("At risk (share)"): ",.0f",
            },
        )
    bought = set(
        a.supply_shares.loc[a.supply_shares["customer_id"] == card.customer_id, "material_id"]
    )
    ramps = a.phase_in[a.phase_in["material_id"].isin(bought) & (a.phase_in["status"] != "in step")]
    if len(ramps):
        body += note_html(t("Successors whose start does not meet the predecessor's run-down:"))
        body += table_html(
            pd.DataFrame(
                {
                    t("Predecessor"): _material(card, ramps["material_id"]),
                    t("Successor"): _material(card, ramps["successor_material_id"]),
                    t("Starts"): ramps["start_of_production"].map(fmt.month_year),
                    t("Runs out"): ramps["run_out"].map(
                        lambda p: t("after 2 years") if pd.isna(p) else str(p)
                    ),
                    t("Status"): ramps["status"].map(data_text),
                    t("Gap (months)"): ramps["gap_months"],
                    t("Double stock"): ramps["double_stock_value"],
                    t("Currency"): ramps["currency"].astype(str),
                }
            ),
            formats={t("Double stock"): ",.0f", t("Gap (months)"): "d"},
        )
    return Section(title, body)


def safety_stock(card) -> Section:
    """Safety stocks in SAP against what the service level needs (PFEP), for this customer's
    materials: the changes to make and the money they free or protect."""
    t = fmt.text
    title = t("Safety stock (PFEP)")
    a = card.analytics
    if missing := _no_data(title, a, "safety_stock", "supply_shares"):
        return missing
    bought = a.supply_shares.loc[a.supply_shares["customer_id"] == card.customer_id, "material_id"]
    mine = a.safety_stock[a.safety_stock["material_id"].isin(set(bought))]
    change = mine[mine["propose"]]
    s = a.settings.inventory
    level = s.cycle_service_level if s.service_measure == "cycle" else s.fill_rate
    template = (
        "Target cycle service level {level}. {n} of {total} materials this customer buys have "
        "a safety stock in SAP more than {tolerance} off what it needs (tied up: SAP holds "
        "more; at risk: the cover missing)."
        if s.service_measure == "cycle"
        else "Target fill rate {level}. {n} of {total} materials this customer buys have a "
        "safety stock in SAP more than {tolerance} off what it needs (tied up: SAP holds more; "
        "at risk: the cover missing)."
    )
    body = note_html(
        t(
            template,
            level=_share(level),
            n=fmt.count(len(change)),
            total=fmt.count(len(mine)),
            tolerance=_share(s.safety_stock_tolerance),
        )
    )
    if len(change):
        top = change.assign(_money=change["money_tied_up"] + change["money_at_risk"])
        top = top.sort_values("_money", ascending=False).head(10)
        body += table_html(
            pd.DataFrame(
                {
                    t("Material"): _material(card, top["material_id"]),
                    t("Plant"): top["plant"].astype(str),
                    t("SAP"): top["sap_safety_stock"],
                    t("Needed"): top["recommended_safety_stock"],
                    t("Reorder point"): top["recommended_reorder_point"],
                    t("Tied up"): top["money_tied_up"],
                    t("At risk"): top["money_at_risk"],
                    t("Currency"): top["currency"].astype(str),
                    t("How"): top["method"]
                    .where(
                        top["sigma_basis"] == "", top["method"] + " (" + top["sigma_basis"] + ")"
                    )
                    .map(data_text),
                }
            ),
            formats={
                t("SAP"): ",.0f",
                t("Needed"): ",.0f",
                t("Reorder point"): ",.0f",
                t("Tied up"): ",.0f",
                t("At risk"): ",.0f",
            },
        )
    return Section(title, body)


def capacity_allocation(card) -> Section:
    """Capacity allocated to this customer against its forecast demand, month by month, and
    the months where more is promised than can be made."""
    t = fmt.text
    title = t("Capacity allocation")
    a = card.analytics
    if missing := _no_data(title, a, "allocation", "capacity_load"):
        return missing
    mine = _mine(card, a.allocation)
    if mine.empty:
        return Section(
            title, note_html(t("No capacity is allocated to this customer.")), status="empty"
        )
    flagged = mine[mine["flag"] != "in line"]
    what = _material(card, mine["material_id"]).where(
        mine["material_id"].notna(), "family " + mine["product_family"].astype(str)
    )
    over = a.capacity_load[a.capacity_load["over_booked"]]
    over = over[over["material_id"].isin(set(mine["material_id"].dropna()))]
    tol = a.settings.inventory.allocation_tolerance
    body = note_html(
        t(
            "{n} of {total} allocations are more than {tolerance} off the forecast demand "
            "({over} over, {under} under).",
            n=fmt.count(len(flagged)),
            total=fmt.count(len(mine)),
            tolerance=_share(tol),
            over=fmt.count((mine["flag"] == "over-allocated").sum()),
            under=fmt.count((mine["flag"] == "under-allocated").sum()),
        )
    )
    if len(over):
        body += note_html(
            t(
                "Over-booked: {months}.",
                months="; ".join(
                    t(
                        "{material} in {month}: {allocated} allocated against a capacity of "
                        "{capacity}",
                        material=m,
                        month=p,
                        allocated=fmt.number(al),
                        capacity=fmt.number(c),
                    )
                    for m, p, al, c in zip(
                        over["material_id"],
                        over["period"].astype(str),
                        over["allocated"],
                        over["capacity"],
                        strict=True,
                    )
                ),
            ),
            kind="warning",
        )
    if len(flagged):
        top = flagged.assign(_what=what[flagged.index]).sort_values(["flag", "period"]).head(12)
        body += table_html(
            pd.DataFrame(
                {
                    t("Material"): top["_what"],
                    t("Month"): top["period"].astype(str),
                    t("Allocated"): top["allocated"],
                    t("Forecast"): top["forecast"],
                    t("Flag"): top["flag"].map(word),
                }
            ),
            formats={t("Allocated"): ",.0f", t("Forecast"): ",.0f"},
        )
    return Section(title, body)


def portfolio_supply(analytics: PackAnalytics) -> Section:
    """Portfolio view: money at stake by customer and kind, the phase-outs with the most
    deadstock at risk, and how many safety stocks to change in SAP."""
    title = "Stock, phase-outs and safety stocks"
    names = ("supply_at_stake", "phase_out", "safety_stock")
    if missing := _no_data(title, analytics, *names):
        return missing
    stake = analytics.supply_at_stake
    body = ""
    if len(stake):
        wide = stake.pivot_table(
            index=["customer_id", "currency"], columns="kind", values="amount", aggfunc="sum"
        ).fillna(0.0)
        wide = wide.sort_values(list(wide.columns), ascending=False).head(10).reset_index()
        who = analytics.customers.set_index("customer_id")["name"]
        wide.insert(1, "name", wide["customer_id"].map(who))
        kinds = [c for c in wide.columns if c not in ("customer_id", "name", "currency")]
        wide = wide.rename(
            columns={"customer_id": "Customer", "name": "Name", "currency": "Currency"}
        )
        body += note_html("Money at stake at cost, by customer (its share of shared stock):")
        body += table_html(wide, formats=dict.fromkeys(kinds, ",.0f"), max_rows=10)
    pipo = analytics.phase_out[analytics.phase_out["deadstock_at_risk"] > 0].head(8)
    if len(pipo):
        materials = analytics.materials.set_index("material_id")["description"]
        body += note_html("Phase-outs with the most deadstock at risk:")
        body += table_html(
            pd.DataFrame(
                {
                    "Material": pipo["material_id"].astype(str)
                    + " "
                    + pipo["material_id"].map(materials).fillna("").astype(str),
                    "End of life": pipo["end_of_life"].dt.strftime("%b %Y"),
                    "At risk": pipo["deadstock_at_risk"],
                    "Currency": pipo["currency"].astype(str),
                    "Proposal": pipo["proposal"],
                }
            ),
            formats={"At risk": ",.0f"},
        )
    changes = safety_stock_proposals(analytics)
    body += note_html(
        f"{len(changes)} safety stocks to change in SAP (the workbook lists them); "
        f"money tied up {_money(changes.assign(amount=changes['money_tied_up']))}, "
        f"at risk {_money(changes.assign(amount=changes['money_at_risk']))}."
    )
    return Section(title, body)


def safety_stock_proposals(analytics: PackAnalytics) -> pd.DataFrame:
    """The safety stocks to change in SAP, portfolio-wide: one row per material and plant,
    largest money first (a pack.xlsx sheet). Empty without stock data."""
    columns = [
        "material_id",
        "description",
        "plant",
        "sap_safety_stock",
        "recommended_safety_stock",
        "change",
        "sap_reorder_point",
        "recommended_reorder_point",
        "lead_time_months",
        "method",
        "sigma_basis",
        "money_tied_up",
        "money_at_risk",
        "currency",
        "customers",
    ]
    if analytics.safety_stock is None:
        return pd.DataFrame(columns=columns)
    change = analytics.safety_stock[analytics.safety_stock["propose"]]
    buyers = analytics.supply_shares.groupby("material_id")["customer_id"].agg(
        lambda ids: ", ".join(sorted(ids))
    )
    out = change.assign(
        description=change["material_id"].map(
            analytics.materials.set_index("material_id")["description"]
        ),
        customers=change["material_id"].map(buyers).fillna(""),
        _money=change["money_tied_up"] + change["money_at_risk"],
    )
    return out.sort_values("_money", ascending=False)[columns].reset_index(drop=True)


def supply_at_stake(analytics: PackAnalytics) -> pd.DataFrame:
    """Money at stake per customer: customer_id, currency, amount, kind (empty without data)."""
    if analytics.supply_at_stake is None:
        return pd.DataFrame(
            {c: pd.Series(dtype="float64" if c == "amount" else "str") for c in _STAKE}
        )
    return analytics.supply_at_stake[_STAKE]


def material_context(analytics: PackAnalytics) -> pd.DataFrame:
    """Per material: lifecycle, usable stock and end of life (empty without data), to join to
    the challenge list (a phase-out forecast by the customer but not by us, with its stock)."""
    if analytics.material_context is None:
        return pd.DataFrame(
            {
                "material_id": pd.Series(dtype="str"),
                "lifecycle": pd.Series(dtype="str"),
                "stock": pd.Series(dtype="float64"),
                "end_of_life": pd.Series(dtype="datetime64[us]"),
            }
        )
    return analytics.material_context
