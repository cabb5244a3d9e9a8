"""The agreed forecast: the figure a KAM agreed after the challenge, scored as a third source.

After the challenge the key account manager agrees a number with the customer — the
customer's, kamlab's, or an own one — and hands it to S&OP (table ``agreed_forecasts``).
Scored beside the customer's and the statistical forecast on the same points, the
difference in error is the value the KAM's judgement added (Gilliland's forecast value
added: Gilliland 2010, *The Business Forecasting Deal*, ch. 5; Gilliland 2013, "FVA: a
reality check on forecasting practices", *Foresight* 29).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from kamlab.accuracy.scoring import _SERIES, _plain
from kamlab.accuracy.value_added import value_added
from kamlab.config import DEFAULTS

__all__ = [
    "JUDGEMENT_STEPS",
    "agreed_snapshots",
    "judgement_value_added",
    "sop_export",
    "with_agreed",
]

_A = DEFAULTS.accuracy
#: the forecast process the KAM's judgement ends: customer → statistical → agreed
JUDGEMENT_STEPS = ("customer", "statistical", "agreed")


def agreed_snapshots(agreed: pd.DataFrame) -> pd.DataFrame:
    """The agreed figures shaped like forecast snapshots: source "agreed", taken on agreed_on.

    Returns customer_id, material_id, snapshot_date (= agreed_on), period, quantity, source;
    their lag is month(period) − month(agreed_on) (:func:`kamlab.accuracy.forecast_lag`).

    >>> a = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "period": pd.Period("2026-07", "M"), "quantity": [120.0], "basis": "own",
    ...     "agreed_by": "A. Schäfer", "agreed_on": pd.Timestamp("2026-06-12")})
    >>> agreed_snapshots(a)[["snapshot_date", "source"]].to_dict("records")
    [{'snapshot_date': Timestamp('2026-06-12 00:00:00'), 'source': 'agreed'}]
    """
    a = _plain(agreed)
    return pd.DataFrame(
        {
            "customer_id": a["customer_id"],
            "material_id": a["material_id"],
            "snapshot_date": a["agreed_on"],
            "period": a["period"],
            "quantity": a["quantity"].astype("float64"),
            "source": "agreed",
        }
    )


def judgement_value_added(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame | None = None,
    *,
    pairs: pd.DataFrame | None = None,
    by: Sequence[str] = ("customer_id",),
    lags: Sequence[int] = _A.lags,
    metric: str = _A.fva_metric,
    customers: pd.DataFrame | None = None,
    materials: pd.DataFrame | None = None,
    as_of: pd.Period | str | None = None,
) -> pd.DataFrame:
    """Value added by the KAM's agreed forecast over the customer's and the statistical one.

    .. math:: FVA(agreed \\text{ over } X) = error(X) - error(agreed)

    for X = customer and X = statistical, on the points (customer × material × target month
    × lag) all three forecast (:func:`kamlab.accuracy.value_added` with steps customer →
    statistical → agreed; Gilliland 2010). Error = `metric` pooled by volume (WAPE by
    default); FVA in percentage points for WAPE. **Positive = the agreed figure had the
    smaller error**: the KAM's judgement added value. `by` groups the points, e.g.
    ``("customer_id",)`` or ``("account_manager",)`` (taken from `customers`).

    `forecasts` holds the three sources (customer snapshots, the statistical backtest and
    :func:`agreed_snapshots`), or pass `pairs` from :func:`kamlab.accuracy.pair_forecasts`.
    Returns *by, lag, n_points, error_customer, error_statistical, error_agreed,
    fva_statistical_vs_customer, fva_agreed_vs_customer, fva_agreed_vs_statistical.

    >>> act = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "period": pd.period_range("2026-07", periods=2, freq="M"), "quantity": 100.0})
    >>> snap = pd.Timestamp("2026-06-30")
    >>> fc = pd.DataFrame({"customer_id": "C1", "material_id": "M1", "snapshot_date": snap,
    ...     "period": pd.Period("2026-07", "M"), "quantity": [130.0, 110.0, 105.0],
    ...     "source": ["customer", "statistical", "agreed"]})
    >>> v = judgement_value_added(act, fc, lags=[1])
    >>> v[["fva_agreed_vs_customer", "fva_agreed_vs_statistical"]].round(6).to_dict("records")
    [{'fva_agreed_vs_customer': 25.0, 'fva_agreed_vs_statistical': 5.0}]
    """
    return value_added(
        actuals,
        forecasts,
        by=by,
        keys=_SERIES,
        lags=lags,
        metric=metric,
        steps=JUDGEMENT_STEPS,
        customers=customers,
        materials=materials,
        as_of=as_of,
        pairs=pairs,
    )


def sop_export(agreed: pd.DataFrame, *, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """The agreed forecast as the flat file S&OP loads: one row per customer × material × month.

    Columns customer_id, customer (name, from `customers`), material_id, month ("YYYY-MM"),
    quantity, basis (customer / kamlab / own), agreed_by, agreed_on (ISO date); where a
    figure was agreed more than once, the latest agreement. Sorted by customer, material,
    month.

    >>> a = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "period": pd.Period("2026-07", "M"), "quantity": [120.0, 110.0], "basis": "own",
    ...     "agreed_by": "A. Schäfer",
    ...     "agreed_on": pd.to_datetime(["2026-05-12", "2026-06-12"])})
    >>> sop_export(a)[["month", "quantity", "agreed_on"]].to_dict("records")
    [{'month': '2026-07', 'quantity': 110.0, 'agreed_on': '2026-06-12'}]
    """
    a = _plain(agreed).sort_values("agreed_on", kind="stable")
    a = a.drop_duplicates(["customer_id", "material_id", "period"], keep="last")
    names = (
        a["customer_id"].map(customers.set_index("customer_id")["name"])
        if customers is not None and "name" in customers
        else pd.Series(pd.NA, index=a.index)
    )
    out = pd.DataFrame(
        {
            "customer_id": a["customer_id"],
            "customer": names.astype("string"),
            "material_id": a["material_id"],
            "month": a["period"].dt.strftime("%Y-%m"),
            "quantity": a["quantity"].astype("float64"),
            "basis": a["basis"],
            "agreed_by": a["agreed_by"],
            "agreed_on": a["agreed_on"].dt.strftime("%Y-%m-%d"),
        }
    )
    return out.sort_values(["customer_id", "material_id", "month"], ignore_index=True)


def with_agreed(challenges: pd.DataFrame, agreed: pd.DataFrame | None) -> pd.DataFrame:
    """The challenge list with the KAM's ``agreed_quantity`` and its ``basis`` per figure.

    Each flagged figure (customer × material × target month of
    :func:`kamlab.accuracy.challenge_list`) gets the latest agreement for that month made on
    or after the challenged snapshot (`agreed`: table agreed_forecasts); none yet: both
    empty, for the KAM to fill in the workbook (basis: customer / kamlab / own).

    >>> ch = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M2"],
    ...     "snapshot_date": pd.Timestamp("2026-11-05"), "period": pd.Period("2026-12", "M")})
    >>> a = pd.DataFrame({"customer_id": "C1", "material_id": ["M1"],
    ...     "period": pd.Period("2026-12", "M"), "quantity": [90.0], "basis": "kamlab",
    ...     "agreed_by": "A. Schäfer", "agreed_on": pd.Timestamp("2026-11-12")})
    >>> with_agreed(ch, a)[["material_id", "agreed_quantity", "basis"]].to_dict("records")
    [{'material_id': 'M1', 'agreed_quantity': 90.0, 'basis': 'kamlab'}, \
{'material_id': 'M2', 'agreed_quantity': nan, 'basis': nan}]
    """
    out = _plain(challenges).reset_index(drop=True)
    empty = out.assign(
        agreed_quantity=pd.Series(float("nan"), index=out.index, dtype="float64"),
        basis=pd.Series(pd.NA, index=out.index, dtype="str"),
    )
    if agreed is None or agreed.empty or out.empty:
        return empty
    keys = ["customer_id", "material_id", "period"]
    a = _plain(agreed)[[*keys, "quantity", "basis", "agreed_on"]]
    m = out[[*keys, "snapshot_date"]].reset_index().merge(a, on=keys, how="inner")
    m = m[m["agreed_on"] >= m["snapshot_date"].dt.normalize()]
    m = m.sort_values("agreed_on", kind="stable").drop_duplicates("index", keep="last")
    m = m.set_index("index")
    return empty.assign(
        agreed_quantity=m["quantity"].reindex(out.index).astype("float64"),
        basis=m["basis"].reindex(out.index).astype("str"),
    )
