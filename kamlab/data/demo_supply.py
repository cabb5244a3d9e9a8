"""Demo supply tables: stock, material plans and capacity allocations, with planted problems.

:func:`supply_tables` derives the three optional supply tables of the data contract from the
demo's own orders, customer forecasts and materials, so stock and safety stocks fit the
simulated demand. It draws from its own random stream (``seed`` and a fixed salt), so adding
these tables leaves every other demo table as it was. Planted problems, one each, so every
demo shows them (``data/demo_recipe.md``): a phase-out material with stock and open supply far
beyond its remaining demand (the one customers still forecast most), a phase-out whose end of
life has passed with stock left, a deadstock line, a safety stock far above and one far below
need, and an over-allocated month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.data.validate import empty_frame

__all__ = ["supply_tables"]

_SALT = 0x5E11  # the supply tables' own random stream: other tables stay unchanged
_PLANTS = ("1000", "2000")
_PLANT_P = (0.7, 0.3)
_LEAD_TIMES = (14, 21, 30, 45, 60, 90)  # days, drawn per material
_Z95 = 1.6449  # the demo's SAP safety stocks were set for about 95 % cycle service
_DAYS_PER_MONTH = 365.25 / 12
_CAPACITY_MATERIALS = 8  # materials under allocation (the biggest by demand value)
_CAPACITY_MONTHS = 6


def _month_start(ordinal: np.ndarray) -> np.ndarray:
    return (np.asarray(ordinal, "int64").astype("datetime64[M]")).astype("datetime64[us]")


def _month_end(ordinal: np.ndarray) -> np.ndarray:
    return _month_start(np.asarray(ordinal, "int64") + 1) - np.timedelta64(1, "D")


def _typed(table: str, columns: dict[str, object]) -> pd.DataFrame:
    dtypes = empty_frame(table).dtypes.to_dict()
    return pd.DataFrame(columns).astype(dtypes)[list(dtypes)].reset_index(drop=True)


def supply_tables(frames: dict[str, pd.DataFrame], *, end: pd.Period, seed: int) -> dict:
    """``stock``, ``material_plan`` and ``capacity`` for the demo `frames` as of the end of `end`.

    Stock is dated the extract date (last day of `end`) and valued at the materials' standard
    cost in EUR. Safety stocks in SAP are about what 95 % cycle service would need, give or
    take, from the last 12 months' demand (a quarter of materials have none set).
    """
    rng = np.random.default_rng([seed, _SALT])
    as_of = end.end_time.normalize().as_unit("us")
    materials, orders = frames["materials"], frames["orders"]
    n = len(materials)
    ids = materials["material_id"].to_numpy(dtype=object)
    lifecycle = materials["lifecycle"].to_numpy(dtype=object)
    cost = materials["unit_cost"].to_numpy(dtype="float64")

    live = orders.loc[orders["status"] != "cancelled"]
    mat = pd.Index(materials["material_id"]).get_indexer(live["material_id"])
    month = live["requested_date"].dt.to_period("M").array.asi8
    back = end.ordinal - month  # 0 = the last month of history, negative = future
    qty = live["quantity"].to_numpy(dtype="float64")
    past12 = (back >= 0) & (back < 12)
    monthly = np.zeros((n, 12))
    np.add.at(monthly, (mat[past12], back[past12]), qty[past12])
    mu, sd = monthly.mean(axis=1), monthly.std(axis=1, ddof=1)
    ever = np.bincount(mat, minlength=n) > 0
    recent = np.bincount(mat[past12], minlength=n) > 0
    last = np.full(n, np.iinfo("int64").min)
    np.maximum.at(last, mat[back >= 0], month[back >= 0])
    first = np.full(n, np.iinfo("int64").max)
    np.minimum.at(first, mat, month)

    # customers' latest view of the next 6 months (what a phase-out is still forecast at)
    fc = frames["customer_forecasts"]
    latest = fc.loc[
        fc["snapshot_date"] == fc.groupby("customer_id")["snapshot_date"].transform("max")
    ]
    ahead = latest.loc[latest["period"].array.asi8 > end.ordinal]
    fc_qty = np.bincount(
        pd.Index(materials["material_id"]).get_indexer(ahead["material_id"]),
        ahead["quantity"].to_numpy(dtype="float64"),
        minlength=n,
    )

    plant = np.array(_PLANTS, dtype=object)[rng.choice(len(_PLANTS), n, p=_PLANT_P)]
    lead = rng.choice(_LEAD_TIMES, n)
    lead_sd = np.where(rng.random(n) < 0.2, np.round(lead * 0.2, 1), np.nan)
    need = _Z95 * np.nan_to_num(sd) * np.sqrt(lead / _DAYS_PER_MONTH)
    sap_ss = np.round(need * rng.lognormal(0.0, 0.35, n))
    sap_ss[rng.random(n) < 0.25] = np.nan
    reorder = np.where(
        rng.random(n) < 0.4, np.round(np.nan_to_num(sap_ss) + mu * lead / 30), np.nan
    )
    lot = np.where(
        rng.random(n) < 0.7, np.maximum(10.0, np.round(mu * rng.uniform(0.5, 2, n), -1)), np.nan
    )
    on_hand = np.round(np.nan_to_num(sap_ss, nan=need) + mu * rng.uniform(0.3, 2.0, n))
    in_transit = np.where(rng.random(n) < 0.15, np.round(mu * rng.uniform(0, 0.5, n)), np.nan)
    blocked = np.where(rng.random(n) < 0.05, np.round(mu * rng.uniform(0, 0.2, n)), np.nan)
    on_order = np.where(rng.random(n) < 0.4, np.nan_to_num(lot, nan=np.round(mu)), np.nan)

    # phase-out: end of life 1-8 months ahead; phase-in: start of production at the first order
    eol = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    out = np.flatnonzero(lifecycle == "phase-out")
    months_left = rng.integers(1, 9, len(out))
    eol[out] = _month_end(end.ordinal + months_left)
    sop = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    new = np.flatnonzero(lifecycle == "phase-in")
    start = np.where(first[new] < np.iinfo("int64").max, first[new], end.ordinal + 1)
    sop[new] = _month_start(start)
    successor = np.full(n, None, dtype=object)
    family = materials["product_family"].to_numpy(dtype=object)
    taken: set[int] = set()
    for j in rng.permutation(out):  # a successor in the same family, each used once
        candidates = [k for k in new if family[k] == family[j] and k not in taken]
        if candidates:
            successor[j] = ids[candidates[0]]
            plant[candidates[0]] = plant[j]  # the successor is made where its predecessor was
            taken.add(candidates[0])

    keep = ever.copy()
    keep[new] = True
    # planted: the phase-out customers still forecast most, with stock and supply far beyond
    if len(out):
        pipo = out[np.argmax(fc_qty[out] + mu[out])]
        on_hand[pipo] = np.round(max(fc_qty[pipo], mu[pipo] * 6, 100.0) * 1.5)
        on_order[pipo] = np.round(max(fc_qty[pipo], mu[pipo] * 6, 100.0))
        keep[pipo] = True
    # planted: a phase-out whose end of life has passed, stock left over
    gone = [k for k in out if len(out) > 1 and k != pipo]
    if gone:
        past = gone[int(np.argmin(last[gone]))]
        eol[past] = _month_end(np.array([end.ordinal - 2]))[0]
        on_hand[past] = np.round(max(mu[past] * 4, 50.0))
        on_order[past] = np.nan
        keep[past] = True
    # planted: a deadstock line (no demand for over a year, or never), a full pallet left
    active = np.flatnonzero(lifecycle == "active")
    stale = active[~recent[active]]
    if len(stale):
        dead = stale[int(np.argmax(cost[stale]))]
        on_hand[dead] = float(max(200, np.round(5000.0 / max(cost[dead], 0.01))))
        keep[dead] = True
    # planted: safety stock far above and far below need on the two biggest smooth materials
    value = mu * cost
    big = active[np.argsort(-value[active])]
    if len(big) >= 2:
        sap_ss[big[0]] = np.round(need[big[0]] * 5)
        sap_ss[big[1]] = np.round(need[big[1]] * 0.1)
        on_hand[big[0]] = np.round(sap_ss[big[0]] + mu[big[0]])

    rows = np.flatnonzero(keep)
    plan = _typed(
        "material_plan",
        {
            "material_id": ids[rows],
            "plant": plant[rows],
            "lead_time_days": lead[rows],
            "lead_time_sd_days": lead_sd[rows],
            "safety_stock": sap_ss[rows],
            "reorder_point": reorder[rows],
            "lot_size": lot[rows],
            "start_of_production": sop[rows],
            "end_of_life": eol[rows],
            "successor_material_id": successor[rows],
        },
    )
    stock = {
        "material_id": ids[rows],
        "plant": plant[rows],
        "snapshot_date": np.full(len(rows), as_of.to_datetime64()),
        "customer_id": np.full(len(rows), None, dtype=object),
        "on_hand": on_hand[rows],
        "in_transit": in_transit[rows],
        "blocked": blocked[rows],
        "on_order": on_order[rows],
        "unit_cost": cost[rows],
        "currency": np.full(len(rows), "EUR", dtype=object),
    }
    stock = pd.DataFrame(stock)
    # consignment stock held for the second customer (the biggest account) of its top material
    customers = frames["customers"]["customer_id"]
    if len(customers) > 1:
        theirs = live.loc[live["customer_id"] == customers.iloc[1]]
        if len(theirs):
            top = theirs.groupby("material_id")["quantity"].sum().idxmax()
            row = stock.loc[stock["material_id"] == top].head(1)
            row = row.assign(customer_id=customers.iloc[1], on_hand=round(mu[ids == top][0]))
            row = row.assign(in_transit=np.nan, blocked=np.nan, on_order=np.nan)
            stock = pd.concat([stock, row], ignore_index=True)
    return {
        "stock": _typed("stock", stock.to_dict("series")),
        "material_plan": plan,
        "capacity": _capacity(live, mat, back, materials, value, end=end, rng=rng),
    }


def _capacity(live, mat, back, materials, value, *, end: pd.Period, rng) -> pd.DataFrame:
    """Allocations of the biggest active materials for the next months, one month over-allocated."""
    active = np.flatnonzero(materials["lifecycle"].to_numpy(dtype=object) == "active")
    chosen = active[np.argsort(-value[active])][:_CAPACITY_MATERIALS]
    recent = live.loc[(back >= 0) & (back < 6) & np.isin(mat, chosen)]
    share = recent.groupby(["material_id", "customer_id"])["quantity"].sum() / 6.0
    if share.empty:
        return empty_frame("capacity")
    share = share.rename("monthly").reset_index()
    total = share.groupby("material_id")["monthly"].transform("sum")
    months = np.arange(1, _CAPACITY_MONTHS + 1)
    grid = share.loc[share.index.repeat(len(months))].reset_index(drop=True)
    grid["k"] = np.tile(months, len(share))
    grid["allocated_quantity"] = np.round(
        grid["monthly"] * 1.05 * rng.lognormal(0.0, 0.1, len(grid))
    )
    grid["capacity"] = np.round(np.repeat(total.to_numpy(), len(months)) * 1.12)
    booked = grid.groupby(["material_id", "k"])["allocated_quantity"].transform("sum")
    fit = np.minimum(1.0, 0.98 * grid["capacity"] / booked.clip(lower=1.0))
    grid["allocated_quantity"] = np.floor(grid["allocated_quantity"] * fit)
    # planted: month 2 of the biggest material: its biggest customer is promised 60 % more
    top = grid.loc[
        (grid["material_id"] == materials["material_id"].iloc[chosen[0]]) & (grid["k"] == 2)
    ]
    if len(top):
        i = top["monthly"].idxmax()
        grid.loc[i, "allocated_quantity"] = np.round(grid.loc[i, "allocated_quantity"] * 1.6)
        cap = grid.loc[top.index, "capacity"].iloc[0]
        if grid.loc[top.index, "allocated_quantity"].sum() <= cap:  # make sure it is over
            grid.loc[i, "allocated_quantity"] += (
                cap - grid.loc[top.index, "allocated_quantity"].sum() + 1
            )
    grid["period"] = [end + int(k) for k in grid["k"]]
    grid["product_family"] = None
    return _typed("capacity", grid.to_dict("series"))
