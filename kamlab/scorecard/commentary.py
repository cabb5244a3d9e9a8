"""Plain-language commentary: what changed this month and what needs the KAM's action.

Sentences are assembled from facts the scorecard already shows (tile statuses, the
challenge list, bias alerts, class movement); nothing here computes a KPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["commentary"]


def commentary(card: Scorecard) -> list[str]:
    """Short sentences, most urgent first: red tiles, amber tiles, then what to raise."""
    tiles = card.headline_tiles()
    red = [t for t in tiles if t.status == "red"]
    amber = [t for t in tiles if t.status == "amber"]
    lines = [f"Act on {t.label}: {t.value}, off target ({t.target})." for t in red]
    lines += [f"Watch {t.label}: {t.value}, close to target ({t.target})." for t in amber]
    if not red and not amber and any(t.status == "green" for t in tiles):
        lines.append("All headline KPIs with data are on target.")
    a = card.analytics
    challenges = card._slice(a.challenges)
    if challenges is not None and len(challenges):
        top = challenges.sort_values("rank").iloc[0]
        lines.append(
            f"Challenge the customer's forecast: {len(challenges)} figures deviate; the largest, "
            f"material {top['material_id']} for {top['period']}: {top['reason']}."
        )
    bias = card._slice(a.bias)
    if bias is not None and bias["alert"].any():
        alerts = bias[bias["alert"]]
        over = int((alerts["direction"] == "over-forecast").sum())
        lines.append(
            f"Persistent bias on {len(alerts)} materials ({over} over-forecast, "
            f"{len(alerts) - over} under-forecast): discuss the planning process."
        )
    classes = card._slice(a.classes)
    if classes is not None and set(classes["when"]) >= {"now", "year_ago"}:
        by = classes.set_index("when")
        before, now = by.at["year_ago", "abc_class"], by.at["now", "abc_class"]
        if before != now:
            lines.append(
                f"The account moved from class {before} to {now} by revenue since last year."
            )
    missing = [t.label for t in tiles if t.status == "grey"]
    if missing:
        lines.append(f"No figures for: {', '.join(missing)}.")
    return lines
