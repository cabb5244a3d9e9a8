"""The monthly account review pack: scorecards run on warm kernels, an index, a workbook.

:func:`build_pack` is imported on first use: papermill loads ``kamlab.pack.kernels`` through
its entry point whenever it is imported, and that must not pull in the whole analytics chain.
"""

from kamlab.pack.runner import JobResult, PackError, PackInterrupted, PackResult
from kamlab.pack.slug import slug

__all__ = ["JobResult", "PackError", "PackInterrupted", "PackResult", "build_pack", "slug"]


def __getattr__(name: str):
    if name == "build_pack":
        from kamlab.pack.build import build_pack

        return build_pack
    raise AttributeError(f"module 'kamlab.pack' has no attribute {name!r}")
