"""The pack's languages: translated sentences and locale formats for numbers, money and dates.

A :class:`Language` is what a page needs to speak to its reader: ``text(message, **values)``
translates an English template (a gettext catalog entry, ``kamlab/i18n/locales/<code>.po``)
and fills its named placeholders; ``number``, ``money``, ``percent``, ``date`` and ``month``
format figures with Babel's locale data ("1.234,56 €", "07.12.2026", "Dez. 2026"). English is
the source language: its catalog is the messages themselves. A company may override any
entry with its own words in ``<glossary_dir>/<code>.po`` (``[pack] glossary_dir``).

A missing figure is "–" in every language, never 0.

>>> de = language("de")
>>> de.money(1234.56, "EUR"), de.percent(0.125, digits=1), de.month(pd.Period("2026-12", "M"))
('1.235\\xa0€', '12,5\\xa0%', 'Dez. 2026')
>>> de.text("{done} of {due} lines on time and in full", done=de.count(9), due=de.count(10))
'9 von 10 Positionen termin- und mengentreu'
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

__all__ = ["LANGUAGES", "MISSING", "Language", "catalog", "language"]

LANGUAGES = ("en", "de", "it")
MISSING = "–"


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _read(path: Path | resources.abc.Traversable) -> dict[str, str]:
    with path.open("rb") as fh:
        po = read_po(fh)
    return {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}


def catalog(code: str, glossary_dir: str | Path | None = None) -> dict[str, str]:
    """English template -> translation for `code`: the shipped catalog, then the company's
    overrides from ``<glossary_dir>/<code>.po`` (empty for English without overrides)."""
    if code not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {code!r}")
    entries: dict[str, str] = {}
    shipped = resources.files("kamlab.i18n") / "locales" / f"{code}.po"
    if code != "en":
        entries.update(_read(shipped))
    if glossary_dir is not None:
        own = Path(glossary_dir) / f"{code}.po"
        if own.is_file():
            entries.update(_read(own))
    return entries


@dataclass(frozen=True)
class Language:
    """Sentences and formats of one language (``en``, ``de``, ``it``)."""

    code: str
    messages: dict[str, str] = field(repr=False)

    @functools.cached_property
    def locale(self) -> Locale:
        return Locale.parse({"en": "en_GB", "de": "de_DE", "it": "it_IT"}[self.code])

    def text(self, message: str, **values: object) -> str:
        """`message` translated, its ``{name}`` placeholders filled with `values` (already
        formatted text: format figures with the methods below first)."""
        template = self.messages.get(message, message)
        return template.format(**values) if values else template

    def number(self, value: object, *, digits: int = 0) -> str:
        if _missing(value):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(float(value), format=pattern, locale=self.locale)

    def count(self, value: object) -> str:
        return self.number(value)

    def money(self, value: object, currency: str, *, digits: int = 0) -> str:
        """An amount with its currency in the locale's currency pattern, rounded to `digits`
        decimals (whole units by default; prices with 2)."""
        if _missing(value) or _missing(currency):
            return MISSING
        pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        pattern = pattern.replace(".00", "." + "0" * digits if digits else "")
        return format_currency(
            round(float(value), digits), str(currency), format=pattern, locale=self.locale,
            currency_digits=False,
        )  # fmt: skip

    def percent(self, value: object, *, signed: bool = False, digits: int = 0) -> str:
        """A fraction as a percentage (0.953 -> "95 %" / "95 %")."""
        if _missing(value) or not math.isfinite(float(value)):
            return MISSING
        base = self.locale.percent_formats[None].pattern.split(";")[0]
        if digits:
            base = re.sub(r"0(\s*%)", "0." + "0" * digits + r"\1", base, count=1)
        text = format_percent(float(value), format=base, locale=self.locale)
        return ("+" + text) if signed and float(value) > 0 else text

    def days(self, value: object) -> str:
        if _missing(value):
            return MISSING
        n = round(float(value))
        if n in (1, -1):
            return self.text("{n} day", n=self.number(n))
        return self.text("{n} days", n=self.number(n))

    def date(self, value: object) -> str:
        """A day in the locale's medium form ("7 Dec 2026", "07.12.2026", "7 dic 2026")."""
        if _missing(value):
            return MISSING
        return format_date(pd.Timestamp(value).date(), format="medium", locale=self.locale)

    def month(self, value: object) -> str:
        """A month in the locale's abbreviation ("Dec 2026", "Dez. 2026", "dic 2026")."""
        if _missing(value):
            return MISSING
        day = (value.start_time if isinstance(value, pd.Period) else pd.Timestamp(value)).date()
        return format_date(day, format="MMM y", locale=self.locale)


@functools.lru_cache(maxsize=16)
def _language(code: str, glossary_dir: str | None) -> Language:
    return Language(code, catalog(code, glossary_dir))


def language(code: str = "en", *, glossary_dir: str | Path | None = None) -> Language:
    """The :class:`Language` for `code` (``en``, ``de`` or ``it``), with a company's overrides
    from `glossary_dir` if given. Raises ``ValueError`` for another code."""
    return _language(code, None if glossary_dir is None else str(glossary_dir))
