"""score / pair_forecasts: lag, pooling, grouping and exclusions on tiny hand-made sets."""

import numpy as np
import pandas as pd
import pytest

from kamlab.accuracy import accuracy as accuracy_metric
from kamlab.accuracy import bias as bias_metric
from kamlab.accuracy import (
    bias_alerts,
    mae,
    mape,
    mase,
    naive_scales,
    naive_snapshots,
    pair_forecasts,
    score,
    score_pairs,
    smape,
    value_added,
    wape,
)


def _p(s):
    return pd.Period(s, "M")


@pytest.fixture
def actuals():
    rows = []
    for month, m1, m2 in [("2024-01", 10, 100), ("2024-02", 20, 100), ("2024-03", 30, 100), ("2024-04", 40, 100)]:  # fmt: skip
        rows += [("C1", "M1", _p(month), float(m1)), ("C1", "M2", _p(month), float(m2))]
        rows += [("C2", "M3", _p(month), 0.0)]
    return pd.DataFrame(rows, columns=["customer_id", "material_id", "period", "quantity"])


@pytest.fixture
def materials():
    return pd.DataFrame(
        {
            "material_id": ["M1", "M2", "M3", "M9"],
            "product_family": ["F1", "F1", "F2", "F2"],
            "lifecycle": ["active", "active", "active", "phase-out"],
        }
    )


@pytest.fixture
def forecasts():
    rows = [
        # customer, material, snapshot, target, quantity
        ("C1", "M1", "2024-01-15", "2024-02", 25.0),  # lag 1: y 20
        ("C1", "M1", "2024-01-15", "2024-03", 30.0),  # lag 2: y 30
        ("C1", "M1", "2024-02-10", "2024-03", 33.0),  # lag 1: y 30
        ("C1", "M1", "2024-02-10", "2024-04", 44.0),  # lag 2: y 40
        ("C1", "M2", "2024-01-15", "2024-02", 90.0),  # lag 1: y 100
        ("C2", "M3", "2024-01-15", "2024-02", 5.0),  # lag 1: y 0
        # to be excluded
        ("C1", "M1", "2024-01-05", "2024-02", 50.0),  # superseded by the 15 January snapshot
        ("C1", "M1", "2024-02-10", "2024-06", 60.0),  # no actual yet
        ("C1", "M1", "2024-01-15", "2024-10", 70.0),  # lag 9: not scored
        ("C1", "M1", "2024-03-01", "2024-02", 80.0),  # target before snapshot month
        ("C1", "M9", "2024-01-15", "2024-02", 7.0),  # phase-out material
    ]
    f = pd.DataFrame(
        rows, columns=["customer_id", "material_id", "snapshot_date", "period", "quantity"]
    )
    return f.assign(
        snapshot_date=pd.to_datetime(f["snapshot_date"]),
        period=pd.PeriodIndex(f["period"], freq="M"),
        source="customer",
    )


def _value(table, **where):
    mask = np.ones(len(table), dtype=bool)
    for k, v in where.items():
        mask &= (table[k] == v).to_numpy()
    assert mask.sum() == 1, where
    return table.loc[mask].iloc[0]


def test_lag_pooling_and_hand_worked_wape(actuals, forecasts, materials):
    s = score(actuals, forecasts, metrics=["wape"], materials=materials)
    vol1 = _value(s, lag=1, pooling="volume")
    assert vol1["value"] == pytest.approx(23 / 150)
    assert vol1["n_points"] == 4
    assert vol1["n_series"] == 3
    mean1 = _value(s, lag=1, pooling="series_mean")
    # per series: M1 (5 + 3) / 50 = 0.16, M2 10 / 100 = 0.1, M3 undefined (all actuals 0)
    assert mean1["value"] == pytest.approx(0.13)
    assert mean1["n_excluded"] == 1
    assert _value(s, lag=2, pooling="volume")["value"] == pytest.approx(4 / 70)


def test_volume_and_series_mean_pooling_differ_as_expected(actuals, forecasts, materials):
    s = score(actuals, forecasts, metrics=["mape"], lags=[1], materials=materials)
    vol = _value(s, pooling="volume")["value"]
    mean = _value(s, pooling="series_mean")["value"]
    # volume MAPE: mean of point APEs over y != 0: (25 %, 10 %, 10 %) -> 15 %
    assert vol == pytest.approx(100 * (0.25 + 0.1 + 0.1) / 3)
    # series mean: M1 mean(25 %, 10 %) = 17.5 %, M2 10 %; M3 undefined -> (17.5 + 10) / 2
    assert mean == pytest.approx(13.75)
    assert _value(s, pooling="volume")["n_excluded"] == 1  # the y = 0 point


def test_every_exclusion_is_counted_with_its_reason(actuals, forecasts, materials):
    s = score(actuals, forecasts, materials=materials)
    ex = s.attrs["excluded"].set_index("reason")
    assert ex.loc["earlier snapshot of the same month superseded", "rows"] == 1
    assert ex.loc["no actual yet (target month after last actual month)", "rows"] == 1
    assert ex.loc["lag not scored", "rows"] == 1
    assert ex.loc["target month before snapshot month", "rows"] == 1
    assert ex.loc["phase-out material", "quantity"] == 7.0
    # C1/M2 ordered 100 in March and April with no customer forecast for those months
    no_fc = ex.loc["actual with no forecast"]
    assert (no_fc["rows"], no_fc["quantity"]) == (2, 200.0)
    scored = _value(s, lag=1, metric="mae", pooling="volume")["n_points"]
    scored += _value(s, lag=2, metric="mae", pooling="volume")["n_points"]
    assert scored + ex.loc[ex["table"] == "forecasts", "rows"].sum() == len(forecasts)


def test_grouping_by_customer_and_by_a_materials_column(actuals, forecasts, materials):
    s = score(actuals, forecasts, by=["customer_id"], metrics=["wape", "accuracy"], lags=[1])
    c2 = _value(s, customer_id="C2", metric="wape", pooling="volume")
    assert np.isnan(c2["value"])
    assert c2["note"] == "actuals all 0, forecast not"
    assert _value(s, customer_id="C2", metric="accuracy", pooling="volume")["value"] == 0.0
    fam = score(actuals, forecasts, by=["product_family"], materials=materials, lags=[1])
    f1 = _value(fam, product_family="F1", metric="wape", pooling="volume")
    assert f1["value"] == pytest.approx(18 / 150)


def test_an_unknown_by_column_names_itself(actuals, forecasts):
    with pytest.raises(ValueError, match="'account_manager'"):
        score(actuals, forecasts, by=["account_manager"])


def test_a_material_missing_from_the_materials_table_is_counted(actuals, forecasts, materials):
    s = score(actuals, forecasts, materials=materials[materials["material_id"] != "M3"])
    ex = s.attrs["excluded"].set_index("reason")
    assert ex.loc["material not in materials table", "rows"] == 1


def test_a_month_without_an_actual_row_is_scored_as_zero_demand(actuals, forecasts, materials):
    short = actuals[~((actuals["material_id"] == "M2") & (actuals["period"] == _p("2024-02")))]
    pairs = pair_forecasts(short, forecasts, materials=materials)
    m2 = pairs[pairs["material_id"] == "M2"]
    assert m2["actual"].tolist() == [0.0]
    assert pairs.attrs["zero_filled"]["rows"].sum() == 1


# ---- the vectorised path agrees with the kernels ------------------------------------------


@pytest.fixture
def random_set():
    rng = np.random.default_rng(7)
    periods = pd.period_range("2022-01", periods=30, freq="M")
    keys = [(f"C{c}", f"M{c}{m}") for c in range(3) for m in range(4)]
    a = pd.DataFrame(
        [(c, m, p) for c, m in keys for p in periods],
        columns=["customer_id", "material_id", "period"],
    )
    a["quantity"] = rng.poisson(3, len(a)).astype(float) * (rng.random(len(a)) > 0.3)
    naive = naive_snapshots(a, snapshot_dates=periods[12:].to_timestamp(how="end").normalize())
    noisy = naive.assign(
        quantity=np.clip(naive["quantity"] + rng.normal(0, 2, len(naive)), 0, None).round(),
        source="customer",
    )
    return a, pd.concat([naive, noisy], ignore_index=True)


KERNELS = {
    "mae": mae,
    "mape": mape,
    "smape": smape,
    "wape": wape,
    "accuracy": accuracy_metric,
    "bias": bias_metric,
}


def test_volume_pooled_values_equal_the_kernels_on_each_group(random_set):
    actuals, forecasts = random_set
    lags = [1, 4]
    s = score(
        actuals, forecasts, by=["customer_id"], metrics=list(KERNELS), pooling="volume", lags=lags
    )
    pairs = pair_forecasts(actuals, forecasts, lags=lags)
    for (cust, src, lag), g in pairs.groupby(["customer_id", "source", "lag"]):
        for name, kernel in KERNELS.items():
            got = _value(s, customer_id=cust, source=src, lag=lag, metric=name)["value"]
            assert got == pytest.approx(kernel(g["actual"], g["forecast"]), nan_ok=True)


def test_series_mean_values_equal_the_mean_of_per_series_kernels(random_set):
    actuals, forecasts = random_set
    s = score(actuals, forecasts, metrics=["wape", "mase"], pooling="series_mean", lags=[2])
    pairs = pair_forecasts(actuals, forecasts, lags=[2])
    for src, g in pairs.groupby("source"):
        per_wape, per_mase = [], []
        for (c, m), h in g.groupby(["customer_id", "material_id"]):
            hist = actuals[(actuals["customer_id"] == c) & (actuals["material_id"] == m)]
            per_wape.append(wape(h["actual"], h["forecast"]))
            per_mase.append(mase(h["actual"], h["forecast"], y_train=hist["quantity"]))
        assert _value(s, source=src, metric="wape")["value"] == pytest.approx(np.nanmean(per_wape))
        assert _value(s, source=src, metric="mase")["value"] == pytest.approx(np.nanmean(per_mase))


def test_volume_pooling_of_customer_parts_equals_scoring_everything_at_once(random_set):
    actuals, forecasts = random_set
    whole = score(actuals, forecasts, metrics=["mae"], pooling="volume")
    parts = score(actuals, forecasts, by=["customer_id"], metrics=["mae"], pooling="volume")
    parts = parts.assign(total=parts["value"] * parts["n_points"])
    pooled = parts.groupby(["source", "lag"])[["total", "n_points"]].sum()
    for _, row in whole.iterrows():
        part = pooled.loc[(row["source"], row["lag"])]
        assert row["value"] == pytest.approx(part["total"] / part["n_points"])


def test_shuffling_forecast_rows_changes_no_score(random_set):
    actuals, forecasts = random_set
    base = score(actuals, forecasts, by=["customer_id"])
    shuffled = score(actuals, forecasts.sample(frac=1, random_state=1), by=["customer_id"])
    pd.testing.assert_frame_equal(base, shuffled)


def test_interval_metrics_are_scored_where_forecasts_carry_bounds(random_set):
    actuals, forecasts = random_set
    fc = forecasts.assign(lo_80=forecasts["quantity"] - 1, hi_80=forecasts["quantity"] + 1)
    fc.loc[fc["source"] == "naive", ["lo_80", "hi_80"]] = np.nan
    s = score(actuals, fc, metrics=["coverage", "winkler_score"], lags=[1], pooling="volume")
    cov = _value(s, source="customer", metric="coverage")["value"]
    assert 0 <= cov <= 1
    naive = _value(s, source="naive", metric="coverage")
    assert np.isnan(naive["value"]) and naive["note"] == "no prediction interval"


def test_empty_forecasts_give_an_empty_table(actuals, forecasts):
    out = score(actuals, forecasts.iloc[:0])
    assert out.empty
    assert "value" in out.columns


def test_unknown_metric_and_pooling_are_refused(actuals, forecasts):
    with pytest.raises(ValueError, match="unknown metric"):
        score(actuals, forecasts, metrics=["r2"])
    with pytest.raises(ValueError, match="pooling must be in"):
        score(actuals, forecasts, pooling="median")


def test_no_actuals_at_all_scores_nothing_and_says_so(forecasts):
    empty = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="string"),
            "material_id": pd.Series(dtype="string"),
            "period": pd.Series(dtype="period[M]"),
            "quantity": pd.Series(dtype="float64"),
        }
    )
    out = score(empty, forecasts)
    assert out.empty
    ex = out.attrs["excluded"]
    assert ex.loc[ex["reason"] == "no actuals at all", "rows"].sum() > 0


def test_monthly_demand_output_with_its_attrs_is_accepted(actuals, forecasts):
    # pandas cannot merge two frames whose attrs both hold DataFrames; kamlab strips them
    tagged = actuals.copy()
    tagged.attrs["excluded"] = pd.DataFrame({"reason": ["cancelled order line"], "rows": [1]})
    fc = forecasts.copy()
    fc.attrs["excluded"] = pd.DataFrame({"reason": ["x"], "rows": [2]})
    pd.testing.assert_frame_equal(score(tagged, fc), score(actuals, forecasts))
    assert "excluded" in tagged.attrs  # the input is left untouched


def test_a_forecast_without_snapshot_date_is_counted_not_scored(actuals, forecasts):
    fc = forecasts.copy()
    fc.loc[0, "snapshot_date"] = pd.NaT
    ex = pair_forecasts(actuals, fc).attrs["excluded"].set_index("reason")
    assert ex.loc["snapshot date or target month missing", "rows"] == 1


def test_naming_lag_or_source_in_by_gives_the_same_table_as_leaving_them_out(actuals, forecasts):
    plain = score(actuals, forecasts, by=["customer_id"], lags=[1, 2])
    named = score(actuals, forecasts, by=["customer_id", "lag", "source"], lags=[1, 2])
    pd.testing.assert_frame_equal(plain, named)


# ---- series keys and scoring one pairing several ways -------------------------------------


def test_score_per_material_sums_the_actuals_and_scores_by_hand(actuals):
    # forecasts made per material, scored against demand summed over customers
    per_material = actuals.assign(customer_id="C9")
    both = pd.concat([actuals, per_material], ignore_index=True)
    fc = pd.DataFrame(
        {
            "material_id": ["M1", "M2"],
            "snapshot_date": pd.Timestamp("2024-01-15"),
            "period": _p("2024-02"),
            "quantity": [1.0, 1.0],
            "source": "customer",
        }
    )
    s = score(both, fc, keys=["material_id"], by=["material_id"], metrics=["mae"], lags=[1])
    summed = both[both["period"] == _p("2024-02")].groupby("material_id")["quantity"].sum()
    got = s[s["pooling"] == "volume"].set_index("material_id")["value"]
    assert got.to_dict() == pytest.approx((summed[["M1", "M2"]] - 1.0).abs().to_dict())
    assert "customer_id" not in s.columns


def test_value_added_and_bias_by_material_keys(random_set):
    actuals, forecasts = random_set
    per_material = actuals.groupby(["material_id", "period"], as_index=False)["quantity"].sum()
    fc = forecasts.drop(columns="customer_id")
    v = value_added(
        per_material, fc, keys=["material_id"], by=["material_id"], steps=["naive", "customer"]
    )
    assert set(v["material_id"]) == set(per_material["material_id"])
    b = bias_alerts(per_material, fc, keys=["material_id"])
    assert list(b.columns[:2]) == ["material_id", "lag"]


def test_scoring_shared_pairs_equals_pairing_in_each_view(random_set):
    actuals, forecasts = random_set
    pairs = pair_forecasts(actuals, forecasts, lags=[1, 2, 3])
    steps = ["naive", "customer"]
    alone = value_added(actuals, forecasts, steps=steps, lags=[1, 2, 3], metric="mase")
    shared = value_added(actuals, None, steps=steps, lags=[1, 2, 3], metric="mase", pairs=pairs)
    pd.testing.assert_frame_equal(alone, shared)
    pd.testing.assert_frame_equal(alone.attrs["excluded"], shared.attrs["excluded"])
    alone = bias_alerts(actuals, forecasts, by=["customer_id"], window=9)
    shared = bias_alerts(actuals, None, by=["customer_id"], window=9, pairs=pairs)
    pd.testing.assert_frame_equal(alone, shared)
    a = score(actuals, forecasts, by=["customer_id"], lags=[1, 2, 3])
    b = score_pairs(
        pairs, by=["customer_id"], pooling=["volume", "series_mean"], scales=naive_scales(actuals)
    )
    pd.testing.assert_frame_equal(a, b)
