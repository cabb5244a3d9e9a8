"""Faults a user meets while a pack runs: stopping it, a full or unwritable reports folder.

The stop tests run the real ``kamlab pack`` in a process of its own (its own session, as a
terminal would start it), send the real signal, and follow every descendant process with
psutil: workers and their Jupyter kernels must be gone within a few seconds of the pack.
"""

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
from pack_support import MONTH, build_demo_database, write_notebook

from kamlab import chain
from kamlab.cli import main
from kamlab.pack import build_pack, slug
from kamlab.pack.runner import _temporary_notebook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("faults"), customers=8)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def customers(database, cache):
    # enough that a pack stopped after its second page still has several to go (~0.5 s each)
    return chain.load_analytics(database, MONTH, cache_dir=cache).customer_ids()[:8]


def _start_pack(database, cache, reports: Path, customers) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KAMLAB_CACHE": str(cache)}
    argv = [sys.executable, "-m", "kamlab", "pack", "--month", MONTH, "--workers", "1"]
    argv += ["--source", str(database), "--reports", str(reports), "--customers", *customers]
    return subprocess.Popen(
        argv,
        cwd=reports.parent,
        env=env,
        start_new_session=True,  # its own process group, like a job in a terminal
        # Ctrl-C handled as in a terminal, even when these tests run as a background job
        # (a shell starts those with SIGINT ignored, and the pack would inherit that)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _descendants_until(proc: subprocess.Popen, ready, *, timeout: float = 240) -> list:
    """Every process below `proc` seen until `ready()` holds (polled), kernels included."""
    parent = psutil.Process(proc.pid)
    seen: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            for child in parent.children(recursive=True):
                seen.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass
        if ready(seen.values()):
            return list(seen.values())
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"the pack never got there: {proc.communicate()}")


def _is_kernel(p: psutil.Process) -> bool:
    try:
        return "ipykernel" in " ".join(p.cmdline())
    except psutil.Error:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_a_pack_stops_its_workers_and_kernels_and_logs_what_did_not_run(
    signum, database, cache, customers, tmp_path
):
    reports = tmp_path / "reports"
    pages = reports / MONTH / "customers"
    proc = _start_pack(database, cache, reports, customers)
    seen = _descendants_until(
        proc,
        # the first page is done (its result sent) once the second one is written
        lambda procs: any(_is_kernel(p) for p in procs) and len(list(pages.glob("*.html"))) >= 2,
    )
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
    else:
        os.kill(proc.pid, signal.SIGTERM)  # `kill PID`: the pack process only
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err and "--retry-failed" in err
    gone, alive = psutil.wait_procs(seen, timeout=5)
    assert alive == [], [(p.pid, p.cmdline()) for p in alive]
    log = json.loads((reports / MONTH / "run-log.json").read_text())
    status = {r["key"]: r["status"] for r in log["results"]}
    assert set(status) == {*customers, "portfolio"}
    assert "ok" in status.values() and "not run" in status.values(), status
    assert set(status.values()) <= {"ok", "not run"}
    assert not list(reports.rglob(".tmp-*")), list(reports.rglob(".tmp-*"))
    if signum != signal.SIGTERM:
        return
    # --retry-failed reruns exactly the notebooks that did not run
    first_workers = {r["worker"] for r in log["results"] if r["status"] == "ok"}
    retry = build_pack(
        MONTH,
        retry_failed=True,
        customers=customers,
        workers=1,
        source=database,
        reports_dir=reports,
        cache_dir=cache,
        progress=False,
    )
    rerun = {r.key for r in retry.results if r.worker not in first_workers}
    assert rerun == {k for k, s in status.items() if s == "not run"}
    assert [r.status for r in retry.results] == ["ok"] * len(retry.results)


def test_a_killed_pack_leaves_no_worker_or_kernel_behind(database, cache, customers, tmp_path):
    """SIGKILL cannot be handled: the workers watch their parent, the kernels theirs."""
    reports = tmp_path / "reports"
    proc = _start_pack(database, cache, reports, customers)
    seen = _descendants_until(proc, lambda procs: any(_is_kernel(p) for p in procs))
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    gone, alive = psutil.wait_procs(seen, timeout=8)
    assert alive == [], [(p.pid, p.cmdline()) for p in alive]


def test_an_unwritable_reports_folder_is_named_with_its_reason_and_exit_2(
    database, cache, customers, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("KAMLAB_CACHE", str(cache))
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the reports folder should be")
    argv = ["pack", "--month", MONTH, "--source", str(database), "--reports", str(blocker)]
    assert main([*argv, "--customers", customers[0]]) == 2
    err = capsys.readouterr().err
    assert str(blocker) in err and "Not a directory" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_io_error_after_papermill_fails_that_customer_only(database, cache, customers, tmp_path):
    """The page of one customer cannot be written; the same worker goes on with the others."""
    notebook = write_notebook(tmp_path / "small.ipynb", "print('scorecard of', customer_id)")
    blocked = customers[1]
    (tmp_path / MONTH / "customers" / f"{slug(blocked)}.html").mkdir(parents=True)
    result = build_pack(
        MONTH,
        customers=customers,
        workers=1,
        source=database,
        reports_dir=tmp_path,
        cache_dir=cache,
        notebook=notebook,
        progress=False,
    )
    status = {r.key: r for r in result.results}
    assert status[blocked].status == "failed"
    assert f"{slug(blocked)}.html" in status[blocked].error
    assert "Is a directory" in status[blocked].error
    assert all(status[c].status == "ok" for c in customers if c != blocked)
    assert len({r.worker for r in result.results}) == 1  # the worker survived the error
    assert not list(tmp_path.rglob(".tmp-*"))


def test_temporary_notebooks_are_named_per_process(tmp_path):
    """Two packs of one month (two processes) never write the same temporary notebook."""
    tmp = _temporary_notebook(tmp_path / "C1.ipynb")
    assert tmp.parent == tmp_path and tmp.name.startswith(".tmp-")
    assert str(os.getpid()) in tmp.name
    code = (
        "import sys; from pathlib import Path; from kamlab.pack.runner import _temporary_notebook"
    )
    code += f"; print(_temporary_notebook(Path({str(tmp_path / 'C1.ipynb')!r})).name)"
    other = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert other != tmp.name and other.startswith(".tmp-")
