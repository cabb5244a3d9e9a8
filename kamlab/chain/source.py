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

__all__ = ["DATABASE_ENV", "latest_month", "load_dataset", "parse_month", "resolve_source"]

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

    `settings` None: :func:`~kamlab.chain.resolve_settings` (``./kamlab.toml`` or defaults).
    Raises :class:`ChainError` if the file does not exist.
    """
    if source is None:
        if settings is None:
            settings = resolve_settings()
        source = os.environ.get(DATABASE_ENV) or settings.pack.database
    path = Path(source).resolve()
    if not path.is_file():
        raise ChainError(f"data source {str(path)!r} does not exist; run `kamlab ingest` first")
    return path


def load_dataset(source: Path, customers: list[str] | None = None) -> Dataset:
    """Load the DuckDB store at `source` (only `customers` if given)."""
    from kamlab.data import store

    return store.load(source, customers=customers)


def latest_month(dataset: Dataset) -> pd.Period:
    """The month of the latest order date in `dataset`: the default review month."""
    if dataset.orders.empty:
        raise ChainError("the data holds no orders: give the month explicitly")
    return dataset.orders["order_date"].max().to_period("M")
