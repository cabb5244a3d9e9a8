"""Customer scorecards: per-customer tables, KPI tiles, figures and commentary.

Built from the shared analytics of one month (:class:`kamlab.chain.PackAnalytics`, computed
once per pack by :mod:`kamlab.chain` and cached); notebooks only call these.
"""

from kamlab.scorecard.card import OPTIONS, Scorecard, ScorecardError, open_scorecard
from kamlab.scorecard.portfolio import Portfolio, open_portfolio, overall_status
from kamlab.scorecard.tiles import Tile, rag_status

__all__ = [
    "OPTIONS",
    "Portfolio",
    "Scorecard",
    "ScorecardError",
    "Tile",
    "open_portfolio",
    "open_scorecard",
    "overall_status",
    "rag_status",
]
