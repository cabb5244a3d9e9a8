"""Sales against plan and last year: variance, year to date, full-year outlook, price/volume/mix.

Actual revenue and quantity are *demand* as kamlab defines it once
(:func:`kamlab.demand.monthly_demand`): net value and quantity of the non-cancelled order lines
by requested month, per currency — the order book, not invoiced sales.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.demand import monthly_demand
from kamlab.exclusions import Exclusions
from kamlab.service._common import _complete, _excluded, _ratio, _require

__all__ = ["plan_vs_actual", "price_volume_mix"]

_MEASURES = {
    "revenue": ("net_value", "planned_revenue"),
    "quantity": ("quantity", "planned_quantity"),
}
_WINDOWS = ("month", "ytd", "rolling12")


def _check_by(by: Sequence[str], function: str) -> list[str]:
    by = list(by)
    if not by or set(by) - {"customer_id", "product_family"} or len(set(by)) != len(by):
        raise ValueError(
            f"{function}: by must be ('customer_id',), ('customer_id', 'product_family') or "
            f"('product_family',); got {tuple(by)}"
        )
    return by


def _between(orders: pd.DataFrame, first: pd.Period, last: pd.Period) -> pd.DataFrame:
    """Order lines requested in months `first`..`last` (the rest plays no part in the result)."""
    when = orders["requested_date"]
    return orders.loc[(when >= first.start_time) & (when < (last + 1).start_time)]


def _with_family(
    orders: pd.DataFrame, materials: pd.DataFrame | None, by: list[str], function: str
) -> tuple[pd.DataFrame, list[tuple[str, str, int, float]]]:
    """Orders with their materials' product_family when `by` needs it; unknown ones counted."""
    if "product_family" not in by:
        return orders, []
    if materials is None:
        raise ValueError(f"{function}: by={tuple(by)} needs the materials table")
    _require(materials, ["material_id", "product_family"], table="materials", function=function)
    o = orders.merge(materials[["material_id", "product_family"]], on="material_id", how="left")
    unknown = o["product_family"].isna().to_numpy()
    rows = [("orders", "material without product_family", int(unknown.sum()),
             float(o.loc[unknown, "quantity"].sum()))]  # fmt: skip
    return o.loc[~unknown], rows


def plan_vs_actual(
    orders: pd.DataFrame,
    budget: pd.DataFrame,
    materials: pd.DataFrame | None = None,
    *,
    month: pd.Period | str,
    by: Sequence[str] = ("customer_id",),
    include: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Revenue and quantity against budget for `month`, year to date and the full year.

    For reporting month *m* of year *Y* (months 1..k of *Y* elapsed, k = month number), per
    group, currency and measure (revenue, quantity), with actual *A* and plan *P*:

    .. math::

        \\text{variance} = A_m - P_m, \\quad
        \\text{variance\\_pct} = (A_m - P_m) / P_m, \\quad
        \\text{ytd\\_actual} = \\sum_{i \\le k} A_i, \\\\
        \\text{fy\\_outlook} = \\sum_{i \\le k} A_i + \\sum_{i > k} P_i, \\qquad
        \\text{fy\\_run\\_rate} = \\frac{12}{k} \\sum_{i \\le k} A_i

    ``fy_outlook`` (year to date plus the plan of the remaining months) is the headline
    full-year estimate: it keeps the budget's seasonality. ``fy_run_rate`` (straight-line
    extrapolation of the year to date) is shown beside it as the plan-free check. Last-year
    figures (``month_last_year``, ``ytd_last_year``) are the same months of *Y* − 1 and
    ``ytd_growth`` = ytd_actual / ytd_last_year − 1. Percentages are fractions. Source:
    standard budget variance reporting (actual − budget, favourable when positive for
    revenue), e.g. Horngren, Datar & Rajan, *Cost Accounting: A Managerial Emphasis*, ch. 7.

    Budget rows: at customer level a customer-total row (empty product_family) is used when
    the customer has one for that month and currency, else the sum of its family rows; at
    family level only family rows count and customer-total rows are counted in
    ``attrs["excluded"]``. `budget` is one version: a table holding several approved versions
    (``version_date``) is refused; :func:`kamlab.budget.budget_in_force` picks the one in
    force. A group without any budget row in *Y* gets NaN plan figures and
    reason ``"no budget in Y"``; budget months without a row count as zero plan. Division by a
    zero plan or last year gives NaN with a reason.

    Parameters
    ----------
    orders, budget, materials
        Contract tables; `materials` is needed only for ``product_family`` in `by`.
    month
        Reporting month (``Period`` or "YYYY-MM").
    by
        ``("customer_id",)``, ``("customer_id", "product_family")`` or ``("product_family",)``.
    include
        Optional frame of `by` combinations that must appear (e.g. all customers); one without
        orders or budget gets a revenue and a quantity row of zeros/NaN and a reason.

    Returns
    -------
    One row per group × currency × measure: *by*, currency, measure, month, month_actual,
    month_plan, month_variance, month_variance_pct, month_last_year, ytd_actual, ytd_plan,
    ytd_variance, ytd_variance_pct, ytd_last_year, ytd_growth, fy_plan, fy_outlook,
    fy_run_rate, reason. ``attrs["excluded"]``: rows left out and why.

    Examples
    --------
    March 2024; plan 100 a month; actual Jan 90, Feb 120, Mar 80; March 2023 was 70:

    >>> orders = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "requested_date": pd.to_datetime(["2023-03-05", "2024-01-10", "2024-02-10",
    ...                                       "2024-03-10"]),
    ...     "quantity": 1.0, "net_value": [70.0, 90.0, 120.0, 80.0], "currency": "EUR",
    ...     "status": "delivered"})
    >>> budget = pd.DataFrame({"customer_id": "C1",
    ...     "period": pd.period_range("2024-01", periods=12, freq="M"), "product_family": None,
    ...     "planned_quantity": 1.0, "planned_revenue": 100.0, "currency": "EUR"})
    >>> r = plan_vs_actual(orders, budget, month="2024-03").iloc[0]
    >>> print(r.measure, float(r.month_variance_pct), float(r.ytd_variance), float(r.fy_outlook),
    ...       float(r.fy_run_rate), float(r.month_last_year))
    revenue -0.2 -10.0 1190.0 1160.0 70.0
    """
    fn = "plan_vs_actual"
    by = _check_by(by, fn)
    _require(
        orders,
        ["customer_id", "material_id", "requested_date", "quantity", "net_value", "currency",
         "status"],
        table="orders", function=fn,
    )  # fmt: skip
    _require(
        budget,
        ["customer_id", "period", "product_family", "planned_quantity", "planned_revenue",
         "currency"],
        table="budget", function=fn,
    )  # fmt: skip
    if "version_date" in budget.columns and len(budget):
        versions = budget.groupby(
            [budget["customer_id"], pd.PeriodIndex(budget["period"]).year], observed=True
        )["version_date"].nunique(dropna=False)
        if (versions > 1).any():
            customer = versions[versions > 1].index[0][0]
            raise ValueError(
                f"{fn}: budget holds several versions (version_date) for customer {customer}; "
                "pass the one in force: kamlab.budget.budget_in_force(budget, as_of=...)"
            )
    m = pd.Period(month, "M")
    year_start = pd.Period(f"{m.year}-01", "M")
    keys = [*by, "currency"]
    o, excluded = _with_family(
        _between(orders, year_start - 12, year_start + 11), materials, by, fn
    )
    actual = monthly_demand(o, by=keys, fill=False)
    ex = actual.attrs["excluded"].iloc[0]
    excluded.insert(0, (ex["table"], ex["reason"], int(ex["rows"]), float(ex["quantity"])))

    b = budget[(budget["period"] >= year_start) & (budget["period"] <= year_start + 11)]
    total_row = b["product_family"].isna()
    if "product_family" in by:
        excluded.append(("budget", "customer-total row at product-family level",
                         int(total_row.sum()), float(b.loc[total_row, "planned_quantity"].sum())))  # fmt: skip
        b = b.loc[~total_row]
    else:
        has_total = total_row.groupby(
            [b["customer_id"], b["period"], b["currency"]], observed=True
        ).transform("any")
        superseded = (has_total & ~total_row).to_numpy()
        excluded.append(("budget", "family rows where a customer-total row exists",
                         int(superseded.sum()), float(b.loc[superseded, "planned_quantity"].sum())))  # fmt: skip
        b = b.loc[~superseded]
    plan = b.groupby([*keys, "period"], observed=True, as_index=False)[
        ["planned_quantity", "planned_revenue"]
    ].sum()
    # stacked, not merged: every figure below is a sum per group (and merging two empty
    # frames with arrow-backed string keys fails in pandas 3.1)
    data = pd.concat([actual, plan], ignore_index=True)
    offset = pd.PeriodIndex(data["period"]).asi8 - year_start.ordinal  # 0 = January of Y
    k = m.month - 1
    masks = {
        "month": offset == k,
        "month_ly": offset == k - 12,
        "ytd": (offset >= 0) & (offset <= k),
        "ytd_ly": (offset >= -12) & (offset <= k - 12),
        "fy": offset >= 0,
        "rest": offset > k,
    }
    group = [data[c] for c in keys]

    def total(column: str, mask: str) -> pd.Series:
        values = data[column].astype("float64").fillna(0.0).where(masks[mask], 0.0)
        return values.groupby(group, observed=True, sort=True, dropna=False).sum()

    has_budget = (
        data["planned_revenue"].notna().groupby(group, observed=True, sort=True, dropna=False).any()
    )
    nan_without_budget = pd.Series(np.where(has_budget, 1.0, np.nan), index=has_budget.index)
    parts = []
    for measure, (actual_col, plan_col) in _MEASURES.items():
        part = pd.DataFrame(
            {
                "month_actual": total(actual_col, "month"),
                "month_plan": total(plan_col, "month") * nan_without_budget,
                "month_last_year": total(actual_col, "month_ly"),
                "ytd_actual": total(actual_col, "ytd"),
                "ytd_plan": total(plan_col, "ytd") * nan_without_budget,
                "ytd_last_year": total(actual_col, "ytd_ly"),
                "fy_plan": total(plan_col, "fy") * nan_without_budget,
                "_rest_plan": total(plan_col, "rest") * nan_without_budget,
            }
        )
        part.insert(0, "measure", measure)
        parts.append(part.reset_index())
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if include is not None:
        wanted = include[by].drop_duplicates()
        missing = wanted.merge(out[by].drop_duplicates(), on=by, how="left", indicator=True)
        missing = missing.loc[missing["_merge"] == "left_only", by]
        filler = missing.merge(pd.DataFrame({"measure": list(_MEASURES)}), how="cross")
        out = pd.concat([out, filler], ignore_index=True)
        for col in ("month_actual", "month_last_year", "ytd_actual", "ytd_last_year"):
            out[col] = out[col].fillna(0.0)
    out["month"] = m
    out["month_variance"] = out["month_actual"] - out["month_plan"]
    out["month_variance_pct"] = _ratio(out["month_variance"], out["month_plan"])
    out["ytd_variance"] = out["ytd_actual"] - out["ytd_plan"]
    out["ytd_variance_pct"] = _ratio(out["ytd_variance"], out["ytd_plan"])
    out["ytd_growth"] = _ratio(out["ytd_actual"], out["ytd_last_year"]) - 1.0
    out["fy_outlook"] = out["ytd_actual"] + out["_rest_plan"]
    out["fy_run_rate"] = out["ytd_actual"] * 12.0 / (k + 1)
    out["reason"] = pd.array(
        np.select(
            [
                out["currency"].isna(),
                out["fy_plan"].isna(),
                out["month_plan"] == 0,
                out["ytd_last_year"] == 0,
            ],
            [
                "no orders and no budget",
                f"no budget in {m.year}",
                "zero plan for the month",
                "no orders last year to date",
            ],
            None,
        ),
        dtype="string",
    )
    columns = [
        *keys, "measure", "month", "month_actual", "month_plan", "month_variance",
        "month_variance_pct", "month_last_year", "ytd_actual", "ytd_plan", "ytd_variance",
        "ytd_variance_pct", "ytd_last_year", "ytd_growth", "fy_plan", "fy_outlook",
        "fy_run_rate", "reason",
    ]  # fmt: skip
    out = out[columns].sort_values(keys, kind="stable", ignore_index=True)  # revenue first
    out.attrs["excluded"] = Exclusions(_excluded(excluded))
    return out


def price_volume_mix(
    orders: pd.DataFrame,
    materials: pd.DataFrame | None = None,
    *,
    month: pd.Period | str,
    window: str = "ytd",
    by: Sequence[str] = ("customer_id",),
    item: str = "material_id",
    include: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Revenue change against last year split into volume, mix, price, new and lost effects.

    The current window (``"month"``: *m*; ``"ytd"``: January..*m*; ``"rolling12"``: the 12
    months to *m*) is compared with the same months a year earlier. Per `item` *i* (material)
    quantity *q* and revenue *v*, base 0 and current 1, unit price *p* = v/q. Items sold in
    both windows (*C*) carry the classic decomposition, with
    :math:`Q = \\sum_C q_i` and :math:`\\bar P_0 = \\sum_C v_{0i} / Q_0`:

    .. math::

        \\text{volume} = (Q_1 - Q_0)\\bar P_0, \\quad
        \\text{mix} = \\sum_C q_{1i} p_{0i} - Q_1 \\bar P_0, \\quad
        \\text{price} = \\sum_C q_{1i}(p_{1i} - p_{0i}) \\\\
        \\text{new} = \\sum_{q_0 = 0 < q_1} v_{1i}, \\quad
        \\text{lost} = -\\sum_{q_1 = 0 < q_0} v_{0i}

    and volume + mix + price + new + lost = V₁ − V₀ exactly (the sums telescope). Revenue on
    lines without quantity in both windows (pure value adjustments) is added to the price
    effect. ``price_realisation`` = Σ_C v₁ / Σ_C q₁p₀ − 1, the like-for-like price change on
    continuing items at today's volumes (a Paasche price index − 1); ``average_price_*`` = V/Q
    over all items (mixes units; shown because KAMs ask for it). Quantities are added across
    items, so the volume effect is meaningful for items in comparable units.

    Source: sales price, sales-mix and sales-quantity variances of Horngren, Datar & Rajan,
    *Cost Accounting: A Managerial Emphasis* (ch. "Sales-mix and sales-quantity variances"),
    with last year in place of the budget; new/lost items split out as usual in
    price-volume-mix bridges. Actuals = demand (:func:`kamlab.demand.monthly_demand`), per
    currency.

    Returns one row per group × currency: *by*, currency, window_current, window_base,
    revenue_base, revenue_current, revenue_change, volume_effect, mix_effect, price_effect,
    new_effect, lost_effect, quantity_base, quantity_current, average_price_base,
    average_price_current, price_realisation, items_continuing, items_new, items_lost, reason.

    Examples
    --------
    Base: M1 10 × 10, M2 10 × 20, M3 5 × 4. Current: M1 15 × 11, M2 5 × 20, M4 2 × 30:

    >>> rows = [("2023-01-05", "M1", 10, 100), ("2023-01-05", "M2", 10, 200),
    ...         ("2023-01-05", "M3", 5, 20), ("2024-01-05", "M1", 15, 165),
    ...         ("2024-01-05", "M2", 5, 100), ("2024-01-05", "M4", 2, 60)]
    >>> orders = pd.DataFrame(rows, columns=["requested_date", "material_id", "quantity",
    ...     "net_value"]).assign(requested_date=lambda f: pd.to_datetime(f.requested_date),
    ...     customer_id="C1", currency="EUR", status="delivered")
    >>> r = price_volume_mix(orders, month="2024-01", window="month").iloc[0]
    >>> print([float(r[c]) for c in ("revenue_change", "volume_effect", "mix_effect",
    ...        "price_effect", "new_effect", "lost_effect")])
    [5.0, 0.0, -50.0, 15.0, 60.0, -20.0]
    """
    fn = "price_volume_mix"
    by = _check_by(by, fn)
    if window not in _WINDOWS:
        raise ValueError(f"{fn}: window must be one of {_WINDOWS}, got {window!r}")
    _require(
        orders,
        [item, "customer_id", "requested_date", "quantity", "net_value", "currency", "status"],
        table="orders", function=fn,
    )  # fmt: skip
    m = pd.Period(month, "M")
    first = {"month": m, "ytd": pd.Period(f"{m.year}-01", "M"), "rolling12": m - 11}[window]
    keys = [*by, "currency"]
    o, excluded = _with_family(_between(orders, first - 12, m), materials, by, fn)
    d = monthly_demand(o, by=[*keys, item], fill=False)
    ex = d.attrs["excluded"].iloc[0]
    excluded.insert(0, (ex["table"], ex["reason"], int(ex["rows"]), float(ex["quantity"])))
    current = (d["period"] >= first).to_numpy()
    base = (d["period"] <= m - 12).to_numpy()
    qty = d["quantity"].to_numpy(dtype="float64")
    val = d["net_value"].to_numpy(dtype="float64")
    per_item = (
        pd.DataFrame(
            {
                **{c: d[c] for c in [*keys, item]},
                "q0": np.where(base, qty, 0.0),
                "v0": np.where(base, val, 0.0),
                "q1": np.where(current, qty, 0.0),
                "v1": np.where(current, val, 0.0),
            }
        )
        .groupby([*keys, item], observed=True, as_index=False, sort=True)
        .sum()
    )
    q0, v0, q1, v1 = (per_item[c].to_numpy() for c in ("q0", "v0", "q1", "v1"))
    cont = (q0 > 0) & (q1 > 0)
    new = (q0 == 0) & (q1 > 0)
    lost = (q0 > 0) & (q1 == 0)
    value_only = ~(cont | new | lost)
    with np.errstate(divide="ignore", invalid="ignore"):
        p0 = np.where(cont, v0 / np.where(q0 > 0, q0, 1.0), 0.0)
    parts = pd.DataFrame(
        {
            **{c: per_item[c] for c in keys},
            "revenue_base": v0,
            "revenue_current": v1,
            "quantity_base": q0,
            "quantity_current": q1,
            "_q0c": np.where(cont, q0, 0.0),
            "_q1c": np.where(cont, q1, 0.0),
            "_v0c": np.where(cont, v0, 0.0),
            "_v1c": np.where(cont, v1, 0.0),
            "_q1p0": np.where(cont, q1 * p0, 0.0),
            "_value_only": np.where(value_only, v1 - v0, 0.0),
            "new_effect": np.where(new, v1 - v0, 0.0),
            "lost_effect": np.where(lost, v1 - v0, 0.0),
            "items_continuing": cont.astype("int64"),
            "items_new": new.astype("int64"),
            "items_lost": lost.astype("int64"),
        }
    )
    out = parts.groupby(keys, observed=True, as_index=False, sort=True).sum()
    p0_bar = _ratio(out["_v0c"], out["_q0c"]).fillna(0.0)
    out["volume_effect"] = (out["_q1c"] - out["_q0c"]) * p0_bar
    out["mix_effect"] = out["_q1p0"] - out["_q1c"] * p0_bar
    out["price_effect"] = out["_v1c"] - out["_q1p0"] + out["_value_only"]
    out["revenue_change"] = out["revenue_current"] - out["revenue_base"]
    out["average_price_base"] = _ratio(out["revenue_base"], out["quantity_base"])
    out["average_price_current"] = _ratio(out["revenue_current"], out["quantity_current"])
    out["price_realisation"] = _ratio(out["_v1c"], out["_q1p0"]) - 1.0
    out = _complete(out, include, by)
    zero = [
        "revenue_base", "revenue_current", "revenue_change", "volume_effect", "mix_effect",
        "price_effect", "new_effect", "lost_effect", "quantity_base", "quantity_current",
    ]  # fmt: skip
    out[zero] = out[zero].fillna(0.0)
    counts = ["items_continuing", "items_new", "items_lost"]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["window_current"] = f"{first}..{m}"
    out["window_base"] = f"{first - 12}..{m - 12}"
    out["reason"] = pd.array(
        np.select(
            [
                (out["revenue_base"] == 0) & (out["revenue_current"] == 0)
                & (out["quantity_base"] == 0) & (out["quantity_current"] == 0),
                out["items_continuing"] == 0,
            ],
            ["no orders in either window", "no item ordered in both windows"],
            None,
        ),
        dtype="string",
    )  # fmt: skip
    columns = [
        *keys, "window_current", "window_base", "revenue_base", "revenue_current",
        "revenue_change", "volume_effect", "mix_effect", "price_effect", "new_effect",
        "lost_effect", "quantity_base", "quantity_current", "average_price_base",
        "average_price_current", "price_realisation", "items_continuing", "items_new",
        "items_lost", "reason",
    ]  # fmt: skip
    out = out[columns].reset_index(drop=True)
    out.attrs["excluded"] = Exclusions(_excluded(excluded))
    return out
