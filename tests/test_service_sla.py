"""SLA adherence: status at, above and below the target, missing targets and customers."""

import numpy as np
import pandas as pd
import pytest

from kamlab.service import sla_adherence

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C4", "C5"],
        "otif_target": [0.95, 0.95, 0.90, np.nan, 0.90],
    }
)


def test_status_is_met_at_or_above_target_and_missed_below_with_the_gap_in_points():
    kpi = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "otif": [0.95, 0.94, 1.0, 0.5],
            "lines_due": [20, 50, 3, 4],
        }
    )
    out = sla_adherence(kpi, CUSTOMERS).set_index("customer_id")
    assert out["status"].to_dict() == {
        "C1": "met",
        "C2": "missed",
        "C3": "met",
        "C4": "no target",
        "C5": "no lines due",
    }
    assert out.loc["C2", "gap"] == pytest.approx(-0.01)
    assert out.loc["C3", "gap"] == pytest.approx(0.10)
    assert np.isnan(out.loc["C4", "gap"])
    assert out.loc["C5", "lines_due"] == 0


def test_a_kpi_equal_to_the_target_after_float_arithmetic_still_meets_it():
    kpi = pd.DataFrame({"customer_id": ["C1"], "otif": [19 / 20]})  # 0.95 computed
    assert sla_adherence(kpi, CUSTOMERS.iloc[:1])["status"].tolist() == ["met"]


def test_duplicate_customers_in_the_kpi_table_are_refused():
    kpi = pd.DataFrame({"customer_id": ["C1", "C1"], "otif": [0.9, 0.8]})
    with pytest.raises(ValueError, match="one row per customer_id"):
        sla_adherence(kpi, CUSTOMERS)
