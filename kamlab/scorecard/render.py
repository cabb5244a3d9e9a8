"""Turn tables and figures into self-contained HTML fragments for notebooks and the pack.

Everything a scorecard shows passes through here: text is HTML-escaped, figures become
base64 PNG ``<img>`` tags (no files, no URLs), tables are plain ``<table>`` elements. A
:class:`Section` displays once in a notebook (``_repr_html_``) and has a short, stable plain
``repr`` so executed notebooks carry no memory addresses.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping

import matplotlib
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from kamlab.i18n import current, text
from kamlab.i18n import formats as formats_

__all__ = ["Section", "figure_html", "note_html", "table_html"]

FIGURE_DPI = 90  # readable at A4 width, keeps a scorecard well under 300 KB
# The figures are flat colours and anti-aliased edges: a 256-colour palette PNG (fast octree,
# no dithering) looks the same and is a third of the size of the RGBA PNG (on the default
# demo's largest scorecard 200 KB of figures become 60 KB), and encodes faster (36 vs 45 ms
# a figure): the palette image has a quarter of the bytes to compress.
PNG_COLOURS = 256
PNG_COMPRESSION = 6  # zlib level of the palette PNGs: level 9 saves 8 % for 2.5 x the time
PRINT_ROWS = 3  # rows of a ranked list printed on paper; the screen shows up to `max_rows`


class Section:
    """One block of a scorecard: a title (for reprs and logs) and an HTML body, shown as HTML."""

    def __init__(self, title: str, body: str, *, status: str = "ok") -> None:
        self.title = title
        self.body = body
        self.status = status  # "ok" | "unavailable" | "empty"

    def _repr_html_(self) -> str:
        # the notebook's markdown carries the heading; the title names the section in reprs
        return f'<section class="kam-section kam-{self.status}">{self.body}</section>'

    def __repr__(self) -> str:
        return f"Section({self.title!r}, status={self.status!r})"


# every text on a figure is data (a name like "Cash $\\qqq$ Ltd"), never mathtext: the one
# setting both the figure style (kamlab.scorecard.figures) and the drawing here apply
TEXT_IS_DATA = {"text.parse_math": False}


def note_html(text: str, *, kind: str = "note") -> str:
    """A one-paragraph note (kind: note | unavailable | warning), text escaped."""
    return f'<p class="kam-{kind}">{html.escape(text)}</p>'


def figure_html(fig: Figure, *, alt: str) -> str:
    """Embed `fig` as a base64 palette PNG ``<img>`` (dpi :data:`FIGURE_DPI`,
    :data:`PNG_COLOURS` colours), then release it. Text in the figure is data, never mathtext."""
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(FIGURE_DPI)
    with matplotlib.rc_context(TEXT_IS_DATA):  # tick labels are made while drawing
        canvas.draw()  # the figures lay themselves out
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    palette = image.convert("RGB").quantize(
        colors=PNG_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    buf = io.BytesIO()
    palette.save(buf, format="png", compress_level=PNG_COMPRESSION)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="kam-figure" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def table_html(
    frame: pd.DataFrame,
    *,
    formats: Mapping[str, str | Callable[[object], str]] | None = None,
    classes: str = "kam-table",
    max_rows: int = 25,
    print_rows: int | None = PRINT_ROWS,
) -> str:
    """Render `frame` as an escaped HTML table; `formats` maps column -> format spec or callable.

    Missing values show as an en dash; rows beyond `max_rows` are cut and the cut is stated.
    On paper only the first `print_rows` rows of a ``kam-table`` print (None: all, for a table
    that is a whole, not a ranked list), with a printed note saying how many more the screen
    shows, so a scorecard fits on four pages.
    """
    formats = dict(formats or {})
    if {"kam-facts", "kam-print-hide"} & set(classes.split()):
        print_rows = None  # one fact a row, none dropped on paper; or the table does not print
    shown = frame.head(max_rows)
    cells = {}
    for col in shown.columns:
        fmt = formats.get(col)
        values = shown[col].astype(object).tolist()
        cells[col] = [_format(v, fmt) for v in values]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for i in range(len(shown)):
        tds = "".join(
            f'<td class="{_align(shown[c])}">{html.escape(cells[c][i])}</td>' for c in shown.columns
        )
        screen_only = print_rows is not None and i >= print_rows
        rows.append(f'<tr class="kam-print-hide">{tds}</tr>' if screen_only else f"<tr>{tds}</tr>")
    out = f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    if len(frame) > max_rows:
        out += note_html(
            text(
                "Showing the first {shown} of {total} rows.",
                shown=formats_.count(max_rows),
                total=formats_.count(len(frame)),
            )
        )
    if print_rows is not None and len(shown) > print_rows:
        more = len(shown) - print_rows
        out += note_html(
            text(
                "Printed: the first {printed} rows; {more} more on screen.",
                printed=formats_.count(print_rows),
                more=formats_.count(more),
            ),
            kind="note kam-print-only",
        )
    return out


def _format(value: object, fmt: str | Callable[[object], str] | None) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if callable(fmt):
        return fmt(value)
    if fmt is not None:
        return _local(format(value, fmt))
    if isinstance(value, float):
        return _local(f"{value:,.2f}")
    return str(value)


def _local(number: str) -> str:
    """A number Python formatted ("1,234.5") in the active language's separators
    ("1.234,5" in de and it); English as it is."""
    lang = current()
    if lang.english:
        return number
    group, decimal = (
        lang.locale.number_symbols["latn"]["group"],
        lang.locale.number_symbols["latn"]["decimal"],
    )
    return number.translate({ord(","): group, ord("."): decimal})


def _align(column: pd.Series) -> str:
    return "num" if pd.api.types.is_numeric_dtype(column.dtype) else "txt"
