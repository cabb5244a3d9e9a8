"""Small readers shared by the scorecard's sections: a cell as a float, "not available" blocks."""

from __future__ import annotations

import re

import pandas as pd

from kamlab.chain import PackAnalytics
from kamlab.i18n import current
from kamlab.i18n import formats as fmt
from kamlab.scorecard.render import Section, note_html

__all__ = [
    "CODE_WORDS",
    "NEEDS",
    "NO_TABLE",
    "absent_frames",
    "absent_section",
    "as_float",
    "data_text",
    "coverage_note",
    "coverage_sentence",
    "first",
    "no_table_text",
    "not_available",
    "not_available_html",
    "unavailable_note",
    "unavailable_section",
    "word",
]


#: the tables each shared-analytics frame is computed from: with one of them absent from the
#: data, the frame's figures stand for nothing (quality() counts 0 complaints without a
#: complaints table): the frame is not shown, never shown as zeros
NEEDS: dict[str, tuple[str, ...]] = {
    "quality": ("complaints", "deliveries"),
    "service": ("deliveries",),
    "service_year": ("deliveries",),
    "sla": ("deliveries",),
    "air_freight": ("deliveries",),
    "ageing_history": ("invoices",),
    "receivables": ("invoices",),
    "dso": ("invoices",),
    "credit": ("invoices",),
    "top_overdue": ("invoices",),
    "days_to_pay": ("invoices",),
    "accuracy": ("customer_forecasts",),
    "value_added": ("customer_forecasts",),
    "challenges": ("customer_forecasts",),
    "bias": ("customer_forecasts",),
}


def absent_frames(analytics: PackAnalytics) -> dict[str, str]:
    """The frames of :data:`NEEDS` whose tables are absent, with why ("no complaints in the
    data"): the one rule pages and sheets apply, so absent data is never shown as zero."""
    missing = set(getattr(analytics, "missing_tables", ()) or ())
    out = {}
    for frame, tables in NEEDS.items():
        gone = [t for t in tables if t in missing]
        if gone:
            out[frame] = no_table_text(*gone)
    return out


#: "no <table> in the data", one template per table (a missing table is said, never 0)
NO_TABLE = {
    "orders": "no orders in the data",
    "deliveries": "no deliveries in the data",
    "invoices": "no invoices in the data",
    "complaints": "no complaints in the data",
    "customer_forecasts": "no customer forecasts in the data",
    "budget": "no budget in the data",
    "actions": "no actions in the data",
}


#: codes of the data a page shows as words (statuses, sources, flags), each a catalog entry:
#: :func:`word` shows one in the active language (an unknown code as it is)
CODE_WORDS = (
    # action statuses, the OTIF date basis, forecast sources
    "open", "in progress", "done", "dropped", "requested", "confirmed",
    "customer", "statistical", "naive", "agreed", "revenue", "quantity",
    # receivables flags, price-request states, NPI flags, stock and allocation statuses
    "disputed", "long overdue: bad-debt risk", "disputed, long overdue",
    "expiring", "expired", "active", "approved", "rejected", "withdrawn",
    "stalled", "slipping", "on track",
    "deadstock", "overstock", "slow mover", "healthy",
    "over-allocated", "under-allocated", "in line", "in step",
    "over-forecast", "under-forecast",
    # key-account quadrants
    "strategic", "development", "status", "streamline", "unclassified",
    # ageing buckets
    "not due",
    # CRM picklists: reasons a deal was lost, opportunity stages
    "(not recorded)", "price", "technical", "delivery time", "relationship", "project cancelled",
    "qualification", "quotation", "negotiation", "submitted", "shortlisted", "prototype",
    "samples", "PPAP", "pre-series", "closed",
)  # fmt: skip


def word(code: object) -> str:
    """A data code (a status, a source, a flag) as a word in the active language; "–" for
    a missing one."""
    if code is None or (not isinstance(code, str) and pd.isna(code)):
        return fmt.MISSING
    return fmt.text(str(code))


_DAY = r"(?P<day>\d{2} [A-Z][a-z]{2} \d{4})"
_NUMBER = r"[+\-]?[\d,]+(?:\.\d+)?"
#: sentences the analytics write in English into their frames (kamlab.pricing's audit
#: findings, kamlab.inventory's proposals and methods, kamlab.opportunities' flags): each
#: re-said from one template; named groups: ``day`` a date, ``n`` a number, ``pct`` a
#: percentage, ``words`` a phrase of :data:`DATA_WORDS`, others as they are
DATA_PHRASES = (
    (rf"billed at a special price that expired on {_DAY} \(request (?P<request>[^)]+)\)",
     "billed at a special price that expired on {day} (request {request})"),
    (rf"billed at a special price that expired on {_DAY}",
     "billed at a special price that expired on {day}"),
    (rf"billed at the previous price, superseded on {_DAY}",
     "billed at the previous price, superseded on {day}"),
    (rf"billed (?P<pct>{_NUMBER})% against the agreed price",
     "billed {pct} against the agreed price"),
    (r"billed in (?P<billed>\S+), agreed in (?P<agreed>\S+)", "billed in {billed}, agreed in {agreed}"),
    (rf"billed at (?P<n>{_NUMBER}) x the agreed unit price: price per (?P<unit>\S+) used per 1\?",
     "billed at {n} x the agreed unit price: price per {unit} used per 1?"),
    (rf"billed at (?P<n>{_NUMBER}) x the agreed unit price: price unit mixed up\?",
     "billed at {n} x the agreed unit price: price unit mixed up?"),
    (rf"cancel (?P<n>{_NUMBER}) on order", "cancel {n} on order"),
    (rf"sell off or run down (?P<n>{_NUMBER})", "sell off or run down {n}"),
    (rf"last-time buy (?P<n>{_NUMBER})", "last-time buy {n}"),
    (rf"customers forecast (?P<n>{_NUMBER}) more: ask for binding orders",
     "customers forecast {n} more: ask for binding orders"),
    (r"(?P<words>[^,()]+), (?P<measure>cycle service|fill rate) (?P<pct>\d+)% \((?P<basis>[^)]+)\)",
     "{method}, {measure} {level} ({basis})"),
    (r"(?P<words>[^,()]+), (?P<measure>cycle service|fill rate) (?P<pct>\d+)%",
     "{method}, {measure} {level}"),
)  # fmt: skip
#: the words of those sentences that are whole phrases
DATA_WORDS = (
    "no price agreed for this customer and material on that day",
    "end of life passed", "no end-of-life date: whole forecast counted",
    "balanced: run down as planned", "award overdue, stalled", "award overdue", "SOP passed",
    "normal", "Poisson lead-time demand", "exact lead-time demand distribution",
    "bootstrap of lead-time demand", "no demand in the window", "cycle service", "fill rate",
    "forecast errors", "demand history", "no start of production planned", "coverage gap",
    "double stock", "currency differs", "expired special price", "no agreement",
    "previous price", "price unit", "off agreement", "phase-out at risk", "safety stock short",
    "phase-out", "phase-in", "active", "phase-out: run down, no safety stock",
)  # fmt: skip
_PHRASES = [(re.compile(pattern), template) for pattern, template in DATA_PHRASES]


def data_text(said: object) -> str:
    """A sentence an analytics module wrote in English, in the active language: each part
    (split at "; ") re-said from its template of :data:`DATA_PHRASES`, a known phrase
    (:data:`DATA_WORDS`) translated, anything else as it is. English: as written."""
    if not isinstance(said, str) or not said:
        return fmt.MISSING if said is None or (not isinstance(said, str) and pd.isna(said)) else ""
    if current().english:
        return said
    return "; ".join(_data_part(part) for part in said.split("; "))


def _data_part(part: str) -> str:
    for pattern, template in _PHRASES:
        found = pattern.fullmatch(part)
        if found is None:
            continue
        values = {}
        for name, value in found.groupdict().items():
            if name == "day":
                values["day"] = fmt.date(pd.to_datetime(value, format="%d %b %Y"))
            elif name == "n":
                values["n"] = current().number(
                    float(value.replace(",", "")), digits=len(value.partition(".")[2])
                )
            elif name == "pct":
                v = float(value.replace(",", "")) / 100
                values["pct" if "{pct}" in template else "level"] = fmt.percent(
                    v, signed=value.startswith("+"), digits=len(value.partition(".")[2])
                )
            elif name in ("words", "measure", "basis"):
                values["method" if name == "words" else name] = fmt.text(value)
            else:
                values[name] = value
        return fmt.text(template, **values)
    return fmt.text(part)


def no_table_text(*tables: str) -> str:
    """Why figures are missing: "no complaints in the data" (several: joined by "; "), in
    the active language."""
    return "; ".join(
        fmt.text(NO_TABLE[t]) if t in NO_TABLE else fmt.text("no {table} in the data", table=t)
        for t in tables
    )


def as_float(value: object) -> float:
    """`value` as a float; NaN for None, NaN and pd.NA (absent stays absent, never 0)."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def first(frame: pd.DataFrame | None, column: str) -> float:
    """`column` of the first row of `frame`; NaN when there is no frame or no row."""
    return as_float(frame[column].iloc[0]) if frame is not None and len(frame) else float("nan")


def unavailable_section(title: str, analytics: PackAnalytics, *names: str) -> Section | None:
    """The "not available" section when an analytics step behind it could not run, else None."""
    missing = [analytics.unavailable[n] for n in names if n in analytics.unavailable]
    if not missing:
        return None
    reasons = "; ".join(sorted(set(missing)))
    return Section(title, not_available_html(reasons), status="unavailable")


def unavailable_note(analytics: PackAnalytics, *names: str) -> str:
    """A "not available" note for the analytics steps among `names` that could not run."""
    missing = sorted({analytics.unavailable[n] for n in names if n in analytics.unavailable})
    return not_available_html("; ".join(missing)) if missing else ""


def not_available(why: str) -> str:
    """A grey tile's note: "not available: <why>"."""
    return fmt.text("not available: {why}", why=why)


def not_available_html(why: str) -> str:
    """The grey "Not available: <why>." note."""
    return note_html(fmt.text("Not available: {why}.", why=why), kind="unavailable")


def absent_section(title: str, why: str) -> Section:
    """A section whose data is not there: says so, grey, never a number."""
    return Section(title, not_available_html(why), status="empty")


def coverage_sentence(analytics: PackAnalytics) -> str:
    """What every page says when the data stop part-way through the review month ("" when
    they cover it to its end): the month's figures are partial."""
    if not analytics.month_partial:
        return ""
    return fmt.text(
        "The data end on {day}: {month} is covered only to that day, so its figures are "
        "partial; order lines due later are not judged for OTIF.",
        day=fmt.date(analytics.data_end),
        month=fmt.month(analytics.month),
    )


def coverage_note(analytics: PackAnalytics) -> str:
    """:func:`coverage_sentence` as a warning note ("" when the month is covered)."""
    text = coverage_sentence(analytics)
    return note_html(text, kind="warning") if text else ""
