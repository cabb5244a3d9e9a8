"""What a user reads, in the pack's language: sentences from translatable templates and
figures in the locale's formats.

:func:`speaking` sets the language the pages are written in; :func:`text` translates an
English template and fills its named placeholders; :mod:`kamlab.i18n.formats` turns values
into text in that language. Catalogs: ``kamlab/i18n/locales/<code>/*.po``.
"""

from kamlab.i18n import formats
from kamlab.i18n.language import LANGUAGES, Language, current, language, speak, speaking, text

__all__ = ["LANGUAGES", "Language", "current", "formats", "language", "speak", "speaking", "text"]
