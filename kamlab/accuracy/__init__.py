"""Forecast accuracy: error metrics, lag, scoring tables, value added, bias, track record
and the challenge list.

One concept per module: :mod:`~kamlab.accuracy.metrics` (array kernels),
:mod:`~kamlab.accuracy.lag` (THE lag definition), :mod:`~kamlab.accuracy.scoring` (pair
forecasts with actuals and score them by group × source × lag), and the KAM views built on
it. This package never imports :mod:`kamlab.forecast`: statistical backtests arrive as
frames shaped like customer forecasts.
"""

from kamlab.accuracy.agreed import (
    agreed_snapshots,
    judgement_value_added,
    sop_export,
    with_agreed,
)
from kamlab.accuracy.bias import bias_alerts
from kamlab.accuracy.challenge import challenge_list, customer_better
from kamlab.accuracy.lag import forecast_lag
from kamlab.accuracy.metrics import (
    accuracy,
    bias,
    coverage,
    mae,
    mape,
    mase,
    pinball_loss,
    rmse,
    rmsse,
    smape,
    tracking_signal,
    wape,
    winkler_score,
)
from kamlab.accuracy.naive import naive_snapshots
from kamlab.accuracy.scoring import naive_scales, pair_forecasts, score, score_pairs
from kamlab.accuracy.track_record import (
    combination_weight,
    combined_forecast,
    record_for,
    track_record,
)
from kamlab.accuracy.trend import accuracy_trend
from kamlab.accuracy.value_added import fva_league, value_added

__all__ = [
    "accuracy",
    "accuracy_trend",
    "agreed_snapshots",
    "bias",
    "bias_alerts",
    "challenge_list",
    "combination_weight",
    "combined_forecast",
    "coverage",
    "customer_better",
    "forecast_lag",
    "fva_league",
    "judgement_value_added",
    "mae",
    "mape",
    "mase",
    "naive_scales",
    "naive_snapshots",
    "pair_forecasts",
    "pinball_loss",
    "record_for",
    "rmse",
    "rmsse",
    "score",
    "score_pairs",
    "smape",
    "sop_export",
    "track_record",
    "tracking_signal",
    "value_added",
    "wape",
    "winkler_score",
    "with_agreed",
]
