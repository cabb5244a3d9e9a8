"""What a function left out, and why: the ``attrs["excluded"]`` convention.

kamlab never drops rows silently. A function that leaves rows out returns its result with
``result.attrs["excluded"]``: an :class:`Exclusions` table with one row per source and reason
(columns ``table`` or ``source``, ``reason``, ``rows`` and, where it means something, the
quantity or amount left out). Read it with :func:`excluded`.

:class:`Exclusions` is a DataFrame that compares *as a whole* (``==`` gives one bool). pandas
compares ``attrs`` when it merges or concatenates frames that both carry them; a plain
DataFrame there raises "truth value of a DataFrame is ambiguous", so two kamlab results could
not be joined. With :class:`Exclusions` they can: equal tables are kept, different ones
dropped, as pandas does for any attribute.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["Exclusions", "excluded"]


class Exclusions(pd.DataFrame):
    """A table of excluded rows that compares as a whole, so ``attrs`` survive merge/concat."""

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return isinstance(other, pd.DataFrame) and self.equals(other)

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]


def excluded(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows `frame`'s producer left out, as a plain DataFrame (empty if none)."""
    table = frame.attrs.get("excluded")
    if table is None:
        return pd.DataFrame({"reason": pd.Series(dtype="str"), "rows": pd.Series(dtype="int64")})
    return pd.DataFrame(table)
