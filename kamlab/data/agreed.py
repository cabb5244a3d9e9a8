"""Read the agreed figures a KAM typed into the pack workbook's challenge list back as rows of
the ``agreed_forecasts`` table (contract: :mod:`kamlab.data.contract`).

The round trip: ``kamlab pack`` writes ``pack.xlsx`` whose "Challenge list" sheet has an empty
"Agreed quantity" and "Basis" (customer / kamlab / own) per flagged material × month; after
the account review the KAM fills them in; :func:`agreed_from_workbook` turns the filled rows
into agreed forecasts (who = the customer's account manager, when = the review date), which
go into the extracts folder as ``agreed_forecasts.csv`` for the next ``kamlab ingest``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

__all__ = ["AgreedSheetError", "agreed_from_workbook"]

_SHEET = "Challenge list"
_NEEDED = ("customer_id", "material_id", "period", "agreed_quantity", "basis")
_BASES = ("customer", "kamlab", "own")


class AgreedSheetError(ValueError):
    """The workbook is not a pack's challenge list, or a filled row is not an agreement."""


def _column(header: object) -> str:
    """ "Agreed quantity" -> "agreed_quantity", "Basis (customer / kamlab / own)" -> "basis"."""
    plain = re.sub(r"\(.*?\)", "", str(header))
    return re.sub(r"[^a-z0-9]+", "_", plain.strip().lower()).strip("_")


def agreed_from_workbook(
    path: str | Path,
    *,
    agreed_on: pd.Timestamp | str,
    customers: pd.DataFrame | None = None,
    agreed_by: str | None = None,
) -> pd.DataFrame:
    """The rows of `path`'s "Challenge list" sheet with an agreed quantity, as agreed forecasts.

    Returns customer_id, material_id, period, quantity, basis, agreed_by, agreed_on (the
    contract's columns), one row per filled line. ``agreed_by`` is `agreed_by` if given,
    else the customer's account_manager from `customers`. A missing sheet or column, a
    quantity that is not a number ≥ 0 or a basis outside customer / kamlab / own raises
    :class:`AgreedSheetError` naming the sheet, column and the workbook rows.
    """
    try:
        frame = pd.read_excel(path, sheet_name=_SHEET, dtype=object)
    except ValueError as err:
        raise AgreedSheetError(f"{path}: no sheet {_SHEET!r} ({err})") from None
    frame.columns = [_column(c) for c in frame.columns]
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise AgreedSheetError(f"{path}: sheet {_SHEET!r} lacks column(s) {missing}")
    rows = frame.index + 2  # the workbook's row numbers (header in row 1)
    quantity = pd.to_numeric(frame["agreed_quantity"], errors="coerce")
    filled = frame["agreed_quantity"].notna() & (
        frame["agreed_quantity"].astype(str).str.strip() != ""
    )
    bad_qty = filled & ~(quantity >= 0)
    basis = frame["basis"].astype("string").str.strip().str.lower()
    bad_basis = filled & ~basis.isin(_BASES).fillna(False)
    problems = []
    if bad_qty.any():
        problems.append(f"agreed quantity not a number >= 0 in rows {list(rows[bad_qty])[:10]}")
    if bad_basis.any():
        problems.append(
            f"basis not one of {', '.join(_BASES)} in rows {list(rows[bad_basis])[:10]}"
        )
    if problems:
        raise AgreedSheetError(f"{path}: sheet {_SHEET!r}: " + "; ".join(problems))
    got = frame[filled]
    who = (
        pd.Series(agreed_by, index=got.index, dtype="string")
        if agreed_by is not None
        else got["customer_id"]
        .astype(str)
        .map(
            customers.set_index("customer_id")["account_manager"].astype(str)
            if customers is not None
            else {}
        )
    )
    period = pd.to_datetime(got["period"].astype(str), errors="coerce").dt.to_period("M")
    return pd.DataFrame(
        {
            "customer_id": got["customer_id"].astype(str),
            "material_id": got["material_id"].astype(str),
            "period": period,
            "quantity": quantity[filled].astype("float64"),
            "basis": basis[filled].astype(str),
            "agreed_by": who.astype("string"),
            "agreed_on": pd.Timestamp(agreed_on).normalize(),
        }
    ).reset_index(drop=True)
