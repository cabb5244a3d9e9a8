"""One month's chain for a pack: settings, database, cache and shared analytics, resolved once.

:func:`open_chain` is what ``kamlab pack`` calls before it starts any kernel; the kernels
then receive :meth:`MonthlyChain.kernel_options` (the resolved-settings file and the cache
folder) and find the very cache entry the pack prepared, whatever their working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kamlab.chain.cache import CACHE_ENV, analytics_key, load_analytics, resolve_cache_dir
from kamlab.chain.errors import ChainError
from kamlab.chain.settings import resolve_settings, write_settings
from kamlab.chain.source import parse_month, resolve_source
from kamlab.chain.steps import PackAnalytics
from kamlab.config import Settings

__all__ = ["MonthlyChain", "open_chain"]


@dataclass(frozen=True)
class MonthlyChain:
    """The resolved inputs of one month's pack and its shared analytics."""

    month: pd.Period
    settings: Settings
    settings_file: Path  # the resolved settings, as handed to every kernel
    source: Path
    cache_dir: Path
    key: str  # the analytics cache key (data, settings, month, code)
    analytics: PackAnalytics

    def kernel_options(self) -> dict[str, str]:
        """The notebook ``options`` that make a kernel use these settings and this cache."""
        return {"settings": str(self.settings_file), "cache_dir": str(self.cache_dir)}

    def preload(self) -> str:
        """Python a warm kernel runs first: load these analytics (from the cache) once."""
        return (
            "import kamlab.chain\n"
            f"kamlab.chain.load_analytics({str(self.source)!r}, {str(self.month)!r}, "
            f"settings={str(self.settings_file)!r}, cache_dir={str(self.cache_dir)!r})\n"
        )


def open_chain(
    month: str | pd.Period,
    *,
    source: str | os.PathLike | None = None,
    config: Settings | str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    scheduler: Any = None,
) -> MonthlyChain:
    """Resolve settings (`config`, else ``./kamlab.toml``, else the settings recorded in the
    database at ingest, else defaults), the month, the
    database and the cache folder, then load or prepare the month's shared analytics, once.

    Raises :class:`~kamlab.chain.ChainError` (or :class:`~kamlab.config.SettingsError`) for a
    wrong parameter before any analysis runs. With `scheduler` (a Dask scheduler address or
    ``Client``) the analytics are prepared on that cluster.
    """
    settings = resolve_settings(config)
    period = parse_month(month)
    path = resolve_source(source, settings=settings)
    if config is None:  # no file given: ./kamlab.toml, else the settings recorded at ingest
        settings = resolve_settings(None, database=path)
    folder = resolve_cache_dir(cache_dir or "", settings=settings)
    try:
        settings_file = write_settings(settings, folder)
    except OSError as err:
        raise ChainError(
            f"cannot write to the cache folder {str(folder)!r}: {err.strerror or err}; "
            f"set ${CACHE_ENV} or [cache] directory to a writable folder"
        ) from None
    analytics = load_analytics(
        path, period, settings=settings, cache_dir=folder, scheduler=scheduler
    )
    return MonthlyChain(
        month=period,
        settings=settings,
        settings_file=settings_file,
        source=path,
        cache_dir=folder,
        key=analytics_key(path, period, settings),
        analytics=analytics,
    )
