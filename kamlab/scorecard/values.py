"""Small readers shared by the scorecard's sections: a cell as a float, "not available" blocks."""

from __future__ import annotations

import pandas as pd

from kamlab.chain import PackAnalytics
from kamlab.scorecard.render import Section, note_html

__all__ = ["absent_section", "as_float", "first", "unavailable_note", "unavailable_section"]


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
