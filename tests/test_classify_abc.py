"""abc: hand-worked cut-off boundaries, ties, non-positive values, currencies, real sales data."""

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from kamlab.classify import abc

SALES = SHARED_DATA / "sales_data_sample.csv"


def _frame(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(values), "net_value": list(values.values())})


def _classes(result: pd.DataFrame) -> dict[str, str]:
    return dict(zip(result["customer_id"], result["abc_class"], strict=True))


def test_the_item_crossing_a_cut_off_belongs_to_the_higher_class():
    # cumulative 0.60, 0.85 (crosses 0.80), 0.97 (crosses 0.95), 1.00
    r = abc(_frame({"a": 60.0, "b": 25.0, "c": 12.0, "d": 3.0}))
    assert _classes(r) == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_an_item_landing_exactly_on_a_cut_off_closes_that_class():
    # cumulative 0.50, 0.80 exactly, 0.95 exactly, 1.00
    r = abc(_frame({"a": 50.0, "b": 30.0, "c": 15.0, "d": 5.0}))
    assert _classes(r) == {"a": "A", "b": "A", "c": "B", "d": "C"}
    assert r["cumulative_share"].tolist() == [0.5, 0.8, 0.95, 1.0]


def test_exact_cut_off_survives_float_error_in_the_cumulative_sum():
    # 0.1 + 0.7 is 0.7999999999999999 in floats; still exactly the 0.80 cut-off
    r = abc(_frame({"a": 0.7, "b": 0.1, "c": 0.1, "d": 0.1}), cutoffs=(0.8, 0.9))
    assert _classes(r) == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_ties_are_ordered_by_id_so_the_result_is_deterministic():
    r = abc(_frame({"z": 40.0, "y": 40.0, "x": 20.0}))
    assert r["customer_id"].tolist() == ["y", "z", "x"]
    assert r["rank"].tolist() == [1, 2, 3]
    assert _classes(r) == {"y": "A", "z": "A", "x": "B"}


def test_zero_and_negative_values_are_c_with_a_reason_and_do_not_count_in_the_total():
    r = abc(_frame({"a": 90.0, "b": 10.0, "zero": 0.0, "credit": -5.0}))
    assert _classes(r) == {"a": "A", "b": "B", "zero": "C", "credit": "C"}
    assert r.set_index("customer_id").loc["b", "share"] == pytest.approx(0.1)
    reasons = r.set_index("customer_id")["reason"]
    assert reasons["zero"] == "zero value"
    assert reasons["credit"] == "negative value (net credit)"


def test_rows_are_summed_per_customer_before_ranking():
    f = pd.DataFrame({"customer_id": ["a", "b", "a"], "net_value": [10.0, 15.0, 10.0]})
    r = abc(f)
    assert r["customer_id"].tolist() == ["a", "b"]
    assert r["net_value"].tolist() == [20.0, 15.0]


def test_abc_by_material_works_the_same_way():
    f = pd.DataFrame({"material_id": ["m1", "m2"], "net_value": [1.0, 9.0]})
    assert abc(f, by="material_id")["material_id"].tolist() == ["m2", "m1"]


def test_two_currencies_are_refused_with_a_clear_error():
    f = _frame({"a": 1.0, "b": 2.0}).assign(currency=["EUR", "USD"])
    with pytest.raises(ValueError, match=r"2 currencies \['EUR', 'USD'\].*never added"):
        abc(f)


def test_a_single_currency_is_carried_into_the_result():
    r = abc(_frame({"a": 1.0}).assign(currency="EUR"))
    assert r["currency"].tolist() == ["EUR"]


def test_a_single_customer_is_a():
    r = abc(_frame({"a": 5.0}))
    assert (r["abc_class"].iloc[0], r["share"].iloc[0]) == ("A", 1.0)


def test_empty_frame_gives_empty_result_with_columns():
    r = abc(_frame({}).astype({"net_value": "float64"}))
    assert r.empty and {"abc_class", "reason", "share"} <= set(r.columns)


def test_all_zero_values_are_all_c_without_inf():
    r = abc(_frame({"a": 0.0, "b": 0.0}))
    assert r["abc_class"].tolist() == ["C", "C"]
    assert np.isfinite(r["share"]).all()


def test_missing_column_names_the_function_and_the_column():
    with pytest.raises(KeyError, match="abc: missing column"):
        abc(_frame({"a": 1.0}), value="SALES")


def test_invalid_cutoffs_are_refused():
    with pytest.raises(ValueError, match="cutoffs"):
        abc(_frame({"a": 1.0}), cutoffs=(0.95, 0.8))


def _reference_abc(values: pd.Series, a=0.8, b=0.95) -> dict[str, str]:
    """A few-line loop: walk the sorted items, class by cumulative share before each."""
    items = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    total, running, out = sum(v for _, v in items), 0.0, {}
    for name, v in items:
        share_before = running / total
        out[name] = "A" if share_before < a else "B" if share_before < b else "C"
        running += v
    return out


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    # keep_default_na=False: TERRITORY "NA" (North America) is a value, not a missing one
    return pd.read_csv(SALES, keep_default_na=False)


@pytest.mark.usefixtures("shared_data")
def test_sales_sample_customers_by_sales_excluding_cancelled_match_a_reference_loop(sales):
    live = sales[sales["STATUS"] != "Cancelled"]
    assert len(sales) - len(live) == 60
    r = abc(live, value="SALES", by="CUSTOMERNAME")
    expected = _reference_abc(live.groupby("CUSTOMERNAME")["SALES"].sum())
    assert _classes(r.rename(columns={"CUSTOMERNAME": "customer_id"})) == expected
    assert r["abc_class"].value_counts().to_dict() == {"A": 58, "B": 21, "C": 13}
    assert r["CUSTOMERNAME"].iloc[0] == "Euro Shopping Channel"


@pytest.mark.usefixtures("shared_data")
def test_territory_na_read_as_missing_is_reported_not_silently_dropped(sales):
    naive = pd.read_csv(SALES)  # pandas' default turns "NA" into a missing value
    r = abc(naive, value="SALES", by="TERRITORY")
    assert "NA" not in set(r["TERRITORY"])
    assert r.attrs["excluded"]["rows"].iloc[0] == 1074
    right = abc(sales, value="SALES", by="TERRITORY")
    assert right["TERRITORY"].iloc[0] == "EMEA" and "NA" in set(right["TERRITORY"])
    assert right.attrs["excluded"]["rows"].iloc[0] == 0
