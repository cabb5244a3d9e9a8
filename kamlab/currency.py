"""Currency conversion: the one place where amounts in several currencies become one.

Amounts are never added across currencies without a stated rate. A rate is the number of
units of the reporting currency per unit of a currency (reporting in EUR: EUR per USD, e.g.
``{"EUR": 1.0, "USD": 0.92}``); the reporting currency itself converts at 1 unless given.

Rates come either undated — a mapping, as ``[scorecard] fx_rates`` in ``kamlab.toml``: the
same rate for every date — or dated — a frame ``currency, date, rate`` (closing rates, e.g.
month ends): an amount dated *d* converts at the latest rate dated on or before *d*.

Which date each report converts at (with undated rates they coincide):

=====================================================  ========================================
report                                                 rate
=====================================================  ========================================
receivables in the reporting currency (ageing,         closing rate at the as-of date: open
overdue, provision totals; ``in_reporting_currency``)  items are revalued at the closing rate
                                                       (IAS 21.23)
revenue rankings (ABC), key-account matrix revenue,    rate at the end of each demand month:
growth and margin (``classify.account_criteria``,      revenue at the rate of its (monthly)
the chain's classify step)                             document date (IAS 21.21-22)
unit cost in another currency (matrix margin)          closing rate at the as-of date
=====================================================  ========================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["Rates", "convert", "rate_factors"]

Rates = Mapping[str, float] | pd.Series | pd.DataFrame


def rate_factors(
    currencies: pd.Series | Sequence[str],
    rates: Rates,
    *,
    on: pd.Timestamp | str | pd.Series | None = None,
    reporting_currency: str | None = None,
    missing: str = "raise",
) -> np.ndarray:
    """The rate of each of `currencies` (units of the reporting currency per unit), as floats.

    `rates` undated (mapping or Series currency → rate) or dated (frame with columns
    currency, date, rate); with dated rates `on` gives the date of each amount (one date,
    or a Series of dates or monthly Periods aligned with `currencies`; a Period converts at
    its last day) and the latest rate on or before it is used. A currency without a rate
    (at that date) raises ``ValueError`` naming it, or gives NaN with ``missing="nan"``.

    >>> rate_factors(["EUR", "USD"], {"USD": 0.9}, reporting_currency="EUR").tolist()
    [1.0, 0.9]
    >>> dated = pd.DataFrame({"currency": "USD", "date": pd.to_datetime(["2025-05-31",
    ...     "2025-06-30"]), "rate": [0.90, 0.95]})
    >>> rate_factors(["USD", "USD"], dated, on=pd.Series(pd.to_datetime(["2025-06-15",
    ...     "2025-06-30"]))).tolist()
    [0.9, 0.95]
    """
    codes, names = pd.factorize(pd.Series(currencies, dtype="string").reset_index(drop=True))
    out = np.full(len(codes), np.nan)
    if isinstance(rates, pd.DataFrame):
        table = rates.assign(date=pd.to_datetime(rates["date"])).sort_values("date")
        dates = _dates(on, len(codes))
        for i, name in enumerate(names):
            rows = codes == i
            known = table[table["currency"] == name]
            if name == reporting_currency and known.empty:
                out[rows] = 1.0
                continue
            values = known["rate"].to_numpy(dtype="float64")
            if len(values):
                at = np.searchsorted(known["date"].to_numpy(), dates[rows], side="right") - 1
                out[rows] = np.where(at >= 0, values[np.maximum(at, 0)], np.nan)
    else:
        plain = {str(k): float(v) for k, v in dict(rates).items()}
        if reporting_currency is not None:
            plain.setdefault(reporting_currency, 1.0)
        out = np.append([plain.get(n, np.nan) for n in names], np.nan)[codes]
    unknown = sorted(set(names[codes[np.isnan(out) & (codes >= 0)]]))
    if unknown and missing == "raise":
        to = f" to {reporting_currency}" if reporting_currency else ""
        when = " at the amounts' dates" if isinstance(rates, pd.DataFrame) else ""
        raise ValueError(f"no rate{to} for {unknown}{when}; give one per currency")
    return out


def convert(
    frame: pd.DataFrame,
    rates: Rates,
    *,
    amounts: Sequence[str],
    reporting_currency: str,
    on: pd.Timestamp | str | pd.Series | None = None,
) -> pd.DataFrame:
    """`frame` with its `amounts` columns in `reporting_currency` and ``currency`` set to it.

    amount_reporting = amount × rate(currency, date) (:func:`rate_factors`; `on` as there,
    e.g. ``frame["period"]`` for monthly revenue or the as-of date for open items). Raises
    ``ValueError`` naming any currency without a rate: nothing is converted at a guess.

    >>> t = pd.DataFrame({"currency": ["EUR", "USD"], "net_value": [100.0, 50.0]})
    >>> convert(t, {"USD": 0.9}, amounts=["net_value"], reporting_currency="EUR")["net_value"].tolist()
    [100.0, 45.0]
    """
    factor = rate_factors(frame["currency"], rates, on=on, reporting_currency=reporting_currency)
    converted = {
        col: frame[col].to_numpy(dtype="float64", na_value=np.nan) * factor for col in amounts
    }
    return frame.assign(**converted, currency=reporting_currency)


def _dates(on: pd.Timestamp | str | pd.Series | None, n: int) -> np.ndarray:
    """`on` as n datetime64 values (a Period counts at its last day)."""
    if on is None:
        raise ValueError("dated rates need the date of the amounts: pass on=")
    if isinstance(on, pd.Series):
        if isinstance(on.dtype, pd.PeriodDtype):
            on = on.dt.end_time.dt.normalize()
        return pd.to_datetime(on).to_numpy(dtype="datetime64[ns]")
    return np.full(n, pd.Timestamp(on).to_datetime64().astype("datetime64[ns]"))
