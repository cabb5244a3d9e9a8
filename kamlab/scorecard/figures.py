"""Seaborn figures of the scorecard: titled, labelled with units, sized for an A4 page.

Figures are built on :class:`matplotlib.figure.Figure` directly (not pyplot), so nothing is
registered with a global figure manager: a figure shows once, where the scorecard puts it,
and no ``Text(...)`` repr leaks into a notebook. Styles apply through context managers only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

__all__ = [
    "bar_figure",
    "demand_figure",
    "lag_figure",
    "scatter_figure",
    "trend_figure",
]

A4_WIDTH = 7.5  # inches of printable width on A4 portrait
PALETTE = "colorblind"


@contextmanager
def _style() -> Iterator[None]:
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.85):
        yield


def _finish(
    fig: Figure,
    ax,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    dates: bool = False,
    percent: bool = False,
    decimals: int = 0,
) -> Figure:
    """Title, labels, tick formats (`percent`: y holds fractions; else numbers with
    `decimals`), the legend in a row under the plot, then one layout pass."""
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    thousands = mticker.FuncFormatter(lambda v, _: f"{v:,.{decimals}f}")
    share = mticker.PercentFormatter(1.0, decimals=0)
    ax.yaxis.set_major_formatter(share if percent else thousands)
    if dates:  # one tick a quarter, "Jan\n2025": never overlapping on A4
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    bottom = 0.0
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
        bottom = 0.45 / fig.get_size_inches()[1]  # room for one legend row
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


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
        ax = fig.add_subplot()
        h = history.assign(month=_months(history["period"]))
        sns.lineplot(
            data=h,
            x="month",
            y="quantity",
            ax=ax,
            errorbar=None,
            label="Actual demand",
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
                label=f"{level} % prediction interval",
            )
            sns.lineplot(
                data=f,
                x="month",
                y="forecast",
                ax=ax,
                errorbar=None,
                label="Statistical forecast",
                color="#4c72b0",
            )
        if customer_forecast is not None and len(customer_forecast):
            c = customer_forecast.assign(month=_months(customer_forecast["period"]))
            sns.lineplot(
                data=c,
                x="month",
                y="quantity",
                ax=ax,
                errorbar=None,
                label="Customer forecast",
                color="#dd8452",
                linestyle="--",
                marker="s",
                markersize=3,
            )
        ax.set_ylim(bottom=0)
        return _finish(
            fig, ax, title=title, xlabel="Month", ylabel=f"Quantity ({unit})", dates=True
        )


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
        ax = fig.add_subplot()
        data = frame.assign(**{x: _months(frame[x])})
        sns.lineplot(
            data=data,
            x=x,
            y=y,
            hue=hue,
            ax=ax,
            errorbar=None,
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
            xlabel=xlabel,
            ylabel=ylabel,
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
) -> Figure:
    """Vertical bars of `y` per `x` (optionally split by `hue`), categories in frame order."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 2.8))
        ax = fig.add_subplot()
        sns.barplot(
            data=frame,
            x=x,
            y=y,
            hue=hue,
            ax=ax,
            errorbar=None,
            palette=PALETTE if hue else None,
            color=None if hue else "#4c72b0",
        )
        return _finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel)


def lag_figure(scores: pd.DataFrame, *, title: str, target: float | None = None) -> Figure:
    """Forecast accuracy (fraction) by lag (months) per source (customer / statistical / naive)."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 2.8))
        ax = fig.add_subplot()
        sns.lineplot(
            data=scores,
            x="lag",
            y="value",
            hue="source",
            marker="o",
            ax=ax,
            errorbar=None,
            palette=PALETTE,
        )
        if target is not None:
            ax.axhline(target, color="#c44e52", linestyle=":", label="SLA target")
            ax.legend()
        ax.xaxis.set_major_locator(mticker.MultipleLocator(1))
        return _finish(
            fig,
            ax,
            title=title,
            xlabel="Forecast lag (months ahead)",
            ylabel="Accuracy (1 − WAPE)",
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
) -> Figure:
    """Scores (0–1) of `y` against `x` with quadrant lines at `split`; the `labelled` points
    farthest from the split carry their `label` (all of them would not be readable)."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 4.6))
        ax = fig.add_subplot()
        sns.scatterplot(
            data=frame, x=x, y=y, hue=hue, ax=ax, palette=PALETTE if hue else None, s=40
        )
        ax.axvline(split[0], color="#999999", linewidth=0.8)
        ax.axhline(split[1], color="#999999", linewidth=0.8)
        if label is not None:
            distance = (frame[x] - split[0]) ** 2 + (frame[y] - split[1]) ** 2
            for row in frame.loc[distance.nlargest(labelled).index].itertuples(index=False):
                ax.annotate(
                    str(getattr(row, label)),
                    (getattr(row, x), getattr(row, y)),
                    fontsize=6.5,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:.1f}"))
        return _finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel, decimals=1)
