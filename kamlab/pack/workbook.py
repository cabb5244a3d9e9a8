"""``pack.xlsx``: the pack's tables as a workbook a manager can filter, sort and print.

Sheet names and headers are in the active language (:func:`kamlab.i18n.speaking`; the
English names are their catalog entries). Every sheet has human headers, the customer's name beside its id, a frozen header row, an
autofilter and column widths that fit. Figures stay numbers (so they sort and sum) and carry
a number format: fractions as %, amounts in the row's currency, quantities and counts with
thousands separators, days as whole days; dates are dates, months the month's first day
shown as "Oct 2026". No text cell is ever a formula: text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is written as text (formula injection, OWASP).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from kamlab.i18n import text

__all__ = ["FORMATS", "SHEET_UNITS", "UNITS", "excel_workbook", "header", "unit"]

# number formats by unit of a column
FORMATS = {
    "share": "0.0%",
    "signed share": "+0.0%;-0.0%;0.0%",
    "points": "+0.0;-0.0;0.0",
    "days": "#,##0",
    "months": "#,##0.0",
    "quantity": "#,##0",
    "count": "#,##0",
    "amount": "#,##0.00",  # money: with the row's currency when the sheet has a currency column
    "converted amount": "#,##0",  # money in the currency its header names (not the row's)
    "ratio": "0.00",
    "date": "yyyy-mm-dd",
    "month": "mmm yyyy",
}

# The unit of a column, looked up in this order: the sheet's own units (SHEET_UNITS, for a
# name that means different things on different sheets), the column's unit (UNITS), then
# the naming rules of :func:`unit` (dtype, suffixes, the words a name is made of). A figure
# is money only when its name says so: anything else in a sheet with a currency column is
# not formatted as money by accident.
_UNITS = {
    "share": {
        "otif", "otd", "in_full", "delivered_in_full", "fill_rate", "share", "cost_share",
        "air_freight_share", "utilisation", "accuracy", "bias", "wape", "error_naive",
        "error_customer", "error_statistical", "realisation", "probability",
        "share_of_business", "competitor_share", "unexplained_share", "asked_discount",
        "discount", "win_rate", "value_win_rate", "on_time_rate", "score_pct",
        "weight_statistical",
    },
    "signed share": {
        "month_variance_pct", "ytd_variance_pct", "ytd_growth", "deviation",
        "last_year_deviation", "market_growth", "growth",
    },
    "points": {"fva_customer_vs_naive", "fva_statistical_vs_naive", "fva_statistical_vs_customer"},
    "days": {"dso_countback", "dso_simple", "days_overdue", "open_age_mean_days", "open_age_max_days"},
    "quantity": {
        "customer_forecast", "statistical_forecast", "lo", "hi", "last_year", "quantity_due",
        "quantity_in_window", "rejected_quantity", "delivered_quantity", "quantity",
        "combined_forecast", "mae_customer", "mae_statistical", "agreed_quantity",
    },
    "amount": {"fy_run_rate"},
    "ratio": {"mase", "cv", "ppm", "attractiveness", "strength"},
}  # fmt: skip
UNITS: dict[str, str] = {column: u for u, columns in _UNITS.items() for column in columns}
SHEET_UNITS: dict[str, dict[str, str]] = {
    "Share of business (3C)": {"change": "signed share", "competitor_change": "signed share"},
    "Safety stock to change": {"change": "quantity"},
    # a finding's value and reference are in the unit its `unit` column names, per row
    "Findings": {"value": "ratio", "reference": "ratio"},
}
# words that make a float column money, or a quantity (a column's name split at "_")
_MONEY_WORDS = {
    "value", "amount", "revenue", "margin", "cost", "price", "leakage", "overbilled", "stake",
    "receivables", "sales", "purchases", "limit", "provision", "outlook", "plan", "actual",
    "total", "overdue", "unapplied", "gap", "budget", "money", "received", "variance",
}  # fmt: skip
_QUANTITY_WORDS = {"quantity", "forecast", "stock", "volume", "units", "reorder", "demand"}
_BUCKET = re.compile(r"not due|\d+-\d+|>\d+")
_WORDS = {
    "id": "ID", "ytd": "YTD", "fy": "FY", "otif": "OTIF", "otd": "on time (OTD)",
    "dso": "DSO", "pct": "%", "fva": "FVA", "abc": "ABC", "xyz": "XYZ", "mase": "MASE",
    "wape": "WAPE", "ppm": "PPM", "cv": "CV", "vs": "vs", "kb": "KB",
}  # fmt: skip
_HEADERS = {
    "customer_id": "Customer ID",
    "name": "Customer",
    "lo": "Forecast low (80 %)",
    "hi": "Forecast high (80 %)",
    "in_full": "In full in the window",
    "lines_in_full": "Lines in full in the window",
    "delivered_in_full": "In full (by now)",
    "lines_delivered_in_full": "Lines in full (by now)",
    "html_kb": "Page size (KB)",
    "seconds": "Seconds",
    "cell": "Failed cell",
    "verdict": "Verdict (challenge only where ours is better)",
    "record_level": "Track record of",
    "record_lag": "Track record, months ahead",
    "record_months": "Track record, months compared",
    "closer_customer": "Months the customer's forecast was closer",
    "closer_statistical": "Months our forecast was closer",
    "mae_customer": "MAE of the customer's forecast",
    "mae_statistical": "MAE of our forecast",
    "weight_statistical": "Weight of our forecast in the combination",
    "basis": "Basis (customer / kamlab / own)",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header(column: str) -> str:
    """A human header for a snake_case column in the active language: ``ytd_variance_pct``
    -> ``YTD variance %`` (the English header is the catalog entry of its translation)."""
    return text(_english_header(column))


def _english_header(column: str) -> str:
    if column in _HEADERS:
        return _HEADERS[column]
    if column in _UNITS["points"]:
        column = f"{column}_(points)"
    words = [_WORDS.get(w, w) for w in re.split(r"_+", column) if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def excel_workbook(
    sheets: Mapping[str, pd.DataFrame],
    *,
    names: Mapping[str, str],
    number_formats: Mapping[str, Mapping[str, str]] | None = None,
) -> bytes:
    """The `sheets` as one .xlsx file (bytes); `names` maps customer id -> customer name.

    `number_formats` gives, per sheet, a kind (a key of :data:`FORMATS`) for columns the
    column name alone does not tell (e.g. the Summary's KPI columns).
    """
    book = Workbook(write_only=True)
    for title, frame in sheets.items():
        _write_sheet(book, title, frame, names, (number_formats or {}).get(title, {}))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _with_names(frame: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """`frame` with the customer's name right after its id (if it has an id and no name)."""
    out = frame.reset_index(drop=True)
    if "customer_id" in out.columns and "name" not in out.columns:
        position = list(out.columns).index("customer_id") + 1
        ids = out["customer_id"].astype("string")
        out.insert(position, "name", ids.map(lambda c: names.get(c, "")).astype("string"))
    return out


def unit(column: str, series: pd.Series, *, sheet: str = "") -> str | None:
    """The unit of `column` on `sheet` (a key of :data:`FORMATS`), None for text and flags.

    :data:`SHEET_UNITS`, then :data:`UNITS`, then by dtype (periods are months, datetimes
    dates, integers counts) and, for floats, by name: ``_pct``/``_share``/``_rate`` a share,
    ``_days``/``days_`` days, ``_months`` months, an ageing bucket or a money word
    (value, revenue, price, stake, ...) an amount, a quantity word (quantity, stock,
    forecast, ...) a quantity, anything else a ratio.

    >>> f = pd.Series([0.5])
    >>> [unit(c, f) for c in ("share_of_business", "age_days", "annual_value", "safety_stock")]
    ['share', 'days', 'amount', 'quantity']
    >>> unit("change", f, sheet="Safety stock to change"), unit("mean", f)
    ('quantity', 'ratio')
    """
    if column in SHEET_UNITS.get(sheet, {}):
        return SHEET_UNITS[sheet][column]
    if column in UNITS:
        return UNITS[column]
    if isinstance(series.dtype, pd.PeriodDtype):
        return "month"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_integer_dtype(series.dtype):
        return "count"
    if not pd.api.types.is_float_dtype(series.dtype):
        return None
    words = set(column.lower().split("_"))
    if column.endswith(("_pct", "_share", "_rate")):
        return "share"
    if column.endswith("_days") or column.startswith("days_"):
        return "days"
    if column.endswith("_months"):
        return "months"
    if _BUCKET.fullmatch(column) or words & _MONEY_WORDS:
        return "amount"
    if words & _QUANTITY_WORDS:
        return "quantity"
    return "ratio"


def _write_sheet(book, title: str, frame: pd.DataFrame, names, formats: Mapping[str, str]):
    """One sheet, written row by row in openpyxl's write-only mode (fast, small memory)."""
    frame = _with_names(frame, names)
    sheet = book.create_sheet(text(title)[:31])  # the sheet's units follow its English name
    columns = [str(c) for c in frame.columns]
    has_currency = "currency" in columns
    kinds = {c: formats.get(c) or unit(c, frame[c], sheet=title) for c in columns}
    values = {c: [_cell_value(v, kinds[c]) for v in frame[c].tolist()] for c in columns}
    # the Plan sheet mixes revenue and quantity rows: amounts only where the row is money
    measure = values.get("measure") if "measure" in columns else None
    currency = values.get("currency") if has_currency else None
    headers = [header(c) for c in columns]
    widths = [len(h) for h in headers]
    for j, c in enumerate(columns):
        texts = [len(v) for v in values[c] if isinstance(v, str)]
        numbers = kinds[c] is not None and any(v is not None for v in values[c])
        widths[j] = max([widths[j], *texts, 12 if kinds[c] in ("date", "month") else 0])
        widths[j] = max(widths[j], 10 if numbers else 0)
        sheet.column_dimensions[get_column_letter(j + 1)].width = min(max(widths[j] + 2, 8), 60)
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(frame), 1) + 1}"
    sheet.append(headers)
    for i in range(len(frame)):
        row = []
        for c in columns:
            cell = WriteOnlyCell(sheet, value=values[c][i])
            kind = kinds[c]
            if isinstance(cell.value, str):
                if cell.value.startswith(_FORMULA_START):
                    cell.data_type = "s"  # text, never a formula
                    cell.quotePrefix = True
            elif kind is not None and cell.value is not None:
                fmt = FORMATS[kind]
                if kind == "amount" and measure is not None and measure[i] == "quantity":
                    fmt = FORMATS["quantity"]
                elif kind == "amount" and currency is not None and currency[i] is not None:
                    fmt = f'#,##0.00 "{currency[i]}"'
                cell.number_format = fmt
            row.append(cell)
        sheet.append(row)


def _cell_value(value: object, kind: str | None) -> object:
    """What openpyxl should store: numbers as numbers, dates as dates, the rest as text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Period):
        return value.start_time.date() if value.freqstr.startswith("M") else str(value)
    if isinstance(value, pd.Timestamp):
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, bool | int | float):
        return value
    return str(value)
