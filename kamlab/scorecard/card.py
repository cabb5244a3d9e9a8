"""One customer's scorecard: the header, the customer's slice of the shared analytics, the
headline tiles, and one method per section.

A notebook calls ``open_scorecard(...)`` once and then one section per cell; every section
returns a :class:`~kamlab.scorecard.render.Section` (HTML), so a cell shows exactly one
output. Each section lives in its own module (:mod:`~kamlab.scorecard.sales`,
:mod:`~kamlab.scorecard.demand`, :mod:`~kamlab.scorecard.challenges`,
:mod:`~kamlab.scorecard.accuracy`, :mod:`~kamlab.scorecard.service`,
:mod:`~kamlab.scorecard.receivables`, :mod:`~kamlab.scorecard.actions`,
:mod:`~kamlab.scorecard.classification`, like :mod:`~kamlab.scorecard.commercial` and
:mod:`~kamlab.scorecard.supply`); the methods here call them. Sections only select, format,
plot and comment: every number comes from :class:`~kamlab.chain.PackAnalytics`, computed by
the analytics modules.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import os
import weakref

import numpy as np
import pandas as pd

from kamlab.chain import ChainError, PackAnalytics, load_analytics, parse_month
from kamlab.config import Settings
from kamlab.i18n import formats as fmt
from kamlab.scorecard import (
    accuracy,
    actions,
    challenges,
    classification,
    demand,
    receivables,
    sales,
    service,
    trends,
)
from kamlab.scorecard.render import Section, table_html
from kamlab.scorecard.tiles import Tile, tiles_html
from kamlab.scorecard.values import as_float, coverage_note, no_table_text, not_available

__all__ = [
    "OPTIONS",
    "Scorecard",
    "ScorecardError",
    "open_analytics",
    "open_scorecard",
]

# the keys a notebook's `options` parameter may hold, with their meaning
OPTIONS = {
    "settings": "a kamlab.toml or the pack's resolved-settings .json "
    "(default: ./kamlab.toml if present, else the defaults)",
    "cache_dir": "shared-analytics cache (default $KAMLAB_CACHE, else .kamlab-cache; None: none)",
}


class ScorecardError(ChainError):
    """A scorecard notebook parameter is wrong (empty customer id, unknown option)."""


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
    if isinstance(customer_id, int) and not isinstance(customer_id, bool):
        customer_id = _customer_from_number(customer_id, analytics.customer_ids())
    if not isinstance(customer_id, str) or not customer_id:
        raise ScorecardError(f"customer_id must be a non-empty string, got {customer_id!r}")
    return Scorecard(analytics, customer_id)


def _customer_from_number(number: int, known: list[str]) -> str:
    """The customer id `number` stands for: ``papermill -p customer_id 0000100001`` passes
    the int 100001 (papermill reads digits as a number and drops the leading zeros).

    The one known id with that numeric value, else :class:`ScorecardError` saying how to
    pass the id as text.
    """
    matches = [c for c in known if c.isdigit() and int(c) == number]
    if len(matches) == 1:
        return matches[0]
    found = f"it matches {matches}" if matches else "no customer id has that number"
    raise ScorecardError(
        f"customer_id {number} arrived as a number, without leading zeros, and {found}; "
        "pass it as text: papermill -r customer_id 0000100001 (not -p)"
    )


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
        cache_dir=options.get("cache_dir", ""),
    )


_NO_ROWS = np.array([], dtype=np.intp)
# id(frame) -> (weak reference to frame, customer_id -> row positions); an entry goes with its frame
_ROWS: dict[int, tuple[weakref.ref, dict[str, np.ndarray]]] = {}


def _customer_rows(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """customer_id (as text) -> positions of its rows in `frame`, found once per frame.

    A warm kernel keeps the month's analytics for every notebook it runs: each customer's
    slice is then a ``take`` instead of a comparison over the whole portfolio's rows, a cost
    that would grow with the portfolio. The shared frames are never changed in place.
    """
    key = id(frame)
    hit = _ROWS.get(key)
    if hit is not None and hit[0]() is frame:
        return hit[1]
    groups = frame.groupby(frame["customer_id"].astype(str), sort=False).indices
    _ROWS[key] = (weakref.ref(frame, lambda _, key=key: _ROWS.pop(key, None)), groups)
    return groups


class Scorecard:
    """The scorecard of `customer_id` for the analytics' month."""

    #: the section methods, in the order the scorecard notebook shows them
    SECTIONS: tuple[str, ...] = (
        "header",
        "tiles",
        "commentary",
        "actions",
        "sales",
        "demand",
        "challenges",
        "accuracy",
        "service",
        "receivables",
        "classification",
    )

    def __init__(self, analytics: PackAnalytics, customer_id: str) -> None:
        analytics.check_customer(customer_id)
        self.analytics = analytics
        self.customer_id = customer_id
        self.month = analytics.month
        customers = analytics.customers
        self.customer = customers[customers["customer_id"] == customer_id].iloc[0]
        self._memo: dict[str, object] = {}  # derived views, computed once per card

    # -- selection helpers -------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.analytics.settings

    def _slice(self, frame: pd.DataFrame | None) -> pd.DataFrame | None:
        """This customer's rows of the portfolio-wide `frame`, in frame order."""
        if frame is None:
            return None
        rows = _customer_rows(frame).get(self.customer_id, _NO_ROWS)
        return frame.take(rows).reset_index(drop=True)

    def _memoised(self, key: str, compute):
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]

    @property
    def currency(self) -> str:
        return str(self.customer["currency"])

    @property
    def terms(self) -> int | None:
        """The customer's payment terms in days net; None when the data has none (a derived
        customer without invoices, or an empty column)."""
        days = as_float(self.customer["payment_terms_days"])
        return None if days != days else int(days)

    # -- what the data holds: a missing table is said, never shown as a zero ---------------
    def absent(self, table: str) -> str | None:
        """Why `table`'s figures are missing for this customer, or None if they are there.

        "no <table> in the data" when the extract has none for anyone; a customer-level
        sentence when only this customer has none.
        """
        a = self.analytics
        missing = getattr(a, "missing_tables", None) or ()
        if table in missing:  # none at all, or none around the month (orders ending earlier)
            why = (getattr(a, "missing_reasons", None) or {}).get(table)
            return fmt.text(why) if why else no_table_text(table)
        if table == "orders":
            if a.customer_demand.empty:
                return no_table_text("orders")
            if self._slice(a.customer_demand).empty:
                return fmt.text("no orders for this customer")
        elif table == "customer_forecasts":
            if a.customer_forecasts.empty:
                return no_table_text("customer_forecasts")
            if self._slice(a.customer_forecasts).empty:
                return fmt.text("this customer sends no forecast")
        elif table == "invoices":
            hist = a.ageing_history
            if hist is not None and hist.empty and (a.dso is None or a.dso.empty):
                return no_table_text("invoices")
            if hist is not None and self._slice(hist).empty:
                return fmt.text("no invoices for this customer")
        elif table == "deliveries":
            air = a.air_freight
            if air is not None and air["delivery_lines"].fillna(0).sum() == 0:
                return no_table_text("deliveries")
        elif table == "budget" and a.plan is not None:
            reasons = a.plan["reason"].astype("string").fillna("")
            if len(reasons) and reasons.str.contains("no budget").all():
                return no_table_text("budget")
        return None

    def unavailable_tile(self, label: str, *names: str) -> Tile | None:
        """A grey tile when an analytics step behind it could not run, else None."""
        reasons = sorted(
            {self.analytics.unavailable[n] for n in names if n in self.analytics.unavailable}
        )
        why = "; ".join(fmt.text(r) for r in reasons)
        return Tile(label, "–", "", "grey", not_available(why)) if reasons else None

    def absent_tile(self, label: str, *tables: str) -> Tile | None:
        """A grey tile when one of `tables` is absent (:meth:`absent`), else None."""
        for table in tables:
            if why := self.absent(table):
                return Tile(label, "–", "", "grey", not_available(why))
        return None

    # -- header and tiles -------------------------------------------------------------------
    def header(self) -> Section:
        """Who and when: customer, account manager, region, segment, terms and the month."""
        c = self.customer
        t = fmt.text
        facts = {
            t("Customer"): f"{c['name']} ({self.customer_id})",
            t("Month"): fmt.month(self.month),
            t("Account manager"): c["account_manager"],
            t("Region / segment"): f"{c['region']} / {c['segment']}",
            t("Payment terms"): t(receivables.NO_TERMS)
            if self.terms is None
            else t("{days} days net", days=fmt.count(self.terms)),
            t("Credit limit"): fmt.money(c["credit_limit"], self.currency)
            if pd.notna(c["credit_limit"])
            else t("not set: agree one with finance"),
        }
        if derived := self.analytics.derived_tables:
            facts[t("Master data")] = t(
                "{tables} derived from the transactions: names are the ids, attributes not "
                "in the transactions are unknown",
                tables=functools.reduce(lambda x, y: t("{a} and {b}", a=x, b=y), derived),
            )
        rows = pd.DataFrame({"": list(facts), " ": [str(v) for v in facts.values()]})
        title = t("Account review — {customer}", customer=c["name"])
        return Section(
            title,
            f"<h1>{html.escape(title)}</h1>"
            + coverage_note(self.analytics)
            + table_html(rows, classes="kam-facts"),
        )

    def tiles(self) -> Section:
        """Headline KPIs against the SLA targets, red / amber / green."""
        return Section(fmt.text("Headline KPIs"), tiles_html(self.headline_tiles()))

    def headline_tiles(self) -> list[Tile]:
        """The headline tiles (the scorecard's top row and the pack index's key figures):
        OTIF, forecast accuracy, revenue vs budget, overdue, credit utilisation, DSO."""
        return list(self._memoised("tiles", Scorecard._headline_tiles))

    def _headline_tiles(self) -> list[Tile]:
        trends_of = {
            0: ("otif", fmt.percent),
            3: ("overdue", fmt.percent),
            4: ("credit", fmt.percent),
            5: ("dso", fmt.days),
        }
        tiles = [
            service.otif_tile(self),
            accuracy.accuracy_tile(self),
            sales.budget_tile(self),
            receivables.overdue_tile(self),
            receivables.credit_tile(self),
            receivables.dso_tile(self),
        ]
        for i, (kpi, show) in trends_of.items():
            if tiles[i].value != "–":
                tiles[i] = dataclasses.replace(tiles[i], trend=trends.trend_text(self, kpi, show))
        return self._with_finding_severity(tiles)

    def _with_finding_severity(self, tiles: list[Tile]) -> list[Tile]:
        """A red tile whose finding (kamlab.findings) is amber turns amber: a shortfall
        within its own noise (few lines, lumpy revenue) — the index and the tile agree."""
        mine = self._slice(getattr(self.analytics, "findings", None))
        if mine is None or mine.empty:
            return tiles
        severity = dict(zip(mine["kind"].astype(str), mine["severity"].astype(str), strict=False))
        kinds = {0: "otif_below_target", 2: "revenue_gap"}
        for i, kind in kinds.items():
            if tiles[i].status == "red" and severity.get(kind) == "amber":
                tiles[i] = dataclasses.replace(tiles[i], status="amber")
        # overdue invoices that unapplied credits or payments cover are an allocation to
        # clear, not money to collect: the tile shows the gross share, amber, not red
        if tiles[3].status == "red" and severity.get("overdue") != "red":
            tiles[3] = dataclasses.replace(tiles[3], status="amber")
        return tiles

    # -- what changed -----------------------------------------------------------------------
    def kpi_history(self) -> pd.DataFrame:
        """:func:`kamlab.scorecard.trends.kpi_history`, once per card."""
        return self._memoised("kpi_history", trends.kpi_history)

    def kpi_changes(self) -> pd.DataFrame:
        """:func:`kamlab.scorecard.trends.kpi_changes`."""
        return trends.kpi_changes(self)

    def growth(self) -> dict | None:
        """:func:`kamlab.scorecard.sales.growth`."""
        return sales.growth(self)

    def revenue_12m(self) -> float:
        """:func:`kamlab.scorecard.sales.revenue_12m`."""
        return sales.revenue_12m(self)

    # -- actions, challenges, receivables' lists ---------------------------------------------
    def open_actions(self) -> pd.DataFrame:
        """:func:`kamlab.scorecard.actions.open_actions`."""
        return actions.open_actions(self)

    def overdue_actions(self) -> int:
        """:func:`kamlab.scorecard.actions.overdue_actions`."""
        return actions.overdue_actions(self)

    def focused_challenges(self) -> pd.DataFrame:
        """:func:`kamlab.scorecard.challenges.focused`, once per card."""
        return self._memoised("focus", challenges.focused)

    def overdue_items(self) -> pd.DataFrame:
        """:func:`kamlab.scorecard.receivables.overdue_items`."""
        return receivables.overdue_items(self)

    def expected_loss(self) -> pd.DataFrame | None:
        """:func:`kamlab.scorecard.receivables.expected_loss`."""
        return receivables.expected_loss(self)

    def late_risk(self) -> pd.DataFrame:
        """:func:`kamlab.scorecard.receivables.late_risk`."""
        return receivables.late_risk(self)

    # -- sections: one module each ----------------------------------------------------------
    def commentary(self) -> Section:
        """What changed and what needs action, in plain language."""
        from kamlab.scorecard.commentary import commentary

        items = commentary(self)
        body = (
            '<ul class="kam-commentary">'
            + "".join(f"<li>{html.escape(t)}</li>" for t in items)
            + "</ul>"
        )
        return Section(fmt.text("Commentary"), body)

    def actions(self) -> Section:
        """:func:`kamlab.scorecard.actions.section`: open actions, overdue first."""
        return actions.section(self)

    def sales(self) -> Section:
        """:func:`kamlab.scorecard.sales.section`: revenue and volume against budget."""
        return sales.section(self)

    def demand(self) -> Section:
        """:func:`kamlab.scorecard.demand.section`: demand with both forecasts."""
        return demand.section(self)

    def challenges(self) -> Section:
        """:func:`kamlab.scorecard.challenges.section`: the forecast challenge list."""
        return challenges.section(self)

    def accuracy(self) -> Section:
        """:func:`kamlab.scorecard.accuracy.section`: forecast accuracy, bias, value added."""
        return accuracy.section(self)

    def service(self) -> Section:
        """:func:`kamlab.scorecard.service.section`: OTIF, OTD, air freight, complaints."""
        return service.section(self)

    def receivables(self) -> Section:
        """:func:`kamlab.scorecard.receivables.section`: ageing, DSO, credit, at risk."""
        return receivables.section(self)

    def classification(self) -> Section:
        """:func:`kamlab.scorecard.classification.section`: ABC / XYZ and the quadrant."""
        return classification.section(self)
