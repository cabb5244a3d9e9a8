"""Safe file names for customer ids: ASCII letters, digits, dot, dash and underscore only."""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["slug"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str, *, max_length: int = 60) -> str:
    """A file-name-safe, stable slug of `text` (a customer id).

    Accents are folded to ASCII, every other unsafe run (quotes, slashes, braces, spaces,
    non-Latin letters) becomes ``-``; whenever that changed anything, a short hash of the
    original is appended so two ids never share a slug. Never empty, never ``.``/``..``.

    >>> slug("C001")
    'C001'
    >>> slug('Müller/"AG"')
    'Muller-AG-f6680d7f'
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    safe = _UNSAFE.sub("-", folded).strip("-.")[:max_length] or "id"
    if safe != text:
        safe += "-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return safe
