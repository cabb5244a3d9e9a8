"""Running pack notebooks on a Dask cluster: one warm kernel per Dask worker."""

from __future__ import annotations

import threading

from distributed import WorkerPlugin, get_worker

from kamlab.pack.kernels import KernelError, WarmKernel
from kamlab.pack.runner import Job, JobResult, execute_job

__all__ = ["PLUGIN", "WarmKernelPlugin", "execute_on_worker"]

PLUGIN = "kamlab-warm-kernel"


class WarmKernelPlugin(WorkerPlugin):
    """Holds a worker's warm kernel: started on the first notebook, shut down on teardown."""

    def __init__(self, preload: str, cwd: str) -> None:
        self.preload = preload
        self.cwd = cwd
        self.kernel: WarmKernel | None = None
        self.lock = threading.Lock()
        self.stopped = False

    def __getstate__(self) -> dict:
        return {"preload": self.preload, "cwd": self.cwd}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["preload"], state["cwd"])

    def teardown(self, worker) -> None:
        """The pack ended or was stopped: kill the kernel now, even mid-notebook (the task
        thread holds the lock), and start none after."""
        self.stopped = True
        kernel = self.kernel
        if kernel is not None:
            kernel.close()


def execute_on_worker(job: Job, timeout: float | None) -> JobResult:
    """Run `job` on this worker's warm kernel (one notebook at a time per kernel)."""
    plugin: WarmKernelPlugin = get_worker().plugins[PLUGIN]
    with plugin.lock:
        if plugin.stopped:
            raise KernelError("the pack was stopped")
        if plugin.kernel is None:
            plugin.kernel = WarmKernel(cwd=plugin.cwd)
            plugin.kernel.start(plugin.preload)
        return execute_job(job, plugin.kernel, timeout=timeout)
