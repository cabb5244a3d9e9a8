"""key_account_matrix and account_criteria: hand-worked scores, contributions, missing data."""

import numpy as np
import pandas as pd
import pytest

from kamlab.classify import account_criteria, key_account_matrix

ATTRACTIVENESS = {"revenue": 0.5, "growth": 0.25, "payment_behaviour": 0.25}
STRENGTH = {"otif": 0.6, "complaints": 0.4}


def _criteria() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "revenue": [300.0, 200.0, 100.0],
            "growth": [0.1, 0.3, 0.2],
            "payment_behaviour": [10.0, 0.0, 5.0],  # days beyond terms: lower is better
            "otif": [0.9, 0.95, 0.8],
            "complaints": [0.0, 2.0, 1.0],  # lower is better
        }
    )


def _matrix(criteria, **kw):
    kw = {"attractiveness_weights": ATTRACTIVENESS, "strength_weights": STRENGTH, **kw}
    return key_account_matrix(criteria, **kw).set_index("customer_id")


def test_hand_worked_scores_and_quadrants():
    # scaled: revenue a1 b.5 c0; growth a0 b1 c.5; payment a0 b1 c.5
    #         otif a.5 b1 c0; complaints a1 b0 c.5
    m = _matrix(_criteria())
    assert m["attractiveness"].to_dict() == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.25})
    assert m["strength"].to_dict() == pytest.approx({"a": 0.7, "b": 0.6, "c": 0.2})
    # a sits exactly on the 0.5 threshold: high
    assert m["quadrant"].to_dict() == {"a": "strategic", "b": "strategic", "c": "streamline"}


def test_contributions_sum_to_each_score_and_equal_weight_times_scaled():
    m = _matrix(_criteria())
    for axis, weights in (("attractiveness", ATTRACTIVENESS), ("strength", STRENGTH)):
        total = sum(m[f"{c}_contribution"] for c in weights)
        assert np.allclose(total, m[axis])
        for c in weights:
            assert np.allclose(m[f"{c}_contribution"], m[f"{c}_weight"] * m[f"{c}_scaled"])
    assert m.loc["b", "payment_behaviour_contribution"] == pytest.approx(0.25)
    assert m.loc["a", "complaints_scaled"] == 1.0  # fewest complaints ranks best


def test_quadrants_cover_development_and_status():
    m = _matrix(_criteria(), threshold=0.55)
    assert m["quadrant"].to_dict() == {"a": "status", "b": "strategic", "c": "streamline"}
    m = _matrix(_criteria(), threshold=0.65)
    assert m.loc["b", "quadrant"] == "development"


def test_a_missing_criterion_renormalises_the_weights_and_says_so():
    c = _criteria().assign(growth=[0.1, np.nan, 0.2])
    m = _matrix(c)
    # b: revenue .5 scaled .5 and payment .25 scaled 1 over available weight .75
    assert m.loc["b", "revenue_weight"] == pytest.approx(2 / 3)
    assert m.loc["b", "attractiveness"] == pytest.approx(2 / 3 * 0.5 + 1 / 3 * 1.0)
    assert np.isnan(m.loc["b", "growth_contribution"])
    assert "missing: growth (weights re-normalised" in m.loc["b", "explanation"]
    assert "missing" not in m.loc["a", "explanation"]


def test_a_criterion_column_absent_for_everyone_is_missing_for_everyone():
    m = _matrix(_criteria().drop(columns="otif"))
    assert m["complaints_weight"].tolist() == [1.0, 1.0, 1.0]
    assert m["explanation"].str.contains("missing: otif").all()


def test_ties_share_their_average_rank():
    c = _criteria().assign(revenue=[100.0, 100.0, 50.0])
    assert _matrix(c)["revenue_scaled"].tolist() == [0.75, 0.75, 0.0]


def test_explanation_names_the_quadrant_and_the_leading_criterion():
    text = _matrix(_criteria()).loc["a", "explanation"]
    assert text.startswith("strategic; attractiveness 0.5 led by revenue; strength 0.7")


def test_a_customer_without_any_strength_criterion_is_unclassified():
    c = _criteria().assign(otif=[np.nan, 0.9, 0.8], complaints=[np.nan, 1.0, 2.0])
    m = _matrix(c)
    assert m.loc["a", "quadrant"] == "unclassified" and np.isnan(m.loc["a", "strength"])


def test_a_single_customer_is_scaled_to_mid_rank_with_a_note():
    m = _matrix(_criteria().iloc[:1])
    assert m["attractiveness"].iloc[0] == pytest.approx(0.5)
    assert m["quadrant"].iloc[0] == "strategic"
    assert "only one customer has" in m["explanation"].iloc[0]


def test_empty_criteria_give_an_empty_matrix_with_columns():
    m = key_account_matrix(_criteria().iloc[:0])
    assert m.empty and {"attractiveness", "strength", "quadrant", "explanation"} <= set(m)


def test_invalid_weights_and_shared_criteria_are_refused():
    with pytest.raises(ValueError, match="attractiveness_weights must be non-negative"):
        key_account_matrix(_criteria(), attractiveness_weights={"revenue": -1.0})
    with pytest.raises(ValueError, match="both axes"):
        key_account_matrix(
            _criteria(), attractiveness_weights={"otif": 1.0}, strength_weights={"otif": 1.0}
        )


def test_the_default_weights_come_from_the_config():
    m = key_account_matrix(_criteria())
    assert {"share_of_business_weight", "forecast_accuracy_weight", "margin_weight"} <= set(m)


def _demand() -> pd.DataFrame:
    periods = pd.period_range("2023-01", periods=24, freq="M")
    rows = []
    for cust, cur, before, now in (("a", "EUR", 10.0, 15.0), ("b", "EUR", 0.0, 5.0)):
        for i, p in enumerate(periods):
            value = before if i < 12 else now
            rows.append((cust, "m1", cur, p, 1.0, value))
            rows.append((cust, "m2", cur, p, 1.0, value))
    return pd.DataFrame(
        rows, columns=["customer_id", "material_id", "currency", "period", "quantity", "net_value"]
    )


def test_account_criteria_revenue_growth_and_margin_by_hand():
    materials = pd.DataFrame(
        {"material_id": ["m1", "m2"], "unit_cost": [6.0, 1.0], "cost_currency": ["EUR", "USD"]}
    )
    customers = pd.DataFrame({"customer_id": ["a", "b", "n"], "wallet_share": [0.4, 0.1, None]})
    r = account_criteria(
        _demand(),
        as_of="2024-12",
        materials=materials,
        customers=customers,
        otif=pd.Series({"a": 0.9, "b": 0.8, "zz": 1.0}),
        payment_behaviour=pd.DataFrame({"customer_id": ["a"], "days": [3.0]}),
    ).set_index("customer_id")
    assert r.loc["a", "revenue"] == 360.0 and r.loc["n", "revenue"] == 0.0
    assert r.loc["a", "growth"] == pytest.approx(0.5)
    assert np.isnan(r.loc["b", "growth"])  # nothing the year before
    # margin only on m1 (cost in EUR): (12·15 − 12·6) / (12·15) = 0.6
    assert r.loc["a", "margin"] == pytest.approx(0.6)
    assert r.loc["b", "margin"] == pytest.approx((60 - 72) / 60)
    assert r.loc["a", "share_of_business"] == 0.4 and r.loc["a", "payment_behaviour"] == 3.0
    assert np.isnan(r.loc["b", "payment_behaviour"]) and np.isnan(r.loc["a", "complaints"])
    excluded = r.attrs["excluded"].set_index("reason")["rows"]
    assert excluded["no unit_cost in the line's currency: left out of margin"] == 24
    assert excluded["customer not in the portfolio: left out of otif"] == 1


def test_account_criteria_refuses_mixed_currencies_unless_rates_are_given():
    d = _demand()
    d.loc[d["customer_id"] == "b", "currency"] = "USD"
    with pytest.raises(ValueError, match="never added or ranked across currencies"):
        account_criteria(d, as_of="2024-12")
    r = account_criteria(d, as_of="2024-12", rates={"EUR": 1.0, "USD": 0.5})
    assert r.set_index("customer_id").loc["b", "revenue"] == 60.0


def test_account_criteria_feeds_the_matrix_end_to_end():
    m = key_account_matrix(account_criteria(_demand(), as_of="2024-12"))
    assert m.set_index("customer_id").loc["a", "revenue_scaled"] == 1.0


def test_account_criteria_of_empty_demand_is_empty():
    r = account_criteria(_demand().iloc[:0], as_of="2024-12")
    assert r.empty and "revenue" in r.columns


def test_account_criteria_takes_unit_cost_in_the_line_currency_when_no_cost_currency_is_given():
    materials = pd.DataFrame({"material_id": ["m1", "m2"], "unit_cost": [6.0, 1.0]})
    r = account_criteria(_demand(), as_of="2024-12", materials=materials)
    # a: (360 − 12·6 − 12·1) / 360
    assert r.set_index("customer_id").loc["a", "margin"] == pytest.approx((360 - 84) / 360)


def test_account_criteria_with_rates_converts_unit_cost_from_its_own_currency():
    d = _demand()
    d.loc[d["customer_id"] == "b", "currency"] = "USD"
    materials = pd.DataFrame(
        {"material_id": ["m1", "m2"], "unit_cost": [6.0, 1.0], "cost_currency": ["EUR", "USD"]}
    )
    r = account_criteria(d, as_of="2024-12", materials=materials, rates={"EUR": 1.0, "USD": 0.5})
    r = r.set_index("customer_id")
    # a (EUR): sales 360; cost 12·6 + 12·1·0.5 = 78 → margin (360 − 78) / 360
    assert r.loc["a", "margin"] == pytest.approx((360 - 78) / 360)
    # b (USD, 5 per line → 2.5 EUR): sales 60; cost 12·6 + 12·0.5 = 78 → (60 − 78) / 60
    assert r.loc["b", "margin"] == pytest.approx((60 - 78) / 60)
    assert "margin" not in str(r.attrs["excluded"].query("rows > 0")["reason"].tolist())
