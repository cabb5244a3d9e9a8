"""The pack's front page: portfolio KPIs, key-account matrix, rankings, overdue, accuracy league."""

from __future__ import annotations

import os

import pandas as pd

from kamlab.scorecard.analytics import PackAnalytics
from kamlab.scorecard.card import Scorecard, _esc, _unavailable, open_analytics
from kamlab.scorecard.render import Section, note_html, table_html
from kamlab.scorecard.tiles import STATUS_WORDS

__all__ = ["Portfolio", "open_portfolio", "overall_status"]

_ORDER = {"red": 0, "amber": 1, "green": 2, "grey": 3}


def open_portfolio(
    month: str | None = None,
    *,
    source: str | os.PathLike | None = None,
    options: dict | None = None,
) -> Portfolio:
    """Validate the parameters, load the month's shared analytics, return the portfolio view
    (defaults as :func:`~kamlab.scorecard.card.open_scorecard`)."""
    return Portfolio(open_analytics(month, source=source, options=options))


def overall_status(statuses: list[str]) -> str:
    """The worst colour among `statuses` (red < amber < green); grey only if no tile has data.

    >>> overall_status(["green", "grey", "amber"])
    'amber'
    >>> overall_status(["grey", "grey"])
    'grey'
    """
    return min(statuses, key=_ORDER.__getitem__, default="grey")


class Portfolio:
    """All customers of the analytics' month, side by side."""

    def __init__(self, analytics: PackAnalytics) -> None:
        self.analytics = analytics
        self.month = analytics.month

    def summary(self) -> pd.DataFrame:
        """One row per customer: id, name, account manager, overall status and each tile's value."""
        rows = []
        for cid in self.analytics.customer_ids():
            card = Scorecard(self.analytics, cid)
            tiles = card.headline_tiles()
            row = {
                "customer_id": cid,
                "name": str(card.customer["name"]),
                "account_manager": str(card.customer["account_manager"]),
                "status": overall_status([t.status for t in tiles]),
            }
            row.update({t.label: t.value for t in tiles})
            rows.append(row)
        return pd.DataFrame(rows)

    def header(self) -> Section:
        title = f"Key account portfolio — {self.month.strftime('%B %Y')}"
        n = len(self.analytics.customers)
        return Section(title, f"<h1>{_esc(title)}</h1>" + note_html(f"{n} customers."))

    def kpis(self) -> Section:
        """How many customers are red, amber, green or without data."""
        counts = self.summary()["status"].value_counts()
        frame = pd.DataFrame(
            {
                "Status": [STATUS_WORDS[s] for s in _ORDER],
                "Customers": [int(counts.get(s, 0)) for s in _ORDER],
            }
        )
        return Section("Portfolio KPIs", table_html(frame))

    def matrix(self) -> Section:
        title = "Key-account matrix"
        return _unavailable(title, self.analytics, "matrix") or Section(title, "")

    def rankings(self) -> Section:
        title = "Rankings"
        return _unavailable(title, self.analytics, "classes") or Section(title, "")

    def top_overdue(self) -> Section:
        title = "Top overdue"
        return _unavailable(title, self.analytics, "receivables") or Section(title, "")

    def accuracy_league(self) -> Section:
        title = "Forecast accuracy league table"
        return _unavailable(title, self.analytics, "accuracy") or Section(title, "")
