"""What a KAM should act on this month: one table of findings, one row per customer × kind.

Every analytics module computes its own figures; this module only *selects* what is off
target or at risk, gives it a **severity** from its distance to the threshold, the **money
at stake** it carries (per currency, never added across currencies) and the **evidence**
behind it (documents, materials, opportunities). The index, the one-sentence reason, the
commentary, the workbook's Summary and money-at-stake sheets and ``pack.json`` are all
views of this one table, so they cannot disagree.

Columns of :func:`findings` (:data:`COLUMNS`):

- ``customer_id``, ``kind`` (a code of :data:`KINDS`), ``group`` (receivables, service,
  forecast, plan, commercial, supply);
- ``severity``: ``red`` (act now), ``amber`` (watch), ``note`` (money at stake without a
  status of its own: it ranks the account but does not colour it);
- ``currency``, ``amount``: the money at stake in that currency (NaN: none). Each amount is
  in exactly one kind (:data:`OWNERSHIP`), so a customer's money at stake is the sum of its
  rows per currency;
- ``value``, ``reference``: the figure and what it is held against (target, terms, the value
  a streak started from); ``months``: a streak's length or an age in months;
- ``since``: the month (``YYYY-MM``) the finding goes back to, when known;
- ``evidence``: up to five ids (document, material, opportunity), comma-separated;
- ``detail``: one datum from the data a sentence names (a competitor, a stage, an issue).

Words are not made here: the scorecard turns ``kind`` and the numbers into sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "COLUMNS",
    "KINDS",
    "OWNERSHIP",
    "FindingRules",
    "compare",
    "findings",
    "pooled",
    "worse_in_a_row",
]

COLUMNS = [
    "customer_id",
    "kind",
    "group",
    "severity",
    "currency",
    "amount",
    "value",
    "reference",
    "months",
    "since",
    "evidence",
    "detail",
]

#: kind code -> group, in the order a page lists them
KINDS: dict[str, str] = {
    "overdue": "receivables",
    "over_credit_limit": "receivables",
    "no_credit_limit": "receivables",
    "dso_above_terms": "receivables",
    "dso_worsening": "receivables",
    "paying_later": "receivables",
    "otif_below_target": "service",
    "otif_falling": "service",
    "air_freight": "service",
    "open_complaints": "service",
    "forecast_accuracy": "forecast",
    "forecast_bias": "forecast",
    "forecast_challenge": "forecast",
    "revenue_gap": "plan",
    "expired_special_price": "commercial",
    "billed_below_agreement": "commercial",
    "price_record_error": "commercial",
    "price_realisation_falling": "commercial",
    "margin_erosion": "commercial",
    "lost_deals": "commercial",
    "npi_stalled": "commercial",
    "pipeline_at_risk": "commercial",
    "share_falling": "commercial",
    "phase_out_exposure": "supply",
    "deadstock": "supply",
    "overstock": "supply",
    "stock_out_risk": "supply",
    "over_allocated": "supply",
}

#: which kind owns an amount two kinds could both claim (each amount is counted once)
OWNERSHIP = {
    "overdue": "open receivables more than the grace days overdue (gross: credits not netted)",
    "over_credit_limit": "only the part of (open − limit) not already long overdue",
    "dso_above_terms": "no amount: the same receivables, measured in days",
    "expired_special_price": "its lines' shortfall against the contract price",
    "billed_below_agreement": "the shortfall of the other lines billed below the agreement",
    "npi_stalled": "the weighted value of its stalled NPI projects",
    "pipeline_at_risk": "the weighted value of the other open opportunities overdue or stalled",
    "phase_out_exposure": "stock of phase-out materials at risk (their overstock is not added)",
    "deadstock": "excess stock of active materials without demand",
    "overstock": "excess stock of active materials (alternatives to phase-out: never added)",
    "stock_out_risk": "sales at risk where safety stock is short",
    "forecast_challenge": "value of the customer forecast worth challenging",
    "revenue_gap": "full-year plan − outlook (not added to lost deals: those are won elsewhere)",
    "lost_deals": "annual value of the deals lost in the window",
    "air_freight": "air-freight cost paid after service misses",
}

_SEVERITY_ORDER = {"red": 0, "amber": 1, "note": 2}


@dataclass(frozen=True)
class FindingRules:
    """Thresholds of the findings (from :class:`kamlab.config.ScorecardSettings`, resolved
    in the chain). Shares are fractions; ``*_points`` are fraction points."""

    otif_amber_points: float = 0.0  # below target = amber
    otif_red_points: float = 0.10  # more than 10 points below target = red
    accuracy_amber_points: float = 0.10  # customer forecast: amber beyond 10 points under target
    overdue_grace_days: int = 30
    overdue_share_amber: float = 0.05
    overdue_share_red: float = 0.15
    overdue_materiality: float = 0.01  # red only when the amount is ≥ 1 % of 12 months' revenue
    dso_green_days: float = 10.0
    dso_amber_days: float = 30.0
    budget_green: float = -0.03
    budget_amber: float = -0.15
    streak_months: int = 3  # "worse N months in a row" from N = 3
    streak_min_step: float = 0.0  # each month worse by more than this
    pool_months: int = 3  # OTIF and days beyond terms pooled over 3 calendar months (noise)
    streak_min_days: float = 10.0  # a DSO / payment streak counts when it adds this many days
    streak_min_points: float = 0.05  # an OTIF / price realisation streak: this many points
    realisation_tolerance: float = 0.005  # billed within this share of the agreement: as agreed
    leakage_red_share: float = 0.02  # price leakage ≥ 2 % of the customer's revenue: red
    lost_amber_share: float = 0.05  # deals lost worth ≥ 5 % of the revenue: amber
    margin_drop_points: float = 0.03  # margin of the last 3 months this far under the 9 before
    share_drop_points: float = 0.10  # share of business down this much on a year ago
    stock_amber_share: float = 0.02  # stock at risk ≥ 2 % of the customer's revenue: amber
    bias_min_materials: int = 2  # a bias pattern: at least this many materials ...
    bias_min_share: float = 0.2  # ... and this share of those scored
    lost_recent_months: int = 3  # a deal lost this recently, worth lost_amber_share: amber
    max_evidence: int = 5
    red_z: float = 2.0  # red needs the shortfall beyond this many standard errors of noise


def _row(cid, kind, severity, *, currency=None, amount=np.nan, value=np.nan, reference=np.nan,
         months=np.nan, since=None, evidence=(), detail=None, max_evidence=5) -> dict:  # fmt: skip
    ids = [str(e) for e in evidence if e is not None and e == e][:max_evidence]
    return {
        "customer_id": str(cid),
        "kind": kind,
        "group": KINDS[kind],
        "severity": severity,
        "currency": None if currency is None else str(currency),
        "amount": float(amount) if amount == amount and amount is not None else np.nan,
        "value": float(value) if value is not None and value == value else np.nan,
        "reference": float(reference)
        if reference is not None and reference == reference
        else np.nan,
        "months": float(months) if months is not None and months == months else np.nan,
        "since": None if since is None else str(since),
        "evidence": ", ".join(dict.fromkeys(ids)),
        "detail": None if detail is None or detail != detail else str(detail),
    }


def _empty() -> pd.DataFrame:
    return _typed(pd.DataFrame(columns=COLUMNS))


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    for c in ("customer_id", "kind", "group", "severity", "currency", "since", "evidence",
              "detail"):  # fmt: skip
        out[c] = out[c].astype("string")
    for c in ("amount", "value", "reference", "months"):
        out[c] = out[c].astype("float64")
    return out


def worse_in_a_row(
    frame: pd.DataFrame,
    *,
    value: str,
    month: pd.Period,
    higher_is_better: bool,
    by: str = "customer_id",
    period: str = "period",
    min_step: float = 0.0,
) -> pd.DataFrame:
    """How many calendar months in a row, up to `month`, each `by`'s `value` got worse.

    The series is laid on the calendar months up to `month` (a month without a value is
    empty and ends the streak — never skipped, never 0). A month is *worse* when its value
    is worse than the month before by more than `min_step` (lower for `higher_is_better`).
    Returns `by`, months (the streak length, 0 when `month` is not worse), start (the month
    before the first worse one: the value the slide started from), first (value then),
    last (value in `month`). Unit of first/last: that of `value`.

    >>> f = pd.DataFrame({"customer_id": "C", "period": pd.period_range("2026-01", periods=5,
    ...     freq="M"), "days": [10.0, 12, 17, 22, 27]})
    >>> worse_in_a_row(f, value="days", month=pd.Period("2026-05", "M"),
    ...     higher_is_better=False).to_dict("records")[0]["months"]
    4
    """
    rows = []
    for key, g in frame.groupby(by, observed=True, sort=True):
        s = g.set_index(period)[value].astype("float64")
        s = s[~s.index.duplicated(keep="last")]
        s = s[s.index <= month]
        if s.empty:
            continue
        s = s.reindex(pd.period_range(s.index.min(), month, freq="M"))
        diff = s.diff()
        worse = (diff < -min_step) if higher_is_better else (diff > min_step)
        n = 0
        for flag in worse.to_numpy()[::-1]:
            if not flag:
                break
            n += 1
        start = month - n
        rows.append(
            {
                by: key,
                "months": n,
                "start": start,
                "first": float(s.get(start, np.nan)),
                "last": float(s.get(month, np.nan)),
            }
        )
    return pd.DataFrame(rows, columns=[by, "months", "start", "first", "last"])


def pooled(
    frame: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    month: pd.Period,
    months: int = 3,
    by: str = "customer_id",
    period: str = "period",
) -> pd.DataFrame:
    """Σ numerator / Σ denominator over the `months` calendar months up to each month.

    Months without rows add nothing (they are not skipped: the window is calendar months);
    a window whose denominator is 0 has no value. Returns `by`, `period`, value.

    >>> f = pd.DataFrame({"customer_id": "C", "period": pd.PeriodIndex(["2026-01", "2026-03"],
    ...     freq="M"), "num": [10.0, 30.0], "den": [1.0, 1.0]})
    >>> pooled(f, numerator="num", denominator="den", month=pd.Period("2026-03", "M"),
    ...     months=2)["value"].tolist()
    [10.0, 10.0, 30.0]
    """
    parts = []
    for key, g in frame.groupby(by, observed=True, sort=True):
        g = g.groupby(period)[[numerator, denominator]].sum()
        g = g[g.index <= month]
        if g.empty:
            continue
        g = g.reindex(pd.period_range(g.index.min(), month, freq="M"), fill_value=0.0)
        num = g[numerator].rolling(months, min_periods=1).sum()
        den = g[denominator].rolling(months, min_periods=1).sum()
        value = (num / den.where(den > 0)).to_numpy()
        parts.append(pd.DataFrame({by: key, period: g.index, "value": value}))
    if not parts:
        return pd.DataFrame({by: [], period: [], "value": []})
    return pd.concat(parts, ignore_index=True)


def _grade(shortfall: float, amber: float, red: float) -> str | None:
    """red beyond `red`, amber beyond `amber` (shortfall > threshold), else None."""
    if shortfall != shortfall:
        return None
    if shortfall > red:
        return "red"
    if shortfall > amber:
        return "amber"
    return None


def _rows_by_customer(frame: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    if frame is None or len(frame) == 0:
        return {}
    return {str(k): g for k, g in frame.groupby("customer_id", observed=True, sort=False)}


def findings(
    *,
    customers: pd.DataFrame,
    month: pd.Period,
    revenue: pd.DataFrame,
    rules: FindingRules = FindingRules(),
    sla: pd.DataFrame | None = None,
    service: pd.DataFrame | None = None,
    air_freight: pd.DataFrame | None = None,
    quality: pd.DataFrame | None = None,
    ageing: pd.DataFrame | None = None,
    top_overdue: pd.DataFrame | None = None,
    credit: pd.DataFrame | None = None,
    dso: pd.DataFrame | None = None,
    pay_monthly: pd.DataFrame | None = None,
    accuracy: pd.DataFrame | None = None,
    bias: pd.DataFrame | None = None,
    challenges: pd.DataFrame | None = None,
    plan: pd.DataFrame | None = None,
    price_audit: pd.DataFrame | None = None,
    price_monthly: pd.DataFrame | None = None,
    margin: pd.DataFrame | None = None,
    lost_sales: pd.DataFrame | None = None,
    npi: pd.DataFrame | None = None,
    pipeline_at_risk: pd.DataFrame | None = None,
    share_of_business: pd.DataFrame | None = None,
    customer_stock: pd.DataFrame | None = None,
    customer_phase_out: pd.DataFrame | None = None,
    stock_short: pd.DataFrame | None = None,
    allocation: pd.DataFrame | None = None,
    capacity_load: pd.DataFrame | None = None,
    monthly_revenue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The month's findings (:data:`COLUMNS`), red first, then by money at stake.

    Inputs are the chain's frames for `month` (``None`` or empty: that source is absent and
    gives no finding — absent is never "0, on target"). `customers` needs customer_id,
    currency, payment_terms_days, credit_limit, otif_target, forecast_accuracy_target;
    `revenue`: customer_id, currency, revenue (the last 12 months), for materiality;
    `monthly_revenue`: customer_id, currency, period, net_value (the noise of a YTD figure).
    Red needs both the threshold and a distance beyond ``red_z`` standard errors of the
    figure's own noise (few order lines, lumpy monthly revenue): otherwise amber.
    """
    r = rules
    rows: list[dict] = []
    cust = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index(
        "customer_id"
    )
    rev = {
        (str(c), str(k)): float(v)
        for c, k, v in revenue[["customer_id", "currency", "revenue"]].itertuples(index=False)
    }

    def revenue_of(cid: str, currency: str) -> float:
        return rev.get((cid, currency), np.nan)

    def add(*args, **kwargs) -> None:
        rows.append(_row(*args, max_evidence=r.max_evidence, **kwargs))

    # -- service ------------------------------------------------------------------------
    if sla is not None and len(sla):
        for s in sla.itertuples(index=False):
            due = float(s.lines_due) if s.lines_due == s.lines_due else 0.0
            if not due > 0:
                continue
            target = float(s.otif_target)
            short = target - float(s.otif)
            sev = _grade(short, r.otif_amber_points, r.otif_red_points)
            # red only beyond what chance gives on so few lines: z standard errors of a
            # binomial share at the target (4 lines, 3 on time, is not a red 75 %)
            noise = r.red_z * np.sqrt(target * (1.0 - target) / due)
            if sev == "red" and short <= noise:
                sev = "amber"
            if sev:
                add(s.customer_id, "otif_below_target", sev, value=s.otif, reference=s.otif_target)
    if service is not None and len(service):
        otif3 = pooled(service, numerator="lines_otif", denominator="lines_due", month=month,
                       months=r.pool_months)  # fmt: skip
        streak = worse_in_a_row(
            otif3,
            value="value",
            month=month,
            higher_is_better=True,
            min_step=r.streak_min_step,
        )
        streak = streak[streak["first"] - streak["last"] >= r.streak_min_points]
        for s in streak[streak["months"] >= r.streak_months].itertuples(index=False):
            add(s.customer_id, "otif_falling", "amber", value=s.last, reference=s.first,
                months=s.months, since=s.start)  # fmt: skip
    if air_freight is not None and len(air_freight):
        for s in air_freight.itertuples(index=False):
            cost = float(s.air_freight_cost) if s.air_freight_cost == s.air_freight_cost else 0
            if cost > 0:
                add(s.customer_id, "air_freight", "note", currency=s.currency, amount=cost,
                    value=s.air_freight_share)  # fmt: skip
    if quality is not None and len(quality) and "open_complaints" in quality:
        for s in quality.itertuples(index=False):
            age = s.open_age_max_days
            if s.open_complaints == s.open_complaints and s.open_complaints > 0 and age > 60:
                add(s.customer_id, "open_complaints", "amber", value=s.open_complaints,
                    months=age / 30.4)  # fmt: skip

    # -- receivables ----------------------------------------------------------------------
    long_overdue: dict[tuple[str, str], float] = {}
    if ageing is not None and len(ageing):
        buckets = [c for c in ageing.columns if _bucket_start(c) is not None]
        late = [c for c in buckets if _bucket_start(c) > r.overdue_grace_days]
        tops = _rows_by_customer(top_overdue)
        for row in ageing.to_dict("records"):
            amount = sum(max(float(row[c]), 0.0) for c in late if row[c] == row[c])
            gross = sum(max(float(row[c]), 0.0) for c in ["not due", *buckets] if c in row)
            if not amount > 0 or not gross > 0:
                continue
            cid, cur = str(row["customer_id"]), str(row["currency"])
            long_overdue[(cid, cur)] = amount
            share = amount / gross
            sev = (
                "red"
                if share >= r.overdue_share_red
                else "amber"
                if share >= r.overdue_share_amber
                else "note"
            )
            if sev == "red" and amount < r.overdue_materiality * revenue_of(cid, cur):
                sev = "amber"
            docs = tops.get(cid)
            evidence, since = (), None
            if docs is not None:
                docs = docs[
                    (docs["currency"] == cur) & (docs["days_overdue"] > r.overdue_grace_days)
                ]
                evidence = docs.sort_values("open_amount", ascending=False)["document_id"]
                if len(docs):
                    since = docs["due_date"].min().to_period("M")
            add(cid, "overdue", sev, currency=cur, amount=amount, value=share, since=since,
                evidence=list(evidence))  # fmt: skip
    if credit is not None and len(credit):
        for s in credit.itertuples(index=False):
            cid = str(s.customer_id)
            limit = float(s.credit_limit) if s.credit_limit == s.credit_limit else np.nan
            if limit != limit:
                continue
            excess = float(s.open_receivables) - limit
            if str(s.status) == "over limit" and excess > 0:
                own = max(0.0, excess - long_overdue.get((cid, str(s.currency)), 0.0))
                add(cid, "over_credit_limit", "red", currency=s.currency, amount=own or np.nan,
                    value=s.utilisation, reference=limit)  # fmt: skip
            elif str(s.status) == "warning":
                add(cid, "over_credit_limit", "amber", currency=s.currency,
                    value=s.utilisation, reference=limit)  # fmt: skip
    if credit is not None or ageing is not None:
        with_items = set() if ageing is None else set(ageing["customer_id"].astype(str))
        no_limit = cust.index[cust["credit_limit"].isna()]
        for cid in no_limit:
            if cid in with_items:
                add(cid, "no_credit_limit", "amber")
    if dso is not None and len(dso):
        d = dso.assign(period=dso["month_end"].dt.to_period("M"))
        home = d["currency"].astype(str) == d["customer_id"].astype(str).map(cust["currency"])
        d = d[home]
        now = d[d["period"] == month]
        for s in now.itertuples(index=False):
            terms = cust.at[str(s.customer_id), "payment_terms_days"]
            if pd.isna(terms) or pd.isna(s.dso_countback):  # terms: Int64, may be <NA>
                continue
            sev = _grade(float(s.dso_countback) - float(terms), r.dso_green_days,
                         r.dso_amber_days)  # fmt: skip
            if sev:
                add(s.customer_id, "dso_above_terms", sev, value=s.dso_countback,
                    reference=terms)  # fmt: skip
        streak = worse_in_a_row(
            d, value="dso_countback", month=month, higher_is_better=False,
            min_step=r.streak_min_step,
        )  # fmt: skip
        streak = streak[streak["last"] - streak["first"] >= r.streak_min_days]
        for s in streak[streak["months"] >= r.streak_months].itertuples(index=False):
            add(s.customer_id, "dso_worsening", "amber", value=s.last, reference=s.first,
                months=s.months, since=s.start)  # fmt: skip
    if pay_monthly is not None and len(pay_monthly):
        p = pay_monthly[
            pay_monthly["currency"].astype(str)
            == pay_monthly["customer_id"].astype(str).map(cust["currency"])
        ]
        p = p.assign(weighted_days=p["days_beyond_terms"] * p["amount"])
        p = pooled(p, numerator="weighted_days", denominator="amount", month=month,
                   months=r.pool_months)  # fmt: skip
        streak = worse_in_a_row(
            p, value="value", month=month, higher_is_better=False,
            min_step=r.streak_min_step,
        )  # fmt: skip
        streak = streak[
            (streak["last"] - streak["first"] >= r.streak_min_days) & (streak["last"] > 0)
        ]
        for s in streak[streak["months"] >= r.streak_months].itertuples(index=False):
            sev = "red" if s.last > r.dso_amber_days else "amber"
            add(s.customer_id, "paying_later", sev, value=s.last, reference=s.first,
                months=s.months, since=s.start)  # fmt: skip

    # -- forecast -------------------------------------------------------------------------
    if accuracy is not None and len(accuracy):
        acc = accuracy[
            (accuracy["source"] == "customer")
            & (accuracy["lag"] == 1)
            & (accuracy["metric"] == "accuracy")
        ]
        for s in acc.itertuples(index=False):
            target = cust.at[str(s.customer_id), "forecast_accuracy_target"]
            short = float(target) - float(s.value) if target == target else np.nan
            # the customer's own forecast: a discussion point, amber at most (it costs us
            # through stock and service, findings of their own)
            if _grade(short, r.accuracy_amber_points, np.inf):
                add(s.customer_id, "forecast_accuracy", "amber", value=s.value, reference=target)
    if bias is not None and len(bias):
        for cid, g in _rows_by_customer(bias).items():
            alerts = g[g["alert"].fillna(False).astype(bool)]
            if alerts.empty:
                continue
            over = alerts[alerts["direction"] == "over-forecast"]
            under = alerts[alerts["direction"] != "over-forecast"]
            side, pick = ("over", over) if len(over) >= len(under) else ("under", under)
            if len(pick) >= max(r.bias_min_materials, r.bias_min_share * len(g)):
                sev = "note"  # the customer's forecast: said, never a colour of its own
                add(cid, "forecast_bias", sev, value=len(pick), reference=len(g),
                    detail=side, evidence=list(pick["material_id"]))  # fmt: skip
    if challenges is not None and len(challenges):
        c = challenges[challenges["currency"].astype(str) != "–"]
        for (cid, cur), g in c.groupby(["customer_id", "currency"], observed=True):
            amount = float(g["value_at_stake"].sum())
            if amount > 0:
                add(cid, "forecast_challenge", "note", currency=cur, amount=amount,
                    value=len(g), evidence=list(g["material_id"]))  # fmt: skip

    # -- plan -----------------------------------------------------------------------------
    if plan is not None and len(plan):
        p = plan[(plan["measure"] == "revenue") & (plan["ytd_plan"] > 0)]
        for s in p.itertuples(index=False):
            variance = float(s.ytd_variance_pct)
            sev = _grade(-variance, -r.budget_green, -r.budget_amber)
            noise = _ytd_noise(monthly_revenue, str(s.customer_id), str(s.currency), month)
            if sev == "red" and -float(s.ytd_variance) <= r.red_z * noise:
                sev = "amber"  # a lumpy small account: within its month-to-month noise
            gap = float(s.fy_plan) - float(s.fy_outlook)
            if sev or gap > 0:
                add(s.customer_id, "revenue_gap", sev or "note", currency=s.currency,
                    amount=gap if gap > 0 else np.nan, value=variance)  # fmt: skip

    # -- commercial -----------------------------------------------------------------------
    if price_audit is not None and len(price_audit):
        audit = price_audit.assign(issue=price_audit["issue"].astype(str))
        kinds = {
            "expired special price": "expired_special_price",
            "off agreement": "billed_below_agreement",
            "price unit": "price_record_error",
        }
        for (cid, cur, issue), g in audit.groupby(
            ["customer_id", "currency", "issue"], observed=True
        ):
            kind = kinds.get(issue)
            if kind is None:
                continue
            if kind == "billed_below_agreement":
                g = g[g["at_stake"] > 0]
            amount = float(g["at_stake"].clip(lower=0).sum())
            if kind != "price_record_error" and not amount > 0:
                continue
            agreed = float(g["agreed_value"].sum())
            billed = float(g["net_value"].sum())
            share = amount / revenue_of(str(cid), str(cur))
            sev = "red" if share >= r.leakage_red_share else "amber"
            since = g["billing_date"].min().to_period("M") if "billing_date" in g else None
            by_value = g.sort_values("net_value", ascending=False)
            add(cid, kind, "amber" if kind == "price_record_error" else sev,
                currency=cur, amount=amount if kind != "price_record_error" else np.nan,
                value=1.0 - billed / agreed if agreed > 0 else np.nan,
                reference=len(g), since=since, evidence=list(by_value["material_id"]),
                detail=None if kind != "expired_special_price" else
                str(g["expired_to"].max().date()) if "expired_to" in g else None)  # fmt: skip
    if price_monthly is not None and len(price_monthly):
        streak = worse_in_a_row(
            price_monthly, value="realisation", month=month, higher_is_better=True,
            min_step=r.realisation_tolerance,
        )  # fmt: skip
        streak = streak[streak["first"] - streak["last"] >= r.streak_min_points]
        for s in streak[streak["months"] >= r.streak_months].itertuples(index=False):
            add(s.customer_id, "price_realisation_falling", "amber", value=s.last,
                reference=s.first, months=s.months, since=s.start)  # fmt: skip
    if margin is not None and len(margin):
        for (cid, cur), g in margin.groupby(["customer_id", "currency"], observed=True):
            g = g.set_index("period").reindex(pd.period_range(month - 11, month, freq="M"))
            recent, before = g.iloc[-3:], g.iloc[:-3]
            if recent["revenue"].isna().any() or before["revenue"].isna().sum() > 3:
                continue  # months without sales: not a like-for-like comparison
            m_now = recent["gross_margin"].sum() / recent["revenue"].sum()
            m_before = before["gross_margin"].sum() / before["revenue"].sum()
            if m_before - m_now >= r.margin_drop_points:
                add(cid, "margin_erosion", "amber", currency=cur, value=m_now,
                    reference=m_before, months=3, since=month - 2)  # fmt: skip
    opps_npi: set[str] = set()
    if npi is not None and len(npi):
        stalled = npi[npi["flag"].astype("string") == "stalled"]
        for cid, g in stalled.groupby("customer_id", observed=True):
            for cur, gc in g.groupby("currency", observed=True):
                top = gc.sort_values("annual_value", ascending=False).iloc[0]
                weighted = float((gc["annual_value"] * gc["probability"]).sum())
                opps_npi.update(gc["opportunity_id"].astype(str))
                add(cid, "npi_stalled", "amber", currency=cur, amount=weighted,
                    value=top["age_in_stage_days"], reference=top["annual_value"],
                    months=top["slippage_days"] / 30.4, evidence=list(gc["opportunity_id"]),
                    detail=top["stage"])  # fmt: skip
    if pipeline_at_risk is not None and len(pipeline_at_risk):
        rest = pipeline_at_risk[~pipeline_at_risk["opportunity_id"].astype(str).isin(opps_npi)]
        for (cid, cur), g in rest.groupby(["customer_id", "currency"], observed=True):
            add(cid, "pipeline_at_risk", "note", currency=cur, amount=g["at_stake"].sum(),
                value=len(g), evidence=list(g.sort_values("at_stake")["opportunity_id"][::-1]))  # fmt: skip
    if lost_sales is not None and len(lost_sales):
        for (cid, cur), g in lost_sales.groupby(["customer_id", "currency"], observed=True):
            g = g.sort_values("annual_value", ascending=False)
            total = float(g["annual_value"].sum())
            top = g.iloc[0]
            share = float(top["annual_value"]) / revenue_of(str(cid), str(cur))
            recent = top["decided_date"].to_period("M") > month - r.lost_recent_months
            sev = "amber" if share >= r.lost_amber_share and recent else "note"
            add(cid, "lost_deals", sev, currency=cur, amount=total, value=len(g),
                reference=top["annual_value"], evidence=list(g["opportunity_id"]),
                detail=_competitor(top), since=top["decided_date"].to_period("M"))  # fmt: skip
    if share_of_business is not None and len(share_of_business):
        sob = share_of_business[share_of_business["period"] == month]
        drops = sob[sob["change"] <= -r.share_drop_points]
        for cid, g in drops.groupby("customer_id", observed=True):
            g = g.sort_values("change")
            top = g.iloc[0]
            add(cid, "share_falling", "amber", value=top["share_of_business"],
                reference=top["share_of_business"] - top["change"], months=12,
                evidence=list(g["product_family"]), detail=top["product_family"])  # fmt: skip

    # -- supply ---------------------------------------------------------------------------
    phased: set[tuple[str, str]] = set()
    if customer_phase_out is not None and len(customer_phase_out):
        for (cid, cur), g in customer_phase_out.groupby(["customer_id", "currency"], observed=True):
            phased.update((str(cid), str(m)) for m in g["material_id"])
            amount = float(g["customer_at_risk"].fillna(0).sum())
            if amount > 0:
                g = g.sort_values("customer_at_risk", ascending=False)
                sev = _stock_severity(amount, cid, r, revenue_of)
                add(cid, "phase_out_exposure", sev, currency=cur, amount=amount,
                    evidence=list(g["material_id"]), value=g["months_left"].min())  # fmt: skip
    if customer_stock is not None and len(customer_stock):
        cs = customer_stock[customer_stock["status"].astype(str).isin(["deadstock", "overstock"])]
        keep = [
            (str(c), str(m)) not in phased
            for c, m in zip(cs["customer_id"], cs["material_id"], strict=True)
        ]
        cs = cs[keep]
        for (cid, cur, status), g in cs.groupby(
            ["customer_id", "currency", cs["status"].astype(str)], observed=True
        ):
            amount = float(g["excess_value"].fillna(0).sum())
            if amount > 0:
                g = g.sort_values("excess_value", ascending=False)
                sev = _stock_severity(amount, cid, r, revenue_of)
                add(cid, status, sev, currency=cur, amount=amount, value=len(g),
                    evidence=list(g["material_id"]))  # fmt: skip
    if stock_short is not None and len(stock_short):
        for (cid, cur), g in stock_short.groupby(["customer_id", "currency"], observed=True):
            amount = float(g["amount"].sum())
            if amount > 0:
                add(cid, "stock_out_risk", "note", currency=cur, amount=amount,
                    evidence=list(g.get("material_id", [])))  # fmt: skip
    if allocation is not None and capacity_load is not None and len(capacity_load):
        over = capacity_load[capacity_load["over_booked"].fillna(False).astype(bool)]
        if len(over):
            # the customers whose promise beyond their forecast covers the overrun
            hit = allocation.merge(over, on=["material_id", "period"], suffixes=("", "_total"))
            excess = hit["allocated"] - hit["forecast"]
            overrun = hit["allocated_total"] - hit["capacity"]
            hit = hit[excess >= overrun]
            for cid, g in hit.groupby("customer_id", observed=True):
                add(cid, "over_allocated", "amber", value=g["load"].max(),
                    since=g["period"].min(), evidence=list(g["material_id"]))  # fmt: skip

    if not rows:
        return _empty()
    out = _typed(pd.DataFrame(rows, columns=COLUMNS))
    out = out.assign(_sev=out["severity"].map(_SEVERITY_ORDER), _amt=out["amount"].fillna(-1))
    out = out.sort_values(["customer_id", "_sev", "_amt"], ascending=[True, True, False])
    return out.drop(columns=["_sev", "_amt"]).reset_index(drop=True)


def _ytd_noise(monthly: pd.DataFrame | None, cid: str, currency: str, month: pd.Period) -> float:
    """Standard error of a year-to-date revenue sum: sd of the monthly revenue over the last
    12 calendar months (months without orders count 0: revenue, not a rate) × √(months YTD).
    0 without the monthly figures (then the threshold alone decides)."""
    if monthly is None or len(monthly) == 0:
        return 0.0
    m = monthly[(monthly["customer_id"].astype(str) == cid) & (monthly["currency"] == currency)]
    months = pd.period_range(month - 11, month, freq="M")
    series = m.groupby("period")["net_value"].sum().reindex(months, fill_value=0.0)
    return float(series.std(ddof=1) * np.sqrt(month.month))


def _stock_severity(amount: float, cid, r: FindingRules, revenue_of) -> str:
    """Stock is at cost in EUR; the customer's revenue may be in another currency: a note
    unless the revenue is in EUR and the stock is a material share of it."""
    rev = revenue_of(str(cid), "EUR")
    return "amber" if rev == rev and amount >= r.stock_amber_share * rev else "note"


def _competitor(row: pd.Series) -> str | None:
    name = row.get("competitor")
    if name is None or name != name or str(name).startswith("("):
        return None
    return str(name)


def _bucket_start(bucket: str) -> int | None:
    """First day of an ageing bucket column ("31-60" -> 31, ">120" -> 121), None otherwise."""
    b = str(bucket)
    if b.startswith(">"):
        return int(b[1:]) + 1 if b[1:].isdigit() else None
    head = b.split("-")[0]
    return int(head) if "-" in b and head.isdigit() else None


def compare(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """`current` with ``status``: new / persisting against `previous` (last month's table,
    same columns), plus last month's findings gone now as ``resolved`` rows (severity and
    amounts as they were). Matched on customer_id × kind × currency. Without a previous
    table every finding is ``new`` and nothing is resolved.
    """
    key = ["customer_id", "kind", "currency"]

    def keys(f: pd.DataFrame) -> pd.Series:
        return f[key].astype("string").fillna("").agg("|".join, axis=1)

    out = current.copy()
    if previous is None or len(previous) == 0:
        return out.assign(status=pd.Series("new", index=out.index, dtype="string"))
    before = set(keys(previous)) if len(previous) else set()
    now = keys(out) if len(out) else pd.Series(dtype="string")
    out["status"] = pd.Series(
        np.where(now.isin(before), "persisting", "new"), index=out.index, dtype="string"
    )
    gone = previous[~keys(previous).isin(set(now))] if len(previous) else previous
    gone = gone.reindex(columns=COLUMNS).assign(status="resolved")
    out = pd.concat([out, _typed(gone)], ignore_index=True) if len(gone) else out
    out["status"] = out["status"].astype("string")
    return out
