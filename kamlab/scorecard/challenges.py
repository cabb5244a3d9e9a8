"""The scorecard's forecast challenge list: the customer's forecast lines worth a question,
one per material, material in money (:func:`kamlab.accuracy.challenge.focus_challenges`)."""

from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING

import pandas as pd

from kamlab.chain import PackAnalytics
from kamlab.i18n import current
from kamlab.i18n import formats as fmt
from kamlab.i18n.challenge import say
from kamlab.scorecard.render import Section, note_html, table_html
from kamlab.scorecard.values import not_available_html, unavailable_section

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
    t = fmt.text
    title = t("Forecast challenge list")
    if missing := unavailable_section(title, card.analytics, "challenges"):
        return missing
    for table in ("customer_forecasts", "orders"):
        if why := card.absent(table):
            return Section(title, not_available_html(why), status="empty")
    top = card.focused_challenges()
    flagged = card._slice(card.analytics.challenges)
    s = card.settings.accuracy
    margin = fmt.percent(s.challenge_margin)
    gate = note_html(say("gate_note", months=fmt.count(s.track_record_months), margin=margin))
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
        top["reason"].astype(str).map(reason_text)
        + record
        + pd.Series(
            [_context_text(lc, c) for lc, c in zip(top["lifecycle"], top["context"], strict=True)],
            index=top.index,
            dtype=object,
        )
    )
    words = [t("Material"), t("Months flagged"), t("Why (largest month)")]
    table = pd.DataFrame(
        {
            words[0]: top["material_id"].astype(str)
            + " "
            + top["description"].fillna("").astype(str),
            words[1]: top["months"].map(_months_text),
            t("Customer forecast"): top["customer_forecast"],
            t("Our forecast"): top["statistical_forecast"],
            t("Combined"): top["combined_forecast"],
            t("Value at stake ({currency})", currency=", ".join(sorted(set(top["currency"])))):
                top["value_at_stake"],
            words[2]: why,
        }
    )  # fmt: skip
    body = table_html(
        table,
        formats={c: ",.0f" for c in table.columns if c not in words},
        print_rows=None,  # already focused (at most challenge_max_lines): all of it prints
    )
    hidden = int(top.attrs.get("hidden", {}).get(card.customer_id, 0))
    body += note_html(
        t(
            "One line per material (its flagged months summed), at most {lines}, each "
            "{min_value} or more at stake; {hidden} smaller or duplicate figures are in the "
            "workbook's full challenge list. Combined: the two forecasts weighted by their "
            "track record.",
            lines=fmt.count(s.challenge_max_lines),
            min_value=fmt.number(s.challenge_min_value),
            hidden=fmt.count(hidden),
        )
    )
    return Section(title, body + theirs + gate)


def _record_text(line: pd.Series) -> str:
    """ "; our forecast has been closer 9 of the last 12 months, 1 month ahead" for a line
    whose track record was checked; "" otherwise."""
    wins, months = line.get("closer_statistical"), line.get("record_months")
    if pd.isna(wins) or pd.isna(months):
        return ""
    said = say(
        "closer_ours",
        wins=fmt.count(wins),
        months=fmt.count(months),
        ahead=say("ahead", lag=int(line["record_lag"])),
    )
    if line.get("record_level") == "family":
        said = say("family_basis", record=said)
    return "; " + said


#: the clauses of a challenge line's reason (kamlab.accuracy.challenge writes them in
#: English): each re-said from one template in the active language
_CLAUSES = (
    (re.compile(r"customer forecasts (?P<qty>[\d,.]+) where the statistical forecast is 0"),
     "customer forecasts {quantity} where the statistical forecast is 0"),
    (re.compile(r"customer (?P<pct>[+\-−]?[\d,.]+) % above statistical forecast"),
     "customer {percent} above statistical forecast"),
    (re.compile(r"customer (?P<pct>[+\-−]?[\d,.]+) % below statistical forecast"),
     "customer {percent} below statistical forecast"),
    (re.compile(r"customer forecasts an order where nothing was ordered in the same month last "
                r"year"),
     "customer forecasts an order where nothing was ordered in the same month last year"),
    (re.compile(r"nothing ordered in the same month last year"),
     "nothing ordered in the same month last year"),
    (re.compile(r"(?:customer )?(?P<pct>[+\-−]?[\d,.]+) % vs same month last year"),
     "{percent} vs same month last year"),
)  # fmt: skip
_INTERVAL = re.compile(r"(?P<head>.*) and (?P<side>above|below) the (?P<level>\d+) % interval")
#: what a lifecycle means for a challenged forecast (the line's context), one sentence each
LIFECYCLE_NOTES = {
    "phase-out": "Phase-out material: its demand is planned down to zero; check the customer's "
    "stock and last-time buy before accepting",
    "phase-in": "New material (phase-in): little history, the statistical forecast is a ramp-up "
    "guess; confirm the launch date and volumes",
}


def reason_text(reason: str) -> str:
    """A challenge line's reason in the active language (English: as written)."""
    if current().english or not reason:
        return reason
    return "; ".join(_clause(c) for c in reason.split("; "))


def _clause(clause: str) -> str:
    t = fmt.text
    interval = _INTERVAL.fullmatch(clause)
    head = interval["head"] if interval else clause
    said = head
    for pattern, template in _CLAUSES:
        found = pattern.fullmatch(head)
        if found is None:
            continue
        values = found.groupdict()
        if "qty" in values:
            said = t(template, quantity=fmt.number(float(values["qty"].replace(",", ""))))
        elif "pct" in values:
            v = float(values["pct"].replace("−", "-").replace(",", "")) / 100
            said = t(template, percent=fmt.percent(v, signed=True))
        else:
            said = t(template)
        break
    if interval is None:
        return said
    level = fmt.percent(int(interval["level"]) / 100)
    if interval["side"] == "above":
        return t("{clause} and above the {level} interval", clause=said, level=level)
    return t("{clause} and below the {level} interval", clause=said, level=level)


def _context_text(lifecycle: object, context: object) -> str:
    """ ". <what the lifecycle means>" after a reason, "" without one."""
    if isinstance(lifecycle, str) and lifecycle in LIFECYCLE_NOTES and isinstance(context, str):
        return ". " + fmt.text(LIFECYCLE_NOTES[lifecycle])
    if isinstance(context, str) and context:
        return f". {context[0].upper()}{context[1:]}"
    return ""


def _months_text(months: object) -> str:
    """The flagged months ("Sep 2025, Nov 2025" from the challenge list) in the active
    language's month names."""
    if not isinstance(months, str) or not months:
        return fmt.MISSING if not isinstance(months, str) else months
    try:
        return ", ".join(fmt.month_year(pd.Period(m, "M")) for m in months.split(", "))
    except ValueError:
        return months


def _not_challenged(flagged: pd.DataFrame | None, shown: int = 5) -> str:
    """A note naming the materials not challenged because the customer's record is better."""
    from kamlab.accuracy.challenge import customer_better

    if flagged is None or flagged.empty:
        return ""
    better = customer_better(flagged)
    if better.empty:
        return ""
    names = [
        say(
            "material_record",
            material=r.material_id,
            record=say(
                "closer_theirs",
                wins=fmt.count(r.closer_customer),
                months=fmt.count(r.record_months),
                ahead=say("ahead", lag=int(r.record_lag)),
            ),
        )
        for r in better.head(shown).itertuples()
    ]
    listed = "; ".join(names)
    if len(better) > shown:
        listed = say("not_challenged_more", shown=listed, more=fmt.count(len(better) - shown))
    return note_html(say("not_challenged", materials=listed))
