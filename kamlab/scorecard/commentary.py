"""Plain-language commentary: what changed this month and what the KAM should do about it.

Sentences are assembled from figures the scorecard shows (the tiles and their trends, the
revenue chart, the focused challenge list, the receivables section); nothing here computes
a KPI. Order: material changes (worse first, then better), growing or declining revenue,
what is off target without having moved, and last the actions to take.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["ACTIONS", "commentary", "finding_lines"]

#: findings the tiles do not already speak for: commercial, supply and the month-after-month
#: trends (kamlab.findings kinds); red and amber ones, and notes of these kinds
_OWN_LINES = {"dso_worsening", "paying_later", "otif_falling", "price_realisation_falling",
              "open_complaints"}  # fmt: skip
_NOTE_KINDS = {"lost_deals"}  # said even without a colour: who won the business

#: what to do about a finding (the commentary's actions), one per kind
ACTIONS = {
    "expired_special_price": "stop billing the expired special price and recover the difference",
    "billed_below_agreement": "correct the prices billed below the agreement with billing",
    "price_record_error": "have the price condition record corrected (price unit)",
    "npi_stalled": "agree the next NPI step and a realistic SOP date with the customer",
    "lost_deals": "debrief the lost deals: what did the competitor offer?",
    "paying_later": "ask why payments come later each month before it becomes overdue",
    "phase_out_exposure": "agree a last-time buy or sell-off for the phase-out stock",
    "margin_erosion": "review the mix and prices behind the falling margin",
    "share_falling": "find out where the lost share of business went",
}


def commentary(card: Scorecard) -> list[str]:
    """Short sentences, each traceable to a figure on the page; actions last."""
    lines: list[str] = []
    actions: list[str] = []
    cur = card.currency

    def show(kpi: str, value: float) -> str:
        return fmt.days(value) if kpi == "dso" else fmt.percent(value)

    changes = card.kpi_changes()
    material = changes[changes["material"]] if len(changes) else changes
    for direction, verb in (("worse", "worsening"), ("better", "improving")):
        for r in material[material["direction"] == direction].itertuples(index=False):
            since = (card.month - int(r.months)).strftime("%b %Y")
            then = {1: r.m1, 3: r.m3, 6: r.m6}[int(r.months)]
            state = {"red": "off target", "amber": "near target", "green": "on target"}
            lines.append(
                f"{r.name} {verb}: {show(r.kpi, then)} in {since} → {show(r.kpi, r.now)} now, "
                f"{state.get(r.status, 'no target')}."
            )
    g = card.growth()
    if g is not None and g["trend"] != "stable":
        word = "Growing" if g["trend"] == "growing" else "Declining"
        before = (
            f"the same months a year before (the data start in "
            f"{fmt.month_year(card.analytics.first_month)})"
            if g["partial"]
            else "the 12 months before"
        )
        lines.append(
            f"{word} account: revenue of the last {g['months']} months "
            f"{fmt.percent(g['growth'], signed=True)} on {before} "
            f"({fmt.short_amount(g['now'])} vs {fmt.short_amount(g['last_year'])} {cur})."
        )
        if g["trend"] == "declining":
            actions.append("ask why orders are falling: lost business, a competitor or destocking")
        else:
            actions.append("secure capacity and supply for the growth; agree a new forecast")

    moved = set(material["name"]) if len(material) else set()
    moved = {{"DSO": "Days sales", "Overdue share": "Overdue"}.get(m, m) for m in moved}
    tiles = card.headline_tiles()
    for t in tiles:
        if t.status == "red" and not any(t.label.startswith(m) for m in moved):
            lines.append(f"Off target: {t.label} {t.value} ({t.target}).")

    lines += finding_lines(card)  # commercial, supply and month-after-month findings

    by = {t.label: t for t in tiles}
    otif = next((t for label, t in by.items() if label.startswith("OTIF")), None)
    if otif is not None and otif.status == "red":
        actions.append(
            f"review the late and short deliveries behind OTIF {otif.value} with logistics"
        )
    credit = next((t for label, t in by.items() if label.startswith("Credit")), None)
    if credit is not None and credit.target == "no credit limit set":
        actions.append("agree a credit limit with finance: none is set")
    elif credit is not None and credit.status == "red":
        actions.append(f"credit utilisation {credit.value}: agree payment or a limit review")
    overdue = next((t for label, t in by.items() if label.startswith("Overdue")), None)
    dso = next((t for label, t in by.items() if label.startswith("Days sales")), None)
    if (overdue is not None and overdue.status == "red") or (
        dso is not None and dso.status == "red"
    ):
        actions.append(
            "chase the top overdue invoices (receivables section) and agree a payment plan"
        )
    budget = next((t for label, t in by.items() if label.startswith("Revenue vs budget")), None)
    if budget is not None and budget.status == "red":
        actions.append(
            f"explain the revenue gap to plan ({budget.value} YTD) and update the outlook"
        )

    n_late = card.overdue_actions()
    if n_late:
        actions.append(
            f"report on the {n_late} agreed action{'s' if n_late > 1 else ''} past due "
            "(open actions section)"
        )

    actions += [ACTIONS[k] for k in _kinds(card) if k in ACTIONS]
    focus = card.focused_challenges()
    if len(focus):
        top = focus.iloc[0]
        total = focus.groupby("currency")["value_at_stake"].sum()
        money = ", ".join(f"{fmt.short_amount(v)} {c}" for c, v in total.items())
        lines.append(
            f"Customer forecast to challenge: {len(focus)} materials, {money} at stake; largest "
            f"{top['material_id']} ({top['months']}): {top['reason']}."
        )
        actions.append(
            f"challenge the forecast of {top['material_id']} and the other listed materials"
        )
    # a phase-out material the customer still forecasts is a question of its end of life, not
    # of whose forecast has been closer: said whatever the track-record gate decided
    flagged = card._slice(card.analytics.challenges)
    if flagged is not None and len(flagged):
        life = card.analytics.materials.set_index("material_id")["lifecycle"].astype("string")
        phase_out = flagged[flagged["material_id"].map(life).eq("phase-out").fillna(False)]
        if len(phase_out):
            mats = ", ".join(phase_out["material_id"].astype(str).drop_duplicates().head(3))
            lines.append(
                f"Phase-out material(s) still forecast by the customer: {mats}; agree a last-time "
                "buy and what happens to the stock."
            )
    bias = card._slice(card.analytics.bias)
    if bias is not None and len(bias) and bias["alert"].any():
        alerts = bias[bias["alert"]]
        over = int((alerts["direction"] == "over-forecast").sum())
        under = len(alerts) - over
        side = "over-forecasts" if over >= under else "under-forecasts"
        if max(over, under) >= max(2, 0.2 * len(bias)):  # a pattern, not one material
            lines.append(
                f"The customer persistently {side} {max(over, under)} of {len(bias)} materials "
                "(forecast accuracy section)."
            )

    classes = card._slice(card.analytics.classes)
    if classes is not None and set(classes["when"]) >= {"now", "year_ago"}:
        by_when = classes.set_index("when")
        before, now = by_when.at["year_ago", "abc_class"], by_when.at["now", "abc_class"]
        if pd.notna(before) and pd.notna(now) and before != now:
            lines.append(
                f"The account moved from class {before} to {now} by revenue since last year."
            )

    missing = [t for t in tiles if t.status == "grey" and t.note.startswith("not available")]
    for t in missing:
        lines.append(f"{t.label}: {t.note}.")
    if not lines:
        lines.append("No material change this month; every headline KPI with a target is met.")
    if actions:
        lines.append("Actions: " + "; ".join(actions) + ".")
    else:
        lines.append("Actions: none beyond the regular review.")
    return lines


def _mine(card: Scorecard) -> pd.DataFrame:
    f = card._slice(getattr(card.analytics, "findings", None))
    if f is None or f.empty:
        return pd.DataFrame(columns=["kind", "group", "severity"])
    listed = f["group"].isin(["commercial", "supply"]) | f["kind"].isin(_OWN_LINES)
    shown = f["severity"].isin(["red", "amber"]) | f["kind"].isin(_NOTE_KINDS)
    return f[listed & shown]


def _kinds(card: Scorecard) -> list[str]:
    return list(dict.fromkeys(_mine(card)["kind"].astype(str)))


def finding_lines(card: Scorecard) -> list[str]:
    """The customer's commercial, supply and trend findings as sentences (same table as the
    index, :mod:`kamlab.findings`)."""
    from kamlab.scorecard.reasons import sentence

    return [sentence(r, card.currency) for r in _mine(card).to_dict("records")]
