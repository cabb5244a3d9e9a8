"""The monthly chain: the one place that resolves settings, the database and the month, runs
the shared analytics steps once per pack and caches them.

``scorecard`` only slices and presents :class:`PackAnalytics`; ``pack`` calls
:func:`open_chain` and hands the resolved settings to every kernel; kernels call
:func:`load_analytics` with them and never look for settings again.
"""

from kamlab.chain.cache import CACHE_ENV, analytics_key, load_analytics, resolve_cache_dir
from kamlab.chain.errors import ChainError
from kamlab.chain.run import MonthlyChain, open_chain
from kamlab.chain.settings import resolve_settings, write_settings
from kamlab.chain.source import (
    DATABASE_ENV,
    latest_month,
    load_dataset,
    parse_month,
    resolve_source,
)
from kamlab.chain.steps import STEPS, PackAnalytics, Step, prepare, step

__all__ = [
    "CACHE_ENV",
    "DATABASE_ENV",
    "STEPS",
    "ChainError",
    "MonthlyChain",
    "PackAnalytics",
    "Step",
    "analytics_key",
    "latest_month",
    "load_analytics",
    "load_dataset",
    "open_chain",
    "parse_month",
    "prepare",
    "resolve_cache_dir",
    "resolve_settings",
    "resolve_source",
    "step",
    "write_settings",
]
