"""The whole pack on a real Dask cluster (scheduler + 2 worker processes on loopback): the
shared analytics prepared there equal a local, single-process run, also when a worker dies
mid-run."""

from __future__ import annotations

import dataclasses
import threading
import time

import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database

import kamlab.chain as chain
import kamlab.chain.chunks as chunks
from kamlab.data import store
from kamlab.pack import build_pack

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("dask"), customers=6)


@pytest.fixture(scope="module")
def local(database):
    return chain.prepare(store.load(database), MONTH, n_jobs=1)


@pytest.fixture
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster


def assert_same_analytics(a: chain.PackAnalytics, b: chain.PackAnalytics) -> None:
    compared = 0
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, obj=f.name)
            compared += 1
        else:
            assert str(x) == str(y), f.name
    assert compared > 20
    assert b.accuracy is not None and len(b.accuracy) and len(b.value_added)


def test_a_pack_with_its_analytics_on_a_local_cluster_equals_the_local_run(
    database, local, cluster, tmp_path, monkeypatch
):
    monkeypatch.setattr(chunks, "CUSTOMERS_PER_CHUNK", 2)  # several chunks, both workers busy
    # like chunks: the forecast and backtest no longer depend on them (test_chain_chunks),
    # but the agreed forecast's "actual with no forecast" count and the track record's
    # combined-forecast errors (to ~1e-8) still do (kamlab.accuracy, per chunk)
    expected = chain.prepare(store.load(database), MONTH, n_jobs=1)
    cache = tmp_path / "cache"
    result = build_pack(
        MONTH,
        customers=local.customer_ids()[:1],
        source=database,
        reports_dir=tmp_path / "reports",
        cache_dir=cache,
        scheduler=cluster.scheduler_address,
        progress=False,
    )
    assert [r.status for r in result.results] == ["ok", "ok"]
    (cached,) = cache.glob("analytics-*")  # prepared on the cluster, then cached
    chain.cache._MEMORY.clear()  # as a new process would: read the entry from disk
    assert_same_analytics(expected, chain.load_analytics(database, MONTH, cache_dir=cache))
    assert list(cache.glob("analytics-*")) == [cached]  # read, not recomputed


def test_a_worker_lost_mid_run_is_survived(database, local, cluster, monkeypatch):
    monkeypatch.setattr(chunks, "CUSTOMERS_PER_CHUNK", 1)
    ds = store.load(database)
    expected = chain.prepare(ds, MONTH, n_jobs=1)  # like chunks (see above)
    with distributed.Client(cluster) as client:
        got: dict = {}
        run = threading.Thread(
            target=lambda: got.update(a=chain.prepare(ds, MONTH, scheduler=client))
        )
        run.start()
        deadline = time.monotonic() + 120
        while not any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        busy = next(w for w, tasks in client.processing().items() if tasks)
        nanny = next(n for n in cluster.workers.values() if n.worker_address == busy)
        nanny.process.process.kill()  # the worker process dies with its task
        run.join(timeout=600)
    assert not run.is_alive()
    assert_same_analytics(expected, got["a"])
