"""The shared-analytics cache: memory within a process, files on disk between processes.

:func:`load_analytics` finds a month's :class:`~kamlab.chain.steps.PackAnalytics` in memory,
else in the cache folder, else prepares and stores it, and keeps it in memory so a warm
kernel serving many customers loads it once.

On disk an entry is a folder ``analytics-<key>/``: one Parquet file per frame and
``meta.json`` for the rest (month, settings, notes, column types) — nothing in it executes
code when read, so a shared cache folder is safe. The key (:func:`analytics_key`) covers the
data file's bytes, every setting but the few that only shape the presentation
(:data:`PRESENTATION_SETTINGS`), the month and the code (:func:`code_version`, a hash of
every module but the presentation's): derived, not listed, so a setting or module added
later is covered without anyone remembering to add it. An entry is written to a
unique temporary folder and renamed into place, so readers never see half an entry; an entry
that cannot be read is a miss (warned, removed, recomputed). After each write, entries older
than ``[cache] max_age_days`` and then the least recently used beyond
``[cache] max_megabytes`` are removed — backtest snapshots per origin
(:mod:`kamlab.chain.backtests`, ``backtest-<key>.parquet``, which next month's analytics
reuse) with them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

import kamlab
from kamlab.chain.backtests import PREFIX as BACKTEST_PREFIX
from kamlab.chain.backtests import origin_cache, reusing
from kamlab.chain.settings import resolve_settings, settings_mapping
from kamlab.chain.source import (
    latest_month,
    load_dataset,
    load_dates,
    parse_month,
    resolve_source,
)
from kamlab.chain.steps import PackAnalytics, prepare
from kamlab.config import Settings

__all__ = [
    "CACHE_ENV",
    "PRESENTATION_CODE",
    "PRESENTATION_SETTINGS",
    "CacheWarning",
    "analytics_key",
    "analytics_code",
    "analytics_settings",
    "code_version",
    "load_analytics",
    "resolve_cache_dir",
]

CACHE_ENV = "KAMLAB_CACHE"
FORMAT = 2  # bump when the layout of an entry changes
# what never changes the analytics, so never the key: everything else — a module or a
# setting added later too — is part of it. Code: the presentation (relative to the package).
PRESENTATION_CODE = ("pack", "scorecard", "cli.py", "__main__.py")
# settings sections that only say how the pack is built, cached or shown, and how extracts were
# read ([formats], [mapping]: the data file's bytes already cover how it was ingested)
PRESENTATION_SETTINGS = ("pack", "cache", "formats", "mapping")
# stored in meta.json
_META_FIELDS = (
    "month",
    "as_of",
    "settings",
    "unavailable",
    "missing_tables",
    "missing_reasons",
    "derived_tables",
)
_STALE_TMP_SECONDS = 3600  # a temporary entry this old belongs to a killed process


class CacheWarning(UserWarning):
    """A cache entry could not be read or written; the analytics are recomputed."""


def resolve_cache_dir(
    cache_dir: str | os.PathLike | None = "", *, settings: Settings | None = None
) -> Path | None:
    """The cache folder: `cache_dir`, else ``$KAMLAB_CACHE``, else ``[cache] directory``.

    ``""`` (the default) means "not given"; None means no disk cache (returns None).
    """
    if cache_dir is None:
        return None
    if not cache_dir:
        default = (settings or resolve_settings()).cache.directory
        cache_dir = os.environ.get(CACHE_ENV) or default
    return Path(cache_dir).resolve()


def analytics_code(package: Path = Path(kamlab.__file__).parent) -> list[Path]:
    """Every source file of the package but the presentation (:data:`PRESENTATION_CODE`)."""
    skipped = [package / name for name in PRESENTATION_CODE]
    return [
        file
        for file in sorted(package.rglob("*.py"))
        if not any(file == s or s in file.parents for s in skipped)
    ]


@functools.cache
def code_version(package: Path = Path(kamlab.__file__).parent) -> str:
    """sha256 (16 hex) over the source of the analytics modules (:func:`analytics_code`)."""
    digest = hashlib.sha256(kamlab.__version__.encode())
    for file in analytics_code(package):
        digest.update(file.relative_to(package).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def analytics_settings(settings: Settings) -> dict:
    """The settings the analytics read: all of them but :data:`PRESENTATION_SETTINGS`."""
    tables = settings_mapping(settings)
    return {name: values for name, values in tables.items() if name not in PRESENTATION_SETTINGS}


def analytics_key(
    source: str | os.PathLike,
    month: str | pd.Period,
    settings: Settings,
    *,
    code: str | None = None,
) -> str:
    """Cache key: sha256 of the data file's bytes, the analytics settings
    (:func:`analytics_settings`), the month and the code version (`code`, default
    :func:`code_version`)."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    with open(source, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps(analytics_settings(settings), sort_keys=True, default=str).encode())
    digest.update(str(parse_month(month)).encode())
    digest.update((code or code_version()).encode())
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
    scheduler: Any = None,
) -> PackAnalytics:
    """The shared analytics of `month` for the data at `source`: memory, disk cache, or prepare.

    `source` as in :func:`~kamlab.chain.resolve_source`; `month` None means the month of the
    latest order. `settings` as in :func:`~kamlab.chain.resolve_settings`. `cache_dir` as in
    :func:`resolve_cache_dir`; with ``cache_dir=None`` nothing is written to disk.
    `scheduler` (a Dask address or ``Client``): prepare on that cluster (same results).
    """
    if settings is None:  # no file given: ./kamlab.toml, else those recorded at ingest
        path = resolve_source(source, settings=resolve_settings(None))
        settings = resolve_settings(None, database=path)
    else:
        settings = resolve_settings(settings)
        path = resolve_source(source, settings=settings)
    cache_dir = resolve_cache_dir(cache_dir, settings=settings)
    stat = path.stat()
    if month is None:
        data_id = (str(path), stat.st_mtime_ns, stat.st_size)
        if data_id not in _LATEST:
            _LATEST[data_id] = latest_month(load_dates(path))
        month = _LATEST[data_id]
    period = parse_month(month)
    memo = (str(path), stat.st_mtime_ns, stat.st_size, str(period), repr(settings))
    if memo in _MEMORY and (cache_dir is None or (memo, str(cache_dir)) in _ON_DISK):
        return _MEMORY[memo]
    entry = None
    if cache_dir is not None:
        entry = cache_dir / f"analytics-{analytics_key(path, period, settings)}"
        _ON_DISK.add((memo, str(cache_dir)))
        if memo in _MEMORY:  # computed without this cache: store it there for other processes
            if not entry.exists():
                _store(_MEMORY[memo], entry, settings)
            return _MEMORY[memo]
        if entry.exists():
            result = _read(entry, settings)
            if result is not None:
                _remember(memo, result)
                return result
    backtests = None  # last month's backtest origins, where the data up to them is the same
    if cache_dir is not None:
        backtests = origin_cache(cache_dir, path, period, settings, code=code_version())
    with reusing(backtests):
        result = prepare(
            load_dataset(path, chunked=True),
            period,
            settings=settings,
            scheduler=scheduler,
            source=path,  # service, receivables, payment risk: by chunk from the store
        )
    if entry is not None:
        _store(result, entry, settings)
    _remember(memo, result)
    return result


def _remember(memo: tuple, result: PackAnalytics) -> None:
    """Keep only the latest analytics in memory (a kernel serves one month at a time)."""
    if memo not in _MEMORY:
        _MEMORY.clear()
        _ON_DISK.intersection_update({k for k in _ON_DISK if k[0] == memo})
    _MEMORY[memo] = result


def _store(analytics: PackAnalytics, entry: Path, settings: Settings) -> None:
    """Write `analytics` to the folder `entry` atomically, then prune the cache.

    A failure to write (full disk, read-only folder, a column Parquet cannot hold) is a
    warning: the pack goes on with the analytics in memory, the kernels recompute.
    """
    tmp = entry.parent / f".tmp-{entry.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
        meta = _write_frames(analytics, tmp)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        try:
            os.replace(tmp, entry)
        except OSError:  # another process stored the same entry first: keep theirs
            if not (entry / "meta.json").exists():
                raise
        _prune(entry.parent, keep=entry, settings=settings)
    except (OSError, ValueError, TypeError) as err:  # incl. a column Parquet cannot hold
        warnings.warn(f"analytics cache {str(entry)!r} not written: {err}", CacheWarning, 2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_frames(analytics: PackAnalytics, folder: Path) -> dict:
    """One Parquet file per frame in `folder`; return the JSON-able rest of `analytics`."""
    frames, dtypes = {}, {}
    for f in dataclasses.fields(analytics):
        value = getattr(analytics, f.name)
        if isinstance(value, pd.DataFrame):
            value.to_parquet(folder / f"{f.name}.parquet")
            frames[f.name] = f"{f.name}.parquet"
            dtypes[f.name] = {str(c): str(t) for c, t in value.dtypes.items()}
        elif value is None:
            frames[f.name] = None
        elif f.name not in _META_FIELDS:
            raise TypeError(
                f"PackAnalytics.{f.name} is a {type(value).__name__}: a step's fields must be "
                "DataFrames (or None) to be cached"
            )
    return {
        "format": FORMAT,
        "kamlab_version": kamlab.__version__,
        "month": str(analytics.month),
        "as_of": analytics.as_of.isoformat(),
        "settings": settings_mapping(analytics.settings),
        "unavailable": analytics.unavailable,
        "missing_tables": list(analytics.missing_tables),
        "missing_reasons": analytics.missing_reasons,
        "derived_tables": list(analytics.derived_tables),
        "frames": frames,
        "dtypes": dtypes,
    }


def _read(entry: Path, settings: Settings) -> PackAnalytics | None:
    """The analytics stored in `entry` (with the caller's `settings`), or None when unreadable."""
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT}")
        frames = {}
        for name, file in meta["frames"].items():
            frames[name] = None if file is None else _read_frame(entry / file, meta["dtypes"][name])
        result = PackAnalytics(
            month=pd.Period(meta["month"], "M"),
            as_of=pd.Timestamp(meta["as_of"]),
            settings=settings,  # equal in every keyed section; the caller's [pack]/[cache] win
            unavailable=dict(meta["unavailable"]),
            missing_tables=tuple(meta["missing_tables"]),
            missing_reasons=dict(meta.get("missing_reasons", {})),
            derived_tables=tuple(meta["derived_tables"]),
            **frames,
        )
    except Exception as err:  # any unreadable entry is a miss, never a crash
        warnings.warn(
            f"analytics cache entry {str(entry)!r} is unreadable ({type(err).__name__}: "
            f"{err}); recomputing it",
            CacheWarning,
            3,
        )
        _remove(entry)
        return None
    try:
        os.utime(entry)  # recently used: pruned last
    except OSError:  # a read-only (shared) cache folder: read, never pruned from here
        pass
    return result


def _read_frame(path: Path, dtypes: dict[str, str]) -> pd.DataFrame:
    """A frame from Parquet, its column types as stored (Parquet keeps no second-unit
    timestamps and no mixed-type object columns)."""
    frame = pd.read_parquet(path)
    if list(map(str, frame.columns)) != list(dtypes):
        raise ValueError(f"{path.name}: columns {list(frame.columns)} != {list(dtypes)}")
    changed = {c: t for c, t in zip(frame.columns, dtypes.values(), strict=True)}
    changed = {c: t for c, t in changed.items() if str(frame[c].dtype) != t}
    return frame.astype(changed) if changed else frame


def _remove(path: Path) -> None:
    """Remove a cache entry: renamed aside first, so a reader never sees it half-deleted."""
    aside = path.parent / f".tmp-removed-{path.name}-{uuid.uuid4().hex[:8]}"
    try:
        os.replace(path, aside)
        if aside.is_dir():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink()
    except OSError:
        return


def _prune(folder: Path, *, keep: Path, settings: Settings) -> None:
    """Remove entries unused for ``max_age_days``, then the least recently used beyond
    ``max_megabytes`` (never `keep`), and temporary folders of killed processes."""
    limits = settings.cache
    now = time.time()
    entries = []
    for path in folder.iterdir():
        try:
            age = now - path.stat().st_mtime
        except OSError:  # removed by another process meanwhile
            continue
        if path.name.startswith(".tmp-"):
            if age > _STALE_TMP_SECONDS:
                _remove(path)
        elif path.name.startswith(("analytics-", BACKTEST_PREFIX)) and path != keep:
            if age > limits.max_age_days * 86400:
                _remove(path)
            else:
                entries.append((path.stat().st_mtime, path))
    budget = limits.max_megabytes * 1024 * 1024 - _size(keep)
    for _, path in sorted(entries, reverse=True):  # newest first
        budget -= _size(path)
        if budget < 0:
            _remove(path)


def _size(path: Path) -> int:
    try:
        if path.is_file():
            return path.stat().st_size
        return sum(f.stat().st_size for f in path.iterdir())
    except OSError:
        return 0
