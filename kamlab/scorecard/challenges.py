"""The scorecard's forecast challenge list: the customer's forecast lines worth a question,
one per material, material in money (:func:`kamlab.accuracy.challenge.focus_challenges`)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import pandas as pd

from kamlab.chain import PackAnalytics
from kamlab.i18n import formats as fmt
from kamlab.i18n.challenge import say
from kamlab.scorecard.render import Section, note_html, table_html
from kamlab.scorecard.values import unavailable_section

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["focused", "section"]

# id(analytics) -> (weak reference to the analytics, options, the portfolio's challenge list)
_FOCUS: dict[int, tuple[weakref.ref, dict, pd.DataFrame]] = {}


def _portfolio_focus(analytics: PackAnalytics, **options) -> pd.DataFrame:
    """:func:`~kamlab.accuracy.challenge.focus_challenges` of the whole portfolio, once per
    analytics: it works per customer, so a customer's lines are its rows of this (the same
    frame as a call on the customer's figures, tested). Once is 0.3 s at 200 customers; a
    call per customer is 35 ms, in every scorecard and twice more for the priorities."""
    from kamlab.accuracy.challenge import focus_challenges

    key = id(analytics)
    hit = _FOCUS.get(key)
    if hit is not None and hit[0]() is analytics and hit[1] == options:
        return hit[2]
    whole = focus_challenges(analytics.challenges, materials=analytics.materials, **options)
    _FOCUS[key] = (weakref.ref(analytics, lambda _, key=key: _FOCUS.pop(key, None)), options, whole)
    return whole


def focused(card: Scorecard) -> pd.DataFrame:
    """The challenge lines for the page: one per material, material in money, at most N."""
    from kamlab.accuracy.challenge import focus_challenges

    s = card.settings.accuracy
    options = {"max_lines": s.challenge_max_lines, "min_value": s.challenge_min_value}
    mine = card._slice(card.analytics.challenges)
    if mine is None or mine.empty:  # the empty list, as focus_challenges shapes it
        return focus_challenges(mine, materials=card.analytics.materials, **options)
    # this customer's lines of the portfolio's list (per customer by definition)
    whole = _portfolio_focus(card.analytics, **options)
    focus = card._slice(whole)
    hidden = whole.attrs["hidden"]
    focus.attrs = {"hidden": {k: v for k, v in hidden.items() if k == card.customer_id}}
    return focus


def section(card: Scorecard) -> Section:
    """The customer's forecast lines worth a question: one per material, material in money."""
    title = "Forecast challenge list"
    if missing := unavailable_section(title, card.analytics, "challenges"):
        return missing
    for table in ("customer_forecasts", "orders"):
        if why := card.absent(table):
            return Section(
                title, note_html(f"Not available: {why}.", kind="unavailable"), status="empty"
            )
    top = card.focused_challenges()
    flagged = card._slice(card.analytics.challenges)
    s = card.settings.accuracy
    margin = fmt.percent(s.challenge_margin)
    gate = note_html(say("gate_note", months=s.track_record_months, margin=margin))
    theirs = _not_challenged(flagged)
    if top.empty:
        ours = int((flagged["verdict"] == "challenge").sum()) if "verdict" in flagged else 0
        if flagged.empty:
            text = say("nothing_flagged")
        elif ours == 0 and "verdict" in flagged:
            text = say("nothing_better", flagged=fmt.count(len(flagged)), margin=margin)
        else:
            text = say(
                "nothing_material",
                flagged=fmt.count(len(flagged)),
                ours=fmt.count(ours),
                min_value=fmt.number(s.challenge_min_value),
            )
        return Section(title, note_html(text) + theirs + (gate if len(flagged) else ""))
    record = top.apply(_record_text, axis=1) if len(top) else pd.Series(dtype="string")
    why = (
        top["reason"].astype(str)
        + record
        + top["context"].fillna("").map(lambda c: f". {c[0].upper()}{c[1:]}" if c else "")
    )
    table = pd.DataFrame(
        {
            "Material": top["material_id"].astype(str)
            + " "
            + top["description"].fillna("").astype(str),
            "Months flagged": top["months"],
            "Customer forecast": top["customer_forecast"],
            "Our forecast": top["statistical_forecast"],
            "Combined": top["combined_forecast"],
            f"Value at stake ({', '.join(sorted(set(top['currency'])))})": top["value_at_stake"],
            "Why (largest month)": why,
        }
    )
    body = table_html(
        table,
        formats={
            c: ",.0f"
            for c in table.columns
            if c not in ("Material", "Months flagged", "Why (largest month)")
        },
        print_rows=None,  # already focused (at most challenge_max_lines): all of it prints
    )
    hidden = int(top.attrs.get("hidden", {}).get(card.customer_id, 0))
    body += note_html(
        f"One line per material (its flagged months summed), at most {s.challenge_max_lines}, "
        f"each {s.challenge_min_value:,.0f} or more at stake; {hidden} smaller or duplicate "
        "figures are in the workbook's full challenge list. Combined: the two forecasts "
        "weighted by their track record."
    )
    return Section(title, body + theirs + gate)


def _record_text(line: pd.Series) -> str:
    """ "; our forecast has been closer 9 of the last 12 months, 1 month ahead" for a line
    whose track record was checked; "" otherwise."""
    wins, months = line.get("closer_statistical"), line.get("record_months")
    if pd.isna(wins) or pd.isna(months):
        return ""
    text = "; " + say(
        "closer_ours",
        wins=int(wins),
        months=int(months),
        ahead=say("ahead", lag=int(line["record_lag"])),
    )
    if line.get("record_level") == "family":
        text += say("family_basis")
    return text


def _not_challenged(flagged: pd.DataFrame | None, shown: int = 5) -> str:
    """A note naming the materials not challenged because the customer's record is better."""
    from kamlab.accuracy.challenge import customer_better

    if flagged is None or flagged.empty:
        return ""
    better = customer_better(flagged)
    if better.empty:
        return ""
    names = [
        f"{r.material_id} ("
        + say(
            "closer_theirs",
            wins=int(r.closer_customer),
            months=int(r.record_months),
            ahead=say("ahead", lag=int(r.record_lag)),
        )
        + ")"
        for r in better.head(shown).itertuples()
    ]
    listed = "; ".join(names)
    if len(better) > shown:
        listed = say("not_challenged_more", shown=listed, more=len(better) - shown)
    return note_html(say("not_challenged", materials=listed))
