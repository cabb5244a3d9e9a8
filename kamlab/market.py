"""Share of business and competitors: our sales against the customer's purchases, the 3C table.

Works on the ``market`` table: per customer, product family and estimate month, one *total*
row (competitor empty) with the customer's estimated purchases of the family from all
suppliers in the 12 months to that month, and one row per competitor with its share.
Our sales are demand as kamlab defines it once (:func:`kamlab.demand.monthly_demand`: net
value of non-cancelled order lines by requested month), over the same 12 months. Shares are
fractions; amounts stay in their currency.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.demand import monthly_demand
from kamlab.exclusions import Exclusions
from kamlab.service._common import _excluded, _ratio, _require

__all__ = ["competitor_activity", "share_of_business", "three_c"]

_WINDOW = 12  # months an estimate covers


def _sales_12m(
    orders: pd.DataFrame, materials: pd.DataFrame, *, periods: Sequence[pd.Period]
) -> tuple[pd.DataFrame, list[tuple[str, str, int, float]]]:
    """Our net sales per customer × family × currency in the 12 months to each of `periods`."""
    fam = materials[["material_id", "product_family"]]
    o = orders.merge(fam, on="material_id", how="left")
    unknown = o["product_family"].isna().to_numpy()
    excluded = [
        ("orders", "material without product_family", int(unknown.sum()),
         float(o.loc[unknown, "quantity"].sum()))
    ]  # fmt: skip
    d = monthly_demand(
        o.loc[~unknown], by=["customer_id", "product_family", "currency"], fill=False
    )
    ex = d.attrs["excluded"].iloc[0]
    excluded.insert(0, (ex["table"], ex["reason"], int(ex["rows"]), float(ex["quantity"])))
    d.attrs = {}
    parts = []
    for p in sorted(set(periods)):
        window = d.loc[((d["period"] > p - _WINDOW) & (d["period"] <= p)).to_numpy(dtype=bool)]
        g = window.groupby(["customer_id", "product_family", "currency"], observed=True)
        parts.append(g["net_value"].sum().rename("our_sales").reset_index().assign(period=p))
    if not parts:
        cols = ["customer_id", "product_family", "currency", "our_sales", "period"]
        return pd.DataFrame({c: [] for c in cols}), excluded
    return pd.concat(parts, ignore_index=True), excluded


def share_of_business(
    orders: pd.DataFrame,
    materials: pd.DataFrame,
    market: pd.DataFrame,
    *,
    month: pd.Period | str,
    by: Sequence[str] = ("customer_id", "product_family"),
) -> pd.DataFrame:
    """Our share of each customer's purchases, per estimate month up to `month` (the trend).

    .. math::

        \\text{share\\_of\\_business} = \\frac{\\text{our net sales in the 12 months to } p}
        {\\text{customer's estimated purchases in the 12 months to } p}

    for every market estimate month *p* ≤ `month` (a fraction; higher is better), with
    ``change`` = share − share at the previous estimate (fraction points). A customer and
    family we sold to in the 12 months to `month` without any estimate gets a row at
    `month` with share NaN and reason ``"no market estimate"`` — never 0, which would read as
    "we sell nothing there". An estimate in another currency than our sales gives NaN
    (``"estimate in another currency"``); our sales above the estimate are kept and flagged
    (``"our sales exceed the estimate"``). With ``by=("customer_id",)`` families are added
    within a currency over the families that have an estimate; ``coverage`` = the share of
    our sales in families with an estimate. Source: share of wallet / share of business
    (Keiningham et al., "The value of different customer satisfaction and loyalty metrics",
    *Managing Service Quality* 17(4), 2007; the KAM role's "share of business" KPI).

    Returns *by*, period, currency, our_sales, total_purchases, share_of_business, change,
    coverage, reason.

    >>> orders = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M2"],
    ...     "requested_date": pd.to_datetime(["2024-03-01", "2024-05-01"]),
    ...     "quantity": 1.0, "net_value": [300.0, 50.0], "currency": "EUR",
    ...     "status": "delivered"})
    >>> materials = pd.DataFrame({"material_id": ["M1", "M2"], "product_family": ["F", "G"]})
    >>> market = pd.DataFrame({"customer_id": ["C1"], "period": pd.PeriodIndex(["2024-06"],
    ...     freq="M"), "product_family": ["F"], "competitor": [None],
    ...     "total_purchases": [1200.0], "currency": ["EUR"], "share": [None]})
    >>> r = share_of_business(orders, materials, market, month="2024-06")
    >>> r[["product_family", "share_of_business", "reason"]].values.tolist()
    [['F', 0.25, nan], ['G', nan, 'no market estimate']]
    """
    fn = "share_of_business"
    by = list(by)
    if by not in (["customer_id", "product_family"], ["customer_id"]):
        raise ValueError(
            f"{fn}: by must be ('customer_id', 'product_family') or ('customer_id',), got "
            f"{tuple(by)}"
        )
    _require(
        orders,
        ["customer_id", "material_id", "requested_date", "quantity", "net_value", "currency",
         "status"],
        table="orders",
        function=fn,
    )  # fmt: skip
    _require(materials, ["material_id", "product_family"], table="materials", function=fn)
    _require(
        market,
        ["customer_id", "period", "product_family", "competitor", "total_purchases", "currency"],
        table="market",
        function=fn,
    )
    m = pd.Period(month, "M")
    totals = market.loc[
        (market["competitor"].isna() & (market["period"] <= m)).to_numpy(dtype=bool),
        ["customer_id", "product_family", "period", "total_purchases", "currency"],
    ].rename(columns={"currency": "market_currency"})
    sales, excluded = _sales_12m(orders, materials, periods=[*totals["period"].unique(), m])
    fam = ["customer_id", "product_family"]
    # one currency per customer x family in our sales (the customer's billing currency)
    est = totals.merge(sales, on=[*fam, "period"], how="left")
    est["our_sales"] = est["our_sales"].fillna(0.0)
    est["currency"] = est["currency"].fillna(est["market_currency"])
    other_cur = (est["currency"] != est["market_currency"]).to_numpy()
    now = sales.loc[sales["period"] == m]
    known = totals[fam].drop_duplicates()
    missing = now.merge(known, on=fam, how="left", indicator=True)
    missing = missing.loc[missing["_merge"].eq("left_only").to_numpy()].drop(columns="_merge")
    missing = missing.assign(total_purchases=np.nan, market_currency=None)
    rows = pd.concat(
        [est.assign(_other=other_cur), missing.assign(_other=False)], ignore_index=True
    )
    rows["total_purchases"] = rows["total_purchases"].astype("float64")
    if by == ["customer_id"]:
        has = rows["total_purchases"].notna() & ~rows["_other"]
        rows = rows.assign(
            _covered=np.where(has, rows["our_sales"], 0.0),
            _total=np.where(has, rows["total_purchases"], 0.0),
            _n=has.astype("int64"),
            _other=rows["_other"].astype("int64"),
        )
        g = rows.groupby(["customer_id", "period", "currency"], observed=True, as_index=False)
        rows = g[["our_sales", "_covered", "_total", "_n", "_other"]].sum()
        rows["coverage"] = _ratio(rows["_covered"], rows["our_sales"])
        rows["total_purchases"] = rows["_total"].where(rows["_n"] > 0)
        rows["_other"] = (rows["_other"] > 0) & (rows["_n"] == 0)
        rows["share_of_business"] = _ratio(rows["_covered"], rows["total_purchases"])
    else:
        rows["coverage"] = np.where(rows["total_purchases"].notna() & ~rows["_other"], 1.0, 0.0)
        rows["share_of_business"] = _ratio(rows["our_sales"], rows["total_purchases"]).where(
            ~rows["_other"]
        )
    rows["share_of_business"] = rows["share_of_business"].where(~rows["_other"].astype(bool))
    rows["reason"] = pd.array(
        np.select(
            [
                rows["_other"].astype(bool),
                rows["total_purchases"].isna(),
                rows["share_of_business"] > 1,
            ],
            ["estimate in another currency", "no market estimate",
             "our sales exceed the estimate"],
            None,
        ),
        dtype="str",
    )  # fmt: skip
    rows = rows.sort_values([*by, "currency", "period"]).reset_index(drop=True)
    rows["change"] = rows.groupby([*by, "currency"], observed=True)["share_of_business"].diff()
    out = rows[[*by, "period", "currency", "our_sales", "total_purchases", "share_of_business",
                "change", "coverage", "reason"]].reset_index(drop=True)  # fmt: skip
    out.attrs["excluded"] = Exclusions(_excluded(excluded))
    return out


def competitor_activity(
    market: pd.DataFrame,
    opportunities: pd.DataFrame | None = None,
    *,
    month: pd.Period | str,
) -> pd.DataFrame:
    """Per customer × competitor: share at the latest estimate, its change, losses to them.

    From the competitor rows of ``market`` with period ≤ `month`: ``share`` at the latest
    estimate of each customer × family (fraction of the customer's purchases), ``change`` =
    share − share at the previous estimate (fraction points), ``families`` where it is
    present, the latest ``activity`` noted. From ``opportunities`` (optional): ``lost_to``
    = opportunities lost to that competitor in the 12 months to `month` and their
    ``lost_value`` (annual value, in ``lost_currency``; one row per currency where several).
    Source: competitor mapping of the 3C report (Ohmae, *The Mind of the Strategist*, 1982:
    company, customer, competitor) as the KAM role lists it (competitor share of business,
    competitor activity at the customer).

    Returns customer_id, competitor, families, share, change, activity, lost_to,
    lost_value, lost_currency; highest share first within a customer.
    """
    fn = "competitor_activity"
    _require(
        market, ["customer_id", "period", "product_family", "competitor", "share"],
        table="market", function=fn,
    )  # fmt: skip
    m = pd.Period(month, "M")
    comp = market.loc[(market["competitor"].notna() & (market["period"] <= m)).to_numpy(bool)]
    comp = comp.sort_values(["customer_id", "product_family", "competitor", "period"])
    keys = ["customer_id", "product_family", "competitor"]
    comp = comp.assign(_prev=comp.groupby(keys, observed=True)["share"].shift())
    latest_period = comp.groupby(["customer_id", "product_family"], observed=True)["period"].max()
    latest = comp.merge(latest_period.rename("_latest").reset_index(),
                        on=["customer_id", "product_family"])  # fmt: skip
    latest = latest.loc[(latest["period"] == latest["_latest"]).to_numpy(bool)]
    has_activity = "activity" in latest.columns
    g = latest.groupby(["customer_id", "competitor"], observed=True)
    out = pd.DataFrame(
        {
            "families": g["product_family"].agg(lambda s: ", ".join(sorted(s))),
            "share": g["share"].mean(),
            "change": (latest["share"] - latest["_prev"])
            .groupby([latest["customer_id"], latest["competitor"]], observed=True)
            .mean(),
            "activity": g["activity"].agg(lambda s: "; ".join(s.dropna().unique()) or None)
            if has_activity
            else None,
        }
    ).reset_index()
    out["activity"] = out["activity"].astype("str")
    if opportunities is not None and len(opportunities):
        _require(
            opportunities,
            ["customer_id", "status", "decided_date", "competitor", "annual_value", "currency"],
            table="opportunities",
            function=fn,
        )
        lo = (m - (_WINDOW - 1)).start_time
        hi = m.end_time
        o = opportunities
        lost = o.loc[
            (o["status"].eq("lost") & o["competitor"].notna() & (o["decided_date"] >= lo)
             & (o["decided_date"] <= hi)).fillna(False).to_numpy(bool)
        ]  # fmt: skip
        agg = (
            lost.assign(lost_to=1)
            .groupby(["customer_id", "competitor", "currency"], observed=True, as_index=False)
            .agg(lost_to=("lost_to", "sum"), lost_value=("annual_value", "sum"))
            .rename(columns={"currency": "lost_currency"})
        )
        out = out.merge(agg, on=["customer_id", "competitor"], how="outer")
        out["lost_to"] = out["lost_to"].fillna(0).astype("int64")
    else:
        out["lost_to"] = 0
        out["lost_value"] = np.nan
        out["lost_currency"] = None
    out = out.sort_values(["customer_id", "share"], ascending=[True, False], na_position="last")
    return out[["customer_id", "competitor", "families", "share", "change", "activity",
                "lost_to", "lost_value", "lost_currency"]].reset_index(drop=True)  # fmt: skip


def three_c(
    share: pd.DataFrame,
    market: pd.DataFrame,
    *,
    month: pd.Period | str,
) -> pd.DataFrame:
    """The 3C table (company, customer, competitor) per customer × product family at `month`.

    One row per customer × family with the latest estimate up to `month`:

    - *company* (us): ``our_sales`` in the 12 months, ``share_of_business`` and its
      ``change`` (from :func:`share_of_business` with ``by=("customer_id",
      "product_family")``, passed in as `share`);
    - *customer*: ``total_purchases`` (estimate) and ``market_growth`` = total / total at the
      previous estimate − 1 (fraction);
    - *competitor*: ``main_competitor`` (largest share at that estimate), its
      ``competitor_share`` and ``competitor_change`` (fraction points), ``competitors``
      (how many are named), ``unexplained_share`` = 1 − ours − Σ competitors (purchases
      from suppliers nobody named; negative = the estimates do not add up).

    Source: Ohmae's 3C model (*The Mind of the Strategist*, 1982) as the KAM's "3C report
    (company, customer, competitor)" (../shared/roles).
    """
    fn = "three_c"
    _require(
        share,
        ["customer_id", "product_family", "period", "currency", "our_sales", "total_purchases",
         "share_of_business", "change", "reason"],
        table="share of business",
        function=fn,
    )  # fmt: skip
    m = pd.Period(month, "M")
    s = share.loc[(share["period"] <= m).to_numpy(bool)].sort_values("period")
    s = s.assign(
        _prev_total=s.groupby(["customer_id", "product_family"])["total_purchases"].shift()
    )
    s = s.groupby(["customer_id", "product_family"], observed=True).tail(1)
    s = s.assign(market_growth=_ratio(s["total_purchases"], s["_prev_total"]) - 1.0)
    comp = market.loc[(market["competitor"].notna() & (market["period"] <= m)).to_numpy(bool)]
    comp = comp.sort_values("period")
    comp = comp.assign(
        _prev=comp.groupby(["customer_id", "product_family", "competitor"])["share"].shift()
    )
    comp = comp.merge(
        s[["customer_id", "product_family", "period"]], on=["customer_id", "product_family",
                                                         "period"]
    )  # fmt: skip
    comp = comp.sort_values("share", ascending=False, na_position="last")
    top = comp.groupby(["customer_id", "product_family"], observed=True).head(1)
    top = top.assign(competitor_change=top["share"] - top["_prev"]).rename(
        columns={"competitor": "main_competitor", "share": "competitor_share"}
    )
    stats = comp.groupby(["customer_id", "product_family"], observed=True).agg(
        competitors=("competitor", "nunique"), _named=("share", "sum")
    )
    out = s.merge(
        top[["customer_id", "product_family", "main_competitor", "competitor_share",
             "competitor_change"]],
        on=["customer_id", "product_family"], how="left",
    ).merge(stats.reset_index(), on=["customer_id", "product_family"], how="left")  # fmt: skip
    out["competitors"] = out["competitors"].fillna(0).astype("int64")
    out["unexplained_share"] = 1.0 - out["share_of_business"] - out["_named"].fillna(0.0)
    cols = ["customer_id", "product_family", "period", "currency", "our_sales",
            "share_of_business", "change", "total_purchases", "market_growth",
            "main_competitor", "competitor_share", "competitor_change", "competitors",
            "unexplained_share", "reason"]  # fmt: skip
    return (
        out[cols]
        .sort_values(["customer_id", "our_sales"], ascending=[True, False])
        .reset_index(drop=True)
    )
