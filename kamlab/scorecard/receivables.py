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
from kamlab.scorecard.values import absent_section, as_float, first, unavailable_section

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = [
    "NO_TERMS",
    "ageing_now",
    "credit_tile",
    "dso_now",
    "dso_tile",
    "expected_loss",
    "late_risk",
    "long_overdue",
    "overdue_items",
    "overdue_tile",
    "section",
]

NO_TERMS = "no payment terms in the data"  # said where terms would be, never "0 days"


def section(card: Scorecard) -> Section:
    """Ageing, overdue, DSO trend, credit utilisation and invoices at risk."""
    title = "Receivables"
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
        if c not in {"month_end", "customer_id", "currency", "items", "total", "overdue"}
    ]
    if row is not None:
        frame = pd.DataFrame({"bucket": buckets, "amount": [float(row[b]) for b in buckets]})
        fig = figures.bar_figure(
            frame,
            x="bucket",
            y="amount",
            title=f"Open receivables by days overdue at {fmt.date(card.analytics.as_of)}",
            xlabel="Days overdue",
            ylabel=f"Open amount ({card.currency})",
        )
        body += figure_html(fig, alt="Receivables ageing")
    else:
        body += note_html("No open receivables at the month end.")
    dso = card._slice(card.analytics.dso)
    dso = dso[dso["currency"] == card.currency].dropna(subset=["dso_countback"])
    if len(dso):
        fig = figures.trend_figure(
            dso.assign(period=dso["month_end"].dt.to_period("M")),
            x="period",
            y="dso_countback",
            title="Days sales outstanding at each month end",
            xlabel="Month end",
            ylabel="DSO (days)",
            target=None if card.terms is None else float(card.terms),
            target_label="Payment terms",
        )
        body += figure_html(fig, alt="DSO trend")
    body += _risk_html(card)
    top = card.overdue_items()
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
                    "Due": t["due_date"].map(fmt.date),
                    "Days overdue": t["days_overdue"],
                    "Open": t["open_amount"],
                    "Currency": t["currency"].astype(str),
                    "Flag": t["flag"],
                }
            ),
            formats={"Open": ",.0f", "Days overdue": "d"},
        )
    if pd.isna(card.customer["credit_limit"]):
        body += note_html(
            "Action: no credit limit is set for this customer; agree one with finance.",
            kind="warning",
        )
    pay = card._slice(card.analytics.days_to_pay)
    if pay is not None and len(pay):
        body += note_html(
            f"Paid on average {fmt.days(first(pay, 'days_to_pay'))} after invoicing, "
            f"{fmt.days(first(pay, 'days_beyond_terms'))} beyond terms "
            "(last 12 months, amount-weighted)."
        )
    return Section(title, body)


# -- tiles ----------------------------------------------------------------------------------
def overdue_tile(card: Scorecard) -> Tile:
    """Share of the open receivables more than ``overdue_grace_days`` overdue."""
    s = card.settings.scorecard
    label = f"Overdue more than {s.overdue_grace_days} days"
    if tile := card.unavailable_tile(label, "ageing_history") or card.absent_tile(
        label, "invoices"
    ):
        return tile
    row = ageing_now(card)
    if row is None or not row["total"] > 0:
        return Tile(label, "–", "", "grey", "no open receivables")
    late = long_overdue(card, row)
    value = overdue_share(max(late, 0.0), float(row["total"]))
    status = rag_status(
        value, green=s.overdue_share_amber, amber=s.overdue_share_red, higher_is_better=False
    )
    if status == "red" and late < s.overdue_materiality * card.revenue_12m():
        status = "amber"  # a large share of a small amount: watch, not act
    return Tile(
        label,
        fmt.percent(value),
        f"{fmt.short_amount(max(late, 0.0))} of {fmt.short_amount(row['total'])} "
        f"{card.currency} open",
        status,
        f"all overdue: {fmt.short_amount(max(float(row['overdue']), 0.0))} {card.currency}",
        number=value,
        unit="share",
    )


def credit_tile(card: Scorecard) -> Tile:
    """Open receivables against the credit limit."""
    label = "Credit utilisation"
    if tile := card.unavailable_tile(label, "credit") or card.absent_tile(label, "invoices"):
        return tile
    if pd.isna(card.customer["credit_limit"]):
        return Tile(
            label,
            "not set",
            "no credit limit set",
            "grey",
            "agree a credit limit with finance",
            word="action needed",
        )
    credit = card._slice(card.analytics.credit)
    if credit.empty:
        return Tile(label, "0 %", "nothing open", "green")
    r = credit.iloc[0]
    status = {"ok": "green", "warning": "amber", "over limit": "red"}.get(str(r["status"]), "grey")
    return Tile(
        label,
        fmt.percent(r["utilisation"]),
        f"limit {fmt.short_amount(r['credit_limit'])} {r['currency']}",
        status,
        number=as_float(r["utilisation"]),
        unit="share",
    )


def dso_tile(card: Scorecard) -> Tile:
    """Days sales outstanding (countback) against the payment terms."""
    label = "Days sales outstanding"
    if tile := card.unavailable_tile(label, "dso") or card.absent_tile(label, "invoices"):
        return tile
    value, terms = dso_now(card), card.terms
    target = NO_TERMS if terms is None else f"terms {terms} days"
    if value != value:
        return Tile(label, "–", target, "grey", "no receivables")
    if terms is None:  # nothing to hold DSO against: the figure, without a colour
        return Tile(label, f"{value:.0f} days", target, "grey", number=value, unit="days")
    s = card.settings.scorecard
    status = rag_status(
        value,
        green=terms + s.dso_green_days,
        amber=terms + s.dso_amber_days,
        higher_is_better=False,
    )
    return Tile(
        label, f"{value:.0f} days", f"terms {terms} days", status, number=value, unit="days"
    )


# -- figures behind the tiles ---------------------------------------------------------------
def ageing_now(card: Scorecard) -> pd.Series | None:
    """The customer's ageing row at the month end in its currency, or None."""
    hist = card._slice(card.analytics.ageing_history)
    if hist is None:
        return None
    now = hist[(hist["month_end"] == card.analytics.as_of) & (hist["currency"] == card.currency)]
    return now.iloc[0] if len(now) else None


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
        out += note_html(
            f"Late-payment risk: {len(likely)} of {len(lp)} open invoices are likely (≥ 50 %) "
            f"to be paid more than {days} days late"
            + (f" ({money})" if len(likely) else "")
            + "; model trained on this ledger's paid invoices."
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
        f"Expected credit loss (provision matrix from the portfolio's payment history): "
        f"{', '.join(parts)}."
    )


def _overdue_buckets(columns) -> list[str]:
    """The ageing bucket columns that are overdue ("1-30", ..., ">120")."""
    return [str(c) for c in columns if re.fullmatch(r"\d+-\d+|>\d+", str(c))]


def _bucket_start(bucket: str) -> int:
    """First day overdue of an ageing bucket: "31-60" -> 31, ">120" -> 121."""
    if bucket.startswith(">"):
        return int(bucket[1:]) + 1
    return int(bucket.split("-")[0])
