"""Statistical demand forecast: per-series method choice, intervals, backtests and coherence.

One concept per private module; everything public is re-exported here.
"""

from kamlab.forecast.coherence import aggregate_forecast
from kamlab.forecast.engine import backtest, forecast

__all__ = ["aggregate_forecast", "backtest", "forecast"]
