"""Worker pools never outlive their parent: real processes, real signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest

# the chain's chunk workers (spawned) and the forecast engine's block workers (forked)
SCRIPTS = {
    "chain chunks": (
        "import time\n"
        "from kamlab.chain.chunks import map_chunks\n"
        "map_chunks(time.sleep, [((60,), {}), ((60,), {})], n_jobs=2)\n"
    ),
    "forecast blocks": (
        "import time\n"
        "from kamlab.processes import process_pool\n"
        "with process_pool(2) as pool:\n"
        "    [f.result() for f in [pool.submit(time.sleep, 60) for _ in range(2)]]\n"
    ),
}


def _workers(parent: psutil.Process, wanted: int = 2, wait: float = 60) -> list[psutil.Process]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = [
            p
            for p in parent.children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())
        ]
        if len(found) >= wanted:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{wanted} workers did not start within {wait} s")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("pool", sorted(SCRIPTS))
def test_workers_exit_when_their_parent_is_killed(pool, signum):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPTS[pool]])
    workers: list[psutil.Process] = []
    try:
        workers = _workers(psutil.Process(proc.pid))
        proc.send_signal(signum)
        proc.wait(timeout=10)
        gone, alive = psutil.wait_procs(workers, timeout=5)
        assert not alive, f"orphaned workers still running: {[p.pid for p in alive]}"
    finally:  # a failed run must not leave its sleepers behind either
        proc.kill()
        for p in workers:
            if p.is_running():
                p.kill()
