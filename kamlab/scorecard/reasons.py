"""The words of the findings (:mod:`kamlab.findings`): one template per kind, in one place.

Each kind has a sentence (the commentary, the workbook) and a short phrase (the index's
one-line reason), with named placeholders filled from the finding's numbers: ``amount``
(money with its currency), ``value``/``reference`` (formatted by the kind's unit),
``months``, ``detail``, ``evidence``. The templates are English catalog entries
(``locales/<code>/scorecard.po``): :func:`sentence` and :func:`phrase` say them in the
active language. A kind whose sentence has variants (with or without an amount, over or
under) has one template per variant (``<kind>:<variant>``), never a fragment.
"""

from __future__ import annotations

import pandas as pd

from kamlab.i18n import formats as fmt

__all__ = ["PHRASES", "SENTENCES", "UNITS", "phrase", "sentence", "why"]

#: unit of value / reference per kind: share (fraction shown as %), days, count, ratio
UNITS = {
    "overdue": "share",
    "over_credit_limit": "share",
    "dso_above_terms": "days",
    "dso_worsening": "days",
    "paying_later": "days",
    "otif_below_target": "share",
    "otif_falling": "share",
    "air_freight": "share",
    "open_complaints": "count",
    "forecast_accuracy": "share",
    "forecast_bias": "count",
    "forecast_challenge": "count",
    "revenue_gap": "signed share",
    "expired_special_price": "share",
    "billed_below_agreement": "share",
    "price_record_error": "count",
    "price_realisation_falling": "share",
    "margin_erosion": "share",
    "lost_deals": "count",
    "npi_stalled": "days",
    "pipeline_at_risk": "count",
    "share_falling": "share",
    "phase_out_exposure": "count",
    "deadstock": "count",
    "overstock": "count",
    "stock_out_risk": "count",
    "over_allocated": "share",
}

SENTENCES = {
    "overdue": "{amount} overdue more than 30 days ({value} of open receivables).",
    "overdue:since": "{amount} overdue more than 30 days ({value} of open receivables), "
    "since {since}.",
    "over_credit_limit": "Credit limit exceeded: {value} of the limit used.",
    "over_credit_limit:amount": "Credit limit exceeded: {value} of the limit used, {amount} "
    "above it not already overdue.",
    "no_credit_limit": "No credit limit is set: agree one with finance.",
    "dso_above_terms": "DSO {value} against payment terms of {reference}.",
    "dso_worsening": "DSO longer {months} months in a row: {reference} → {value}.",
    "paying_later": "Paying later month after month: {months} months in a row, "
    "from {reference} to {value} beyond terms.",
    "otif_below_target": "OTIF {value} against a target of {reference}: late deliveries.",
    "otif_falling": "OTIF lower {months} months in a row: {reference} → {value}.",
    "air_freight": "Air freight after late deliveries cost {amount} in 12 months.",
    "open_complaints": "{value} complaints still open, the oldest for {months} months.",
    "forecast_accuracy": "The customer's forecast accuracy is {value} against a target of "
    "{reference}.",
    "forecast_bias": "The customer persistently {detail}-forecasts {value} of {reference} "
    "materials.",
    "forecast_bias:over": "The customer persistently over-forecasts {value} of {reference} "
    "materials.",
    "forecast_bias:under": "The customer persistently under-forecasts {value} of {reference} "
    "materials.",
    "forecast_challenge": "Customer forecast worth challenging: {value} materials, {amount}.",
    "revenue_gap": "Revenue {value} against budget year to date; gap to the full-year plan "
    "{amount}.",
    "expired_special_price": "Expired special price still billed (expired {detail}): {amount} "
    "below the contract price in 12 months.",
    "billed_below_agreement": "Billed {value} below the agreed price: {amount} short of the "
    "agreements in 12 months ({evidence}).",
    "price_record_error": "Price record error on {evidence}: the price unit of the condition "
    "record does not match billing — correct the record (no money lost).",
    "price_realisation_falling": "Price realisation lower {months} months in a row: "
    "{reference} → {value}.",
    "margin_erosion": "Gross margin eroding: {value} in the last 3 months against {reference} "
    "in the 9 before.",
    "lost_deals": "{value} deals lost in 12 months worth {amount} a year; the largest "
    "({reference} a year) to {detail}.",
    "npi_stalled": "NPI project stalled {value} in {detail} ({reference} a year; {evidence}).",
    "pipeline_at_risk": "Pipeline at risk: {value} opportunities overdue or stalled, {amount}.",
    "share_falling": "Share of business in {detail} down to {value} from {reference} a year ago.",
    "phase_out_exposure": "Phase-out stock at risk {amount} ({evidence}): agree a last-time buy "
    "or sell-off.",
    "deadstock": "Deadstock {amount} on {value} materials ({evidence}).",
    "overstock": "Overstock {amount} on {value} materials ({evidence}).",
    "stock_out_risk": "Sales at risk of a stock-out {amount}: safety stock short.",
    "over_allocated": "Capacity over-allocated: {value} of capacity promised for {evidence} "
    "from {since}.",
}

PHRASES = {
    "overdue": "{amount} overdue",
    "over_credit_limit": "credit limit exceeded ({value})",
    "no_credit_limit": "no credit limit set",
    "dso_above_terms": "DSO {value} on {reference} terms",
    "dso_worsening": "DSO longer {months} months running",
    "paying_later": "paying later {months} months running",
    "otif_below_target": "OTIF {value} vs {reference}: late deliveries",
    "otif_falling": "OTIF lower {months} months running",
    "air_freight": "air freight {amount}",
    "open_complaints": "{value} complaints open",
    "forecast_accuracy": "forecast accuracy {value} vs {reference}",
    "forecast_bias": "{detail}-forecasts {value} materials",
    "forecast_bias:over": "over-forecasts {value} materials",
    "forecast_bias:under": "under-forecasts {value} materials",
    "forecast_challenge": "forecast to challenge {amount}",
    "revenue_gap": "revenue {value} vs budget",
    "expired_special_price": "expired special price still billed ({amount})",
    "billed_below_agreement": "billed {value} below the agreed price ({amount})",
    "price_record_error": "price record error",
    "price_realisation_falling": "price realisation falling",
    "margin_erosion": "margin eroding ({value})",
    "lost_deals": "deal lost to {detail} ({reference})",
    "npi_stalled": "NPI stalled {value}",
    "pipeline_at_risk": "pipeline at risk {amount}",
    "share_falling": "share of business falling ({detail})",
    "phase_out_exposure": "phase-out stock at risk {amount}",
    "deadstock": "deadstock {amount}",
    "overstock": "overstock {amount}",
    "stock_out_risk": "stock-out risk {amount}",
    "over_allocated": "capacity over-allocated",
}


def _fill(templates: dict[str, str], f, currency: str | None) -> str:
    kind = str(f["kind"])
    unit = UNITS.get(kind, "count")
    cur = f["currency"] if isinstance(f["currency"], str) else (currency or "")

    def show(v) -> str:
        if v is None or v != v:
            return "–"
        v = float(v)
        if unit == "share":
            return fmt.percent(v)
        if unit == "signed share":
            return fmt.percent(v, signed=True)
        if unit == "days":
            return fmt.days(v)
        return fmt.number(v)

    amount = f["amount"]
    has_amount = amount == amount and amount is not None
    reference = f["reference"]
    if kind in ("lost_deals", "npi_stalled") and reference == reference:
        ref_text = f"{fmt.short_amount(reference)} {cur}".strip()
    else:
        ref_text = show(reference)
    detail = f["detail"] if isinstance(f["detail"], str) else ""
    if kind == "lost_deals" and not detail:
        detail = fmt.text("a competitor not recorded")
    elif kind == "npi_stalled" and detail:
        detail = fmt.text(detail)  # the project's stage
    elif kind == "expired_special_price" and detail and not fmt.current().english:
        detail = fmt.date(detail)
    since = f["since"] if isinstance(f["since"], str) else ""
    variant = {
        "overdue": "since" if since else "",
        "over_credit_limit": "amount" if has_amount else "",
        "forecast_bias": detail if detail in ("over", "under") else "",
    }.get(kind, "")
    template = templates.get(f"{kind}:{variant}", templates[kind]) if variant else templates[kind]
    values = {
        "amount": f"{fmt.short_amount(amount)} {cur}" if has_amount else "–",
        "value": show(f["value"]),
        "reference": ref_text,
        "months": "–" if f["months"] != f["months"] else fmt.count(f["months"]),
        "detail": detail,
        "evidence": f["evidence"] if isinstance(f["evidence"], str) else "",
        "since": _month_text(since),
    }
    used = {k: v for k, v in values.items() if "{" + k + "}" in template}
    text = fmt.text(template, **used)
    return text[:-1] if text.endswith("..") else text  # a name ending "Inc." ends the sentence


def _month_text(period: str) -> str:
    if not period:
        return ""
    try:
        return fmt.month_year(pd.Period(period, freq="M"))
    except ValueError:
        return period


def sentence(f, currency: str | None = None) -> str:
    """The finding `f` (a row of :func:`kamlab.findings.findings`) as a sentence."""
    return _fill(SENTENCES, f, currency)


def phrase(f, currency: str | None = None) -> str:
    """The finding `f` as a short phrase for the index's one-line reason."""
    return _fill(PHRASES, f, currency)


def why(mine: pd.DataFrame, *, rank: int, stake: dict, currency: str, max_items: int = 2) -> str:
    """Why the account ranks where it does, in one short sentence (≤ 25 words).

    `mine`: the customer's findings, in priority order (red, then weighted money, amber,
    notes); `stake`: money at stake per currency (counted once).
    """
    money = ", ".join(f"{fmt.short_amount(v)} {c}" for c, v in sorted(stake.items()))
    head = (
        fmt.text("#{rank}: {amount} at stake", rank=rank, amount=money)
        if money
        else fmt.text("#{rank}: nothing at stake", rank=rank)
    )
    shown = mine[mine["severity"].isin(["red", "amber"])].head(max_items)
    if len(shown) < max_items:
        extra = mine[mine["severity"] == "note"].head(max_items - len(shown))
        shown = pd.concat([shown, extra])
    bits = [phrase(r, currency) for r in shown.to_dict("records")]
    if not bits:
        return fmt.text("{head}; every figure with a target is met.", head=head)
    return fmt.text("{head}; {reasons}.", head=head, reasons="; ".join(bits))


def ranking_text(settings) -> str:
    """How the index ranks, with every weight and rate it uses (index header, glossary)."""
    from kamlab.findings import KINDS

    sc = settings.scorecard
    lang = fmt.current()

    def g(v: float) -> str:  # a weight or rate as written ("0.3"), in the language's marks
        shown = f"{v:g}"
        return (
            shown
            if lang.english
            else shown.replace(".", lang.locale.number_symbols["latn"]["decimal"])
        )

    weights = {k: sc.stake_weights.get(k, 1.0) for k in KINDS if k in PHRASES}
    shown = ", ".join(
        fmt.text(
            "{kind} {weight}", kind=fmt.text(KIND_NAMES.get(k, k.replace("_", " "))), weight=g(w)
        )
        for k, w in weights.items()
        if k in _MONEY_KINDS
    )
    rates = ", ".join(f"{c} {g(r)}" for c, r in sorted(sc.fx_rates.items()))
    basis = (
        fmt.text("converted to {currency} at {rates}", currency=sc.reporting_currency, rates=rates)
        if rates
        else fmt.text("as a share of each account's revenue where currencies differ")
    )
    return fmt.text(
        "Ranked by the weighted money at stake ({basis}; {currency} per unit): each amount is "
        "counted once, in one kind, times its weight — {weights}; raised by {raise_by} per "
        "overdue agreed action. With nothing at stake, by revenue × the worst status.",
        basis=basis,
        currency=sc.reporting_currency,
        weights=shown,
        raise_by=f"{sc.overdue_action_weight:.0%}"
        if lang.english
        else fmt.percent(sc.overdue_action_weight),
    )


#: the kinds of money at stake as the ranking names them
KIND_NAMES = {
    "overdue": "overdue",
    "over_credit_limit": "over credit limit",
    "air_freight": "air freight",
    "forecast_challenge": "forecast challenge",
    "revenue_gap": "revenue gap",
    "expired_special_price": "expired special price",
    "billed_below_agreement": "billed below agreement",
    "lost_deals": "lost deals",
    "npi_stalled": "npi stalled",
    "pipeline_at_risk": "pipeline at risk",
    "phase_out_exposure": "phase out exposure",
    "deadstock": "deadstock",
    "overstock": "overstock",
    "stock_out_risk": "stock out risk",
}


#: the kinds that can carry money at stake (kamlab.findings.OWNERSHIP)
_MONEY_KINDS = (
    "overdue",
    "over_credit_limit",
    "air_freight",
    "forecast_challenge",
    "revenue_gap",
    "expired_special_price",
    "billed_below_agreement",
    "lost_deals",
    "npi_stalled",
    "pipeline_at_risk",
    "phase_out_exposure",
    "deadstock",
    "overstock",
    "stock_out_risk",
)
