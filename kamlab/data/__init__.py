"""The data layer: contract, validation, ingest into DuckDB, loading `Dataset`s, demo data."""

from kamlab.data.contract import TABLES, schema
from kamlab.data.dataset import Dataset

__all__ = ["TABLES", "Dataset", "schema"]
