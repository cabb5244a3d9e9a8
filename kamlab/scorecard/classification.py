"""The scorecard's classification section: ABC / XYZ class, key-account quadrant and its
movement (:mod:`kamlab.classify`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from kamlab.scorecard.render import Section, table_html
from kamlab.scorecard.values import as_float, unavailable_section

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["plain_explanation", "section"]

_CRITERIA_WORDS = {
    "otif": "on-time in-full delivery",
    "complaints": "complaints",
    "forecast accuracy": "forecast accuracy",
    "payment behaviour": "payment behaviour",
}


def section(card: Scorecard) -> Section:
    """ABC / XYZ class, key-account quadrant and its movement."""
    title = "Classification"
    if missing := unavailable_section(title, card.analytics, "classes"):
        return missing
    classes = card._slice(card.analytics.classes).set_index("when")
    matrix = card._slice(card.analytics.matrix)

    def pick(when: str, column: str) -> str:
        return str(classes.at[when, column]) if when in classes.index else "–"

    facts = {
        "ABC by revenue (now / a year ago)": f"{pick('now', 'abc_class')} / "
        f"{pick('year_ago', 'abc_class')}",
        "Revenue rank in the portfolio": pick("now", "rank"),
        "XYZ by demand variability (now / a year ago)": f"{pick('now', 'xyz_class')} / "
        f"{pick('year_ago', 'xyz_class')}",
    }
    if len(matrix):
        m = matrix.iloc[0]
        facts["Key-account quadrant"] = str(m["quadrant"])
        facts["Attractiveness / strength (0–1)"] = (
            f"{_score(m['attractiveness'])} / {_score(m['strength'])}"
        )
        facts["Why"] = plain_explanation(str(m["explanation"]))
    rows = pd.DataFrame({"": list(facts), " ": list(facts.values())})
    return Section(title, table_html(rows, classes="kam-facts"))


def plain_explanation(text: str) -> str:
    """A key-account-matrix explanation in words a KAM uses ("led by otif" -> "led by
    on-time in-full delivery")."""
    return re.sub(r"\botif\b", _CRITERIA_WORDS["otif"], text)


def _score(value: object) -> str:
    """A 0-1 score with two decimals; "not scored" when a criterion is missing."""
    v = as_float(value)
    return "not scored" if v != v else f"{v:.2f}"
