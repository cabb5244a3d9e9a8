"""Seaborn figures of the scorecard: titled, labelled with units, sized for an A4 page.

Figures are built on :class:`matplotlib.figure.Figure` directly (not pyplot), so nothing is
registered with a global figure manager: a figure shows once, where the scorecard puts it,
and no ``Text(...)`` repr leaks into a notebook. Styles apply through context managers only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from kamlab.i18n import current
from kamlab.i18n import formats as fmt
from kamlab.scorecard.render import TEXT_IS_DATA

__all__ = [
    "QUADRANT_COLOURS",
    "bar_figure",
    "compact_number",
    "demand_figure",
    "lag_figure",
    "scatter_figure",
    "text_outside",
    "trend_figure",
]

A4_WIDTH = 7.5  # inches of printable width on A4 portrait
# margins around the axes, inches: y tick labels up to "20,000,000" and the y label on the
# left, the title on top, x ticks and label (+ a second tick line for dates, + a legend row)
_LEFT, _RIGHT, _TOP, _BOTTOM, _DATE_TICKS, _LEGEND_ROW = 1.0, 0.25, 0.35, 0.5, 0.2, 0.3
PALETTE = "colorblind"
#: one Okabe–Ito colour per key-account quadrant (distinct for colour-blind readers)
QUADRANT_COLOURS = {
    "strategic": "#0072B2",
    "development": "#009E73",
    "status": "#E69F00",
    "streamline": "#D55E00",
    "unclassified": "#999999",
}


def compact_number(value: float, decimals: int = 0) -> str:
    """An axis number a reader takes in at a glance: 1.2M, 350k, 2,500, 0.5.

    >>> [compact_number(v) for v in (1_234_567, 350_000, 2_500, 5_000, 0)]
    ['1.2M', '350k', '2.5k', '5k', '0']
    """
    v = float(value)
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            shown = f"{v / size:,.1f}".removesuffix(".0")
            return _local(f"{shown}{suffix}")
    return _local(f"{v:,.{decimals}f}")


def _local(number: str) -> str:
    """An axis number in the active language's separators ("1,2M", "2.500" in de)."""
    lang = current()
    if lang.english:
        return number
    symbols = lang.locale.number_symbols["latn"]
    return number.translate({ord(","): symbols["group"], ord("."): symbols["decimal"]})


def _month_tick(value: float, _position: object) -> str:
    """A quarter's tick in the active language: "Jan\n2025", "Jän.\n2025"."""
    day = mdates.num2date(value)
    return f"{fmt.month_abbr(pd.Period(day.strftime('%Y-%m'), 'M'))}\n{day.year}"


def text_outside(fig: Figure) -> list[str]:
    """The texts of `fig` (titles, labels, tick labels, legend, annotations) that do not lie
    entirely inside its canvas, by the renderer's bounding boxes; empty when all fit."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = canvas.get_width_height()
    hidden = set()  # tick labels of ticks outside the view limits are not drawn
    for ax in fig.axes:
        for axis, (lo, hi), i in ((ax.xaxis, ax.get_xlim(), 0), (ax.yaxis, ax.get_ylim(), 1)):
            lo, hi = sorted((lo, hi))
            for label in axis.get_ticklabels(which="both"):
                if (
                    not lo - 1e-9 * abs(hi - lo)
                    <= label.get_position()[i]
                    <= hi + 1e-9 * abs(hi - lo)
                ):
                    hidden.add(id(label))
    out = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or id(text) in hidden:
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
            out.append(text.get_text())
    return out


@contextmanager
def _style() -> Iterator[None]:
    with (
        sns.axes_style("whitegrid"),
        sns.plotting_context("notebook", font_scale=0.85),
        matplotlib.rc_context(TEXT_IS_DATA),  # names with "$" are text, never mathtext
    ):
        yield


def _axes(fig: Figure, *, xlabel: str, ylabel: str):
    """The figure's axes, labelled before seaborn draws: seaborn labels an unlabelled axis
    with the column name, and to decide whether it shows it lays out every tick label once
    more than the drawing does (a tenth of a scorecard's rendering time)."""
    ax = fig.add_subplot()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def _finish(
    fig: Figure,
    ax,
    *,
    title: str,
    dates: bool = False,
    percent: bool = False,
    decimals: int = 0,
) -> Figure:
    """Title, tick formats (`percent`: y holds fractions; else numbers with
    `decimals`), the legend in a row under the plot, fixed margins."""
    # y pinned at the top of the axes, where matplotlib would place it anyway (no ticks or
    # offset text above the plot): it then skips measuring the y axis's labels a second time
    ax.set_title(title, loc="left", fontweight="bold", y=1.0)
    thousands = mticker.FuncFormatter(lambda v, _: compact_number(v, decimals))
    share = mticker.PercentFormatter(1.0, decimals=0)
    ax.yaxis.set_major_formatter(share if percent else thousands)
    if dates:  # one tick a quarter, "Jan\n2025": never overlapping on A4
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        english = current().english
        ax.xaxis.set_major_formatter(
            mdates.DateFormatter("%b\n%Y") if english else mticker.FuncFormatter(_month_tick)
        )
    bottom = _BOTTOM + (_DATE_TICKS if dates else 0.0)
    if ax.get_legend() is not None:  # a row under the plot: it never hides a line or a label
        handles, labels = ax.get_legend_handles_labels()
        ax.get_legend().remove()
        fig.legend(
            handles,
            labels,
            loc="lower center",
            ncol=min(len(labels), 5),
            frameon=False,
            fontsize="small",
        )
        bottom += _LEGEND_ROW
    # fixed margins in inches instead of tight_layout: the same page every time, and one
    # drawing pass less per figure (a quarter of a scorecard's rendering time)
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=_LEFT / width, right=1 - _RIGHT / width, top=1 - _TOP / height, bottom=bottom / height
    )
    return fig


# -- seaborn's lineplot and barplot, drawn with matplotlib ------------------------------------
# seaborn spends more on its semantic bookkeeping than matplotlib spends drawing these small
# figures (a sixth of a scorecard's rendering). These draw the same artists seaborn 0.13 draws
# for the calls the scorecard makes (errorbar=None, one row or a mean per point), so every
# figure stays pixel for pixel what seaborn made; tests/test_scorecard.py compares them.
def _levels(values: pd.Series) -> list:
    """seaborn's categorical order: the categories of a categorical, else the values in
    order of appearance (sorted when numeric), missing values left out."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [v for v in values.cat.categories if pd.notna(v)]
    order = [v for v in values.unique() if pd.notna(v)]
    return sorted(order) if pd.api.types.is_numeric_dtype(values.dtype) else order


def _lineplot(
    ax,
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    palette: str | None = None,
    color: str | None = None,
    label: str | None = None,
    **line,
) -> None:
    """``sns.lineplot(data, x=x, y=y, hue=hue, errorbar=None, ...)``: one line per `hue`
    level, points sorted by x and averaged where an x repeats, white-edged markers."""
    line = {"markeredgewidth": 0.75, "markeredgecolor": "w", **line}
    if "linestyle" not in line:
        line["dashes"] = ""
    levels = _levels(data[hue]) if hue is not None else []  # before rows without y go
    data = data.dropna(subset=[c for c in (x, y, hue) if c is not None])

    def points(part: pd.DataFrame) -> tuple:
        if part.empty:  # no units for the axis either: seaborn plots no dates
            return [], []
        part = part.sort_values([x, y])
        if part[x].duplicated().any():
            part = part.groupby(x, sort=True)[y].mean().reset_index()
        return part[x], part[y]

    if hue is None:
        if color is None:  # the next colour of the cycle, as seaborn takes it
            (scout,) = ax.plot([], [], scalex=False, scaley=False)
            color = scout.get_color()
            scout.remove()
        ax.plot(*points(data), color=color, label=label, **line)
    else:
        colours = sns.color_palette(palette, len(levels))
        for level, colour in zip(levels, colours, strict=True):
            if not (data[hue] == level).any():
                continue
            (drawn,) = ax.plot(*points(data[data[hue] == level]), color=None, **line)
            drawn.set_color(colour)
        for level, colour in zip(levels, colours, strict=True):  # seaborn's legend entries
            ax.add_artist(Line2D([], [], label=level, color=colour, **line))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=hue or "")


def _barplot(
    ax,
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    palette: str | None = None,
    color: str | None = None,
) -> None:
    """``sns.barplot(data, x=x, y=y, hue=hue, errorbar=None, ...)``: the mean of `y` per
    category of `x` (in order of appearance) as bars 0.8 wide, side by side per `hue` level
    where a category has several, colours at seaborn's saturation 0.75, no category grid."""
    if data.empty:
        return
    # categories, levels and side by side or not: from every row, with a y or not
    keys = data[[x, hue]].dropna() if hue is not None else None
    dodge = hue is not None and len(keys.drop_duplicates()) != keys[x].nunique()
    order = [str(v) for v in _levels(data[x])]
    levels = _levels(data[hue]) if hue is not None else []
    data = data.dropna(subset=[c for c in (x, y, hue) if c is not None])
    ax.xaxis.update_units(np.array(order, dtype=object))  # a category axis, as seaborn's
    position = {v: float(i) for i, v in enumerate(order)}
    if hue is None:
        groups = [(None, data, sns.desaturate(color, 0.75))]
    else:
        colours = sns.color_palette(palette, len(levels), desat=0.75)
        groups = [(v, data[data[hue] == v], c) for v, c in zip(levels, colours, strict=True)]
    width = 0.8 / len(groups) if dodge else 0.8
    for i, (_, part, colour) in enumerate(groups):
        means = part.groupby(part[x].astype(str), sort=False)[y].mean()
        at = means.index.map(position).to_numpy(dtype=float)
        step = np.argsort(at, kind="stable")
        edges = at[step] - 0.4 + (width * i if dodge else 0.0)
        ax.bar(
            x=edges, height=means.to_numpy()[step], width=width, align="edge",
            color=colour, facecolor=colour,
        )  # fmt: skip
    if hue is not None and hue != x:  # seaborn's legend entries
        for level, _, colour in groups:
            ax.add_artist(Rectangle((0, 0), 0, 0, facecolor=colour, label=level))
        ax.legend(title=hue)
    ax.xaxis.grid(False)
    ax.set_xlim(-0.5, len(order) - 0.5, auto=None)


def _months(periods: pd.Series) -> pd.Series:
    return periods.dt.to_timestamp() if hasattr(periods, "dt") else periods


def demand_figure(
    history: pd.DataFrame,
    *,
    forecast: pd.DataFrame | None = None,
    customer_forecast: pd.DataFrame | None = None,
    level: int = 80,
    title: str,
    unit: str = "units",
) -> Figure:
    """Monthly demand (period, quantity), the statistical forecast with its `level` % interval
    (period, forecast, lo_<level>, hi_<level>) and the customer's latest forecast (period, quantity)."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 3.4))
        ylabel = (
            fmt.text("Quantity (units)")
            if unit == "units"
            else fmt.text("Quantity ({unit})", unit=unit)
        )
        ax = _axes(fig, xlabel=fmt.text("Month"), ylabel=ylabel)
        h = history.assign(month=_months(history["period"]))
        _lineplot(
            ax,
            h,
            x="month",
            y="quantity",
            label=fmt.text("Actual demand"),
            color="#333333",
            marker="o",
            markersize=3,
        )
        if forecast is not None and len(forecast):
            f = forecast.assign(month=_months(forecast["period"]))
            ax.fill_between(
                f["month"],
                f[f"lo_{level}"],
                f[f"hi_{level}"],
                color="#4c72b0",
                alpha=0.2,
                label=fmt.text("{level} prediction interval", level=fmt.percent(level / 100)),
            )
            _lineplot(
                ax,
                f,
                x="month",
                y="forecast",
                label=fmt.text("Statistical forecast"),
                color="#4c72b0",
            )
        if customer_forecast is not None and len(customer_forecast):
            c = customer_forecast.assign(month=_months(customer_forecast["period"]))
            _lineplot(
                ax,
                c,
                x="month",
                y="quantity",
                label=fmt.text("Customer forecast"),
                color="#dd8452",
                linestyle="--",
                marker="s",
                markersize=3,
            )
        ax.set_ylim(bottom=0)
        return _finish(fig, ax, title=title, dates=True)


def trend_figure(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    title: str,
    xlabel: str,
    ylabel: str,
    target: float | None = None,
    target_label: str = "Target",
    percent: bool = False,
) -> Figure:
    """A line per `hue` over months (`x` a Period column), with an optional target line."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 3.1))
        ax = _axes(fig, xlabel=xlabel, ylabel=ylabel)
        data = frame.assign(**{x: _months(frame[x])})
        _lineplot(
            ax,
            data,
            x=x,
            y=y,
            hue=hue,
            marker="o",
            markersize=3,
            palette=PALETTE if hue else None,
        )
        if target is not None:
            ax.axhline(target, color="#c44e52", linestyle=":", label=target_label)
            ax.legend()
        return _finish(
            fig,
            ax,
            title=title,
            dates=True,
            percent=percent,
        )


def bar_figure(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    title: str,
    xlabel: str,
    ylabel: str,
    line: dict[str, float] | None = None,
    line_label: str = "Budget",
    percent: bool = False,
) -> Figure:
    """Vertical bars of `y` per `x` (optionally split by `hue`), categories in frame order;
    `line` maps categories of `x` to values drawn as a dashed line with markers (e.g. the
    budget of each month)."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 2.8))
        ax = _axes(fig, xlabel=xlabel, ylabel=ylabel)
        _barplot(
            ax,
            frame,
            x=x,
            y=y,
            hue=hue,
            palette=PALETTE if hue else None,
            color=None if hue else "#4c72b0",
        )
        if line:
            order = list(dict.fromkeys(frame[x].astype(str)))
            points = [(order.index(k), v) for k, v in line.items() if k in order]
            if points:
                xs, ys = zip(*sorted(points), strict=True)
                ax.plot(
                    xs, ys, color="#000000", linestyle="--", marker="D", markersize=4,
                    linewidth=1.2, label=line_label,
                )  # fmt: skip
                ax.legend()
        return _finish(fig, ax, title=title, percent=percent)


def lag_figure(scores: pd.DataFrame, *, title: str, target: float | None = None) -> Figure:
    """Forecast accuracy (fraction) by lag (months) per source (customer / statistical / naive)."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 2.8))
        ax = _axes(
            fig, xlabel=fmt.text("Forecast lag (months ahead)"), ylabel=fmt.text("Accuracy (%)")
        )
        _lineplot(
            ax,
            scores,
            x="lag",
            y="value",
            hue="source",
            marker="o",
            palette=PALETTE,
        )
        if target is not None:
            ax.axhline(target, color="#c44e52", linestyle=":", label=fmt.text("SLA target"))
            ax.legend()
        ax.xaxis.set_major_locator(mticker.MultipleLocator(1))
        return _finish(
            fig,
            ax,
            title=title,
            percent=True,
        )


def scatter_figure(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    label: str | None = None,
    title: str,
    xlabel: str,
    ylabel: str,
    split: tuple[float, float],
    labelled: int = 12,
    colours: dict[str, str] | None = None,
) -> Figure:
    """Scores (0–1) of `y` against `x` with quadrant lines at `split`; the `labelled` points
    farthest from the split carry their `label` (all of them would not be readable), placed
    away from the nearer edge so no name is cut. `colours` maps `hue` values to colours."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 5.0))
        ax = _axes(fig, xlabel=xlabel, ylabel=ylabel)
        palette = colours if colours and hue else (PALETTE if hue else None)
        sns.scatterplot(data=frame, x=x, y=y, hue=hue, ax=ax, palette=palette, s=_MARKER_AREA)
        ax.axvline(split[0], color="#999999", linewidth=0.8)
        ax.axhline(split[1], color="#999999", linewidth=0.8)
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:.1f}"))
        _finish(fig, ax, title=title, decimals=1)
        if label is not None:  # after the layout: the labels are placed where they fit
            distance = (frame[x] - split[0]) ** 2 + (frame[y] - split[1]) ** 2
            chosen = frame.loc[distance.nlargest(labelled).index]
            _place_labels(fig, ax, chosen, x=x, y=y, label=label, avoid=frame, split=split)
        return fig


_MARKER_AREA = 45  # scatter marker area in points² (seaborn's `s`)
# where a label may go, in points from its point (text anchored left for dx > 0, else right):
# beside, above and below it, then further out
_LABEL_OFFSETS = (
    (5, 3), (-5, 3), (5, -11), (-5, -11), (7, -4), (-7, -4),
    (5, 12), (-5, 12), (5, -20), (-5, -20), (5, 21), (-5, 21),
)  # fmt: skip


def _place_labels(
    fig: Figure,
    ax,
    points: pd.DataFrame,
    *,
    x: str,
    y: str,
    label: str,
    avoid: pd.DataFrame | None = None,
    split: tuple[float, float] | None = None,
) -> None:
    """Name each point where its label overlaps no other label, no marker of `avoid` (the
    plotted points) and no `split` line, and stays inside the axes; a point with no free
    place stays unnamed rather than printed over a name, a point or a line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    renderer = FigureCanvasAgg(fig).get_renderer()
    inside = ax.get_window_extent(renderer)
    radius = (_MARKER_AREA**0.5) / 2 * fig.dpi / 72  # marker radius in pixels
    markers = []
    if avoid is not None and len(avoid):
        centres = ax.transData.transform(avoid[[x, y]].to_numpy(dtype="float64"))
        markers = [Bbox.from_extents(cx - radius, cy - radius, cx + radius, cy + radius)
                   for cx, cy in centres]  # fmt: skip
    lines = ax.transData.transform([split]) if split is not None else None

    def crosses_a_line(box) -> bool:
        if lines is None:
            return False
        lx, ly = lines[0]
        return bool(box.x0 < lx < box.x1 or box.y0 < ly < box.y1)

    placed = []
    for row in points.itertuples(index=False):
        px, py = getattr(row, x), getattr(row, y)
        for dx, dy in _LABEL_OFFSETS:
            text = ax.annotate(
                str(getattr(row, label)),
                (px, py),
                fontsize=8,
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx > 0 else "right",
            )
            box = text.get_window_extent(renderer)
            fits = (
                box.x0 >= inside.x0
                and box.x1 <= inside.x1
                and box.y0 >= inside.y0
                and box.y1 <= inside.y1
            )
            free = not any(box.overlaps(other) for other in (*placed, *markers))
            if fits and free and not crosses_a_line(box):
                placed.append(box)
                break
            text.remove()
