"""The pack's front page: portfolio KPIs, key-account matrix, rankings, overdue, accuracy league."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence

import pandas as pd

from kamlab.chain import PackAnalytics
from kamlab.i18n import formats as fmt
from kamlab.i18n import text
from kamlab.scorecard import figures
from kamlab.scorecard.accuracy import fva_label
from kamlab.scorecard.card import Scorecard, open_analytics
from kamlab.scorecard.classification import plain_explanation
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
from kamlab.scorecard.tiles import STATUS_WORDS
from kamlab.scorecard.values import coverage_note, unavailable_section

__all__ = ["PACK_JSON_VERSION", "Portfolio", "open_portfolio", "overall_status"]

#: version of the pack.json layout (:meth:`Portfolio.pack_json`); bump on any change
PACK_JSON_VERSION = "2.0"

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


def _overdue_flag(row) -> str:
    """Disputed (optional invoice flag) or long overdue (> 90 days): not a routine call."""
    flags = []
    if bool(getattr(row, "disputed", False) or False):
        flags.append(text("disputed"))
    if row.days_overdue > 90:
        flags.append(text("long overdue: bad-debt risk"))
    return ", ".join(flags)


def _error_label(column: str) -> str:
    """The league's header for an ``error_<source>`` column."""
    source = column.removeprefix("error_")
    labels = {
        "customer": text("Error, customer forecast"),
        "statistical": text("Error, statistical forecast"),
        "naive": text("Error, naive forecast"),
    }
    return labels.get(source) or text("Error, {source} forecast", source=source)


def _whole(value: object) -> str:
    """A whole amount with thousands separators in the active language ("1,235")."""
    return fmt.number(value)


def _decimal(value: object) -> str:
    """A figure with two decimals in the active language ("1,234.50" / "1.234,50")."""
    return fmt.current().number(value, digits=2)


def _signed_decimal(value: object) -> str:
    """A signed figure with one decimal: "+3.2" ("+3,2" in German)."""
    if fmt.current().english:
        return format(value, "+.1f")
    shown = fmt.current().number(value, digits=1)
    return shown if shown.startswith("-") else "+" + shown


def _stake_text(stake: dict) -> str:
    return ", ".join(f"{fmt.short_amount(v)} {c}" for c, v in sorted(stake.items())) or "–"


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

    def __init__(
        self,
        analytics: PackAnalytics,
        *,
        stake: Sequence[pd.DataFrame] = (),
        previous: pd.DataFrame | None = None,
    ) -> None:
        """`stake`: more money-at-stake frames (customer_id, currency, amount, kind), added to
        each account's priority besides the chain's findings (:mod:`kamlab.findings`);
        `previous`: last month's findings (the previous pack's ``pack.json``, read by the
        pack), to mark each finding new / persisting / resolved."""
        self.analytics = analytics
        self.month = analytics.month
        chained = (analytics.money_at_stake,)
        self.stake = [f for f in chained if f is not None and len(f)] + list(stake)
        self.previous = previous
        self._cards: dict[str, Scorecard] = {}
        self._priorities: pd.DataFrame | None = None
        self._findings: pd.DataFrame | None = None

    def card(self, customer_id: str) -> Scorecard:
        if customer_id not in self._cards:
            self._cards[customer_id] = Scorecard(self.analytics, customer_id)
        return self._cards[customer_id]

    def findings(self) -> pd.DataFrame:
        """The month's findings (:func:`kamlab.findings.findings`, from the chain) with
        ``status`` new / persisting / resolved against last month's (`previous`) and
        ``weighted``: the amount in the priority's basis × the kind's weight."""
        from kamlab.findings import compare, findings

        if self._findings is not None:
            return self._findings
        table = self.analytics.findings
        if table is None:
            table = findings(customers=self.analytics.customers, month=self.month,
                             revenue=pd.DataFrame(columns=["customer_id", "currency", "revenue"]))  # fmt: skip
        out = compare(table, self.previous)
        sc = self.analytics.settings.scorecard
        rates = {sc.reporting_currency: 1.0, **sc.fx_rates} if sc.fx_rates else {}
        rate = out["currency"].map(
            lambda c: rates.get(c, float("nan")) if isinstance(c, str) else float("nan")
        )
        weight = out["kind"].map(lambda k: sc.stake_weights.get(k, 1.0)).astype("float64")
        out["weighted"] = (out["amount"] * rate.astype("float64") * weight).astype("float64")
        order = {"red": 0, "amber": 1, "note": 2}
        out = out.assign(
            _s=out["severity"].map(order),
            _r=(out["status"] == "resolved"),
            _w=out["weighted"].fillna(out["amount"]).fillna(-1.0),
        ).sort_values(["customer_id", "_r", "_s", "_w"], ascending=[True, True, True, False])
        self._findings = out.drop(columns=["_s", "_r", "_w"]).reset_index(drop=True)
        return self._findings

    def customer_findings(self, customer_id: str, *, resolved: bool = False) -> pd.DataFrame:
        """One customer's findings in priority order (resolved ones only if asked)."""
        f = self.findings()
        mine = f[f["customer_id"] == customer_id]
        return mine if resolved else mine[mine["status"] != "resolved"]

    def status(self, customer_id: str) -> str:
        """The account's colour: the worst of its headline figures and its findings."""
        tiles = [t.status for t in self.card(customer_id).headline_tiles()]
        sev = self.customer_findings(customer_id)["severity"]
        worst = [s for s in ("red", "amber") if (sev == s).any()]
        return overall_status(tiles + worst)

    def priorities(self) -> pd.DataFrame:
        """Every customer's priority (:func:`kamlab.scorecard.priority.priority`), rank 1 first,
        with ``why``: one short sentence from the account's top findings."""
        from kamlab.scorecard.priority import priority

        if self._priorities is not None:
            return self._priorities.copy()
        a, sc_settings = self.analytics, self.analytics.settings.scorecard
        parts, revenue, actions, status = list(self.stake), [], {}, {}
        for cid in a.customer_ids():
            card = self.card(cid)
            revenue.append(
                {"customer_id": cid, "currency": card.currency, "revenue": card.revenue_12m()}
            )
            actions[cid] = card.overdue_actions()
            status[cid] = self.status(cid)
        out = priority(
            parts,
            customers=a.customer_ids(),
            revenue=pd.DataFrame(revenue),
            rates={sc_settings.reporting_currency: 1.0, **sc_settings.fx_rates}
            if sc_settings.fx_rates
            else None,
            reporting_currency=sc_settings.reporting_currency,
            overdue_actions=actions,
            action_weight=sc_settings.overdue_action_weight,
            weights=sc_settings.stake_weights,
            status=status,
        )
        out["status"] = out["customer_id"].map(status)
        out["why"] = [self._why(r) for r in out.itertuples(index=False)]
        self._priorities = out
        return out.copy()

    def _why(self, row) -> str:
        from kamlab.scorecard.reasons import why

        card = self.card(row.customer_id)
        return why(
            self.customer_findings(row.customer_id),
            rank=int(row.rank),
            stake=row.stake,
            currency=card.currency,
        )

    def summary(self) -> pd.DataFrame:
        """One row per customer, highest priority first: id, name, account manager, overall
        status, priority rank, money at stake and why, each tile's value (text), its colour
        (column "<label> status") and its figure (column "<label> number";
        ``attrs["units"]`` maps each label to the tile's unit, ``attrs["stakes"]`` each
        customer to its money at stake as numbers, {currency: amount})."""
        pri = self.priorities().set_index("customer_id")
        rows, units = [], {}
        for cid in pri.index:
            card = self.card(cid)
            tiles = card.headline_tiles()
            p = pri.loc[cid]
            row = {
                "customer_id": cid,
                "name": str(card.customer["name"]),
                "account_manager": str(card.customer["account_manager"]),
                "status": str(p["status"]),
                "priority": int(p["rank"]),
                "money_at_stake": _stake_text(p["stake"]),
                "score": round(float(p["score"]), 2),
                "why": str(p["why"]),
                "new": self._new_text(cid),
                "findings": self._finding_counts(cid),
            }
            row.update({t.label: t.value for t in tiles})
            row.update({f"{t.label} status": t.status for t in tiles})
            row.update({f"{t.label} number": t.number for t in tiles})
            rows.append(row)
            for t in tiles:  # a tile without a figure has no unit: take one that has
                units[t.label] = units.get(t.label) or t.unit
        out = pd.DataFrame(rows)
        out.attrs["units"] = units
        out.attrs["stakes"] = {cid: dict(pri.loc[cid, "stake"]) for cid in pri.index}
        return out

    def _finding_counts(self, customer_id: str) -> str:
        """ "1 red, 2 amber findings" ("" when none is red or amber)."""
        sev = self.customer_findings(customer_id)["severity"]
        parts = [
            text("{n} red", n=fmt.count((sev == "red").sum())) if (sev == "red").any() else "",
            text("{n} amber", n=fmt.count((sev == "amber").sum()))
            if (sev == "amber").any()
            else "",
        ]
        counts = ", ".join(p for p in parts if p)
        if not counts:
            return ""
        if len(sev[sev != "note"]) > 1:
            return text("{counts} findings", counts=counts)
        return text("{counts} finding", counts=counts)

    def _new_text(self, customer_id: str) -> str:
        """The findings new since last pack, as short phrases ("" when none or no last pack)."""
        from kamlab.scorecard.reasons import phrase

        if self.previous is None:
            return ""
        mine = self.customer_findings(customer_id)
        new = mine[(mine["status"] == "new") & mine["severity"].isin(["red", "amber"])]
        card = self.card(customer_id)
        return "; ".join(phrase(r, card.currency) for r in new.to_dict("records"))

    def findings_records(self) -> list[dict]:
        """The findings table as plain records (pack.json ``findings``; NaN as null)."""
        f = self.findings()
        out = []
        for r in f.to_dict("records"):
            out.append({k: (None if v is None or v != v or v is pd.NA else
                            (float(v) if isinstance(v, float) else str(v)))
                        for k, v in r.items()})  # fmt: skip
        return out

    def pack_json(self) -> dict:
        """The pack as plain data for BI tools and scripts (``reports/YYYY-MM/pack.json``).

        Layout (version :data:`PACK_JSON_VERSION`)::

            {"schema_version", "month", "reporting_currency", "priority_basis",
             "stake_weights": {kind: weight}, "fx_rates": {currency: rate},
             "findings": [{"customer_id", "kind", "group", "severity", "currency", "amount",
                           "value", "reference", "months", "since", "evidence", "detail",
                           "status", "weighted"}],
             "customers": [{"customer_id", "name", "account_manager", "status",
                 "priority": {"rank", "score", "money_at_stake": {currency: amount},
                              "parts": [{"kind", "currency", "amount", "weighted"}],
                              "overdue_actions", "why"},
                 "findings": [str],
                 "kpis": [{"label", "value", "status", "target", "note", "trend",
                           "number", "unit"}],
                 "challenge_lines", "challenge_figures_flagged", "commentary": [str]}]}

        Customers in priority order; amounts in the stated currency, never summed across
        currencies. ``findings`` is the month's findings table (:mod:`kamlab.findings`:
        severity red/amber/note, ``status`` new/persisting/resolved against the previous
        pack's pack.json, ``weighted`` = amount × rate × the kind's weight, the priority's
        unit); each customer's ``findings`` are its open findings as sentences, the same rows.
        A customer's ``status`` is the worst of its KPIs and findings. A KPI's ``value`` is
        the text shown on the page ("–" when missing),
        ``number`` the same figure as a number (null when missing) in ``unit`` ("share":
        0.9 = 90 %, or "days").
        """
        from kamlab.scorecard.commentary import commentary
        from kamlab.scorecard.reasons import sentence

        pri = self.priorities()
        customers = []
        for r in pri.itertuples(index=False):
            card = self.card(r.customer_id)
            tiles = card.headline_tiles()
            flagged = card._slice(self.analytics.challenges)
            customers.append(
                {
                    "customer_id": r.customer_id,
                    "name": str(card.customer["name"]),
                    "account_manager": str(card.customer["account_manager"]),
                    "status": str(r.status),
                    "priority": {
                        "rank": int(r.rank),
                        "score": round(float(r.score), 2),
                        "money_at_stake": {k: float(v) for k, v in r.stake.items()},
                        "parts": r.parts,
                        "overdue_actions": int(r.overdue_actions),
                        "why": r.why,
                    },
                    "findings": [
                        sentence(f, card.currency)
                        for f in self.customer_findings(r.customer_id).to_dict("records")
                    ],
                    "kpis": [
                        {
                            "label": t.label,
                            "value": t.value,
                            "status": t.status,
                            "target": t.target,
                            "note": t.note,
                            "trend": t.trend,
                            "number": None
                            if t.number is None or t.number != t.number
                            else round(float(t.number), 4),
                            "unit": t.unit,
                        }
                        for t in tiles
                    ],
                    "challenge_lines": int(len(card.focused_challenges())),
                    "challenge_figures_flagged": 0 if flagged is None else int(len(flagged)),
                    "commentary": commentary(card),
                }
            )
        sc_settings = self.analytics.settings.scorecard
        return {
            "schema_version": PACK_JSON_VERSION,
            "month": str(self.month),
            "reporting_currency": sc_settings.reporting_currency,
            "priority_basis": str(pri["basis"].iloc[0]) if len(pri) else None,
            "stake_weights": dict(sc_settings.stake_weights),
            "fx_rates": dict(sc_settings.fx_rates),
            "findings": self.findings_records(),
            "customers": customers,
        }

    def header(self) -> Section:
        title = text("Key account portfolio — {month}", month=fmt.month(self.month))
        n = len(self.analytics.customers)
        return Section(
            title,
            f"<h1>{html.escape(title)}</h1>"
            + coverage_note(self.analytics)
            + note_html(text("{n} customers.", n=fmt.count(n))),
        )

    def priority(self) -> Section:
        """The accounts in priority order: money at stake, its largest parts, and why."""
        from kamlab.scorecard.reasons import ranking_text

        pri = self.priorities()
        names = self.analytics.customers.set_index("customer_id")["name"]
        weighted = text("Weighted")
        table = pd.DataFrame(
            {
                "#": pri["rank"],
                text("Customer"): pri["customer_id"].map(names),
                text("Money at stake"): pri["stake"].map(_stake_text),
                weighted: pri["score"].round(0),
                text("Why look at it"): pri["why"],
            }
        )
        note = note_html(ranking_text(self.analytics.settings))
        formats = {} if fmt.current().english else {weighted: _decimal}
        return Section(
            text("Where to look first"),
            note + table_html(table, formats=formats, max_rows=len(table) or 1),
        )

    def kpis(self) -> Section:
        """Per headline KPI, how many customers are off, near or on target (or without data)."""
        summary = self.summary()
        status_cols = [c for c in summary.columns if c.endswith(" status")]
        rows = []
        for col in status_cols:
            counts = summary[col].value_counts()
            rows.append(
                {
                    text("KPI"): col.removesuffix(" status"),
                    **{text(STATUS_WORDS[s]): int(counts.get(s, 0)) for s in _ORDER},
                }
            )
        overall = summary["status"].value_counts()
        rows.append(
            {
                text("KPI"): text("Customer (worst KPI)"),
                **{text(STATUS_WORDS[s]): int(overall.get(s, 0)) for s in _ORDER},
            }
        )
        return Section(text("Portfolio KPIs"), table_html(pd.DataFrame(rows)))

    def matrix(self) -> Section:
        """Attractiveness against strength, one labelled point per customer."""
        title = text("Key-account matrix")
        if missing := unavailable_section(title, self.analytics, "matrix"):
            return missing
        names = self.analytics.customers.set_index("customer_id")["name"]
        m = self.analytics.matrix.assign(customer=lambda f: f["customer_id"].map(names))
        threshold = self.analytics.settings.classify.matrix_threshold
        axes = ("attractiveness", "strength")
        unscored = [axis for axis in axes if m[axis].isna().all()]
        flat = [
            axis for axis in axes if m[axis].notna().sum() > 1 and m[axis].round(6).nunique() == 1
        ]
        if unscored or flat:  # no points, or all on one value: stacked, names unreadable
            scores = {"attractiveness": text("attractiveness"), "strength": text("strength")}
            why = []
            if unscored:
                why.append(
                    text(
                        "no customer has a {scores} score",
                        scores=text(" or ").join(scores[a] for a in unscored),
                    )
                )
            if flat:
                why.append(
                    text(
                        "every customer has the same {scores} score",
                        scores=text(" and ").join(scores[a] for a in flat),
                    )
                )
            said = text(
                "The matrix is not drawn: {reasons}, because the data lacks the criteria "
                "behind it (see each customer's explanation below).",
                reasons="; ".join(why),
            )
            table = m.assign(explanation=m["explanation"].map(plain_explanation))[
                ["customer", "quadrant", "explanation"]
            ].rename(
                columns={
                    "customer": text("Customer"),
                    "quadrant": text("Quadrant"),
                    "explanation": text("Why"),
                }
            )
            return Section(
                title, note_html(said, kind="unavailable") + table_html(table, max_rows=60)
            )
        fig = figures.scatter_figure(
            m,
            x="strength",
            y="attractiveness",
            hue="quadrant",
            label="customer",
            title=text("Key-account matrix: customer attractiveness against our strength"),
            xlabel=text("Our relative strength with the customer (score 0–1)"),
            ylabel=text("Customer attractiveness (score 0–1)"),
            split=(threshold, threshold),
            colours=figures.QUADRANT_COLOURS,
        )
        note = note_html(text("Named: the 12 accounts farthest from the centre of the matrix."))
        counts = m["quadrant"].value_counts()
        table = pd.DataFrame(
            {text("Quadrant"): counts.index.astype(str), text("Customers"): counts.to_numpy()}
        )
        return Section(title, figure_html(fig, alt=title) + note + table_html(table))

    def rankings(self) -> Section:
        """Customers by revenue over the last 12 months, with ABC class now and a year ago."""
        title = text("Rankings")
        if missing := unavailable_section(title, self.analytics, "classes"):
            return missing
        classes = self.analytics.classes
        now = classes[classes["when"] == "now"].sort_values("rank")
        before = classes[classes["when"] == "year_ago"].set_index("customer_id")
        names = self.analytics.customers.set_index("customer_id")["name"]
        currency = str(now["currency"].iloc[0]) if len(now) else ""
        revenue, share = text("Revenue 12 months ({currency})", currency=currency), text("Share")
        table = pd.DataFrame(
            {
                text("Rank"): now["rank"],
                text("Customer"): now["customer_id"].map(names),
                revenue: now["net_value"],
                share: now["share"],
                "ABC": now["abc_class"],
                text("ABC a year ago"): now["customer_id"].map(before["abc_class"]),
                "XYZ": now["xyz_class"],
            }
        )
        return Section(
            title,
            table_html(table, formats={revenue: _whole, share: fmt.percent}, max_rows=50),
        )

    def top_overdue(self) -> Section:
        """The largest overdue invoices of the portfolio, per currency."""
        title = text("Top overdue")
        if missing := unavailable_section(title, self.analytics, "top_overdue"):
            return missing
        top = self.analytics.top_overdue
        n = self.analytics.settings.receivables.top_overdue
        top = top.assign(weight=top["open_amount"] * top["days_overdue"].clip(lower=0))
        top = (
            top.sort_values(["currency", "weight"], ascending=[True, False])
            .groupby("currency", observed=True)
            .head(n)
        )
        names = self.analytics.customers.set_index("customer_id")["name"]
        open_amount = text("Open")
        table = pd.DataFrame(
            {
                text("Customer"): top["customer_id"].map(names),
                text("Invoice"): top["document_id"].astype(str),
                text("Due"): top["due_date"].map(fmt.date),
                text("Days overdue"): top["days_overdue"],
                open_amount: top["open_amount"],
                text("Currency"): top["currency"].astype(str),
                text("Flag"): [_overdue_flag(r) for r in top.itertuples(index=False)],
            }
        )
        note = note_html(
            text("Ranked by open amount × days overdue within each currency: large and old first.")
        )
        return Section(
            title, note + table_html(table, formats={open_amount: _whole}, max_rows=4 * n)
        )

    def judgement(self) -> Section:
        """The value each key account manager's agreed forecasts added, by lag (Gilliland FVA
        of :func:`kamlab.accuracy.judgement_value_added`)."""
        from kamlab.i18n.challenge import say
        from kamlab.scorecard.accuracy import judgement_table

        title = text("Agreed forecasts: the value of our judgement")
        if missing := unavailable_section(title, self.analytics, "judgement_kam"):
            return missing
        if self.analytics.judgement_kam is None:
            return Section(title, note_html(text("Not available: no agreed forecasts scored.")))
        table = judgement_table(self.analytics.judgement_kam, by="account_manager")
        formats = {c: fmt.percent for c in table.columns if c.startswith("Error")}
        formats.update({c: _signed_decimal for c in table.columns if c.endswith("(points saved)")})
        note = note_html(say("judgement_kam_intro"))
        return Section(title, note + table_html(table, formats=formats, max_rows=len(table)))

    def accuracy_league(self) -> Section:
        """Customers by the value their forecast adds over a naive forecast, lag 1."""
        title = text("Forecast accuracy league table")
        if missing := unavailable_section(title, self.analytics, "league"):
            return missing
        league = self.analytics.league
        names = self.analytics.customers.set_index("customer_id")["name"]
        fva_cols = [c for c in league.columns if c.startswith("fva_")]
        error_cols = [c for c in league.columns if c.startswith("error_")]
        table = league[["rank", "customer_id", *error_cols, *fva_cols[:1], "adds_value"]].assign(
            customer_id=lambda f: f["customer_id"].map(names),
            adds_value=lambda f: f["adds_value"].map(
                {True: text("yes: better than naive"), False: text("no: naive is as good")}
            ),
        )
        errors = {c: _error_label(c) for c in error_cols}
        fva = {c: fva_label(c) for c in fva_cols}
        table = table.rename(
            columns={
                "rank": text("Rank"),
                "customer_id": text("Customer"),
                "adds_value": text("Customer's forecast helps?"),
                **errors,
                **fva,
            }
        )
        formats = {label: fmt.percent for label in errors.values()}
        formats.update({label: _signed_decimal for label in fva.values()})
        return Section(title, table_html(table, formats=formats, max_rows=50))
