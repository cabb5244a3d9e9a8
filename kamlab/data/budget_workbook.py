"""The budget workbook: the draft a KAM edits in Excel, and reading it back as the budget table.

``kamlab budget --year Y`` writes the draft (:func:`write_budget_workbook`); the KAM enters
the figures in the unlocked columns (*Budget quantity*, *Budget revenue*, *Comment*) and the
approval day on the *About* sheet; saved as ``budget.xlsx`` in the extracts folder, ``kamlab
ingest`` reads it back (:func:`read_budget_workbook`) as the contract's ``budget`` table, one
version dated by its approval day, with the earlier approved versions the workbook carries on
its *Versions* sheet. The layout is defined once here, for writing and reading: a workbook
whose columns were moved, renamed, added or removed is refused with one line naming the
sheet, the column and what was expected. Every cell is a value, never a formula; text that
looks like a formula is written as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter

__all__ = [
    "BUDGET_COLUMNS",
    "BudgetWorkbookError",
    "is_budget_workbook",
    "read_budget_workbook",
    "write_budget_workbook",
]

MARKER = "kamlab budget workbook"
LAYOUT = 1

# (draft column, header, kind); kind "input" = the KAM's cells (unlocked), the rest locked
BUDGET_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("customer_id", "Customer", "text"),
    ("customer_name", "Customer name", "text"),
    ("account_manager", "Account manager", "text"),
    ("product_family", "Product family", "text"),
    ("period", "Month", "text"),
    ("currency", "Currency", "text"),
    ("draft_quantity", "Draft quantity", "quantity"),
    ("draft_value", "Draft revenue", "amount"),
    ("base_quantity", "Forecast quantity", "quantity"),
    ("base_value", "Forecast revenue", "amount"),
    ("pipeline_quantity", "Pipeline quantity", "quantity"),
    ("pipeline_value", "Pipeline revenue", "amount"),
    ("npi_quantity", "NPI quantity", "quantity"),
    ("npi_value", "NPI revenue", "amount"),
    ("value_at_agreement", "Revenue at agreed prices", "amount"),
    ("approved_quantity", "Approved quantity", "quantity"),
    ("approved_revenue", "Approved revenue", "amount"),
    ("budget_quantity", "Budget quantity", "input quantity"),
    ("budget_revenue", "Budget revenue", "input amount"),
    ("comment", "Comment", "input text"),
)
VERSION_COLUMNS = ("customer_id", "product_family", "period", "currency", "planned_quantity",
                   "planned_revenue", "version_date")  # fmt: skip
_FORMATS = {"quantity": "#,##0", "amount": "#,##0.00"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_INPUT_FILL = PatternFill("solid", fgColor="FFF4CC")
_ABOUT = {  # About sheet: label in A, value in B
    "marker": 1,
    "layout": 2,
    "year": 3,
    "drafted": 4,
    "approved": 5,
    "basis": 6,
}


class BudgetWorkbookError(ValueError):
    """The budget workbook cannot be read back: one line naming file, sheet, cell and rule."""


def _text(cell, value: object) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"  # text, never a formula


def write_budget_workbook(
    draft: pd.DataFrame,
    path: str | Path,
    *,
    year: int,
    drafted_on: object,
    customers: pd.DataFrame | None = None,
    approved: pd.DataFrame | None = None,
    versions: pd.DataFrame | None = None,
) -> Path:
    """Write the budget draft for `year` as an xlsx a KAM edits; returns the path.

    `draft` is :func:`kamlab.budget.draft_budget` at product-family level. `customers`
    (customer_id, name, account_manager, currency) adds names and fills the currency of rows
    the draft could not price. `approved` (the budget version in force, contract columns) is
    shown beside the draft and pre-fills the KAM's columns (a revision starts from the
    approved figures); otherwise they are pre-filled with the draft. `versions` (contract
    columns with ``version_date``) are the earlier approved versions, kept read-only on the
    *Versions* sheet so that reading the workbook back returns the whole history.
    """
    d = draft.copy()
    keys = ["customer_id", "product_family", "period", "currency"]
    if customers is not None and len(customers):
        c = customers.drop_duplicates("customer_id").set_index("customer_id")
        d["customer_name"] = d["customer_id"].map(c["name"]) if "name" in c else pd.NA
        d["account_manager"] = (
            d["customer_id"].map(c["account_manager"]) if "account_manager" in c else pd.NA
        )
        if "currency" in c:
            d["currency"] = d["currency"].fillna(d["customer_id"].map(c["currency"]))
    d["period"] = pd.PeriodIndex(d["period"], freq="M").strftime("%Y-%m")
    if approved is not None and len(approved):
        a = approved.assign(period=pd.PeriodIndex(approved["period"], freq="M").strftime("%Y-%m"))
        a = a.groupby(keys, dropna=False, as_index=False)[
            ["planned_quantity", "planned_revenue"]
        ].sum()
        a = a.rename(
            columns={"planned_quantity": "approved_quantity", "planned_revenue": "approved_revenue"}
        )
        d = d.merge(a, on=keys, how="outer")
        d["budget_quantity"] = d["approved_quantity"].fillna(d["draft_quantity"])
        d["budget_revenue"] = d["approved_revenue"].fillna(d["draft_value"])
    else:
        d["approved_quantity"] = np.nan
        d["approved_revenue"] = np.nan
        d["budget_quantity"] = d["draft_quantity"]
        d["budget_revenue"] = d["draft_value"]
    d["comment"] = None
    d = d.sort_values(["customer_id", "product_family", "period"], kind="stable")

    book = Workbook()
    sheet = book.active
    sheet.title = "Budget"
    for j, (_, head, _) in enumerate(BUDGET_COLUMNS, start=1):
        sheet.cell(1, j, head).font = Font(bold=True)
    for i, row in enumerate(d.itertuples(index=False), start=2):
        values = row._asdict()
        for j, (column, _, kind) in enumerate(BUDGET_COLUMNS, start=1):
            value = values.get(column)
            if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                value = None
            cell = sheet.cell(i, j)
            if kind.endswith("text"):
                _text(cell, None if value is None else str(value))
            else:
                cell.value = None if value is None else float(value)
                cell.number_format = _FORMATS[kind.split()[-1]]
            if kind.startswith("input"):
                cell.protection = Protection(locked=False)
                cell.fill = _INPUT_FILL
    for j, (_, head, _) in enumerate(BUDGET_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = max(12, len(head) + 2)
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(BUDGET_COLUMNS))}{max(len(d) + 1, 2)}"
    sheet.protection.sheet = True
    sheet.protection.autoFilter = False  # filtering stays allowed on the protected sheet
    sheet.protection.sort = False

    about = book.create_sheet("About")
    lines = {
        "marker": (MARKER, None),
        "layout": ("Layout", LAYOUT),
        "year": ("Budget year", int(year)),
        "drafted": ("Drafted on", pd.Timestamp(drafted_on).date()),
        "approved": ("Approved on", None),
        "basis": ("Forecast basis", _basis(draft)),
    }
    for key, (label, value) in lines.items():
        about.cell(_ABOUT[key], 1, label).font = Font(bold=key == "marker")
        cell = about.cell(_ABOUT[key], 2, value)
        if isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
    approved_cell = about.cell(_ABOUT["approved"], 2)
    approved_cell.protection = Protection(locked=False)
    approved_cell.fill = _INPUT_FILL
    approved_cell.number_format = "yyyy-mm-dd"
    notes = (
        "Enter your figures in the yellow columns of the Budget sheet (Budget quantity, "
        "Budget revenue, Comment): they start from the approved figures where a budget is "
        "approved, else from the draft.",
        "Draft = forecast (phase-outs tapered to their end of life, at agreed prices, else "
        "at last year's realised prices) + pipeline at its probability + NPI projects "
        "ramping up from their start of production.",
        "When the budget is approved, enter the approval date in B5, save the file as "
        "budget.xlsx in the extracts folder and run kamlab ingest. Do not move, add or "
        "remove columns.",
    )
    for i, note in enumerate(notes, start=len(_ABOUT) + 2):
        about.cell(i, 1, note)
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 14
    about.protection.sheet = True

    history = book.create_sheet("Versions")
    for j, column in enumerate(VERSION_COLUMNS, start=1):
        history.cell(1, j, column).font = Font(bold=True)
    if versions is not None and len(versions):
        v = versions.assign(period=pd.PeriodIndex(versions["period"], freq="M").strftime("%Y-%m"))
        for i, row in enumerate(v[list(VERSION_COLUMNS)].itertuples(index=False), start=2):
            for j, value in enumerate(row, start=1):
                if value is None or value is pd.NA or value is pd.NaT:
                    continue
                if isinstance(value, pd.Timestamp):
                    value = value.date()
                cell = history.cell(i, j)
                _text(cell, value) if isinstance(value, str) else setattr(cell, "value", value)
    history.protection.sheet = True

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _basis(draft: pd.DataFrame) -> str | None:
    if "basis" not in draft.columns or not len(draft):
        return None
    return ", ".join(sorted(set(draft["basis"].dropna().astype(str))))


def is_budget_workbook(path: str | Path) -> bool:
    """Whether `path` is a budget workbook written by :func:`write_budget_workbook`."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        return False
    try:
        book = load_workbook(path, read_only=True)
    except Exception:  # not an xlsx at all: the ordinary reader says why
        return False
    try:
        return "About" in book.sheetnames and book["About"]["A1"].value == MARKER
    finally:
        book.close()


def _rows(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")


def _budget_rows(
    rows: pd.DataFrame, quantity: pd.Series, revenue: pd.Series, version: object
) -> pd.DataFrame:
    """Sheet rows as the contract's budget table (text ids, monthly periods, float figures)."""
    return pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype("string"),
            "period": pd.PeriodIndex(rows["period"].astype(str), freq="M"),
            "product_family": rows["product_family"].astype("string"),
            "planned_quantity": quantity.astype("float64"),
            "planned_revenue": revenue.astype("float64"),
            "currency": rows["currency"].astype("string"),
            "version_date": version,
        }
    )


def read_budget_workbook(path: str | Path) -> pd.DataFrame:
    """The budget table in a workbook written by :func:`write_budget_workbook` and edited.

    Returns contract columns customer_id, period, product_family, planned_quantity,
    planned_revenue, currency and version_date: the *Budget* sheet's figures as the version
    approved on the *About* sheet's day, followed by the earlier versions of the *Versions*
    sheet (a version of the same day there is replaced). Raises
    :class:`BudgetWorkbookError` with one line when the layout was changed, the approval
    day is missing, or a budget figure is empty, not a number or negative (naming the rows).
    """
    path = Path(path)
    name = path.name
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in ("Budget", "About", "Versions"):
            if sheet not in book.sheetnames:
                raise BudgetWorkbookError(
                    f"{name}: sheet {sheet!r} is missing; sheets: {book.sheetnames}"
                )
        about = {key: book["About"].cell(row, 2).value for key, row in _ABOUT.items()}
        if about["layout"] != LAYOUT:
            raise BudgetWorkbookError(
                f"{name}: About!B{_ABOUT['layout']}: layout {about['layout']!r} is not {LAYOUT}; "
                "draft a new workbook with `kamlab budget`"
            )
        approved = about["approved"]
        if not isinstance(approved, dt.date):
            raise BudgetWorkbookError(
                f"{name}: About!B{_ABOUT['approved']} (Approved on) must be the date the budget "
                f"was approved, got {approved!r}"
            )
        rows = list(book["Budget"].iter_rows(values_only=True))
        version_rows = list(book["Versions"].iter_rows(values_only=True))
    finally:
        book.close()
    heads = [h for _, h, _ in BUDGET_COLUMNS]
    found = list(rows[0]) if rows else []
    found += [None] * (len(heads) - len(found))
    for j, head in enumerate(heads):
        if found[j] != head:
            raise BudgetWorkbookError(
                f"{name}: sheet Budget column {get_column_letter(j + 1)} should be {head!r}, "
                f"found {found[j]!r}: the layout was changed (enter figures only in the yellow "
                "columns; draft a new workbook with `kamlab budget`)"
            )
    extra = [h for h in found[len(heads) :] if h is not None]
    if extra:
        raise BudgetWorkbookError(
            f"{name}: sheet Budget has columns after {heads[-1]!r}: {extra}; the layout was changed"
        )
    body = pd.DataFrame(
        [r[: len(heads)] for r in rows[1:]], columns=[c for c, _, _ in BUDGET_COLUMNS]
    )
    body = body.loc[body.notna().any(axis=1)].reset_index(drop=True)
    excel_row = body.index.to_numpy() + 2
    for column in ("budget_quantity", "budget_revenue"):
        head = dict((c, h) for c, h, _ in BUDGET_COLUMNS)[column]
        values = body[column]
        numeric = values.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        empty = values.isna().to_numpy()
        if empty.any():
            raise BudgetWorkbookError(
                f"{name}: sheet Budget rows {_rows(excel_row[empty].tolist())}: {head} is empty "
                "(enter 0 where no business is planned)"
            )
        bad = ~numeric.to_numpy()
        if bad.any():
            raise BudgetWorkbookError(
                f"{name}: sheet Budget rows {_rows(excel_row[bad].tolist())}: {head} is not a number"
            )
        negative = values.astype("float64").to_numpy() < 0
        if negative.any():
            raise BudgetWorkbookError(
                f"{name}: sheet Budget rows {_rows(excel_row[negative].tolist())}: {head} is negative"
            )
    current = _budget_rows(
        body, body["budget_quantity"], body["budget_revenue"], pd.Timestamp(approved).normalize()
    )
    if len(version_rows) > 1:
        earlier = pd.DataFrame([r[: len(VERSION_COLUMNS)] for r in version_rows[1:]],
                               columns=list(VERSION_COLUMNS))  # fmt: skip
        earlier = earlier.loc[earlier.notna().any(axis=1)]
        earlier = _budget_rows(
            earlier,
            earlier["planned_quantity"],
            earlier["planned_revenue"],
            pd.to_datetime(earlier["version_date"]),
        )
        earlier = earlier.loc[earlier["version_date"] != current["version_date"].iloc[0]]
        current = pd.concat([current, earlier], ignore_index=True)
    return current
