"""The pack's data source and review month: which database, which month, which data."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from kamlab.chain.errors import ChainError
from kamlab.chain.settings import resolve_settings
from kamlab.config import Settings
from kamlab.data.dataset import Dataset

__all__ = [
    "DATABASE_ENV",
    "TRANSACTION_DATES",
    "check_month",
    "data_months",
    "latest_month",
    "load_dataset",
    "load_dates",
    "parse_month",
    "project_root",
    "months_without_data",
    "resolve_source",
]

DATABASE_ENV = "KAMLAB_DATABASE"

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def parse_month(month: str | pd.Period) -> pd.Period:
    """The month as a monthly ``Period``; raises :class:`ChainError` unless ``YYYY-MM``.

    >>> str(parse_month("2025-06"))
    '2025-06'
    """
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    if not isinstance(month, str) or not _MONTH.fullmatch(month):
        raise ChainError(f"month must be 'YYYY-MM' (e.g. '2025-06'), got {month!r}")
    return pd.Period(month, "M")


def resolve_source(
    source: str | os.PathLike | None = None, *, settings: Settings | None = None
) -> Path:
    """The database: `source`, else ``$KAMLAB_DATABASE``, else ``[pack] database``; absolute.

    A relative path that is not found from the working directory is looked up from the
    :func:`project_root`, so a notebook whose kernel starts in ``notebooks/`` finds
    ``data/kam.duckdb`` as ``kamlab`` run from the project folder does.
    `settings` None: :func:`~kamlab.chain.resolve_settings` (``./kamlab.toml`` or defaults).
    Raises :class:`ChainError` if the file does not exist.
    """
    if source is None:
        if settings is None:
            settings = resolve_settings()
        source = os.environ.get(DATABASE_ENV) or settings.pack.database
    path = Path(source)
    if not path.is_absolute() and not path.is_file():
        root = project_root()
        if root is not None and (root / path).is_file():
            path = root / path
    path = path.resolve()
    if not path.is_file():
        raise ChainError(f"data source {str(path)!r} does not exist; run `kamlab ingest` first")
    return path


def project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the working directory) holding a
    ``kamlab.toml`` or a ``pyproject.toml``: the project the relative paths belong to."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "kamlab.toml").is_file() or (folder / "pyproject.toml").is_file():
            return folder
    return None


def load_dataset(
    source: Path, customers: list[str] | None = None, *, chunked: bool = False
) -> Dataset:
    """Load the DuckDB store at `source` (only `customers` if given).

    `chunked`: leave out the tables only the chain's customer-chunk steps read
    (:data:`kamlab.chain.steps.CHUNK_TABLES`: they read them from the store themselves).
    """
    from kamlab.data import store

    if not chunked:
        return store.load(source, customers=customers)
    from kamlab.chain.steps import CHUNK_TABLES

    tables = [t for t in Dataset.table_names() if t not in CHUNK_TABLES]
    return store.load(source, customers=customers, tables=tables)


def load_dates(source: str | os.PathLike) -> Dataset:
    """Only what :func:`latest_month`, :func:`check_month` and :func:`months_without_data`
    read from the store at `source`: the dates of :data:`TRANSACTION_DATES`."""
    from kamlab.data import store

    return store.load(
        source,
        tables=tuple(TRANSACTION_DATES),
        columns={table: [column] for table, column in TRANSACTION_DATES.items()},
    )


def _dated(dataset: Dataset) -> tuple[pd.Series, str]:
    """The dates the data's months are read from, and what they are: the order dates, or the
    invoices' posting dates when there are no orders (an AR ledger alone)."""
    if not dataset.orders.empty:
        return dataset.orders["order_date"], "orders"
    if not dataset.invoices.empty:
        return dataset.invoices["posting_date"], "invoices"
    raise ChainError(
        "the data holds no orders and no invoices: ingest an order or AR extract first"
    )


#: a data end this many days or fewer before the month end is a weekend or holiday, not a gap
MONTH_END_SLACK_DAYS = 3


def coverage(dataset: Dataset, as_of: pd.Timestamp) -> pd.DataFrame:
    """The dates the transactions cover up to `as_of`: one row, first and last.

    first: the earliest order date (invoice posting date without orders); last: the latest
    order, delivery, invoice or payment date on or before `as_of` (later data are ignored
    for a past month). A review month whose `last` falls more than
    :data:`MONTH_END_SLACK_DAYS` before `as_of` is covered only part-way.
    """
    dates, _ = _dated(dataset)
    columns = [
        (dataset.orders, "order_date"),
        (dataset.deliveries, "delivered_date"),
        (dataset.invoices, "posting_date"),
        (dataset.payments, "payment_date"),
    ]
    lasts = [
        d[d <= as_of].max()
        for frame, column in columns
        if len(frame) and len(d := pd.to_datetime(frame[column]).dropna())
    ]
    last = max((x for x in lasts if pd.notna(x)), default=as_of)
    return pd.DataFrame({"first": [pd.Timestamp(dates.min())], "last": [pd.Timestamp(last)]})


def latest_month(dataset: Dataset) -> pd.Period:
    """The month of the latest order date in `dataset` (of the latest invoice when there are
    no orders): the default review month."""
    return _dated(dataset)[0].max().to_period("M")


TRANSACTION_DATES = {  # transactional table -> the date that places a row in a month
    "orders": "order_date",
    "invoices": "posting_date",
    "payments": "payment_date",
    "deliveries": "delivered_date",
}


def data_months(dataset: Dataset) -> dict[str, tuple[pd.Period, pd.Period]]:
    """First and last month of each transactional table with dated rows (orders by order
    date, invoices by posting date, payments by payment date, deliveries by delivery date)."""
    out = {}
    for table, column in TRANSACTION_DATES.items():
        dates = getattr(dataset, table)[column].dropna()
        if len(dates):
            out[table] = (dates.min().to_period("M"), dates.max().to_period("M"))
    return out


def _ranges(months: dict[str, tuple[pd.Period, pd.Period]]) -> str:
    return ", ".join(
        f"{table} run from {first} to {last}" for table, (first, last) in months.items()
    )


def check_month(dataset: Dataset, month: pd.Period) -> None:
    """Raise :class:`ChainError` unless some transactional table (:func:`data_months`) has
    `month` within its first and last month; the message names each table's range.

    A review month after all the data would show an empty month as the latest; one before
    it has nothing to show at all. Sections whose own table does not cover `month` say so
    (:func:`months_without_data`).
    """
    months = data_months(dataset)
    if not months:
        raise ChainError(
            "the data holds no dated orders, invoices, payments or deliveries: "
            "ingest an order or AR extract first"
        )
    if any(first <= month <= last for first, last in months.values()):
        return
    if all(month > last for _, last in months.values()):
        side = "after"
    elif all(month < first for first, _ in months.values()):
        side = "before"
    else:
        side = "between the tables of"
    raise ChainError(
        f"month {month} is {side} the data: {_ranges(months)}; "
        "choose a review month within one of these ranges"
    )


def months_without_data(dataset: Dataset, month: pd.Period) -> dict[str, str]:
    """Orders or invoices with rows, but `month` outside their first to last month -> the
    sentence their sections say instead of figures (e.g. an AR ledger running years past
    the order book). Deliveries and payments are read against those and may lag them (the
    latest orders not yet delivered, the latest invoices not yet paid): not listed."""
    return {
        table: f"no {table} in {month}: they run from {first} to {last}"
        for table, (first, last) in data_months(dataset).items()
        if table in ("orders", "invoices") and not first <= month <= last
    }
