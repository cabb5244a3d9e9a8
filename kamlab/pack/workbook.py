"""``pack.xlsx``: the pack's tables as a workbook a manager can filter, sort and print.

Every sheet has human headers, the customer's name beside its id, a frozen header row, an
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

__all__ = ["FORMATS", "excel_workbook", "header"]

# number formats by kind of column
FORMATS = {
    "share": "0.0%",
    "signed share": "+0.0%;-0.0%;0.0%",
    "points": "+0.0;-0.0;0.0",
    "days": "#,##0",
    "quantity": "#,##0",
    "count": "#,##0",
    "amount": "#,##0.00",
    "ratio": "0.00",
    "date": "yyyy-mm-dd",
    "month": "mmm yyyy",
}

_KINDS = {
    "share": {
        "otif", "otd", "in_full", "delivered_in_full", "fill_rate", "share", "cost_share",
        "air_freight_share", "utilisation", "accuracy", "bias", "wape", "error_naive",
        "error_customer", "error_statistical", "attractiveness", "strength",
        "weight_statistical",
    },
    "signed share": {
        "month_variance_pct", "ytd_variance_pct", "ytd_growth", "deviation",
        "last_year_deviation",
    },
    "points": {"fva_customer_vs_naive", "fva_statistical_vs_naive", "fva_statistical_vs_customer"},
    "days": {"dso_countback", "dso_simple", "days_overdue", "open_age_mean_days", "open_age_max_days"},
    "quantity": {
        "customer_forecast", "statistical_forecast", "lo", "hi", "last_year", "quantity_due",
        "quantity_in_window", "rejected_quantity", "delivered_quantity", "quantity",
        "combined_forecast", "mae_customer", "mae_statistical", "agreed_quantity",
    },
    "ratio": {"mase", "cv", "ppm"},
}  # fmt: skip
_KIND_OF = {column: kind for kind, columns in _KINDS.items() for column in columns}

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
    """A human header for a snake_case column: ``ytd_variance_pct`` -> ``YTD variance %``."""
    if column in _HEADERS:
        return _HEADERS[column]
    if column in _KINDS["points"]:
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
        _write_sheet(book, title[:31], frame, names, (number_formats or {}).get(title, {}))
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


def _kind(column: str, series: pd.Series, has_currency: bool) -> str | None:
    if column in _KIND_OF:
        return _KIND_OF[column]
    if isinstance(series.dtype, pd.PeriodDtype):
        return "month"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_integer_dtype(series.dtype):
        return "count"
    if pd.api.types.is_float_dtype(series.dtype):
        if column.endswith(("_pct", "_share", "_rate")):
            return "share"
        if column.endswith("_days"):
            return "days"
        return "amount" if has_currency else "ratio"
    return None


def _write_sheet(book, title: str, frame: pd.DataFrame, names, formats: Mapping[str, str]):
    """One sheet, written row by row in openpyxl's write-only mode (fast, small memory)."""
    frame = _with_names(frame, names)
    sheet = book.create_sheet(title)
    columns = [str(c) for c in frame.columns]
    has_currency = "currency" in columns
    kinds = {c: formats.get(c) or _kind(c, frame[c], has_currency) for c in columns}
    values = {c: [_cell_value(v, kinds[c]) for v in frame[c].tolist()] for c in columns}
    # the Plan sheet mixes revenue and quantity rows: amounts only where the row is money
    measure = values.get("measure") if "measure" in columns else None
    currency = values.get("currency") if has_currency else None
    widths = [len(header(c)) for c in columns]
    for j, c in enumerate(columns):
        texts = [len(v) for v in values[c] if isinstance(v, str)]
        numbers = kinds[c] is not None and any(v is not None for v in values[c])
        widths[j] = max([widths[j], *texts, 12 if kinds[c] in ("date", "month") else 0])
        widths[j] = max(widths[j], 10 if numbers else 0)
        sheet.column_dimensions[get_column_letter(j + 1)].width = min(max(widths[j] + 2, 8), 60)
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(frame), 1) + 1}"
    sheet.append([header(c) for c in columns])
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
