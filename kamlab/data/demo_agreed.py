"""Demo agreed forecasts: what each key account manager agreed after the last account reviews.

Made *from* the demo's customers, orders and customer forecasts (like
:mod:`kamlab.data.demo_commercial`), with its own random stream ``default_rng([seed, 22])``,
so every other table is the same with or without it. The recipe is in
``data/demo_recipe.md`` ("Agreed forecasts").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["agreed_forecasts"]

_REVIEWS = 4  # account reviews (months) before `end` with agreed figures
_MATERIALS = 5  # figures agreed per customer and review: its biggest forecast materials
_LAGS = (1, 2, 3)  # target months agreed: the next three after the review month
_BASIS = ("customer", "kamlab", "own")
_BASIS_P = (0.35, 0.25, 0.40)


def agreed_forecasts(
    frames: dict[str, pd.DataFrame], *, end: pd.Period, seed: int = 0
) -> pd.DataFrame:
    """Agreed figures of the `_REVIEWS` reviews before `end` (table ``agreed_forecasts``).

    In each review (a weekday 10–16 days into the month) half of the forecasting customers
    agree the next three months of their 5 biggest forecast materials: the customer's
    figure (basis "customer", 35 %), a statistical stand-in — the mean of the last 6 months'
    orders (basis "kamlab", 25 %) — or the manager's own figure (40 %). Each manager has a
    hidden judgement: half know something (own = the customer's figure moved 60 % of the way
    to the real order), the others are optimistic (own = the customer's figure × 1.15–1.30).
    """
    rng = np.random.default_rng([seed, 22])
    customers, orders = frames["customers"], frames["orders"]
    forecasts = frames["customer_forecasts"]
    columns = [
        "customer_id",
        "material_id",
        "period",
        "quantity",
        "basis",
        "agreed_by",
        "agreed_on",
    ]
    if forecasts.empty or orders.empty:
        return pd.DataFrame({c: [] for c in columns})
    live = orders[orders["status"] != "cancelled"]
    demand = (
        live.assign(period=live["requested_date"].dt.to_period("M"))
        .groupby(["customer_id", "material_id", "period"], observed=True)["quantity"]
        .sum()
    )
    managers = sorted(customers["account_manager"].dropna().unique())
    helps = dict(zip(managers, rng.random(len(managers)) < 0.5, strict=True))
    optimism = dict(zip(managers, rng.uniform(1.15, 1.30, len(managers)), strict=True))
    manager_of = customers.set_index("customer_id")["account_manager"]
    rows = []
    for review in pd.period_range(end - _REVIEWS, end - 1, freq="M"):
        snaps = forecasts[forecasts["snapshot_date"].dt.to_period("M") == review]
        ids = sorted(snaps["customer_id"].unique())
        chosen = [c for c in ids if rng.random() < 0.5]
        for cid in chosen:
            mine = snaps[snaps["customer_id"] == cid]
            lag1 = mine[mine["period"] == review + 1]
            top = lag1.nlargest(_MATERIALS, "quantity")["material_id"].tolist()
            day = review.start_time + pd.Timedelta(days=int(rng.integers(9, 16)))
            day = day + pd.offsets.BDay(0)  # a weekday
            who = manager_of.get(cid)
            for mat in top:
                history = [demand.get((cid, mat, review - k), 0.0) for k in range(1, 7)]
                stat = float(np.mean(history))
                for lag in _LAGS:
                    target = review + lag
                    fig = mine[(mine["material_id"] == mat) & (mine["period"] == target)]
                    if fig.empty:
                        continue
                    theirs = float(fig["quantity"].iloc[0])
                    basis = _BASIS[rng.choice(len(_BASIS), p=_BASIS_P)]
                    if basis == "customer":
                        qty = theirs
                    elif basis == "kamlab":
                        qty = stat
                    elif helps.get(who, False):
                        real = float(demand.get((cid, mat, target), 0.0))
                        qty = theirs + 0.6 * (real - theirs)
                    else:
                        qty = theirs * optimism.get(who, 1.2)
                    rows.append((cid, mat, target, round(max(qty, 0.0)), basis, who, day))
    out = pd.DataFrame(rows, columns=columns)
    out["quantity"] = out["quantity"].astype("float64")
    return out
