"""What a user reads: numbers, money, percentages, days and dates formatted for the pack.

:mod:`kamlab.i18n.formats` turns values into text; English today. Every function takes the
value (and, later, the locale) and returns a string, with no state of its own, so the pages,
the commentary and the workbook format a figure the same way.
"""

from kamlab.i18n import formats

__all__ = ["formats"]
