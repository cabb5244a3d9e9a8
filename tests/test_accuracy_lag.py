"""forecast_lag: the one lag definition (target month − snapshot month)."""

import pandas as pd

from kamlab.accuracy import forecast_lag


def test_lag_is_target_month_minus_snapshot_month_whatever_the_day():
    assert forecast_lag("2024-03-01", pd.Period("2024-04", "M")) == 1
    assert forecast_lag("2024-03-31", pd.Period("2024-04", "M")) == 1
    assert forecast_lag(pd.Timestamp("2024-03-15"), "2024-03") == 0


def test_a_month_end_backtest_snapshot_has_lag_equal_to_its_horizon():
    origin = pd.Period("2023-11", "M")
    snapshot = origin.to_timestamp(how="end").normalize()  # 2023-11-30, data through November
    periods = pd.Series(pd.period_range("2023-12", periods=6, freq="M"))
    lags = forecast_lag(pd.Series(snapshot, index=periods.index), periods)
    assert lags.tolist() == [1, 2, 3, 4, 5, 6]


def test_lag_crosses_year_ends_and_can_be_negative():
    assert forecast_lag("2023-12-10", "2024-02") == 2
    assert forecast_lag("2024-03-10", "2024-01") == -2


def test_lag_of_series_keeps_the_index_and_marks_missing_values():
    snaps = pd.Series(pd.to_datetime(["2024-01-05", None]), index=[7, 9])
    periods = pd.Series(pd.PeriodIndex(["2024-03", "2024-03"], freq="M"), index=[7, 9])
    out = forecast_lag(snaps, periods)
    assert out.index.tolist() == [7, 9]
    assert out.iloc[0] == 2
    assert pd.isna(out.iloc[1])
