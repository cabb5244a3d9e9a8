"""Two kamlab results, each carrying what it excluded, can still be merged and concatenated."""

import pandas as pd

from kamlab.demand import monthly_demand
from kamlab.exclusions import Exclusions, excluded


def _orders(status: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C1"],
            "material_id": ["M1", "M1"],
            "requested_date": pd.to_datetime(["2024-01-10", "2024-02-10"]),
            "quantity": [5.0, 7.0],
            "net_value": [50.0, 70.0],
            "currency": ["EUR", "EUR"],
            "status": ["delivered", status],
        }
    )


def test_results_with_different_exclusions_merge_and_drop_the_conflicting_attrs():
    a = monthly_demand(_orders("cancelled"))
    b = monthly_demand(_orders("open"), by=["customer_id"])
    merged = a.merge(b, on=["customer_id", "currency", "period"], suffixes=("", "_customer"))
    assert len(merged) == 1  # a has January only: its February line was cancelled
    assert "excluded" not in merged.attrs
    assert len(pd.concat([a, b])) == 3


def test_results_with_equal_exclusions_keep_them_through_concat():
    a = monthly_demand(_orders("cancelled"))
    both = pd.concat([a, a.copy()])
    assert excluded(both)["rows"].tolist() == [1]


def test_exclusions_compare_as_a_whole_and_read_back_as_a_plain_frame():
    table = Exclusions({"reason": ["x"], "rows": [1]})
    assert (table == pd.DataFrame({"reason": ["x"], "rows": [1]})) is True
    assert (table == pd.DataFrame({"reason": ["x"], "rows": [2]})) is False
    assert type(excluded(pd.DataFrame().set_flags())) is pd.DataFrame
    assert excluded(pd.DataFrame()).empty
