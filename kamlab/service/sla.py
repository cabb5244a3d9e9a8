"""SLA adherence: each customer's service KPI against the target in its customer master."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.service._common import _require

__all__ = ["sla_adherence"]


def sla_adherence(
    otif_by_customer: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    kpi: str = "otif",
    target: str = "otif_target",
) -> pd.DataFrame:
    """Each customer's `kpi` (default OTIF, fraction) against its SLA `target`, gap and status.

    .. math::

        \\text{gap} = \\text{kpi} - \\text{target}, \\qquad
        \\text{status} = \\begin{cases} \\text{met} & \\text{kpi} \\ge \\text{target} \\\\
        \\text{missed} & \\text{kpi} < \\text{target} \\end{cases}

    The gap is in fraction points (positive = better than agreed); a value exactly at the
    target meets it. Customers of `customers` absent from `otif_by_customer`, or with a NaN
    KPI, get status ``"no lines due"``; a missing target gives ``"no target"`` (gap NaN).
    Every customer of `customers` appears once. Source: the service level agreement's own
    target (customers.otif_target, ../shared/DOMAIN.md); OTIF from :func:`kamlab.service.otif`.

    Returns customer_id, *kpi*, *target*, gap, status, plus ``date_basis`` and ``lines_due``
    when `otif_by_customer` has them.

    >>> kpi = pd.DataFrame({"customer_id": ["C1", "C2"], "otif": [0.95, 0.90]})
    >>> cust = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "otif_target": [0.95, 0.95, 0.9]})
    >>> sla_adherence(kpi, cust)[["customer_id", "status"]].to_string(index=False)
    'customer_id       status\\n         C1          met\\n         C2       missed\\n         C3 no lines due'
    """
    _require(
        otif_by_customer, ["customer_id", kpi], table="otif_by_customer", function="sla_adherence"
    )
    _require(customers, ["customer_id", target], table="customers", function="sla_adherence")
    if otif_by_customer["customer_id"].duplicated().any():
        raise ValueError(
            "sla_adherence: otif_by_customer must have one row per customer_id "
            "(aggregate with otif(lines, by=('customer_id',)))"
        )
    extra = [c for c in ("date_basis", "lines_due") if c in otif_by_customer.columns]
    out = customers[["customer_id", target]].merge(
        otif_by_customer[["customer_id", kpi, *extra]], on="customer_id", how="left"
    )
    value = out[kpi].astype("float64")
    goal = out[target].astype("float64")
    out["gap"] = value - goal
    out["status"] = pd.array(
        np.select(
            [value.isna(), goal.isna(), value >= goal - 1e-12],
            ["no lines due", "no target", "met"],
            "missed",
        ),
        dtype="string",
    )
    if "lines_due" in out.columns:
        out["lines_due"] = out["lines_due"].fillna(0).astype("int64")
    return out[["customer_id", kpi, target, "gap", "status", *extra]]
