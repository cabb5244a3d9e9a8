"""`Dataset`: the validated tables of one extract set, one DataFrame per contract table."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

__all__ = ["Dataset"]

_NOT_TABLES = {"exclusions", "absent", "derived"}


def _empty(table: str):
    """A default factory: `table`'s typed empty frame (for tables appended after `exclusions`)."""

    def factory() -> pd.DataFrame:
        from kamlab.data.validate import empty_frame  # validate imports Dataset

        return empty_frame(table)

    return factory


@dataclass
class Dataset:
    """One DataFrame per table of :mod:`kamlab.data.contract`, typed as the contract says.

    Optional tables that were not supplied are empty frames with the contract's columns.
    ``exclusions`` lists every row left out on the way in: table, reason, rows.
    ``absent`` names the tables no extract was given for (their frames are empty: say "no
    <table> in the data", never a zero); ``derived`` the master tables built from the
    transactions because their extract was absent (ids; names = ids; see
    :mod:`kamlab.data.derive`).
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
    absent: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()

    # --- commercial tables (optional: empty frames with the contract's columns) ---
    prices: pd.DataFrame = field(default_factory=_empty("prices"))
    price_requests: pd.DataFrame = field(default_factory=_empty("price_requests"))
    opportunities: pd.DataFrame = field(default_factory=_empty("opportunities"))
    market: pd.DataFrame = field(default_factory=_empty("market"))
    visits: pd.DataFrame = field(default_factory=_empty("visits"))
    ratings: pd.DataFrame = field(default_factory=_empty("ratings"))

    # --- supply tables ---
    stock: pd.DataFrame = field(default_factory=_empty("stock"))
    material_plan: pd.DataFrame = field(default_factory=_empty("material_plan"))
    capacity: pd.DataFrame = field(default_factory=_empty("capacity"))

    actions: pd.DataFrame = field(default_factory=_empty("actions"))
    agreed_forecasts: pd.DataFrame = field(default_factory=_empty("agreed_forecasts"))

    @classmethod
    def table_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in _NOT_TABLES]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in self.table_names()}

    def row_counts(self) -> pd.Series:
        return pd.Series({name: len(df) for name, df in self.tables().items()}, name="rows")
