"""segments: recovers planted groups, is deterministic, describes segments in words."""

import numpy as np
import pandas as pd
import pytest

from kamlab.classify import segments


def _planted(seed: int = 0, per_group: int = 30) -> pd.DataFrame:
    """Three planted groups: big slow payers, small prompt payers, mid-size growing ones."""
    rng = np.random.default_rng(seed)
    centres = [(1000.0, 40.0, 0.0), (100.0, 2.0, 0.0), (500.0, 10.0, 0.5)]
    parts = [
        pd.DataFrame(
            {
                "revenue": rng.normal(r, r * 0.05, per_group),
                "payment_behaviour": rng.normal(p, 1.0, per_group),
                "growth": rng.normal(g, 0.02, per_group),
            }
        )
        for r, p, g in centres
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "customer_id", [f"c{i:03d}" for i in range(len(frame))])
    return frame


def test_planted_groups_are_recovered_with_k_chosen_by_silhouette():
    s = segments(_planted(), k_range=(2, 5))
    assert s["segment"].nunique() == 3
    truth = np.repeat([0, 1, 2], 30)
    # each planted group maps to exactly one segment
    assert pd.crosstab(truth, s["segment"].to_numpy()).gt(0).sum(axis=1).tolist() == [1, 1, 1]
    sil = s.attrs["silhouette"].set_index("k")["silhouette"]
    assert sil.idxmax() == 3 and list(sil.index) == [2, 3, 4, 5]


def test_segments_are_described_by_their_distinguishing_features():
    s = segments(_planted(), k_range=(3, 3))
    words = set(s["description"])
    assert "slow payers, high revenue, shrinking" in words  # strongest z first
    assert any("growing" in w for w in words)
    profiles = s.attrs["profiles"]
    assert profiles["customers"].sum() == 90 and {"revenue_z", "growth_z"} <= set(profiles)


def test_same_input_gives_the_same_segments():
    first = segments(_planted(), k_range=(2, 4))
    second = segments(_planted(), k_range=(2, 4))
    pd.testing.assert_frame_equal(first, second)


def test_segments_are_numbered_by_size_largest_first():
    f = _planted()
    f = pd.concat([f, _planted(seed=1, per_group=30).iloc[:20].assign(customer_id="x")])
    f["customer_id"] = [f"k{i}" for i in range(len(f))]
    s = segments(f, k_range=(3, 3))
    sizes = s["segment"].value_counts().sort_index()
    assert sizes.is_monotonic_decreasing


def test_missing_values_are_imputed_with_the_median_and_said_so():
    f = _planted()
    f.loc[5, "growth"] = np.nan
    s = segments(f, k_range=(3, 3))
    assert s.loc[5, "reason"] == "imputed median for: growth"
    assert (s.drop(index=5)["reason"] == "").all()


def test_a_constant_feature_does_not_break_scaling():
    f = _planted().assign(otif=0.9)
    s = segments(f, k_range=(3, 3))
    assert (s.attrs["profiles"]["otif_z"] == 0).all()
    assert not s["description"].str.contains("OTIF").any()


@pytest.mark.parametrize("rows", [0, 1, 2])
def test_tiny_portfolios_get_one_segment_with_a_reason_not_an_error(rows):
    s = segments(_planted().iloc[:rows])
    assert len(s) == rows
    assert (s["segment"] == 1).all()
    assert s["reason"].str.contains("one segment").all()


def test_identical_customers_are_one_segment():
    f = pd.DataFrame({"customer_id": list("abcd"), "revenue": [5.0] * 4})
    s = segments(f)
    assert s["segment"].tolist() == [1, 1, 1, 1]
    assert s["description"].iloc[0] == "close to the portfolio average"


def test_invalid_k_range_is_refused():
    with pytest.raises(ValueError, match="k_range"):
        segments(_planted(), k_range=(1, 3))


def test_revenue_is_logged_so_one_giant_customer_is_not_a_segment_of_its_own():
    f = _planted(per_group=20)
    f.loc[0, "revenue"] = 1e7  # a giant among big slow payers
    logged = segments(f, k_range=(3, 3))
    assert logged["segment"].value_counts().min() > 1
    raw = segments(f, k_range=(3, 3), log_features=())
    assert raw["segment"].value_counts().min() == 1
