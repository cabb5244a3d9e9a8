"""The scorecard's receivables section and tiles: ageing, overdue, DSO trend, credit
utilisation, invoices to chase, late-payment risk and expected credit loss
(:mod:`kamlab.receivables`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.receivables import overdue_share
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
from kamlab.scorecard.tiles import Tile, rag_status
from kamlab.scorecard.values import absent_section, as_float, first, unavailable_section, word

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = [
    "NO_TERMS",
    "ageing_now",
    "credit_tile",
    "dso_now",
    "dso_tile",
    "expected_loss",
    "gross_open",
    "late_risk",
    "long_overdue",
    "overdue_items",
    "overdue_tile",
    "section",
]

#: said where terms would be, never "0 days" (English: pages show it through ``fmt.text``)
NO_TERMS = "no payment terms in the data"


def section(card: Scorecard) -> Section:
    """Ageing, overdue, DSO trend, credit utilisation and invoices at risk."""
    t = fmt.text
    title = t("Receivables")
    if missing := unavailable_section(title, card.analytics, "ageing_history"):
        return missing
    if why := card.absent("invoices"):
        return absent_section(title, why)
    body = ""
    row = ageing_now(card)
    hist = card._slice(card.analytics.ageing_history)
    buckets = [
        c
        for c in hist.columns
        if c
        not in {"month_end", "customer_id", "currency", "items", "total", "overdue", "unapplied"}
    ]
    if row is not None:
        frame = pd.DataFrame(
            {
                "bucket": [_bucket_name(b) for b in buckets],
                "amount": [float(row[b]) for b in buckets],
            }
        )
        fig = figures.bar_figure(
            frame,
            x="bucket",
            y="amount",
            title=t(
                "Open receivables by days overdue at {day}", day=fmt.date(card.analytics.as_of)
            ),
            xlabel=t("Days overdue"),
            ylabel=t("Open amount ({currency})", currency=card.currency),
        )
        body += figure_html(fig, alt=t("Receivables ageing"))
        unapplied = as_float(row.get("unapplied", 0.0))
        if unapplied > 0:
            body += note_html(
                t(
                    "Unapplied credit notes and payments: {unapplied}, not netted against the "
                    "invoices above; apply them or refund (net open balance {net}).",
                    unapplied=fmt.money(unapplied, card.currency),
                    net=fmt.money(row["total"], card.currency),
                )
            )
    else:
        body += note_html(t("No open receivables at the month end."))
    dso = card._slice(card.analytics.dso)
    dso = dso[dso["currency"] == card.currency].dropna(subset=["dso_countback"])
    if len(dso):
        fig = figures.trend_figure(
            dso.assign(period=dso["month_end"].dt.to_period("M")),
            x="period",
            y="dso_countback",
            title=t("Days sales outstanding at each month end"),
            xlabel=t("Month end"),
            ylabel=t("DSO (days)"),
            target=None if card.terms is None else float(card.terms),
            target_label=t("Payment terms"),
        )
        body += figure_html(fig, alt=t("DSO trend"))
    body += _risk_html(card)
    top = card.overdue_items()
    if len(top):
        shown = top.head(8)
        body += note_html(
            t(
                "Overdue invoices to chase, largest amount × days overdue first "
                "(disputed and long-overdue items flagged)."
            )
        )
        body += table_html(
            pd.DataFrame(
                {
                    t("Invoice"): shown["document_id"].astype(str),
                    t("Due"): shown["due_date"].map(fmt.date),
                    t("Days overdue"): shown["days_overdue"],
                    t("Open"): shown["open_amount"],
                    t("Currency"): shown["currency"].astype(str),
                    t("Flag"): shown["flag"].map(lambda f: word(f) if f else f),
                }
            ),
            formats={t("Open"): ",.0f", t("Days overdue"): "d"},
        )
    if pd.isna(card.customer["credit_limit"]):
        body += note_html(
            t("Action: no credit limit is set for this customer; agree one with finance."),
            kind="warning",
        )
    pay = card._slice(card.analytics.days_to_pay)
    if pay is not None and len(pay):
        body += note_html(
            t(
                "Paid on average {days} after invoicing, {beyond} beyond terms "
                "(last 12 months, amount-weighted).",
                days=fmt.days(first(pay, "days_to_pay")),
                beyond=fmt.days(first(pay, "days_beyond_terms")),
            )
        )
    return Section(title, body)


# -- tiles ----------------------------------------------------------------------------------
def overdue_tile(card: Scorecard) -> Tile:
    """Share of the open invoices (gross) more than ``overdue_grace_days`` overdue.

    Gross: unapplied credit notes and payments on account are shown beside the figure, never
    netted against the overdue invoices (a credit does not pay an old invoice until applied).
    The note counts the invoices behind the figure.
    """
    s = card.settings.scorecard
    t = fmt.text
    label = t("Overdue more than {days} days", days=fmt.count(s.overdue_grace_days))
    cur = card.currency
    if tile := card.unavailable_tile(label, "ageing_history") or card.absent_tile(
        label, "invoices"
    ):
        return tile
    row = ageing_now(card)
    unapplied = 0.0 if row is None else as_float(row.get("unapplied", 0.0))
    credits = (
        t("credits {amount} unapplied", amount=fmt.short_money(unapplied, cur))
        if unapplied > 0
        else ""
    )
    if row is None or not gross_open(row) > 0:
        return Tile(label, "–", "", "grey", credits or t("no open receivables"))
    late, gross = long_overdue(card, row), gross_open(row)
    value = overdue_share(late, gross)
    status = rag_status(
        value, green=s.overdue_share_amber, amber=s.overdue_share_red, higher_is_better=False
    )
    if status == "red" and late < s.overdue_materiality * card.revenue_12m():
        status = "amber"  # a large share of a small amount: watch, not act
    items = card.overdue_items()
    n = int((items["days_overdue"] > s.overdue_grace_days).sum()) if len(items) else 0
    note = t(
        "{n} invoice; all overdue {amount}" if n == 1 else "{n} invoices; all overdue {amount}",
        n=fmt.count(n),
        amount=fmt.short_money(row["overdue"], cur),
    )
    return Tile(
        label,
        fmt.percent(value),
        t(
            "{late} of {gross} {currency} invoiced and open",
            late=fmt.short_amount(late),
            gross=fmt.short_amount(gross),
            currency=cur,
        ),
        status,
        f"{note}; {credits}" if credits else note,
        number=value,
        unit="share",
    )


def credit_tile(card: Scorecard) -> Tile:
    """Open receivables against the credit limit."""
    t = fmt.text
    label = t("Credit utilisation")
    if tile := card.unavailable_tile(label, "credit") or card.absent_tile(label, "invoices"):
        return tile
    if pd.isna(card.customer["credit_limit"]):
        return Tile(
            label,
            t("not set"),
            t("no credit limit set"),
            "grey",
            t("agree a credit limit with finance"),
            word=t("action needed"),
        )
    credit = card._slice(card.analytics.credit)
    if credit.empty:
        return Tile(label, fmt.percent(0.0), t("nothing open"), "green")
    r = credit.iloc[0]
    status = {"ok": "green", "warning": "amber", "over limit": "red"}.get(str(r["status"]), "grey")
    return Tile(
        label,
        fmt.percent(r["utilisation"]),
        t(
            "limit {amount} {currency}",
            amount=fmt.short_amount(r["credit_limit"]),
            currency=r["currency"],
        ),  # fmt: skip
        status,
        number=as_float(r["utilisation"]),
        unit="share",
    )


def dso_tile(card: Scorecard) -> Tile:
    """Days sales outstanding (countback) against the payment terms."""
    t = fmt.text
    label = t("Days sales outstanding")
    if tile := card.unavailable_tile(label, "dso") or card.absent_tile(label, "invoices"):
        return tile
    value, terms = dso_now(card), card.terms
    target = t(NO_TERMS) if terms is None else t("terms {days} days", days=fmt.count(terms))
    if value != value:
        return Tile(label, "–", target, "grey", t("no receivables"))
    shown = t("{n} days", n=f"{value:.0f}")
    if terms is None:  # nothing to hold DSO against: the figure, without a colour
        return Tile(label, shown, target, "grey", number=value, unit="days")
    s = card.settings.scorecard
    status = rag_status(
        value,
        green=terms + s.dso_green_days,
        amber=terms + s.dso_amber_days,
        higher_is_better=False,
    )
    return Tile(label, shown, target, status, number=value, unit="days")


# -- figures behind the tiles ---------------------------------------------------------------
def ageing_now(card: Scorecard) -> pd.Series | None:
    """The customer's ageing row at the month end in its currency, or None."""
    hist = card._slice(card.analytics.ageing_history)
    if hist is None:
        return None
    now = hist[(hist["month_end"] == card.analytics.as_of) & (hist["currency"] == card.currency)]
    return now.iloc[0] if len(now) else None


def gross_open(row: pd.Series) -> float:
    """Open invoices of an ageing row, before unapplied credits: Σ buckets = total + unapplied."""
    return as_float(row["total"]) + as_float(row.get("unapplied", 0.0))


def long_overdue(card: Scorecard, row: pd.Series) -> float:
    """Open amount more than ``overdue_grace_days`` overdue in an ageing row."""
    grace = card.settings.scorecard.overdue_grace_days
    total = 0.0
    for bucket in _overdue_buckets(row.index):
        if _bucket_start(bucket) > grace:
            total += float(row[bucket])
    return total


def dso_now(card: Scorecard) -> float:
    """DSO (countback, days) at the month end in the customer's currency; NaN if none."""
    d = card._slice(card.analytics.dso)
    d = d[(d["month_end"] == card.analytics.as_of) & (d["currency"] == card.currency)]
    return as_float(d["dso_countback"].iloc[0]) if len(d) else float("nan")


def overdue_items(card: Scorecard) -> pd.DataFrame:
    """This customer's overdue open items, largest open amount × days overdue first, with
    ``flag``: "disputed" (optional invoice flag), "long overdue: bad-debt risk" (> 90 days)."""
    aged = card._slice(card.analytics.receivables)
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


def expected_loss(card: Scorecard) -> pd.DataFrame | None:
    """Expected credit loss of this customer's receivables (IFRS 9 provision matrix over
    the portfolio's month-end ageing history, per currency): currency, provision, reason."""
    a = card.analytics
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
            write_off_loss_rate=card.settings.receivables.write_off_loss_rate,
        ).by_customer
    mine = card._slice(pm)
    return mine[["currency", "provision", "reason"]] if len(mine) else None


def late_risk(card: Scorecard) -> pd.DataFrame:
    """Open invoices likely to be paid more than ``late_days`` late (probability ≥ 0.5,
    :func:`kamlab.receivables.late_payment_risk`), not yet beyond the overdue grace."""
    lp = card._slice(getattr(card.analytics, "late_payment", None))
    if lp is None or lp.empty:
        return pd.DataFrame(columns=["document_id", "currency", "amount", "probability"])
    aged = card._slice(card.analytics.receivables)
    grace = card.settings.scorecard.overdue_grace_days
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


def _risk_html(card: Scorecard) -> str:
    """Late-payment risk and expected credit loss, as notes."""
    out = ""
    lp = card._slice(getattr(card.analytics, "late_payment", None))
    if lp is not None and len(lp):
        likely = card.late_risk()
        days = card.settings.receivables.late_days
        money = ", ".join(
            fmt.short_money(v, c) for c, v in likely.groupby("currency")["amount"].sum().items()
        )
        values = {"likely": fmt.count(len(likely)), "open": fmt.count(len(lp)),
                  "days": fmt.count(days), "amount": money}  # fmt: skip
        out += note_html(
            fmt.text(
                "Late-payment risk: {likely} of {open} open invoices are likely (≥ 50 %) to be "
                "paid more than {days} days late ({amount}); model trained on this ledger's "
                "paid invoices.",
                **values,
            )
            if len(likely)
            else fmt.text(
                "Late-payment risk: {likely} of {open} open invoices are likely (≥ 50 %) to be "
                "paid more than {days} days late; model trained on this ledger's paid invoices.",
                **values,
            )
        )
    el = card.expected_loss()
    if el is None or el.empty:
        return out
    parts = [
        fmt.short_money(r.provision, r.currency)
        for r in el.itertuples(index=False)
        if r.provision == r.provision
    ]
    if not parts:
        return out
    return out + note_html(
        fmt.text(
            "Expected credit loss (provision matrix from the portfolio's payment history): "
            "{amounts}.",
            amounts=", ".join(parts),
        )
    )


def _bucket_name(bucket: str) -> str:
    """An ageing bucket as the figure names it: "31-60" as it is, "not due" in words."""
    return bucket if re.fullmatch(r"\d+-\d+|>\d+", bucket) else fmt.text(bucket)


def _overdue_buckets(columns) -> list[str]:
    """The ageing bucket columns that are overdue ("1-30", ..., ">120")."""
    return [str(c) for c in columns if re.fullmatch(r"\d+-\d+|>\d+", str(c))]


def _bucket_start(bucket: str) -> int:
    """First day overdue of an ageing bucket: "31-60" -> 31, ">120" -> 121."""
    if bucket.startswith(">"):
        return int(bucket[1:]) + 1
    return int(bucket.split("-")[0])
