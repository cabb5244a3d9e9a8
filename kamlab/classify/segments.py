"""Data-driven customer segments: KMeans on standardised features, described in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from kamlab.classify.abc import _require
from kamlab.config import DEFAULTS

__all__ = ["segments"]

_C = DEFAULTS.classify

# (word for a low centroid, word for a high one) for the criteria account_criteria builds
_WORDS: dict[str, tuple[str, str]] = {
    "revenue": ("low revenue", "high revenue"),
    "growth": ("shrinking", "growing"),
    "margin": ("low margin", "high margin"),
    "payment_behaviour": ("prompt payers", "slow payers"),
    "days_beyond_terms": ("prompt payers", "slow payers"),
    "share_of_business": ("low share of business", "high share of business"),
    "otif": ("poor OTIF", "high OTIF"),
    "forecast_accuracy": ("inaccurate forecasts", "accurate forecasts"),
    "complaints": ("few complaints", "many complaints"),
}
_MAX_WORDS = 3


def _describe(
    centroids: pd.DataFrame, describe_z: float, words: Mapping[str, tuple[str, str]]
) -> list[str]:
    """Words for each centroid row: up to three features with |z| ≥ describe_z, largest first."""
    out = []
    for _, z in centroids.iterrows():  # one row per segment: at most a handful
        strong = z[z.abs() >= describe_z]
        strong = strong.reindex(strong.abs().sort_values(ascending=False, kind="stable").index)
        phrases = []
        for name, value in strong.head(_MAX_WORDS).items():
            label = name.replace("_", " ")
            low, high = words.get(name, (f"low {label}", f"high {label}"))
            phrases.append(high if value > 0 else low)
        out.append(", ".join(phrases) if phrases else "close to the portfolio average")
    return out


def segments(
    features: pd.DataFrame,
    *,
    key: str = "customer_id",
    columns: Sequence[str] | None = None,
    k_range: tuple[int, int] = _C.segments_k_range,
    random_state: int = _C.random_state,
    n_init: int = _C.segments_n_init,
    describe_z: float = _C.segments_describe_z,
    words: Mapping[str, tuple[str, str]] | None = None,
    log_features: Sequence[str] = _C.segments_log_features,
) -> pd.DataFrame:
    """Cluster customers into segments and describe each one by what sets it apart.

    Each feature column (default: every numeric column but `key`) is standardised,
    *z = (x − mean) / sd* (population sd; a constant feature gives z = 0); features in
    `log_features` (default revenue, which is Pareto-skewed: one giant customer would
    otherwise be a segment of its own) are first replaced by sign(x)·ln(1 + |x|). A missing value is
    replaced by the feature's median (z near 0) and the row's ``reason`` says which; a feature
    missing for everyone is left out. KMeans (k-means++, `n_init` restarts, `random_state`)
    runs for each *k* in `k_range` (inclusive, capped at n − 1 customers and the number of
    distinct rows) and the *k* with the highest mean silhouette coefficient wins (ties: the
    smaller *k*). Segments are numbered 1.. by size, largest first (ties by first customer).
    A segment is described by up to three features whose centroid z-score is at least
    `describe_z` in absolute value, strongest first, e.g. "high revenue, slow payers"
    (`words` maps a feature to its (low, high) words; defaults cover the matrix criteria).

    With fewer than three customers (or fewer than two distinct rows) there is nothing to
    cluster: all are segment 1 with a reason. Same input, same output.

    Source: MacQueen (1967) k-means; Rousseeuw (1987), "Silhouettes", J. Comput. Appl. Math.
    20; scikit-learn ``KMeans`` and ``silhouette_score``.

    Returns one row per customer: `key`, ``segment`` (Int64), ``description``, ``reason``.
    ``attrs["profiles"]``: one row per segment (segment, customers, description, z-score
    of each feature's centroid, after any log); ``attrs["silhouette"]``: the score per *k*.

    >>> f = pd.DataFrame({"customer_id": list("abcdef"),
    ...                   "revenue": [1.0, 1.1, 0.9, 9.0, 9.2, 8.8],
    ...                   "payment_behaviour": [2.0, 1.0, 3.0, 30.0, 31.0, 29.0]})
    >>> s = segments(f, k_range=(2, 3))
    >>> s.groupby("segment")["description"].first().tolist()
    ['low revenue, prompt payers', 'high revenue, slow payers']
    """
    _require(features, [key], "segments")
    if columns is None:
        columns = [
            c for c in features.columns if c != key and pd.api.types.is_numeric_dtype(features[c])
        ]
    columns = list(columns)
    _require(features, columns, "segments")
    lo, hi = k_range
    if not 2 <= lo <= hi:
        raise ValueError(f"segments: k_range must satisfy 2 <= low <= high, got {k_range!r}")
    words = {**_WORDS, **(words or {})}

    x = features[columns].astype("float64").replace([np.inf, -np.inf], np.nan)
    for c in set(log_features) & set(x.columns):
        x[c] = np.sign(x[c]) * np.log1p(x[c].abs())
    dropped = [c for c in columns if x[c].isna().all()]
    x = x.drop(columns=dropped)
    missing = x.isna()
    reason = pd.Series("", index=features.index, dtype="string")
    for c in x.columns:
        reason = reason + missing[c].map({True: f"{c}, ", False: ""}).astype("string")
    reason = ("imputed median for: " + reason.str.removesuffix(", ")).where(reason != "", "")
    x = x.fillna(x.median())
    constant = x.max() == x.min()  # std of equal floats may be 1e-17, not 0
    sd = x.std(ddof=0).where(~constant, 1.0)
    z = (x - x.mean()) / sd
    z[constant.index[constant]] = 0.0

    n = len(z)
    distinct = len(z.drop_duplicates()) if n else 0
    ks = list(range(lo, min(hi, n - 1, distinct) + 1)) if x.shape[1] else []
    silhouette = {}
    labels = np.zeros(n, dtype="int64")
    if ks:
        best = None
        # one thread: OpenMP spinning on a busy machine made KMeans 50x slower, same labels
        with threadpool_limits(limits=1):
            for k in ks:
                fitted = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(z)
                silhouette[k] = float(silhouette_score(z, fitted.labels_))
                if best is None or silhouette[k] > silhouette[best[0]]:
                    best = (k, fitted.labels_)
        labels = best[1]
    elif n:
        note = "fewer than 3 customers or 2 distinct rows: one segment"
        reason = (reason + "; " + note).where(reason != "", note)
    # renumber: largest segment first, ties by the first row that belongs to it
    found = pd.DataFrame({"label": labels, "row": np.arange(n)})
    order = found.groupby("label").agg(size=("row", "size"), first=("row", "min"))
    order = order.sort_values(["size", "first"], ascending=[False, True], kind="stable")
    number = pd.Series(np.arange(1, len(order) + 1), index=order.index)
    segment = number.reindex(labels).to_numpy() if n else np.array([], dtype="int64")

    centroids = z.groupby(segment).mean() if n else z.iloc[:0]
    described = _describe(centroids, describe_z, words)
    profiles = centroids.add_suffix("_z").reset_index(names="segment")
    profiles.insert(1, "customers", pd.Series(segment).value_counts().sort_index().to_numpy())
    profiles.insert(2, "description", pd.array(described, dtype="string"))
    text = dict(zip(centroids.index, described, strict=True))

    out = pd.DataFrame(
        {
            key: features[key].reset_index(drop=True),
            "segment": pd.array(segment, dtype="Int64"),
            "description": pd.array([text[s] for s in segment], dtype="string"),
            "reason": reason.to_numpy(),
        }
    )
    if dropped:
        out["reason"] = out["reason"] + f" (left out, missing for all: {', '.join(dropped)})"
    out.attrs["profiles"] = profiles
    out.attrs["silhouette"] = pd.DataFrame(
        {"k": list(silhouette), "silhouette": list(silhouette.values())}
    )
    return out
