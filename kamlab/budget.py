"""The annual sales budget: a draft per customer × product family × month, and the approved
version in force on a date.

Each year the KAM prepares the sales budget of each customer, the sales manager approves it
(and may ask for a revision during the year), and production plans materials, people and
capacity from it. :func:`draft_budget` proposes a first version from what kamlab already
holds, in three labelled layers kept in their own columns so that every figure says where it
came from:

- **base**: the running business — the statistical (or combined) forecast per customer ×
  material, with phase-out materials tapered to zero at their end of life, valued at the
  agreed price valid on the first day of each month (special price before contract before
  price list, the access sequence of :func:`kamlab.pricing.price_realisation`), else at the
  realised price of the last 12 months, raised by an assumed increase per family if given;
- **pipeline**: open RFQs, quotes and tenders at their probability (won ones whose start lies
  ahead at 1), a flat run rate from their start month
  (:func:`kamlab.opportunities.pipeline_forecast`);
- **npi**: new-product projects likewise, ramping up linearly over `npi_ramp_months` from
  their start of production.

The budget table may hold several approved versions (``version_date``): the original and the
revisions. :func:`budget_in_force` picks the one in force on a date, per customer and year;
:func:`budget_revisions` says what the latest revision changed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kamlab.exclusions import Exclusions
from kamlab.opportunities import pipeline_forecast
from kamlab.pricing import price_realisation
from kamlab.service._common import _excluded, _require, _timestamp

__all__ = ["LAYERS", "budget_in_force", "budget_revisions", "draft_budget", "phase_out_taper"]

LAYERS = ("base", "pipeline", "npi")  # the draft's layers, each as <layer>_quantity/_value


def phase_out_taper(
    months: pd.PeriodIndex | pd.Series, *, as_of: pd.Period, end_of_life: pd.Period
) -> np.ndarray:
    """Share of the running rate still sold in each month of a material being phased out.

    With *a* the last month of history and *e* the end-of-life month (the last month
    supplied), month *m* keeps

    .. math:: w_m = \\min\\left(1, \\max\\left(0, 1 - \\frac{m - a}{e - a + 1}\\right)\\right)

    — a linear run-down that reaches zero the month after *e* (an end of life already past
    leaves 0). It is the same straight line as the forecast's phase-out taper
    (:func:`kamlab.forecast.forecast`, ``phaseout_months`` = *e* − *a* + 1). Unitless.

    >>> m = pd.period_range("2027-01", periods=4, freq="M")
    >>> phase_out_taper(m, as_of=pd.Period("2026-12", "M"), end_of_life=pd.Period("2027-02", "M"))
    array([0.66666667, 0.33333333, 0.        , 0.        ])
    """
    m = np.asarray(pd.PeriodIndex(months).asi8, dtype="int64")
    span = end_of_life.ordinal - as_of.ordinal + 1
    if span <= 0:
        return np.zeros(len(m))
    return np.clip(1.0 - (m - as_of.ordinal) / span, 0.0, 1.0)


def _end_of_life(
    materials: pd.DataFrame, plan: pd.DataFrame | None, *, as_of: pd.Period, phaseout_months: int
) -> pd.Series:
    """End-of-life month per phase-out material: the latest ``end_of_life`` over its plants,
    else `phaseout_months` after `as_of` (the forecast's default run-down)."""
    out = materials.loc[materials["lifecycle"].eq("phase-out").fillna(False), "material_id"]
    eol = pd.Series(as_of + phaseout_months - 1, index=pd.Index(out, dtype="string"))
    if plan is not None and "end_of_life" in plan.columns:
        dated = plan.dropna(subset=["end_of_life"])
        latest = dated.groupby("material_id")["end_of_life"].max().dt.to_period("M")
        latest.index = latest.index.astype("string")
        eol = pd.concat([eol[~eol.index.isin(latest.index)], latest])
    return eol


def _unit_prices(
    base: pd.DataFrame,
    *,
    prices: pd.DataFrame | None,
    orders: pd.DataFrame | None,
    families: pd.Series,
    as_of: pd.Timestamp,
    price_months: int,
    price_increase: Mapping[str, float],
) -> pd.DataFrame:
    """Unit price, currency and source per row of `base` (customer, material, period)."""
    n = len(base)
    unit = np.full(n, np.nan)
    currency = pd.array([pd.NA] * n, dtype="string")
    source = np.full(n, "unpriced", dtype=object)
    if prices is not None and len(prices):
        lines = pd.DataFrame(
            {
                "customer_id": base["customer_id"].to_numpy(),
                "material_id": base["material_id"].to_numpy(),
                "billing_date": base["period"].dt.start_time.to_numpy(),
                "quantity": 1.0,
                "net_value": 0.0,
                "currency": pd.array([pd.NA] * n, dtype="string"),
            }
        )
        agreed = price_realisation(lines, prices)
        has = agreed["agreed_unit_price"].notna().to_numpy()
        unit[has] = agreed["agreed_unit_price"].to_numpy(dtype="float64")[has]
        currency[has] = agreed["agreed_currency"].astype("string").to_numpy()[has]
        source[has] = agreed["agreement_source"].astype(object).to_numpy()[has]
    if orders is not None and len(orders) and np.isnan(unit).any():
        start = as_of - pd.DateOffset(months=price_months)
        o = orders.loc[
            (orders["status"] != "cancelled")
            & (orders["requested_date"] > start)
            & (orders["requested_date"] <= as_of)
            & (orders["quantity"] > 0)
        ]
        realised = o.groupby(
            ["customer_id", "material_id", "currency"], observed=True, as_index=False
        )[["quantity", "net_value"]].sum()
        # one currency per customer x material: the one with the most value
        realised = realised.sort_values(
            "net_value", ascending=False, kind="stable"
        ).drop_duplicates(["customer_id", "material_id"])
        realised["realised_price"] = realised["net_value"] / realised["quantity"]
        found = base[["customer_id", "material_id"]].merge(
            realised[["customer_id", "material_id", "currency", "realised_price"]],
            on=["customer_id", "material_id"],
            how="left",
        )
        rise = families.map(
            lambda f: 1.0 + price_increase.get(f, 0.0) if isinstance(f, str) else 1.0
        )
        take = np.isnan(unit) & found["realised_price"].notna().to_numpy()
        unit[take] = (
            found["realised_price"].to_numpy(dtype="float64") * rise.to_numpy(dtype="float64")
        )[take]
        currency[take] = found["currency"].astype("string").to_numpy()[take]
        raised = rise.to_numpy(dtype="float64") != 1.0
        source[take] = np.where(raised[take], "realised + increase", "realised")
    return pd.DataFrame(
        {"unit_price": unit, "currency": currency, "price_source": pd.array(source, dtype="string")}
    )


def draft_budget(
    forecast: pd.DataFrame,
    materials: pd.DataFrame,
    *,
    year: int,
    as_of: object,
    orders: pd.DataFrame | None = None,
    prices: pd.DataFrame | None = None,
    opportunities: pd.DataFrame | None = None,
    plan: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    price_increase: Mapping[str, float] | None = None,
    npi_ramp_months: int = 6,
    phaseout_months: int = 6,
    price_months: int = 12,
    level: str = "product_family",
    value: str = "forecast",
    basis: str = "statistical",
) -> pd.DataFrame:
    """A draft of next year's budget per customer × product family (or material) × month.

    For each month *m* of `year` after `as_of` and each customer × material with forecast
    :math:`f_m` (quantity, in the material's unit), phase-out taper :math:`w_m`
    (:func:`phase_out_taper`; 1 for other materials) and unit price :math:`p_m`:

    .. math::

        \\text{base\\_quantity}_m = w_m f_m, \\qquad \\text{base\\_value}_m = w_m f_m p_m

    :math:`p_m` is the agreed price valid on the first day of *m* (``price / price_unit`` of
    the special price, else contract, else price-list record; a price change on 1 January
    shows from January), else the realised price Σ net value / Σ quantity of the customer's
    orders of the material in the `price_months` months up to `as_of` (not cancelled) times
    1 + `price_increase` [family] (a fraction, e.g. 0.03). ``price_source`` says which
    (``special_price``, ``contract``, ``price_list``, ``realised``, ``realised + increase``,
    ``unpriced``). Then, per opportunity with weight *w* (its probability; 1 for one already
    won whose start lies ahead) and start month *s*, in the opportunity's currency:

    .. math::

        \\text{pipeline}_m = w \\, \\frac{A}{12} \\; (m \\ge s), \\qquad
        \\text{npi}_m = w \\, \\frac{A}{12} \\min\\left(1, \\frac{m - s + 1}{R}\\right)

    with *A* the annual volume or value and *R* = `npi_ramp_months` (RFQs, quotes and
    tenders in the pipeline layer, NPI projects in the npi layer). The draft is the sum of
    the three layers: ``draft_quantity`` and ``draft_value`` (an opportunity without an
    annual volume adds value but no quantity). Amounts are per currency, never added across
    currencies. A material without any price keeps its quantity and adds no value (a zero
    quantity is worth 0 at any price); ``unpriced_quantity`` says how much quantity is
    unvalued, and a row with nothing priced has value NaN (in the customer's currency when
    `customers` is given, else with currency empty).

    Parameters
    ----------
    forecast
        customer_id, material_id, period, `value`: a monthly forecast reaching December of
        `year`, made **without** the lifecycle taper (this function tapers phase-outs to
        their end of life; a tapered forecast would be tapered twice).
    materials
        material_id, product_family, lifecycle.
    year
        The budget year.
    as_of
        The last day of the history the draft starts from (months up to it are not drafted).
    orders, prices, opportunities, plan, customers
        The contract tables; each optional (without `plan` a phase-out material runs down over
        `phaseout_months` after `as_of`; with `customers` an unpriced quantity is shown in the
        customer's currency row, its value unknown).
    level
        ``"product_family"`` (default) or ``"material"`` (rows per material too).
    basis
        Label of the forecast used (``statistical``, ``combined``, ``customer``).

    Returns
    -------
    One row per customer_id, product_family, [material_id,] period, currency: base_quantity,
    base_value, pipeline_quantity, pipeline_value, npi_quantity, npi_value, draft_quantity,
    draft_value, value_at_agreement (the part of base_value priced at an agreement),
    unpriced_quantity, phase_out_quantity (forecast quantity removed by the taper), basis.
    ``attrs["excluded"]``: forecast rows outside the drafted months.

    Source: the sales-budget build-up from forecast, pipeline and price changes, e.g.
    Cheverton, *Key Account Management* (5th ed., 2015), ch. 17; the factored pipeline as in
    :func:`kamlab.opportunities.weighted_pipeline`.

    Examples
    --------
    >>> fc = pd.DataFrame({"customer_id": "C1", "material_id": "M1", "forecast": 10.0,
    ...     "period": pd.period_range("2027-01", periods=12, freq="M")})
    >>> mat = pd.DataFrame({"material_id": ["M1"], "product_family": ["F"],
    ...     "lifecycle": ["active"]})
    >>> prices = pd.DataFrame({"customer_id": ["C1"], "material_id": ["M1"],
    ...     "source": ["contract"], "valid_from": pd.to_datetime(["2026-01-01"]),
    ...     "valid_to": pd.NaT, "price": [250.0], "currency": ["EUR"], "price_unit": [100]})
    >>> d = draft_budget(fc, mat, year=2027, as_of="2026-12-31", prices=prices)
    >>> d[["period", "draft_quantity", "draft_value"]].head(2).to_string(index=False)
    ' period  draft_quantity  draft_value\\n2027-01            10.0         25.0\\n2027-02            10.0         25.0'
    """
    fn = "draft_budget"
    if level not in ("product_family", "material"):
        raise ValueError(f"{fn}: level must be 'product_family' or 'material', got {level!r}")
    if npi_ramp_months < 1 or phaseout_months < 1 or price_months < 1:
        raise ValueError(f"{fn}: npi_ramp_months, phaseout_months and price_months must be >= 1")
    _require(
        forecast, ["customer_id", "material_id", "period", value], table="forecast", function=fn
    )
    _require(
        materials, ["material_id", "product_family", "lifecycle"], table="materials", function=fn
    )
    day = _timestamp(as_of, name="as_of", function=fn)
    a = day.to_period("M")
    first = max(pd.Period(f"{year}-01", "M"), a + 1)
    last = pd.Period(f"{year}-12", "M")
    if first > last:
        raise ValueError(
            f"{fn}: the budget year {year} ends before the month after as_of ({a + 1})"
        )
    months = pd.period_range(first, last, freq="M")
    in_year = forecast["period"].between(first, last).to_numpy()
    reach = forecast["period"].max() if len(forecast) else None
    if reach is None or reach < last:
        raise ValueError(
            f"{fn}: the forecast ends {reach}; the {year} budget needs it up to {last} "
            f"(forecast h >= {last.ordinal - a.ordinal} months after {a})"
        )
    base = forecast.loc[in_year, ["customer_id", "material_id", "period", value]].reset_index(
        drop=True
    )
    family = base["material_id"].map(materials.set_index("material_id")["product_family"])
    base["product_family"] = family.astype("string")

    eol = _end_of_life(materials, plan, as_of=a, phaseout_months=phaseout_months)
    w = np.ones(len(base))
    for material, end in eol.items():
        rows = np.flatnonzero((base["material_id"] == material).to_numpy())
        if len(rows):
            w[rows] = phase_out_taper(base["period"].iloc[rows], as_of=a, end_of_life=end)
    f = base[value].to_numpy(dtype="float64")
    base["base_quantity"] = w * f
    base["phase_out_quantity"] = (1.0 - w) * f
    priced = _unit_prices(
        base,
        prices=prices,
        orders=orders,
        families=base["product_family"],
        as_of=day,
        price_months=price_months,
        price_increase=dict(price_increase or {}),
    )
    base = pd.concat([base, priced], axis=1)
    if customers is not None and "currency" in customers.columns:
        home = base["customer_id"].map(
            customers.drop_duplicates("customer_id").set_index("customer_id")["currency"]
        )
        base["currency"] = base["currency"].fillna(home.astype("string"))
    q = base["base_quantity"].to_numpy(dtype="float64")
    base["base_value"] = np.where(q == 0, 0.0, q * base["unit_price"].to_numpy(dtype="float64"))
    agreement = base["price_source"].isin(["special_price", "contract", "price_list"]).to_numpy()
    base["value_at_agreement"] = np.where(agreement, base["base_value"], 0.0)
    base["unpriced_quantity"] = np.where(base["unit_price"].isna(), base["base_quantity"], 0.0)

    layers = [base]
    if opportunities is not None and len(opportunities):
        horizon = last.ordinal - a.ordinal
        by = ("customer_id", "material_id", "product_family")
        for layer, is_npi, ramp in (("pipeline", False, 1), ("npi", True, npi_ramp_months)):
            chosen = opportunities.loc[opportunities["type"].eq("npi").to_numpy() == is_npi]
            if not len(chosen):
                continue
            part = pipeline_forecast(chosen, as_of=day, horizon=horizon, by=by, ramp_months=ramp)
            part = part.loc[part["period"] >= first].reset_index(drop=True)
            known = part["material_id"].map(materials.set_index("material_id")["product_family"])
            part["product_family"] = part["product_family"].fillna(known).astype("string")
            layers.append(
                part.rename(columns={"quantity": f"{layer}_quantity", "value": f"{layer}_value"})[
                    [*by, "period", "currency", f"{layer}_quantity", f"{layer}_value"]
                ]
            )
    frame = pd.concat(layers, ignore_index=True)
    keys = ["customer_id", "product_family", *(["material_id"] if level == "material" else []),
            "period", "currency"]  # fmt: skip
    sums = ["base_quantity", "base_value", "pipeline_quantity", "pipeline_value", "npi_quantity",
            "npi_value", "value_at_agreement", "unpriced_quantity", "phase_out_quantity"]  # fmt: skip
    for column in sums:
        if column not in frame.columns:
            frame[column] = np.nan
    out = frame.groupby(keys, observed=True, dropna=False, as_index=False, sort=True)[sums].sum(
        min_count=1
    )
    out["draft_quantity"] = out[[f"{x}_quantity" for x in LAYERS]].sum(axis=1, min_count=1)
    out["draft_value"] = out[[f"{x}_value" for x in LAYERS]].sum(axis=1, min_count=1)
    out["basis"] = pd.array([basis] * len(out), dtype="string")
    out = out[
        [*keys, "base_quantity", "base_value", "pipeline_quantity", "pipeline_value",
         "npi_quantity", "npi_value", "draft_quantity", "draft_value", "value_at_agreement",
         "unpriced_quantity", "phase_out_quantity", "basis"]
    ]  # fmt: skip
    outside = int((~in_year).sum())
    out.attrs["excluded"] = Exclusions(
        _excluded(
            [
                (
                    "forecast",
                    f"period outside {months[0]}..{months[-1]}",
                    outside,
                    float(forecast.loc[~in_year, value].sum()),
                )
            ]
        )  # fmt: skip
    )
    return out


def _version_dates(budget: pd.DataFrame) -> pd.Series:
    """Each row's version date; an undated row belongs to the earliest version."""
    if "version_date" not in budget.columns:
        return pd.Series(pd.Timestamp.min, index=budget.index)
    return pd.to_datetime(budget["version_date"]).fillna(pd.Timestamp.min)


def _versions(budget: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """customer_id, year, version (date), rank: 0 = in force on `as_of`, 1 = the one before."""
    v = pd.DataFrame(
        {
            "customer_id": budget["customer_id"].to_numpy(),
            "year": pd.PeriodIndex(budget["period"]).year,
            "version": _version_dates(budget).to_numpy(),
        }
    ).drop_duplicates()
    v["approved"] = v["version"] <= as_of
    # in force: the latest approved by as_of; when none was approved by then, the earliest
    v = v.sort_values(["customer_id", "year", "version"], kind="stable")
    any_approved = v.groupby(["customer_id", "year"])["approved"].transform("any")
    eligible = v.loc[v["approved"] | ~any_approved]
    eligible = eligible.loc[
        eligible["approved"] | (eligible.groupby(["customer_id", "year"]).cumcount() == 0)
    ]
    eligible = eligible.assign(
        rank=eligible.groupby(["customer_id", "year"]).cumcount(ascending=False)
    )
    return eligible.loc[eligible["rank"] <= 1, ["customer_id", "year", "version", "rank"]]


def budget_in_force(budget: pd.DataFrame, *, as_of: object) -> pd.DataFrame:
    """The rows of the budget version in force on `as_of`, per customer and budget year.

    A budget table may hold several approved versions, told apart by ``version_date`` (the
    day each was approved): the original and its revisions. In force on day *d*, for each
    customer and year, is the latest version approved on or before *d*; when none was
    approved by then, the earliest version (a plan approved a few days into the year still
    applies to January). A table without ``version_date`` (or with it empty) is one version.
    The rows of the other versions are counted in ``attrs["excluded"]`` as superseded.

    >>> b = pd.DataFrame({"customer_id": "C1", "period": pd.Period("2026-08", "M"),
    ...     "product_family": None, "planned_quantity": [10.0, 8.0],
    ...     "planned_revenue": [100.0, 80.0], "currency": "EUR",
    ...     "version_date": pd.to_datetime(["2025-12-15", "2026-07-01"])})
    >>> budget_in_force(b, as_of="2026-06-30")["planned_revenue"].tolist()
    [100.0]
    >>> budget_in_force(b, as_of="2026-07-31")["planned_revenue"].tolist()
    [80.0]
    """
    fn = "budget_in_force"
    _require(budget, ["customer_id", "period", "planned_quantity"], table="budget", function=fn)
    day = _timestamp(as_of, name="as_of", function=fn)
    if "version_date" not in budget.columns or budget["version_date"].isna().all():
        out = budget.copy()
        out.attrs["excluded"] = Exclusions(_excluded([("budget", "superseded version", 0, 0.0)]))
        return out
    force = _versions(budget, day)
    force = force.loc[force["rank"] == 0, ["customer_id", "year", "version"]]
    keyed = pd.DataFrame(
        {
            "customer_id": budget["customer_id"].to_numpy(),
            "year": pd.PeriodIndex(budget["period"]).year,
            "version": _version_dates(budget).to_numpy(),
        }
    )
    keep = keyed.merge(force, how="left", indicator=True)["_merge"].eq("both").to_numpy()
    out = budget.loc[keep].reset_index(drop=True)
    out.attrs["excluded"] = Exclusions(
        _excluded(
            [
                (
                    "budget",
                    "superseded version",
                    int((~keep).sum()),
                    float(budget.loc[~keep, "planned_quantity"].sum()),
                )
            ]
        )  # fmt: skip
    )
    return out


def budget_revisions(budget: pd.DataFrame, *, as_of: object) -> pd.DataFrame:
    """What the revision in force on `as_of` changed, per customer × year × currency.

    For each customer and year whose version in force (:func:`budget_in_force`) revised an
    earlier one: revised_on (the revision's approval day), previous_on, and the full-year
    planned revenue and quantity before and after, with the change
    (``revenue_change`` = after − before, in the currency; ``revenue_change_pct`` = change /
    before, a fraction, NaN when before is 0). Customers without a revision have no row.

    >>> b = pd.DataFrame({"customer_id": "C1",
    ...     "period": [pd.Period("2026-01", "M"), pd.Period("2026-08", "M")] * 2,
    ...     "product_family": None, "planned_quantity": 1.0,
    ...     "planned_revenue": [100.0, 100.0, 100.0, 60.0], "currency": "EUR",
    ...     "version_date": pd.to_datetime(["2025-12-15"] * 2 + ["2026-07-01"] * 2)})
    >>> r = budget_revisions(b, as_of="2026-09-30").iloc[0]
    >>> float(r.revenue_before), float(r.revenue_after), float(r.revenue_change_pct)
    (200.0, 160.0, -0.2)
    """
    fn = "budget_revisions"
    _require(
        budget,
        ["customer_id", "period", "planned_quantity", "planned_revenue", "currency"],
        table="budget",
        function=fn,
    )
    day = _timestamp(as_of, name="as_of", function=fn)
    columns = ["customer_id", "year", "currency", "revised_on", "previous_on", "revenue_before",
               "revenue_after", "revenue_change", "revenue_change_pct", "quantity_before",
               "quantity_after"]  # fmt: skip
    if "version_date" not in budget.columns or budget["version_date"].isna().all():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    v = _versions(budget, day)
    revised = v.groupby(["customer_id", "year"])["rank"].transform("max") == 1
    v = v.loc[revised]
    rows = pd.DataFrame(
        {
            "customer_id": budget["customer_id"].to_numpy(),
            "year": pd.PeriodIndex(budget["period"]).year,
            "version": _version_dates(budget).to_numpy(),
            "currency": budget["currency"].to_numpy(),
            "planned_revenue": budget["planned_revenue"].to_numpy(dtype="float64"),
            "planned_quantity": budget["planned_quantity"].to_numpy(dtype="float64"),
        }
    ).merge(v, on=["customer_id", "year", "version"])
    totals = rows.groupby(["customer_id", "year", "currency", "rank", "version"], as_index=False)[
        ["planned_revenue", "planned_quantity"]
    ].sum()
    after = totals.loc[totals["rank"] == 0].drop(columns="rank")
    before = totals.loc[totals["rank"] == 1].drop(columns="rank")
    out = after.merge(before, on=["customer_id", "year", "currency"], suffixes=("_a", "_b"))
    out = pd.DataFrame(
        {
            "customer_id": out["customer_id"],
            "year": out["year"],
            "currency": out["currency"],
            "revised_on": out["version_a"],
            "previous_on": out["version_b"].where(out["version_b"] > pd.Timestamp.min),
            "revenue_before": out["planned_revenue_b"],
            "revenue_after": out["planned_revenue_a"],
            "revenue_change": out["planned_revenue_a"] - out["planned_revenue_b"],
            "revenue_change_pct": (out["planned_revenue_a"] - out["planned_revenue_b"])
            / out["planned_revenue_b"].where(out["planned_revenue_b"] != 0),
            "quantity_before": out["planned_quantity_b"],
            "quantity_after": out["planned_quantity_a"],
        }
    )
    return out[columns].reset_index(drop=True)
