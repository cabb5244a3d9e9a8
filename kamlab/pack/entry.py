"""papermill's entry point for the warm-kernel engine (``engine_name="kamlab-warm"``).

papermill loads every registered engine while it is itself being imported. The engine class
(:class:`kamlab.pack.kernels.WarmEngine`) subclasses papermill's own, so the module that
defines it cannot be the entry point: when it is the first to import papermill, papermill
would ask for the class before the module has defined it. The entry point is therefore this
stand-in, which imports nothing and hands every attribute over to the class on first use.
"""

from __future__ import annotations

__all__ = ["warm_engine"]


class _WarmEngineEntry:
    """Stands in for :class:`kamlab.pack.kernels.WarmEngine` in papermill's registry."""

    def __getattr__(self, name: str):
        from kamlab.pack.kernels import WarmEngine

        return getattr(WarmEngine, name)


warm_engine = _WarmEngineEntry()
