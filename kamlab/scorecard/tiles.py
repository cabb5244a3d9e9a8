"""Headline KPI tiles with red / amber / green status against the customer's SLA targets.

The KPI values come from the analytics modules; this module only decides the colour
(:func:`rag_status`, thresholds from :class:`kamlab.config.ScorecardSettings`) and renders.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from kamlab.i18n import formats as fmt

__all__ = ["STATUS_ICONS", "STATUS_WORDS", "Tile", "rag_status", "target_tile", "tiles_html"]

#: the status words in English (catalog entries: pages show them through ``fmt.text``)
STATUS_WORDS = {
    "green": "on target",
    "amber": "near target",
    "red": "off target",
    "grey": "no data",
}
#: a shape beside the word, so the status never rests on colour alone (colour-blind readers,
#: grey-scale print)
STATUS_ICONS = {"green": "✓", "amber": "!", "red": "✕", "grey": "–"}


def rag_status(
    value: float | None,
    *,
    green: float,
    amber: float,
    higher_is_better: bool = True,
) -> str:
    """Red / amber / green of `value` given the `green` and `amber` thresholds.

    Higher is better: green when value ≥ green, amber when value ≥ amber, else red (lower is
    better: the same with ≤). A missing value (None, NaN) is ``"grey"`` (no data), never green.
    A value equal to a threshold gets the better colour.

    >>> rag_status(0.96, green=0.95, amber=0.90)
    'green'
    >>> rag_status(0.92, green=0.95, amber=0.90)
    'amber'
    >>> rag_status(0.20, green=0.05, amber=0.15, higher_is_better=False)
    'red'
    >>> rag_status(float("nan"), green=0.95, amber=0.90)
    'grey'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "grey"
    if not higher_is_better:
        value, green, amber = -value, -green, -amber
    if value >= green:
        return "green"
    if value >= amber:
        return "amber"
    return "red"


@dataclass(frozen=True)
class Tile:
    """One headline KPI: label, formatted value, target text, status colour and a short note."""

    label: str
    value: str
    target: str
    status: str
    note: str = ""
    trend: str = ""  # e.g. "▼ from 92 % in Jul": the 1- and 3-month movement, arrows
    number: float | None = None  # the figure behind `value` (None: none), workbook and pack.json
    unit: str = ""  # of `number`: "share" (a fraction shown as %) or "days"
    word: str = ""  # replaces the status word, e.g. "action needed" for a missing limit


def target_tile(label: str, value: float, target: float, *, margin: float, note: str) -> Tile:
    """A share against its target: green at or above the target, amber within `margin` below
    it, red further below; grey without a figure; the figure without a colour when no target
    is agreed."""
    if value != value:
        return Tile(label, "–", "", "grey", fmt.text("no figures in the window"))
    num = {"number": value, "unit": "share"}
    if target != target:  # no SLA target agreed: the figure, without a colour
        return Tile(label, fmt.percent(value), fmt.text("no target agreed"), "grey", note, **num)
    status = rag_status(value, green=target, amber=target - margin)
    target_text = fmt.text("target {target}", target=fmt.percent(target))
    return Tile(label, fmt.percent(value), target_text, status, note, **num)


def tiles_html(tiles: Sequence[Tile]) -> str:
    """The tiles as a responsive grid of escaped HTML cards; the status is also written in words."""
    cards = []
    for t in tiles:
        cards.append(
            f'<div class="kam-tile kam-{t.status}">'
            f'<div class="kam-tile-label">{html.escape(t.label)}</div>'
            f'<div class="kam-tile-value">{html.escape(t.value)}</div>'
            f'<div class="kam-tile-target">{html.escape(t.target)}</div>'
            f'<div class="kam-tile-status">{STATUS_ICONS[t.status]} '
            f"{html.escape(t.word or fmt.text(STATUS_WORDS[t.status]))}</div>"
            + (f'<div class="kam-tile-trend">{html.escape(t.trend)}</div>' if t.trend else "")
            + (f'<div class="kam-tile-note">{html.escape(t.note)}</div>' if t.note else "")
            + "</div>"
        )
    return f'<div class="kam-tiles">{"".join(cards)}</div>'
