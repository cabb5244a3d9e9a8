"""Money at stake per customer: price leakage, lost sales and pipeline at risk, in one long frame.

The index page ranks customers by where a KAM's attention pays. This module only stacks the
amounts the commercial modules already define — it computes no KPI of its own — one row per
customer × currency × kind, never adding currencies or kinds together.
"""

from __future__ import annotations

import pandas as pd

from kamlab.service._common import _require

__all__ = ["KINDS", "money_at_stake"]

#: kinds of money at stake, in the order they are shown
KINDS = ("price leakage", "lost sales", "pipeline at risk")


def money_at_stake(
    *,
    price_summary: pd.DataFrame | None = None,
    lost: pd.DataFrame | None = None,
    at_risk: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer × currency × kind of money at stake (amount > 0 only).

    - ``price leakage`` = ``leakage`` of :func:`kamlab.pricing.price_realisation_summary`
      (revenue billed below the agreed prices over its window);
    - ``lost sales`` = Σ annual_value of :func:`kamlab.opportunities.lost_sales` (per year);
    - ``pipeline at risk`` = Σ at_stake of :func:`kamlab.opportunities.pipeline_at_risk`
      (weighted annual value of open opportunities overdue or stalled).

    The kinds differ in nature (a realised loss over a window, a yearly value) and are kept
    apart; a priority rule that wants one number must convert currencies and weigh kinds
    explicitly. Returns customer_id, currency, kind, amount.

    >>> s = pd.DataFrame({"customer_id": ["C1"], "currency": ["EUR"], "leakage": [120.0]})
    >>> money_at_stake(price_summary=s).to_dict("records")
    [{'customer_id': 'C1', 'currency': 'EUR', 'kind': 'price leakage', 'amount': 120.0}]
    """
    parts = []
    for kind, frame, column in (
        ("price leakage", price_summary, "leakage"),
        ("lost sales", lost, "annual_value"),
        ("pipeline at risk", at_risk, "at_stake"),
    ):
        if frame is None or len(frame) == 0:
            continue
        _require(frame, ["customer_id", "currency", column], table=kind, function="money_at_stake")
        g = frame.groupby(["customer_id", "currency"], observed=True, as_index=False)[column].sum()
        parts.append(g.rename(columns={column: "amount"}).assign(kind=kind))
    if not parts:
        return pd.DataFrame(
            {
                "customer_id": pd.Series(dtype="str"),
                "currency": pd.Series(dtype="str"),
                "kind": pd.Series(dtype="str"),
                "amount": pd.Series(dtype="float64"),
            }
        )
    out = pd.concat(parts, ignore_index=True)
    out = out.loc[out["amount"] > 0, ["customer_id", "currency", "kind", "amount"]]
    out["kind"] = pd.Categorical(out["kind"], categories=KINDS)
    out = out.sort_values(["customer_id", "kind", "currency"]).reset_index(drop=True)
    out["kind"] = out["kind"].astype("str")
    for c in ("customer_id", "currency"):
        out[c] = out[c].astype("str")
    return out
