"""Executed notebooks to self-contained, offline HTML, and atomic file writes.

The nbconvert template (``kamlab/templates``) renders cells the JupyterLab way inside a
small page of our own: no code, no prompts, no scripts, no external URL; figures are
already base64 PNG inside the outputs. :func:`external_urls` is the check the pack and the
tests apply to every page written.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from functools import cache
from pathlib import Path
from urllib.parse import quote

import nbformat
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from kamlab.config import PAPER_SIZES
from kamlab.i18n import text

__all__ = [
    "PAPER_SIZES",
    "TEMPLATES",
    "PageExporter",
    "atomic_write",
    "contents",
    "external_urls",
    "notebook_html",
]


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# a URL the browser would fetch or follow off the machine: in src/href/url()/@import
_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)\s*((?:https?:)?//[^"'\s)>]+)""",
    re.IGNORECASE,
)


class PageExporter(HTMLExporter):
    """nbconvert's HTML exporter without its closing BeautifulSoup pass.

    That pass parses and re-serialises the whole page (base64 figures included), a fifth of
    the pack process's time per scorecard, to add ``alt`` to images without one and
    ``tabindex`` under ``.jp-Notebook``: every kamlab figure has its ``alt`` and the kamlab
    template has no ``.jp-Notebook``, so it changes nothing but the spelling of the markup
    (``tests/test_pack.py`` checks the pages parse to the same document as nbconvert's).
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        # HTMLExporter.from_notebook_node up to its BeautifulSoup pass
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name", None))
        highlight = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
        )
        resources = self._init_resources(resources)
        data_types = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight)
        self.register_filter("filter_data_type", data_types)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


# the payload of a data: URI (base64 has no quotes, brackets or spaces: it ends the match)
_BASE64 = re.compile(r"base64,[A-Za-z0-9+/]+=*")


@cache
def _exporter() -> PageExporter:
    """One exporter per process: building its Jinja environment costs more than a render."""
    return PageExporter(
        template_name=TEMPLATES.name,
        extra_template_basedirs=[str(TEMPLATES.parent)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def notebook_html(
    nb: nbformat.NotebookNode,
    *,
    title: str,
    footer: str = "",
    paper: str = "A4",
    language: str = "en",
) -> str:
    """The executed notebook `nb` as one offline HTML page titled `title`, printing on `paper`,
    in `language` (its ``lang`` attribute; the words of the page's own frame, such as
    "Contents", in the active language)."""
    if paper not in PAPER_SIZES:
        raise ValueError(f"paper must be one of {PAPER_SIZES}, got {paper!r}")
    # a shallow copy titled `title` (the exporter deep-copies the notebook itself)
    nb = nbformat.NotebookNode(nb, metadata=nbformat.NotebookNode(nb.metadata, title=title))
    resources = {
        "metadata": {"name": title},
        "kamlab_footer": footer,
        "kamlab_paper": paper,
        "kamlab_toc": contents(nb),
        "kamlab_language": language,
        "kamlab_contents": text("Contents"),
    }
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return body


def contents(nb: nbformat.NotebookNode) -> list[dict[str, str]]:
    """The page's table of contents: per markdown cell opening with a ``## `` heading, its
    title and the id nbconvert gives the heading (spaces as "-", URL-quoted), in order.

    The template prints it before the first of those headings (none for fewer than three).
    """
    toc = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            text = cell.source.splitlines()[0][3:].strip()
            anchor = quote(text.replace(" ", "-"), safe="?/:@!$&'()*+,;=")
            toc.append({"title": text, "anchor": anchor, "source": cell.source})
    return toc if len(toc) >= 3 else []


def external_urls(page: str) -> list[str]:
    """Every URL in `page` that a browser would load or follow off the machine.

    Base64 payloads (the figures, most of a page) are left out of the search: nothing in
    them is loaded, and skipping them makes the check three times faster.
    """
    return _EXTERNAL.findall(_BASE64.sub("base64,", page))


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` via a temporary file in the same directory and ``os.replace``.

    The temporary name is unique (process id and a random part); it is created with mode
    0666 so the process umask gives the file the usual permissions, as ``open`` would. An
    :class:`OSError` (full disk, file-size limit, read-only folder) names `path`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:
        raise _named(err, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except OSError as err:  # a full disk, a file-size limit: named by the file meant
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise _named(err, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _named(err: OSError, path: Path) -> OSError:
    """`err` naming `path` (a write error on an open file names none, a temporary one ours)."""
    return type(err)(err.errno, err.strerror or str(err), str(path))
