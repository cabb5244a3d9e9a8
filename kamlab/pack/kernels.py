"""Pre-warmed Jupyter kernels driven through real papermill.

A fresh kernel per notebook pays ~3 s of start-up and imports. A :class:`WarmKernel` starts
one ipykernel, imports kamlab, pandas and matplotlib once (and, via ``preload``, loads the
month's shared analytics into kamlab's in-memory cache), then serves notebook after notebook.
Between notebooks its user namespace is reset (``%reset -f``: variables, ``In``/``Out``
history, the ``_`` results) and its execution counter set back, so each notebook starts
from what a fresh kernel would give it; ``tests/test_pack_kernels.py`` checks that the
outputs are identical to a fresh kernel's. Modules stay imported — that is the point.

Papermill runs the notebook as usual (parameter injection, error banner, per-cell
metadata); only the engine differs: ``engine_name="kamlab-warm"`` hands papermill's
notebook client the live kernel manager and client instead of starting a new kernel.
Papermill finds the engine through the ``papermill.engine`` entry point that kamlab's
``pyproject.toml`` declares; importing this module registers nothing.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbformat import v4
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillException
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

__all__ = ["ENGINE_NAME", "KernelError", "WarmEngine", "WarmKernel", "warm_engine"]

ENGINE_NAME = "kamlab-warm"

# what a pack notebook imports anyway; importing it once is the saving
WARM_UP = """\
import kamlab.scorecard
import matplotlib
import pandas
import seaborn
"""

# after warm-up and preload: everything alive now (modules, the month's analytics) lives as
# long as the kernel, so the cyclic garbage collector stops scanning it. ``%reset`` runs two
# full collections; over the preloaded analytics they cost ~0.3 s each, per notebook.
FREEZE = """\
import gc as _gc
_gc.collect()
_gc.freeze()
del _gc
"""

# clears the user namespace and output history; the counter restarts at 1 with the next cell
RESET = """\
get_ipython().run_line_magic("reset", "-f")
get_ipython().execution_count = 1
"""


class KernelError(RuntimeError):
    """Code sent to a warm kernel outside a notebook (warm-up, reset) failed."""


class WarmKernel:
    """One live ipykernel that runs many notebooks, reset between them."""

    def __init__(
        self, *, kernel_name: str = "python3", startup_timeout: int = 60, cwd: str | None = None
    ):
        self.kernel_name = kernel_name
        self.startup_timeout = startup_timeout
        self.cwd = cwd
        self.km = None
        self.kc = None
        self.preload = ""
        self.notebooks_run = 0
        self.closed = False  # closed for good (the pack stopped): never started again

    def start(self, preload: str = "") -> WarmKernel:
        """Start the kernel, import the warm-up modules and run `preload` (not in history);
        what they leave in memory is exempt from garbage collection from then on."""
        if self.closed:
            raise KernelError("the warm kernel was closed: the pack is stopping")
        # the kernel talks to us over loopback only; its log level keeps the per-start
        # "running over TCP without encryption" warning out of the pack's progress display.
        # No input history on disk: IPython would write every cell of every notebook to the
        # user's history.sqlite, from every worker's kernel at once.
        client = NotebookClient(
            v4.new_notebook(),
            kernel_name=self.kernel_name,
            startup_timeout=self.startup_timeout,
            extra_arguments=["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False"],
        )
        client.km = client.create_kernel_manager()
        client.start_new_kernel(**({"cwd": self.cwd} if self.cwd else {}))
        client.start_new_kernel_client()
        self.km, self.kc = client.km, client.kc
        self.preload = preload
        self.run(WARM_UP + preload + FREEZE)
        self.reset()
        return self

    def run(self, code: str, *, timeout: float = 600) -> None:
        """Run `code` silently (no history, no counter); raise :class:`KernelError` on error."""
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

        reply = run_sync(self.kc.execute_interactive)(
            code, store_history=False, timeout=timeout, output_hook=hook
        )
        if reply["content"]["status"] != "ok" or errors:
            raise KernelError(f"warm kernel code failed: {'; '.join(errors) or reply['content']}")

    def reset(self) -> None:
        """Give the next notebook a fresh user namespace and execution counter."""
        self.run(RESET)

    def restart(self) -> None:
        """Replace the kernel by a fresh warm one (after a timeout or a crash)."""
        self.shutdown()
        self.start(self.preload)

    @property
    def pid(self) -> int | None:
        """The kernel's process id, also its process group (jupyter starts it in a new session)."""
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "pid", None)

    def kill(self) -> None:
        """Kill the kernel's process group at once; safe inside a signal handler (no event loop)."""
        km = self.km
        pid = getattr(getattr(km, "provisioner", None), "pid", None)
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        connection_file = getattr(km, "connection_file", "")
        if connection_file:
            Path(connection_file).unlink(missing_ok=True)

    def is_alive(self) -> bool:
        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def shutdown(self) -> None:
        """Stop the kernel and its channels (idempotent; safe when another thread is
        shutting it down too: each shuts down only what it took)."""
        km, kc = self.km, self.kc
        self.km = self.kc = None
        if kc is not None:
            kc.stop_channels()
        if km is not None:
            try:
                run_sync(km.shutdown_kernel)(now=True)
            finally:
                run_sync(km.cleanup_resources)()

    def close(self) -> None:
        """Kill the kernel at once and never start it again (the pack is stopping; a
        notebook still running on it fails, and :meth:`restart` refuses)."""
        self.closed = True
        self.kill()
        try:
            self.shutdown()
        except Exception:  # the kernel is killed already; its manager may be mid-shutdown
            pass

    def __enter__(self) -> WarmKernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class WarmEngine(NBClientEngine):
    """Papermill engine executing on a :class:`WarmKernel` passed as ``warm_kernel=``.

    With ``partial_path=``, a notebook interrupted by anything but a cell error (a timeout,
    a dead kernel) is written there before the exception propagates, so papermill can run
    with ``request_save_on_cell_execute=False`` (no rewrite of the whole notebook after every
    cell, which costs more than the cells of a small scorecard) and still keep it.
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        warm_kernel: WarmKernel | None = None,
        partial_path: str | None = None,
        **kwargs,
    ):
        if warm_kernel is None or warm_kernel.kc is None:
            raise KernelError("engine 'kamlab-warm' needs a started WarmKernel as warm_kernel=")
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            kwargs,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        client = PapermillNotebookClient(nb_man, km=warm_kernel.km, **final_kwargs)
        client.kc = warm_kernel.kc  # reuse the live client: setup_kernel starts nothing new
        try:
            return client.execute()
        except BaseException:
            # papermill only saves a notebook that stopped on a cell error; keep what ran
            # before a timeout or a dead kernel too (the caller asked for no per-cell saves)
            if partial_path is not None:
                nbformat.write(nb_man.nb, partial_path)
            raise
        finally:
            warm_kernel.notebooks_run += 1


def warm_engine() -> str:
    """:data:`ENGINE_NAME`, making sure papermill knows it.

    An installed kamlab is found through its entry point; a source checkout used without
    installing (``PYTHONPATH``, or metadata from an older install) is registered here, on
    first use rather than at import.
    """
    try:
        papermill_engines.get_engine(ENGINE_NAME)
    except PapermillException:
        papermill_engines.register(ENGINE_NAME, WarmEngine)
    return ENGINE_NAME
