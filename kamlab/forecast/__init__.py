"""Statistical demand forecast: per-series method choice, intervals, backtests and coherence.

One concept per private module; everything public is re-exported here.
"""

from kamlab.forecast.coherence import aggregate_forecast
from kamlab.forecast.engine import backtest, forecast
from kamlab.forecast.strategy import portfolio_strategy

__all__ = ["aggregate_forecast", "backtest", "forecast", "portfolio_strategy"]
