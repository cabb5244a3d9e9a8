"""The CRM pipeline: weighted pipeline, pipeline forecast layer, win rate, RFQs, lost sales, NPI.

Works on the ``opportunities`` table (one row per RFQ, quote, NPI project or tender). What an
opportunity is on a date `as_of`: *open* if created on or before `as_of` and not decided by
then (no ``decided_date``, or one after `as_of`); *won* / *lost* if decided on or before it.
So every figure can be recomputed as it stood at any month end.

Values are annual revenue in the opportunity's currency and never added across currencies:
totals in one currency need a rates table (:func:`weighted_pipeline`). The pipeline forecast
is its own labelled layer (``layer = "pipeline"``), to be shown beside the statistical
forecast, never added into it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from kamlab.exclusions import Exclusions
from kamlab.receivables import in_reporting_currency
from kamlab.service._common import _excluded, _ratio, _require, _timestamp

__all__ = [
    "lost_sales",
    "npi_projects",
    "opportunity_status",
    "pipeline_at_risk",
    "pipeline_forecast",
    "rfq_activity",
    "weighted_pipeline",
    "win_rate",
]

_COLUMNS = ("opportunity_id", "customer_id", "type", "status", "created_date", "decided_date")


def opportunity_status(opportunities: pd.DataFrame, *, as_of: object) -> pd.DataFrame:
    """Each opportunity created on or before `as_of`, with its status as it stood then.

    ``status_as_of`` = ``open`` when decided_date is empty or after `as_of`, else the
    table's status (won / lost). An opportunity marked won or lost without a decided_date
    cannot be placed in time: it is left out and counted in ``attrs["excluded"]``, as are
    opportunities created after `as_of`.
    """
    out, excluded = _status(opportunities, as_of=as_of, function="opportunity_status")
    out.attrs["excluded"] = Exclusions(_excluded(excluded))
    return out


def _status(
    opportunities: pd.DataFrame, *, as_of: object, function: str
) -> tuple[pd.DataFrame, list[tuple[str, str, int, float]]]:
    """:func:`opportunity_status` without attrs (so frames built from it concatenate)."""
    _require(opportunities, _COLUMNS, table="opportunities", function=function)
    as_of = _timestamp(as_of, name="as_of", function=function)
    o = opportunities
    future = (o["created_date"] > as_of).to_numpy()
    undated = (o["status"].isin(["won", "lost"]) & o["decided_date"].isna()).to_numpy() & ~future
    keep = ~(future | undated)
    out = o.loc[keep].copy()
    decided = out["decided_date"].notna() & (out["decided_date"] <= as_of)
    out["status_as_of"] = pd.array(
        np.where(decided, out["status"].astype(object), "open"), dtype="str"
    )
    out = out.reset_index(drop=True)
    out.attrs = {}
    return out, [
        ("opportunities", "created after as_of", int(future.sum()), 0.0),
        ("opportunities", "won or lost without decided_date", int(undated.sum()), 0.0),
    ]


def _start_month(o: pd.DataFrame) -> pd.Series:
    """Expected start month: start of production, else expected award date."""
    when = o["sop_date"].fillna(o["expected_award_date"])
    return when.dt.to_period("M")


def weighted_pipeline(
    opportunities: pd.DataFrame,
    *,
    as_of: object,
    by: Sequence[str] = ("customer_id",),
    rates: Mapping[str, float] | pd.Series | None = None,
    reporting_currency: str | None = None,
) -> pd.DataFrame:
    """Open pipeline, unweighted and weighted by probability, per `by` × expected start month.

    .. math::

        \\text{weighted\\_value} = \\sum_{\\text{open}} \\text{annual\\_value} \\times
        \\text{probability}

    in the opportunities' currency per year of business (the usual "factored pipeline",
    e.g. Miller Heiman / CRM practice; probability a fraction 0-1). The month is that of the
    expected start of production (``sop_date``), else of the expected award date;
    opportunities with neither are counted in ``attrs["excluded"]``.

    Rows are per *by* × start_month × currency. With `reporting_currency` the amounts are
    converted with `rates` (units of the reporting currency per unit of each currency,
    :func:`kamlab.receivables.in_reporting_currency`) and added up; without `rates`, or
    without a rate for one of the currencies, that is refused with ``ValueError``.

    Returns *by*, start_month, currency, opportunities, value, weighted_value.

    >>> o = pd.DataFrame({"opportunity_id": ["O1", "O2"], "customer_id": "C1", "type": "rfq",
    ...     "status": "open", "created_date": pd.to_datetime(["2024-01-05"] * 2),
    ...     "decided_date": pd.NaT, "sop_date": pd.to_datetime(["2024-09-01"] * 2),
    ...     "expected_award_date": pd.NaT, "probability": [0.5, 0.2],
    ...     "annual_value": [1000.0, 500.0], "currency": ["EUR", "USD"]})
    >>> weighted_pipeline(o, as_of="2024-06-30")["weighted_value"].tolist()
    [500.0, 100.0]
    >>> weighted_pipeline(o, as_of="2024-06-30", reporting_currency="EUR")
    Traceback (most recent call last):
    ...
    ValueError: weighted_pipeline: adding EUR, USD into EUR needs rates; pass rates={currency: EUR per unit}
    """
    fn = "weighted_pipeline"
    by = list(by)
    _require(
        opportunities,
        [*_COLUMNS, *by, "probability", "annual_value", "currency", "sop_date",
         "expected_award_date"],
        table="opportunities",
        function=fn,
    )  # fmt: skip
    o, excluded = _status(opportunities, as_of=as_of, function=fn)
    o = o.loc[o["status_as_of"].eq("open").to_numpy(dtype=bool)]
    month = _start_month(o)
    undated = month.isna().to_numpy()
    o = o.loc[~undated].assign(start_month=month[~undated])
    p = o["probability"].to_numpy(dtype="float64")
    v = o["annual_value"].to_numpy(dtype="float64")
    frame = o[[*by, "start_month", "currency"]].assign(
        opportunities=1, value=v, weighted_value=v * p
    )
    keys = [*by, "start_month", "currency"]
    out = frame.groupby(keys, observed=True, as_index=False, sort=True).sum()
    if reporting_currency is not None:
        currencies = sorted(set(out["currency"]))
        if rates is None:
            raise ValueError(
                f"{fn}: adding {', '.join(currencies)} into {reporting_currency} needs rates; "
                f"pass rates={{currency: {reporting_currency} per unit}}"
            )
        counts = out.groupby([*by, "start_month"], observed=True, as_index=False)[
            "opportunities"
        ].sum()
        out = in_reporting_currency(
            out,
            rates,
            reporting_currency=reporting_currency,
            by=[*by, "start_month"],
            amounts=["value", "weighted_value"],
        ).merge(counts, on=[*by, "start_month"])
    out = out[[*keys, "opportunities", "value", "weighted_value"]]
    out.attrs["excluded"] = Exclusions(
        pd.concat(
            [
                pd.DataFrame(o.attrs.get("excluded", None)),
                _excluded(
                    [
                        (
                            "opportunities",
                            "open without sop_date or expected_award_date",
                            int(undated.sum()),
                            0.0,
                        )
                    ]  # fmt: skip
                ),
            ],
            ignore_index=True,
        )
    )
    return out


def pipeline_forecast(
    opportunities: pd.DataFrame,
    *,
    as_of: object,
    horizon: int = 12,
    by: Sequence[str] = ("customer_id", "material_id", "product_family"),
    ramp_months: int = 1,
) -> pd.DataFrame:
    """The pipeline as a monthly forecast layer: expected new business not yet in the history.

    For each open opportunity (weight = probability) and each won one whose start of
    production lies after `as_of` (weight 1), from its start month *s* (``sop_date``, else the
    expected award date) for the months after `as_of` up to `horizon`:

    .. math::

        \\text{quantity}_t = w \\cdot \\text{annual\\_volume} / 12 \\cdot r_t, \\quad
        \\text{value}_t = w \\cdot \\text{annual\\_value} / 12 \\cdot r_t, \\quad
        r_t = \\min\\left(1, \\frac{t - s + 1}{R}\\right) \\qquad (t \\ge s)

    with *R* = `ramp_months`: the default 1 is a flat run rate from start of production; a
    new product ramping up over *R* months reaches its run rate in month *s* + *R* − 1
    (volume NaN where the opportunity has none).
    Every row has ``layer = "pipeline"``: show it stacked on or beside the statistical
    forecast, never summed into it silently — the statistical forecast already contains the
    running business, the pipeline only what would be new. Per currency.

    Returns *by*, period, currency, quantity, value, opportunities, layer.
    """
    fn = "pipeline_forecast"
    by = list(by)
    if horizon < 1:
        raise ValueError(f"{fn}: horizon must be >= 1, got {horizon!r}")
    if ramp_months < 1:
        raise ValueError(f"{fn}: ramp_months must be >= 1, got {ramp_months!r}")
    _require(
        opportunities,
        [*_COLUMNS, *by, "probability", "annual_value", "annual_volume", "currency",
         "sop_date", "expected_award_date"],
        table="opportunities",
        function=fn,
    )  # fmt: skip
    as_of = _timestamp(as_of, name="as_of", function=fn)
    o, excluded = _status(opportunities, as_of=as_of, function=fn)
    start = _start_month(o)
    first = as_of.to_period("M") + 1
    open_ = o["status_as_of"].eq("open").to_numpy(dtype=bool)
    won_ahead = (o["status_as_of"].eq("won") & (start >= first)).to_numpy(dtype=bool)
    live = (open_ | won_ahead) & start.notna().to_numpy()
    o = o.loc[live]
    weight = np.where(won_ahead[live], 1.0, o["probability"].to_numpy(dtype="float64"))
    s = start[live].array.asi8  # month ordinals
    rows = []
    for period in pd.period_range(first, periods=horizon, freq="M"):
        on = s <= period.ordinal
        if not on.any():
            continue
        part = o.loc[on, [*by, "currency"]].copy()
        part["period"] = period
        rate = weight[on] * np.minimum(1.0, (period.ordinal - s[on] + 1) / ramp_months) / 12
        part["quantity"] = rate * o.loc[on, "annual_volume"].to_numpy(dtype="float64")
        part["value"] = rate * o.loc[on, "annual_value"].to_numpy(dtype="float64")
        part["opportunities"] = 1
        rows.append(part)
    cols = [*by, "period", "currency", "quantity", "value", "opportunities"]
    if not rows:
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    else:
        frame = pd.concat(rows, ignore_index=True)
        out = frame.groupby([*by, "period", "currency"], observed=True, dropna=False,
                            as_index=False, sort=True).agg(
            quantity=("quantity", lambda x: x.sum(min_count=1)),
            value=("value", "sum"),
            opportunities=("opportunities", "sum"),
        )  # fmt: skip
    out["layer"] = "pipeline"
    out = out[[*cols, "layer"]]
    out.attrs["excluded"] = Exclusions(_excluded(excluded))
    return out


def win_rate(
    opportunities: pd.DataFrame,
    *,
    start: object,
    end: object,
    by: Sequence[str] = ("type",),
) -> pd.DataFrame:
    """Win rate and cycle time of the opportunities decided in [`start`, `end`].

    .. math::

        \\text{win\\_rate} = \\frac{n_\\text{won}}{n_\\text{won} + n_\\text{lost}}, \\quad
        \\text{value\\_win\\_rate} = \\frac{\\sum_\\text{won} \\text{annual\\_value}}
        {\\sum_\\text{won + lost} \\text{annual\\_value}}

        \\text{cycle\\_days} = \\text{decided\\_date} - \\text{created\\_date}

    (fractions; cycle time in days, mean and median over the decided ones of the *by* group:
    a duration, so one figure over all currencies, repeated on each currency row of the
    group, never one per currency). Open opportunities
    have no outcome yet and are *excluded* from the win rate (counting them as lost would
    understate it): they are reported in ``open`` (still open on `end`) and not otherwise
    used. Source: the sales-funnel hit rate (CSO Insights / Miller Heiman "win rate of
    forecast deals", decided deals only). Value figures are per currency, so rows are per
    *by* × currency; `by` may hold type, stage (the stage the opportunity ended in),
    customer_id, product_family, competitor.

    Returns *by*, currency, won, lost, open, win_rate, value_won, value_lost,
    value_win_rate, cycle_days_mean, cycle_days_median.

    >>> o = pd.DataFrame({"opportunity_id": list("ABCD"), "customer_id": "C1",
    ...     "type": "rfq", "status": ["won", "lost", "lost", "open"], "currency": "EUR",
    ...     "created_date": pd.to_datetime(["2024-01-01"] * 4),
    ...     "decided_date": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-04-01", None]),
    ...     "annual_value": [300.0, 100.0, 200.0, 1000.0]})
    >>> r = win_rate(o, start="2024-01-01", end="2024-06-30").iloc[0]
    >>> print(r.won, r.lost, r.open, round(r.win_rate, 4), r.value_win_rate, r.cycle_days_median)
    1 2 1 0.3333 0.5 60.0
    """
    fn = "win_rate"
    by = list(by)
    _require(
        opportunities, [*_COLUMNS, *by, "annual_value", "currency"], table="opportunities",
        function=fn,
    )  # fmt: skip
    lo = _timestamp(start, name="start", function=fn)
    o, excluded = _status(opportunities, as_of=end, function=fn)
    decided = o["status_as_of"].isin(["won", "lost"]) & (o["decided_date"] >= lo)
    is_open = o["status_as_of"].eq("open")
    won = o["status_as_of"].eq("won") & decided
    lost = o["status_as_of"].eq("lost") & decided
    v = o["annual_value"].to_numpy(dtype="float64")
    cycle = ((o["decided_date"] - o["created_date"]) / pd.Timedelta(days=1)).where(decided)
    frame = o[[*by, "currency"]].assign(
        won=won.astype("int64"),
        lost=lost.astype("int64"),
        open=is_open.astype("int64"),
        value_won=np.where(won, v, 0.0),
        value_lost=np.where(lost, v, 0.0),
        _cycle=cycle,
    )
    frame = frame.loc[(decided | is_open).to_numpy(dtype=bool)]
    g = frame.groupby([*by, "currency"], observed=True, sort=True, dropna=False)
    out = g[["won", "lost", "open", "value_won", "value_lost"]].sum()
    out = out.reset_index()
    # cycle time is a duration: one figure per `by` group, whatever the currencies
    if by:
        cycle_by = frame.groupby(by, observed=True, sort=False, dropna=False)["_cycle"]
        days = pd.DataFrame(
            {"cycle_days_mean": cycle_by.mean(), "cycle_days_median": cycle_by.median()}
        ).reset_index()
        out = out.merge(days, on=by, how="left")
    else:
        out["cycle_days_mean"] = frame["_cycle"].mean()
        out["cycle_days_median"] = frame["_cycle"].median()
    out["win_rate"] = _ratio(out["won"], out["won"] + out["lost"])
    out["value_win_rate"] = _ratio(out["value_won"], out["value_won"] + out["value_lost"])
    out = out[[*by, "currency", "won", "lost", "open", "win_rate", "value_won", "value_lost",
               "value_win_rate", "cycle_days_mean", "cycle_days_median"]]  # fmt: skip
    excluded.append(
        ("opportunities", "open: no outcome yet (not in win rate)", int(is_open.sum()), 0.0)
    )
    out.attrs["excluded"] = Exclusions(_excluded(excluded))
    return out


def rfq_activity(
    opportunities: pd.DataFrame,
    *,
    start: object,
    end: object,
    by: Sequence[str] = ("customer_id",),
    targets: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """RFQs generated and orders won per month against target.

    Per *by* × month in [`start`, `end`]: ``rfqs`` = opportunities of type rfq or tender
    *created* in the month (new enquiries), ``opportunities`` = all types created,
    ``won`` = opportunities *won* in the month (orders finalised), ``lost`` likewise.
    `targets` (optional) has *by*, period, rfqs_target, won_target per month; then
    ``rfqs_vs_target`` = rfqs / rfqs_target and ``won_vs_target`` = won / won_target
    (fractions, NaN without a target). Every month of the window gets a row (zeros
    included). Source: the KAM's business-development KPIs, "No. of RFQs generated" and
    "No. of orders finalised (target vs actual)" (../shared/roles).

    Returns *by*, period, opportunities, rfqs, won, lost, rfqs_target, won_target,
    rfqs_vs_target, won_vs_target.
    """
    fn = "rfq_activity"
    by = list(by)
    _require(opportunities, [*_COLUMNS, *by], table="opportunities", function=fn)
    lo = _timestamp(start, name="start", function=fn).to_period("M")
    hi_day = _timestamp(end, name="end", function=fn)
    hi = hi_day.to_period("M")
    o = opportunities
    created = o["created_date"].dt.to_period("M")
    decided = o["decided_date"].dt.to_period("M")
    in_c = ((created >= lo) & (created <= hi)).fillna(False).to_numpy(dtype=bool)
    in_d = ((decided >= lo) & (decided <= hi) & (o["decided_date"] <= hi_day)).fillna(False)
    in_d = in_d.to_numpy(dtype=bool)
    rfq = o["type"].isin(["rfq", "tender"]).to_numpy()
    a = o.loc[in_c, by].assign(period=created[in_c], opportunities=1, rfqs=rfq[in_c].astype(int))
    b = o.loc[in_d, by].assign(
        period=decided[in_d],
        won=o.loc[in_d, "status"].eq("won").astype(int).to_numpy(),
        lost=o.loc[in_d, "status"].eq("lost").astype(int).to_numpy(),
    )
    frame = pd.concat([a, b], ignore_index=True)
    counts = ["opportunities", "rfqs", "won", "lost"]
    for c in counts:
        frame[c] = frame[c].fillna(0).astype("int64") if c in frame else 0
    groups = o[by].drop_duplicates()
    months = pd.DataFrame({"period": pd.period_range(lo, hi, freq="M")})
    grid = groups.merge(months, how="cross")
    agg = frame.groupby([*by, "period"], observed=True, as_index=False)[counts].sum()
    out = grid.merge(agg, on=[*by, "period"], how="left")
    out[counts] = out[counts].fillna(0).astype("int64")
    if targets is not None:
        _require(targets, [*by, "period", "rfqs_target", "won_target"], table="targets",
                 function=fn)  # fmt: skip
        out = out.merge(targets[[*by, "period", "rfqs_target", "won_target"]],
                        on=[*by, "period"], how="left")  # fmt: skip
    else:
        out["rfqs_target"] = np.nan
        out["won_target"] = np.nan
    out["rfqs_vs_target"] = _ratio(out["rfqs"], out["rfqs_target"])
    out["won_vs_target"] = _ratio(out["won"], out["won_target"])
    return out.sort_values([*by, "period"]).reset_index(drop=True)


def lost_sales(
    opportunities: pd.DataFrame,
    *,
    start: object,
    end: object,
    by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Opportunities lost in [`start`, `end`], with reason and competitor: the lost sales.

    Without `by`: one row per lost opportunity, biggest annual value first (customer_id,
    opportunity_id, type, material_id, product_family, stage, decided_date, annual_value,
    currency, loss_reason, competitor). With `by` (e.g. ``("loss_reason",)`` or
    ``("competitor",)``): per *by* × currency, ``lost`` (count) and ``annual_value`` (Σ, the
    yearly revenue lost, in the currency). Empty reasons and competitors read
    ``"(not recorded)"``. Source: "opportunity sale loss" / "loss in sales" of the KAM's
    KPIs (../shared/roles), lost-deal analysis by reason and competitor.
    """
    fn = "lost_sales"
    _require(
        opportunities,
        [*_COLUMNS, "annual_value", "currency", "loss_reason", "competitor"],
        table="opportunities",
        function=fn,
    )
    lo = _timestamp(start, name="start", function=fn)
    hi = _timestamp(end, name="end", function=fn)
    o = opportunities
    lost = o["status"].eq("lost") & (o["decided_date"] >= lo) & (o["decided_date"] <= hi)
    out = o.loc[lost.fillna(False).to_numpy(dtype=bool)].copy()
    for c in ("loss_reason", "competitor"):
        out[c] = out[c].fillna("(not recorded)")
    if by is None:
        cols = [c for c in ("customer_id", "opportunity_id", "type", "material_id",
                            "product_family", "stage", "decided_date", "annual_value",
                            "currency", "loss_reason", "competitor") if c in out.columns]  # fmt: skip
        return out.sort_values(["annual_value", "decided_date"], ascending=[False, True])[
            cols
        ].reset_index(drop=True)
    by = list(by)
    return (
        out.assign(lost=1)
        .groupby([*by, "currency"], observed=True, as_index=False, sort=True)[
            ["lost", "annual_value"]
        ]
        .sum()
        .sort_values("annual_value", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def npi_projects(
    opportunities: pd.DataFrame, *, as_of: object, stall_days: int = 90
) -> pd.DataFrame:
    """New-product (NPI) projects on `as_of`: stage, age in stage, slippage of start of production.

    Per NPI opportunity open on `as_of`, or won with a start of production (SOP) after
    `as_of` - 90 days (still ramping up):

    - ``age_in_stage_days`` = as_of − stage_date (days in the current stage);
    - ``slippage_days`` = sop_date − planned_sop_date (days the expected SOP moved from the
      baseline; positive = later);
    - ``days_to_sop`` = sop_date − as_of;
    - ``flag``: ``stalled`` (age in stage > `stall_days`), ``SOP passed`` (open while its SOP
      date has passed), ``slipping`` (slippage > 0), else empty.

    Source: NPI stage-gate tracking from prototype approval to SOP (the KAM's NPI duty,
    ../shared/roles; APQP phase tracking, AIAG APQP 2nd ed.). Sorted stalled and most-slipped
    first.
    """
    fn = "npi_projects"
    _require(
        opportunities,
        [*_COLUMNS, "stage", "stage_date", "sop_date", "planned_sop_date", "annual_value",
         "currency", "probability"],
        table="opportunities",
        function=fn,
    )  # fmt: skip
    as_of = _timestamp(as_of, name="as_of", function=fn)
    o, _ = _status(opportunities.loc[opportunities["type"].eq("npi")], as_of=as_of, function=fn)
    ramping = o["status_as_of"].eq("won") & (o["sop_date"] > as_of - pd.Timedelta(days=90))
    o = o.loc[(o["status_as_of"].eq("open") | ramping).to_numpy(dtype=bool)].copy()
    day = pd.Timedelta(days=1)
    o["age_in_stage_days"] = (as_of - o["stage_date"]) / day
    o["slippage_days"] = (o["sop_date"] - o["planned_sop_date"]) / day
    o["days_to_sop"] = (o["sop_date"] - as_of) / day
    is_open = o["status_as_of"].eq("open")
    o["flag"] = pd.array(
        np.select(
            [
                is_open & (o["age_in_stage_days"] > stall_days).fillna(False),
                is_open & (o["days_to_sop"] < 0).fillna(False),
                (o["slippage_days"] > 0).fillna(False),
            ],
            ["stalled", "SOP passed", "slipping"],
            "",
        ),
        dtype="str",
    )
    rank = o["flag"].map({"stalled": 0, "SOP passed": 1, "slipping": 2}).fillna(3)
    o = o.assign(_rank=rank).sort_values(["_rank", "slippage_days"], ascending=[True, False])
    cols = [c for c in ("customer_id", "opportunity_id", "material_id", "product_family",
                        "stage", "stage_date", "age_in_stage_days", "planned_sop_date",
                        "sop_date", "slippage_days", "days_to_sop", "status_as_of",
                        "probability", "annual_value", "currency", "flag") if c in o.columns]  # fmt: skip
    return o[cols].reset_index(drop=True)


def pipeline_at_risk(
    opportunities: pd.DataFrame, *, as_of: object, stall_days: int = 90
) -> pd.DataFrame:
    """Open opportunities at risk on `as_of`, with their weighted value: the money at stake.

    An open opportunity is at risk when its expected award date has passed without a
    decision (``award overdue``) or it has sat in its stage longer than `stall_days`
    (``stalled``). at_stake = annual_value × probability (per year, in its currency).

    Returns customer_id, opportunity_id, type, stage, reason, probability, annual_value,
    at_stake, currency; biggest first.
    """
    fn = "pipeline_at_risk"
    _require(
        opportunities,
        [*_COLUMNS, "stage", "stage_date", "expected_award_date", "probability",
         "annual_value", "currency"],
        table="opportunities",
        function=fn,
    )  # fmt: skip
    as_of = _timestamp(as_of, name="as_of", function=fn)
    o, _ = _status(opportunities, as_of=as_of, function=fn)
    o = o.loc[o["status_as_of"].eq("open").to_numpy(dtype=bool)].copy()
    overdue = (o["expected_award_date"] < as_of).fillna(False)
    stalled = ((as_of - o["stage_date"]) / pd.Timedelta(days=1) > stall_days).fillna(False)
    o["reason"] = pd.array(
        np.select([overdue & stalled, overdue, stalled],
                  ["award overdue, stalled", "award overdue", "stalled"], ""),
        dtype="str",
    )  # fmt: skip
    o = o.loc[(overdue | stalled).to_numpy(dtype=bool)]
    o["at_stake"] = o["annual_value"] * o["probability"]
    cols = ["customer_id", "opportunity_id", "type", "stage", "reason", "probability",
            "annual_value", "at_stake", "currency"]  # fmt: skip
    return o.sort_values("at_stake", ascending=False)[cols].reset_index(drop=True)
