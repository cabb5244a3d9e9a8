"""Local worker processes that never outlive the process that started them.

A pool's workers are children of the process computing the chain or a forecast. If that
process is killed outright (SIGKILL, or SIGTERM without a handler, as ``kill`` sends), its
workers would be re-parented and keep computing a result nobody reads, each holding its share
of memory. Every pool kamlab starts is made by :func:`process_pool`, whose workers watch their
parent and exit within half a second of losing it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext

__all__ = ["process_pool", "stop_with_parent"]

_POLL_SECONDS = 0.5


def process_pool(max_workers: int, *, mp_context: BaseContext | None = None) -> ProcessPoolExecutor:
    """A :class:`~concurrent.futures.ProcessPoolExecutor` whose workers exit with this process."""
    return ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=mp_context,
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )


def stop_with_parent(stop: Callable[[], object], *, parent: int | None = None) -> None:
    """In a worker: call `stop` as soon as `parent` (default: the current parent) is gone.

    `stop` runs on a daemon thread and should end the process (``os._exit``).
    """
    parent = os.getppid() if parent is None else parent

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_POLL_SECONDS)
        stop()

    threading.Thread(target=watch, daemon=True, name="kamlab-parent-watch").start()


def _exit_with_parent(parent: int) -> None:
    """A pool worker's initializer: exit at once, without cleanup, when `parent` is gone
    (the results have nowhere to go)."""
    stop_with_parent(lambda: os._exit(1), parent=parent)
