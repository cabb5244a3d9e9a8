"""Incremental months: next month's chain reuses this month's backtest origins from the cache
and gives exactly (bit for bit) the analytics computed from scratch.

Real demo data through the real ingest into DuckDB; the backtest itself is never mocked.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pytest
from pack_support import MONTH

import kamlab.chain as chain
from kamlab.chain.backtests import PREFIX, origin_cache
from kamlab.config import DEFAULTS
from kamlab.data import store
from kamlab.data.demo import write_demo
from kamlab.data.ingest import ingest
from kamlab.demand import monthly_demand
from kamlab.forecast import backtest

THIS = pd.Period(MONTH, "M") - 1  # the month before: its cache is what next month reuses
NEXT = pd.Period(MONTH, "M")
CORRECTED = pd.Period("2024-09", "M")  # an old month whose orders are corrected late
ORIGINS = DEFAULTS.forecast.backtest_origins


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """4 customers × 30 materials, 40 months to :data:`MONTH`: long enough that the old
    full-width padding of the backtest (T = 39 vs 40 columns) rounded differently."""
    tmp = tmp_path_factory.mktemp("incremental")
    write_demo(tmp / "extracts", customers=4, materials=30, months=40, end=MONTH, seed=1)
    ingest(tmp / "extracts", tmp / "kam.duckdb")
    return tmp / "kam.duckdb"


@pytest.fixture(scope="module")
def corrected(database, tmp_path_factory):
    """The same extracts with one order line of :data:`CORRECTED` changed, ingested anew."""
    tmp = tmp_path_factory.mktemp("corrected")
    extracts = tmp / "extracts"
    shutil.copytree(database.parent / "extracts", extracts)
    path = extracts / "orders.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    line = next(
        r
        for r in rows
        if r["requested_date"].startswith(str(CORRECTED))
        and r["status"] != "cancelled"
        and float(r["quantity"]) > 0
    )
    line["quantity"] = str(float(line["quantity"]) + 7)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp / "kam.duckdb"
    ingest(extracts, out)
    return out


@pytest.fixture(scope="module")
def from_scratch(database):
    """Next month's analytics with no cache at all."""
    return chain.prepare(store.load(database), NEXT, settings=DEFAULTS)


def _statistical(database, month: pd.Period, snapshots=None) -> pd.DataFrame:
    """The chain's backtest of `month` (as the accuracy chunk calls it)."""
    ds = store.load(database)
    demand = monthly_demand(ds.orders, end=month)
    demand = demand[demand["period"] <= month][["customer_id", "material_id", "period", "quantity"]]
    return backtest(
        demand,
        lifecycle=ds.materials[["material_id", "lifecycle"]],
        end=month,
        n_jobs=1,
        snapshots=snapshots,
    )


def _analytics(database, month, cache, settings=DEFAULTS, **kwargs) -> chain.PackAnalytics:
    chain.cache._MEMORY.clear()  # as a new process would
    return chain.load_analytics(database, month, settings=settings, cache_dir=cache, **kwargs)


def assert_identical(a: chain.PackAnalytics, b: chain.PackAnalytics) -> None:
    """Every frame equal to the last bit (no float tolerance), every other field equal."""
    compared = 0
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True, obj=f.name)
            compared += 1
        else:
            assert str(x) == str(y), f.name
    assert compared > 20 and len(a.accuracy) and len(a.backtest_totals)


@contextmanager
def counted() -> Iterator[list[tuple[int, int]]]:
    """Collects (reused, computed) from the chain's log line of each accuracy step."""
    seen: list[tuple[int, int]] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            words = record.getMessage().replace(",", " ").split()
            if "backtest" in words:
                reused, computed = (int(w) for w in words if w.isdigit())
                seen.append((reused, computed))

    log, handler = logging.getLogger("kamlab.chain"), Handler()
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield seen
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


@pytest.fixture(scope="module")
def this_month(database, tmp_path_factory):
    """A cache folder holding this month's analytics and backtest origins (tests copy it)."""
    cache = tmp_path_factory.mktemp("this") / "cache"
    with counted() as seen:
        _analytics(database, THIS, cache)
    assert seen == [(0, ORIGINS)]  # one chunk, nothing to reuse yet
    return cache


def _copy(cache, tmp_path):
    return shutil.copytree(cache, tmp_path / "cache")


# --- the backtest: a snapshot depends on the data up to its origin only -------------------


def test_next_months_backtest_repeats_this_months_origins_bit_for_bit(database):
    this, following = _statistical(database, THIS), _statistical(database, NEXT)
    shared = this["snapshot_date"] > this["snapshot_date"].min()  # origins THIS-23 .. THIS-1
    again = following["snapshot_date"] <= this["snapshot_date"].max()
    assert following.loc[~again, "snapshot_date"].dt.to_period("M").unique().tolist() == [THIS]
    pd.testing.assert_frame_equal(
        this[shared].reset_index(drop=True),
        following[again].reset_index(drop=True),
        check_exact=True,
    )


def test_cached_origins_plus_the_new_origin_equal_the_backtest_from_scratch(database, tmp_path):
    cache = tmp_path / "cache"
    first = _statistical(database, THIS, origin_cache(cache, database, THIS, DEFAULTS, code="t"))
    assert first.attrs["origins"] == {"reused": 0, "computed": ORIGINS}
    assert len(list(cache.glob(f"{PREFIX}*.parquet"))) == ORIGINS
    reused = _statistical(database, NEXT, origin_cache(cache, database, NEXT, DEFAULTS, code="t"))
    assert reused.attrs["origins"] == {"reused": ORIGINS - 1, "computed": 1}
    scratch = _statistical(database, NEXT)
    pd.testing.assert_frame_equal(reused, scratch, check_exact=True)
    assert str(reused.attrs["excluded"]) == str(scratch.attrs["excluded"])


# --- the chain: month after month -----------------------------------------------------------


def test_next_month_after_this_month_equals_next_month_from_scratch(
    database, this_month, from_scratch, tmp_path
):
    with counted() as seen:
        following = _analytics(database, NEXT, _copy(this_month, tmp_path))
    assert seen == [(ORIGINS - 1, 1)]
    assert_identical(following, from_scratch)


def test_one_scan_gives_the_orders_fingerprint_up_to_each_origin(corrected):
    months = pd.period_range(NEXT - ORIGINS, NEXT, freq="M")
    monthly = store.monthly_fingerprints(corrected, "orders", months)
    assert monthly == {str(m): store.fingerprints(corrected, until=m)["orders"] for m in months}


def test_a_late_correction_invalidates_exactly_the_origins_from_its_month_on(
    database, corrected, this_month, tmp_path
):
    before = origin_cache(tmp_path, database, NEXT, DEFAULTS, code="t").bases
    after = origin_cache(tmp_path, corrected, NEXT, DEFAULTS, code="t").bases
    changed = sorted(pd.Period(o, "M") for o in before if before[o] != after[o])
    assert changed == list(pd.period_range(CORRECTED, NEXT - 1, freq="M"))

    cache = _copy(this_month, tmp_path)  # this month's, before the correction arrived
    with counted() as seen:
        following = _analytics(corrected, NEXT, cache)
    stale = len(pd.period_range(CORRECTED, NEXT - 1, freq="M"))
    assert seen == [(ORIGINS - stale, stale)]
    assert_identical(following, chain.prepare(store.load(corrected), NEXT, settings=DEFAULTS))


def test_a_changed_forecast_setting_invalidates_every_origin(database, this_month, tmp_path):
    other = dataclasses.replace(
        DEFAULTS, forecast=dataclasses.replace(DEFAULTS.forecast, min_history=4)
    )
    with counted() as seen:
        following = _analytics(database, NEXT, _copy(this_month, tmp_path), settings=other)
    assert seen == [(0, ORIGINS)]
    assert_identical(following, chain.prepare(store.load(database), NEXT, settings=other))


def test_a_damaged_snapshot_file_is_a_miss_recomputed_with_a_warning(
    database, this_month, from_scratch, tmp_path
):
    cache = _copy(this_month, tmp_path)
    files = sorted(cache.glob(f"{PREFIX}*.parquet"), key=lambda p: p.stat().st_mtime_ns)
    files[-1].write_bytes(files[-1].read_bytes()[:200])  # truncated
    files[-2].unlink()  # missing
    with counted() as seen, pytest.warns(chain.CacheWarning, match="unreadable"):
        following = _analytics(database, NEXT, cache)
    assert seen == [(ORIGINS - 3, 3)]
    assert_identical(following, from_scratch)


def test_the_chunks_on_a_dask_cluster_reuse_the_origins_and_agree(
    database, this_month, from_scratch, tmp_path
):
    distributed = pytest.importorskip("distributed")
    cache = _copy(this_month, tmp_path)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        counted() as seen,
    ):
        following = _analytics(database, NEXT, cache, scheduler=cluster.scheduler_address)
    assert seen == [(ORIGINS - 1, 1)]
    assert_identical(following, from_scratch)


def test_a_chunks_fingerprints_see_only_its_customers_orders(database, corrected):
    """The late correction belongs to one customer: the other customers' fingerprints per
    origin are unchanged (their chunks' backtests stay reusable), that customer's change
    from the corrected month on."""
    months = pd.period_range(NEXT - ORIGINS, NEXT - 1, freq="M")
    old, new = store.load(database, tables=["orders"]), store.load(corrected, tables=["orders"])
    both = old.orders.merge(new.orders, how="outer", indicator=True)
    (who,) = both.loc[both["_merge"] != "both", "customer_id"].unique()
    others = sorted(set(old.orders["customer_id"]) - {who})
    assert others
    for ids, changed in ((others, []), ([who], list(months[months >= CORRECTED]))):
        before = store.monthly_fingerprints(database, "orders", months, customers=ids)
        after = store.monthly_fingerprints(corrected, "orders", months, customers=ids)
        assert [pd.Period(m, "M") for m in months.astype(str) if before[m] != after[m]] == changed
