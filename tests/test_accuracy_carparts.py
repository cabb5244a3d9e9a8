"""Real intermittent demand (Hyndman's carparts: many zeros, trailing missing months).

Nothing may come out as inf, and every NaN in a score table must carry its reason.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from kamlab.accuracy import mase, naive_snapshots, score, smape, wape

CARPARTS = SHARED_DATA / "carparts.csv"
pytestmark = pytest.mark.usefixtures("shared_data")


@pytest.fixture(scope="module")
def carparts():
    wide = pd.read_csv(CARPARTS, dtype={"month": str}).iloc[:, :301]  # month + 300 parts
    long = wide.melt(id_vars="month", var_name="material_id", value_name="quantity")
    return pd.DataFrame(
        {
            "customer_id": "carparts",
            "material_id": long["material_id"].astype("string"),
            "period": pd.PeriodIndex(long["month"], freq="M"),
            "quantity": long["quantity"].astype("float64"),
        }
    )


def test_carparts_has_the_zeros_and_missing_months_this_test_is_about(carparts):
    assert (carparts["quantity"] == 0).mean() > 0.5
    assert carparts["quantity"].isna().sum() > 0


def test_scoring_carparts_gives_no_inf_and_a_reason_for_every_nan(carparts):
    snaps = pd.period_range("1999-01", "2001-09", freq="M").to_timestamp(how="end").normalize()
    fc = pd.concat(
        [
            naive_snapshots(carparts, snapshot_dates=snaps),
            naive_snapshots(carparts, snapshot_dates=snaps, seasonal=True),
        ],
        ignore_index=True,
    )
    metrics = ["mae", "rmse", "mape", "smape", "wape", "accuracy", "bias", "mase", "rmsse"]
    out = score(carparts, fc, metrics=metrics, by=["material_id"])
    assert not np.isinf(out["value"]).any()
    nan = out["value"].isna()
    assert out.loc[nan, "note"].notna().all()
    assert out.loc[~nan, "note"].isna().all()
    ex = out.attrs["excluded"].set_index(["source", "reason"])["rows"]
    assert ex.loc[("naive", "forecast quantity missing")] > 0  # the base month was missing
    # 41 parts stop being recorded after 1999-02: forecasts made before that meet NaN actuals
    assert ex.loc[("naive", "actual quantity missing (NaN)")] > 0
    acc = out.loc[out["metric"] == "accuracy", "value"]
    assert acc.between(0, 1).all()


def test_kernels_on_every_carparts_series_return_finite_values_or_nan(carparts):
    for _, g in carparts.groupby("material_id"):
        y = g["quantity"].to_numpy()
        train, test = y[:39], y[39:]
        naive = np.full(len(test), train[~np.isnan(train)][-1] if (~np.isnan(train)).any() else 0)
        for value in (
            wape(test, naive),
            smape(test, naive),
            mase(test, naive, y_train=train),
        ):
            assert not np.isinf(value)
