"""Which account to look at first: money at stake per customer and the priority it gives.

Money at stake is the sum, **per customer and currency**, of parts that each name what is
at risk in money: receivables long overdue, the revenue gap to plan, the value of the
customer's forecast worth challenging, the cost of service misses, and any other frames
with columns ``customer_id, currency, amount, kind`` (price leakage, lost sales, stock at
risk from other modules). Amounts are never added across currencies: a customer's parts
in several currencies are converted with stated rates, or else compared as a share of the
customer's own revenue in that currency (a unit-free figure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from kamlab.currency import rate_factors

__all__ = ["PART_WORDS", "STAKE_COLUMNS", "priority", "stake_frame"]

STAKE_COLUMNS = ["customer_id", "currency", "amount", "kind"]

#: how each kind of money at stake reads in a sentence
PART_WORDS = {
    "overdue": "receivables long overdue",
    "over_limit": "receivables above the credit limit",
    "expected_loss": "expected credit loss",
    "late_risk": "receivables likely paid late",
    "revenue_gap": "revenue gap to plan",
    "challenged_forecast": "forecast worth challenging",
    "service_cost": "air freight after service misses",
    "price leakage": "billing below the agreed prices",
    "lost sales": "deals lost in 12 months",
    "pipeline at risk": "pipeline at risk",
    "deadstock": "deadstock",
    "phase-out at risk": "phase-out stock at risk",
    "overstock": "overstock",
    "slow mover": "slow-moving stock",
}


def stake_frame(
    frame: pd.DataFrame, *, kind: str, amount: str, currency: str = "currency"
) -> pd.DataFrame:
    """`frame` as a money-at-stake part: customer_id, currency, amount (`amount` column), kind.

    Rows with a missing or non-positive amount are not at stake and are left out.
    """
    out = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype("string"),
            "currency": frame[currency].astype("string"),
            "amount": pd.to_numeric(frame[amount], errors="coerce").astype("float64"),
            "kind": kind,
        }
    )
    return out[out["amount"] > 0].reset_index(drop=True)


def priority(
    parts: Sequence[pd.DataFrame],
    *,
    customers: Sequence[str],
    revenue: pd.DataFrame | None = None,
    rates: Mapping[str, float] | None = None,
    reporting_currency: str = "EUR",
    overdue_actions: Mapping[str, int] | None = None,
    action_weight: float = 0.25,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Priority score of each of `customers` from the money-at-stake `parts`, highest first.

    `parts`: frames with columns customer_id, currency, amount, kind (see :func:`stake_frame`).
    Per customer and currency the parts are summed (``stake``, money in that currency).

    The score compares customers:

    * with `rates` (units of `reporting_currency` per unit of each currency) covering every
      currency: score = Σ stake × rate, in `reporting_currency` (``basis`` = that code);
    * otherwise, if every amount is in one currency: score = Σ stake in it;
    * otherwise: score = Σ over currencies of stake / the customer's revenue in that currency
      (`revenue`: customer_id, currency, revenue — e.g. the last 12 months), a share of the
      account's own business (``basis`` = "share of revenue").

    Each amount counts with the `weights` of its kind (default 1; e.g. 0.3 for revenue-type
    amounts, which put at risk the margin they carry rather than the revenue itself).
    The score is then multiplied by 1 + `action_weight` × the customer's number of overdue
    actions (`overdue_actions`): an agreed action past its due date raises the account.
    Customers without anything at stake get score 0 and sort last (by id).

    Returns customer_id, score, basis, stake (dict currency -> amount), parts (list of
    dicts kind, currency, amount, largest first), overdue_actions, rank (1 = look first).
    """
    known = pd.Series(list(customers), dtype="string")
    frames = [p[STAKE_COLUMNS] for p in parts if p is not None and len(p)]
    stake = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: pd.Series(dtype="string") for c in STAKE_COLUMNS})
    )
    stake = stake.assign(
        customer_id=stake["customer_id"].astype("string"),
        currency=stake["currency"].astype("string"),
        amount=pd.to_numeric(stake["amount"]).astype("float64"),
    )
    stake = stake[stake["amount"] > 0]
    stake = stake[stake["customer_id"].isin(known)]
    currencies = set(stake["currency"].dropna())
    if rates and currencies <= set(rates):
        basis = reporting_currency
        weight = pd.Series(rate_factors(stake["currency"], rates), index=stake.index)
    elif len(currencies) <= 1:
        basis = next(iter(currencies), reporting_currency)
        weight = pd.Series(1.0, index=stake.index)
    else:
        basis = "share of revenue"
        if revenue is None:
            raise ValueError(
                "priority: amounts in several currencies need `rates` or `revenue` to compare"
            )
        rev = revenue.assign(
            customer_id=revenue["customer_id"].astype("string"),
            currency=revenue["currency"].astype("string"),
        ).set_index(["customer_id", "currency"])["revenue"]
        own = pd.MultiIndex.from_frame(stake[["customer_id", "currency"]]).map(
            lambda k: rev.get(k, float("nan"))
        )
        weight = 1.0 / pd.Series(own, index=stake.index).where(lambda v: v > 0)
    kind_weight = stake["kind"].map(dict(weights or {})).astype("float64").fillna(1.0)
    stake = stake.assign(weighted=(stake["amount"] * weight * kind_weight).fillna(0.0))
    actions = pd.Series(dict(overdue_actions or {}), dtype="float64")
    rows = []
    for cid in known:
        mine = stake[stake["customer_id"] == cid]
        by_part = (
            mine.groupby(["kind", "currency"], as_index=False)[["amount", "weighted"]]
            .sum()
            .sort_values("weighted", ascending=False)
        )
        n_actions = int(actions.get(cid, 0))
        score = float(by_part["weighted"].sum()) * (1.0 + action_weight * n_actions)
        rows.append(
            {
                "customer_id": cid,
                "score": score,
                "basis": basis,
                "stake": mine.groupby("currency")["amount"].sum().round(2).to_dict(),
                "parts": [
                    {"kind": r.kind, "currency": r.currency, "amount": round(float(r.amount), 2)}
                    for r in by_part.itertuples(index=False)
                ],
                "overdue_actions": n_actions,
            }
        )
    out = pd.DataFrame(rows, columns=[*rows[0].keys()] if rows else ["customer_id", "score"])
    if out.empty:
        return out.assign(rank=pd.Series(dtype="int64"))
    out = out.sort_values(["score", "customer_id"], ascending=[False, True], ignore_index=True)
    out["rank"] = range(1, len(out) + 1)
    return out
