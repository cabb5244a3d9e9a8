"""Safety stock per PFEP: textbook values, the loss function against scipy, intermittent items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from kamlab.inventory import (
    bootstrap_lead_time_demand,
    forecast_error_sigma,
    inverse_normal_loss,
    lead_time_demand_distribution,
    lead_time_sigma,
    recommended_safety_stock,
    safety_stock_cycle,
    safety_stock_fill_rate,
    standard_normal_loss,
)
from kamlab.inventory._series import DAYS_PER_MONTH

END = pd.Period("2025-12", "M")


def _plan(**columns) -> pd.DataFrame:
    base = {"material_id": ["M1"], "plant": ["1000"], "lead_time_days": [round(DAYS_PER_MONTH)]}
    return pd.DataFrame({**base, **columns})


def _demand(values, material="M1") -> pd.DataFrame:
    periods = pd.period_range(end=END, periods=len(values), freq="M")
    return pd.DataFrame(
        {"material_id": material, "plant": "1000", "period": periods, "quantity": values}
    )


def test_cycle_service_safety_stock_reproduces_the_textbook_examples():
    # Chopra & Meindl, Supply Chain Management, safety-inventory chapter, Lego at Walmart:
    # weekly demand sd 500, lead time 2 weeks, CSL 90 %: safety inventory 906
    assert safety_stock_cycle(500.0, 2.0, service_level=0.90) == pytest.approx(906.0, abs=1.0)
    # the same at 95 %: z = 1.6449, sigma_L = 707.1
    assert safety_stock_cycle(500.0, 2.0, service_level=0.95) == pytest.approx(1163.1, abs=0.1)
    # the Dell example of the same chapter: daily demand 2,500 sd 500, lead time 7 sd 7 days:
    # sigma_L 17,550, safety inventory 22,491 at 90 %
    sigma = lead_time_sigma(500.0, 7.0, mean_demand=2500.0, sigma_lead_time=7.0)
    assert sigma == pytest.approx(17550.0, abs=1.0)
    got = safety_stock_cycle(500.0, 7.0, service_level=0.9, mean_demand=2500.0, sigma_lead_time=7.0)
    assert got == pytest.approx(22491.0, abs=2.0)


def test_standard_normal_loss_equals_the_integral_computed_by_scipy():
    for k in (-2.0, -0.5, 0.0, 0.9, 1.645, 3.0):
        reference, _ = integrate.quad(lambda z, k=k: (z - k) * stats.norm.pdf(z), k, np.inf)
        assert standard_normal_loss(k) == pytest.approx(reference, abs=1e-9)
    g = np.array([2.0, 0.5, 0.1, 0.01, 1e-4])
    np.testing.assert_allclose(standard_normal_loss(inverse_normal_loss(g)), g, rtol=1e-8)


def test_fill_rate_safety_stock_by_hand_and_against_scipy():
    # sigma_LT = 100, Q = 500, beta = 0.98: G(k) = 0.1, so k = 0.9023 (tables: G(0.90) = 0.1004,
    # G(0.91) = 0.0986) and SS = 90.23
    ss = safety_stock_fill_rate(100.0, 1.0, fill_rate=0.98, order_quantity=500.0)
    k = ss / 100.0
    reference, _ = integrate.quad(lambda z: (z - k) * stats.norm.pdf(z), k, np.inf)
    assert reference == pytest.approx(0.1, abs=1e-6)
    assert ss == pytest.approx(90.23, abs=0.01)
    # a big order quantity meets the fill rate without safety stock (k < 0 gives 0, not less)
    assert safety_stock_fill_rate(100.0, 1.0, fill_rate=0.9, order_quantity=5000.0) == 0.0
    with pytest.raises(ValueError, match="fill_rate must be in"):
        safety_stock_fill_rate(1.0, 1.0, fill_rate=1.0, order_quantity=1.0)


def test_normal_item_uses_the_forecast_errors_when_there_are_enough():
    demand = _demand([100.0, 120, 80, 110, 90, 100, 105, 95, 100, 130, 70, 100])
    errors = pd.DataFrame({"material_id": ["M1"], "error_sigma": [50.0], "error_points": [12]})
    got = recommended_safety_stock(_plan(), demand, end=END, errors=errors).iloc[0]
    lead = round(DAYS_PER_MONTH) / DAYS_PER_MONTH
    assert got["pattern"] == "smooth or erratic" and got["sigma_basis"] == "forecast errors"
    assert got["recommended_safety_stock"] == np.ceil(1.644854 * 50.0 * np.sqrt(lead))
    few = errors.assign(error_points=3)  # too few residuals: month-to-month demand sigma
    got = recommended_safety_stock(_plan(), demand, end=END, errors=few).iloc[0]
    assert got["sigma_basis"] == "demand history"
    sd = np.std(demand["quantity"], ddof=1)
    assert got["recommended_safety_stock"] == np.ceil(1.644854 * sd * np.sqrt(lead))


def test_intermittent_item_gets_the_quantile_of_its_lead_time_demand_not_the_normal_one():
    # demand 100 in one month of four: lead-time demand over 1 month is 0 (p .75) or 100;
    # over 2 months 0 (.5625), 100 (.375), 200 (.0625): the 95 % quantile is 100, resp. 200
    demand = _demand([100.0, 0, 0, 0] * 3)
    one = recommended_safety_stock(
        _plan(lead_time_days=[DAYS_PER_MONTH]), demand, end=END, bootstrap_draws=20_000
    ).iloc[0]
    assert one["pattern"] == "intermittent" and one["method"].startswith("exact lead-time")
    assert one["recommended_reorder_point"] == 100.0
    assert one["recommended_safety_stock"] == 75.0  # 100 less the mean lead-time demand 25
    two = recommended_safety_stock(
        _plan(lead_time_days=[2 * DAYS_PER_MONTH]), demand, end=END, bootstrap_draws=20_000
    ).iloc[0]
    assert two["recommended_safety_stock"] == 150.0
    normal = safety_stock_cycle(np.std([100.0, 0, 0, 0] * 3, ddof=1), 2.0, service_level=0.95)
    assert normal == pytest.approx(105.2, abs=0.1)  # what the normal approximation would say


def test_intermittent_fill_rate_takes_the_lowest_level_with_the_shortage_allowed():
    demand = _demand([100.0, 0, 0, 0] * 3)
    plan = _plan(lead_time_days=[DAYS_PER_MONTH], lot_size=[100.0])
    # expected shortage with reorder point 0 is 25 per cycle: within (1 - 0.5) x 100, not 2
    loose = recommended_safety_stock(
        plan, demand, end=END, service_measure="fill_rate", fill_rate=0.5, bootstrap_draws=20_000
    ).iloc[0]
    tight = recommended_safety_stock(
        plan, demand, end=END, service_measure="fill_rate", fill_rate=0.98, bootstrap_draws=20_000
    ).iloc[0]
    assert loose["recommended_safety_stock"] == 0.0
    assert tight["recommended_reorder_point"] == 100.0


def test_bootstrap_sums_whole_months_and_a_fraction_of_one_more():
    rng = np.random.default_rng(0)
    history = np.array([[10.0, 10.0, 10.0]])
    samples = bootstrap_lead_time_demand(history, np.array([1.5]), draws=50, rng=rng)
    np.testing.assert_allclose(samples, 15.0)


def test_long_lead_times_are_simulated_and_agree_with_the_exact_distribution():
    demand = _demand([100.0, 0, 0, 0] * 3)
    plan = _plan(lead_time_days=[2 * DAYS_PER_MONTH])
    exact = recommended_safety_stock(plan, demand, end=END).iloc[0]
    simulated = recommended_safety_stock(
        plan, demand, end=END, exact_months=1, bootstrap_draws=20_000
    ).iloc[0]
    assert simulated["method"].startswith("bootstrap") and exact["method"].startswith("exact")
    assert simulated["recommended_safety_stock"] == exact["recommended_safety_stock"] == 150.0
    # two atoms (0 and 100) over two months: 4 outcomes, 200 with probability 1/16
    values, probs = lead_time_demand_distribution(np.array([[100.0, 0, 0, 0] * 3]), np.array([2.0]))
    assert values.shape == (1, 4) and probs[values == 200.0].sum() == pytest.approx(1 / 16)


def test_comparison_with_sap_names_money_tied_up_and_at_risk():
    demand = _demand([100.0, 120, 80, 110, 90, 100, 105, 95, 100, 130, 70, 100])
    position = pd.DataFrame(
        {"material_id": ["M1"], "plant": ["1000"], "unit_cost": [2.0], "currency": ["EUR"]}
    )
    high = recommended_safety_stock(
        _plan(safety_stock=[500.0]), demand, end=END, position=position
    ).iloc[0]
    rec = high["recommended_safety_stock"]
    assert high["change"] == rec - 500.0 and high["propose"]
    assert high["money_tied_up"] == (500.0 - rec) * 2.0 and high["money_at_risk"] == 0.0
    low = recommended_safety_stock(_plan(safety_stock=[np.nan]), demand, end=END, position=position)
    assert low.iloc[0]["money_at_risk"] == rec * 2.0 and low.iloc[0]["currency"] == "EUR"
    close = recommended_safety_stock(_plan(safety_stock=[rec + 1]), demand, end=END).iloc[0]
    assert not close["propose"]  # within the 25 % tolerance


def test_phase_out_and_no_demand_get_no_safety_stock():
    demand = pd.concat([_demand([100.0] * 12), _demand([0.0] * 12, material="M2")])
    plan = pd.DataFrame(
        {
            "material_id": ["M1", "M2"],
            "plant": ["1000", "1000"],
            "lead_time_days": [30, 30],
            "end_of_life": pd.to_datetime(["2026-06-30", None]),
        }
    )
    got = recommended_safety_stock(plan, demand, end=END)
    assert got["recommended_safety_stock"].tolist() == [0.0, 0.0]
    assert got["method"].tolist() == [
        "phase-out: run down, no safety stock",
        "no demand in the window",
    ]
    with pytest.raises(ValueError, match="service_measure must be"):
        recommended_safety_stock(plan, demand, end=END, service_measure="p3")


def test_forecast_error_sigma_is_the_rmse_of_the_lag_residuals_summed_over_customers():
    backtest = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C1", "C1", "C1"],
            "material_id": ["M1", "M1", "M1", "M1", "M1"],
            "period": pd.PeriodIndex(
                ["2025-10", "2025-10", "2025-11", "2025-12", "2026-01"], freq="M"
            ),
            "quantity": [60.0, 40.0, 90.0, 70.0, 999.0],
            "lag": [1, 1, 1, 2, 1],
        }
    )
    demand = _demand([110.0, 0.0, 55.0])  # Oct 110 vs 100, Nov 0 vs 90 (no order: zero)
    got = forecast_error_sigma(backtest, demand, end=END).iloc[0]
    assert got["error_points"] == 2  # December is lag 2, January after END
    assert got["error_sigma"] == pytest.approx(np.sqrt((10.0**2 + 90.0**2) / 2))
