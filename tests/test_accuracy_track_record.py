"""Track record of the customer's vs kamlab's forecast, and their combination."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlab.accuracy import combination_weight, combined_forecast, record_for, track_record

P = pd.Period


def _hand_worked() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One series, lag 1, Jan–Apr 2026, actual 100 each month.

    customer 110, 90, 120, 100 (errors 10, −10, 20, 0); statistical 104, 103, 98, 95
    (errors 4, 3, −2, −5).
    """
    periods = pd.period_range("2026-01", periods=4, freq="M")
    actuals = pd.DataFrame(
        {"customer_id": "C1", "material_id": "M1", "period": periods, "quantity": 100.0}
    )
    snap = (periods - 1).to_timestamp() + pd.Timedelta(days=9)  # the 10th of the month before
    fc = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": "C1",
                    "material_id": "M1",
                    "snapshot_date": snap,
                    "period": periods,
                    "quantity": q,
                    "source": src,
                }
            )
            for src, q in (
                ("customer", [110.0, 90.0, 120.0, 100.0]),
                ("statistical", [104.0, 103.0, 98.0, 95.0]),
            )
        ],
        ignore_index=True,
    )
    return actuals, fc


def test_combination_weight_is_inverse_mse_shrunk_to_a_half():
    # MSE_A 4, MSE_B 1: raw weight of B = 4/5 = 0.8; 6 months against a prior of 6 -> λ = 1/2
    assert combination_weight(4.0, 1.0, 6, prior_months=6) == pytest.approx(0.65)
    assert combination_weight(4.0, 1.0, 6, prior_months=0) == pytest.approx(0.8)
    assert combination_weight(4.0, 1.0, 0, prior_months=6) == 0.5  # no record: equal weights
    assert combination_weight(0.0, 0.0, 12, prior_months=0) == 0.5  # both perfect
    assert combination_weight(0.0, 9.0, 12, prior_months=0) == 0.0  # A perfect: all on A


def test_track_record_on_a_hand_worked_series():
    actuals, fc = _hand_worked()
    r = track_record(actuals, fc, lags=[1], months=4, min_months=3, prior_months=0, margin=0.1)
    assert len(r) == 1
    row = r.iloc[0]
    assert row["months"] == 4
    assert row["closer_statistical"] == 3 and row["closer_customer"] == 1  # Apr: 0 < 5
    assert row["mae_customer"] == pytest.approx(10.0)  # (10 + 10 + 20 + 0) / 4
    assert row["mae_statistical"] == pytest.approx(3.5)  # (4 + 3 + 2 + 5) / 4
    assert row["bias_customer"] == pytest.approx(20 / 400)
    # combined, each month with the record known then (target months up to t − 2):
    # Jan, Feb none -> ½: 107 (err 7), 96.5 (3.5); Mar: Jan's MSEs 100 vs 16 -> w = 100/116,
    # 98w + 120(1 − w) = 101.0345; Apr: Jan+Feb MSEs 100 vs 12.5 -> w = 100/112.5 = 0.8889,
    # 95w + 100(1 − w) = 95.5556
    w_mar, w_apr = 100 / 116, 100 / 112.5
    errs = [
        7.0,
        3.5,
        abs(98 * w_mar + 120 * (1 - w_mar) - 100),
        abs(95 * w_apr + 100 * (1 - w_apr) - 100),
    ]
    assert row["mae_combined"] == pytest.approx(np.mean(errs))
    # the weight from now on: MSEs over the 4 months, 150 vs 13.5
    assert row["weight_statistical"] == pytest.approx(150 / 163.5)
    assert row["verdict"] == "statistical"  # 3.5 <= 0.9 × 10 and closer 3 of 4


def test_verdict_needs_the_margin_and_more_months_closer():
    actuals, fc = _hand_worked()
    short = track_record(actuals, fc, lags=[1], months=4, min_months=5)
    assert short["verdict"].iloc[0] == "short"
    # swap the sources' names: now the customer's record is the better one
    swapped = fc.assign(
        source=fc["source"].map({"customer": "statistical", "statistical": "customer"})
    )
    r = track_record(actuals, swapped, lags=[1], months=4, min_months=3)
    assert r["verdict"].iloc[0] == "customer"
    # a margin larger than the edge (3.5 vs 10 is 65 % lower): even
    r = track_record(actuals, fc, lags=[1], months=4, min_months=3, margin=0.7)
    assert r["verdict"].iloc[0] == "even"


def test_window_keeps_the_last_n_target_months():
    actuals, fc = _hand_worked()
    r = track_record(actuals, fc, lags=[1], months=2, min_months=1)
    row = r.iloc[0]
    assert row["months"] == 2  # Mar, Apr
    assert row["mae_customer"] == pytest.approx(10.0)  # (20 + 0) / 2
    assert row["mae_statistical"] == pytest.approx(3.5)  # (2 + 5) / 2
    early = track_record(actuals, fc, lags=[1], months=2, min_months=1, as_of="2026-02")
    assert early["mae_customer"].iloc[0] == pytest.approx(10.0)  # Jan, Feb
    assert early["mae_statistical"].iloc[0] == pytest.approx(3.5)


def _simulated(n_series: int, months: int, edge: float, seed: int) -> tuple:
    """Pairs of forecasts with independent normal errors, statistical sd = `edge` × customer's."""
    rng = np.random.default_rng(seed)
    periods = pd.period_range("2025-01", periods=months, freq="M")
    ids = np.repeat([f"M{i:04d}" for i in range(n_series)], months)
    per = np.tile(periods, n_series)
    y = 200 + 30 * rng.standard_normal(n_series * months)
    actuals = pd.DataFrame({"customer_id": "C1", "material_id": ids, "period": per, "quantity": y})
    snap = pd.PeriodIndex(per - 1).to_timestamp() + pd.Timedelta(days=4)
    parts = [
        pd.DataFrame(
            {
                "customer_id": "C1",
                "material_id": ids,
                "snapshot_date": snap,
                "period": per,
                "quantity": y + sd * rng.standard_normal(len(y)),
                "source": src,
            }
        )
        for src, sd in (("customer", 20.0), ("statistical", 20.0 * edge))
    ]
    return actuals, pd.concat(parts, ignore_index=True)


def test_combination_beats_both_sources_when_errors_are_independent():
    actuals, fc = _simulated(200, 24, 1.0, seed=3)
    r = track_record(actuals, fc, lags=[1], months=12)
    mat = r[r["level"] == "material"]
    # equal, independent errors: combining halves the MSE, so MAE falls by about 1/√2
    assert mat["mae_combined"].mean() < 0.8 * mat["mae_customer"].mean()
    assert mat["mae_combined"].mean() < 0.8 * mat["mae_statistical"].mean()
    assert (mat["mae_combined"] < mat[["mae_customer", "mae_statistical"]].min(axis=1)).mean() > 0.7


def test_track_record_is_deterministic_and_row_order_free():
    actuals, fc = _simulated(30, 18, 0.8, seed=5)
    one = track_record(actuals, fc, lags=[1])
    two = track_record(
        actuals.sample(frac=1, random_state=1), fc.sample(frac=1, random_state=2), lags=[1]
    )
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.parametrize(
    ("edge", "rate"),
    [(4 / 3, 0.08), (0.75, 0.58), (1.0, 0.28)],  # the rates quoted in kamlab/config.py
)
def test_default_margin_challenge_rates_as_documented(edge, rate):
    actuals, fc = _simulated(3000, 12, edge, seed=11)
    r = track_record(actuals, fc, lags=[1], months=12)
    share = (r["verdict"] == "statistical").mean()
    assert share == pytest.approx(rate, abs=0.035)


def test_record_for_falls_back_to_the_family_when_the_material_is_short():
    actuals, fc = _hand_worked()
    # a second material of the same family, forecast only in April
    extra_a = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": "M2",
            "period": [P("2026-04", "M")],
            "quantity": [50.0],
        }
    )
    extra_f = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": "M2",
            "snapshot_date": pd.Timestamp("2026-03-10"),
            "period": P("2026-04", "M"),
            "quantity": [60.0, 40.0],
            "source": ["customer", "statistical"],
        }
    )
    materials = pd.DataFrame({"material_id": ["M1", "M2", "M3"], "product_family": "Seals"})
    r = track_record(
        pd.concat([actuals, extra_a]),
        pd.concat([fc, extra_f]),
        lags=[1],
        months=4,
        min_months=3,
        materials=materials,
    )
    fam = r[r["level"] == "family"].iloc[0]
    assert fam["months"] == 4
    # April's family totals: customer 160, statistical 135, actual 150
    assert fam["mae_customer"] == pytest.approx((10 + 10 + 20 + 10) / 4)
    points = pd.DataFrame(
        {"customer_id": "C1", "material_id": ["M1", "M2", "M3"], "lag": [1, 1, 3]}
    )
    got = record_for(points, r, materials=materials, min_months=3)
    assert got["level"].tolist() == ["material", "family", "family"]  # M3: no record of its own
    assert got["record_lag"].tolist() == [1, 1, 1]  # lag 3 judged by the only lag held
    assert got.loc[1, "mae_customer"] == pytest.approx(fam["mae_customer"])


def test_combined_forecast_is_never_negative_and_uses_one_source_where_alone():
    cf = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M2"],
            "snapshot_date": pd.Timestamp("2026-11-05"),
            "period": P("2026-12", "M"),
            "quantity": [0.0, 80.0],
        }
    )
    st = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M3"],
            "period": P("2026-12", "M"),
            "forecast": [-30.0, 40.0],
        }
    )
    rec = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1"],
            "level": "material",
            "lag": [1],
            "months": [12],
            "weight_statistical": [0.9],
        }
    )
    out = combined_forecast(cf, st, rec).set_index("material_id")
    assert out.loc["M1", "combined"] == 0.0  # 0.9 × −30 + 0.1 × 0 < 0: clipped
    assert out.loc["M2", "combined"] == 80.0 and out.loc["M2", "weight_statistical"] == 0.0
    assert out.loc["M3", "combined"] == 40.0 and out.loc["M3", "weight_statistical"] == 1.0
    assert (out["combined"] >= 0).all()


def test_challenge_list_challenges_only_where_our_record_is_better():
    from kamlab.accuracy import challenge_list, customer_better
    from kamlab.accuracy.challenge import focus_challenges

    # latest snapshot: both materials +50 % above our forecast in Dec (lag 1)
    cf = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M2"],
            "snapshot_date": pd.Timestamp("2026-11-05"),
            "period": P("2026-12", "M"),
            "quantity": [150.0, 150.0],
        }
    )
    stat = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M2"],
            "period": P("2026-12", "M"),
            "forecast": 100.0,
            "lo_80": 90.0,
            "hi_80": 110.0,
        }
    )
    act = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M2"],
            "period": P("2025-12", "M"),
            "quantity": 100.0,
            "net_value": 1000.0,
            "currency": "EUR",
        }
    )
    record = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M2"],
            "level": "material",
            "lag": 1,
            "months": 12,
            "closer_customer": [3, 10],
            "closer_statistical": [9, 2],
            "mae_customer": [20.0, 5.0],
            "mae_statistical": [10.0, 15.0],
            "weight_statistical": [0.8, 0.1],
            "verdict": ["statistical", "customer"],
        }
    )
    ch = challenge_list(cf, stat, act, as_of="2026-11-30", track_record=record)
    got = ch.set_index("material_id")
    assert got.loc["M1", "verdict"] == "challenge" and got.loc["M2", "verdict"] == "customer_better"
    assert got.loc["M1", "closer_statistical"] == 9 and got.loc["M1", "record_months"] == 12
    assert got.loc["M1", "combined_forecast"] == pytest.approx(0.8 * 100 + 0.2 * 150)
    assert got.loc["M2", "combined_forecast"] == pytest.approx(0.1 * 100 + 0.9 * 150)
    focus = focus_challenges(ch, min_value=0.0)
    assert focus["material_id"].tolist() == ["M1"]
    assert focus["closer_statistical"].tolist() == [9]
    better = customer_better(ch)
    assert better["material_id"].tolist() == ["M2"]
    assert better["closer_customer"].tolist() == [10]
    # without a record nothing is checked, and every flagged figure stays a challenge
    plain = challenge_list(cf, stat, act, as_of="2026-11-30")
    assert set(plain["verdict"]) == {"not_checked"}
    assert len(focus_challenges(plain, min_value=0.0)) == 2
