"""Small readers shared by the scorecard's sections: a cell as a float, "not available" blocks."""

from __future__ import annotations

import pandas as pd

from kamlab.chain import PackAnalytics
from kamlab.i18n import formats as fmt
from kamlab.scorecard.render import Section, note_html

__all__ = [
    "NEEDS",
    "absent_frames",
    "absent_section",
    "as_float",
    "coverage_note",
    "coverage_sentence",
    "first",
    "unavailable_note",
    "unavailable_section",
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
            out[frame] = f"no {' and no '.join(gone)} in the data"
    return out


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
    return Section(
        title, note_html(f"Not available: {reasons}.", kind="unavailable"), status="unavailable"
    )


def unavailable_note(analytics: PackAnalytics, *names: str) -> str:
    """A "not available" note for the analytics steps among `names` that could not run."""
    missing = sorted({analytics.unavailable[n] for n in names if n in analytics.unavailable})
    return note_html(f"Not available: {'; '.join(missing)}.", kind="unavailable") if missing else ""


def absent_section(title: str, why: str) -> Section:
    """A section whose data is not there: says so, grey, never a number."""
    return Section(title, note_html(f"Not available: {why}.", kind="unavailable"), status="empty")


def coverage_sentence(analytics: PackAnalytics) -> str:
    """What every page says when the data stop part-way through the review month ("" when
    they cover it to its end): the month's figures are partial."""
    if not analytics.month_partial:
        return ""
    return (
        f"The data end on {fmt.date(analytics.data_end)}: {fmt.month(analytics.month)} is "
        "covered only to that day, so its figures are partial; order lines due later are not "
        "judged for OTIF."
    )


def coverage_note(analytics: PackAnalytics) -> str:
    """:func:`coverage_sentence` as a warning note ("" when the month is covered)."""
    text = coverage_sentence(analytics)
    return note_html(text, kind="warning") if text else ""
