"""The pack notebooks' narrative (their markdown cells) in the language of the page.

A pack notebook's markdown is English text written for the reader: a ``## `` heading and the
lines under it, glossary entries as ``- `` list items. Each line is one catalog entry (the
heading's or list item's text without its markdown prefix), translated with
:meth:`kamlab.i18n.Language.text`; a line without a translation stays as it is. The pack
runs the translated copy, written once per notebook and language by :func:`translated_notebook`;
an English page runs the notebook itself, unchanged.

>>> from kamlab.i18n import language
>>> translate_markdown("## Rankings\\nThe accounts by revenue.", language("en"))
'## Rankings\\nThe accounts by revenue.'
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat

from kamlab.i18n.language import Language

__all__ = ["markdown_messages", "translate_markdown", "translated_notebook"]

# a markdown line: its prefix (heading, list bullet, indent) and the text a translator sees
_LINE = re.compile(r"^(?P<prefix>\s*(?:#{1,6}\s+|[-*]\s+|\d+\.\s+)?)(?P<text>.*?)\s*$")


def _lines(source: str) -> list[tuple[str, str]]:
    return [(m["prefix"], m["text"]) for m in map(_LINE.match, source.split("\n"))]


def translate_markdown(source: str, lang: Language) -> str:
    """`source` (markdown) line by line in `lang`; prefixes and empty lines kept."""
    return "\n".join(prefix + (lang.text(text) if text else "") for prefix, text in _lines(source))


def markdown_messages(notebook: str | Path) -> list[str]:
    """The English messages of `notebook`'s markdown cells, one per non-empty line."""
    nb = nbformat.read(notebook, as_version=4)
    found = [
        text
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for _, text in _lines(cell.source)
        if text
    ]
    return list(dict.fromkeys(found))


def translated_notebook(notebook: str | Path, lang: Language, folder: Path) -> Path:
    """`notebook` with its markdown in `lang`, written to `folder` (named by the notebook,
    the language and a hash of the translated notebook, so a changed catalog or notebook is
    a new file); `notebook` itself for English."""
    notebook = Path(notebook)
    if lang.english:
        return notebook
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = translate_markdown(cell.source, lang)
    text = nbformat.writes(nb)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    target = folder / f"{notebook.stem}.{lang.code}.{digest}.ipynb"
    if not target.exists():
        from kamlab.pack.html import atomic_write

        atomic_write(target, text)
    return target
