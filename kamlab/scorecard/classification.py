"""The scorecard's classification section: ABC / XYZ class, key-account quadrant and its
movement (:mod:`kamlab.classify`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import current
from kamlab.i18n import formats as fmt
from kamlab.scorecard.render import Section, table_html
from kamlab.scorecard.values import as_float, unavailable_section, word

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["plain_explanation", "section"]

_CRITERIA_WORDS = {
    "otif": "on-time in-full delivery",
    "complaints": "complaints",
    "forecast accuracy": "forecast accuracy",
    "payment behaviour": "payment behaviour",
    "revenue": "revenue",
    "growth": "growth",
    "margin": "margin",
    "share of business": "share of business",
}
#: the matrix's explanation (kamlab.classify.matrix): quadrant; both scores, what led them
_EXPLANATION = re.compile(
    r"(?P<quadrant>[^;]+); attractiveness (?P<a>[^;\s]+)(?: led by (?P<a_lead>[^;]+))?"
    r"; strength (?P<s>[^;\s]+)(?: led by (?P<s_lead>[^;]+))?"
    r"(?:; missing: (?P<missing>[^;]+) \(weights re-normalised over the rest\))?"
    r"(?:; only one customer has (?P<lone>[^;]+): scaled 0\.5)?"
)


def section(card: Scorecard) -> Section:
    """ABC / XYZ class, key-account quadrant and its movement."""
    t = fmt.text
    title = t("Classification")
    if missing := unavailable_section(title, card.analytics, "classes"):
        return missing
    classes = card._slice(card.analytics.classes).set_index("when")
    matrix = card._slice(card.analytics.matrix)

    def pick(when: str, column: str) -> str:
        return str(classes.at[when, column]) if when in classes.index else "–"

    facts = {
        t("ABC by revenue (now / a year ago)"): f"{pick('now', 'abc_class')} / "
        f"{pick('year_ago', 'abc_class')}",
        t("Revenue rank in the portfolio"): pick("now", "rank"),
        t("XYZ by demand variability (now / a year ago)"): f"{pick('now', 'xyz_class')} / "
        f"{pick('year_ago', 'xyz_class')}",
    }
    if len(matrix):
        m = matrix.iloc[0]
        facts[t("Key-account quadrant")] = word(str(m["quadrant"]))
        facts[t("Attractiveness / strength (0–1)")] = (
            f"{_score(m['attractiveness'])} / {_score(m['strength'])}"
        )
        facts[t("Why")] = plain_explanation(str(m["explanation"]))
    rows = pd.DataFrame({"": list(facts), " ": list(facts.values())})
    return Section(title, table_html(rows, classes="kam-facts"))


def plain_explanation(text: str) -> str:
    """A key-account-matrix explanation in words a KAM uses ("led by otif" -> "led by
    on-time in-full delivery"), in the active language: one template per part."""
    found = _EXPLANATION.fullmatch(text)
    if found is None:  # not the matrix's shape: as it is, with the criterion named
        return re.sub(r"\botif\b", _CRITERIA_WORDS["otif"], text)
    t, g = fmt.text, found.groupdict()
    parts = [word(g["quadrant"])]
    for axis, score, lead in (("attractiveness", g["a"], g["a_lead"]),
                              ("strength", g["s"], g["s_lead"])):  # fmt: skip
        score = _local_score(score)
        if lead and axis == "attractiveness":
            parts.append(t("attractiveness {score} led by {criterion}", score=score,
                           criterion=_criteria(lead)))  # fmt: skip
        elif lead:
            parts.append(t("strength {score} led by {criterion}", score=score,
                           criterion=_criteria(lead)))  # fmt: skip
        elif axis == "attractiveness":
            parts.append(t("attractiveness {score}", score=score))
        else:
            parts.append(t("strength {score}", score=score))
    if g["missing"]:
        parts.append(
            t("missing: {criteria} (weights re-normalised over the rest)",
              criteria=_criteria(g["missing"]))
        )  # fmt: skip
    if g["lone"]:
        parts.append(t("only one customer has {criteria}: scaled 0.5", criteria=g["lone"]))
    return "; ".join(parts)


def _criteria(names: str) -> str:
    """ "otif, margin" in the words a KAM uses, in the active language."""
    return ", ".join(fmt.text(_CRITERIA_WORDS.get(n.strip(), n.strip())) for n in names.split(", "))


def _local_score(score: str) -> str:
    """A score the matrix wrote ("0.62", "n/a") with the active language's decimal mark."""
    lang = current()
    if score == "n/a":
        return fmt.text("n/a")
    return (
        score if lang.english else score.replace(".", lang.locale.number_symbols["latn"]["decimal"])
    )


def _score(value: object) -> str:
    """A 0-1 score with two decimals; "not scored" when a criterion is missing."""
    v = as_float(value)
    return fmt.text("not scored") if v != v else current().number(v, digits=2)
