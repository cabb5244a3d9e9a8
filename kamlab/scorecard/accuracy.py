"""The scorecard's forecast-accuracy section and tile: accuracy by lag, bias and the value
added of the customer's forecast (:mod:`kamlab.accuracy`)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pandas as pd

from kamlab.i18n import formats as fmt
from kamlab.i18n.challenge import say
from kamlab.scorecard import figures
from kamlab.scorecard.render import Section, figure_html, note_html, table_html
from kamlab.scorecard.tiles import Tile, target_tile
from kamlab.scorecard.values import absent_section, as_float, unavailable_section, word

if TYPE_CHECKING:
    from kamlab.scorecard.card import Scorecard

__all__ = ["accuracy_tile", "accuracy_value", "fva_label", "judgement_table", "section"]


def section(card: Scorecard) -> Section:
    """Forecast accuracy by lag, bias and value added of the customer's forecast."""
    t = fmt.text
    title = t("Forecast accuracy")
    if missing := unavailable_section(title, card.analytics, "accuracy"):
        return missing
    for table in ("orders", "customer_forecasts"):
        if why := card.absent(table):
            return absent_section(title, why)
    acc = card._slice(card.analytics.accuracy)
    by_lag = acc[acc["metric"] == "accuracy"][["source", "lag", "value"]].dropna()
    by_lag = by_lag.assign(source=by_lag["source"].map(word))
    body = ""
    if len(by_lag):
        fig = figures.lag_figure(
            by_lag,
            title=t("Forecast accuracy by lag: customer, statistical and naive forecasts"),
            target=as_float(card.customer["forecast_accuracy_target"]),
        )
        body += figure_html(fig, alt=t("Forecast accuracy by lag"))
    wide = acc[acc["metric"].isin(["accuracy", "bias"]) & (acc["lag"].isin([1, 3]))].pivot_table(
        index="source", columns=["metric", "lag"], values="value", aggfunc="first"
    )
    wide.columns = [_accuracy_column(m, lag) for m, lag in wide.columns]
    wide = wide.reset_index()
    body += table_html(
        wide.assign(source=wide["source"].map(word)).rename(columns={"source": t("Forecast")}),
        formats=dict.fromkeys(wide.columns, fmt.percent),
        print_rows=None,  # one row per forecast compared
    )
    fva = card._slice(card.analytics.value_added)
    if fva is not None and len(fva):
        cols = [c for c in fva.columns if c.startswith("fva_")]
        shown = fva[["lag", *cols]].rename(
            columns={"lag": t("Months ahead"), **{c: fva_label(c) for c in cols}}
        )
        body += note_html(
            t(
                "Value added: how many points of error one forecast saves over another "
                "(positive: the first is better)."
            )
        )
        body += table_html(shown, formats=dict.fromkeys(shown.columns[1:], "+.1f"))
    body += _judgement(card)
    bias = card._slice(card.analytics.bias)
    if bias is not None and len(bias):
        alerts = bias[bias["alert"]]
        body += note_html(
            t(
                "Persistent bias: the customer's forecast is one-sidedly off on {alerts} of "
                "{materials} materials (over or under month after month).",
                alerts=fmt.count(len(alerts)),
                materials=fmt.count(len(bias)),
            )
        )
    return Section(title, body)


def _accuracy_column(metric: str, lag: int) -> str:
    """ "Accuracy, 1 month ahead", "Bias, 3 months ahead"."""
    n = fmt.count(lag)
    if metric == "accuracy":
        return fmt.text(
            "Accuracy, {n} month ahead" if lag == 1 else "Accuracy, {n} months ahead", n=n
        )
    return fmt.text("Bias, {n} month ahead" if lag == 1 else "Bias, {n} months ahead", n=n)


def judgement_table(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Rows of :func:`kamlab.accuracy.judgement_value_added` as a table a KAM reads."""
    cols = ["error_customer", "error_statistical", "error_agreed"]
    fva = ["fva_agreed_vs_customer", "fva_agreed_vs_statistical"]
    keep = [*([by] if by else []), "lag", "n_points", *cols, *fva]
    t = fmt.text
    names = {
        "account_manager": t("Key account manager"),
        "lag": t("Months ahead"),
        "n_points": t("Figures"),
        "error_customer": t("Error, customer's forecast"),
        "error_statistical": t("Error, our forecast"),
        "error_agreed": t("Error, agreed forecast"),
        **{c: fva_label(c) for c in fva},
    }
    return frame[keep].rename(columns=names)


def _judgement(card: Scorecard) -> str:
    """The agreed forecast's errors and the value the KAM's judgement added, by lag."""
    mine = card._slice(card.analytics.judgement)
    if mine is None or mine.empty:
        return ""
    table = judgement_table(mine)
    errors = {fmt.text(n) for n in ("Error, customer's forecast", "Error, our forecast",
                                     "Error, agreed forecast")}  # fmt: skip
    formats = {c: fmt.percent for c in table.columns if c in errors}
    saved = {fva_label(c) for c in ("fva_agreed_vs_customer", "fva_agreed_vs_statistical")}
    formats.update({c: "+.1f" for c in table.columns if c in saved})
    points = fmt.count(int(mine["n_points"].sum()))
    return note_html(say("judgement_intro", points=points)) + table_html(
        table, formats=formats, print_rows=None
    )


def accuracy_tile(card: Scorecard) -> Tile:
    """The customer's forecast accuracy one month ahead against its target."""
    label = fmt.text("Forecast accuracy, 1 month ahead")
    if tile := card.unavailable_tile(label, "accuracy") or card.absent_tile(
        label, "customer_forecasts", "orders"
    ):
        return tile
    tile = target_tile(
        label,
        accuracy_value(card, "customer", lag=1, metric="accuracy"),
        as_float(card.customer["forecast_accuracy_target"]),
        margin=card.settings.scorecard.accuracy_amber_margin,
        note=fmt.text("customer's forecast against its orders"),
    )
    # the customer's own forecast is amber at most, as in kamlab.findings
    return dataclasses.replace(tile, status="amber") if tile.status == "red" else tile


def accuracy_value(card: Scorecard, source: str, *, lag: int, metric: str) -> float:
    """One figure of the customer's accuracy table; NaN when it is not there."""
    acc = card._slice(card.analytics.accuracy)
    row = acc[(acc["source"] == source) & (acc["lag"] == lag) & (acc["metric"] == metric)]
    return as_float(row["value"].iloc[0]) if len(row) else float("nan")


def fva_label(column: str) -> str:
    """ "fva_customer_vs_naive" -> "Customer's forecast vs naive (points saved)"."""
    a, _, b = column.removeprefix("fva_").partition("_vs_")
    template = _FVA_LABELS.get((a, b))
    if template is not None:
        return fmt.text(template)
    return fmt.text("{first} vs {second} (points saved)", first=a, second=b)


#: the value-added columns' headings, one template per pair of forecasts
_FVA_LABELS = {
    ("customer", "naive"): "Customer's forecast vs naive (points saved)",
    ("statistical", "naive"): "Our forecast vs naive (points saved)",
    ("statistical", "customer"): "Our forecast vs customer's forecast (points saved)",
    ("agreed", "customer"): "Agreed forecast vs customer's forecast (points saved)",
    ("agreed", "statistical"): "Agreed forecast vs our forecast (points saved)",
    ("agreed", "naive"): "Agreed forecast vs naive (points saved)",
    ("customer", "statistical"): "Customer's forecast vs our forecast (points saved)",
}
