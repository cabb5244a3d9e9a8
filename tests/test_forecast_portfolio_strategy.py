"""The portfolio's strategy chosen once on a stable hashed sample (portfolio_strategy) and
applied to any subset of the portfolio by forecast(strategy=) and backtest(strategy=)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlab.forecast import backtest, forecast
from kamlab.forecast.strategy import portfolio_strategy, series_rank

SEED = 42
END = pd.Period("2025-12", "M")
NUMBERS = ["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]


def _frame(Y: np.ndarray, customers: int = 4) -> pd.DataFrame:
    n, T = Y.shape
    return pd.DataFrame(
        {
            "customer_id": np.repeat([f"C{i % customers}" for i in range(n)], T),
            "material_id": np.repeat([f"M{i:03d}" for i in range(n)], T),
            "period": np.tile(pd.period_range(end=END, periods=T, freq="M"), n),
            "quantity": Y.ravel(),
        }
    )


def _seasonal(rows: int = 30) -> pd.DataFrame:
    """Short trending multiplicative seasonal series: seasonal ETS wins validation."""
    rng = np.random.default_rng(SEED)
    t = np.arange(36)
    season = 1 + 0.35 * np.sin(2 * np.pi * t / 12)
    return _frame((50 + 4.0 * t) * season * np.exp(rng.normal(0, 0.04, (rows, 36))))


def _walks(rows: int = 40) -> pd.DataFrame:
    """Random walks with drift: the combination wins validation."""
    rng = np.random.default_rng(SEED)
    return _frame(np.maximum(100 + np.cumsum(rng.normal(0.5, 3, (rows, 60)), axis=1), 1))


@pytest.mark.parametrize(
    ("demand", "expected"), [(_seasonal, "seasonal ETS"), (_walks, "combination")]
)
def test_on_a_sample_covering_the_portfolio_the_choice_is_the_forecasts_own(demand, expected):
    """With every series in the sample, the report (series, every strategy's mean validation
    MASE, winner, margin, t) equals forecast()'s own choice over the portfolio."""
    d = demand()
    own = pd.DataFrame(forecast(d, 12, n_jobs=1).attrs["strategy"])
    chosen = portfolio_strategy(d, 12, origins=[END], sample=1000)
    smooth = chosen[chosen["pattern"] == "smooth"].drop(columns="origin").reset_index(drop=True)
    assert smooth["strategy"].tolist() == [expected]
    assert chosen.loc[chosen["pattern"] == "erratic", "series"].tolist() == [0]
    pd.testing.assert_frame_equal(
        smooth, own, check_dtype=False, check_exact=False, rtol=1e-12, atol=0
    )


def test_a_given_strategy_forecasts_any_subset_as_the_whole_portfolio():
    """A subset of the series (one customer) forecast with the portfolio's strategy equals
    those series' rows of the whole portfolio's forecast, numbers exactly; without it, the
    subset would choose on its own series."""
    d = _seasonal()
    chosen = portfolio_strategy(d, 12, origins=[END])
    whole = forecast(d, 12, n_jobs=1, strategy=chosen)
    assert whole["method"].str.startswith("ETS(").all()
    assert whole["reason"].str.contains("a stable sample of this portfolio", regex=False).all()
    part = forecast(d[d["customer_id"] == "C1"], 12, n_jobs=1, strategy=chosen)
    mine = whole[whole["customer_id"] == "C1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(part[NUMBERS], mine[NUMBERS], check_exact=True)
    assert part["method"].tolist() == mine["method"].tolist()
    # the forecasts under a given strategy are those of forecast()'s own choice of it
    own = forecast(d, 12, n_jobs=1)
    pd.testing.assert_frame_equal(whole[NUMBERS], own[NUMBERS], check_exact=True)


def test_a_backtest_applies_each_origins_strategy_and_needs_every_origin():
    d = _walks(12)
    origins = [END - k for k in range(3, 0, -1)]
    chosen = portfolio_strategy(d, 6, origins=origins)
    assert chosen["origin"].tolist() == [o for o in origins for _ in range(2)]
    a = backtest(d, origins=3, max_lag=6, n_jobs=1, strategy=chosen)
    b = backtest(d[d["customer_id"] == "C0"], origins=3, max_lag=6, n_jobs=1, strategy=chosen)
    mine = a[a["customer_id"] == "C0"].reset_index(drop=True)
    pd.testing.assert_frame_equal(b, mine, check_exact=True)
    with pytest.raises(ValueError, match="no row for the origin 2025-08"):
        backtest(d, origins=4, max_lag=6, n_jobs=1, strategy=chosen)


def test_the_sample_is_bounded_and_stable():
    """At most `sample` series per pattern validate; the sample is the first by the hash of
    the keys, so adding series whose hash ranks later leaves the choice unchanged."""
    d = _walks(40)
    chosen = portfolio_strategy(d, 12, origins=[END], sample=10)
    assert chosen.loc[chosen["pattern"] == "smooth", "series"].tolist() == [10]
    keys = d[["customer_id", "material_id"]].drop_duplicates(ignore_index=True)
    rank = series_rank(keys)
    assert sorted(rank.tolist()) == list(range(len(keys)))
    first = set(keys.loc[rank < 10, "material_id"])
    kept = d[d["material_id"].isin(first | set(keys.loc[rank >= 30, "material_id"]))]
    again = portfolio_strategy(kept, 12, origins=[END], sample=10)
    pd.testing.assert_frame_equal(chosen, again)
