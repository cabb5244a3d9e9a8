"""Stopping a pack that runs on Dask (``--scheduler``, SIGTERM): no kernel stays on the
workers, no crash, a run log that ``--retry-failed`` uses (issue #27, fault 6). A real
LocalCluster (scheduler and two worker processes on loopback) and the real ``kamlab pack``
in a process of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from pack_support import MONTH, build_demo_database

from kamlab import chain
from kamlab.pack import build_pack

distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("daskstop"), customers=8)


@pytest.fixture(scope="module")
def cache(database, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    chain.load_analytics(database, MONTH, cache_dir=folder)
    return folder


def _kernels() -> list[psutil.Process]:
    """The Jupyter kernels below this process: the cluster's workers started them."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:
            pass
    return found


def test_sigterm_to_a_pack_on_dask_kills_the_workers_kernels_and_logs_for_retry(
    database, cache, tmp_path
):
    customers = chain.load_analytics(database, MONTH, cache_dir=cache).customer_ids()
    reports = tmp_path / "reports"
    pages = reports / MONTH / "customers"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        argv = [sys.executable, "-m", "kamlab", "pack", "--month", MONTH]
        argv += ["--scheduler", cluster.scheduler_address, "--source", str(database)]
        argv += ["--reports", str(reports)]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KAMLAB_CACHE": str(cache)}
        proc = subprocess.Popen(
            argv, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 300
        while len(list(pages.glob("*.html"))) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        assert len(_kernels()) >= 1  # the workers' warm kernels, busy
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert "Traceback" not in err and "cleanup_resources" not in err, err
        assert "--retry-failed" in err
        gone, alive = psutil.wait_procs(_kernels(), timeout=10)
        assert alive == [], [(p.pid, p.cmdline()) for p in alive]
        log = json.loads((reports / MONTH / "run-log.json").read_text())
        status = {r["key"]: r["status"] for r in log["results"]}
        assert set(status) == {*customers, "portfolio"}
        assert "ok" in status.values() and "not run" in status.values(), status
        retry = build_pack(
            MONTH,
            retry_failed=True,
            scheduler=cluster.scheduler_address,
            source=database,
            reports_dir=reports,
            cache_dir=cache,
            progress=False,
        )
        rerun = {r.key for r in retry.results if status[r.key] != "ok"}
        assert rerun and all(r.ok for r in retry.results)
        gone, alive = psutil.wait_procs(_kernels(), timeout=10)
        assert alive == []  # a finished pack leaves no kernel on the workers either
