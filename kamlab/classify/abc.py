"""ABC classification: rank customers (or materials) by value and cut the cumulative share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.classify.cutoff import as_on_paper
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions

__all__ = ["abc"]

_C = DEFAULTS.classify


def _require(frame: pd.DataFrame, columns: Sequence[str], function: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{function}: missing column(s) {missing}; got {list(frame.columns)}")


def _bare(frame: pd.DataFrame) -> pd.DataFrame:
    """Shallow copy without ``attrs``: pandas compares attrs on merge, which fails on frames."""
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


def _single_currency(frame: pd.DataFrame, currency: str, value: str, function: str) -> str | None:
    """The one currency of `frame` (None if it has no currency column); raise if several."""
    if currency not in frame.columns:
        return None
    found = sorted(frame[currency].dropna().unique().tolist())
    if len(found) > 1:
        raise ValueError(
            f"{function}: {value!r} is in {len(found)} currencies {found}; amounts in different "
            "currencies are never added. Convert to one currency first (e.g. a 'value' column "
            "from an explicit rates table, without a currency column) or classify each "
            "currency separately."
        )
    return found[0] if found else None


def abc(
    frame: pd.DataFrame,
    *,
    value: str = "net_value",
    by: str | Sequence[str] = "customer_id",
    cutoffs: tuple[float, float] = _C.abc_cutoffs,
    currency: str = "currency",
) -> pd.DataFrame:
    """ABC class of each customer (or material) by its share of the total `value`.

    Items are ranked by their summed value, largest first; ties are ordered by the `by`
    key(s) ascending, so the result is deterministic. With *v₍ᵢ₎* the i-th largest value and
    *V* = Σ v over items with a positive value, the cumulative share *before* item i is

    .. math::

        S_{i-1} = \\sum_{j<i} v_{(j)} / V

    and the class is A if S₍ᵢ₋₁₎ < a, B if a ≤ S₍ᵢ₋₁₎ < b, else C (a, b = `cutoffs`,
    default 0.80 and 0.95). Boundary rule: the item that *crosses* a cut-off belongs to the
    higher class; an item whose cumulative share lands exactly *on* the cut-off closes that
    class, and the next item starts the lower one. Shares are compared after rounding to 12
    decimals so float error cannot move an item across a cut-off.

    Items with zero or negative value (e.g. net credits) are C with a reason and share 0;
    an item whose value is missing (all NaN) is C with reason ``"value missing"``. Amounts
    in different currencies are never added: if `frame` has a `currency` column it must hold
    one currency, otherwise ``ValueError``; pass a converted ``value`` column instead.
    Rows whose key is missing are left out and counted in ``result.attrs["excluded"]``
    (beware pandas reading the text ``NA``, e.g. North America, as missing).

    Source: Pareto / ABC analysis as in Silver, Pyke & Thomas (2017), *Inventory and
    Production Management in Supply Chains*, ch. 3; definition in ../shared/DOMAIN.md.

    Returns one row per item, ordered by rank: keys, `value` (sum), ``currency`` (when
    given), ``share`` and ``cumulative_share`` (fractions 0–1), ``rank`` (1 = largest),
    ``abc_class`` and ``reason``.

    >>> f = pd.DataFrame({"customer_id": ["c", "a", "b", "d"],
    ...                   "net_value": [15.0, 50.0, 30.0, 5.0]})
    >>> r = abc(f)
    >>> r[["customer_id", "cumulative_share", "abc_class"]].to_string(index=False)
    'customer_id  cumulative_share abc_class\\n          a              0.50         A\\n          b              0.80         A\\n          c              0.95         B\\n          d              1.00         C'
    """
    keys = [by] if isinstance(by, str) else list(by)
    _require(frame, [*keys, value], "abc")
    cut_a, cut_b = (float(c) for c in cutoffs)
    if not 0 < cut_a <= cut_b <= 1:
        raise ValueError(f"abc: cutoffs must satisfy 0 < a <= b <= 1, got {cutoffs!r}")
    unit = _single_currency(frame, currency, value, "abc")

    no_key = frame[keys].isna().any(axis=1)
    excluded = pd.DataFrame(
        {
            "table": ["frame"],
            "reason": [f"missing {'/'.join(keys)} (e.g. the text 'NA' read as missing)"],
            "rows": [int(no_key.sum())],
            value: [float(frame.loc[no_key, value].sum())],
        }
    )
    totals = frame[~no_key].groupby(keys, observed=True, sort=False)[value].sum(min_count=1)
    v = totals.to_numpy(dtype="float64", na_value=np.nan)
    positive = v > 0
    order = pd.DataFrame(
        {"_neg": ~positive, "_v": -np.where(positive, v, 0.0)}, index=totals.index
    ).reset_index()
    order = order.sort_values(["_neg", "_v", *keys], kind="mergesort")
    idx = order.index.to_numpy()
    out = order[keys].reset_index(drop=True)
    v = v[idx]
    positive = positive[idx]
    pos_v = np.where(positive, v, 0.0)
    total = pos_v.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(positive, pos_v / total, np.where(np.isnan(v), np.nan, 0.0))
        cumulative = np.cumsum(pos_v) / total
    before = as_on_paper(np.where(positive, cumulative - share, np.inf))
    cls = np.select([~positive, before < cut_a, before < cut_b], ["C", "A", "B"], default="C")
    reason = np.select(
        [np.isnan(v), v < 0, v == 0, cls == "A", cls == "B"],
        [
            "value missing",
            "negative value (net credit)",
            "zero value",
            f"within the first {cut_a:.0%} of cumulative {value}",
            f"within {cut_a:.0%}-{cut_b:.0%} of cumulative {value}",
        ],
        default=f"beyond {cut_b:.0%} of cumulative {value}",
    )
    out[value] = v
    if unit is not None:
        out[currency] = pd.array([unit] * len(out), dtype="string")
    out["share"] = share
    out["cumulative_share"] = np.where(positive, as_on_paper(cumulative), np.nan)
    out["rank"] = np.arange(1, len(out) + 1, dtype="int64")
    out["abc_class"] = pd.array(cls, dtype="string")
    out["reason"] = pd.array(reason, dtype="string")
    out.attrs["excluded"] = Exclusions(excluded)
    return out
