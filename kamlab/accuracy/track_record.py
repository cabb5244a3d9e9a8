"""Track record: which of two forecasts has been closer, per series and lag, and their combination.

The customer's forecast and kamlab's statistical one are scored on the same points (series,
target month, lag) over the last N target months, with the kernels of
:mod:`kamlab.accuracy.scoring`; their combination is scored beside them, each of its
figures made with weights known when that figure was made (out of sample). The record says
per customer × material (or its product family where the material's record is short)
which source to trust at each lag — the challenge list only challenges with the better
one — and gives the weights of :func:`combined_forecast`.

Sources on combining: Bates & Granger (1969), "The combination of forecasts", *Operational
Research Quarterly* 20(4) (weights inversely proportional to each forecast's error variance);
Stock & Watson (2004), "Combination forecasts of output growth in a seven-country data set",
*Journal of Forecasting* 23(6) (estimated weights shrunk towards equal weights); Smith &
Wallis (2009), "A simple explanation of the forecast combination puzzle", *Oxford Bulletin
of Economics and Statistics* 71(3), and Claeskens, Magnus, Vasnev & Wang (2016), "The
forecast combination puzzle: a simple theoretical explanation", *International Journal of
Forecasting* 32(3) (estimated weights add variance; equal weights win on short records).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.accuracy.lag import forecast_lag
from kamlab.accuracy.scoring import _SERIES, _codes, _plain, pair_forecasts, score_pairs
from kamlab.config import DEFAULTS

__all__ = ["combination_weight", "combined_forecast", "record_for", "track_record"]

_A = DEFAULTS.accuracy
_FAMILY = "product_family"


def combination_weight(
    mse_a: np.ndarray | float,
    mse_b: np.ndarray | float,
    n: np.ndarray | float,
    *,
    prior_months: float = _A.combination_prior_months,
) -> np.ndarray:
    """Weight of forecast B in the combination ``w·B + (1 − w)·A``: inverse-MSE, shrunk to ½.

    .. math:: w = \\lambda \\frac{MSE_A}{MSE_A + MSE_B} + (1 - \\lambda) \\frac{1}{2},
              \\qquad \\lambda = \\frac{n}{n + n_0}

    The first term is Bates & Granger's (1969) inverse-variance weight without the
    covariance (:math:`\\frac{1/MSE_B}{1/MSE_A + 1/MSE_B}`); *n* is the number of months
    the MSEs were measured on and :math:`n_0` = `prior_months` how many months of record
    count as much as the prior of equal weights (shrinkage as in Stock & Watson 2004; equal
    weights because of the combination puzzle, Smith & Wallis 2009, Claeskens et al. 2016).
    No record (n = 0), or both MSEs 0, gives ½. Unit: a share in [0, 1].

    >>> float(combination_weight(4.0, 1.0, 6, prior_months=6))  # 0.5·0.8 + 0.5·0.5
    0.65
    >>> float(combination_weight(4.0, 1.0, 0))
    0.5
    """
    mse_a, mse_b, n = (np.asarray(x, dtype="float64") for x in (mse_a, mse_b, n))
    total = mse_a + mse_b
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(total > 0, mse_a / np.where(total > 0, total, 1.0), 0.5)
        lam = np.where(n > 0, n / (n + prior_months), 0.0)
    raw = np.where(np.isnan(raw), 0.5, raw)
    return lam * raw + (1.0 - lam) * 0.5


def _common(pairs: pd.DataFrame, keys: list[str], a: str, b: str) -> pd.DataFrame:
    """One row per series × target month × lag that both sources forecast: f_a, f_b, actual."""
    cols = [*keys, "period", "lag"]
    pa = pairs.loc[pairs["source"] == a, [*cols, "forecast", "actual"]]
    pb = pairs.loc[pairs["source"] == b, [*cols, "forecast"]]
    w = pa.rename(columns={"forecast": "f_a"}).merge(
        pb.rename(columns={"forecast": "f_b"}), on=cols, how="inner"
    )
    return w.astype({"lag": "int64"})


def _rolling_combination(
    w: pd.DataFrame, keys: list[str], months: int, prior_months: float
) -> pd.DataFrame:
    """Add ``weight`` and ``f_c``: each point combined with the weight of its series' record
    over the `months` target months known when it was forecast (t − lag − months, t − lag − 1],
    i.e. months whose actual had come in before the snapshot month under either snapshot
    convention of :func:`kamlab.accuracy.forecast_lag`."""
    if w.empty:
        return w.assign(weight=pd.Series(dtype="float64"), f_c=pd.Series(dtype="float64"))
    group = _codes(*(w[k] for k in keys), w["lag"].to_numpy())
    month = w["period"].array.asi8
    lag = w["lag"].to_numpy()
    order = np.lexsort((month, group))
    w = w.iloc[order].reset_index(drop=True)
    group, month, lag = group[order], month[order], lag[order]
    off = month - month.min() + int(lag.max()) + months + 2  # q_lo below stays in its group
    span = int(off.max()) + 1
    key = group * span + off
    q = key - lag - 1
    pos = np.searchsorted(key, q, side="right")
    pos_lo = np.searchsorted(key, q - months, side="right")
    se_a = (w["f_a"].to_numpy("float64") - w["actual"].to_numpy("float64")) ** 2
    se_b = (w["f_b"].to_numpy("float64") - w["actual"].to_numpy("float64")) ** 2
    ca = np.concatenate([[0.0], np.cumsum(se_a)])
    cb = np.concatenate([[0.0], np.cumsum(se_b)])
    n = (pos - pos_lo).astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        mse_a = (ca[pos] - ca[pos_lo]) / n
        mse_b = (cb[pos] - cb[pos_lo]) / n
    weight = combination_weight(mse_a, mse_b, n, prior_months=prior_months)
    f_c = np.maximum(weight * w["f_b"].to_numpy() + (1 - weight) * w["f_a"].to_numpy(), 0.0)
    return w.assign(weight=weight, f_c=f_c)


def _score(
    w: pd.DataFrame,
    keys: list[str],
    sources: tuple[str, str],
    min_months: int,
    prior_months: float,
    margin: float,
) -> pd.DataFrame:
    """Per `keys` × lag: months, closer counts, MAE/RMSE/bias of both sources and the
    combination (:func:`kamlab.accuracy.score_pairs`), forward weight and verdict."""
    a, b = sources
    long = pd.concat(
        [
            w[[*keys, "period", "lag", "actual"]].assign(source=name, forecast=w[col])
            for name, col in ((a, "f_a"), (b, "f_b"), ("combined", "f_c"))
        ],
        ignore_index=True,
    )
    s = score_pairs(long, by=keys, keys=keys, metrics=["mae", "rmse", "bias"], pooling=["volume"])
    wide = s.pivot_table(
        index=[*keys, "lag"], columns=["metric", "source"], values="value", dropna=False
    )
    wide.columns = [f"{m}_{src}" for m, src in wide.columns]
    err_a = (w["f_a"] - w["actual"]).abs()
    err_b = (w["f_b"] - w["actual"]).abs()
    counts = (
        w.assign(_a=(err_a < err_b).astype("int64"), _b=(err_b < err_a).astype("int64"), _n=1)
        .groupby([*keys, "lag"], observed=True)[["_n", "_a", "_b"]]
        .sum()
        .rename(columns={"_n": "months", "_a": f"closer_{a}", "_b": f"closer_{b}"})
    )
    metrics = [f"{m}_{src}" for m in ("mae", "rmse", "bias") for src in (a, b, "combined")]
    out = counts.join(wide.reindex(columns=metrics)).reset_index()
    out[f"weight_{b}"] = combination_weight(
        out[f"rmse_{a}"] ** 2, out[f"rmse_{b}"] ** 2, out["months"], prior_months=prior_months
    )
    mae_a, mae_b = out[f"mae_{a}"], out[f"mae_{b}"]
    ca, cb = out[f"closer_{a}"], out[f"closer_{b}"]
    verdict = np.select(
        [
            out["months"] < min_months,
            (mae_b <= (1 - margin) * mae_a) & (cb > ca),
            (mae_a <= (1 - margin) * mae_b) & (ca > cb),
        ],
        ["short", b, a],
        "even",
    )
    return out.assign(verdict=pd.array(verdict, dtype="string"))


def track_record(
    actuals: pd.DataFrame | None = None,
    forecasts: pd.DataFrame | None = None,
    *,
    pairs: pd.DataFrame | None = None,
    keys: Sequence[str] = _SERIES,
    sources: tuple[str, str] = ("customer", "statistical"),
    lags: Sequence[int] = _A.lags,
    months: int = _A.track_record_months,
    min_months: int = _A.track_record_min_months,
    prior_months: float = _A.combination_prior_months,
    margin: float = _A.challenge_margin,
    materials: pd.DataFrame | None = None,
    as_of: pd.Period | str | None = None,
) -> pd.DataFrame:
    """Which of two forecasts has been closer to actual demand, per series and lag, lately.

    For each series (`keys`, default customer × material) and lag, the points both
    `sources` (A = the customer's, B = kamlab's statistical by default) forecast among the
    last `months` target months up to `as_of` (default: the last actual month) are scored:

    * ``months`` — points compared (one per target month); ``closer_<A>`` / ``closer_<B>``
      — months in which that source's absolute error was the smaller (ties count for neither);
    * ``mae_*``, ``rmse_*`` (unit of the demand) and ``bias_*`` (Σ(f − y)/Σy, a fraction)
      of A, B and ``combined`` (:func:`kamlab.accuracy.score_pairs`, volume-pooled);
      the combined figure of month *t* at lag *L* is
      ``max(0, w·B + (1 − w)·A)`` with *w* = :func:`combination_weight` of the series'
      record over the `months` target months before *t* − *L* (known when it was made), so
      its score is out of sample;
    * ``weight_<B>`` — :func:`combination_weight` of this record: the weight of B in
      :func:`combined_forecast` from now on;
    * ``verdict`` — ``B`` when MAE_B ≤ (1 − `margin`) · MAE_A **and** B was closer in more
      months than A; ``A`` in the mirror case; ``"even"`` otherwise; ``"short"`` when fewer
      than `min_months` months were compared.

    With `materials` (material_id, product_family) the same is computed per customer ×
    product family on the family's totals (A, B and actual summed over its materials' common
    points per month): rows with ``level`` "family" and no material_id, the fallback
    of :func:`record_for` where a material's own record is short.

    Pass `actuals` and `forecasts` (long: *keys, snapshot_date, period, quantity, source) or
    `pairs` from :func:`kamlab.accuracy.pair_forecasts` (its points of `sources` and `lags`
    are used). Returns *keys, product_family (with `materials`), level, lag, months,
    closer_<A>, closer_<B>, mae_/rmse_/bias_ of <A>, <B> and combined, weight_<B>, verdict.
    """
    keys = list(keys)
    a, b = sources
    if pairs is None:
        if actuals is None or forecasts is None:
            raise ValueError("track_record: pass actuals and forecasts, or pairs")
        forecasts = _plain(forecasts)
        pairs = pair_forecasts(
            actuals,
            forecasts[forecasts["source"].isin(sources)],
            keys=keys,
            lags=lags,
            materials=materials,
            exclude_lifecycle=(),
            as_of=as_of,
        )
    pairs = _plain(pairs)
    pairs = pairs[pairs["source"].isin(sources) & pairs["lag"].isin([int(x) for x in lags])]
    if as_of is not None:
        last = pd.Period(as_of, "M")
    elif actuals is not None and len(actuals):
        last = actuals["period"].max()
    else:
        last = pairs["period"].max() if len(pairs) else None
    w = _common(pairs, keys, a, b)
    if last is not None:
        w = w[w["period"] <= last]
    window = (lambda f: f[f["period"] > last - months]) if last is not None else (lambda f: f)
    combined = _rolling_combination(w, keys, months, prior_months)
    out = _score(window(combined), keys, sources, min_months, prior_months, margin)
    out = out.assign(level="material")
    family = materials is not None and _FAMILY in materials.columns and "material_id" in keys
    if family:
        fam_of = materials.drop_duplicates("material_id").set_index("material_id")[_FAMILY]
        out.insert(len(keys), _FAMILY, out["material_id"].map(fam_of).astype("string"))
        fkeys = [k for k in keys if k != "material_id"] + [_FAMILY]
        fw = (
            w.assign(**{_FAMILY: w["material_id"].map(fam_of).astype("string")})
            .dropna(subset=[_FAMILY])
            .groupby([*fkeys, "period", "lag"], observed=True, as_index=False)[
                ["f_a", "f_b", "actual"]
            ]
            .sum()
        )
        fam = _score(
            window(_rolling_combination(fw, fkeys, months, prior_months)),
            fkeys,
            sources,
            min_months,
            prior_months,
            margin,
        ).assign(level="family", material_id=None)
        dtype = out["material_id"].dtype
        out = pd.concat([out, fam[out.columns]], ignore_index=True)
        out["material_id"] = out["material_id"].astype(dtype)  # missing as the dtype spells it
    out["level"] = out["level"].astype("string")
    front = [*keys, *([_FAMILY] if family else []), "level", "lag"]
    rest = [c for c in out.columns if c not in front]
    out = out[[*front, *rest]]
    out = out.assign(_family_last=out["level"] == "family").sort_values(
        ["_family_last", *front[:-2], "lag"], ignore_index=True
    )
    out = out.drop(columns="_family_last")
    out.attrs["months"] = months
    out.attrs["sources"] = sources
    return out


def record_for(
    points: pd.DataFrame,
    record: pd.DataFrame,
    *,
    materials: pd.DataFrame | None = None,
    min_months: int = _A.track_record_min_months,
) -> pd.DataFrame:
    """The track-record row that speaks for each of `points` (customer_id, material_id, lag).

    A point's lag is clipped to the lags the record holds (a same-month figure, lag 0, is
    judged by the lag-1 record). The material's own record is used when it has at least
    `min_months` months; otherwise its customer × product family record (from `materials`)
    when the record has family rows; otherwise the material's short record (verdict
    "short"), or nothing (all record columns ``<NA>``; ``level`` ``<NA>``).
    Returns `points` with the record's columns (``record_lag`` = the lag used) added.
    """
    lags = record["lag"]
    p = points.assign(
        record_lag=points["lag"].clip(lower=lags.min(), upper=lags.max()).astype("int64")
        if len(record)
        else points["lag"]
    )
    cols = [c for c in record.columns if c not in ("customer_id", "material_id", "lag", _FAMILY)]
    mat = record[record["level"] == "material"].rename(columns={"lag": "record_lag"})
    mat = mat[["customer_id", "material_id", "record_lag", *cols]]
    out = p.merge(mat, on=["customer_id", "material_id", "record_lag"], how="left")
    fam = record[record["level"] == "family"]
    if len(fam) and materials is not None and _FAMILY in materials.columns:
        fam_of = materials.drop_duplicates("material_id").set_index("material_id")[_FAMILY]
        famrec = fam.rename(columns={"lag": "record_lag"})[
            ["customer_id", _FAMILY, "record_lag", *cols]
        ]
        viaf = p.assign(**{_FAMILY: p["material_id"].map(fam_of).astype("string")}).merge(
            famrec, on=["customer_id", _FAMILY, "record_lag"], how="left"
        )
        short = out["months"].isna() | (out["months"] < min_months)
        use = (short & viaf["months"].notna()).to_numpy()
        for c in cols:
            out[c] = out[c].where(~use, viaf[c].to_numpy())
    return out


def combined_forecast(
    customer_forecasts: pd.DataFrame,
    statistical: pd.DataFrame,
    record: pd.DataFrame,
    *,
    materials: pd.DataFrame | None = None,
    min_months: int = _A.track_record_min_months,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """The customer's latest forecast and kamlab's, combined with weights from their record.

    .. math:: \\hat y_{combined} = \\max(0,\\; w \\cdot s + (1 - w) \\cdot c)

    per customer × material × target month after the snapshot month, *c* the customer's
    latest snapshot (snapshot_date ≤ `as_of`), *s* the statistical point forecast
    (`statistical`: customer_id, material_id, period, forecast) and *w* the record's
    ``weight_statistical`` (:func:`track_record`, row chosen by :func:`record_for`: the
    material's lag, else its family's; no record: ½, equal weights). Where only one source
    forecasts a month, the combined forecast is that source (*w* = 1 or 0). Unit: the
    forecasts' quantity. Returns customer_id, material_id, snapshot_date, period, lag,
    customer_forecast, statistical_forecast, weight_statistical, level (record used),
    combined.

    >>> cf = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "snapshot_date": pd.Timestamp("2026-11-05"), "period": pd.Period("2026-12", "M"),
    ...     "quantity": [120.0]})
    >>> st = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "period": pd.Period("2026-12", "M"), "forecast": [100.0]})
    >>> rec = pd.DataFrame({"customer_id": "C1", "material_id": "M1", "level": "material",
    ...     "lag": [1], "months": [12], "weight_statistical": [0.75]})
    >>> float(combined_forecast(cf, st, rec)["combined"].iloc[0])  # 0.75·100 + 0.25·120
    105.0
    """
    cf = _plain(customer_forecasts)
    if as_of is not None:
        cf = cf[cf["snapshot_date"] <= pd.Timestamp(as_of)]
    latest = cf.groupby("customer_id", observed=True)["snapshot_date"].transform("max")
    cf = cf[cf["snapshot_date"] == latest]
    cf = cf[cf["period"] > cf["snapshot_date"].dt.to_period("M")]
    series = ["customer_id", "material_id"]
    c = cf[[*series, "snapshot_date", "period", "quantity"]].rename(
        columns={"quantity": "customer_forecast"}
    )
    s = _plain(statistical)[[*series, "period", "forecast"]].rename(
        columns={"forecast": "statistical_forecast"}
    )
    if len(s) and len(c):  # statistical months within the customers' forecast horizon
        s = s[s["period"] <= c["period"].max()]
    m = c.merge(s, on=[*series, "period"], how="outer")
    snap = m.groupby("customer_id", observed=True)["snapshot_date"].transform("max")
    m["snapshot_date"] = m["snapshot_date"].fillna(snap)
    if as_of is not None:
        base = pd.Timestamp(as_of)
    else:
        base = c["snapshot_date"].max() if len(c) else pd.NaT
    when = m["snapshot_date"].fillna(base)
    m["lag"] = forecast_lag(when, m["period"]).astype("int64")
    m = record_for(m, record, materials=materials, min_months=min_months) if len(record) else m
    w = m["weight_statistical"] if "weight_statistical" in m else pd.Series(np.nan, index=m.index)
    w = w.astype("float64").fillna(0.5)
    w = w.where(m["customer_forecast"].notna(), 1.0).where(m["statistical_forecast"].notna(), 0.0)
    combined = w * m["statistical_forecast"].fillna(0.0) + (1 - w) * m["customer_forecast"].fillna(
        0.0
    )
    out = m.assign(weight_statistical=w, combined=combined.clip(lower=0.0))
    if "level" not in out:
        out["level"] = pd.NA
    cols = [*series, "snapshot_date", "period", "lag", "customer_forecast"]
    cols += ["statistical_forecast", "weight_statistical", "level", "combined"]
    return out[cols].sort_values([*series, "period"], ignore_index=True)
