"""The shared-analytics cache: memory within a process, files on disk between processes.

:func:`load_analytics` finds a month's :class:`~kamlab.chain.steps.PackAnalytics` in memory,
else in the cache folder (key: :func:`analytics_key`), else prepares and stores it, and keeps
it in memory so a warm kernel serving many customers loads it once.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

import pandas as pd

import kamlab
from kamlab.chain.settings import resolve_settings
from kamlab.chain.source import latest_month, load_dataset, parse_month, resolve_source
from kamlab.chain.steps import PackAnalytics, prepare
from kamlab.config import Settings

__all__ = ["CACHE_ENV", "analytics_key", "load_analytics", "resolve_cache_dir"]

CACHE_ENV = "KAMLAB_CACHE"
DEFAULT_CACHE = ".kamlab-cache"


def resolve_cache_dir(cache_dir: str | os.PathLike | None = "") -> Path | None:
    """The cache folder: `cache_dir`, else ``$KAMLAB_CACHE``, else ``.kamlab-cache``; absolute.

    ``""`` (the default) means "not given"; None means no disk cache (returns None).
    """
    if cache_dir is None:
        return None
    return Path(cache_dir or os.environ.get(CACHE_ENV) or DEFAULT_CACHE).resolve()


def analytics_key(source: str | os.PathLike, month: str | pd.Period, settings: Settings) -> str:
    """Cache key: sha256 of the data file's bytes, the settings, the month and kamlab's version."""
    digest = hashlib.sha256()
    with open(source, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(repr(settings).encode())
    digest.update(str(parse_month(month)).encode())
    digest.update(kamlab.__version__.encode())
    return digest.hexdigest()[:24]


_MEMORY: dict[tuple, PackAnalytics] = {}  # the last analytics loaded in this process
_LATEST: dict[tuple, pd.Period] = {}  # default month per data file
_ON_DISK: set[tuple] = set()  # (memo, cache_dir) known to hold the memo's analytics


def load_analytics(
    source: str | os.PathLike | None,
    month: str | pd.Period | None,
    *,
    settings: Settings | str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = "",
) -> PackAnalytics:
    """The shared analytics of `month` for the data at `source`: memory, disk cache, or prepare.

    `source` as in :func:`~kamlab.chain.resolve_source`; `month` None means the month of the
    latest order. `settings` as in :func:`~kamlab.chain.resolve_settings`. `cache_dir` as in
    :func:`resolve_cache_dir`; with ``cache_dir=None`` nothing is written to disk.
    """
    settings = resolve_settings(settings)
    cache_dir = resolve_cache_dir(cache_dir)
    path = resolve_source(source, settings=settings)
    stat = path.stat()
    dataset = None
    if month is None:
        data_id = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if data_id not in _LATEST:
            dataset = load_dataset(path)
            _LATEST[data_id] = latest_month(dataset)
        month = _LATEST[data_id]
    period = parse_month(month)
    memo = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, str(period), repr(settings))
    if memo in _MEMORY and (cache_dir is None or (memo, str(cache_dir)) in _ON_DISK):
        return _MEMORY[memo]
    cached = None
    if cache_dir is not None:
        cached = Path(cache_dir) / f"analytics-{analytics_key(path, period, settings)}.pkl"
        _ON_DISK.add((memo, str(cache_dir)))
        if memo in _MEMORY:  # computed without this cache: store it there for other processes
            if not cached.exists():
                _atomic_pickle(_MEMORY[memo], cached)
            return _MEMORY[memo]
        if cached.exists():
            with cached.open("rb") as fh:
                result = pickle.load(fh)
            _remember(memo, result)
            return result
    result = prepare(
        dataset if dataset is not None else load_dataset(path), period, settings=settings
    )
    if cached is not None:
        _atomic_pickle(result, cached)
    _remember(memo, result)
    return result


def _remember(memo: tuple, result: PackAnalytics) -> None:
    """Keep only the latest analytics in memory (a kernel serves one month at a time)."""
    if memo not in _MEMORY:
        _MEMORY.clear()
        _ON_DISK.intersection_update({k for k in _ON_DISK if k[0] == memo})
    _MEMORY[memo] = result


def _atomic_pickle(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
