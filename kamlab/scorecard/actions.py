"""The scorecard's open actions: what was agreed in earlier reviews and is still open
(optional ``actions`` table), overdue ones first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.scorecard.render import Section, note_html, table_html
from kamlab.scorecard.values import word

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["open_actions", "overdue_actions", "section"]

_COLUMNS = ["customer_id", "opened", "owner", "topic", "due", "status", "closed", "overdue"]


def open_actions(card: Scorecard) -> pd.DataFrame:
    """This customer's actions not closed by the month end (optional ``actions`` table):
    customer_id, opened, owner, topic, due, status, closed, overdue (due before as_of)."""
    actions = getattr(card.analytics, "actions", None)
    if actions is None or len(actions) == 0:
        return pd.DataFrame(columns=_COLUMNS)
    mine = card._slice(actions)
    as_of = card.analytics.as_of
    mine = mine[(mine["opened"] <= as_of) & ~(mine["closed"] <= as_of)]
    return mine.assign(overdue=mine["due"] < as_of).reset_index(drop=True)


def overdue_actions(card: Scorecard) -> int:
    """Number of open actions past their due date at the month end."""
    return int(open_actions(card)["overdue"].sum())


def section(card: Scorecard) -> Section:
    """The actions agreed in earlier reviews and still open, overdue ones first."""
    t = fmt.text
    title = t("Open actions")
    actions = getattr(card.analytics, "actions", None)
    if actions is None or len(actions) == 0:
        return Section(
            title,
            note_html(
                t(
                    "Not available: no actions in the data (add an `actions` extract to "
                    "follow up what was agreed in earlier reviews)."
                ),
                kind="unavailable",
            ),
            status="empty",
        )
    mine = open_actions(card).sort_values(["overdue", "due"], ascending=[False, True])
    if mine.empty:
        return Section(title, note_html(t("No open actions for this customer.")))
    table = pd.DataFrame(
        {
            t("Topic"): mine["topic"].astype(str),
            t("Owner"): mine["owner"].astype(str),
            t("Opened"): mine["opened"].map(fmt.date),
            t("Due"): mine["due"].map(fmt.date),
            t("Status"): [
                t("{status} — overdue", status=word(s)) if late else word(s)
                for s, late in zip(mine["status"], mine["overdue"], strict=True)
            ],
        }
    )
    n = int(mine["overdue"].sum())
    return Section(
        title,
        table_html(table, print_rows=None)  # each one is reported on: all print
        + note_html(
            t(
                "{open} open, {late} past due: overdue actions raise the priority.",
                open=fmt.count(len(mine)),
                late=fmt.count(n),
            )
        ),
    )
