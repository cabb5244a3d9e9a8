"""migration and transition_matrix: who moved, why, and the count matrix."""

import numpy as np
import pandas as pd
import pytest

from kamlab.classify import abc, key_account_matrix, migration, transition_matrix

WEIGHTS = {
    "attractiveness_weights": {"revenue": 1.0},
    "strength_weights": {"otif": 0.5, "complaints": 0.5},
}


def _criteria(otif_c: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "revenue": [300.0, 200.0, 100.0],
            "otif": [0.9, 0.85, otif_c],
            "complaints": [1.0, 2.0, 3.0],
        }
    )


def test_a_quadrant_move_is_explained_by_the_criterion_that_changed_most():
    before = key_account_matrix(_criteria(0.5), **WEIGHTS)  # c: strength 0
    after = key_account_matrix(_criteria(0.99), **WEIGHTS)  # c: best OTIF -> strength .5
    m = migration(before, after).set_index("customer_id")
    assert (m.loc["c", "before"], m.loc["c", "after"]) == ("streamline", "status")
    assert m.loc["c", "moved"]
    assert m.loc["c", "driver"] == "otif_contribution"
    assert m.loc["c", "driver_change"] == pytest.approx(0.5)
    assert m.loc["c", "reason"].startswith("streamline -> status; largest change otif")
    assert not m.loc["a", "moved"] and m.loc["a", "reason"].startswith("stayed strategic")


def test_new_and_gone_customers_are_listed_with_none_on_the_missing_side():
    b = abc(pd.DataFrame({"customer_id": ["a", "b"], "net_value": [80.0, 20.0]}))
    a = abc(pd.DataFrame({"customer_id": ["a", "n"], "net_value": [80.0, 20.0]}))
    m = migration(b, a, column="abc_class", drivers=["net_value"]).set_index("customer_id")
    assert m.loc["b", "after"] == "(none)" and m.loc["b", "reason"] == "gone: was B"
    assert m.loc["n", "before"] == "(none)" and m.loc["n", "reason"] == "new: B"
    assert m["moved"].tolist() == [False, True, True]


def test_abc_move_driven_by_value_when_drivers_are_plain_columns():
    b = abc(pd.DataFrame({"customer_id": ["a", "b", "c"], "net_value": [70.0, 20.0, 10.0]}))
    a = abc(pd.DataFrame({"customer_id": ["a", "b", "c"], "net_value": [20.0, 70.0, 10.0]}))
    m = migration(b, a, column="abc_class", drivers=["net_value", "share"])
    # net_value and share change alike once standardised; first listed wins a tie
    assert m.set_index("customer_id").loc["b", "driver"] in {"net_value", "share"}
    assert m.set_index("customer_id").loc["b", "after"] == "A"


def test_transition_matrix_counts_every_customer_once():
    b = pd.DataFrame({"customer_id": list("abcde"), "q": ["A", "A", "B", "C", "C"]})
    a = pd.DataFrame({"customer_id": list("abcdf"), "q": ["A", "B", "B", "A", "C"]})
    m = migration(b, a, column="q")
    t = m.attrs["transitions"]
    assert t.loc["A", "A"] == 1 and t.loc["A", "B"] == 1 and t.loc["C", "A"] == 1
    assert t.loc["C", "(none)"] == 1 and t.loc["(none)", "C"] == 1
    assert int(t.to_numpy().sum()) == 6
    assert list(t.columns)[-1] == "(none)"
    pd.testing.assert_frame_equal(t, transition_matrix(m))


def test_without_drivers_moves_are_still_reported():
    b = pd.DataFrame({"customer_id": ["a"], "q": ["X"]})
    a = pd.DataFrame({"customer_id": ["a"], "q": ["Y"]})
    m = migration(b, a, column="q")
    assert m["reason"].tolist() == ["X -> Y"] and np.isnan(m["driver_change"].iloc[0])


def test_empty_inputs_give_an_empty_migration():
    e = pd.DataFrame({"customer_id": pd.Series([], dtype="string"), "q": []})
    m = migration(e, e, column="q")
    assert m.empty and m.attrs["transitions"].empty


def test_duplicate_customers_are_refused():
    b = pd.DataFrame({"customer_id": ["a", "a"], "q": ["X", "Y"]})
    with pytest.raises(ValueError, match="more than one row"):
        migration(b, b, column="q")
