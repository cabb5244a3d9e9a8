"""Score forecast snapshots against actual demand, per lag, at any grouping, with two poolings.

Every figure comes from one vectorised pass: forecasts are paired with actuals once
(:func:`pair_forecasts`), per-point error terms are summed by group, and each metric is
formed from those sums, so the same definitions as the array kernels in
:mod:`kamlab.accuracy.metrics` hold (the tests check the two agree).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from kamlab.accuracy.lag import forecast_lag
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions

__all__ = ["naive_scales", "pair_forecasts", "score", "score_pairs"]

_A = DEFAULTS.accuracy
_SERIES = ["customer_id", "material_id"]
_POOLINGS = ("volume", "series_mean")
_METRICS = (
    "mae",
    "rmse",
    "mape",
    "smape",
    "wape",
    "accuracy",
    "bias",
    "mase",
    "rmsse",
    "tracking_signal",
    "coverage",
    "winkler_score",
)


def _plain(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """A view of `frame` without attrs: pandas' merge/concat fail comparing two attrs that
    hold DataFrames (e.g. ``attrs["excluded"]`` of :func:`kamlab.demand.monthly_demand`)."""
    if frame is None or not frame.attrs:
        return frame
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str, func: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{func}: {name} lacks column(s) {missing}; has {list(frame.columns)}")


def _at_keys(actuals: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Actuals summed to one row per series (`keys`) and month when they are finer (demand
    per customer × material scored per material); unchanged otherwise."""
    if not [c for c in _SERIES if c in actuals.columns and c not in keys]:
        return actuals
    return actuals.groupby([*keys, "period"], observed=True, as_index=False, dropna=False)[
        "quantity"
    ].sum(min_count=1)


def _excluded(rows: pd.DataFrame, reason: str, table: str = "forecasts") -> pd.DataFrame:
    """One row per source: how many rows (and how much quantity) left out for `reason`."""
    if rows.empty:
        return pd.DataFrame(columns=["table", "source", "reason", "rows", "quantity"])
    out = rows.groupby("source", observed=True, sort=True).agg(
        rows=("quantity", "size"), quantity=("quantity", "sum")
    )
    return out.reset_index().assign(table=table, reason=reason)[
        ["table", "source", "reason", "rows", "quantity"]
    ]


def naive_scales(
    actuals: pd.DataFrame,
    *,
    keys: Sequence[str] = _SERIES,
    season_length: int = _A.season_length,
    as_of: pd.Period | str | None = None,
) -> pd.DataFrame:
    """Per series: the yardsticks of MASE and RMSSE over the actuals up to `as_of`.

    .. math:: scale = \\frac{1}{n-m} \\sum_t |y_t - y_{t-m}|, \\quad
              scale\\_sq = \\frac{1}{n-m} \\sum_t (y_t - y_{t-m})^2

    with m = `season_length` when the series has more than m months, else 1 (Hyndman &
    Koehler 2006; same unit as the demand). Returns *keys, scale, scale_sq; computed once
    and passed to :func:`score_pairs` by callers that score one pairing several ways.
    """
    keys = list(keys)
    actuals = _plain(actuals)
    if as_of is not None:
        actuals = actuals[actuals["period"] <= pd.Period(as_of, "M")]
    a = _at_keys(actuals, keys)[[*keys, "period", "quantity"]].dropna(subset=["quantity"])
    a = a.assign(_month=a["period"].array.asi8)
    n = a.groupby(keys, observed=True).size().rename("_n")
    parts = []
    for m in {season_length, 1}:
        prev = a[[*keys, "_month", "quantity"]].assign(_month=a["_month"] + m)
        d = a.merge(prev, on=[*keys, "_month"], suffixes=("", "_prev"))
        diff = d["quantity"] - d["quantity_prev"]
        parts.append(
            d.assign(_abs=diff.abs(), _sq=diff**2, _m=m)
            .groupby([*keys, "_m"], observed=True)[["_abs", "_sq"]]
            .mean()
            .reset_index()
        )
    diffs = pd.concat(parts, ignore_index=True)
    n = n.reset_index()
    n["_m"] = np.where(n["_n"] > season_length, season_length, 1)
    return n.merge(diffs, on=[*keys, "_m"], how="left")[[*keys, "_abs", "_sq"]].rename(
        columns={"_abs": "scale", "_sq": "scale_sq"}
    )


def _codes(*columns: pd.Series | np.ndarray, dense: bool = True) -> np.ndarray:
    """One int64 code per distinct combination of the aligned `columns` (NaN is a value),
    ordered as the combinations sort (as a sorted groupby).

    Integer columns of a modest range are combined by arithmetic (no hashing); others are
    factorized once. ``dense=True`` numbers the combinations 0..n-1 (one sort).
    """
    code = np.zeros(len(columns[0]), dtype="int64")
    radix = 1
    for col in columns:
        values = np.asarray(col) if isinstance(col, np.ndarray) else col
        if isinstance(values, np.ndarray) and values.dtype.kind in "iu" and len(values):
            lo, hi = int(values.min()), int(values.max())
            part, n = values.astype("int64") - lo, hi - lo + 1
        else:
            part, uniques = pd.factorize(values, sort=True, use_na_sentinel=False)
            n = max(len(uniques), 1)
        if radix * n >= 2**62:  # compress before the product overflows
            code = np.unique(code, return_inverse=True)[1].astype("int64")
            radix = int(code.max()) + 1 if len(code) else 1
        code = code * n + part
        radix *= n
    if dense:
        code = np.unique(code, return_inverse=True)[1].reshape(-1)
    return code.astype("int64", copy=False)


def _shared_codes(
    left: pd.DataFrame, right: pd.DataFrame, keys: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The `keys` combination of each row of two frames as int64 codes shared by both.

    Joining on one integer instead of several string columns is what keeps pairing tens of
    millions of forecast figures in seconds and within a few hundred MB of working memory;
    each string column is hashed once (factorize), everything after works on integers.
    """
    code_l = np.zeros(len(left), dtype="int64")
    code_r = np.zeros(len(right), dtype="int64")
    for k in keys:
        cl, ul = pd.factorize(left[k], use_na_sentinel=False)
        cr, ur = pd.factorize(right[k], use_na_sentinel=False)
        values = ul.append(ur).unique()
        n = len(values)
        ml = values.get_indexer(ul).astype("int64")[cl]
        mr = values.get_indexer(ur).astype("int64")[cr]
        both, _ = pd.factorize(np.concatenate([code_l * n + ml, code_r * n + mr]))
        code_l, code_r = both[: len(code_l)].astype("int64"), both[len(code_l) :].astype("int64")
    return code_l, code_r


def pair_forecasts(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    keys: Sequence[str] = _SERIES,
    lags: Sequence[int] = _A.lags,
    materials: pd.DataFrame | None = None,
    exclude_lifecycle: Sequence[str] = _A.exclude_lifecycle,
    as_of: pd.Period | str | None = None,
) -> pd.DataFrame:
    """Each scorable forecast figure beside its actual: the points every accuracy figure uses.

    `actuals` is monthly demand (:func:`kamlab.demand.monthly_demand`: *keys, period,
    quantity); `forecasts` is long: *keys, snapshot_date, period, quantity, source
    (customer / statistical / naive / ...), optionally lo_<level>/hi_<level> interval
    bounds. `keys` identify a series (default customer × material; e.g. ``["material_id"]``
    for forecasts made per material). Returns *keys, source, snapshot_date, period, lag
    (:func:`kamlab.accuracy.forecast_lag`), forecast, actual (and any interval columns).
    Pair once and score the pairs several ways (:func:`score_pairs`,
    :func:`kamlab.accuracy.value_added`, :func:`kamlab.accuracy.bias_alerts` take
    ``pairs=``).

    A target month in the actuals' range without an actual row is scored as actual 0 (no
    order = no demand; ``attrs["zero_filled"]`` counts such points per source). Left out and
    counted in ``attrs["excluded"]`` (table, source, reason, rows, quantity): snapshot date
    or target month missing; forecast quantity missing; target month before the snapshot month; lag not scored; an earlier
    snapshot of the same month superseded by a later one; a material whose lifecycle is in
    `exclude_lifecycle` (needs `materials` and material_id in `keys`) or that is missing
    from `materials`; target month after the last actual month (`as_of`, default the last
    month in `actuals`: no actual yet) or before the first; an actual row whose quantity is
    NaN (unknown, not zero); and, per source, actual demand (> 0) of an account (customer_id,
    else the first key) the source forecasts that no scored forecast of the source covers
    ("actual with no forecast").
    """
    func = "pair_forecasts"
    keys = list(keys)
    actuals, forecasts, materials = _plain(actuals), _plain(forecasts), _plain(materials)
    _require(actuals, [*keys, "period", "quantity"], "actuals", func)
    _require(forecasts, [*keys, "snapshot_date", "period", "quantity", "source"], "forecasts", func)
    actuals = _at_keys(actuals, keys)
    lags = [int(x) for x in lags]
    bounds = [c for c in forecasts.columns if c.startswith(("lo_", "hi_"))]
    # work on integer codes: strings are hashed once here and taken once at the end
    series_a, series_f = _shared_codes(actuals, forecasts, keys)
    account = "customer_id" if "customer_id" in keys else keys[0]
    account_a, account_f = _shared_codes(actuals, forecasts, [account])
    source_code, sources = pd.factorize(forecasts["source"], sort=True)
    f = pd.DataFrame(
        {
            "_row": np.arange(len(forecasts)),
            "_s": series_f,
            "_acc": account_f,
            "source": pd.Categorical.from_codes(source_code, categories=sources),
            "snapshot_date": forecasts["snapshot_date"].to_numpy(),
            "period": forecasts["period"].array,
            "quantity": forecasts["quantity"].to_numpy("float64"),
            **{b: forecasts[b].to_numpy() for b in bounds},
        }
    )
    f["lag"] = forecast_lag(f["snapshot_date"], f["period"])
    drops: list[pd.DataFrame] = []

    def drop(mask: pd.Series | np.ndarray, reason: str) -> None:
        nonlocal f
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            drops.append(_excluded(f.loc[mask], reason))
            f = f.loc[~mask]

    drop(f["lag"].isna(), "snapshot date or target month missing")
    f["lag"] = f["lag"].astype("int64")
    drop(f["quantity"].isna(), "forecast quantity missing")
    drop(f["lag"] < 0, "target month before snapshot month")
    drop(~f["lag"].isin(lags), "lag not scored")
    snap = f["snapshot_date"].to_numpy()
    snap_month = snap.astype("datetime64[M]").view("int64")
    group = _codes(
        f["_s"].to_numpy(),
        f["source"].cat.codes.to_numpy().astype("int64"),
        snap_month,
        f["period"].array.asi8,
    )
    stamp = snap.view("int64")
    latest = np.full(int(group.max()) + 1 if len(group) else 0, np.iinfo("int64").min)
    np.maximum.at(latest, group, stamp)
    drop(stamp < latest[group], "earlier snapshot of the same month superseded")
    if materials is not None and "material_id" in keys:
        code, names = pd.factorize(forecasts["material_id"].to_numpy()[f["_row"].to_numpy()])
        names = pd.Index(names)
        drop(
            (~names.isin(materials["material_id"]))[code] | (code < 0),
            "material not in materials table",
        )
        if "lifecycle" in materials and len(exclude_lifecycle):
            code, names = pd.factorize(forecasts["material_id"].to_numpy()[f["_row"].to_numpy()])
            life = materials.drop_duplicates("material_id").set_index("material_id")["lifecycle"]
            status_of = pd.Index(names).map(life).to_numpy()
            for status in exclude_lifecycle:
                drop((status_of == status)[code], f"{status} material")
                code = code[~(status_of == status)[code]]
    first = actuals["period"].min()
    last = pd.Period(as_of, "M") if as_of is not None else actuals["period"].max()
    if pd.isna(first):
        drop(np.ones(len(f), dtype=bool), "no actuals at all")
        first = last = pd.Period("2000-01", "M")  # nothing left to pair
    else:
        drop(f["period"] > last, "no actual yet (target month after last actual month)")
        drop(f["period"] < first, "target month before first actual month")

    # one int64 join key per series x month: series code * span + month offset
    in_window = (actuals["period"] <= last).to_numpy()
    period_a = actuals["period"].array.asi8[in_window]
    quantity_a = actuals["quantity"].to_numpy("float64")[in_window]
    account_a = account_a[in_window]
    span = last.ordinal - first.ordinal + 1
    key_a = pd.Index(series_a[in_window] * span + (period_a - first.ordinal))
    if not key_a.is_unique:
        raise ValueError(
            f"{func}: actuals hold more than one row per {' x '.join(keys)} and month; "
            "sum them to that level first"
        )
    key_f = f["_s"].to_numpy() * span + (f["period"].array.asi8 - first.ordinal)
    position = key_a.get_indexer(key_f)
    actual = np.where(position >= 0, quantity_a[np.maximum(position, 0)], np.nan)
    nan_actual = (position >= 0) & np.isnan(actual)
    drop(nan_actual, "actual quantity missing (NaN)")
    actual, key_f = actual[~nan_actual], key_f[~nan_actual]
    zero = np.isnan(actual)
    zero_filled = f.loc[zero].groupby("source", observed=True).size().rename("rows").reset_index()
    zero_filled["source"] = zero_filled["source"].astype("str")

    # actual demand that a source forecasts no figure for (accounts the source covers)
    if len(f):
        codes = f["source"].cat.codes.to_numpy().astype("int64")
        n_src = len(sources)
        covered = pd.unique(key_f * n_src + codes)
        served = pd.unique(f["_acc"].to_numpy() * n_src + codes)
        period_f = f["period"].array.asi8
        lo, hi = period_f.min(), period_f.max()
        live = (quantity_a > 0) & (period_a >= lo) & (period_a <= hi)
        rows, qty = [], []
        for c in np.unique(codes):
            span_lo, span_hi = period_f[codes == c].min(), period_f[codes == c].max()
            cand = live & (period_a >= span_lo) & (period_a <= span_hi)
            cand &= pd.Series(account_a * n_src + c).isin(served).to_numpy()
            cand &= ~pd.Series(key_a.to_numpy() * n_src + c).isin(covered).to_numpy()
            rows.append(int(cand.sum()))
            qty.append(float(quantity_a[cand].sum()))
        miss = pd.DataFrame({"source": sources[np.unique(codes)], "rows": rows, "quantity": qty})
        miss = miss[miss["rows"] > 0].assign(table="actuals", reason="actual with no forecast")
        drops.append(miss[["table", "source", "reason", "rows", "quantity"]])

    row = f["_row"].to_numpy()
    pairs = pd.DataFrame(
        {
            **{k: forecasts[k].take(row).reset_index(drop=True) for k in keys},
            "source": forecasts["source"].take(row).reset_index(drop=True),
            "snapshot_date": forecasts["snapshot_date"].take(row).reset_index(drop=True),
            "period": f["period"].array,
            "lag": f["lag"].to_numpy(),
            "forecast": f["quantity"].to_numpy(),
            "actual": np.where(zero, 0.0, actual),
            **{b: forecasts[b].take(row).reset_index(drop=True) for b in bounds},
        }
    )
    excluded = (
        pd.concat([d for d in drops if not d.empty], ignore_index=True)
        if any(not d.empty for d in drops)
        else pd.DataFrame(columns=["table", "source", "reason", "rows", "quantity"])
    )
    excluded = excluded.astype({"source": "str", "rows": "int64", "quantity": "float64"})
    pairs.attrs["excluded"] = Exclusions(excluded)
    pairs.attrs["zero_filled"] = zero_filled
    return pairs


def _attach(
    pairs: pd.DataFrame,
    by: Sequence[str],
    materials: pd.DataFrame | None,
    customers: pd.DataFrame | None,
) -> pd.DataFrame:
    """Add the `by` columns that live in the materials or customers tables."""
    out = pairs
    for col in by:
        if col in out.columns:
            continue
        if materials is not None and col in materials.columns:
            out = out.merge(materials[["material_id", col]], on="material_id", how="left")
        elif customers is not None and col in customers.columns:
            out = out.merge(customers[["customer_id", col]], on="customer_id", how="left")
        else:
            raise ValueError(
                f"score: by column {col!r} is neither in the forecasts nor in the "
                "materials/customers frames passed"
            )
    return out


def _terms(
    pairs: pd.DataFrame, keys: Sequence[str], scales: pd.DataFrame | None, level: int
) -> Iterator[tuple[str, np.ndarray]]:
    """Per-point additive error terms, one at a time (the caller sums each by group and drops
    it, so memory holds one column of points, not a dozen); every metric is a function of
    their group sums."""
    y = pairs["actual"].to_numpy("float64")
    f = pairs["forecast"].to_numpy("float64")
    e = f - y
    ae = np.abs(e)
    ay = np.abs(y)
    nz = y != 0
    yield "n", np.ones(len(y))
    yield "ae", ae
    yield "se", e**2
    yield "e", e
    yield "ay", ay
    yield "y", y
    yield "nz", nz.astype("float64")
    yield "ape", np.divide(ae, ay, out=np.zeros_like(ae), where=nz)
    den = ay + np.abs(f)
    yield "sape", np.divide(ae, den, out=np.zeros_like(ae), where=den != 0)
    del den
    if scales is not None:
        code_s, code_p = _shared_codes(scales, pairs, keys)
        at = pd.Index(code_s).get_indexer(code_p)
        for name, col, power in (("ase", "scale", 1), ("sse", "scale_sq", 2)):
            err = ae if power == 1 else e**2
            sc = np.where(at >= 0, scales[col].to_numpy("float64")[np.maximum(at, 0)], np.nan)
            ok = (sc > 0) | ((sc == 0) & (err == 0))
            yield name, np.divide(err, sc, out=np.zeros_like(err), where=sc > 0) * ok
            yield f"n_{name}", ok.astype("float64")
    lo, hi = f"lo_{level}", f"hi_{level}"
    if lo in pairs and hi in pairs:
        lo_v, hi_v = pairs[lo].to_numpy("float64"), pairs[hi].to_numpy("float64")
        has = ~(np.isnan(lo_v) | np.isnan(hi_v))
        alpha = 1 - level / 100
        wink = hi_v - lo_v + (2 / alpha) * (np.clip(lo_v - y, 0, None) + np.clip(y - hi_v, 0, None))
        yield "n_int", has.astype("float64")
        yield "cov", np.where(has, (y >= lo_v) & (y <= hi_v), 0.0)
        yield "wink", np.where(has, wink, 0.0)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den elementwise with 0/0 = 0 and x/0 = nan."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(den == 0, np.where(num == 0, 0.0, np.nan), out)


def _from_sums(s: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value, points excluded from the metric, reason when the value is undefined)."""
    n = s["n"].to_numpy()
    none = np.zeros(len(s))
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "mae":
            v, x, why = s["ae"] / n, none, ""
        elif metric == "rmse":
            v, x, why = np.sqrt(s["se"] / n), none, ""
        elif metric == "mape":
            nnz = s["nz"].to_numpy()
            v = np.where(nnz > 0, 100 * s["ape"] / np.where(nnz > 0, nnz, 1), np.nan)
            x, why = n - nnz, "every actual is 0 (MAPE undefined)"
        elif metric == "smape":
            v, x, why = 200 * s["sape"] / n, none, ""
        elif metric == "wape":
            v, x, why = (
                _ratio(s["ae"].to_numpy(), s["ay"].to_numpy()),
                none,
                "actuals all 0, forecast not",
            )
        elif metric == "accuracy":
            ae, ay = s["ae"].to_numpy(), s["ay"].to_numpy()
            w = _ratio(ae, ay)
            v = np.where(np.isnan(w), 0.0, np.maximum(0.0, 1 - w))
            x, why = none, ""
        elif metric == "bias":
            v, x, why = (
                _ratio(s["e"].to_numpy(), s["y"].to_numpy()),
                none,
                "actuals sum to 0, errors do not",
            )
        elif metric in ("mase", "rmsse"):
            term = "ase" if metric == "mase" else "sse"
            if term not in s:
                return (
                    np.full(len(s), np.nan),
                    n,
                    np.full(len(s), "no actuals history for the scale", dtype=object),
                )
            k = s[f"n_{term}"].to_numpy()
            v = np.where(k > 0, s[term] / np.where(k > 0, k, 1), np.nan)
            v = np.sqrt(v) if metric == "rmsse" else v
            x, why = n - k, "naive scale 0 or history too short"
        elif metric == "tracking_signal":
            mad = s["ae"].to_numpy() / n
            v, x, why = _ratio(-s["e"].to_numpy(), mad), none, ""
        elif metric in ("coverage", "winkler_score"):
            if "n_int" not in s:
                return (
                    np.full(len(s), np.nan),
                    n,
                    np.full(len(s), "no prediction interval", dtype=object),
                )
            k = s["n_int"].to_numpy()
            col = "cov" if metric == "coverage" else "wink"
            v = np.where(k > 0, s[col] / np.where(k > 0, k, 1), np.nan)
            x, why = n - k, "no prediction interval"
        else:
            raise ValueError(f"score: unknown metric {metric!r}; known: {list(_METRICS)}")
    v = np.asarray(v, dtype="float64")
    reason = np.where(np.isnan(v), why, None).astype(object)
    return v, np.asarray(x, dtype="float64"), reason


def score(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    lags: Sequence[int] = _A.lags,
    metrics: Sequence[str] = _A.metrics,
    pooling: str | Sequence[str] = _A.pooling,
    materials: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    exclude_lifecycle: Sequence[str] = _A.exclude_lifecycle,
    as_of: pd.Period | str | None = None,
    season_length: int = _A.season_length,
    level: int = _A.challenge_level,
    keys: Sequence[str] = _SERIES,
) -> pd.DataFrame:
    """Forecast accuracy by group × source × lag × metric × pooling, as one tidy long table.

    Forecast figures are paired with actual demand by customer, material and target month
    (:func:`pair_forecasts`, whose exclusions come back in ``attrs["excluded"]``); lag =
    target month − snapshot month (:func:`kamlab.accuracy.forecast_lag`). `by` names the
    grouping: any of customer_id, material_id, period, snapshot_date, or a column of
    `materials` (product_family, lifecycle ...) or `customers` (account_manager, region ...);
    empty = the whole portfolio. source and lag are always keys (naming them in `by` is
    allowed and changes nothing). A material missing from `materials` groups under ``<NA>``.
    `keys` name a series (default customer × material; ``["material_id"]`` scores forecasts
    made per material, against actuals summed per material).

    Pooling (DOMAIN.md): ``"volume"`` forms each metric from the sums over all points of the
    group, so big series weigh more (WAPE = Σ|e| / Σ|y| over everything); ``"series_mean"``
    computes the metric per series (`keys`, default customer × material) first and averages those values,
    every series counting once; a series whose value is undefined (e.g. MAPE of an all-zero
    series) is left out of that mean and counted in ``n_excluded``.

    Metrics: those of :mod:`kamlab.accuracy.metrics` (``mae, rmse, mape, smape, wape,
    accuracy, bias, mase, rmsse, tracking_signal``, and ``coverage``/``winkler_score`` of the
    `level` % interval where forecasts carry lo_<level>/hi_<level>). MASE/RMSSE scale each
    series by the in-sample seasonal-naive error (m = `season_length`, 1 if the series has
    no more than m months) over its whole actuals history up to `as_of`: one fixed yardstick
    per series, the same for every lag and source. Points of a series whose scale is 0 are
    left out (counted) unless their error is 0 too.

    Returns columns: *by, source, lag, metric, pooling, value, n_points (forecast figures
    scored), n_series, n_excluded (points, or for series_mean series, without a defined
    term), note (why value is NaN, else ``<NA>``). Value units: as each kernel (MAPE and
    sMAPE in %, WAPE, accuracy, bias and coverage as fractions).

    >>> actuals = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M1", "M2", "M2"],
    ...     "period": pd.PeriodIndex(["2024-02", "2024-03"] * 2, freq="M"),
    ...     "quantity": [10.0, 10.0, 90.0, 90.0]})
    >>> forecasts = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M2"],
    ...     "snapshot_date": pd.Timestamp("2024-01-15"),
    ...     "period": pd.Period("2024-02", "M"), "quantity": [15.0, 90.0], "source": "customer"})
    >>> s = score(actuals, forecasts, metrics=["wape"])
    >>> s[["lag", "pooling", "value", "n_points"]].to_string(index=False)
    ' lag     pooling  value  n_points\\n   1      volume   0.05         2\\n   1 series_mean   0.25         2'
    """
    actuals, materials, customers = _plain(actuals), _plain(materials), _plain(customers)
    pooling = [pooling] if isinstance(pooling, str) else list(pooling)
    bad = [p for p in pooling if p not in _POOLINGS]
    if bad:
        raise ValueError(f"score: pooling must be in {list(_POOLINGS)}, got {bad}")
    unknown = [m for m in metrics if m not in _METRICS]
    if unknown:
        raise ValueError(f"score: unknown metric(s) {unknown}; known: {list(_METRICS)}")
    pairs = pair_forecasts(
        actuals,
        forecasts,
        keys=keys,
        lags=lags,
        materials=materials,
        exclude_lifecycle=exclude_lifecycle,
        as_of=as_of,
    )
    last = pd.Period(as_of, "M") if as_of is not None else actuals["period"].max()
    scales = None
    if any(m in ("mase", "rmsse") for m in metrics):
        scales = naive_scales(actuals, keys=keys, season_length=season_length, as_of=last)
    out = score_pairs(
        pairs,
        by=by,
        keys=keys,
        metrics=metrics,
        pooling=pooling,
        materials=materials,
        customers=customers,
        scales=scales,
        level=level,
    )
    out.attrs["excluded"] = Exclusions(pairs.attrs["excluded"])
    out.attrs["zero_filled"] = pairs.attrs["zero_filled"]
    return out


def score_pairs(
    pairs: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    keys: Sequence[str] = _SERIES,
    metrics: Sequence[str] = _A.metrics,
    pooling: Sequence[str] = _A.pooling,
    materials: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    scales: pd.DataFrame | None = None,
    level: int = _A.challenge_level,
) -> pd.DataFrame:
    """The aggregation step of :func:`score` on points from :func:`pair_forecasts`.

    For callers that pair once and score several ways, or filter the pairs first (e.g.
    :func:`kamlab.accuracy.value_added` keeps the points every step forecast). `keys` name
    the series (as in :func:`pair_forecasts`; series_mean pools over them). `scales`
    (*keys, scale, scale_sq; :func:`naive_scales`) is needed for MASE/RMSSE; without it
    they come back NaN with a note.
    """
    keys = list(keys)
    by = [b for b in by if b not in ("source", "lag")]  # always keys; named twice breaks groupby
    data = _attach(_plain(pairs), by, _plain(materials), _plain(customers))
    group_cols = [*by, "source", "lag"]
    columns = [
        *group_cols,
        "metric",
        "pooling",
        "value",
        "n_points",
        "n_series",
        "n_excluded",
        "note",
    ]
    if not metrics or not pooling:
        return pd.DataFrame(columns=columns)
    # one int64 code per group and per group x series: grouping on them is a single hash
    # pass per error term instead of a multi-column string groupby over a dozen columns
    group = _codes(*(data[c] for c in group_cols))
    firsts = np.unique(group, return_index=True)[1]
    index = pd.MultiIndex.from_frame(data[group_cols].iloc[firsts].reset_index(drop=True))
    cell = _codes(group, *(data[k] for k in keys))
    cell_first = np.unique(cell, return_index=True)[1]
    cell_group = group[cell_first]
    n_series = np.bincount(cell_group, minlength=len(index)).astype("float64")
    sums: dict[str, np.ndarray] = {}
    per: dict[str, np.ndarray] = {}
    # categorical groupers on the dense codes: pandas sums by them without hashing again
    by_group = pd.Categorical.from_codes(group, categories=np.arange(len(index)))
    by_cell = pd.Categorical.from_codes(cell, categories=np.arange(len(cell_first)))
    for name, term in _terms(data, keys, scales, level):
        sums[name] = pd.Series(term).groupby(by_group, observed=False).sum().to_numpy()
        if "series_mean" in pooling:
            per[name] = pd.Series(term).groupby(by_cell, observed=False).sum().to_numpy()
    sums = pd.DataFrame(sums)
    blocks = []
    for pool in pooling:
        if pool == "volume":
            for metric in metrics:
                v, x, why = _from_sums(sums, metric)
                blocks.append(
                    pd.DataFrame(
                        {
                            "metric": metric,
                            "pooling": pool,
                            "value": v,
                            "n_points": sums["n"].to_numpy(),
                            "n_series": n_series,
                            "n_excluded": x,
                            "note": why,
                        },
                        index=index,
                    )
                )
        else:
            cells = pd.DataFrame(per)
            parts = {"n": cells["n"].to_numpy(), "one": np.ones(len(cells))}
            for metric in metrics:
                v, _, _ = _from_sums(cells, metric)
                parts[f"v_{metric}"] = np.nan_to_num(v, nan=0.0)
                parts[f"ok_{metric}"] = (~np.isnan(v)).astype("float64")
            g = pd.DataFrame(parts).groupby(cell_group, sort=True).sum()
            for metric in metrics:
                ok = g[f"ok_{metric}"].to_numpy()
                value = np.where(ok > 0, g[f"v_{metric}"] / np.where(ok > 0, ok, 1), np.nan)
                blocks.append(
                    pd.DataFrame(
                        {
                            "metric": metric,
                            "pooling": pool,
                            "value": value,
                            "n_points": g["n"].to_numpy(),
                            "n_series": g["one"].to_numpy(),
                            "n_excluded": g["one"].to_numpy() - ok,
                            "note": np.where(ok > 0, None, "no series with a defined value"),
                        },
                        index=index,
                    )
                )
    out = pd.concat(blocks).reset_index()
    out = out.astype(
        {"n_points": "int64", "n_series": "int64", "n_excluded": "int64", "note": "string"}
    )
    out["_m"] = out["metric"].map({m: i for i, m in enumerate(metrics)})
    out["_p"] = out["pooling"].map({p: i for i, p in enumerate(pooling)})
    out = out.sort_values([*group_cols, "_m", "_p"], kind="stable", ignore_index=True)
    return out[columns]
