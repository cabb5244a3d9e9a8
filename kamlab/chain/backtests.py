"""Backtest snapshots kept per origin, so next month's backtest reuses this month's.

A month's statistical backtest (:func:`kamlab.forecast.backtest`) forecasts every series from
each of the 24 months before the review month; next month shares 23 of those origins. A
snapshot made at origin *o* depends only on the demand up to *o* (orders requested up to
the end of *o*), on which of its series' materials are phase-out, on the forecast settings
and on the code — :func:`kamlab.forecast.backtest` forecasts each origin on its own block,
so the snapshot is bit-identical whichever month's backtest makes it.

:class:`OriginCache` is the chain cache's store of such snapshots: one Parquet file per
customer chunk and origin, ``backtest-<key>.parquet`` in the cache folder, where the key
covers

- the orders' fingerprint up to the end of the origin (:func:`kamlab.data.store.
  monthly_fingerprints`, of the chunk's customers — :meth:`OriginCache.for_customers`,
  one scan of their rows for all origins: a late correction to an old month invalidates
  that customer's chunk from that month on, and only that; another customer's new orders
  or history invalidate nothing of this chunk),
- the forecast and pattern settings and the analytics code version,
- the origin and the first month of the chunk's history (a history start that moves with
  the review month changes every key: nothing is reused then, nothing wrong is),
- the chunk's series forecast at the origin and their phase-out flags.

A missing, unreadable or mismatched file is a miss: the origin is recomputed and the file
rewritten. Files are written to a temporary name and renamed, so a reader never sees half
of one; they are pruned with the analytics entries (``[cache]`` limits). Chunks running on
Dask workers read and write the same cache folder the pack's kernels use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kamlab.config import Settings

__all__ = ["FORMAT", "OriginCache", "origin_cache", "reusable_origins", "reusing"]

FORMAT = 1  # bump when the layout of a snapshot file changes
PREFIX = "backtest-"
_CURRENT: ContextVar[OriginCache | None] = ContextVar("kamlab_origin_cache", default=None)


@dataclass(frozen=True)
class OriginCache:
    """Backtest snapshots per customer chunk and origin in the cache `folder`.

    `bases` maps each origin month (``"YYYY-MM"``) to the hash of what every chunk's
    snapshot at that origin shares (orders up to the origin, settings, code); origins not
    in it are neither read nor written. Picklable: it travels with a chunk to a worker.
    Implements :class:`kamlab.forecast.engine.OriginSnapshots`.
    """

    folder: str
    bases: Mapping[str, str]
    source: str | None = None  # the store, to narrow the bases to a chunk's customers
    shared: str = ""  # what every base hashes besides the origin and the orders

    def for_customers(self, customers: Sequence[str]) -> OriginCache:
        """This cache for one customer chunk: each origin's base hashes only `customers`'
        orders up to it (one scan of their rows), so another customer's orders — a new
        account's history, a late correction elsewhere — do not invalidate the chunk."""
        if self.source is None:
            return self
        from kamlab.data.store import monthly_fingerprints

        orders = monthly_fingerprints(self.source, "orders", list(self.bases), customers=customers)
        return OriginCache(folder=self.folder, bases=_bases(self.shared, orders))

    def key(self, origin: pd.Period, *, first: pd.Period, series: pd.DataFrame) -> str | None:
        """The file key of `series`' snapshot at `origin` (None: origin not cached)."""
        base = self.bases.get(str(origin))
        if base is None:
            return None
        digest = hashlib.sha256(f"{base}\n{first}\n".encode())
        digest.update(pd.util.hash_pandas_object(series, index=False).to_numpy().tobytes())
        digest.update(",".join(map(str, series.columns)).encode())
        return digest.hexdigest()[:32]

    def path(self, key: str) -> Path:
        return Path(self.folder) / f"{PREFIX}{key}.parquet"

    def load(
        self, origin: pd.Period, *, first: pd.Period, series: pd.DataFrame
    ) -> dict[str, np.ndarray] | None:
        """The snapshot stored for `series` at `origin`, or None (a miss)."""
        key = self.key(origin, first=first, series=series)
        if key is None:
            return None
        path = self.path(key)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path)
            meta = json.loads(table.schema.metadata[b"kamlab"])
            if meta != {"format": FORMAT, "key": key, "series": len(series)}:
                raise ValueError(f"written for {meta}, not this origin")
            frame = table.to_pandas()
            lags = len(frame) // max(len(series), 1)
            if len(frame) != lags * len(series):
                raise ValueError(f"{len(frame)} rows for {len(series)} series")
            snapshot = {}
            for name in frame.columns:
                values = frame[name].to_numpy()
                if values.dtype.kind == "f":
                    snapshot[name] = values.reshape(len(series), lags)
                else:
                    snapshot[name] = values[::lags].astype(object)
        except Exception as err:  # any unreadable file is a miss, never a crash
            from kamlab.chain.cache import CacheWarning

            warnings.warn(
                f"backtest cache file {str(path)!r} is unreadable ({type(err).__name__}: "
                f"{err}); recomputing origin {origin}",
                CacheWarning,
                3,
            )
            path.unlink(missing_ok=True)
            return None
        try:
            os.utime(path)  # recently used: pruned last
        except OSError:
            pass
        return snapshot

    def save(
        self,
        origin: pd.Period,
        *,
        first: pd.Period,
        series: pd.DataFrame,
        snapshot: dict[str, np.ndarray],
    ) -> None:
        """Store `snapshot` of `series` at `origin` (a failure to write is a warning)."""
        key = self.key(origin, first=first, series=series)
        if key is None:
            return
        path = self.path(key)
        lags = next(v.shape[1] for v in snapshot.values() if v.ndim == 2)
        columns = {
            name: v.ravel() if v.ndim == 2 else np.repeat(v.astype(str), lags)
            for name, v in snapshot.items()
        }
        table = pa.table(columns).replace_schema_metadata(
            {"kamlab": json.dumps({"format": FORMAT, "key": key, "series": len(series)})}
        )
        tmp = path.parent / f".tmp-{path.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        except OSError as err:
            from kamlab.chain.cache import CacheWarning

            warnings.warn(f"backtest cache file {str(path)!r} not written: {err}", CacheWarning, 3)
        finally:
            with contextlib.suppress(OSError):  # a read-only folder refuses even that
                tmp.unlink(missing_ok=True)


def origin_cache(
    folder: str | os.PathLike,
    source: str | os.PathLike,
    month: pd.Period,
    settings: Settings,
    *,
    code: str,
) -> OriginCache:
    """The :class:`OriginCache` of `month`'s backtest origins for the database at `source`.

    One fingerprint of the orders per origin (rows requested up to the end of the origin,
    :func:`kamlab.data.store.monthly_fingerprints`);
    the forecast settings and pattern cutoffs the backtest uses; `code` (the analytics code
    version).
    """
    from kamlab.data.store import monthly_fingerprints

    f, c = settings.forecast, settings.classify
    shared = json.dumps(
        {
            "format": FORMAT,
            "code": code,
            "forecast": {k: getattr(f, k) for k in f.__dataclass_fields__},
            "cutoffs": [c.adi_cutoff, c.cv2_cutoff],
        },
        sort_keys=True,
        default=str,
    )
    origins = [month - back for back in range(f.backtest_origins, 0, -1)]
    orders = monthly_fingerprints(source, "orders", origins)
    return OriginCache(
        folder=str(folder), bases=_bases(shared, orders), source=str(source), shared=shared
    )


def _bases(shared: str, orders: Mapping[str, str]) -> dict[str, str]:
    """Per origin month: the hash of `shared` with the orders' fingerprint up to it."""
    return {
        o: hashlib.sha256(f"{shared}\n{o}\n{fingerprint}\n".encode()).hexdigest()
        for o, fingerprint in orders.items()
    }


@contextmanager
def reusing(cache: OriginCache | None) -> Iterator[None]:
    """Within the block, the chain's backtests read and keep their origins in `cache`."""
    token = _CURRENT.set(cache)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def reusable_origins() -> OriginCache | None:
    """The :class:`OriginCache` of the innermost :func:`reusing` block (None: none)."""
    return _CURRENT.get()
