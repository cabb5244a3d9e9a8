"""`Dataset`: the validated tables of one extract set, one DataFrame per contract table."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

__all__ = ["Dataset"]


def _empty(table: str) -> pd.DataFrame:
    """An empty frame with the contract's columns of an optional `table`."""
    from kamlab.data.contract import TABLES

    dtypes = {"string": "string", "date": "datetime64[us]", "period": "period[M]"}
    dtypes.update({"float": "float64", "int": "Int64", "bool": "boolean"})
    return pd.DataFrame({c.name: pd.Series(dtype=dtypes[c.dtype]) for c in TABLES[table].columns})


@dataclass
class Dataset:
    """One DataFrame per table of :mod:`kamlab.data.contract`, typed as the contract says.

    Optional tables that were not supplied are empty frames with the contract's columns.
    ``exclusions`` lists every row left out on the way in: table, reason, rows.
    """

    customers: pd.DataFrame
    materials: pd.DataFrame
    orders: pd.DataFrame
    deliveries: pd.DataFrame
    customer_forecasts: pd.DataFrame
    invoices: pd.DataFrame
    instalments: pd.DataFrame
    payments: pd.DataFrame
    complaints: pd.DataFrame
    budget: pd.DataFrame
    exclusions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "table": pd.Series(dtype="string"),
                "reason": pd.Series(dtype="string"),
                "rows": pd.Series(dtype="int64"),
            }
        )
    )

    actions: pd.DataFrame = field(default_factory=lambda: _empty("actions"))

    @classmethod
    def table_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in ("exclusions",)]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in self.table_names()}

    def row_counts(self) -> pd.Series:
        return pd.Series({name: len(df) for name, df in self.tables().items()}, name="rows")
