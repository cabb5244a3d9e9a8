"""kamlab: key account management analytics for B2B suppliers (SAP ERP + CRM extracts).

>>> import kamlab
>>> ds = kamlab.load("data/kam.duckdb", customers=["0000100001"])    # doctest: +SKIP
>>> kamlab.service.otif(kamlab.service.delivery_performance(ds.orders, ds.deliveries,
...     as_of="2026-10-31"))                                          # doctest: +SKIP

Modules load on first use, so ``import kamlab`` stays cheap (no DuckDB, statsmodels or
scikit-learn until asked for).
"""

from __future__ import annotations

import importlib
from typing import Any

from kamlab.config import Settings, load_settings
from kamlab.data.dataset import Dataset

__all__ = [
    "ContractError",
    "Dataset",
    "Settings",
    "__version__",
    "accuracy",
    "build_pack",
    "classify",
    "currency",
    "demand",
    "forecast",
    "load",
    "load_settings",
    "open_scorecard",
    "receivables",
    "scorecard",
    "service",
    "validate",
]
__version__ = "0.1.0"

_MODULES = {
    "accuracy",
    "classify",
    "currency",
    "demand",
    "forecast",
    "receivables",
    "scorecard",
    "service",
}
_NAMES = {
    "load": "kamlab.data.store",
    "validate": "kamlab.data.validate",
    "ContractError": "kamlab.data.validate",
    "build_pack": "kamlab.pack",
    "open_scorecard": "kamlab.scorecard",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"kamlab.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'kamlab' has no attribute {name!r}")
