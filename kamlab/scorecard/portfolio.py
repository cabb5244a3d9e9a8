"""The pack's front page: portfolio KPIs, key-account matrix, rankings, overdue, accuracy league."""

from __future__ import annotations

import os

import pandas as pd

from kamlab.scorecard import figures
from kamlab.scorecard.analytics import PackAnalytics
from kamlab.scorecard.card import (
    Scorecard,
    _esc,
    _fva_label,
    _pct_any,
    _unavailable,
    open_analytics,
)
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
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
        """One row per customer: id, name, account manager, overall status, each tile's value
        and (column "<label> status") its colour."""
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
            row.update({f"{t.label} status": t.status for t in tiles})
            rows.append(row)
        return pd.DataFrame(rows)

    def header(self) -> Section:
        title = f"Key account portfolio — {self.month.strftime('%B %Y')}"
        n = len(self.analytics.customers)
        return Section(title, f"<h1>{_esc(title)}</h1>" + note_html(f"{n} customers."))

    def kpis(self) -> Section:
        """Per headline KPI, how many customers are off, near or on target (or without data)."""
        summary = self.summary()
        status_cols = [c for c in summary.columns if c.endswith(" status")]
        rows = []
        for col in status_cols:
            counts = summary[col].value_counts()
            rows.append(
                {
                    "KPI": col.removesuffix(" status"),
                    **{STATUS_WORDS[s]: int(counts.get(s, 0)) for s in _ORDER},
                }
            )
        overall = summary["status"].value_counts()
        rows.append(
            {
                "KPI": "Customer (worst KPI)",
                **{STATUS_WORDS[s]: int(overall.get(s, 0)) for s in _ORDER},
            }
        )
        return Section("Portfolio KPIs", table_html(pd.DataFrame(rows)))

    def matrix(self) -> Section:
        """Attractiveness against strength, one labelled point per customer."""
        title = "Key-account matrix"
        if missing := _unavailable(title, self.analytics, "matrix"):
            return missing
        names = self.analytics.customers.set_index("customer_id")["name"]
        m = self.analytics.matrix.assign(
            customer=lambda f: f["customer_id"].map(names).str.slice(0, 22)
        )
        threshold = self.analytics.settings.classify.matrix_threshold
        fig = figures.scatter_figure(
            m,
            x="strength",
            y="attractiveness",
            hue="quadrant",
            label="customer",
            title="Key-account matrix: customer attractiveness against our strength",
            xlabel="Our relative strength with the customer (score 0–1)",
            ylabel="Customer attractiveness (score 0–1)",
            split=(threshold, threshold),
        )
        note = note_html("Named: the 12 accounts farthest from the centre of the matrix.")
        counts = m["quadrant"].value_counts()
        table = pd.DataFrame({"Quadrant": counts.index.astype(str), "Customers": counts.to_numpy()})
        return Section(title, figure_html(fig, alt="Key-account matrix") + note + table_html(table))

    def rankings(self) -> Section:
        """Customers by revenue over the last 12 months, with ABC class now and a year ago."""
        title = "Rankings"
        if missing := _unavailable(title, self.analytics, "classes"):
            return missing
        classes = self.analytics.classes
        now = classes[classes["when"] == "now"].sort_values("rank")
        before = classes[classes["when"] == "year_ago"].set_index("customer_id")
        names = self.analytics.customers.set_index("customer_id")["name"]
        currency = str(now["currency"].iloc[0]) if len(now) else ""
        table = pd.DataFrame(
            {
                "Rank": now["rank"],
                "Customer": now["customer_id"].map(names),
                f"Revenue 12 months ({currency})": now["net_value"],
                "Share": now["share"],
                "ABC": now["abc_class"],
                "ABC a year ago": now["customer_id"].map(before["abc_class"]),
                "XYZ": now["xyz_class"],
            }
        )
        return Section(
            title,
            table_html(
                table,
                formats={f"Revenue 12 months ({currency})": ",.0f", "Share": _pct_any},
                max_rows=50,
            ),
        )

    def top_overdue(self) -> Section:
        """The largest overdue invoices of the portfolio, per currency."""
        title = "Top overdue"
        if missing := _unavailable(title, self.analytics, "top_overdue"):
            return missing
        top = self.analytics.top_overdue
        n = self.analytics.settings.receivables.top_overdue
        top = (
            top.sort_values(["currency", "open_amount"], ascending=[True, False])
            .groupby("currency", observed=True)
            .head(n)
        )
        names = self.analytics.customers.set_index("customer_id")["name"]
        table = pd.DataFrame(
            {
                "Customer": top["customer_id"].map(names),
                "Invoice": top["document_id"].astype(str),
                "Due": top["due_date"].dt.strftime("%d %b %Y"),
                "Days overdue": top["days_overdue"],
                "Open": top["open_amount"],
                "Currency": top["currency"].astype(str),
            }
        )
        return Section(title, table_html(table, formats={"Open": ",.0f"}, max_rows=4 * n))

    def accuracy_league(self) -> Section:
        """Customers by the value their forecast adds over a naive forecast, lag 1."""
        title = "Forecast accuracy league table"
        if missing := _unavailable(title, self.analytics, "league"):
            return missing
        league = self.analytics.league
        names = self.analytics.customers.set_index("customer_id")["name"]
        fva_cols = [c for c in league.columns if c.startswith("fva_")]
        error_cols = [c for c in league.columns if c.startswith("error_")]
        table = league[["rank", "customer_id", *error_cols, *fva_cols[:1], "adds_value"]].assign(
            customer_id=lambda f: f["customer_id"].map(names),
            adds_value=lambda f: f["adds_value"].map(
                {True: "yes: better than naive", False: "no: naive is as good"}
            ),
        )
        table = table.rename(
            columns={
                "rank": "Rank",
                "customer_id": "Customer",
                "adds_value": "Customer's forecast helps?",
                **{c: "Error, " + c.removeprefix("error_") + " forecast" for c in error_cols},
                **{c: _fva_label(c) for c in fva_cols},
            }
        )
        formats = {c: _pct_any for c in table.columns if c.startswith("Error")}
        formats.update({c: "+.1f" for c in table.columns if c.endswith("(points saved)")})
        return Section(title, table_html(table, formats=formats, max_rows=50))
