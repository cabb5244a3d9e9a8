"""Numbers, money, percentages, days and dates as the pack writes them (English).

Every function takes a value and returns text; a missing value (None, NaN, ``pd.NA``, NaT)
is "–", never "0". Fractions are shown as percentages (0.953 -> "95 %"); amounts are
rounded to whole units with thousands separators.

>>> percent(0.953), percent(-0.004), percent(0.05, signed=True), percent(None)
('95 %', '0 %', '+5 %', '–')
>>> short_amount(1_234_567), short_amount(35_400), short_amount(980)
('1.2M', '35k', '980')
>>> days(1), days(12.4), money(1234.6, "EUR"), count(2100)
('1 day', '12 days', '1,235 EUR', '2,100')
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "MISSING",
    "count",
    "date",
    "days",
    "money",
    "month",
    "month_abbr",
    "month_year",
    "number",
    "percent",
    "points",
    "short_amount",
    "short_money",
    "signed_percent",
]

MISSING = "–"  # a figure that is not there: never written as 0


def _value(value: object) -> float:
    """`value` as a float; NaN for None, NaN and pd.NA."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def percent(value: object, *, signed: bool = False, digits: int = 0) -> str:
    """A fraction as a percentage: 0.953 -> "95 %" (signed: "+5 %"); never "-0 %"."""
    v = _value(value)
    if v != v:
        return MISSING
    shown = round(v * 100, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{shown:{'+' if signed and shown else ''}.{digits}f} %"


def signed_percent(value: object) -> str:
    """A change as a signed percentage: 0.05 -> "+5 %"."""
    return percent(value, signed=True)


def points(value: object, *, digits: int = 0) -> str:
    """A change of a fraction in percentage points: 0.03 -> "+3 pts"."""
    v = _value(value)
    if v != v:
        return MISSING
    shown = round(v * 100, digits) + 0.0
    return f"{shown:{'+' if shown else ''}.{digits}f} pts"


def short_amount(value: object) -> str:
    """An amount in thousands or millions: 1.2M, 350k, 980."""
    v = _value(value)
    if v != v:
        return MISSING
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.1f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:,.0f}k"
    return f"{v:,.0f}"


def short_money(value: object, currency: str) -> str:
    """An amount in thousands or millions with its currency: "1.2M EUR"."""
    text = short_amount(value)
    return text if text == MISSING else f"{text} {currency}"


def number(value: object) -> str:
    """A figure rounded to a whole number, with thousands separators: "211,600"."""
    v = _value(value)
    return MISSING if v != v else f"{round(v) + 0:,.0f}"  # + 0: no "-0"


def count(value: object) -> str:
    """A count of things: "2,100"."""
    v = _value(value)
    return MISSING if v != v else f"{int(v):,}"


def days(value: object) -> str:
    """A number of days: "1 day", "12 days"."""
    text = number(value)
    return text if text == MISSING else f"{text} {'day' if text in ('1', '-1') else 'days'}"


def money(value: object, currency: str) -> str:
    """An amount in whole units with its currency: "1,235 EUR"."""
    v = _value(value)
    return MISSING if v != v else f"{v:,.0f} {currency}"


def date(value: object) -> str:
    """A day as written in sentences and tables: "07 Dec 2026"."""
    if value is None or pd.isna(value):
        return MISSING
    return pd.Timestamp(value).strftime("%d %b %Y")


def month(value: object) -> str:
    """A month in full: "December 2026"."""
    if value is None or pd.isna(value):
        return MISSING
    return pd.Period(value, "M").strftime("%B %Y")


def month_year(value: object) -> str:
    """A month, short: "Dec 2026"."""
    if value is None or pd.isna(value):
        return MISSING
    return pd.Period(value, "M").strftime("%b %Y")


def month_abbr(value: object) -> str:
    """A month's short name: "Dec"."""
    if value is None or pd.isna(value):
        return MISSING
    return pd.Period(value, "M").strftime("%b")
