"""The ledger's string factorisation gives the same partition as pandas' hashing one."""

import numpy as np
import pandas as pd
import pytest

from kamlab.receivables._ledger import factorize


def _same_partition(codes: np.ndarray, values: pd.Series) -> None:
    expected = pd.factorize(values.mask(values == ""))[0]
    assert ((codes == -1) == (expected == -1)).all()
    pairs = pd.DataFrame({"a": codes, "b": expected}).drop_duplicates()
    assert pairs["a"].is_unique and pairs["b"].is_unique


@pytest.mark.parametrize(
    "values",
    [
        ["D1", "D10", "D1", None, "", "D01", "ä", "a", "ä", "", None],
        ["0000611365", "0000611365", "611365", "0000000001"],
        ["x" * 70, "x" * 70 + "y", "x" * 70, ""],  # longer than 64 bytes: pandas fallback
        ["abcdefgh", "abcdefghi", "abcdefgh\x00", "abcdefgh"],
        [],
    ],
)
def test_factorize_puts_equal_strings_together_and_only_those(values):
    s = pd.Series(values, dtype="string")
    (codes,) = factorize(s)
    _same_partition(codes, s)


def test_factorize_shares_codes_across_columns_of_different_widths():
    rng = np.random.default_rng(0)
    a = pd.Series(np.char.add("C", rng.integers(0, 500, 3000).astype(str)), dtype="string")
    b = pd.Series(np.char.add("C", rng.integers(0, 5000, 2000).astype(str)), dtype="string")
    b = b.mask(rng.random(2000) < 0.1)
    long = pd.Series(["C1" + "0" * 20, "C1"], dtype="string")
    codes = factorize(a, b.iloc[100:], long)
    joined = pd.concat([a, b.iloc[100:], long], ignore_index=True)
    _same_partition(np.concatenate(codes), joined)
    assert [len(c) for c in codes] == [3000, 1900, 2]
