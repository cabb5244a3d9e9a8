"""Small helpers shared by the service modules: argument checks and exclusion tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__: list[str] = []


def _require(frame: pd.DataFrame, columns: Iterable[str], *, table: str, function: str) -> None:
    """Raise ValueError naming the function, the table and the missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{function}: {table} lacks required column(s) {missing}; got {list(frame.columns)}"
        )


def _timestamp(value: object, *, name: str, function: str) -> pd.Timestamp:
    """A day-precision timestamp from `value`, or ValueError naming the parameter."""
    if value is None:
        raise ValueError(f"{function}: {name} is required (a date), got None")
    try:
        return pd.Timestamp(value).normalize()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{function}: {name} must be a date, got {value!r}") from err


def _excluded(rows: Sequence[tuple[str, str, int, float]]) -> pd.DataFrame:
    """The ``attrs["excluded"]`` table: one row per (table, reason) with rows and quantity."""
    table, reason, count, quantity = zip(*rows, strict=True) if rows else ((), (), (), ())
    return pd.DataFrame(
        {
            "table": pd.Series(table, dtype="string"),
            "reason": pd.Series(reason, dtype="string"),
            "rows": pd.Series(count, dtype="int64"),
            "quantity": pd.Series(quantity, dtype="float64"),
        }
    )


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN (never inf) where the denominator is zero or missing."""
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return out.where(den != 0)


def _complete(
    result: pd.DataFrame, include: pd.DataFrame | None, by: Sequence[str]
) -> pd.DataFrame:
    """Add a row for each `by` combination of `include` that `result` lacks (values NaN)."""
    if include is None:
        return result
    missing = [k for k in by if k not in include.columns]
    if missing:
        raise ValueError(f"include lacks the grouping column(s) {missing}")
    wanted = include[list(by)].drop_duplicates()
    return wanted.merge(result, on=list(by), how="outer", sort=True)


def _line_position(orders: pd.DataFrame, deliveries: pd.DataFrame, *, function: str) -> np.ndarray:
    """Row position in `orders` of each delivery's (order_id, line); -1 when there is none."""
    codes, _ = pd.factorize(
        pd.concat([orders["order_id"], deliveries["order_id"]], ignore_index=True)
    )
    lines = np.concatenate(
        [orders["line"].to_numpy(dtype="int64"), deliveries["line"].to_numpy(dtype="int64")]
    )
    if len(lines) and lines.min() < 0:
        raise ValueError(f"{function}: order line numbers must be >= 0")
    width = int(lines.max()) + 1 if len(lines) else 1
    key = codes.astype("int64") * width + lines
    order_key = pd.Index(key[: len(orders)])
    if not order_key.is_unique:
        dup = orders.loc[order_key.duplicated(), ["order_id", "line"]].head(5)
        raise ValueError(
            f"{function}: orders must have one row per (order_id, line); first "
            f"duplicates: {dup.to_dict('records')}"
        )
    return order_key.get_indexer(key[len(orders) :])


def _join_order_lines(
    deliveries: pd.DataFrame, orders: pd.DataFrame, columns: Sequence[str], *, function: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """Deliveries that have an order line, with that line's `columns`; and the orphan mask."""
    position = _line_position(orders, deliveries, function=function)
    found = position >= 0
    columns = [c for c in dict.fromkeys(columns) if c not in ("order_id", "line")]
    joined = pd.concat(
        [
            deliveries.loc[found].reset_index(drop=True),
            orders[columns].iloc[position[found]].reset_index(drop=True),
        ],
        axis=1,
    )
    return joined, ~found
