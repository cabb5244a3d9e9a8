"""Customer scorecards: per-customer tables, KPI tiles, figures and commentary.

Built from a :class:`~kamlab.data.dataset.Dataset` through the shared analytics of one
month (:func:`prepare`, computed once per pack and cached); notebooks only call these.
"""

from kamlab.scorecard.analytics import (
    PackAnalytics,
    ScorecardError,
    analytics_key,
    latest_month,
    load_analytics,
    load_dataset,
    parse_month,
    prepare,
    resolve_source,
)
from kamlab.scorecard.card import OPTIONS, Scorecard, open_scorecard
from kamlab.scorecard.portfolio import Portfolio, open_portfolio, overall_status
from kamlab.scorecard.tiles import Tile, rag_status

__all__ = [
    "OPTIONS",
    "PackAnalytics",
    "Portfolio",
    "Scorecard",
    "ScorecardError",
    "Tile",
    "analytics_key",
    "latest_month",
    "load_analytics",
    "load_dataset",
    "open_portfolio",
    "open_scorecard",
    "overall_status",
    "parse_month",
    "prepare",
    "resolve_source",
    "rag_status",
]
