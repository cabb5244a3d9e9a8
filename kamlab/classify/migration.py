"""Migration between two classifications: who moved class or quadrant, and why."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.classify.abc import _bare, _require

__all__ = ["migration", "transition_matrix"]

_NONE = "(none)"


def _drivers(before: pd.DataFrame, after: pd.DataFrame, key: str, column: str) -> list[str]:
    shared = [c for c in before.columns if c in after.columns and c not in (key, column)]
    contributions = [c for c in shared if c.endswith("_contribution")]
    if contributions:
        return contributions
    return [
        c
        for c in shared
        if pd.api.types.is_numeric_dtype(before[c]) and pd.api.types.is_numeric_dtype(after[c])
    ]


def migration(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    key: str = "customer_id",
    column: str = "quadrant",
    drivers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compare two classifications of the same portfolio (e.g. last year's and this month's).

    `before` and `after` are results of one classifier at two dates (``key_account_matrix``
    with ``column="quadrant"``, ``abc`` with ``"abc_class"``, ``xyz``, ``segments``...).
    For each customer in either, the class before and after (``"(none)"`` where absent) and
    whether it ``moved``. *Why*: among the `drivers` (default: the ``*_contribution``
    columns both share, i.e. the key-account criteria; otherwise every numeric column both
    share) the one that changed most. Contributions are on one scale (score points), so the
    largest |after − before| wins; other columns are first divided by their standard
    deviation over both dates (so revenue in euros and a share can be compared).

    Returns one row per customer, sorted by `key`: `key`, ``before``, ``after``, ``moved``,
    ``driver``, ``driver_before``, ``driver_after``, ``driver_change``, ``reason``.
    ``attrs["transitions"]`` holds :func:`transition_matrix` of the result.

    >>> b = pd.DataFrame({"customer_id": ["a", "b"], "quadrant": ["status", "strategic"],
    ...                   "otif_contribution": [0.1, 0.3], "revenue_contribution": [0.2, 0.4]})
    >>> a = b.assign(quadrant=["strategic", "strategic"], otif_contribution=[0.3, 0.3])
    >>> m = migration(b, a)
    >>> print(m.loc[0, "reason"])
    status -> strategic; largest change otif_contribution +0.2 (0.1 -> 0.3)
    """
    _require(before, [key, column], "migration")
    _require(after, [key, column], "migration")
    for name, frame in (("before", before), ("after", after)):
        if frame[key].duplicated().any():
            raise ValueError(f"migration: {name} has more than one row per {key}")
    drivers = list(drivers) if drivers is not None else _drivers(before, after, key, column)
    merged = _bare(before)[[key, column, *drivers]].merge(
        _bare(after)[[key, column, *drivers]], on=key, how="outer", suffixes=("_before", "_after")
    )
    merged = merged.sort_values(key, kind="stable", ignore_index=True)
    was = merged[f"{column}_before"].astype("string").fillna(_NONE)
    now = merged[f"{column}_after"].astype("string").fillna(_NONE)
    out = pd.DataFrame({key: merged[key], "before": was, "after": now, "moved": was != now})

    n = len(merged)
    if drivers and n:
        old = merged[[f"{d}_before" for d in drivers]].to_numpy(dtype="float64")
        new = merged[[f"{d}_after" for d in drivers]].to_numpy(dtype="float64")
        change = new - old
        size = np.abs(change)
        if not all(d.endswith("_contribution") for d in drivers):
            sd = np.nanstd(np.vstack([old, new]), axis=0)
            size = size / np.where(sd > 0, sd, 1.0)
        size = np.where(np.isnan(size), -np.inf, size)
        pick = size.argmax(axis=1)
        rows = np.arange(n)
        known = np.isfinite(size[rows, pick])
        out["driver"] = pd.array(np.where(known, np.asarray(drivers)[pick], None), dtype="string")
        out["driver_before"] = np.where(known, old[rows, pick], np.nan)
        out["driver_after"] = np.where(known, new[rows, pick], np.nan)
        out["driver_change"] = np.where(known, change[rows, pick], np.nan)
    else:
        out["driver"] = pd.array([None] * n, dtype="string")
        out["driver_before"] = out["driver_after"] = out["driver_change"] = np.nan

    def fmt(values: pd.Series, sign: bool = False) -> pd.Series:
        return values.map(lambda v: f"{v:+.3g}" if sign else f"{v:.3g}").astype("string")

    why = (
        "; largest change "
        + out["driver"]
        + " "
        + fmt(out["driver_change"], sign=True)
        + " ("
        + fmt(out["driver_before"])
        + " -> "
        + fmt(out["driver_after"])
        + ")"
    ).fillna("")
    head = (out["before"] + " -> " + out["after"]).where(out["moved"], "stayed " + out["after"])
    head = head.where(out["before"] != _NONE, "new: " + out["after"])
    head = head.where(out["after"] != _NONE, "gone: was " + out["before"])
    out["reason"] = (head + why).astype("string")
    out.attrs["transitions"] = transition_matrix(out)
    return out


def transition_matrix(moves: pd.DataFrame) -> pd.DataFrame:
    """Count of customers per (before, after) class: rows = before, columns = after.

    Classes are sorted, with ``"(none)"`` (customer absent at that date) last; the diagonal
    holds those who stayed.

    >>> moves = pd.DataFrame({"before": ["A", "A", "B"], "after": ["A", "B", "B"]})
    >>> transition_matrix(moves).to_dict()
    {'A': {'A': 1, 'B': 0}, 'B': {'A': 1, 'B': 1}}
    """
    classes = sorted(set(moves["before"]) | set(moves["after"]), key=lambda c: (c == _NONE, c))
    counts = pd.crosstab(moves["before"], moves["after"])
    counts = counts.reindex(index=classes, columns=classes, fill_value=0).astype("int64")
    counts.index.name, counts.columns.name = "before", "after"
    return counts
