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
    fig: Figure, ax, *, title: str, xlabel: str, ylabel: str, dates: bool = False
) -> Figure:
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if dates:  # one tick a quarter, "Jan\n2025": never overlapping on A4
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    if ax.get_legend() is not None:  # below the plot, so it never hides a line
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.28 if dates else -0.2),
            ncol=4,
            frameon=False,
            fontsize="small",
        )
    fig.tight_layout()
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
        fig = _finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel, dates=True)
        if percent:
            ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
        return fig


def bar_figure(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    title: str,
    xlabel: str,
    ylabel: str,
    percent: bool = False,
    horizontal: bool = False,
) -> Figure:
    """Bars of `y` per `x` (optionally split by `hue`), categories kept in frame order."""
    with _style():
        height = 2.8 if not horizontal else max(2.4, 0.28 * frame[y].nunique() + 1)
        fig = Figure(figsize=(A4_WIDTH, height))
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
            orient="h" if horizontal else "v",
        )
        fig = _finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel)
        axis = ax.xaxis if horizontal else ax.yaxis
        if percent:
            axis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
        elif horizontal:
            axis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        return fig


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
        fig = _finish(
            fig,
            ax,
            title=title,
            xlabel="Forecast lag (months ahead)",
            ylabel="Forecast accuracy (1 − WAPE)",
        )
        ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
        return fig


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
    split: tuple[float, float] | None = None,
    highlight: str | None = None,
) -> Figure:
    """Points of `y` against `x`, optional quadrant lines at `split` and `label` annotations."""
    with _style():
        fig = Figure(figsize=(A4_WIDTH, 4.2))
        ax = fig.add_subplot()
        sns.scatterplot(
            data=frame, x=x, y=y, hue=hue, ax=ax, palette=PALETTE if hue else None, s=40
        )
        if split is not None:
            ax.axvline(split[0], color="#999999", linewidth=0.8)
            ax.axhline(split[1], color="#999999", linewidth=0.8)
        if label is not None:
            for row in frame.itertuples(index=False):
                text = str(getattr(row, label))
                bold = highlight is not None and text == highlight
                ax.annotate(
                    text,
                    (getattr(row, x), getattr(row, y)),
                    fontsize=6 if not bold else 8,
                    fontweight="bold" if bold else "normal",
                    xytext=(3, 3),
                    textcoords="offset points",
                )
        return _finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel)
