"""Master data derived from the transactions, for extract sets without a customer or material
master (a plain order book, an AR ledger).

A master table whose extract is absent and whose contract lists ``derived_from`` tables is
built from the distinct ids in those tables, then validated like an extract:

- ``customers``: one row per ``customer_id``; ``name`` = the id; ``currency`` = the currency
  the customer's orders, invoices, payments and budget use most (ties: the first in
  alphabetical order); ``payment_terms_days`` = the median days from posting to due date of
  the customer's invoices, rounded (empty without invoices); ``account_manager``, ``region``
  and ``segment`` = ``"unknown"``; credit limit and SLA targets empty (none).
- ``materials``: one row per ``material_id``; ``description`` = the id; ``product_family``
  = ``"unknown"``; ``lifecycle`` = ``"active"``; cost empty.

``Dataset.derived`` names the tables built this way, so summaries and pages can say so.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kamlab.data.contract import TABLES

__all__ = ["UNKNOWN", "derive"]

UNKNOWN = "unknown"  # attributes a derived master row cannot know


def derive(table: str, typed: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    """`table` built from the ids in the (coerced) transaction frames `typed`, as text cells
    in contract column names; None when no transaction table holds any of its ids.

    >>> orders = pd.DataFrame({"customer_id": ["C2", "C1", "C2"], "currency": ["USD"] * 3})
    >>> derive("customers", {"orders": orders})[["customer_id", "name", "currency"]]
      customer_id name currency
    0          C1   C1      USD
    1          C2   C2      USD
    """
    spec = TABLES[table]
    key = spec.key[0]
    sources = [typed[t] for t in spec.derived_from if t in typed and key in typed[t]]
    ids = pd.concat([s[key] for s in sources], ignore_index=True) if sources else None
    if ids is None or ids.dropna().empty:
        return None
    ids = pd.Series(np.sort(ids.dropna().astype("str").unique()), dtype="str")
    if table == "customers":
        return _customers(ids, typed)
    if table == "materials":
        return _materials(ids)
    raise ValueError(f"no derivation defined for table {table!r}")


def _customers(ids: pd.Series, typed: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    money = [
        typed[t][["customer_id", "currency"]]
        for t in ("orders", "invoices", "payments", "budget")
        if t in typed and {"customer_id", "currency"} <= set(typed[t].columns)
    ]
    currency = pd.Series(pd.NA, index=ids, dtype="str")
    if money:
        used = pd.concat(money, ignore_index=True).dropna()
        counts = used.value_counts().rename("n").reset_index()
        counts = counts.sort_values(["customer_id", "n", "currency"], ascending=[True, False, True])
        currency = counts.drop_duplicates("customer_id").set_index("customer_id")["currency"]
    terms = pd.Series(np.nan, index=ids, dtype="float64")
    invoices = typed.get("invoices")
    if invoices is not None and len(invoices):
        mine = invoices.loc[invoices["document_type"].eq("invoice").fillna(False).to_numpy(bool)]
        days = (mine["due_date"] - mine["posting_date"]).dt.days
        terms = days.groupby(mine["customer_id"]).median().round()
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": ids,
            "account_manager": UNKNOWN,
            "region": UNKNOWN,
            "segment": UNKNOWN,
            "currency": ids.map(currency).astype("str"),
            "payment_terms_days": ids.map(terms).astype("float64"),
        }
    )


def _materials(ids: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "material_id": ids,
            "description": ids,
            "product_family": UNKNOWN,
            "lifecycle": "active",
        }
    )
