"""demand_pattern: Syntetos-Boylan ADI / CV² by hand, and at scale on the carparts data."""

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from kamlab.classify import abc, demand_pattern, xyz
from kamlab.classify.pattern import PATTERNS, pattern_matrix

CARPARTS = SHARED_DATA / "carparts.csv"


def _series(values, start="2024-01", key="M"):
    return pd.DataFrame(
        {
            "material_id": key,
            "period": pd.period_range(start, periods=len(values), freq="M"),
            "quantity": np.asarray(values, dtype="float64"),
        }
    )


def _one(values, **kw):
    return demand_pattern(_series(values), keys=["material_id"], **kw).iloc[0]


def test_smooth_series_has_demand_every_month_and_stable_sizes():
    r = _one([10, 12, 10, 12])  # ADI 1, sizes mean 11 sd 1 -> CV² = 1/121
    assert r.adi == 1.0
    assert r.cv2 == pytest.approx(1 / 121)
    assert r.pattern == "smooth"


def test_erratic_series_has_demand_every_month_but_varying_sizes():
    r = _one([1, 9, 1, 9])  # mean 5, sd 4 -> CV² = 0.64
    assert r.cv2 == pytest.approx(0.64)
    assert r.pattern == "erratic"


def test_intermittent_series_has_gaps_and_stable_sizes():
    r = _one([5, 0, 0, 5, 0, 0])  # 6 months / 2 demands = 3
    assert r.adi == 3.0 and r.cv2 == 0.0
    assert r.pattern == "intermittent"


def test_lumpy_series_has_gaps_and_varying_sizes():
    r = _one([1, 0, 9, 0])  # ADI 2, CV² 0.64
    assert (r.adi, r.pattern) == (2.0, "lumpy")


def test_adi_counts_months_from_the_first_demand_not_from_the_series_start():
    r = _one([0, 0, 0, 4, 4, 0, 4])  # from first demand: 4 months / 3 demands
    assert r.months == 4 and r.demand_months == 3
    assert r.adi == pytest.approx(4 / 3)
    assert _one([0, 0, 0, 4, 4, 0, 4], count_from="start").adi == pytest.approx(7 / 3)


def test_cut_off_values_themselves_belong_to_the_high_side():
    # ADI exactly 1.32 is "high": 33 months with 25 demands; sizes constant
    values = [5.0] * 25 + [0.0] * 8
    r = _one(values)
    assert r.adi == pytest.approx(1.32)
    assert r.pattern == "intermittent"
    r = demand_pattern(_series([1, 9, 1, 9]), keys=["material_id"], cv2_cutoff=0.64).iloc[
        0
    ]  # CV² exactly on the cut-off
    assert r.pattern == "erratic"


def test_a_cv2_of_049_on_paper_is_on_the_cut_off_although_it_computes_below_it():
    # sizes 3 and 17: mean 10, sd 7, CV² = 0.7² = 0.49 on paper, 0.48999… in floats
    r = _one([3, 17, 3, 17])
    assert r.cv2 < 0.49 and r.cv2 == pytest.approx(0.49)
    assert r.pattern == "erratic"
    adi, cv2, code = pattern_matrix(np.array([[3.0, 17, 3, 17], [np.nan, 3, 0, 17]]))
    assert [PATTERNS[c] for c in code] == ["erratic", "lumpy"]


def test_abc_xyz_and_the_pattern_round_cut_off_comparisons_the_same_way():
    from kamlab.classify.cutoff import as_on_paper

    # XYZ: CV 0.5 on paper (sd 0.5 of mean 1) is Y; ABC: a share of 0.8 closes class A
    months = pd.period_range("2024-01", periods=12, freq="M")
    d = pd.DataFrame({"material_id": "M", "period": months, "quantity": np.tile([0.5, 1.5], 6)})
    assert xyz(d, keys=["material_id"], end=months[-1])["xyz_class"].iloc[0] == "Y"
    # ten equal customers: the ninth starts at a cumulative share of 0.8 (in floats 0.7999…)
    v = pd.DataFrame({"customer_id": list("abcdefghij"), "net_value": [0.1] * 10})
    assert abc(v)["abc_class"].tolist() == ["A"] * 8 + ["B"] * 2
    assert as_on_paper(0.1 + 0.2) == 0.3


def test_a_single_non_zero_month_has_cv2_zero_and_adi_from_that_month_on():
    r = _one([0, 0, 7, 0, 0, 0])
    assert (r.months, r.demand_months, r.adi, r.cv2) == (4, 1, 4.0, 0.0)
    assert r.pattern == "intermittent"


def test_zero_demand_series_is_no_demand_with_nan_adi_and_cv2():
    r = _one([0, 0, 0])
    assert r.pattern == "no demand"
    assert np.isnan(r.adi) and np.isnan(r.cv2) and r.months == 0


def test_trailing_missing_values_are_not_counted_as_zero_demand():
    r = _one([4, 0, 4, np.nan, np.nan, np.nan])
    assert r.months == 3 and r.adi == 1.5
    d = demand_pattern(_series([4, 0, 4, np.nan]), keys=["material_id"])
    assert d.attrs["excluded"]["rows"].iloc[0] == 1


def test_a_month_without_a_row_counts_as_zero_demand():
    full = _series([4, 0, 0, 4])
    gappy = full[full["quantity"] > 0]
    assert demand_pattern(gappy, keys=["material_id"]).adi.iloc[0] == 2.0


def test_rows_of_one_month_are_summed_so_coarser_keys_work():
    d = pd.concat([_series([1, 0, 0, 0], key="M1"), _series([0, 0, 0, 3], key="M2")])
    d["customer_id"] = "C"
    r = demand_pattern(d, keys=["customer_id"]).iloc[0]
    assert (r.months, r.demand_months, r.adi, r.cv2) == (4, 2, 2.0, 0.25)


def test_empty_frame_gives_an_empty_result_with_the_columns():
    r = demand_pattern(_series([1]).iloc[:0], keys=["material_id"])
    assert r.empty
    assert list(r.columns) == ["material_id", "months", "demand_months", "adi", "cv2", "pattern"]


def test_series_are_classified_independently_and_row_order_does_not_matter():
    d = pd.concat([_series([5, 0, 0, 5], key="A"), _series([10, 12, 10, 12], key="B")])
    r = demand_pattern(d.sample(frac=1, random_state=1), keys=["material_id"])
    assert r.set_index("material_id")["pattern"].to_dict() == {
        "A": "intermittent",
        "B": "smooth",
    }


@pytest.fixture(scope="module")
def carparts() -> pd.DataFrame:
    wide = pd.read_csv(CARPARTS, dtype={"month": "string"})
    wide = wide.assign(month=pd.PeriodIndex(wide["month"], freq="M")).rename(
        columns={"month": "period"}
    )
    return wide.melt(id_vars="period", var_name="material_id", value_name="quantity")


@pytest.mark.usefixtures("shared_data")
def test_carparts_counts_reproduce_the_published_classification_over_observed_months(carparts):
    # data README: ADI = observed months / non-zero months -> 2,324 / 347 / 3 / 0
    r = demand_pattern(carparts, keys=["material_id"], count_from="start")
    assert r["pattern"].value_counts().to_dict() == {
        "intermittent": 2324,
        "lumpy": 347,
        "smooth": 3,
    }
    assert r.attrs["excluded"]["rows"].iloc[0] == 6122  # trailing missing cells


@pytest.mark.usefixtures("shared_data")
def test_carparts_counting_from_first_demand_makes_some_late_starters_smooth(carparts):
    r = demand_pattern(carparts, keys=["material_id"])
    assert r["pattern"].value_counts().to_dict() == {
        "intermittent": 2306,
        "lumpy": 343,
        "smooth": 21,
        "erratic": 4,
    }
