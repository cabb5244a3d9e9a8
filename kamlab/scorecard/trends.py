"""What changed: the headline KPIs month by month, their material changes and the arrows
beside the tiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.scorecard.values import as_float

if TYPE_CHECKING:
    from collections.abc import Callable

    from kamlab.scorecard.card import Scorecard

__all__ = ["CHANGE_COLUMNS", "calendar_share", "kpi_changes", "kpi_history", "trend_text"]

CHANGE_COLUMNS = [
    "kpi",
    "name",
    "now",
    "m1",
    "m3",
    "m6",
    "change",
    "months",
    "material",
    "direction",
    "status",
]


def calendar_share(
    monthly: pd.DataFrame,
    *,
    part: str,
    whole: str,
    months: pd.PeriodIndex,
    window: int,
) -> pd.Series:
    """Sum of `part` over sum of `whole` in the `window` calendar months to each of `months`.

    `monthly` holds one row per ``period`` with counts (a month without a row had none:
    it is an empty month inside the window, not skipped, so a window never reaches back
    further than `window` months). A window that starts before the first of `months` (the
    months the data cover) or has no `whole` is NaN: unknown, never 0.

    >>> m = pd.DataFrame({"period": pd.PeriodIndex(["2025-01", "2025-03"], freq="M"),
    ...                   "ok": [7, 0], "due": [13, 1]})
    >>> calendar_share(m, part="ok", whole="due", window=3,
    ...                months=pd.period_range("2024-12", "2025-04", freq="M")).round(3).tolist()
    [nan, nan, 0.538, 0.5, 0.0]
    """
    sums = monthly.groupby("period")[[part, whole]].sum().reindex(months, fill_value=0)
    pooled = sums.rolling(window, min_periods=window).sum()
    return (pooled[part] / pooled[whole]).where(pooled[whole] > 0)


def kpi_history(card: Scorecard) -> pd.DataFrame:
    """The headline KPIs at each month of the last year: kpi, period, value.

    otif (pooled over the ``otif_months`` calendar months to the period, :func:`calendar_share`),
    overdue (share of the open invoices, gross of unapplied credits, more than
    ``overdue_grace_days`` overdue), dso (countback, days), credit (open / limit), revenue
    (net revenue of the 3 months to the period, customer's currency). Missing data: no row.
    """
    from kamlab.scorecard.receivables import long_overdue

    a, n, month = card.analytics, card.settings.scorecard.otif_months, card.month
    parts = []
    svc = card._slice(a.service)
    if svc is not None and len(svc) and not card.absent("deliveries"):
        otif = calendar_share(
            svc,
            part="lines_otif",
            whole="lines_due",
            months=pd.period_range(a.service["period"].min(), month, freq="M"),
            window=n,
        )
        parts.append(pd.DataFrame({"kpi": "otif", "period": otif.index, "value": otif.values}))
    hist = card._slice(a.ageing_history)
    if hist is not None and len(hist):
        hist = hist[hist["currency"] == card.currency].sort_values("month_end")
        late = hist.apply(lambda r: long_overdue(card, r), axis=1) if len(hist) else hist["total"]
        gross = hist["total"] + hist["unapplied"]  # open invoices before unapplied credits
        period = hist["month_end"].dt.to_period("M")
        share = (late / gross).where(gross > 0)
        parts.append(pd.DataFrame({"kpi": "overdue", "period": period, "value": share}))
        limit = as_float(card.customer["credit_limit"])
        if limit > 0:
            parts.append(
                pd.DataFrame({"kpi": "credit", "period": period, "value": hist["total"] / limit})
            )
    dso = card._slice(a.dso)
    if dso is not None and len(dso):
        dso = dso[dso["currency"] == card.currency]
        parts.append(
            pd.DataFrame(
                {
                    "kpi": "dso",
                    "period": dso["month_end"].dt.to_period("M"),
                    "value": dso["dso_countback"],
                }
            )
        )
    d = card._slice(a.customer_demand)
    if d is not None and len(d):
        d = d[d["currency"] == card.currency].set_index("period")["net_value"]
        months = pd.period_range(month - 26, month, freq="M")
        d = d.reindex(months, fill_value=0.0)
        parts.append(
            pd.DataFrame(
                {"kpi": "revenue", "period": months, "value": d.rolling(3).sum().to_numpy()}
            )
        )
    if not parts:
        return pd.DataFrame({"kpi": [], "period": [], "value": []})
    out = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
    return out[out["period"] <= month].reset_index(drop=True)


def kpi_changes(card: Scorecard) -> pd.DataFrame:
    """Per KPI of :func:`kpi_history`: now, 1, 3 and 6 months ago, and whether it worsened.

    Columns kpi, name, now, m1, m3, m6 (values), change (now - the earliest of m3/m6 that
    moved materially, else now - m3), months (that window), material (bool), direction
    ("better" / "worse" / "steady"), status (the tile's colour now). Material: the change
    is at least the ``change_*`` setting (OTIF points, DSO days, overdue share, credit
    utilisation); a worsening that leaves the tile green is not material.
    """
    s = card.settings.scorecard
    spec = {
        "otif": ("OTIF", s.change_otif, True),
        "overdue": ("Overdue share", s.change_overdue_share, False),
        "dso": ("DSO", s.change_dso_days, False),
        "credit": ("Credit utilisation", s.change_credit, False),
    }
    hist = card.kpi_history()
    tiles = card.headline_tiles()
    statuses = {"otif": tiles[0].status, "overdue": tiles[3].status}
    statuses.update({"credit": tiles[4].status, "dso": tiles[5].status})
    month = card.month
    rows = []
    for kpi, (name, size, higher_better) in spec.items():
        h = hist[hist["kpi"] == kpi].set_index("period")["value"]
        if month not in h.index:
            continue
        now = float(h[month])
        back = {k: as_float(h.get(month - k)) for k in (1, 3, 6)}
        months, change = 3, now - back[3]
        for k in (3, 6):
            if abs(now - back[k]) >= size:
                months, change = k, now - back[k]
                break
        material = change == change and abs(change) >= size
        better = (change > 0) == higher_better
        status = statuses.get(kpi, "grey")
        if material and not better and status == "green":
            material = False  # worse, but still on target: not worth a line
        rows.append(
            {
                "kpi": kpi,
                "name": name,
                "now": now,
                "m1": back[1],
                "m3": back[3],
                "m6": back[6],
                "change": change,
                "months": months,
                "material": bool(material),
                "direction": ("better" if better else "worse") if material else "steady",
                "status": status,
            }
        )
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def trend_text(card: Scorecard, kpi: str, show: Callable[[object], str]) -> str:
    """'▲ from 88 % in Jul' style: arrows for the 1- and 3-month movement between calendar
    months; "► as in Jul" when the figures shown are the same (no arrow for a move that
    rounds away), nothing for a month without the figure."""
    hist = card.kpi_history()
    h = hist[hist["kpi"] == kpi].set_index("period")["value"]
    month = card.month
    if month not in h.index:
        return ""
    now, parts = float(h[month]), []
    for k in (1, 3):
        before = as_float(h.get(month - k))
        if before != before:
            continue
        when = fmt.month_abbr(month - k)
        if show(now) == show(before):  # a move too small to show is no move
            parts.append(fmt.text("► as in {month}", month=when))
            continue
        template = "▲ from {value} in {month}" if now > before else "▼ from {value} in {month}"
        parts.append(fmt.text(template, value=show(before), month=when))
    return " · ".join(parts)
