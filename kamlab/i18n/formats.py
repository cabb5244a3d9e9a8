"""Numbers, money, percentages, days and dates as the pack writes them, in the active language.

Every function takes a value and returns text in the language set by
:func:`kamlab.i18n.speaking` (English until then): one formatter,
:class:`kamlab.i18n.language.Language`, does the work. A missing value (None, NaN,
``pd.NA``, NaT) is "–", never "0". Fractions are shown as percentages (0.953 -> "95 %");
amounts are rounded to whole units with thousands separators.

>>> percent(0.953), percent(-0.004), percent(0.05, signed=True), percent(None)
('95 %', '0 %', '+5 %', '–')
>>> short_amount(1_234_567), short_amount(35_400), short_amount(980)
('1.2M', '35k', '980')
>>> days(1), days(12.4), money(1234.6, "EUR"), count(2100)
('1 day', '12 days', '1,235 EUR', '2,100')
>>> import pandas as pd
>>> from kamlab.i18n import speaking
>>> with speaking("de"):
...     money(1234.6, "EUR"), percent(0.953), month_year(pd.Period("2026-12", "M"))
('1.235\\xa0€', '95\\xa0%', 'Dez. 2026')
"""

from __future__ import annotations

from kamlab.i18n.language import MISSING, current, text

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
    "text",
]


def percent(value: object, *, signed: bool = False, digits: int = 0) -> str:
    """A fraction as a percentage: 0.953 -> "95 %" (signed: "+5 %"); never "-0 %"."""
    return current().percent(value, signed=signed, digits=digits)


def signed_percent(value: object) -> str:
    """A change as a signed percentage: 0.05 -> "+5 %"."""
    return current().signed_percent(value)


def points(value: object, *, digits: int = 0) -> str:
    """A change of a fraction in percentage points: 0.03 -> "+3 pts"."""
    return current().points(value, digits=digits)


def short_amount(value: object) -> str:
    """An amount in thousands or millions: 1.2M, 350k, 980."""
    return current().short_amount(value)


def short_money(value: object, currency: str) -> str:
    """An amount in thousands or millions with its currency: "1.2M EUR"."""
    return current().short_money(value, currency)


def number(value: object) -> str:
    """A figure rounded to a whole number, with thousands separators: "211,600"."""
    return current().number(value)


def count(value: object) -> str:
    """A count of things: "2,100"."""
    return current().count(value)


def days(value: object) -> str:
    """A number of days: "1 day", "12 days"."""
    return current().days(value)


def money(value: object, currency: str) -> str:
    """An amount in whole units with its currency: "1,235 EUR"."""
    return current().money(value, currency)


def date(value: object) -> str:
    """A day as written in sentences and tables: "07 Dec 2026"."""
    return current().date(value)


def month(value: object) -> str:
    """A month in full: "December 2026"."""
    return current().month_full(value)


def month_year(value: object) -> str:
    """A month, short: "Dec 2026"."""
    return current().month(value)


def month_abbr(value: object) -> str:
    """A month's short name: "Dec"."""
    return current().month_abbr(value)
