"""One customer's scorecard: each method is one section, built from the shared analytics.

A notebook calls ``open_scorecard(...)`` once and then one section per cell; every section
returns a :class:`~kamlab.scorecard.render.Section` (HTML), so a cell shows exactly one
output. Sections only select, format, plot and comment: every number comes from
:class:`~kamlab.chain.PackAnalytics`, computed by the analytics modules.
"""

from __future__ import annotations

import dataclasses
import html
import os
import re
import weakref

import numpy as np
import pandas as pd

from kamlab.chain import ChainError, PackAnalytics, load_analytics, parse_month
from kamlab.config import Settings
from kamlab.receivables import overdue_share
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
from kamlab.scorecard.tiles import Tile, rag_status, tiles_html

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

NO_TERMS = "no payment terms in the data"  # said where terms would be, never "0 days"


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


def _unavailable(title: str, analytics: PackAnalytics, *names: str) -> Section | None:
    missing = [analytics.unavailable[n] for n in names if n in analytics.unavailable]
    if not missing:
        return None
    reasons = "; ".join(sorted(set(missing)))
    return Section(
        title, note_html(f"Not available: {reasons}.", kind="unavailable"), status="unavailable"
    )


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

    @property
    def currency(self) -> str:
        return str(self.customer["currency"])

    @property
    def terms(self) -> int | None:
        """The customer's payment terms in days net; None when the data has none (a derived
        customer without invoices, or an empty column)."""
        days = _float(self.customer["payment_terms_days"])
        return None if days != days else int(days)

    # -- sections ----------------------------------------------------------------------
    def header(self) -> Section:
        """Who and when: customer, account manager, region, segment, terms and the month."""
        c = self.customer
        facts = {
            "Customer": f"{c['name']} ({self.customer_id})",
            "Month": self.month.strftime("%B %Y"),
            "Account manager": c["account_manager"],
            "Region / segment": f"{c['region']} / {c['segment']}",
            "Payment terms": NO_TERMS if self.terms is None else f"{self.terms} days net",
            "Credit limit": _money(c["credit_limit"], self.currency)
            if pd.notna(c["credit_limit"])
            else "not set: agree one with finance",
        }
        if derived := self.analytics.derived_tables:
            facts["Master data"] = (
                f"{' and '.join(derived)} derived from the transactions: "
                "names are the ids, attributes not in the transactions are unknown"
            )
        rows = pd.DataFrame({"": list(facts), " ": [str(v) for v in facts.values()]})
        title = f"Account review — {c['name']}"
        return Section(title, f"<h1>{_esc(title)}</h1>" + table_html(rows, classes="kam-facts"))

    def tiles(self) -> Section:
        """Headline KPIs against the SLA targets, red / amber / green."""
        return Section("Headline KPIs", tiles_html(self.headline_tiles()))

    # -- what the data holds: a missing table is said, never shown as a zero ---------------
    def absent(self, table: str) -> str | None:
        """Why `table`'s figures are missing for this customer, or None if they are there.

        "no <table> in the data" when the extract has none for anyone; a customer-level
        sentence when only this customer has none.
        """
        a = self.analytics
        missing = getattr(a, "missing_tables", None) or ()
        if table in missing:  # none at all, or none around the month (orders ending earlier)
            return (getattr(a, "missing_reasons", None) or {}).get(table, f"no {table} in the data")
        if table == "orders":
            if a.customer_demand.empty:
                return "no orders in the data"
            if self._slice(a.customer_demand).empty:
                return "no orders for this customer"
        elif table == "customer_forecasts":
            if a.customer_forecasts.empty:
                return "no customer forecasts in the data"
            if self._slice(a.customer_forecasts).empty:
                return "this customer sends no forecast"
        elif table == "invoices":
            hist = a.ageing_history
            if hist is not None and hist.empty and (a.dso is None or a.dso.empty):
                return "no invoices in the data"
            if hist is not None and self._slice(hist).empty:
                return "no invoices for this customer"
        elif table == "deliveries":
            air = a.air_freight
            if air is not None and air["delivery_lines"].fillna(0).sum() == 0:
                return "no deliveries in the data"
        elif table == "budget" and a.plan is not None:
            reasons = a.plan["reason"].astype("string").fillna("")
            if len(reasons) and reasons.str.contains("no budget").all():
                return "no budget in the data"
        return None

    # -- tiles: each picks one figure an analytics module computed and colours it ----------
    def _missing(self, label: str, *names: str) -> Tile | None:
        reasons = sorted(
            {self.analytics.unavailable[n] for n in names if n in self.analytics.unavailable}
        )
        return (
            Tile(label, "–", "", "grey", f"not available: {'; '.join(reasons)}")
            if reasons
            else None
        )

    def _absent_tile(self, label: str, *tables: str) -> Tile | None:
        for table in tables:
            if why := self.absent(table):
                return Tile(label, "–", "", "grey", f"not available: {why}")
        return None

    def _otif_tile(self) -> Tile:
        n = self.settings.scorecard.otif_months
        label = f"OTIF, last {n} months" if n > 1 else f"OTIF {self.month.strftime('%b %Y')}"
        if tile := self._missing(label, "sla") or self._absent_tile(label, "orders", "deliveries"):
            return tile
        row = self._slice(self.analytics.sla).iloc[0]  # service.sla_adherence over n months
        due = _float(row["lines_due"])
        if not due > 0:
            return Tile(label, "–", "", "grey", "no order lines due")
        value, target = _float(row["otif"]), _float(row["otif_target"])
        note = f"{_int(round(value * due))} of {_int(due)} order lines on time and in full"
        return self._target_tile(
            label, value, target, margin=self.settings.scorecard.amber_margin, note=note
        )

    def _accuracy_tile(self) -> Tile:
        label = "Forecast accuracy, 1 month ahead"
        if tile := self._missing(label, "accuracy") or self._absent_tile(
            label, "customer_forecasts", "orders"
        ):
            return tile
        value = self._accuracy_value("customer", lag=1, metric="accuracy")
        target = _float(self.customer["forecast_accuracy_target"])
        return self._target_tile(
            label,
            value,
            target,
            margin=self.settings.scorecard.accuracy_amber_margin,
            note="customer's forecast against its orders",
        )

    def _target_tile(
        self, label: str, value: float, target: float, *, margin: float, note: str
    ) -> Tile:
        if value != value:
            return Tile(label, "–", "", "grey", "no figures in the window")
        num = {"number": value, "unit": "share"}
        if target != target:  # no SLA target agreed: the figure, without a colour
            return Tile(label, _pct(value), "no target agreed", "grey", note, **num)
        status = rag_status(value, green=target, amber=target - margin)
        return Tile(label, _pct(value), f"target {_pct(target)}", status, note, **num)

    def _accuracy_value(self, source: str, *, lag: int, metric: str) -> float:
        acc = self._slice(self.analytics.accuracy)
        row = acc[(acc["source"] == source) & (acc["lag"] == lag) & (acc["metric"] == metric)]
        return _float(row["value"].iloc[0]) if len(row) else float("nan")

    def _budget_tile(self) -> Tile:
        label = "Revenue vs budget, YTD"
        if tile := self._missing(label, "plan") or self._absent_tile(label, "orders", "budget"):
            return tile
        row = self._plan_row("revenue")
        if row is None or not _float(row["ytd_plan"]) > 0:
            return Tile(label, "–", "", "grey", "not available: no budget for this customer")
        value = _float(row["ytd_variance_pct"])
        s = self.settings.scorecard
        status = rag_status(value, green=s.budget_green, amber=s.budget_amber)
        return Tile(
            label,
            _pct(value, signed=True),
            f"{_short(row['ytd_actual'])} vs plan {_short(row['ytd_plan'])} {self.currency}",
            status,
            number=value,
            unit="share",
        )

    def _plan_row(self, measure: str) -> pd.Series | None:
        plan = self._slice(self.analytics.plan)
        if plan is None:
            return None
        row = plan[(plan["measure"] == measure) & (plan["currency"] == self.currency)]
        return row.iloc[0] if len(row) else None

    def _overdue_tile(self) -> Tile:
        s = self.settings.scorecard
        label = f"Overdue more than {s.overdue_grace_days} days"
        if tile := self._missing(label, "ageing_history") or self._absent_tile(label, "invoices"):
            return tile
        row = self._ageing_now()
        if row is None or not row["total"] > 0:
            return Tile(label, "–", "", "grey", "no open receivables")
        late = self._long_overdue(row)
        value = overdue_share(max(late, 0.0), float(row["total"]))
        status = rag_status(
            value, green=s.overdue_share_amber, amber=s.overdue_share_red, higher_is_better=False
        )
        revenue = self.revenue_12m()
        if status == "red" and late < s.overdue_materiality * revenue:
            status = "amber"  # a large share of a small amount: watch, not act
        return Tile(
            label,
            _pct(value),
            f"{_short(max(late, 0.0))} of {_short(row['total'])} {self.currency} open",
            status,
            f"all overdue: {_short(max(float(row['overdue']), 0.0))} {self.currency}",
            number=value,
            unit="share",
        )

    def _long_overdue(self, row: pd.Series) -> float:
        """Open amount more than ``overdue_grace_days`` overdue in an ageing row."""
        grace = self.settings.scorecard.overdue_grace_days
        total = 0.0
        for bucket in _overdue_buckets(row.index):
            if _bucket_start(bucket) > grace:
                total += float(row[bucket])
        return total

    def revenue_12m(self) -> float:
        """Net revenue of the last 12 months in the customer's currency (0 if none)."""
        d = self._slice(self.analytics.customer_demand)
        d = d[(d["currency"] == self.currency) & (d["period"] > self.month - 12)]
        return float(d.loc[d["period"] <= self.month, "net_value"].sum())

    def _ageing_now(self) -> pd.Series | None:
        hist = self._slice(self.analytics.ageing_history)
        if hist is None:
            return None
        now = hist[
            (hist["month_end"] == self.analytics.as_of) & (hist["currency"] == self.currency)
        ]
        return now.iloc[0] if len(now) else None

    def _credit_tile(self) -> Tile:
        label = "Credit utilisation"
        if tile := self._missing(label, "credit") or self._absent_tile(label, "invoices"):
            return tile
        if pd.isna(self.customer["credit_limit"]):
            return Tile(
                label,
                "not set",
                "no credit limit set",
                "grey",
                "agree a credit limit with finance",
                word="action needed",
            )
        credit = self._slice(self.analytics.credit)
        if credit.empty:
            return Tile(label, "0 %", "nothing open", "green")
        r = credit.iloc[0]
        status = {"ok": "green", "warning": "amber", "over limit": "red"}.get(
            str(r["status"]), "grey"
        )
        return Tile(
            label,
            _pct(_float(r["utilisation"])),
            f"limit {_short(r['credit_limit'])} {r['currency']}",
            status,
            number=_float(r["utilisation"]),
            unit="share",
        )

    def _dso_tile(self) -> Tile:
        label = "Days sales outstanding"
        if tile := self._missing(label, "dso") or self._absent_tile(label, "invoices"):
            return tile
        value, terms = self._dso_now(), self.terms
        target = NO_TERMS if terms is None else f"terms {terms} days"
        if value != value:
            return Tile(label, "–", target, "grey", "no receivables")
        if terms is None:  # nothing to hold DSO against: the figure, without a colour
            return Tile(label, f"{value:.0f} days", target, "grey", number=value, unit="days")
        s = self.settings.scorecard
        status = rag_status(
            value,
            green=terms + s.dso_green_days,
            amber=terms + s.dso_amber_days,
            higher_is_better=False,
        )
        return Tile(
            label, f"{value:.0f} days", f"terms {terms} days", status, number=value, unit="days"
        )

    def _dso_now(self) -> float:
        d = self._slice(self.analytics.dso)
        d = d[(d["month_end"] == self.analytics.as_of) & (d["currency"] == self.currency)]
        return _float(d["dso_countback"].iloc[0]) if len(d) else float("nan")

    # -- what changed: the headline figures month by month ---------------------------------
    def kpi_history(self) -> pd.DataFrame:
        if "kpi_history" not in self._memo:
            self._memo["kpi_history"] = self._kpi_history()
        return self._memo["kpi_history"]

    def _kpi_history(self) -> pd.DataFrame:
        """The headline KPIs at each month of the last year: kpi, period, value.

        otif (pooled over ``otif_months``), overdue (share more than ``overdue_grace_days``
        overdue), dso (countback, days), credit (open / limit), revenue (net revenue of the
        3 months to the period, customer's currency). Missing data: no row.
        """
        a, n = self.analytics, self.settings.scorecard.otif_months
        parts = []
        svc = self._slice(a.service)
        if svc is not None and len(svc) and not self.absent("deliveries"):
            svc = svc.sort_values("period")
            due = svc["lines_due"].rolling(n, min_periods=n).sum()
            ok = svc["lines_otif"].rolling(n, min_periods=n).sum()
            parts.append(pd.DataFrame({"kpi": "otif", "period": svc["period"], "value": ok / due}))
        hist = self._slice(a.ageing_history)
        if hist is not None and len(hist):
            hist = hist[hist["currency"] == self.currency].sort_values("month_end")
            late = hist.apply(self._long_overdue, axis=1) if len(hist) else hist["total"]
            period = hist["month_end"].dt.to_period("M")
            share = (late.clip(lower=0) / hist["total"]).where(hist["total"] > 0)
            parts.append(pd.DataFrame({"kpi": "overdue", "period": period, "value": share}))
            limit = _float(self.customer["credit_limit"])
            if limit > 0:
                parts.append(
                    pd.DataFrame(
                        {"kpi": "credit", "period": period, "value": hist["total"] / limit}
                    )
                )
        dso = self._slice(a.dso)
        if dso is not None and len(dso):
            dso = dso[dso["currency"] == self.currency]
            parts.append(
                pd.DataFrame(
                    {
                        "kpi": "dso",
                        "period": dso["month_end"].dt.to_period("M"),
                        "value": dso["dso_countback"],
                    }
                )
            )
        d = self._slice(a.customer_demand)
        if d is not None and len(d):
            d = d[d["currency"] == self.currency].set_index("period")["net_value"]
            months = pd.period_range(self.month - 26, self.month, freq="M")
            d = d.reindex(months, fill_value=0.0)
            parts.append(
                pd.DataFrame(
                    {"kpi": "revenue", "period": months, "value": d.rolling(3).sum().to_numpy()}
                )
            )
        if not parts:
            return pd.DataFrame({"kpi": [], "period": [], "value": []})
        out = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
        return out[out["period"] <= self.month].reset_index(drop=True)

    def kpi_changes(self) -> pd.DataFrame:
        """Per KPI of :meth:`kpi_history`: now, 1, 3 and 6 months ago, and whether it worsened.

        Columns kpi, name, now, m1, m3, m6 (values), change (now - the earliest of m3/m6 that
        moved materially, else now - m3), months (that window), material (bool), direction
        ("better" / "worse" / "steady"), status (the tile's colour now). Material: the change
        is at least the ``change_*`` setting (OTIF points, DSO days, overdue share, credit
        utilisation); a worsening that leaves the tile green is not material.
        """
        s = self.settings.scorecard
        spec = {
            "otif": ("OTIF", s.change_otif, True),
            "overdue": ("Overdue share", s.change_overdue_share, False),
            "dso": ("DSO", s.change_dso_days, False),
            "credit": ("Credit utilisation", s.change_credit, False),
        }
        hist = self.kpi_history()
        tiles = self.headline_tiles()
        statuses = {"otif": tiles[0].status, "overdue": tiles[3].status}
        statuses.update({"credit": tiles[4].status, "dso": tiles[5].status})
        rows = []
        for kpi, (name, size, higher_better) in spec.items():
            h = hist[hist["kpi"] == kpi].set_index("period")["value"]
            if self.month not in h.index:
                continue
            now = float(h[self.month])
            back = {k: _float(h.get(self.month - k)) for k in (1, 3, 6)}
            months, change = 3, now - back[3]
            for k in (3, 6):
                if abs(now - back[k]) >= size:
                    months, change = k, now - back[k]
                    break
            material = change == change and abs(change) >= size
            better = (change > 0) == higher_better
            status = statuses.get(kpi, "grey")
            if material and not better and status == "green":
                material = False  # worse, but still on target: not worth a line
            rows.append(
                {
                    "kpi": kpi,
                    "name": name,
                    "now": now,
                    "m1": back[1],
                    "m3": back[3],
                    "m6": back[6],
                    "change": change,
                    "months": months,
                    "material": bool(material),
                    "direction": ("better" if better else "worse") if material else "steady",
                    "status": status,
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "kpi",
                "name",
                "now",
                "m1",
                "m3",
                "m6",
                "change",
                "months",
                "material",
                "direction",
                "status",
            ],
        )

    def growth(self) -> dict | None:
        """Revenue of the last 12 months against the 12 months before (customer currency).

        Returns now, last_year, growth (fraction), trend ("growing" / "declining" / "stable",
        material from ``growth_material``) or None without revenue a year ago.
        """
        d = self._slice(self.analytics.customer_demand)
        d = d[d["currency"] == self.currency].set_index("period")["net_value"]
        now = float(d[(d.index > self.month - 12) & (d.index <= self.month)].sum())
        before = float(d[(d.index > self.month - 24) & (d.index <= self.month - 12)].sum())
        if not before > 0 or now != now:
            return None
        g = now / before - 1.0
        size = self.settings.scorecard.growth_material
        trend = "growing" if g >= size else "declining" if g <= -size else "stable"
        return {"now": now, "last_year": before, "growth": g, "trend": trend}

    def _trend_text(self, kpi: str, fmt) -> str:
        """'▲ from 88 % in Jul' style: arrows for the 1- and 3-month movement."""
        hist = self.kpi_history()
        h = hist[hist["kpi"] == kpi].set_index("period")["value"]
        if self.month not in h.index:
            return ""
        now, parts = float(h[self.month]), []
        for k in (1, 3):
            before = _float(h.get(self.month - k))
            if before != before:
                continue
            arrow = "▲" if now > before + 1e-9 else "▼" if now < before - 1e-9 else "►"
            parts.append(f"{arrow} from {fmt(before)} in {(self.month - k).strftime('%b')}")
        return " · ".join(parts)

    def headline_tiles(self) -> list[Tile]:
        """The headline tiles (the scorecard's top row and the pack index's key figures)."""
        if "tiles" not in self._memo:
            self._memo["tiles"] = self._headline_tiles()
        return list(self._memo["tiles"])

    def _headline_tiles(self) -> list[Tile]:
        pct = _pct
        days = _days
        trends = {0: ("otif", pct), 3: ("overdue", pct), 4: ("credit", pct), 5: ("dso", days)}
        tiles = [
            self._otif_tile(),
            self._accuracy_tile(),
            self._budget_tile(),
            self._overdue_tile(),
            self._credit_tile(),
            self._dso_tile(),
        ]
        for i, (kpi, fmt) in trends.items():
            if tiles[i].value != "–":
                tiles[i] = dataclasses.replace(tiles[i], trend=self._trend_text(kpi, fmt))
        return tiles

    # -- actions agreed earlier -------------------------------------------------------------
    def open_actions(self) -> pd.DataFrame:
        """This customer's actions not closed by the month end (optional ``actions`` table):
        customer_id, opened, owner, topic, due, status, closed, overdue (due before as_of)."""
        actions = getattr(self.analytics, "actions", None)
        cols = ["customer_id", "opened", "owner", "topic", "due", "status", "closed", "overdue"]
        if actions is None or len(actions) == 0:
            return pd.DataFrame(columns=cols)
        mine = self._slice(actions)
        as_of = self.analytics.as_of
        mine = mine[(mine["opened"] <= as_of) & ~(mine["closed"] <= as_of)]
        return mine.assign(overdue=mine["due"] < as_of).reset_index(drop=True)

    def overdue_actions(self) -> int:
        """Number of open actions past their due date at the month end."""
        return int(self.open_actions()["overdue"].sum())

    # -- money at stake and the focused challenge list --------------------------------------
    def focused_challenges(self) -> pd.DataFrame:
        """The challenge lines for the page: one per material, material in money, at most N."""
        from kamlab.accuracy.challenge import focus_challenges

        if "focus" in self._memo:
            return self._memo["focus"]
        s = self.settings.accuracy
        options = {"max_lines": s.challenge_max_lines, "min_value": s.challenge_min_value}
        mine = self._slice(self.analytics.challenges)
        if mine is None or mine.empty:  # the empty list, as focus_challenges shapes it
            focus = focus_challenges(mine, materials=self.analytics.materials, **options)
        else:  # this customer's lines of the portfolio's list (per customer by definition)
            whole = _portfolio_focus(self.analytics, **options)
            focus = self._slice(whole)
            hidden = whole.attrs["hidden"]
            focus.attrs = {"hidden": {k: v for k, v in hidden.items() if k == self.customer_id}}
        self._memo["focus"] = focus
        return focus

    def stake_parts(self) -> list[pd.DataFrame]:
        """This customer's money at stake, one frame per kind (customer_id, currency, amount,
        kind): receivables long overdue, receivables above the credit limit (open − limit),
        receivables likely to be paid late, revenue gap to plan (full-year plan − outlook),
        forecast worth challenging (focused lines' value at stake), air-freight cost."""
        from kamlab.scorecard.priority import stake_frame

        cid, parts = self.customer_id, []
        row = self._ageing_now()
        if row is not None:
            parts.append(
                pd.DataFrame(
                    {
                        "customer_id": [cid],
                        "currency": [self.currency],
                        "amount": [self._long_overdue(row)],
                        "kind": ["overdue"],
                    }
                )
            )
        credit = self._slice(self.analytics.credit)
        if credit is not None and len(credit):
            over = credit.assign(
                over_limit=(credit["open_receivables"] - credit["credit_limit"]).clip(lower=0)
            )
            parts.append(stake_frame(over, kind="over_limit", amount="over_limit"))
        plan = self._slice(self.analytics.plan)
        if plan is not None and len(plan):
            rev = plan[plan["measure"] == "revenue"]
            gap = rev.assign(gap=rev["fy_plan"] - rev["fy_outlook"])
            parts.append(stake_frame(gap, kind="revenue_gap", amount="gap"))
        focus = self.focused_challenges()
        if len(focus):
            parts.append(
                stake_frame(
                    focus[focus["currency"] != "–"],
                    kind="challenged_forecast",
                    amount="value_at_stake",
                )
            )
        air = self._slice(self.analytics.air_freight)
        if air is not None and len(air):
            parts.append(stake_frame(air, kind="service_cost", amount="air_freight_cost"))
        late = self.late_risk()
        if len(late):
            parts.append(
                stake_frame(late.assign(customer_id=cid), kind="late_risk", amount="amount")
            )
        return [p for p in parts if len(p)]

    # -- sections --------------------------------------------------------------------------
    def sales(self) -> Section:
        """Revenue and volume against budget and last year: month, year to date, full year."""
        title = "Revenue and volume"
        if why := self.absent("orders"):
            return _absent_section(title, why)
        body = ""
        d = self._slice(self.analytics.customer_demand)
        if d is not None and len(d):
            start = pd.Period(f"{self.month.year - 1}-01", "M")
            d = d[(d["period"] >= start) & (d["period"] <= self.month)].assign(
                year=lambda f: f["period"].dt.year.astype(str),
                month_name=lambda f: f["period"].dt.strftime("%b"),
            )
            for currency, part in d.groupby("currency", observed=True, sort=True):
                budget = self._budget_by_month(str(currency))
                fig = figures.bar_figure(
                    part,
                    x="month_name",
                    y="net_value",
                    hue="year",
                    title=f"Net revenue by month, {self.month.year - 1} vs {self.month.year}"
                    + (f", budget {self.month.year}" if budget else ""),
                    xlabel="Month",
                    ylabel=f"Net revenue ({currency})",
                    line=budget,
                    line_label=f"Budget {self.month.year}",
                )
                body += figure_html(fig, alt=f"Net revenue by month in {currency} with budget")
        body += self._margin_html() + self._bridge_html()
        missing = _unavailable_note(self.analytics, "plan")
        if missing:
            return Section(title, body + missing)
        plan = self._slice(self.analytics.plan)
        if why := self.absent("budget"):
            return Section(
                title, body + note_html(f"Budget: not available: {why}.", kind="unavailable")
            )
        if plan.empty or not (plan["ytd_plan"].fillna(0) > 0).any():
            return Section(
                title,
                body
                + note_html(
                    "Budget: not available: no budget for this customer.", kind="unavailable"
                ),
            )
        table = pd.DataFrame(
            {
                "Measure": plan["measure"].astype(str)
                + " ("
                + plan["currency"].astype(str).where(plan["measure"] == "revenue", "units")
                + ")",
                f"{self.month.strftime('%b')} actual": plan["month_actual"],
                "plan": plan["month_plan"],
                "vs plan": plan["month_variance_pct"],
                "last year": plan["month_last_year"],
                "YTD actual": plan["ytd_actual"],
                "YTD plan": plan["ytd_plan"],
                "YTD vs plan": plan["ytd_variance_pct"],
                "YTD growth": plan["ytd_growth"],
                "FY outlook": plan["fy_outlook"],
                "FY plan": plan["fy_plan"],
            }
        )
        pct = {c: _signed_pct for c in ("vs plan", "YTD vs plan", "YTD growth")}
        amounts = {c: ",.0f" for c in table.columns if c not in pct and c != "Measure"}
        body += table_html(table, formats={**amounts, **pct})
        return Section(title, body)

    def _budget_by_month(self, currency: str) -> dict[str, float] | None:
        """This year's budgeted revenue per month name ("Jan": 123.0) in `currency`."""
        b = self._slice(getattr(self.analytics, "budget_monthly", None))
        if b is None or b.empty:
            return None
        b = b[(b["currency"] == currency) & (b["period"].dt.year == self.month.year)]
        if b.empty:
            return None
        return dict(
            zip(b["period"].dt.strftime("%b"), b["planned_revenue"].astype(float), strict=True)
        )

    def _margin_html(self) -> str:
        """Gross margin by month this year against last year, and year to date."""
        m = self._slice(getattr(self.analytics, "margin_monthly", None))
        if m is None or m.empty:
            return ""
        m = m[m["currency"] == self.currency]
        year, last = self.month.year, self.month.year - 1
        this = m[(m["period"].dt.year == year) & (m["period"] <= self.month)]
        before = m[(m["period"].dt.year == last) & (m["period"].dt.month <= self.month.month)]
        if this.empty:
            return note_html(
                "Gross margin: not available: no unit cost in this customer's currency "
                "(add a rate to [scorecard] fx_rates or a unit cost).",
                kind="unavailable",
            )
        shown = m[m["period"].dt.year >= last].assign(
            year=lambda f: f["period"].dt.year.astype(str),
            month_name=lambda f: f["period"].dt.strftime("%b"),
        )
        shown = shown[shown["period"] <= self.month]
        fig = figures.bar_figure(
            shown,
            x="month_name",
            y="gross_margin",
            hue="year",
            title=f"Gross margin by month (revenue − quantity × standard cost), {last} vs {year}",
            xlabel="Month",
            ylabel=f"Gross margin ({self.currency})",
        )
        ytd, ytd_ly = this["gross_margin"].sum(), before["gross_margin"].sum()
        rev, rev_ly = this["revenue"].sum(), before["revenue"].sum()
        pct = ytd / rev if rev else float("nan")
        pct_ly = ytd_ly / rev_ly if rev_ly else float("nan")
        text = (
            f"Gross margin year to date {_short(ytd)} {self.currency} ({_pct(pct)} of revenue) "
            f"against {_short(ytd_ly)} ({_pct(pct_ly)}) in the same months of {last}."
        )
        return figure_html(fig, alt="Gross margin by month") + note_html(text)

    def _bridge_html(self) -> str:
        """Revenue year to date against last year, split into volume, mix, price, new, lost."""
        b = self._slice(getattr(self.analytics, "bridge", None))
        if b is None or b.empty:
            return ""
        b = b[b["currency"] == self.currency]
        if b.empty:
            return ""
        r = b.iloc[0]
        steps = [
            ("Revenue last year, same months", r["revenue_base"]),
            ("Volume: more or fewer units", r["volume_effect"]),
            ("Mix: dearer or cheaper materials", r["mix_effect"]),
            ("Price: price changes on the same materials", r["price_effect"]),
            ("New materials", r["new_effect"]),
            ("Materials no longer bought", r["lost_effect"]),
            ("Revenue this year to date", r["revenue_current"]),
        ]
        last = len(steps) - 1
        amounts = [
            f"{float(v):,.0f}" if i in (0, last) else f"{float(v):+,.0f}"
            for i, (_, v) in enumerate(steps)
        ]
        table = pd.DataFrame(
            {"Revenue bridge, year to date": [k for k, _ in steps], f"{self.currency}": amounts}
        )
        return note_html("Why revenue changed against last year:") + table_html(
            table, print_rows=None
        )

    def demand(self) -> Section:
        """Demand history with the statistical forecast, its interval and the customer's forecast."""
        title = "Demand and forecast"
        if why := self.absent("orders"):
            return _absent_section(title, why)
        d = self._slice(self.analytics.customer_demand)
        if d is None or d.empty:
            return Section(
                title, note_html("No demand in the data for this customer."), status="empty"
            )
        history = (
            d[d["period"] > self.month - 24].groupby("period", as_index=False)["quantity"].sum()
        )
        total = self._slice(self.analytics.forecast_total)
        latest = self._latest_customer_forecast()
        level = self.settings.accuracy.challenge_level
        fig = figures.demand_figure(
            history,
            forecast=total,
            customer_forecast=latest,
            level=level,
            title=f"Monthly demand to {self.month}, forecast for the next {self.settings.forecast.horizon} months",
        )
        body = figure_html(fig, alt="Monthly demand with the statistical and the customer forecast")
        body += _unavailable_note(self.analytics, "forecast_total")
        if latest is not None and len(latest):
            snap = pd.Timestamp(latest["snapshot_date"].iloc[0]).strftime("%d %b %Y")
            body += note_html(
                f"Customer forecast: latest snapshot of {snap}. Statistical forecast: sum over "
                f"materials with a {level} % interval (materials' errors taken as independent)."
            )
        return Section(title, body)

    def _latest_customer_forecast(self) -> pd.DataFrame | None:
        cf = self._slice(self.analytics.customer_forecasts)
        if cf is None or cf.empty:
            return None
        latest = cf[cf["snapshot_date"] == cf["snapshot_date"].max()]
        latest = latest[latest["period"] > self.month]
        return latest.groupby(["snapshot_date", "period"], as_index=False)["quantity"].sum()

    def challenges(self) -> Section:
        """The customer's forecast lines worth a question: one per material, material in money."""
        title = "Forecast challenge list"
        if missing := _unavailable(title, self.analytics, "challenges"):
            return missing
        for table in ("customer_forecasts", "orders"):
            if why := self.absent(table):
                return Section(
                    title, note_html(f"Not available: {why}.", kind="unavailable"), status="empty"
                )
        top = self.focused_challenges()
        flagged = self._slice(self.analytics.challenges)
        s = self.settings.accuracy
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
                f"Value at stake ({', '.join(sorted(set(top['currency'])))})": top[
                    "value_at_stake"
                ],
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
        hidden = int(top.attrs.get("hidden", {}).get(self.customer_id, 0))
        body += note_html(
            f"One line per material (its flagged months summed), at most {s.challenge_max_lines}, "
            f"each {s.challenge_min_value:,.0f} or more at stake; {hidden} smaller or duplicate "
            "figures are in the workbook's full challenge list."
        )
        return Section(title, body)

    def accuracy(self) -> Section:
        """Forecast accuracy by lag, bias and value added of the customer's forecast."""
        title = "Forecast accuracy"
        if missing := _unavailable(title, self.analytics, "accuracy"):
            return missing
        for table in ("orders", "customer_forecasts"):
            if why := self.absent(table):
                return _absent_section(title, why)
        acc = self._slice(self.analytics.accuracy)
        by_lag = acc[acc["metric"] == "accuracy"][["source", "lag", "value"]].dropna()
        body = ""
        if len(by_lag):
            fig = figures.lag_figure(
                by_lag,
                title="Forecast accuracy by lag: customer, statistical and naive forecasts",
                target=_float(self.customer["forecast_accuracy_target"]),
            )
            body += figure_html(fig, alt="Forecast accuracy by lag")
        wide = acc[
            acc["metric"].isin(["accuracy", "bias"]) & (acc["lag"].isin([1, 3]))
        ].pivot_table(index="source", columns=["metric", "lag"], values="value", aggfunc="first")
        wide.columns = [
            f"{'Accuracy' if m == 'accuracy' else 'Bias'}, {lag} month{'s' if lag > 1 else ''} ahead"
            for m, lag in wide.columns
        ]
        body += table_html(
            wide.reset_index().rename(columns={"source": "Forecast"}),
            formats=dict.fromkeys(wide.columns, _pct_any),
            print_rows=None,  # one row per forecast compared
        )
        fva = self._slice(self.analytics.value_added)
        if fva is not None and len(fva):
            cols = [c for c in fva.columns if c.startswith("fva_")]
            shown = fva[["lag", *cols]].rename(
                columns={"lag": "Months ahead", **{c: _fva_label(c) for c in cols}}
            )
            body += note_html(
                "Value added: how many points of error one forecast saves over another "
                "(positive: the first is better)."
            )
            body += table_html(shown, formats=dict.fromkeys(shown.columns[1:], "+.1f"))
        bias = self._slice(self.analytics.bias)
        if bias is not None and len(bias):
            alerts = bias[bias["alert"]]
            body += note_html(
                f"Persistent bias: the customer's forecast is one-sidedly off on {len(alerts)} of "
                f"{len(bias)} materials (over or under month after month)."
            )
        return Section(title, body)

    def service(self) -> Section:
        """OTIF, OTD, SLA adherence, air freight and complaints."""
        title = "Service"
        if missing := _unavailable(title, self.analytics, "service"):
            return missing
        for table in ("orders", "deliveries"):
            if why := self.absent(table):
                return _absent_section(title, why)
        trend = self._slice(self.analytics.service)
        body = ""
        if len(trend):
            long = trend.melt(
                id_vars=["period"], value_vars=["otif", "otd"], var_name="KPI", value_name="share"
            )
            long["KPI"] = long["KPI"].str.upper()
            fig = figures.trend_figure(
                long.dropna(subset=["share"]),
                x="period",
                y="share",
                hue="KPI",
                title=f"OTIF and on-time delivery by month ({self.settings.service.date_basis} date)",
                xlabel="Month due",
                ylabel="Order lines (%)",
                target=_float(self.customer["otif_target"]),
                target_label="OTIF target",
                percent=True,
            )
            body += figure_html(fig, alt="OTIF and OTD by month")
        year = self._slice(self.analytics.service_year)
        air = self._slice(self.analytics.air_freight)
        qual = self._slice(self.analytics.quality)
        facts = {
            "OTIF, last 12 months": _pct(_first(year, "otif")),
            "On-time delivery (OTD), last 12 months": _pct(_first(year, "otd")),
            "Lines due, last 12 months": _int(_first(year, "lines_due")),
            "Air-freight deliveries (share of delivery lines)": f"{_int(_first(air, 'air_freight_deliveries'))} ({_pct(_first(air, 'air_freight_share'))})",
            "Air-freight cost, share of delivered value": _pct(_first(air, "cost_share"), digits=1),
            "Complaints / still open": f"{_int(_first(qual, 'complaints'))} / {_int(_first(qual, 'open_complaints'))}",
            "Rejected parts per million delivered (PPM)": _num(_first(qual, "ppm")),
        }
        rows = pd.DataFrame({"": list(facts), " ": list(facts.values())})
        return Section(title, body + table_html(rows, classes="kam-facts"))

    def receivables(self) -> Section:
        """Ageing, overdue, DSO trend, credit utilisation and invoices at risk."""
        title = "Receivables"
        if missing := _unavailable(title, self.analytics, "ageing_history"):
            return missing
        if why := self.absent("invoices"):
            return _absent_section(title, why)
        body = ""
        row = self._ageing_now()
        hist = self._slice(self.analytics.ageing_history)
        buckets = [
            c
            for c in hist.columns
            if c not in {"month_end", "customer_id", "currency", "items", "total", "overdue"}
        ]
        if row is not None:
            frame = pd.DataFrame({"bucket": buckets, "amount": [float(row[b]) for b in buckets]})
            fig = figures.bar_figure(
                frame,
                x="bucket",
                y="amount",
                title=f"Open receivables by days overdue at {self.analytics.as_of:%d %b %Y}",
                xlabel="Days overdue",
                ylabel=f"Open amount ({self.currency})",
            )
            body += figure_html(fig, alt="Receivables ageing")
        else:
            body += note_html("No open receivables at the month end.")
        dso = self._slice(self.analytics.dso)
        dso = dso[dso["currency"] == self.currency].dropna(subset=["dso_countback"])
        if len(dso):
            fig = figures.trend_figure(
                dso.assign(period=dso["month_end"].dt.to_period("M")),
                x="period",
                y="dso_countback",
                title="Days sales outstanding at each month end",
                xlabel="Month end",
                ylabel="DSO (days)",
                target=None if self.terms is None else float(self.terms),
                target_label="Payment terms",
            )
            body += figure_html(fig, alt="DSO trend")
        body += self._receivables_risk()
        top = self.overdue_items()
        if len(top):
            t = top.head(8)
            body += note_html(
                "Overdue invoices to chase, largest amount × days overdue first "
                "(disputed and long-overdue items flagged)."
            )
            body += table_html(
                pd.DataFrame(
                    {
                        "Invoice": t["document_id"].astype(str),
                        "Due": t["due_date"].dt.strftime("%d %b %Y"),
                        "Days overdue": t["days_overdue"],
                        "Open": t["open_amount"],
                        "Currency": t["currency"].astype(str),
                        "Flag": t["flag"],
                    }
                ),
                formats={"Open": ",.0f", "Days overdue": "d"},
            )
        if pd.isna(self.customer["credit_limit"]):
            body += note_html(
                "Action: no credit limit is set for this customer; agree one with finance.",
                kind="warning",
            )
        pay = self._slice(self.analytics.days_to_pay)
        if pay is not None and len(pay):
            body += note_html(
                f"Paid on average {_days(_first(pay, 'days_to_pay'))} after invoicing, "
                f"{_days(_first(pay, 'days_beyond_terms'))} beyond terms (last 12 months, amount-weighted)."
            )
        return Section(title, body)

    def overdue_items(self) -> pd.DataFrame:
        """This customer's overdue open items, largest open amount × days overdue first, with
        ``flag``: "disputed" (optional invoice flag), "long overdue: bad-debt risk" (> 90 days)."""
        aged = self._slice(self.analytics.receivables)
        if aged is None or aged.empty:
            return pd.DataFrame(columns=["document_id", "due_date", "days_overdue", "flag"])
        od = aged[(aged["days_overdue"] > 0) & (aged["open_amount"] > 0)]
        od = od.assign(weight=od["open_amount"] * od["days_overdue"])
        od = od.sort_values("weight", ascending=False, ignore_index=True)
        disputed = (
            od["disputed"].fillna(False).astype(bool)
            if "disputed" in od.columns
            else pd.Series(False, index=od.index)
        )
        long = od["days_overdue"] > 90
        flag = pd.Series("", index=od.index, dtype="string")
        flag = flag.mask(long, "long overdue: bad-debt risk")
        flag = flag.mask(disputed, "disputed").mask(disputed & long, "disputed, long overdue")
        return od.assign(flag=flag)

    def expected_loss(self) -> pd.DataFrame | None:
        """Expected credit loss of this customer's receivables (IFRS 9 provision matrix over
        the portfolio's month-end ageing history, per currency): currency, provision, reason."""
        a = self.analytics
        pm = getattr(a, "provision", None)  # a shared-analytics step may provide it
        if pm is None:
            hist = a.ageing_history
            if hist is None or hist.empty:
                return None
            from kamlab.receivables import provision_matrix

            # the portfolio's roll rates: a few hundred month-end rows, milliseconds
            pm = provision_matrix(
                hist,
                hist[hist["month_end"] == a.as_of],
                write_off_loss_rate=self.settings.receivables.write_off_loss_rate,
            ).by_customer
        mine = self._slice(pm)
        return mine[["currency", "provision", "reason"]] if len(mine) else None

    def late_risk(self) -> pd.DataFrame:
        """Open invoices likely to be paid more than ``late_days`` late (probability ≥ 0.5,
        :func:`kamlab.receivables.late_payment_risk`), not yet beyond the overdue grace."""
        lp = self._slice(getattr(self.analytics, "late_payment", None))
        if lp is None or lp.empty:
            return pd.DataFrame(columns=["document_id", "currency", "amount", "probability"])
        aged = self._slice(self.analytics.receivables)
        grace = self.settings.scorecard.overdue_grace_days
        open_amount = (
            aged.groupby("document_id", observed=True)
            .agg(open_amount=("open_amount", "sum"), days_overdue=("days_overdue", "max"))
            .reset_index()
            if aged is not None and len(aged)
            else pd.DataFrame(columns=["document_id", "open_amount", "days_overdue"])
        )
        lp = lp.merge(open_amount, on="document_id", how="left")
        likely = lp[(lp["probability"] >= 0.5) & ~(lp["days_overdue"] > grace)]
        return likely.assign(amount=likely["open_amount"].fillna(likely["amount"]))

    def _receivables_risk(self) -> str:
        out = ""
        lp = self._slice(getattr(self.analytics, "late_payment", None))
        if lp is not None and len(lp):
            likely = self.late_risk()
            days = self.settings.receivables.late_days
            money = ", ".join(
                f"{_short(v)} {c}" for c, v in likely.groupby("currency")["amount"].sum().items()
            )
            out += note_html(
                f"Late-payment risk: {len(likely)} of {len(lp)} open invoices are likely (≥ 50 %) "
                f"to be paid more than {days} days late"
                + (f" ({money})" if len(likely) else "")
                + "; model trained on this ledger's paid invoices."
            )
        el = self.expected_loss()
        if el is None or el.empty:
            return out
        parts = [
            f"{_short(r.provision)} {r.currency}"
            for r in el.itertuples(index=False)
            if r.provision == r.provision
        ]
        if not parts:
            return out
        return out + note_html(
            f"Expected credit loss (provision matrix from the portfolio's payment history): "
            f"{', '.join(parts)}."
        )

    def actions(self) -> Section:
        """The actions agreed in earlier reviews and still open, overdue ones first."""
        title = "Open actions"
        actions = getattr(self.analytics, "actions", None)
        if actions is None or len(actions) == 0:
            return Section(
                title,
                note_html(
                    "Not available: no actions in the data (add an `actions` extract to "
                    "follow up what was agreed in earlier reviews).",
                    kind="unavailable",
                ),
                status="empty",
            )
        mine = self.open_actions().sort_values(["overdue", "due"], ascending=[False, True])
        if mine.empty:
            return Section(title, note_html("No open actions for this customer."))
        table = pd.DataFrame(
            {
                "Topic": mine["topic"].astype(str),
                "Owner": mine["owner"].astype(str),
                "Opened": mine["opened"].dt.strftime("%d %b %Y"),
                "Due": mine["due"].dt.strftime("%d %b %Y"),
                "Status": mine["status"].astype(str)
                + mine["overdue"].map({True: " — overdue", False: ""}),
            }
        )
        n = int(mine["overdue"].sum())
        return Section(
            title,
            table_html(table, print_rows=None)  # each one is reported on: all print
            + note_html(f"{len(mine)} open, {n} past due: overdue actions raise the priority."),
        )

    def classification(self) -> Section:
        """ABC / XYZ class, key-account quadrant and its movement."""
        title = "Classification"
        if missing := _unavailable(title, self.analytics, "classes"):
            return missing
        classes = self._slice(self.analytics.classes).set_index("when")
        matrix = self._slice(self.analytics.matrix)

        def pick(when: str, column: str) -> str:
            return str(classes.at[when, column]) if when in classes.index else "–"

        facts = {
            "ABC by revenue (now / a year ago)": f"{pick('now', 'abc_class')} / {pick('year_ago', 'abc_class')}",
            "Revenue rank in the portfolio": pick("now", "rank"),
            "XYZ by demand variability (now / a year ago)": f"{pick('now', 'xyz_class')} / {pick('year_ago', 'xyz_class')}",
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

    def commentary(self) -> Section:
        """What changed and what needs action, in plain language."""
        from kamlab.scorecard.commentary import commentary

        items = commentary(self)
        body = (
            '<ul class="kam-commentary">' + "".join(f"<li>{_esc(t)}</li>" for t in items) + "</ul>"
        )
        return Section("Commentary", body)


def _unavailable_note(analytics: PackAnalytics, *names: str) -> str:
    missing = sorted({analytics.unavailable[n] for n in names if n in analytics.unavailable})
    return note_html(f"Not available: {'; '.join(missing)}.", kind="unavailable") if missing else ""


_CRITERIA_WORDS = {
    "otif": "on-time in-full delivery",
    "complaints": "complaints",
    "forecast accuracy": "forecast accuracy",
    "payment behaviour": "payment behaviour",
}


def plain_explanation(text: str) -> str:
    """A key-account-matrix explanation in words a KAM uses ("led by otif" -> "led by
    on-time in-full delivery")."""
    return re.sub(r"\botif\b", _CRITERIA_WORDS["otif"], text)


def _absent_section(title: str, why: str) -> Section:
    """A section whose data is not there: says so, grey, never a number."""
    return Section(title, note_html(f"Not available: {why}.", kind="unavailable"), status="empty")


def _score(value: object) -> str:
    """A 0-1 score with two decimals; "not scored" when a criterion is missing."""
    v = _float(value)
    return "not scored" if v != v else f"{v:.2f}"


def _fva_label(column: str) -> str:
    """ "fva_customer_vs_naive" -> "Customer's forecast vs naive (points saved)"."""
    words = {"customer": "customer's forecast", "statistical": "our forecast", "naive": "naive"}
    a, _, b = column.removeprefix("fva_").partition("_vs_")
    first = words.get(a, a)
    return f"{first[0].upper()}{first[1:]} vs {words.get(b, b)} (points saved)"


def _overdue_buckets(columns) -> list[str]:
    """The ageing bucket columns that are overdue ("1-30", ..., ">120")."""
    return [str(c) for c in columns if re.fullmatch(r"\d+-\d+|>\d+", str(c))]


def _bucket_start(bucket: str) -> int:
    """First day overdue of an ageing bucket: "31-60" -> 31, ">120" -> 121."""
    if bucket.startswith(">"):
        return int(bucket[1:]) + 1
    return int(bucket.split("-")[0])


def _float(value: object) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def _first(frame: pd.DataFrame | None, column: str) -> float:
    return _float(frame[column].iloc[0]) if frame is not None and len(frame) else float("nan")


def _pct(value: float, *, signed: bool = False, digits: int = 0) -> str:
    if value != value:
        return "–"
    shown = round(value * 100, digits) + 0.0  # + 0.0 turns -0.0 into 0.0: no "-0 %"
    return f"{shown:{'+' if signed and shown else ''}.{digits}f} %"


def _signed_pct(value: object) -> str:
    return _pct(_float(value), signed=True)


def _pct_any(value: object) -> str:
    return _pct(_float(value), digits=0)


def _short(value: object) -> str:
    """An amount in thousands or millions: 1.2M, 350k."""
    v = _float(value)
    if v != v:
        return "–"
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.1f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:,.0f}k"
    return f"{v:,.0f}"


def _num(value: float) -> str:
    return "–" if value != value else f"{round(value) + 0:,.0f}"  # + 0: no "-0"


def _days(value: float) -> str:
    """'1 day', '12 days', '–' for a missing figure."""
    text = _num(value)
    return text if text == "–" else f"{text} {'day' if text in ('1', '-1') else 'days'}"


def _int(value: float) -> str:
    return "–" if value != value else f"{int(value):,}"


def _money(value: object, currency: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):,.0f} {currency}"


def _esc(text: str) -> str:
    return html.escape(text)
