"""Portfolio analytics by customer chunk: the statistical backtest, the naive benchmark and the
accuracy figures, service, receivables and payment risk of about a hundred customers at a time.

Every accuracy figure of the pack is per customer (scores, value added) or per customer ×
material (bias), and every forecast is made per series, so a chunk of customers is scored
exactly as the whole portfolio would be (the results are put back in customer order).
Only a chunk's backtest snapshots and forecast/actual pairs are ever in memory — on the large
demo that is tens of millions of rows the whole-portfolio pass held at once. Chunks run one
after the other, in local worker processes (`n_jobs`), or on a Dask cluster (`scheduler`:
a ``distributed.Client`` or a scheduler address), where a task lost with its worker is
retried.

A customer's chunk is a fixed hash of its id (:func:`chunk_of`, BLAKE2b), not its place in
the sorted list: a customer added to the portfolio joins one chunk and moves no other, so
next month every other chunk's cached backtest is reused. The number of chunks is the power
of two that keeps them at most :data:`CUSTOMERS_PER_CHUNK` on average; it changes (every
chunk splits in two) only when the portfolio doubles.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import hashlib
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kamlab.config import Settings
from kamlab.processes import process_pool

if TYPE_CHECKING:
    from kamlab.forecast.engine import OriginSnapshots

__all__ = [
    "CUSTOMERS_PER_CHUNK",
    "accuracy_chunk",
    "chunk_count",
    "chunk_of",
    "combine",
    "customer_chunks",
    "in_customer_order",
    "map_chunks",
    "placement",
    "run_on",
    "source_of_chunks",
    "step_chunk",
    "sum_exclusions",
]

CUSTOMERS_PER_CHUNK = 100  # ~4,000 series of the demo: a worker peaks at ~1.2 GB (pairing)
_ADDITIVE = ("rows", "quantity", "amount", "revenue")  # exclusion columns summed over chunks
_SCORE_METRICS = ("wape", "accuracy", "bias", "mase")
_COLUMNS = ["customer_id", "material_id", "snapshot_date", "period", "quantity", "source"]
# where chunked steps run and read: (n_jobs, scheduler, store), set by kamlab.chain.prepare
_WHERE: ContextVar[tuple[int | None, Any, str | None]] = ContextVar(
    "kamlab_chunks_where", default=(None, None, None)
)


@contextmanager
def run_on(
    *, n_jobs: int | None = None, scheduler: Any = None, source: str | os.PathLike | None = None
) -> Iterator[None]:
    """Within the block, chunked steps run in `n_jobs` processes (None: one per core) or on
    the Dask cluster of `scheduler`, and read their customers from the store at `source`
    (None: the dataset in memory)."""
    token = _WHERE.set((n_jobs, scheduler, None if source is None else str(source)))
    try:
        yield
    finally:
        _WHERE.reset(token)


def placement() -> dict[str, Any]:
    """The ``n_jobs`` / ``scheduler`` of the innermost :func:`run_on` (default: all cores)."""
    n_jobs, scheduler, _ = _WHERE.get()
    return {"n_jobs": n_jobs, "scheduler": scheduler}


def source_of_chunks() -> str | None:
    """The store chunks read their customers from (innermost :func:`run_on`), or None."""
    return _WHERE.get()[2]


def step_chunk(
    run: Callable[..., dict],
    view: Any,
    source: str,
    customers: list[str],
    tables: Sequence[str],
) -> dict:
    """One chunk of a chain step: read `customers`' rows of `tables` from the store at
    `source` (the others empty) and return ``run(dataset, view)`` — `view` is the
    :class:`~kamlab.chain.PackAnalytics` sliced to those customers."""
    from kamlab.data import store

    return run(store.load(source, customers=customers, tables=tables), view)


def chunk_of(customer_id: str, chunks: int) -> int:
    """The chunk (0 … `chunks` − 1) of `customer_id`: its BLAKE2b hash (8 bytes, big-endian)
    modulo `chunks` — the same in every process, run and Python version (unlike ``hash()``).

    >>> chunk_of("C0001", 1), chunk_of("C0001", 8) == chunk_of("C0001", 16) % 8
    (0, True)
    """
    digest = hashlib.blake2b(str(customer_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % chunks


def chunk_count(customers: int, size: int | None = None) -> int:
    """How many chunks `customers` ids go to: the least power of two ≥ customers / `size`
    (default :data:`CUSTOMERS_PER_CHUNK`), so chunks hold `size` / 2 to `size` customers on
    average and the count changes only when the portfolio doubles or halves."""
    size = max(int(CUSTOMERS_PER_CHUNK if size is None else size), 1)
    needed = max(-(-int(customers) // size), 1)
    return 1 << (needed - 1).bit_length()


def customer_chunks(customer_ids: Sequence[str], size: int | None = None) -> list[list[str]]:
    """The distinct `customer_ids` by chunk (:func:`chunk_of` of :func:`chunk_count` chunks),
    each sorted, empty chunks left out, in chunk order.

    A customer's chunk depends on its id and the chunk count only: inserting or removing a
    customer changes that customer's chunk alone (unless the count crosses a power of two).
    """
    ids = sorted({str(c) for c in customer_ids})
    n = chunk_count(len(ids), size)
    chunks: list[list[str]] = [[] for _ in range(n)]
    for c in ids:
        chunks[chunk_of(c, n)].append(c)
    return [c for c in chunks if c]


def in_customer_order(frame: pd.DataFrame, column: str = "customer_id") -> pd.DataFrame:
    """`frame`'s rows stably sorted by `column` (a no-op without it): chunks' results put
    end to end come back in the order of the whole-portfolio computation, which groups by
    customer first. The index is reset."""
    if column not in frame.columns or len(frame) < 2:
        return frame.reset_index(drop=True)
    keys = frame[column].astype("str").to_numpy(dtype=object, na_value="")
    order = np.argsort(keys, kind="stable")
    if (order == np.arange(len(order))).all():
        return frame.reset_index(drop=True)
    return frame.take(order).reset_index(drop=True)


def accuracy_chunk(
    demand: pd.DataFrame,
    customer_forecasts: pd.DataFrame,
    agreed: pd.DataFrame | None = None,
    *,
    materials: pd.DataFrame,
    customers: pd.DataFrame,
    month: pd.Period,
    settings: Settings,
    backtests: OriginSnapshots | None = None,
    strategy: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Backtest, naive snapshots, one pairing and the pack's accuracy views for some customers.

    `demand` and `customer_forecasts` hold only the chunk's customers. Returns ``accuracy``
    (:func:`~kamlab.accuracy.score_pairs` by customer × source × lag, volume-pooled),
    ``value_added`` (by customer × lag), ``bias`` (:func:`~kamlab.accuracy.bias_alerts`
    of the customer's forecast by customer × material) and ``track_record``
    (:func:`~kamlab.accuracy.track_record` of the customer's vs the statistical forecast per
    customer × material and customer × family), each with its exclusions in
    ``attrs["excluded"]`` (the accuracy's also holds the backtest's: series without a
    snapshot), and ``backtest_origins`` (origins reused from `backtests`, origins computed).
    `agreed` (:func:`~kamlab.accuracy.agreed_snapshots` of the chunk's agreed forecasts)
    is scored as a third source, and ``agreed_pairs`` returns the points it shares with
    the customer's and the statistical forecast (for the judgement's value added).
    `strategy` (the portfolio's, :func:`kamlab.forecast.strategy.portfolio_strategy` per
    origin) is the backtest's at each origin, so a chunk is backtested as the whole would be.
    """
    from kamlab.accuracy import (
        bias_alerts,
        naive_scales,
        naive_snapshots,
        pair_forecasts,
        score_pairs,
        track_record,
        value_added,
    )
    from kamlab.forecast import backtest

    s, f = settings.accuracy, settings.forecast
    actuals = demand[["customer_id", "material_id", "period", "quantity"]]
    chunk = sorted(actuals["customer_id"].astype("str").unique())
    statistical = backtest(
        actuals,
        origins=f.backtest_origins,
        max_lag=f.backtest_max_lag,
        level=f.levels,
        lifecycle=materials[["material_id", "lifecycle"]],
        end=month,
        season_length=f.season_length,
        min_seasonal_history=f.min_seasonal_history,
        min_history=f.min_history,
        phaseout_months=f.phaseout_months,
        adi_cutoff=settings.classify.adi_cutoff,
        cv2_cutoff=settings.classify.cv2_cutoff,
        n_jobs=1,
        snapshots=None if backtests is None else backtests.for_customers(chunk),
        strategy=strategy,
    )
    origins = pd.DataFrame([statistical.attrs["origins"]])
    naive = naive_snapshots(actuals, lags=s.lags, season_length=s.season_length)
    forecasts = pd.concat(
        [
            customer_forecasts.assign(source="customer")[_COLUMNS],
            naive[_COLUMNS],
            statistical[_COLUMNS],
            *([agreed[_COLUMNS]] if agreed is not None and len(agreed) else []),
        ],
        ignore_index=True,
    )
    backtest_excluded = statistical.attrs.get("excluded")
    # the statistical forecast per material and month at the inventory's error lag, summed
    # over this chunk's customers: chunks add up to the portfolio's (safety-stock sigma)
    at_lag = statistical[statistical["lag"] == settings.inventory.error_lag]
    backtest_totals = at_lag.groupby(["material_id", "period", "lag"], observed=True)[
        "quantity"
    ].sum()
    del statistical, naive, at_lag
    lags = sorted({*s.lags, *s.bias_lags})
    context = {"materials": materials, "customers": customers}
    pairs = pair_forecasts(
        actuals,
        forecasts,
        lags=lags,
        materials=materials,
        exclude_lifecycle=s.exclude_lifecycle,
        as_of=month,
    )
    del forecasts
    scales = naive_scales(actuals, season_length=s.season_length, as_of=month)
    scored = score_pairs(
        pairs[pairs["lag"].isin(s.lags)],
        by=["customer_id"],
        metrics=_SCORE_METRICS,
        pooling=["volume"],
        scales=scales,
        **context,
    )
    scored.attrs["excluded"] = pairs.attrs["excluded"]
    fva = value_added(
        actuals,
        None,
        by=["customer_id"],
        lags=s.lags,
        metric=s.fva_metric,
        steps=s.fva_steps,
        as_of=month,
        pairs=pairs,
        scales=scales,
        **context,
    )
    # the customer's own snapshots in the tracking window: a small pairing of its own, so
    # the bias exclusions count that window only
    bias = bias_alerts(
        actuals,
        customer_forecasts.assign(source="customer")[_COLUMNS],
        by=["customer_id", "material_id"],
        source="customer",
        lags=s.bias_lags,
        window=s.tracking_signal_window,
        limit=s.tracking_signal_limit,
        as_of=month,
        **context,
    )
    # which of the customer's and our forecast has been closer, per material and lag
    record = track_record(
        pairs=pairs,
        lags=s.lags,
        months=s.track_record_months,
        min_months=s.track_record_min_months,
        prior_months=s.combination_prior_months,
        margin=s.challenge_margin,
        materials=materials,
        as_of=month,
    )
    if backtest_excluded is not None and len(backtest_excluded):
        scored.attrs["excluded"] = pd.concat(
            [pd.DataFrame(backtest_excluded), scored.attrs["excluded"]], ignore_index=True
        )
    out = {
        "accuracy": scored,
        "value_added": fva,
        "bias": bias,
        "track_record": record,
        "backtest_totals": backtest_totals.reset_index(),
        "backtest_origins": origins,
    }
    if agreed is not None and len(agreed):
        out["agreed_pairs"] = _agreed_points(pairs)
    return out


def _agreed_points(pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs of the customer's, statistical and agreed forecast at the points (series ×
    target month × lag) the agreed forecast covers."""
    sources = ["customer", "statistical", "agreed"]
    keys = ["customer_id", "material_id", "period", "lag"]
    pairs = _plain(pairs)
    at = pairs.loc[pairs["source"] == "agreed", keys].drop_duplicates()
    mine = pairs[pairs["source"].isin(sources)].merge(at, on=keys, how="inner")
    return _plain(mine.assign(source=mine["source"].astype("string")))


def map_chunks(
    func: Callable[..., dict[str, pd.DataFrame]],
    chunks: Iterable[tuple[tuple, dict]],
    *,
    n_jobs: int | None = None,
    scheduler: Any = None,
    retries: int = 2,
) -> list[dict[str, pd.DataFrame]]:
    """``func(*args, **kwargs)`` for each ``(args, kwargs)`` of `chunks`, results in order.

    One after the other in this process (``n_jobs=1``), in `n_jobs` local processes (None:
    one per core), or on
    the Dask cluster of `scheduler` (a ``distributed.Client`` or an address such as
    ``tcp://10.0.0.5:8786``), each task retried up to `retries` times if its worker dies.
    `chunks` may be a generator: locally, a chunk's arguments are only taken from it when a
    worker is about to be free (one queued per worker), so the caller never holds every
    chunk's slice of the data at once.
    """
    if scheduler is not None:
        from distributed import Client

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            futures = [
                client.submit(func, *args, retries=retries, pure=False, **kwargs)
                for args, kwargs in chunks
            ]
            return client.gather(futures)
        finally:
            if client is not scheduler:
                client.close()
    jobs = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    chunks = iter(chunks)
    first = list(itertools.islice(chunks, 2))
    if jobs <= 1 or len(first) <= 1:
        return [func(*args, **kwargs) for args, kwargs in itertools.chain(first, chunks)]
    # fresh ("spawn") workers: they hold their chunk only, not a forked copy of the
    # portfolio's dataset that copy-on-write turns into private memory as it is touched
    _return_free_memory()
    spawn = multiprocessing.get_context("spawn")
    results: list[dict[str, pd.DataFrame]] = []
    pending: deque = deque()
    with process_pool(jobs, mp_context=spawn) as pool:
        for args, kwargs in itertools.chain(first, chunks):
            pending.append(pool.submit(func, *args, **kwargs))
            del args, kwargs  # the pool holds them until they are sent
            if len(pending) > jobs:  # every worker busy and one chunk queued: wait
                results.append(pending.popleft().result())
        results.extend(fut.result() for fut in pending)
    return results


def _return_free_memory() -> None:
    """Hand the heap pages this process has freed back to the OS before workers start.

    glibc keeps freed memory (the earlier steps' temporaries) for reuse, so it still counts
    as this process's while the workers need theirs; ``malloc_trim`` releases it. Elsewhere
    (no glibc) nothing happens.
    """
    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def combine(parts: Sequence[dict[str, pd.DataFrame]], name: str) -> pd.DataFrame | None:
    """The chunks' `name` frames end to end in customer order (:func:`in_customer_order`),
    their exclusions summed (:func:`sum_exclusions`) into ``attrs["excluded"]``."""
    frames = [p[name] for p in parts if name in p]
    if not frames:
        return None
    out = in_customer_order(pd.concat([_plain(f) for f in frames], ignore_index=True))
    reports = [f.attrs.get("excluded") for f in frames]
    reports = [pd.DataFrame(r) for r in reports if r is not None and len(r)]
    if reports:
        out.attrs["excluded"] = sum_exclusions(reports)
    return out


def sum_exclusions(reports: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Exclusion tables (table, [source,] reason, [currency,] rows[, quantity, amount, …])
    added up across chunks: the numbers summed per value of the other columns, in their
    sorted order (the same whatever the chunks)."""
    both = pd.concat(reports, ignore_index=True)
    values = [c for c in both.columns if c in _ADDITIVE]
    keys = [c for c in both.columns if c not in values]
    summed = both.groupby(keys, sort=True, dropna=False, as_index=False)[values].sum(min_count=1)
    summed = summed.astype({k: both[k].dtype for k in keys})
    if "rows" in summed:
        summed["rows"] = summed["rows"].astype(np.int64)
    return summed


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy(deep=False)
    out.attrs = {}
    return out
