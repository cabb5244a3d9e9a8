"""The ledger's string factorisation gives the same partition as pandas' hashing one."""

import numpy as np
import pandas as pd
import pytest

from kamlab.receivables._ledger import factorize


def _same_partition(codes: np.ndarray, values: pd.Series) -> None:
    expected = pd.factorize(values)[0]
    assert ((codes == -1) == (expected == -1)).all()
    pairs = pd.DataFrame({"a": codes, "b": expected}).drop_duplicates()
    assert pairs["a"].is_unique and pairs["b"].is_unique


@pytest.mark.parametrize(
    "values",
    [
        ["D1", "D10", "D1", None, "", "D01", "ä", "a", "ä", "", None],
        ["0000611365", "0000611365", "611365", "0000000001"],
        ["x" * 70, "x" * 70 + "y", "x" * 70],  # longer than 64 bytes: pandas fallback
        ["abcdefgh", "abcdefghi", "abcdefgh\x00", "abcdefgh"],
        [],
    ],
)
def test_factorize_puts_equal_strings_together_and_only_those(values):
    s = pd.Series(values, dtype="string")
    _same_partition(factorize(s), s)


def test_factorize_agrees_with_pandas_on_random_ids():
    rng = np.random.default_rng(0)
    ids = np.char.add("C", rng.integers(0, 500, 5000).astype(str))
    s = pd.Series(ids, dtype="string").mask(rng.random(5000) < 0.1)
    _same_partition(factorize(s), s)
    _same_partition(factorize(s.iloc[100:]), s.iloc[100:])
