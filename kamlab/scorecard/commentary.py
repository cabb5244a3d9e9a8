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
from kamlab.scorecard.tiles import STATUS_WORDS
from kamlab.scorecard.values import not_available

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

    t = fmt.text
    changes = card.kpi_changes()
    material = changes[changes["material"]] if len(changes) else changes
    state = {"red": STATUS_WORDS["red"], "amber": STATUS_WORDS["amber"],
             "green": STATUS_WORDS["green"]}  # fmt: skip
    for direction, template in (
        ("worse", "{kpi} worsening: {then} in {since} → {now} now, {state}."),
        ("better", "{kpi} improving: {then} in {since} → {now} now, {state}."),
    ):
        for r in material[material["direction"] == direction].itertuples(index=False):
            then = {1: r.m1, 3: r.m3, 6: r.m6}[int(r.months)]
            lines.append(
                t(
                    template,
                    kpi=t(r.name),
                    then=show(r.kpi, then),
                    since=fmt.month_year(card.month - int(r.months)),
                    now=show(r.kpi, r.now),
                    state=t(state.get(r.status, "no target")),
                )
            )
    g = card.growth()
    if g is not None and g["trend"] != "stable":
        growing = g["trend"] == "growing"
        if g["partial"]:
            template = (
                "Growing account: revenue of the last {months} months {growth} on the same "
                "months a year before (the data start in {start}) ({now} vs {before} {currency})."
                if growing
                else "Declining account: revenue of the last {months} months {growth} on the "
                "same months a year before (the data start in {start}) ({now} vs {before} "
                "{currency})."
            )
        else:
            template = (
                "Growing account: revenue of the last {months} months {growth} on the 12 months "
                "before ({now} vs {before} {currency})."
                if growing
                else "Declining account: revenue of the last {months} months {growth} on the 12 "
                "months before ({now} vs {before} {currency})."
            )
        lines.append(
            t(
                template,
                months=fmt.count(g["months"]),
                growth=fmt.percent(g["growth"], signed=True),
                start=fmt.month_year(card.analytics.first_month),
                now=fmt.short_amount(g["now"]),
                before=fmt.short_amount(g["last_year"]),
                currency=cur,
            )
        )
        if g["trend"] == "declining":
            actions.append(
                t("ask why orders are falling: lost business, a competitor or destocking")
            )
        else:
            actions.append(t("secure capacity and supply for the growth; agree a new forecast"))

    # the headline tiles in their fixed order (Scorecard.headline_tiles)
    tiles = card.headline_tiles()
    otif, _, budget, overdue, credit, dso = tiles
    moved = set(material["kpi"]) if len(material) else set()
    moved_tiles = {i for kpi, i in _TILE_OF.items() if kpi in moved}
    for i, tile in enumerate(tiles):
        if tile.status == "red" and i not in moved_tiles:
            lines.append(
                t(
                    "Off target: {kpi} {value} ({target}).",
                    kpi=tile.label,
                    value=tile.value,
                    target=tile.target,
                )  # fmt: skip
            )

    lines += finding_lines(card)  # commercial, supply and month-after-month findings

    if otif.status == "red":
        actions.append(
            t(
                "review the late and short deliveries behind OTIF {value} with logistics",
                value=otif.value,
            )  # fmt: skip
        )
    if credit.target == t("no credit limit set"):
        actions.append(t("agree a credit limit with finance: none is set"))
    elif credit.status == "red":
        actions.append(
            t("credit utilisation {value}: agree payment or a limit review", value=credit.value)
        )
    if overdue.status == "red" or dso.status == "red":
        actions.append(
            t("chase the top overdue invoices (receivables section) and agree a payment plan")
        )
    if budget.status == "red":
        actions.append(
            t(
                "explain the revenue gap to plan ({value} YTD) and update the outlook",
                value=budget.value,
            )  # fmt: skip
        )

    n_late = card.overdue_actions()
    if n_late:
        actions.append(
            t(
                "report on the {n} agreed action past due (open actions section)"
                if n_late == 1
                else "report on the {n} agreed actions past due (open actions section)",
                n=fmt.count(n_late),
            )
        )

    actions += [t(ACTIONS[k]) for k in _kinds(card) if k in ACTIONS]
    focus = card.focused_challenges()
    if len(focus):
        from kamlab.scorecard.challenges import _months_text, reason_text

        top = focus.iloc[0]
        total = focus.groupby("currency")["value_at_stake"].sum()
        money = ", ".join(f"{fmt.short_amount(v)} {c}" for c, v in total.items())
        lines.append(
            t(
                "Customer forecast to challenge: {n} materials, {amount} at stake; largest "
                "{material} ({months}): {reason}.",
                n=fmt.count(len(focus)),
                amount=money,
                material=top["material_id"],
                months=_months_text(top["months"]),
                reason=reason_text(str(top["reason"])),
            )
        )
        actions.append(
            t(
                "challenge the forecast of {material} and the other listed materials",
                material=top["material_id"],
            )  # fmt: skip
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
                t(
                    "Phase-out material(s) still forecast by the customer: {materials}; agree a "
                    "last-time buy and what happens to the stock.",
                    materials=mats,
                )
            )
    bias = card._slice(card.analytics.bias)
    if bias is not None and len(bias) and bias["alert"].any():
        alerts = bias[bias["alert"]]
        over = int((alerts["direction"] == "over-forecast").sum())
        under = len(alerts) - over
        template = (
            "The customer persistently over-forecasts {n} of {total} materials (forecast "
            "accuracy section)."
            if over >= under
            else "The customer persistently under-forecasts {n} of {total} materials (forecast "
            "accuracy section)."
        )
        if max(over, under) >= max(2, 0.2 * len(bias)):  # a pattern, not one material
            lines.append(t(template, n=fmt.count(max(over, under)), total=fmt.count(len(bias))))

    classes = card._slice(card.analytics.classes)
    if classes is not None and set(classes["when"]) >= {"now", "year_ago"}:
        by_when = classes.set_index("when")
        before, now = by_when.at["year_ago", "abc_class"], by_when.at["now", "abc_class"]
        if pd.notna(before) and pd.notna(now) and before != now:
            lines.append(
                t(
                    "The account moved from class {before} to {now} by revenue since last year.",
                    before=before,
                    now=now,
                )
            )

    said = not_available("\0").split("\0")[0]  # "not available: " in the active language
    for tile in tiles:
        if tile.status == "grey" and tile.note.startswith(said):
            lines.append(t("{kpi}: {note}.", kpi=tile.label, note=tile.note))
    if not lines:
        lines.append(t("No material change this month; every headline KPI with a target is met."))
    if actions:
        lines.append(t("Actions: {actions}.", actions="; ".join(actions)))
    else:
        lines.append(t("Actions: none beyond the regular review."))
    return lines


#: the headline tile (position in Scorecard.headline_tiles) of each KPI of kpi_changes
_TILE_OF = {"otif": 0, "overdue": 3, "credit": 4, "dso": 5}


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
