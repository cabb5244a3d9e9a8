"""Sentences about the forecast challenge and the track record, as templates.

Every sentence is one template with named placeholders (English, a catalog entry of
``locales/<code>/scorecard.po``), so a translation replaces the template, not the code that
fills it. :func:`say` translates one into the active language and fills it; numbers arrive
formatted.

>>> say("closer_ours", wins=9, months=12, ahead=say("ahead", lag=1))
'our forecast has been closer 9 of the last 12 months, 1 month ahead'
>>> say("ahead", lag=3)
'3 months ahead'
"""

from __future__ import annotations

from kamlab.i18n.language import text

__all__ = ["TEMPLATES", "say"]

TEMPLATES: dict[str, str] = {
    "ahead": "{lag} month ahead",
    "ahead_plural": "{lag} months ahead",
    "closer_ours": "our forecast has been closer {wins} of the last {months} months, {ahead}",
    "closer_theirs": (
        "the customer's forecast has been closer {wins} of the last {months} months, {ahead}"
    ),
    "family_basis": "{record} (the record of its product family: its own is short)",
    "material_record": "{material} ({record})",
    "not_challenged": (
        "Not challenged where the customer's own forecast has the better record: {materials}."
    ),
    "not_challenged_more": "{shown}, and {more} more",
    "nothing_flagged": (
        "Nothing to challenge: the customer's latest forecast is within the statistical "
        "range and last year's orders for every material."
    ),
    "nothing_better": (
        "Nothing to challenge: {flagged} forecast figures deviate, but our forecast has not "
        "been better than the customer's by {margin} at those months ahead."
    ),
    "nothing_material": (
        "Nothing material to challenge: {flagged} forecast figures deviate and our record is "
        "better for {ours}, none by {min_value} or more in value."
    ),
    "judgement_intro": (
        "Agreed forecast: the figure agreed with the customer after the challenge, scored "
        "beside the customer's and our forecast on the same {points} figures. Value added: "
        "points of error the agreement saved (positive: the judgement helped)."
    ),
    "judgement_kam_intro": (
        "The agreed forecasts per key account manager: how many points of error the agreed "
        "figure saved over the customer's and over our forecast (positive: the judgement "
        "helped), on the figures all three forecast."
    ),
    "gate_note": (
        "A figure is challenged only where, over the last {months} months, our forecast's "
        "error at that many months ahead was at least {margin} lower than the customer's and "
        "ours was closer in more months."
    ),
}


def say(key: str, /, **values: object) -> str:
    """The template `key` in the active language, filled with `values`; ``ahead`` picks its
    plural by ``lag``."""
    if key == "ahead" and values.get("lag") != 1:
        key = "ahead_plural"
    return text(TEMPLATES[key], **values)
