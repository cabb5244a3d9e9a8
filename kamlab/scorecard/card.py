"""One customer's scorecard: each method is one section, built from the shared analytics.

A notebook calls ``open_scorecard(...)`` once and then one section per cell; every section
returns a :class:`~kamlab.scorecard.render.Section` (HTML), so a cell shows exactly one
output. Sections only select, format, plot and comment: every number comes from
:class:`~kamlab.scorecard.analytics.PackAnalytics`, computed by the analytics modules.
"""

from __future__ import annotations

import html
import os

import pandas as pd

from kamlab.config import Settings
from kamlab.scorecard import figures
from kamlab.scorecard.analytics import PackAnalytics, ScorecardError, load_analytics, parse_month
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
from kamlab.scorecard.tiles import Tile, tiles_html

__all__ = ["OPTIONS", "Scorecard", "open_analytics", "open_scorecard"]

# the keys a notebook's `options` parameter may hold, with their meaning
OPTIONS = {
    "settings": "path to a kamlab.toml (default: ./kamlab.toml if present, else the defaults)",
    "cache_dir": "directory of the shared-analytics cache (default .kamlab-cache; None: no cache)",
}


def open_scorecard(
    customer_id: str | None = None,
    month: str | None = None,
    *,
    source: str | os.PathLike | None = None,
    options: dict | None = None,
) -> Scorecard:
    """Validate the notebook parameters, load the month's shared analytics, return the card.

    `customer_id` None: the first customer in the data; `month` None: the month of the latest
    order; `source` None: ``$KAMLAB_DATABASE``, else ``[pack] database``. Raises
    :class:`ScorecardError` for a malformed month, an unknown option, a missing data source
    or a customer that is not in the data, before any analysis runs.
    """
    analytics = open_analytics(month, source=source, options=options)
    if customer_id is None:
        customer_id = analytics.customer_ids()[0]
    if not isinstance(customer_id, str) or not customer_id:
        raise ScorecardError(f"customer_id must be a non-empty string, got {customer_id!r}")
    return Scorecard(analytics, customer_id)


def open_analytics(
    month: str | None, *, source: str | os.PathLike | None, options: dict | None
) -> PackAnalytics:
    """Check a notebook's `month` and `options`, then load the shared analytics."""
    options = dict(options or {})
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ScorecardError(f"unknown option(s) {sorted(unknown)}; known: {sorted(OPTIONS)}")
    return load_analytics(
        source,
        None if month is None else parse_month(month),
        settings=options.get("settings"),
        cache_dir=options.get("cache_dir", ".kamlab-cache"),
    )


def _unavailable(title: str, analytics: PackAnalytics, *names: str) -> Section | None:
    missing = [analytics.unavailable[n] for n in names if n in analytics.unavailable]
    if not missing:
        return None
    reasons = "; ".join(sorted(set(missing)))
    return Section(
        title, note_html(f"Not available yet: {reasons}.", kind="unavailable"), status="unavailable"
    )


class Scorecard:
    """The scorecard of `customer_id` for the analytics' month."""

    def __init__(self, analytics: PackAnalytics, customer_id: str) -> None:
        analytics.check_customer(customer_id)
        self.analytics = analytics
        self.customer_id = customer_id
        self.month = analytics.month
        customers = analytics.customers
        self.customer = customers[customers["customer_id"] == customer_id].iloc[0]

    # -- selection helpers -------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.analytics.settings

    def _slice(self, frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None:
            return None
        return frame[frame["customer_id"] == self.customer_id].reset_index(drop=True)

    @property
    def currency(self) -> str:
        return str(self.customer["currency"])

    # -- sections ----------------------------------------------------------------------
    def header(self) -> Section:
        """Who and when: customer, account manager, region, segment, terms and the month."""
        c = self.customer
        facts = {
            "Customer": f"{c['name']} ({self.customer_id})",
            "Month": self.month.strftime("%B %Y"),
            "Account manager": c["account_manager"],
            "Region / segment": f"{c['region']} / {c['segment']}",
            "Payment terms": f"{int(c['payment_terms_days'])} days net",
            "Credit limit": _money(c["credit_limit"], self.currency),
        }
        rows = pd.DataFrame({"": list(facts), " ": [str(v) for v in facts.values()]})
        title = f"Account review — {c['name']}"
        return Section(title, f"<h1>{_esc(title)}</h1>" + table_html(rows, classes="kam-facts"))

    def tiles(self) -> Section:
        """Headline KPIs against the SLA targets, red / amber / green."""
        return Section("Headline KPIs", tiles_html(self.headline_tiles()))

    def headline_tiles(self) -> list[Tile]:
        """The headline tiles (the scorecard's top row and the pack index's status)."""
        tiles = []
        for label, names in _TILE_SOURCES.items():
            missing = [
                self.analytics.unavailable[n] for n in names if n in self.analytics.unavailable
            ]
            if missing:
                tiles.append(Tile(label, "–", "", "grey", "not available yet"))
        return tiles

    def sales(self) -> Section:
        """Revenue and volume by month, this year against last year."""
        title = "Revenue and volume"
        d = self._slice(self.analytics.customer_demand)
        if d is None or d.empty:
            return Section(
                title, note_html("No orders in the data for this customer."), status="empty"
            )
        start = pd.Period(f"{self.month.year - 1}-01", "M")
        d = d[d["period"] >= start].assign(
            year=lambda f: f["period"].dt.year.astype(str),
            month_name=lambda f: f["period"].dt.strftime("%b"),
        )
        body = ""
        for currency, part in d.groupby("currency", observed=True, sort=True):
            fig = figures.bar_figure(
                part,
                x="month_name",
                y="net_value",
                hue="year",
                title=f"Net revenue by month, {self.month.year - 1} vs {self.month.year}",
                xlabel="Month",
                ylabel=f"Net revenue ({currency})",
            )
            body += figure_html(fig, alt=f"Net revenue by month in {currency}")
        body += _unavailable_note(self.analytics, "plan")
        return Section(title, body)

    def demand(self) -> Section:
        """Demand history with the statistical forecast, its interval and the customer's forecast."""
        title = "Demand and forecast"
        d = self._slice(self.analytics.customer_demand)
        if d is None or d.empty:
            return Section(
                title, note_html("No demand in the data for this customer."), status="empty"
            )
        history = (
            d[d["period"] > self.month - 24].groupby("period", as_index=False)["quantity"].sum()
        )
        fig = figures.demand_figure(
            history,
            title=f"Monthly demand, last 24 months to {self.month}",
        )
        body = figure_html(fig, alt="Monthly demand with forecasts") + _unavailable_note(
            self.analytics, "forecast"
        )
        return Section(title, body)

    def challenges(self) -> Section:
        """Where the customer's forecast deviates from history or the statistical forecast."""
        title = "Forecast challenge list"
        return _unavailable(title, self.analytics, "challenges") or Section(title, "")

    def accuracy(self) -> Section:
        """Forecast accuracy by lag, bias and value added of the customer's forecast."""
        title = "Forecast accuracy"
        return _unavailable(title, self.analytics, "accuracy") or Section(title, "")

    def service(self) -> Section:
        """OTIF, OTD, SLA adherence, air freight and complaints."""
        title = "Service"
        return _unavailable(title, self.analytics, "service") or Section(title, "")

    def receivables(self) -> Section:
        """Ageing, overdue, DSO trend, credit utilisation and invoices at risk."""
        title = "Receivables"
        return _unavailable(title, self.analytics, "receivables") or Section(title, "")

    def classification(self) -> Section:
        """ABC / XYZ class, key-account quadrant and its movement."""
        title = "Classification"
        return _unavailable(title, self.analytics, "classes") or Section(title, "")

    def commentary(self) -> Section:
        """What changed and what needs action, in plain language."""
        from kamlab.scorecard.commentary import commentary

        items = commentary(self)
        body = (
            '<ul class="kam-commentary">' + "".join(f"<li>{_esc(t)}</li>" for t in items) + "</ul>"
        )
        return Section("Commentary", body)


_TILE_SOURCES = {
    "OTIF": ("service",),
    "Forecast accuracy (lag 1)": ("accuracy",),
    "Revenue vs budget": ("plan",),
    "Overdue share": ("receivables",),
    "Credit utilisation": ("receivables",),
}


def _unavailable_note(analytics: PackAnalytics, *names: str) -> str:
    missing = sorted({analytics.unavailable[n] for n in names if n in analytics.unavailable})
    return (
        note_html(f"Not available yet: {'; '.join(missing)}.", kind="unavailable")
        if missing
        else ""
    )


def _money(value: object, currency: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):,.0f} {currency}"


def _esc(text: str) -> str:
    return html.escape(text)
