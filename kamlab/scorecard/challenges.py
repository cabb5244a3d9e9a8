"""The scorecard's forecast challenge list: the customer's forecast lines worth a question,
one per material, material in money (:func:`kamlab.accuracy.challenge.focus_challenges`)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import pandas as pd

from kamlab.chain import PackAnalytics
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
    if top.empty:
        text = (
            "Nothing to challenge: the customer's latest forecast is within the statistical "
            "range and last year's orders for every material"
            if flagged.empty
            else f"Nothing material to challenge: {len(flagged)} forecast figures deviate, "
            f"none by {s.challenge_min_value:,.0f} or more in value"
        )
        return Section(title, note_html(text + "."))
    why = top["reason"].astype(str) + top["context"].fillna("").map(
        lambda c: f". {c[0].upper()}{c[1:]}" if c else ""
    )
    table = pd.DataFrame(
        {
            "Material": top["material_id"].astype(str)
            + " "
            + top["description"].fillna("").astype(str),
            "Months flagged": top["months"],
            "Customer forecast": top["customer_forecast"],
            "Our forecast": top["statistical_forecast"],
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
        "figures are in the workbook's full challenge list."
    )
    return Section(title, body)
