"""Plain-language commentary: what changed this month and what needs the KAM's action.

Sentences are assembled from facts the scorecard already shows (tile statuses, the
challenge list, overdue items); nothing here computes a KPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["commentary"]


def commentary(card: Scorecard) -> list[str]:
    """Short sentences, most urgent first: red tiles, then amber, then other changes."""
    tiles = card.headline_tiles()
    red = [t for t in tiles if t.status == "red"]
    amber = [t for t in tiles if t.status == "amber"]
    lines = [f"Action: {t.label} is off target at {t.value} ({t.target})." for t in red]
    lines += [f"Watch: {t.label} is near target at {t.value} ({t.target})." for t in amber]
    missing = [t.label for t in tiles if t.status == "grey"]
    if not red and not amber and len(missing) < len(tiles):
        lines.append("All headline KPIs with data are on target.")
    if missing:
        lines.append(f"No figures yet for: {', '.join(missing)}.")
    return lines
