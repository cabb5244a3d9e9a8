"""xyz and abc_xyz: CV boundaries by hand, zero-filled months, zero demand, the 3×3 matrix."""

import numpy as np
import pandas as pd
import pytest

from kamlab.classify import abc, abc_xyz, xyz


def _demand(rows: dict[str, list[float]], start="2024-01") -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {
                "customer_id": key,
                "material_id": "M",
                "period": pd.period_range(start, periods=len(v), freq="M"),
                "quantity": np.asarray(v, dtype="float64"),
            }
        )
        for key, v in rows.items()
    ]
    return pd.concat(parts, ignore_index=True)


def _cls(result):
    return dict(zip(result["customer_id"], result["xyz_class"], strict=True))


def test_cv_exactly_half_is_y_and_exactly_one_is_y():
    # [1, 3]: mean 2, sd 1 -> CV 0.5;  [0, 2]: mean 1, sd 1 -> CV 1.0
    r = xyz(_demand({"half": [1, 3], "one": [0, 2], "x": [2, 2]}), window=2)
    assert r["cv"].tolist() == [0.5, 1.0, 0.0]
    assert _cls(r) == {"half": "Y", "one": "Y", "x": "X"}


def test_cv_just_above_one_is_z_and_just_below_half_is_x():
    r = xyz(_demand({"z": [0, 0, 3], "x": [2, 3, 2, 3]}), window=4, end="2024-04")
    # z: [0,0,3,0] mean .75 sd 1.299 -> CV 1.73; x: [2,3,2,3] mean 2.5 sd .5 -> CV 0.2
    assert r["cv"].round(4).tolist() == [0.2, 1.7321]
    assert _cls(r) == {"z": "Z", "x": "X"}


def test_months_without_a_row_in_the_window_count_as_zero():
    d = _demand({"c": [4.0]})  # one row in 2024-01, window of 4 months to 2024-04
    r = xyz(d, window=4, end="2024-04").iloc[0]
    assert r["mean"] == 1.0
    assert r["std"] == pytest.approx(np.sqrt(3.0))  # [4,0,0,0]: sd sqrt(3)
    assert r["xyz_class"] == "Z"


def test_one_non_zero_month_in_twelve_is_z_with_cv_sqrt_eleven():
    r = xyz(_demand({"c": [12.0] + [0.0] * 11}), window=12).iloc[0]
    assert r["cv"] == pytest.approx(np.sqrt(11.0))
    assert r["xyz_class"] == "Z"


def test_zero_demand_in_the_window_is_z_with_a_reason_and_nan_cv():
    r = xyz(_demand({"c": [5.0, 0.0, 0.0]}), window=2).iloc[0]
    assert r["xyz_class"] == "Z" and np.isnan(r["cv"])
    assert "no demand" in r["reason"]


def test_rows_outside_the_window_are_ignored():
    r = xyz(_demand({"c": [100.0, 1.0, 3.0, 50.0]}), window=2, end="2024-03").iloc[0]
    assert r["cv"] == 0.5


def test_per_customer_xyz_sums_the_materials_of_each_month_first():
    d = pd.concat([_demand({"c": [1.0, 0.0]}), _demand({"c": [0.0, 3.0]}).assign(material_id="N")])
    r = xyz(d, keys=["customer_id"], window=2).iloc[0]
    assert (r["mean"], r["cv"], r["xyz_class"]) == (2.0, 0.5, "Y")


def test_empty_demand_gives_an_empty_result():
    r = xyz(_demand({"c": [1.0]}).iloc[:0])
    assert r.empty and "xyz_class" in r.columns


def test_reference_population_cv_over_a_random_filled_panel():
    rng = np.random.default_rng(3)
    data = {f"c{i}": rng.poisson(3, 12).astype(float).tolist() for i in range(20)}
    r = xyz(_demand(data), window=12).set_index("customer_id")
    for key, values in data.items():
        v = np.asarray(values)
        assert r.loc[key, "cv"] == pytest.approx(v.std() / v.mean())


def test_abc_xyz_counts_items_and_value_in_all_nine_cells():
    values = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d"], "net_value": [60.0, 25.0, 12.0, 3.0]}
    )
    classes = abc(values)
    variability = xyz(
        _demand({"a": [2, 2], "b": [1, 3], "c": [0, 2], "d": [0, 5], "e": [1, 1]}), window=2
    )
    m = abc_xyz(classes, variability)
    assert len(m) == 9
    cell = m.set_index(["abc_class", "xyz_class"])
    assert cell.loc[("A", "X"), "items"] == 1 and cell.loc[("A", "Y"), "items"] == 1
    assert cell.loc[("B", "Y"), "net_value"] == 12.0
    assert cell.loc[("C", "Y"), "value_share"] == pytest.approx(0.03)
    assert cell["items"].sum() == 4 and cell.loc[("C", "Z"), "items"] == 0
    excluded = m.attrs["excluded"].set_index("reason")["rows"]
    assert excluded["item has no ABC class"] == 1  # "e" has demand but no value


def test_abc_xyz_of_empty_inputs_is_nine_empty_cells():
    m = abc_xyz(
        abc(
            pd.DataFrame({"customer_id": [], "net_value": []}).astype(
                {"customer_id": "string", "net_value": float}
            )
        ),
        xyz(_demand({"c": [1.0]}).iloc[:0], keys=["customer_id"]),
    )
    assert len(m) == 9 and m["items"].sum() == 0 and m["value_share"].isna().all()
