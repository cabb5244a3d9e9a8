"""Array kernels of kamlab.accuracy.metrics: hand-worked values, edge cases, references."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_pinball_loss,
    root_mean_squared_error,
)
from utilsforecast import losses as uf

from kamlab.accuracy import (
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

Y = [100.0, 0.0, 50.0, 20.0]
F = [110.0, 5.0, 40.0, 20.0]  # errors +10, +5, -10, 0

POINT_METRICS = [mae, rmse, mape, smape, wape, accuracy, bias, tracking_signal]


def test_hand_worked_values_of_every_point_metric():
    assert mae(Y, F) == pytest.approx(25 / 4)
    assert rmse(Y, F) == pytest.approx(math.sqrt(225 / 4))
    assert mape(Y, F) == pytest.approx(100 * (0.1 + 0.2 + 0) / 3)
    assert smape(Y, F) == pytest.approx(200 * (10 / 210 + 5 / 5 + 10 / 90 + 0) / 4)
    assert wape(Y, F) == pytest.approx(25 / 170)
    assert accuracy(Y, F) == pytest.approx(1 - 25 / 170)
    assert bias(Y, F) == pytest.approx(5 / 170)
    assert tracking_signal(Y, F) == pytest.approx(-5 / (25 / 4))


def test_mape_excludes_zero_actuals_and_reports_how_many():
    assert mape(Y, F, return_excluded=True) == (pytest.approx(10.0), 1)
    assert math.isnan(mape([0, 0], [1, 0]))
    assert mape([0, 0], [1, 0], return_excluded=True)[1] == 2


def test_smape_counts_a_zero_zero_term_as_zero_and_stays_within_0_and_200():
    assert smape([0, 0], [0, 0]) == 0.0
    assert smape([0, 10], [0, 10]) == 0.0
    assert smape([0], [5]) == 200.0
    assert smape([5], [0]) == 200.0


def test_wape_bias_and_accuracy_of_all_zero_actuals_are_defined_without_inf():
    assert wape([0, 0], [0, 0]) == 0.0
    assert math.isnan(wape([0, 0], [1, 0]))
    assert accuracy([0, 0], [0, 0]) == 1.0
    assert accuracy([0, 0], [1, 0]) == 0.0
    assert bias([0, 0], [0, 0]) == 0.0
    assert math.isnan(bias([0, 0], [2, 0]))


def test_accuracy_is_floored_at_zero_when_wape_exceeds_one():
    assert wape([10], [35]) == 2.5
    assert accuracy([10], [35]) == 0.0


def test_bias_is_positive_for_over_forecast_and_tracking_signal_negative():
    assert bias([10, 10], [12, 13]) > 0
    assert tracking_signal([10, 10], [12, 13]) < 0
    assert tracking_signal([10, 10], [8, 7]) == pytest.approx(2.0)  # n when all errors one sign


def test_tracking_signal_of_a_perfect_forecast_is_zero():
    assert tracking_signal([3, 4], [3, 4]) == 0.0


@pytest.mark.parametrize("metric", POINT_METRICS)
def test_empty_input_returns_nan_for_every_point_metric(metric):
    assert math.isnan(metric([], []))


@pytest.mark.parametrize("metric", POINT_METRICS)
def test_pairs_with_a_nan_are_skipped(metric):
    with_nan = metric([*Y, np.nan, 7.0], [*F, 3.0, np.nan])
    assert with_nan == pytest.approx(metric(Y, F), nan_ok=True)


@pytest.mark.parametrize("metric", POINT_METRICS)
def test_shuffling_points_changes_nothing(metric):
    rng = np.random.default_rng(1)
    y, f = rng.poisson(5, 50).astype(float), rng.poisson(5, 50).astype(float)
    order = rng.permutation(50)
    assert metric(y[order], f[order]) == pytest.approx(metric(y, f))


@pytest.mark.parametrize(
    ("metric", "best"),
    [(mae, 0.0), (rmse, 0.0), (mape, 0.0), (smape, 0.0), (wape, 0.0), (accuracy, 1.0), (bias, 0.0)],
)
def test_a_perfect_forecast_scores_the_best_value(metric, best):
    assert metric(Y, Y) == best


def test_unequal_lengths_are_refused_with_the_lengths():
    with pytest.raises(ValueError, match=r"equal length, got \[2, 3\]"):
        mae([1, 2], [1, 2, 3])


def test_mase_and_rmsse_scale_by_seasonal_naive_when_the_history_is_long_enough():
    history = np.arange(1, 15, dtype=float)  # 14 months: m = 12, scale = mean(|y_t - y_t-12|) = 12
    assert mase([20, 20], [23, 17], y_train=history) == pytest.approx(3 / 12)
    assert rmsse([20, 20], [23, 17], y_train=history) == pytest.approx(math.sqrt(9 / 144))


def test_mase_falls_back_to_lag_one_naive_on_a_short_history():
    assert mase([3, 5], [4, 4], y_train=[1, 2, 4, 3]) == pytest.approx(1 / (4 / 3))


def test_mase_with_a_zero_scale_is_nan_unless_the_forecast_is_perfect():
    flat = [0.0] * 13
    assert math.isnan(mase([0, 1], [1, 1], y_train=flat))
    assert mase([0, 1], [0, 1], y_train=flat) == 0.0
    assert math.isnan(mase([1], [1], y_train=[5.0]))  # one history point: no scale


def test_interval_metrics_hand_worked():
    y, lo, hi = [5, 9, 1], [4, 4, 2], [6, 8, 3]
    assert coverage(y, lo, hi) == pytest.approx(1 / 3)
    # widths 2, 4, 1; penalties 0, (9-8)*2/0.2 = 10, (2-1)*10 = 10
    assert winkler_score(y, lo, hi, level=80) == pytest.approx((2 + 14 + 11) / 3)
    assert pinball_loss([10, 10], [8, 12], quantile=0.9) == pytest.approx(1.0)
    assert pinball_loss([10, 10], [8, 12], quantile=0.5) == pytest.approx(
        mae([10, 10], [8, 12]) / 2
    )


def test_interval_and_quantile_parameters_out_of_range_are_refused():
    with pytest.raises(ValueError, match="level must lie in"):
        winkler_score([1], [0], [2], level=100)
    with pytest.raises(ValueError, match="quantile must lie in"):
        pinball_loss([1], [1], quantile=1.0)


# ---- independent references -------------------------------------------------------------


def _series(seed=3, n=24):
    rng = np.random.default_rng(seed)
    y = rng.poisson(4, n).astype(float)
    y[rng.random(n) < 0.25] = 0.0
    f = np.clip(y + rng.normal(0, 2, n), 0, None).round()
    return y, f


def _uf_frame(y, f, **extra):
    return pd.DataFrame({"unique_id": "s", "ds": np.arange(len(y)), "y": y, "m": f, **extra})


def _uf(loss, y, f, **kw):
    return float(loss(_uf_frame(y, f), models=["m"], **kw)["m"].iloc[0])


def test_mae_rmse_agree_with_sklearn_and_utilsforecast():
    y, f = _series()
    assert mae(y, f) == pytest.approx(mean_absolute_error(y, f))
    assert mae(y, f) == pytest.approx(_uf(uf.mae, y, f))
    assert rmse(y, f) == pytest.approx(root_mean_squared_error(y, f))
    assert rmse(y, f) == pytest.approx(_uf(uf.rmse, y, f))


def test_mape_agrees_with_sklearn_times_100_on_the_non_zero_actuals():
    y, f = _series()
    nz = y != 0
    assert (~nz).any()  # the series has zeros, which kamlab excludes
    assert mape(y, f) == pytest.approx(100 * mean_absolute_percentage_error(y[nz], f[nz]))


def test_smape_is_utilsforecast_fraction_times_200():
    # utilsforecast: mean(|y-f| / (|y|+|f|)), 0/0 = 0, a fraction in [0, 1];
    # kamlab follows M3/M4: 200 * the same mean, in % from 0 to 200
    y, f = _series()
    assert smape(y, f) == pytest.approx(200 * _uf(uf.smape, y, f))


def test_wape_and_bias_agree_with_utilsforecast():
    y, f = _series()
    assert wape(y, f) == pytest.approx(_uf(uf.wape, y, f))
    # utilsforecast bias is mean(f - y) in units; kamlab's is relative: sum(f - y) / sum(y)
    assert bias(y, f) == pytest.approx(_uf(uf.bias, y, f) * len(y) / y.sum())


def test_mase_and_rmsse_agree_with_utilsforecast():
    y, f = _series(n=40)
    train, test, ftest = y[:30], y[30:], f[30:]
    train_df = pd.DataFrame({"unique_id": "s", "ds": np.arange(30), "y": train})
    df = _uf_frame(test, ftest)
    ref = float(uf.mase(df, models=["m"], seasonality=12, train_df=train_df)["m"].iloc[0])
    assert mase(test, ftest, y_train=train) == pytest.approx(ref)
    ref2 = float(uf.rmsse(df, models=["m"], seasonality=12, train_df=train_df)["m"].iloc[0])
    assert rmsse(test, ftest, y_train=train) == pytest.approx(ref2)


def test_interval_metrics_agree_with_utilsforecast_and_pinball_with_sklearn():
    y, f = _series()
    lo, hi = np.clip(f - 2, 0, None), f + 2
    df = _uf_frame(y, f, **{"m-lo-80": lo, "m-hi-80": hi})
    ref_cov = float(uf.coverage(df, models=["m"], level=80)["m"].iloc[0])
    ref_wink = float(uf.winkler_score(df, models=["m"], level=80)["m"].iloc[0])
    assert coverage(y, lo, hi) == pytest.approx(ref_cov)
    assert winkler_score(y, lo, hi, level=80) == pytest.approx(ref_wink)
    for q in (0.1, 0.5, 0.9):
        assert pinball_loss(y, f, quantile=q) == pytest.approx(mean_pinball_loss(y, f, alpha=q))
        qdf = _uf_frame(y, f)
        ref = float(uf.quantile_loss(qdf, models={"m": "m"}, q=q)["m"].iloc[0])
        assert pinball_loss(y, f, quantile=q) == pytest.approx(ref)
