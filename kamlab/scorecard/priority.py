"""Which account to look at first: money at stake per customer and the priority it gives.

Money at stake comes from the month's findings (:mod:`kamlab.findings`, amounts counted
once: :func:`kamlab.at_stake.money_at_stake`), one part per kind, **per customer and
currency**. Amounts are never added across currencies: a customer's parts in several
currencies are converted with stated rates, or else compared as a share of the customer's
own revenue in that currency (a unit-free figure). Each kind counts with its weight
(``[scorecard] stake_weights``, shown in the index header and the glossary).

When nothing is at stake (no invoices, budget or customer forecasts in the data) the order
follows revenue × the worst status (red 1, amber 0.5, green 0.1): never the alphabet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from kamlab.currency import rate_factors

__all__ = ["STAKE_COLUMNS", "STATUS_FACTOR", "priority"]

STAKE_COLUMNS = ["customer_id", "currency", "amount", "kind"]

#: how much the worst status weighs revenue in the order when nothing is at stake
STATUS_FACTOR = {"red": 1.0, "amber": 0.5, "green": 0.1, "grey": 0.0}


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
    status: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Priority score of each of `customers` from the money-at-stake `parts`, highest first.

    `parts`: frames with columns customer_id, currency, amount, kind (e.g. :func:`kamlab.at_stake.money_at_stake`).
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
    Ties (above all: customers without anything at stake, score 0) are ordered by
    ``fallback`` = revenue × :data:`STATUS_FACTOR` of the customer's worst status
    (`status`: customer_id -> red/amber/green/grey; `revenue` converted like the stake, or
    as a share of the largest account in its currency), then by id.

    Returns customer_id, score, basis, stake (dict currency -> amount), parts (list of
    dicts kind, currency, amount, weighted, largest weighted first), overdue_actions,
    fallback, rank (1 = look first).
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
                    {
                        "kind": r.kind,
                        "currency": r.currency,
                        "amount": round(float(r.amount), 2),
                        "weighted": round(float(r.weighted), 2),
                    }
                    for r in by_part.itertuples(index=False)
                ],
                "overdue_actions": n_actions,
                "fallback": _fallback(cid, revenue, rates, status),
            }
        )
    out = pd.DataFrame(rows, columns=[*rows[0].keys()] if rows else ["customer_id", "score"])
    if out.empty:
        return out.assign(rank=pd.Series(dtype="int64"))
    out = out.sort_values(
        ["score", "fallback", "customer_id"], ascending=[False, False, True], ignore_index=True
    )
    out["rank"] = range(1, len(out) + 1)
    return out


def _fallback(
    cid: str,
    revenue: pd.DataFrame | None,
    rates: Mapping[str, float] | None,
    status: Mapping[str, str] | None,
) -> float:
    """Revenue × the status factor: the order among accounts with the same score."""
    if revenue is None or not len(revenue):
        return 0.0
    mine = revenue[revenue["customer_id"].astype("string") == cid]
    if not len(mine):
        return 0.0
    factor = STATUS_FACTOR.get((status or {}).get(cid, "grey"), 0.0)
    total = 0.0
    for r in mine.itertuples(index=False):
        amount = float(r.revenue) if r.revenue == r.revenue else 0.0
        if rates and r.currency in rates:
            amount *= float(rates[r.currency])
        else:  # no rate: the share of the largest account in that currency
            same = revenue.loc[revenue["currency"] == r.currency, "revenue"].max()
            amount = amount / same if same and same > 0 else 0.0
        total += amount
    return total * factor
