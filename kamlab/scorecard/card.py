"""One customer's scorecard: each method is one section, built from the shared analytics.

A notebook calls ``open_scorecard(...)`` once and then one section per cell; every section
returns a :class:`~kamlab.scorecard.render.Section` (HTML), so a cell shows exactly one
output. Sections only select, format, plot and comment: every number comes from
:class:`~kamlab.chain.PackAnalytics`, computed by the analytics modules.
"""

from __future__ import annotations

import html
import os

import pandas as pd

from kamlab.chain import ChainError, PackAnalytics, load_analytics, parse_month
from kamlab.config import Settings
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
from kamlab.scorecard.tiles import Tile, rag_status, tiles_html

__all__ = [
    "OPTIONS",
    "Scorecard",
    "ScorecardError",
    "open_analytics",
    "open_scorecard",
    "overdue_share",
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
        cache_dir=options.get("cache_dir", ""),
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

    #: the section methods, in the order the scorecard notebook shows them
    SECTIONS: tuple[str, ...] = (
        "header",
        "tiles",
        "commentary",
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
        """The headline tiles (the scorecard's top row and the pack index's key figures)."""
        return [
            self._otif_tile(),
            self._accuracy_tile(),
            self._budget_tile(),
            self._overdue_tile(),
            self._credit_tile(),
            self._dso_tile(),
        ]

    # -- tiles: each picks one figure an analytics module computed and colours it ----------
    def _missing(self, label: str, *names: str) -> Tile | None:
        reasons = [self.analytics.unavailable[n] for n in names if n in self.analytics.unavailable]
        return Tile(label, "–", "", "grey", "not available yet") if reasons else None

    def _otif_tile(self) -> Tile:
        label = f"OTIF {self.month.strftime('%b %Y')}"
        if tile := self._missing(label, "service"):
            return tile
        rows = self._slice(self.analytics.service)
        rows = rows[rows["period"] == self.month]
        target = _float(self.customer["otif_target"])
        value = _float(rows["otif"].iloc[0]) if len(rows) else float("nan")
        note = f"{int(rows['lines_due'].iloc[0])} lines due" if len(rows) else "no lines due"
        return self._target_tile(label, value, target, note=note)

    def _accuracy_tile(self) -> Tile:
        label = "Forecast accuracy, lag 1"
        if tile := self._missing(label, "accuracy"):
            return tile
        value = self._accuracy_value("customer", lag=1, metric="accuracy")
        target = _float(self.customer["forecast_accuracy_target"])
        return self._target_tile(label, value, target, note="customer forecast, 1 − WAPE")

    def _target_tile(self, label: str, value: float, target: float, *, note: str) -> Tile:
        margin = self.settings.scorecard.amber_margin
        status = rag_status(value, green=target, amber=target - margin)
        if target != target:  # no SLA target agreed: show the figure without a colour
            status = "grey" if value != value else "green"
        return Tile(label, _pct(value), f"target {_pct(target)}", status, note)

    def _accuracy_value(self, source: str, *, lag: int, metric: str) -> float:
        acc = self._slice(self.analytics.accuracy)
        row = acc[(acc["source"] == source) & (acc["lag"] == lag) & (acc["metric"] == metric)]
        return _float(row["value"].iloc[0]) if len(row) else float("nan")

    def _budget_tile(self) -> Tile:
        label = "Revenue vs budget, YTD"
        if tile := self._missing(label, "plan"):
            return tile
        plan = self._slice(self.analytics.plan)
        row = plan[(plan["measure"] == "revenue") & (plan["currency"] == self.currency)]
        if row.empty:
            return Tile(label, "–", "", "grey", "no budget")
        r = row.iloc[0]
        value = _float(r["ytd_variance_pct"])
        margin = self.settings.scorecard.amber_margin
        status = rag_status(value, green=0.0, amber=-margin)
        return Tile(
            label,
            _pct(value, signed=True),
            f"{_short(r['ytd_actual'])} vs plan {_short(r['ytd_plan'])} {self.currency}",
            status,
        )

    def _overdue_tile(self) -> Tile:
        label = "Overdue share"
        if tile := self._missing(label, "ageing_history"):
            return tile
        row = self._ageing_now()
        if row is None or not row["total"] > 0:
            return Tile(label, "–", "", "grey", "no open receivables")
        if row["overdue"] <= 0:  # unapplied credits outweigh the overdue invoices
            total = f"{_short(row['total'])} {self.currency} open"
            return Tile(label, "0 %", total, "green", "net credit in the overdue buckets")
        value = overdue_share(row["overdue"], row["total"])
        s = self.settings.scorecard
        status = rag_status(
            value, green=s.overdue_share_amber, amber=s.overdue_share_red, higher_is_better=False
        )
        return Tile(
            label,
            _pct(value),
            f"{_short(row['overdue'])} of {_short(row['total'])} {self.currency} open",
            status,
        )

    def _ageing_now(self) -> pd.Series | None:
        hist = self._slice(self.analytics.ageing_history)
        now = hist[
            (hist["month_end"] == self.analytics.as_of) & (hist["currency"] == self.currency)
        ]
        return now.iloc[0] if len(now) else None

    def _credit_tile(self) -> Tile:
        label = "Credit utilisation"
        if tile := self._missing(label, "credit"):
            return tile
        credit = self._slice(self.analytics.credit)
        if credit.empty:
            return Tile(label, "–", "", "grey", "no credit limit")
        r = credit.iloc[0]
        status = {"ok": "green", "warning": "amber", "over limit": "red"}.get(
            str(r["status"]), "grey"
        )
        return Tile(
            label,
            _pct(_float(r["utilisation"])),
            f"limit {_short(r['credit_limit'])} {r['currency']}",
            status,
        )

    def _dso_tile(self) -> Tile:
        label = "DSO (countback)"
        if tile := self._missing(label, "dso"):
            return tile
        d = self._slice(self.analytics.dso)
        d = d[(d["month_end"] == self.analytics.as_of) & (d["currency"] == self.currency)]
        value = _float(d["dso_countback"].iloc[0]) if len(d) else float("nan")
        terms = int(self.customer["payment_terms_days"])
        status = rag_status(
            value,
            green=terms,
            amber=terms + self.settings.scorecard.dso_amber_days,
            higher_is_better=False,
        )
        shown = "–" if value != value else f"{value:.0f} days"
        return Tile(label, shown, f"terms {terms} days", status)

    # -- sections --------------------------------------------------------------------------
    def sales(self) -> Section:
        """Revenue and volume against budget and last year: month, year to date, full year."""
        title = "Revenue and volume"
        body = ""
        d = self._slice(self.analytics.customer_demand)
        if d is not None and len(d):
            start = pd.Period(f"{self.month.year - 1}-01", "M")
            d = d[(d["period"] >= start) & (d["period"] <= self.month)].assign(
                year=lambda f: f["period"].dt.year.astype(str),
                month_name=lambda f: f["period"].dt.strftime("%b"),
            )
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
        missing = _unavailable_note(self.analytics, "plan")
        if missing:
            return Section(title, body + missing)
        plan = self._slice(self.analytics.plan)
        if plan.empty:
            return Section(title, body + note_html("No budget for this customer."))
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
        """Where the customer's forecast deviates from history or the statistical forecast."""
        title = "Forecast challenge list"
        if missing := _unavailable(title, self.analytics, "challenges"):
            return missing
        c = self._slice(self.analytics.challenges)
        if c.empty:
            return Section(
                title, note_html("Nothing to challenge: the latest customer forecast is in line.")
            )
        top = c.sort_values("rank").head(10)
        names = self.analytics.materials.set_index("material_id")["description"]
        table = pd.DataFrame(
            {
                "Material": top["material_id"].astype(str)
                + " "
                + top["material_id"].map(names).fillna("").astype(str),
                "Month": top["period"].astype(str),
                "Customer": top["customer_forecast"],
                "Statistical": top["statistical_forecast"],
                "Last year": top["last_year"],
                "Value at stake": top["value_at_stake"],
                "Why": top["reason"],
            }
        )
        body = table_html(
            table,
            formats={
                "Customer": ",.0f",
                "Statistical": ",.0f",
                "Last year": ",.0f",
                "Value at stake": ",.0f",
            },
        )
        currency = ", ".join(sorted(top["currency"].dropna().astype(str).unique()))
        body += note_html(
            f"{len(c)} figures flagged; the 10 with the most value at stake ({currency}) shown."
        )
        return Section(title, body)

    def accuracy(self) -> Section:
        """Forecast accuracy by lag, bias and value added of the customer's forecast."""
        title = "Forecast accuracy"
        if missing := _unavailable(title, self.analytics, "accuracy"):
            return missing
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
        wide.columns = [f"{m} lag {lag}" for m, lag in wide.columns]
        body += table_html(
            wide.reset_index().rename(columns={"source": "Forecast"}),
            formats=dict.fromkeys(wide.columns, _pct_any),
        )
        fva = self._slice(self.analytics.value_added)
        if fva is not None and len(fva):
            cols = [c for c in fva.columns if c.startswith("fva_")]
            shown = fva[["lag", *cols]].rename(
                columns={c: c.removeprefix("fva_").replace("_", " ") for c in cols}
            )
            body += note_html(
                "Value added: error points (WAPE × 100) one forecast saves over another; positive = better."
            )
            body += table_html(shown, formats=dict.fromkeys(shown.columns[1:], "+.1f"))
        bias = self._slice(self.analytics.bias)
        if bias is not None and len(bias):
            alerts = bias[bias["alert"]]
            body += note_html(
                f"Tracking signal: {len(alerts)} of {len(bias)} materials show persistent bias "
                f"in the customer's forecast (|TS| > {self.settings.accuracy.tracking_signal_limit:g})."
            )
        return Section(title, body)

    def service(self) -> Section:
        """OTIF, OTD, SLA adherence, air freight and complaints."""
        title = "Service"
        if missing := _unavailable(title, self.analytics, "service"):
            return missing
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
                title="Days sales outstanding (countback) at each month end",
                xlabel="Month end",
                ylabel="DSO (days)",
                target=float(self.customer["payment_terms_days"]),
                target_label="Payment terms",
            )
            body += figure_html(fig, alt="DSO trend")
        top = self._slice(self.analytics.top_overdue)
        if top is not None and len(top):
            t = top.head(5)
            body += note_html("Largest overdue invoices: chase these first.")
            body += table_html(
                pd.DataFrame(
                    {
                        "Invoice": t["document_id"].astype(str),
                        "Due": t["due_date"].dt.strftime("%d %b %Y"),
                        "Days overdue": t["days_overdue"],
                        "Open": t["open_amount"],
                        "Currency": t["currency"].astype(str),
                    }
                ),
                formats={"Open": ",.0f", "Days overdue": "d"},
            )
        pay = self._slice(self.analytics.days_to_pay)
        if pay is not None and len(pay):
            body += note_html(
                f"Paid on average {_days(_first(pay, 'days_to_pay'))} after invoicing, "
                f"{_days(_first(pay, 'days_beyond_terms'))} beyond terms (last 12 months, amount-weighted)."
            )
        return Section(title, body)

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
                f"{m['attractiveness']:.2f} / {m['strength']:.2f}"
            )
            facts["Why"] = str(m["explanation"])
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


def overdue_share(overdue: float, total: float) -> float:
    """Share of open receivables that is overdue: overdue / total (fraction, lower is better).

    Both from :func:`kamlab.receivables.ageing_history` at the month end, in one currency;
    NaN when nothing is open.

    >>> overdue_share(150.0, 1000.0)
    0.15
    """
    return float(overdue) / float(total) if total > 0 else float("nan")


def _unavailable_note(analytics: PackAnalytics, *names: str) -> str:
    missing = sorted({analytics.unavailable[n] for n in names if n in analytics.unavailable})
    return (
        note_html(f"Not available yet: {'; '.join(missing)}.", kind="unavailable")
        if missing
        else ""
    )


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
    """An amount in thousands or millions: 1.2 m, 350 k."""
    v = _float(value)
    if v != v:
        return "–"
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.1f} m"
    if abs(v) >= 1e4:
        return f"{v / 1e3:,.0f} k"
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
