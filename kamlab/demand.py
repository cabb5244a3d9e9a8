"""Monthly demand from order lines, the actuals every forecast is scored against.

Demand for a month = ordered quantity of the lines whose *requested* delivery date falls in
that month; cancelled lines are excluded and counted (../shared/DOMAIN.md, "Demand").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.exclusions import Exclusions

__all__ = ["ended_series", "fill_months", "monthly_demand"]


def monthly_demand(
    orders: pd.DataFrame,
    *,
    by: Sequence[str] = ("customer_id", "material_id"),
    date_column: str = "requested_date",
    start: pd.Period | str | None = None,
    end: pd.Period | str | None = None,
    fill: bool = True,
    ended_after: int = 12,
    lifecycle: pd.DataFrame | None = None,
    phaseout_ended_after: int = 3,
) -> pd.DataFrame:
    """Ordered quantity and net value per `by` keys and month (monthly ``Period``).

    Cancelled lines are left out; ``result.attrs["excluded"]`` is a frame (table, reason,
    rows, quantity) saying how many. With ``fill=True`` every series gets an explicit zero row
    for each month from its first demand (or `start`) up to `end` (default: the last month in
    the data), so a month without orders is a zero, not a gap.

    Net value is summed per currency: the result has a ``currency`` column when `by` does not
    already hold one, and a series whose lines span two currencies raises ``ValueError``.

    With ``fill=True`` a bool column ``ended`` marks the series that have ended, so their
    trailing zeros are not mistaken for live demand: no demand (quantity > 0) in the last
    `ended_after` months up to `end`, or — when `lifecycle` (material_id, lifecycle) is given
    and the series has a material — a "phase-out" material with no demand in the last
    `phaseout_ended_after` months. The flag is per series (the same on each of its rows).

    >>> orders = pd.DataFrame({
    ...     "customer_id": ["C1", "C1", "C1"], "material_id": ["M1", "M1", "M1"],
    ...     "requested_date": pd.to_datetime(["2024-01-10", "2024-03-02", "2024-03-20"]),
    ...     "quantity": [5.0, 2.0, 9.0], "net_value": [50.0, 20.0, 90.0],
    ...     "currency": ["EUR"] * 3, "status": ["delivered", "open", "cancelled"]})
    >>> monthly_demand(orders)[["period", "quantity"]].to_string(index=False)
    ' period  quantity\\n2024-01       5.0\\n2024-02       0.0\\n2024-03       2.0'
    """
    by = list(by)
    cancelled = orders["status"] == "cancelled"
    excluded = pd.DataFrame(
        {
            "table": ["orders"],
            "reason": ["cancelled order line"],
            "rows": [int(cancelled.sum())],
            "quantity": [float(orders.loc[cancelled, "quantity"].sum())],
        }
    )
    live = orders.loc[~cancelled]
    keys = by if "currency" in by else [*by, "currency"]
    mixed = live.groupby(by, observed=True)["currency"].nunique()
    if (mixed > 1).any():
        bad = mixed[mixed > 1].index[:5].tolist()
        raise ValueError(f"orders: series with lines in more than one currency, first: {bad}")
    out = (
        live.assign(period=live[date_column].dt.to_period("M"))
        .groupby([*keys, "period"], observed=True, as_index=False)[["quantity", "net_value"]]
        .sum()
    )
    if fill:
        out = fill_months(out, by=keys, start=start, end=end, values=("quantity", "net_value"))
        out["ended"] = ended_series(
            out,
            by=keys,
            end=end,
            after=ended_after,
            lifecycle=lifecycle,
            phaseout_after=phaseout_ended_after,
        )
    elif start is not None or end is not None:
        lo = pd.Period(start, "M") if start is not None else out["period"].min()
        hi = pd.Period(end, "M") if end is not None else out["period"].max()
        out = out[(out["period"] >= lo) & (out["period"] <= hi)].reset_index(drop=True)
    out.attrs["excluded"] = Exclusions(excluded)
    return out


def ended_series(
    demand: pd.DataFrame,
    *,
    by: Sequence[str],
    end: pd.Period | str | None = None,
    after: int = 12,
    lifecycle: pd.DataFrame | None = None,
    phaseout_after: int = 3,
) -> np.ndarray:
    """Per row of monthly `demand`: whether its series has ended (see :func:`monthly_demand`).

    A series has ended when its last month with demand (quantity > 0) is `after` or more
    months before `end` (default: the last month in `demand`), or never had demand; with
    `lifecycle`, a phase-out material's series when that gap is `phaseout_after` months.
    """
    by = list(by)
    if demand.empty:
        return np.zeros(0, dtype=bool)
    hi = pd.Period(end, "M") if end is not None else demand["period"].max()
    demanded = demand["period"].array.asi8.copy()
    demanded[~(demand["quantity"] > 0).to_numpy()] = -(10**9)  # "never": a huge gap
    last = pd.Series(demanded).groupby([demand[k].to_numpy() for k in by]).transform("max")
    gap = hi.ordinal - last.to_numpy()  # months since the last demand (huge if never)
    ended = gap >= after
    if lifecycle is not None and "material_id" in by:
        life = lifecycle.set_index("material_id")["lifecycle"].astype("str")
        life = life.str.replace("_", "-").str.lower()
        phaseout = demand["material_id"].map(life).eq("phase-out").to_numpy()
        ended |= phaseout & (gap >= phaseout_after)
    return ended


def fill_months(
    frame: pd.DataFrame,
    *,
    by: Sequence[str],
    period: str = "period",
    values: Sequence[str] = ("quantity",),
    start: pd.Period | str | None = None,
    end: pd.Period | str | None = None,
) -> pd.DataFrame:
    """Add explicit zero rows so each series runs monthly from its first row (or `start`) to `end`.

    `end` defaults to the last month of the whole frame (so a series that stopped ordering gets
    trailing zeros); rows outside [`start`, `end`] are dropped from the result.
    """
    by = list(by)
    if frame.empty:
        return frame.reset_index(drop=True)
    hi = pd.Period(end, "M") if end is not None else frame[period].max()
    lo_all = pd.Period(start, "M") if start is not None else None
    firsts = frame.groupby(by, observed=True, sort=True)[period].min()
    first_ord = np.array([p.ordinal for p in firsts], dtype="int64")
    if lo_all is not None:
        first_ord = np.maximum(first_ord, lo_all.ordinal)
    lengths = (hi.ordinal - first_ord + 1).clip(min=0)
    reps = np.repeat(np.arange(len(firsts)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ordinals = first_ord[reps] + offsets
    grid = firsts.index.to_frame(index=False).iloc[reps].reset_index(drop=True)
    grid[period] = pd.PeriodIndex.from_ordinals(ordinals, freq="M")
    if lo_all is not None:
        frame = frame[frame[period] >= lo_all]
    out = grid.merge(frame[frame[period] <= hi], on=[*by, period], how="left")
    for v in values:
        out[v] = out[v].fillna(0.0)
    return out.sort_values([*by, period], ignore_index=True)
