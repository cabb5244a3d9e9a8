"""Stock seen from one customer: its part of shared material stock and of the money at stake.

A material's stock serves every customer who buys it. A customer's part of it is its share of
the material's demand over the last `months` months; for a material without demand in that
window (deadstock, a finished phase-out) the share of all its past demand, so the stock is
still owned by the accounts that caused it. Consignment stock counts in the material's total
like any other. Money stays in the stock's currency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.inventory._series import bare

__all__ = [
    "MONEY_KINDS",
    "customer_phase_out",
    "customer_shares",
    "customer_stock",
    "money_at_stake",
]

#: the kinds of money at stake, one row each per customer and currency; they overlap (the
#: surplus of a phase-out is also overstock), so add them only knowingly
MONEY_KINDS = ("deadstock", "overstock", "phase-out at risk", "safety stock short")


def customer_shares(demand: pd.DataFrame, *, end: pd.Period, months: int) -> pd.DataFrame:
    """Each customer's share of each material's demand: over the `months` up to `end`, or
    over all months up to `end` for a material without demand in that window.

    .. math:: s_{c,m} = \\frac{\\sum_t y_{c,m,t}}{\\sum_{c'} \\sum_t y_{c',m,t}}

    Returns customer_id, material_id, share (> 0; a material's shares add up to 1), basis
    ("last N months" / "all history").
    """
    demand = bare(demand)
    past = demand.loc[demand["period"] <= end]
    window = past.loc[past["period"] > end - months]
    parts = []
    for frame, basis in ((window, f"last {months} months"), (past, "all history")):
        per = frame.groupby(["customer_id", "material_id"], observed=True, as_index=False)[
            "quantity"
        ].sum()
        per = per.loc[per["quantity"] > 0]
        total = per.groupby("material_id")["quantity"].transform("sum")
        parts.append(per.assign(share=per["quantity"] / total, basis=basis))
    recent, history = parts
    history = history.loc[~history["material_id"].isin(recent["material_id"])]
    out = pd.concat([recent, history], ignore_index=True)
    return out[["customer_id", "material_id", "share", "basis"]]


def customer_stock(
    health: pd.DataFrame, coverage: pd.DataFrame, shares: pd.DataFrame
) -> pd.DataFrame:
    """Stock health per customer and material × plant: status and coverage of the material,
    the customer's share of its stock value and of its excess value (deadstock, overstock).

    Returns customer_id, material_id, plant, share, status, coverage_statistical,
    coverage_customer, stock_value, excess_value, currency (values × share).
    """
    keys = ["material_id", "plant"]
    cover = bare(coverage)[[*keys, "coverage_statistical", "coverage_customer"]]
    rows = bare(health).merge(cover, on=keys, how="left")
    rows = bare(shares)[["customer_id", "material_id", "share"]].merge(rows, on="material_id")
    rows["stock_value"] = rows["stock_value"] * rows["share"]
    rows["excess_value"] = rows["excess_value"] * rows["share"]
    columns = ["customer_id", *keys, "share", "status", "coverage_statistical"]
    columns += ["coverage_customer", "stock_value", "excess_value", "currency"]
    return rows[columns].reset_index(drop=True)


def customer_phase_out(phase_out: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """The phase-out exposure of each material, per customer buying it: the customer's share
    of the deadstock at risk, with the material's proposal and note.

    Returns customer_id, then the columns of :func:`~kamlab.inventory.phase_out_exposure`,
    ``share`` and ``customer_at_risk`` (deadstock at risk × share).
    """
    rows = bare(shares)[["customer_id", "material_id", "share"]].merge(
        bare(phase_out), on="material_id"
    )
    rows["customer_at_risk"] = rows["deadstock_at_risk"] * rows["share"]
    return rows.sort_values(
        ["customer_id", "customer_at_risk"], ascending=[True, False]
    ).reset_index(drop=True)


def money_at_stake(
    stock: pd.DataFrame, phase_out: pd.DataFrame, safety_stock: pd.DataFrame, shares: pd.DataFrame
) -> pd.DataFrame:
    """Money at stake per customer, currency and kind (:data:`MONEY_KINDS`), at cost.

    - deadstock / overstock: the customer's share of the excess value (:func:`customer_stock`);
    - phase-out at risk: its share of the deadstock at risk (:func:`customer_phase_out`);
    - safety stock short: its share of the money at risk where SAP holds less safety stock
      than the service level needs.

    Returns customer_id, currency, amount, kind (rows with an amount > 0 only).
    """
    parts = []
    excess = bare(stock).loc[bare(stock)["status"].isin(["deadstock", "overstock"])]
    parts.append(
        excess.assign(kind=excess["status"].astype(str), amount=excess["excess_value"])[
            ["customer_id", "currency", "amount", "kind"]
        ]
    )
    pipo = bare(phase_out)
    parts.append(
        pipo.assign(kind="phase-out at risk", amount=pipo["customer_at_risk"])[
            ["customer_id", "currency", "amount", "kind"]
        ]
    )
    short = bare(shares).merge(bare(safety_stock), on="material_id")
    parts.append(
        short.assign(kind="safety stock short", amount=short["money_at_risk"] * short["share"])[
            ["customer_id", "currency", "amount", "kind"]
        ]
    )
    out = pd.concat(parts, ignore_index=True)
    out = out.loc[out["amount"].fillna(0.0) > 0]
    out = out.groupby(["customer_id", "currency", "kind"], observed=True, as_index=False)[
        "amount"
    ].sum()
    out["amount"] = np.round(out["amount"], 2)
    return out[["customer_id", "currency", "amount", "kind"]]
