"""Customer satisfaction: vendor rating trend, issues closed on time, visits and VOC vs plan.

Complaints are the ``complaints`` table as :func:`kamlab.service.quality` reads it (counts,
open complaints, PPM live there); this module adds only whether each one was closed within
the agreed time. Ratings come from the ``ratings`` table, meetings from ``visits``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from kamlab.exclusions import Exclusions
from kamlab.service._common import _excluded, _ratio, _require, _timestamp

__all__ = ["DEFAULT_VISIT_PLAN", "issues_closed_on_time", "vendor_rating_trend", "visits_vs_plan"]

#: meetings per customer per 12 months: visits, voice-of-customer meetings, account reviews
DEFAULT_VISIT_PLAN = {"visit": 12, "voc": 2, "review": 4}


def vendor_rating_trend(
    ratings: pd.DataFrame, *, month: pd.Period | str, months: int = 24
) -> pd.DataFrame:
    """The customer's vendor ratings of us over the `months` to `month`, on one scale.

    .. math::

        \\text{score\\_pct} = \\text{score} / \\text{scale\\_max}

    (a fraction, higher is better; customers rate on 0–100, 1–5 ... scales), ``change`` =
    score_pct − the previous rating's (fraction points), ``rank_change`` = previous rank −
    rank (positive = we moved up). Source: the customer's supplier (vendor) rating, e.g.
    VDA 6.1 / IATF 16949 §8.4 supplier performance monitoring, the KAM's "customer vendor
    rating" KPI (../shared/roles).

    Returns customer_id, period, score, scale_max, score_pct, change, rank, rank_change
    (and suppliers where given).
    """
    fn = "vendor_rating_trend"
    _require(ratings, ["customer_id", "period", "score", "scale_max", "rank"], table="ratings",
             function=fn)  # fmt: skip
    m = pd.Period(month, "M")
    inside = ((ratings["period"] <= m) & (ratings["period"] > m - months)).to_numpy(bool)
    r = ratings.loc[inside]
    r = r.sort_values(["customer_id", "period"]).reset_index(drop=True)
    r.attrs = {}
    r["score_pct"] = _ratio(r["score"], r["scale_max"])
    g = r.groupby("customer_id", observed=True)
    r["change"] = g["score_pct"].diff()
    rank = r["rank"].astype("float64")
    r["rank_change"] = rank.groupby(r["customer_id"]).shift() - rank
    cols = ["customer_id", "period", "score", "scale_max", "score_pct", "change", "rank",
            "rank_change"] + (["suppliers"] if "suppliers" in r.columns else [])  # fmt: skip
    out = r[cols]
    out.attrs["excluded"] = Exclusions(
        _excluded([("ratings", f"outside the {months} months to {m}", int((~inside).sum()), 0.0)])
    )
    return out


def issues_closed_on_time(
    complaints: pd.DataFrame,
    *,
    start: object,
    as_of: object,
    target_days: int = 30,
    by: Sequence[str] = ("customer_id",),
) -> pd.DataFrame:
    """Open issues closed within the target time, over complaints opened in [`start`, `as_of`].

    A complaint is *closed on time* if closed_date − opened_date ≤ `target_days`, *closed
    late* if closed later, and *overdue* if still open on `as_of` more than `target_days`
    after it was opened (open ones within the target are *open in time*).

    .. math::

        \\text{on\\_time\\_rate} = \\frac{n_\\text{closed on time}}
        {n_\\text{closed on time} + n_\\text{closed late} + n_\\text{overdue}}

    (a fraction; complaints still open within the target have no outcome yet and are left
    out of the rate, counted in ``open_in_time``). Source: the KAM's "closing of open issues
    as per target (QCDDM)" KPI (../shared/roles); the 8D reaction-time convention of
    automotive complaint handling (VDA, "8D problem solving", containment and closure
    targets).

    Returns *by*, opened, closed_on_time, closed_late, overdue, open_in_time,
    on_time_rate, target_days.
    """
    fn = "issues_closed_on_time"
    by = list(by)
    _require(complaints, [*by, "opened_date", "closed_date"], table="complaints", function=fn)
    lo = _timestamp(start, name="start", function=fn)
    hi = _timestamp(as_of, name="as_of", function=fn)
    inside = ((complaints["opened_date"] >= lo) & (complaints["opened_date"] <= hi)).to_numpy(bool)
    c = complaints.loc[inside]
    closed = (c["closed_date"].notna() & (c["closed_date"] <= hi)).to_numpy(bool)
    days = ((c["closed_date"] - c["opened_date"]) / pd.Timedelta(days=1)).to_numpy("float64")
    age = ((hi - c["opened_date"]) / pd.Timedelta(days=1)).to_numpy("float64")
    frame = c[by].assign(
        opened=1,
        closed_on_time=(closed & (days <= target_days)).astype("int64"),
        closed_late=(closed & (days > target_days)).astype("int64"),
        overdue=(~closed & (age > target_days)).astype("int64"),
        open_in_time=(~closed & (age <= target_days)).astype("int64"),
    )
    counts = ["opened", "closed_on_time", "closed_late", "overdue", "open_in_time"]
    out = frame.groupby(by, observed=True, as_index=False)[counts].sum()
    out["on_time_rate"] = _ratio(
        out["closed_on_time"], out["closed_on_time"] + out["closed_late"] + out["overdue"]
    )
    out["target_days"] = target_days
    out.attrs["excluded"] = Exclusions(
        _excluded([("complaints", "opened outside [start, as_of]", int((~inside).sum()), 0.0)])
    )
    return out


def visits_vs_plan(
    visits: pd.DataFrame,
    *,
    start: object,
    as_of: object,
    plan: Mapping[str, float] = DEFAULT_VISIT_PLAN,
    customers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Visits, VOC meetings and reviews held in [`start`, `as_of`] against the plan.

    ``held`` = meetings dated in the window whose status is ``held`` (or empty);
    ``missed`` = still ``planned`` with a date in the window already past; ``cancelled``
    likewise. ``plan`` = plan[type] per 12 months × (window days / 365.25), so a 6-month
    window expects half the yearly plan; ``vs_plan`` = held / plan (a fraction, 1 = on
    plan). Every customer in `customers` (default: those in `visits`) gets a row per type in
    `plan`, zeros included. ``next_planned`` = the first planned meeting after `as_of`.
    Source: the KAM's "customer visit" and "VOC meeting" KPIs (../shared/roles).

    Returns customer_id, type, held, missed, cancelled, plan, vs_plan, last_held,
    next_planned.
    """
    fn = "visits_vs_plan"
    _require(visits, ["customer_id", "visit_date", "type"], table="visits", function=fn)
    lo = _timestamp(start, name="start", function=fn)
    hi = _timestamp(as_of, name="as_of", function=fn)
    if hi < lo:
        raise ValueError(f"{fn}: as_of ({hi.date()}) is before start ({lo.date()})")
    status = (
        visits["status"].fillna("held")
        if "status" in visits.columns
        else pd.Series("held", index=visits.index)
    )
    when = visits["visit_date"]
    inside = ((when >= lo) & (when <= hi)).to_numpy(bool)
    frame = pd.DataFrame(
        {
            "customer_id": visits["customer_id"],
            "type": visits["type"],
            "held": (inside & status.eq("held").to_numpy(bool)).astype("int64"),
            "missed": (inside & status.eq("planned").to_numpy(bool)).astype("int64"),
            "cancelled": (inside & status.eq("cancelled").to_numpy(bool)).astype("int64"),
            "_held_date": when.where(status.eq("held") & (when <= hi)),
            "_next": when.where(status.eq("planned") & (when > hi)),
        }
    )
    g = frame.groupby(["customer_id", "type"], observed=True)
    agg = g[["held", "missed", "cancelled"]].sum()
    agg["last_held"] = g["_held_date"].max()
    agg["next_planned"] = g["_next"].min()
    ids = sorted(set(visits["customer_id"])) if customers is None else list(customers)
    grid = pd.MultiIndex.from_product([ids, list(plan)], names=["customer_id", "type"])
    out = agg.reindex(grid).reset_index()
    for c in ("held", "missed", "cancelled"):
        out[c] = out[c].fillna(0).astype("int64")
    years = ((hi - lo) / pd.Timedelta(days=1) + 1) / 365.25
    out["plan"] = out["type"].map(plan).astype("float64") * years
    out["vs_plan"] = _ratio(out["held"], out["plan"])
    out = out[["customer_id", "type", "held", "missed", "cancelled", "plan", "vs_plan",
               "last_held", "next_planned"]]  # fmt: skip
    unplanned = ~visits["type"].isin(list(plan)).to_numpy(bool)
    out.attrs["excluded"] = Exclusions(
        _excluded([("visits", "type not in the plan", int((inside & unplanned).sum()), 0.0)])
    )
    return out
