"""kamlab.forecast.aggregate_forecast: totals equal the sum of the material forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlab.forecast import aggregate_forecast, backtest, forecast


def _demand() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = []
    for c in ("C1", "C2"):
        for m in ("A", "B", "X"):
            q = rng.poisson(20 if m != "X" else 0.5, 30).astype(float)
            rows.append(
                pd.DataFrame(
                    {
                        "customer_id": c,
                        "material_id": m,
                        "period": pd.period_range("2023-01", periods=30, freq="M"),
                        "quantity": q,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


MATERIALS = pd.DataFrame({"material_id": ["A", "B", "X"], "product_family": ["F1", "F1", "F2"]})


def test_customer_totals_are_the_sums_of_the_material_forecasts():
    fc = forecast(_demand(), 6, n_jobs=1)
    tot = aggregate_forecast(fc, level="customer")
    ref = fc.groupby(["customer_id", "period"])["forecast"].sum().reset_index()
    assert np.allclose(tot["forecast"], ref["forecast"])
    assert (tot["series"] == 3).all() and len(tot) == 2 * 6
    assert (tot["lo_80"] <= tot["forecast"]).all() and (tot["forecast"] <= tot["hi_80"]).all()


def test_family_totals_add_up_to_the_customer_total():
    fc = forecast(_demand(), 6, n_jobs=1)
    fam = aggregate_forecast(fc, MATERIALS, level="product_family")
    cust = aggregate_forecast(fc, level="customer")
    back = fam.groupby(["customer_id", "period"])["forecast"].sum().to_numpy()
    assert np.allclose(back, cust["forecast"])
    assert set(fam["product_family"]) == {"F1", "F2"}


def test_independent_bounds_add_half_widths_in_quadrature_and_comonotonic_ones_add_up():
    fc = pd.DataFrame(
        {
            "customer_id": "C",
            "material_id": ["A", "B"],
            "period": pd.Period("2025-01", "M"),
            "forecast": [10.0, 20.0],
            "lo_80": [7.0, 16.0],
            "hi_80": [13.0, 24.0],
        }
    )
    ind = aggregate_forecast(fc).iloc[0]
    assert ind["forecast"] == 30 and ind["hi_80"] == 35 and ind["lo_80"] == 25  # sqrt(9+16) = 5
    com = aggregate_forecast(fc, dependence="comonotonic").iloc[0]
    assert com["hi_80"] == 37 and com["lo_80"] == 23


def test_backtest_totals_keep_snapshot_and_lag():
    bt = backtest(_demand(), origins=2, max_lag=2, n_jobs=1)
    tot = aggregate_forecast(bt)
    assert {"snapshot_date", "lag", "quantity"} <= set(tot.columns)
    assert np.isclose(tot["quantity"].sum(), bt["quantity"].sum())


def test_materials_missing_from_the_master_are_kept_and_counted():
    fc = forecast(_demand(), 2, n_jobs=1)
    fam = aggregate_forecast(fc, MATERIALS.iloc[:2], level="product_family")
    assert np.isclose(fam["forecast"].sum(), fc["forecast"].sum())
    assert fam.attrs["excluded"]["rows"].iloc[0] == 2 * 2


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level must be one of"):
        aggregate_forecast(forecast(_demand(), 1, n_jobs=1), level="region")
