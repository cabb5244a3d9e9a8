"""The monthly account review pack: scorecards run on warm kernels, an index, a workbook."""

from kamlab.pack.build import build_pack
from kamlab.pack.runner import JobResult, PackError, PackResult
from kamlab.pack.slug import slug

__all__ = ["JobResult", "PackError", "PackResult", "build_pack", "slug"]
