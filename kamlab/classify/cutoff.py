"""Cut-off comparisons shared by ABC, XYZ and the demand pattern: compare values as on paper.

A share or ratio that is exactly a cut-off on paper can compute a hair below it (a CV² of
0.49 from sizes 3 and 10 comes out as 0.48999…), and would then fall on the low side. Every
classification in :mod:`kamlab.classify` therefore rounds the computed value to
:data:`DECIMALS` decimals before comparing it with a cut-off, with this one helper.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DECIMALS", "as_on_paper"]

DECIMALS = 12  # far below any business precision, far above float64's error on a ratio


def as_on_paper(value):
    """`value` (scalar, array or Series) rounded to :data:`DECIMALS` decimals for a cut-off test.

    >>> 0.7**2 >= 0.49, bool(as_on_paper(0.7**2) >= 0.49)
    (False, True)
    """
    return np.round(value, DECIMALS)
