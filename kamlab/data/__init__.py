"""The data layer: contract, validation, ingest into DuckDB, loading `Dataset`s, demo data.

The store (:mod:`kamlab.data.store`, DuckDB) and :mod:`kamlab.data.ingest` are imported
explicitly, so importing the contract never pulls in file or database I/O.
"""

from kamlab.data.contract import TABLES, contract_markdown, schema
from kamlab.data.dataset import Dataset
from kamlab.data.validate import ContractError, validate

__all__ = ["TABLES", "ContractError", "Dataset", "contract_markdown", "schema", "validate"]
