"""The challenge list: which of the forecasts a customer just sent to question, and why."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.accuracy.lag import forecast_lag
from kamlab.accuracy.scoring import _plain
from kamlab.accuracy.track_record import record_for
from kamlab.config import DEFAULTS
from kamlab.exclusions import Exclusions

__all__ = ["VERDICTS", "challenge_list", "customer_better", "focus_challenges"]

_A = DEFAULTS.accuracy
_SERIES = ["customer_id", "material_id"]
#: track-record verdict (:func:`kamlab.accuracy.track_record`) -> what the flagged figure is
VERDICTS = {
    "statistical": "challenge",  # our record is better by the margin: challenge with it
    "customer": "customer_better",  # the customer's record is better: say so, no challenge
    "even": "no_edge",  # neither is better by the margin
    "short": "short_record",  # too few months compared to tell
}
#: verdicts the page proposes as challenges ("not_checked": no track record was passed)
CHALLENGED = ("challenge", "not_checked")
_RECORD = [
    "record_level",
    "record_lag",
    "record_months",
    "closer_customer",
    "closer_statistical",
    "mae_customer",
    "mae_statistical",
    "weight_statistical",
]


def _pct(x: pd.Series) -> pd.Series:
    """+45 % / -30 % style text of a fraction."""
    r = (x * 100).round().astype("Int64")
    return np.where(r >= 0, "+", "-") + r.abs().astype("string") + " %"


def _prices(
    actuals: pd.DataFrame, prices: pd.DataFrame | None, last: pd.Period
) -> tuple[pd.DataFrame, list[str]]:
    """Unit price and its join keys: `prices` if given, else net_value / quantity, 12 months to `last`."""
    if prices is not None:
        keys = [k for k in _SERIES if k in prices.columns]
        cols = [*keys, "price", *(["currency"] if "currency" in prices else [])]
        return prices[cols], keys
    if "net_value" not in actuals.columns:
        raise ValueError("challenge_list: pass `prices` or actuals with net_value (and quantity)")
    recent = actuals[(actuals["period"] > last - 12) & (actuals["period"] <= last)]
    cur = ["currency"] if "currency" in recent.columns else []
    g = recent.groupby([*_SERIES, *cur], observed=True)[["net_value", "quantity"]].sum()
    g = g[g["quantity"] > 0]
    return (g["net_value"] / g["quantity"]).rename("price").reset_index(), _SERIES


def challenge_list(
    customer_forecasts: pd.DataFrame,
    statistical: pd.DataFrame,
    actuals: pd.DataFrame,
    *,
    prices: pd.DataFrame | None = None,
    as_of: pd.Timestamp | str | None = None,
    level: int = _A.challenge_level,
    deviation: float = _A.challenge_deviation,
    last_year_deviation: float = _A.challenge_last_year_deviation,
    track_record: pd.DataFrame | None = None,
    materials: pd.DataFrame | None = None,
    min_months: int = _A.track_record_min_months,
) -> pd.DataFrame:
    """Forecast figures of each customer's latest snapshot that deserve a question, by value at stake.

    For each customer, the latest snapshot with snapshot_date ≤ `as_of` (default: the latest
    in `customer_forecasts`) is compared, per material and target month after the snapshot
    month, with kamlab's statistical forecast `statistical` (customer_id, material_id,
    period, forecast, lo_<level>, hi_<level>) and with the actual demand of the same month a
    year earlier (`actuals`: monthly demand). A figure *c* is flagged when

    * it lies outside the statistical `level` % prediction interval, or
    * |c − s| / s > `deviation` (s = statistical point forecast; s = 0 with c > 0 counts), or
    * |c − y₋₁₂| / y₋₁₂ > `last_year_deviation` (y₋₁₂ = 0 with c > 0 counts; no such row
      within the actuals' range = 0).

    Value at stake = |c − s| × unit price, the price from `prices` (customer_id?,
    material_id, price[, currency]) or else net_value / quantity of the series over the 12
    months to `as_of` (default: the last actual month). No price: value_at_stake is NaN and
    the row sorts last. The list is sorted by value at stake, largest first (compare within one currency: the
    ``currency`` column says which); ``rank`` numbers the rows within each customer.
    ``reason`` says it in words, e.g. "customer +45 % above statistical forecast and above
    the 80 % interval; +60 % vs same month last year". Figures without a statistical
    forecast are not assessed and are counted in ``attrs["excluded"]``.

    **Only where we forecast better.** With `track_record`
    (:func:`kamlab.accuracy.track_record` of the customer's vs the statistical forecast) each
    flagged figure gets the record at its lag (:func:`kamlab.accuracy.record_for`: the
    material's, else its product family's from `materials`, when the material has fewer than
    `min_months` months) and a ``verdict``: ``"challenge"`` where our record is better by the
    margin it was built with (MAE lower by the margin and closer in more months),
    ``"customer_better"`` where the customer's is, ``"no_edge"`` where neither is,
    ``"short_record"``/``"no_record"`` where too few months or none were compared; without
    `track_record`, ``"not_checked"``. Only "challenge" (and "not_checked") figures are put
    to the customer (:func:`focus_challenges`); "customer_better" ones are listed by
    :func:`customer_better`. ``combined_forecast`` is
    ``max(0, w·s + (1 − w)·c)`` with the record's ``weight_statistical`` *w* (½ without one).

    Returns customer_id, material_id, snapshot_date, period, customer_forecast,
    statistical_forecast, lo, hi, last_year, deviation, last_year_deviation, price,
    currency, value_at_stake, rank, reason, lag, verdict, record_level, record_lag,
    record_months, closer_customer, closer_statistical, mae_customer, mae_statistical,
    weight_statistical, combined_forecast.

    >>> cf = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M2"],
    ...     "snapshot_date": pd.Timestamp("2024-06-10"), "period": pd.Period("2024-07", "M"),
    ...     "quantity": [145.0, 100.0]})
    >>> stat = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M2"],
    ...     "period": pd.Period("2024-07", "M"), "forecast": 100.0, "lo_80": 80.0, "hi_80": 120.0})
    >>> act = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M2"],
    ...     "period": pd.Period("2023-07", "M"), "quantity": [90.0, 100.0],
    ...     "net_value": [900.0, 1000.0], "currency": "EUR"})
    >>> out = challenge_list(cf, stat, act, prices=pd.DataFrame({"material_id": ["M1", "M2"],
    ...     "price": [10.0, 10.0]}))
    >>> out[["material_id", "value_at_stake"]].to_string(index=False)
    'material_id  value_at_stake\\n         M1           450.0'
    >>> out["reason"].iloc[0]
    'customer +45 % above statistical forecast and above the 80 % interval; +61 % vs same month last year'
    """
    customer_forecasts, statistical = _plain(customer_forecasts), _plain(statistical)
    actuals, prices = _plain(actuals), _plain(prices)
    lo_col, hi_col = f"lo_{level}", f"hi_{level}"
    missing = [c for c in ["forecast", lo_col, hi_col] if c not in statistical.columns]
    if missing:
        raise ValueError(f"challenge_list: statistical lacks column(s) {missing}")
    cf = customer_forecasts
    if as_of is not None:
        cf = cf[cf["snapshot_date"] <= pd.Timestamp(as_of)]
    latest = cf.groupby("customer_id", observed=True)["snapshot_date"].transform("max")
    cf = cf[(cf["snapshot_date"] == latest)]
    cf = cf[cf["period"] > cf["snapshot_date"].dt.to_period("M")]
    cf = cf[[*_SERIES, "snapshot_date", "period", "quantity"]].rename(
        columns={"quantity": "customer_forecast"}
    )
    stat = statistical[[*_SERIES, "period", "forecast", lo_col, hi_col]].rename(
        columns={"forecast": "statistical_forecast", lo_col: "lo", hi_col: "hi"}
    )
    m = cf.merge(stat, on=[*_SERIES, "period"], how="left")
    no_stat = m["statistical_forecast"].isna()
    excluded = pd.DataFrame(
        {
            "table": ["customer_forecasts"],
            "reason": ["no statistical forecast for the series and month"],
            "rows": [int(no_stat.sum())],
            "quantity": [float(m.loc[no_stat, "customer_forecast"].sum())],
        }
    )
    m = m[~no_stat]
    # actuals a year before the target month; inside the actuals' range a missing row is 0
    ly = actuals[[*_SERIES, "period", "quantity"]].assign(period=actuals["period"] + 12)
    m = m.merge(ly.rename(columns={"quantity": "last_year"}), on=[*_SERIES, "period"], how="left")
    in_range = (m["period"] - 12 >= actuals["period"].min()) & (
        m["period"] - 12 <= actuals["period"].max()
    )
    m["last_year"] = m["last_year"].mask(in_range & m["last_year"].isna(), 0.0)

    c, s, y = m["customer_forecast"], m["statistical_forecast"], m["last_year"]
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = (c - s) / s
        dev_ly = (c - y) / y
    dev = dev.where(s != 0, np.where(c > 0, np.inf, 0.0))
    dev_ly = dev_ly.where(y != 0, np.where(c > 0, np.inf, 0.0)).where(y.notna())
    above, below = c > m["hi"], c < m["lo"]
    flag_int = above | below
    flag_dev = dev.abs() > deviation
    flag_ly = dev_ly.abs() > last_year_deviation
    m = m.assign(
        deviation=dev.replace([np.inf], np.nan),
        last_year_deviation=dev_ly.replace([np.inf], np.nan),
    )
    keep = (flag_int | flag_dev | flag_ly.fillna(False)).to_numpy()
    m, above, below = m[keep], above[keep], below[keep]
    flag_int, flag_dev, flag_ly = flag_int[keep], flag_dev[keep], flag_ly.fillna(False)[keep]
    dev, dev_ly = dev[keep], dev_ly[keep]

    side = pd.Series(np.where(dev >= 0, "above", "below"), index=m.index)
    stat_txt = np.where(
        m["statistical_forecast"] == 0,
        "customer forecasts "
        + m["customer_forecast"].round().astype("Int64").astype("string")
        + " where the statistical forecast is 0",
        "customer "
        + pd.Series(_pct(dev.where(np.isfinite(dev), 0.0)), index=m.index)
        + " "
        + side
        + " statistical forecast",
    )
    int_txt = np.where(above, f" and above the {level} % interval", "")
    int_txt = np.where(below, f" and below the {level} % interval", int_txt)
    stat_part = pd.Series(stat_txt, index=m.index) + int_txt
    ly_txt = np.where(
        m["last_year"] == 0,
        "nothing ordered in the same month last year",
        pd.Series(_pct(dev_ly.where(np.isfinite(dev_ly), 0.0)), index=m.index).astype("string")
        + " vs same month last year",
    )
    ly_part = pd.Series(ly_txt, index=m.index)
    stat_flag = (flag_int | flag_dev).to_numpy()
    reason = np.where(
        stat_flag & flag_ly.to_numpy(),
        stat_part + "; " + ly_part,
        np.where(
            stat_flag,
            stat_part,
            np.where(
                m["last_year"] == 0,
                "customer forecasts an order where nothing was ordered in the same month last year",
                "customer " + ly_part,
            ),
        ),
    )
    m["reason"] = pd.Series(reason, index=m.index, dtype="string")
    m = _judge(m.reset_index(drop=True), track_record, materials, min_months)

    last = actuals["period"].max() if as_of is None else pd.Timestamp(as_of).to_period("M")
    price, keys = _prices(actuals, prices, last)
    m = m.merge(price, on=keys, how="left")
    if "currency" not in m.columns:
        m["currency"] = pd.NA
    m["value_at_stake"] = (m["customer_forecast"] - m["statistical_forecast"]).abs() * m["price"]
    m = m.sort_values("value_at_stake", ascending=False, na_position="last", ignore_index=True)
    m["rank"] = m.groupby("customer_id", observed=True).cumcount() + 1
    cols = [
        *_SERIES,
        "snapshot_date",
        "period",
        "customer_forecast",
        "statistical_forecast",
        "lo",
        "hi",
        "last_year",
        "deviation",
        "last_year_deviation",
        "price",
        "currency",
        "value_at_stake",
        "rank",
        "reason",
        "lag",
        "verdict",
        *_RECORD,
        "combined_forecast",
    ]
    out = m[cols]
    out.attrs["excluded"] = Exclusions(excluded)
    return out


def _judge(
    m: pd.DataFrame,
    track_record: pd.DataFrame | None,
    materials: pd.DataFrame | None,
    min_months: int,
) -> pd.DataFrame:
    """Each flagged figure with its lag, the track record at that lag and the verdict."""
    m = m.assign(lag=forecast_lag(m["snapshot_date"], m["period"]).astype("int64"))
    if track_record is None or track_record.empty:
        verdict = "not_checked" if track_record is None else "no_record"
        rec = m.assign(verdict=verdict, **{c: pd.NA for c in _RECORD})
        rec["weight_statistical"] = np.nan
    else:
        rec = record_for(m, _plain(track_record), materials=materials, min_months=min_months)
        rec = rec.rename(columns={"level": "record_level", "months": "record_months"})
        rec["verdict"] = rec["verdict"].map(VERDICTS).fillna("no_record")
        for c in _RECORD:
            if c not in rec:
                rec[c] = pd.NA
    rec["verdict"] = rec["verdict"].astype("string")
    w = rec["weight_statistical"].astype("float64").fillna(0.5)
    combined = w * rec["statistical_forecast"] + (1 - w) * rec["customer_forecast"]
    return rec.assign(combined_forecast=combined.clip(lower=0.0))


_LIFECYCLE_NOTE = {
    "phase-out": "phase-out material: its demand is planned down to zero; check the customer's"
    " stock and last-time buy before accepting",
    "phase-in": "new material (phase-in): little history, the statistical forecast is a ramp-up"
    " guess; confirm the launch date and volumes",
}


def focus_challenges(
    challenges: pd.DataFrame,
    *,
    materials: pd.DataFrame | None = None,
    max_lines: int = _A.challenge_max_lines,
    min_value: float = _A.challenge_min_value,
) -> pd.DataFrame:
    """The challenge list a KAM takes to the customer: one line per material, the material ones.

    From :func:`challenge_list` (all flagged figures), per customer × material × currency:
    the flagged months (``months``, e.g. "Nov 2026, Dec 2026"), their count, the customer's,
    the statistical and the combined forecast summed over them, and the value at stake summed (money in
    ``currency``). Kept: materials whose value at stake is at least `min_value`, at most
    `max_lines` per customer, largest first; ``rank`` numbers them per customer. ``reason``
    is the reason of the material's largest month; ``lifecycle`` and ``context`` state a
    phase-out or new material (from `materials`: material_id, lifecycle, description).
    The full list stays in `challenges` (the workbook); ``attrs["hidden"]`` counts per
    customer how many flagged figures the focus left out. Only figures whose ``verdict`` is
    a challenge (our track record better by the margin, or not checked) are taken; the
    record of the largest month comes along (``record_lag``, ``record_months``,
    ``closer_statistical``, ``closer_customer``, ``record_level``), so the line can say
    "our forecast has been closer 9 of the last 12 months".

    >>> ch = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M1", "M2"],
    ...     "period": pd.period_range("2026-11", periods=3, freq="M"),
    ...     "customer_forecast": [150.0, 160.0, 20.0], "statistical_forecast": [100.0, 100.0, 10.0],
    ...     "currency": "EUR", "value_at_stake": [5000.0, 6000.0, 100.0],
    ...     "reason": ["r1", "r2", "r3"]})
    >>> out = focus_challenges(ch, min_value=1000.0)
    >>> out[["material_id", "months", "value_at_stake", "reason"]].to_dict("records")
    [{'material_id': 'M1', 'months': 'Nov 2026, Dec 2026', 'value_at_stake': 11000.0, 'reason': 'r2'}]
    """
    cols = [
        "customer_id",
        "material_id",
        "currency",
        "months",
        "n_months",
        "customer_forecast",
        "statistical_forecast",
        "combined_forecast",
        "value_at_stake",
        "reason",
        "lifecycle",
        "description",
        "context",
        "rank",
        "record_level",
        "record_lag",
        "record_months",
        "closer_statistical",
        "closer_customer",
    ]
    if challenges is not None and "verdict" in challenges.columns:
        challenges = challenges[challenges["verdict"].isin(CHALLENGED)]
    if challenges is None or challenges.empty:
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
        out.attrs["hidden"] = {}
        return out
    c = challenges.assign(
        currency=challenges["currency"].astype("string").fillna("–"),
        _v=challenges["value_at_stake"].fillna(0.0),
    ).sort_values(["customer_id", "material_id", "period"])
    keys = ["customer_id", "material_id", "currency"]
    g = c.groupby(keys, observed=True, sort=False)
    for col in _RECORD[:5]:
        if col not in c:
            c[col] = pd.NA
    if "combined_forecast" not in c:
        c["combined_forecast"] = np.nan
    largest = c.loc[g["_v"].idxmax(), [*keys, "reason", *_RECORD[:5]]]
    out = (
        g.agg(
            months=("period", lambda p: ", ".join(p.dt.strftime("%b %Y"))),
            n_months=("period", "size"),
            customer_forecast=("customer_forecast", "sum"),
            statistical_forecast=("statistical_forecast", "sum"),
            combined_forecast=("combined_forecast", "sum"),
            value_at_stake=("_v", "sum"),
        )
        .reset_index()
        .merge(largest, on=keys, how="left")
    )
    if materials is not None and len(materials):
        info = materials[["material_id", "lifecycle", "description"]].drop_duplicates("material_id")
        out = out.merge(info, on="material_id", how="left")
    else:
        out["lifecycle"], out["description"] = pd.NA, pd.NA
    out["context"] = out["lifecycle"].map(_LIFECYCLE_NOTE).astype("string")
    out = out[out["value_at_stake"] >= min_value]
    out = out.sort_values(["customer_id", "value_at_stake"], ascending=[True, False])
    out["rank"] = out.groupby("customer_id", observed=True).cumcount() + 1
    out = out[out["rank"] <= max_lines].reset_index(drop=True)[cols]
    flagged = challenges.groupby("customer_id", observed=True).size()
    shown = out.groupby("customer_id", observed=True)["n_months"].sum()
    out.attrs["hidden"] = (flagged.sub(shown, fill_value=0)).astype(int).to_dict()
    return out


def customer_better(challenges: pd.DataFrame) -> pd.DataFrame:
    """Flagged figures not challenged because the customer's own forecast has the better record.

    From :func:`challenge_list` (with a track record), the figures with verdict
    ``"customer_better"``, one row per customer × material: ``months`` flagged (count),
    the customer's and the statistical forecast summed over them, and the record of its
    nearest month (``record_lag``, ``record_months``, ``closer_customer``,
    ``closer_statistical``, ``mae_customer``, ``mae_statistical``, ``record_level``).
    Sorted by customer, then by the customer's lead in months closer. The findings and the
    page turn it into "the customer's forecast has been closer 10 of the last 12 months".

    >>> ch = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M1", "M2"],
    ...     "period": pd.period_range("2026-12", periods=3, freq="M"), "lag": [1, 2, 1],
    ...     "customer_forecast": [150.0, 160.0, 20.0], "statistical_forecast": 100.0,
    ...     "verdict": ["customer_better", "customer_better", "challenge"],
    ...     "record_level": "material", "record_lag": [1, 2, 1], "record_months": 12,
    ...     "closer_customer": [10, 9, 2], "closer_statistical": [2, 3, 10],
    ...     "mae_customer": 5.0, "mae_statistical": 9.0})
    >>> customer_better(ch)[["material_id", "months", "customer_forecast", "closer_customer"]
    ...     ].to_dict("records")
    [{'material_id': 'M1', 'months': 2, 'customer_forecast': 310.0, 'closer_customer': 10}]
    """
    cols = [
        "customer_id",
        "material_id",
        "months",
        "customer_forecast",
        "statistical_forecast",
        *_RECORD[:-1],
    ]
    if challenges is None or "verdict" not in challenges.columns:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    c = challenges[challenges["verdict"] == "customer_better"]
    if c.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    c = c.sort_values([*_SERIES, "lag", "period"])
    g = c.groupby(_SERIES, observed=True, sort=False)
    out = g.agg(
        months=("period", "size"),
        customer_forecast=("customer_forecast", "sum"),
        statistical_forecast=("statistical_forecast", "sum"),
    ).join(g[cols[5:]].first())
    out = out.reset_index()
    lead = out["closer_customer"] - out["closer_statistical"]
    out = out.assign(_lead=lead).sort_values(["customer_id", "_lead"], ascending=[True, False])
    return out[cols].reset_index(drop=True)
