"""The pack's languages: translated sentences and locale formats for numbers, money and dates.

A :class:`Language` is what a page needs to speak to its reader: ``text(message, **values)``
translates an English template (a gettext catalog entry, ``kamlab/i18n/locales/<code>/*.po``)
and fills its named placeholders; ``number``, ``money``, ``percent``, ``date``, ``month`` and
the others format figures. German and Italian use Babel's locale data ("1.234,56 €",
"07.12.2026", "Dez. 2026"); English keeps the pack's own house style ("1,235 EUR", "95 %",
"07 Dec 2026"). English is the source language: its catalog is the messages themselves. A
company may override any entry with its own words in ``<glossary_dir>/<code>.po``
(``[pack] glossary_dir``).

The pages speak the *active* language: the edge that builds them (the pack runner, the
notebook, the CLI) sets it once with :func:`speaking` (or :func:`speak` in a notebook), and
:mod:`kamlab.i18n.formats` and :func:`text` follow it. Analytics never format text, so they
never see it.

A missing figure is "–" in every language, never 0.

>>> de = language("de")
>>> de.money(1234.56, "EUR"), de.percent(0.125, digits=1), de.month(pd.Period("2026-12", "M"))
('1.235\\xa0€', '12,5\\xa0%', 'Dez. 2026')
>>> de.text("{done} of {due} lines on time and in full", done=de.count(9), due=de.count(10))
'9 von 10 Positionen termin- und mengentreu'
>>> with speaking("it"):
...     text("{n} days", n=3)
'3 giorni'
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import (
    format_compact_decimal,
    format_currency,
    format_decimal,
    format_percent,
)

__all__ = [
    "LANGUAGES",
    "MISSING",
    "Language",
    "catalog",
    "current",
    "language",
    "speak",
    "speaking",
    "text",
]

LANGUAGES = ("en", "de", "it")
MISSING = "–"
_LOCALES = {"en": "en_GB", "de": "de_DE", "it": "it_IT"}


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _float(value: object) -> float:
    """`value` as a float; NaN for None, NaN, NaT and pd.NA."""
    return float("nan") if _missing(value) else float(value)


def _read(path: Path | resources.abc.Traversable) -> dict[str, str]:
    with path.open("rb") as fh:
        po = read_po(fh)
    return {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}


def catalog(code: str, glossary_dir: str | Path | None = None) -> dict[str, str]:
    """English template -> translation for `code`: the shipped catalogs (every ``*.po`` in
    ``locales/<code>/``), then the company's overrides from ``<glossary_dir>/<code>.po``
    (empty for English without overrides)."""
    if code not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {code!r}")
    entries: dict[str, str] = {}
    shipped = resources.files("kamlab.i18n") / "locales" / code
    if code != "en" and shipped.is_dir():
        for part in sorted(shipped.iterdir(), key=lambda p: p.name):
            if part.name.endswith(".po"):
                entries.update(_read(part))
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
        return Locale.parse(_LOCALES[self.code])

    @property
    def english(self) -> bool:
        return self.code == "en"

    def text(self, message: str, **values: object) -> str:
        """`message` translated, its ``{name}`` placeholders filled with `values` (already
        formatted text: format figures with the methods below first)."""
        template = self.messages.get(message, message)
        return template.format(**values) if values else template

    def number(self, value: object, *, digits: int = 0) -> str:
        """A figure with thousands separators: "211,600" / "211.600" (never "-0")."""
        v = _float(value)
        if v != v:
            return MISSING
        v = round(v, digits) + 0.0
        if self.english:
            return f"{v:,.{digits}f}"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(v, format=pattern, locale=self.locale)

    def count(self, value: object) -> str:
        """A count of things: "2,100" / "2.100"."""
        v = _float(value)
        return MISSING if v != v else self.number(int(v))

    def money(self, value: object, currency: str, *, digits: int = 0) -> str:
        """An amount with its currency, rounded to `digits` decimals (whole units by default;
        prices with 2): "1,235 EUR" in English, the locale's currency pattern otherwise
        ("1.235 €")."""
        v = _float(value)
        if v != v or _missing(currency):
            return MISSING
        if self.english:
            return f"{self.number(v, digits=digits)} {currency}"
        pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        pattern = pattern.replace(".00", "." + "0" * digits if digits else "")
        return format_currency(
            round(v, digits) + 0.0, str(currency), format=pattern, locale=self.locale,
            currency_digits=False,
        )  # fmt: skip

    def percent(self, value: object, *, signed: bool = False, digits: int = 0) -> str:
        """A fraction as a percentage: 0.953 -> "95 %" ("95 %" / "95%" in de / it); signed
        "+5 %"; never "-0 %"."""
        v = _float(value)
        if v != v or not math.isfinite(v):
            return MISSING
        shown = round(v * 100, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
        if self.english:
            return f"{shown:{'+' if signed and shown else ''}.{digits}f} %"
        base = self.locale.percent_formats[None].pattern.split(";")[0]
        if digits:
            base = re.sub(r"0(\s*%)", "0." + "0" * digits + r"\1", base, count=1)
        text = format_percent(shown / 100, format=base, locale=self.locale)
        return ("+" + text) if signed and shown > 0 else text

    def signed_percent(self, value: object) -> str:
        """A change as a signed percentage: 0.05 -> "+5 %"."""
        return self.percent(value, signed=True)

    def points(self, value: object, *, digits: int = 0) -> str:
        """A change of a fraction in percentage points: 0.03 -> "+3 pts"."""
        v = _float(value)
        if v != v:
            return MISSING
        shown = round(v * 100, digits) + 0.0
        n = ("+" if shown > 0 else "") + self.number(shown, digits=digits)
        return self.text("{n} pts", n=n)

    def short_amount(self, value: object) -> str:
        """An amount in thousands or millions: "1.2M", "350k", "980"; in de and it millions
        in the locale's short form ("1,2 Mio.", "1,2 Mln"), smaller amounts whole ("35.400")."""
        v = _float(value)
        if v != v:
            return MISSING
        if self.english:
            if abs(v) >= 1e6:
                return f"{v / 1e6:,.1f}M"
            if abs(v) >= 1e4:
                return f"{v / 1e3:,.0f}k"
            return f"{v:,.0f}"
        if abs(v) < 1e6:  # CLDR has no short form for thousands in de ("495186,63"): whole
            return self.number(v)
        return format_compact_decimal(round(v, -5), locale=self.locale, fraction_digits=1)

    def short_money(self, value: object, currency: str) -> str:
        """An amount in thousands or millions with its currency: "1.2M EUR"."""
        text = self.short_amount(value)
        return text if text == MISSING else f"{text} {currency}"

    def days(self, value: object) -> str:
        """A number of days: "1 day", "12 days"."""
        v = _float(value)
        if v != v:
            return MISSING
        n = round(v) + 0
        template = "{n} day" if n in (1, -1) else "{n} days"
        return self.text(template, n=self.number(n))

    def date(self, value: object) -> str:
        """A day: "07 Dec 2026" in English, the locale's medium form otherwise
        ("07.12.2026", "7 dic 2026")."""
        if _missing(value):
            return MISSING
        day = pd.Timestamp(value)
        if self.english:
            return day.strftime("%d %b %Y")
        return format_date(day.date(), format="medium", locale=self.locale)

    def _month(self, value: object, pattern: str, english: str) -> str:
        if _missing(value):
            return MISSING
        period = value if isinstance(value, pd.Period) else pd.Period(value, "M")
        if self.english:
            return period.strftime(english)
        return format_date(period.start_time.date(), format=pattern, locale=self.locale)

    def month(self, value: object) -> str:
        """A month, short: "Dec 2026", "Dez. 2026", "dic 2026"."""
        return self._month(value, "MMM y", "%b %Y")

    def month_full(self, value: object) -> str:
        """A month in full: "December 2026", "Dezember 2026", "dicembre 2026"."""
        return self._month(value, "MMMM y", "%B %Y")

    def month_abbr(self, value: object) -> str:
        """A month's short name: "Dec", "Dez.", "dic"."""
        return self._month(value, "MMM", "%b")


@functools.lru_cache(maxsize=16)
def _language(code: str, glossary_dir: str | None) -> Language:
    return Language(code, catalog(code, glossary_dir))


def language(code: str = "en", *, glossary_dir: str | Path | None = None) -> Language:
    """The :class:`Language` for `code` (``en``, ``de`` or ``it``), with a company's overrides
    from `glossary_dir` if given. Raises ``ValueError`` for another code."""
    return _language(code, None if glossary_dir is None else str(glossary_dir))


_active: Language | None = None


def current() -> Language:
    """The language the pages are being written in (English until :func:`speak` is called)."""
    return _active if _active is not None else language("en")


def speak(lang: Language | str) -> Language:
    """Make `lang` (a :class:`Language` or a code) the active language of this process;
    returns the one it replaces. For a notebook's first cell; code uses :func:`speaking`."""
    global _active
    previous = current()
    _active = lang if isinstance(lang, Language) else language(lang)
    return previous


@contextlib.contextmanager
def speaking(lang: Language | str) -> Iterator[Language]:
    """Write in `lang` inside the ``with`` block, then back to the language before."""
    previous = speak(lang)
    try:
        yield current()
    finally:
        speak(previous)


def text(message: str, /, **values: object) -> str:
    """`message` in the active language, its ``{name}`` placeholders filled with `values`."""
    return current().text(message, **values)
