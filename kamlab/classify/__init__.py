"""Portfolio classification: demand pattern, ABC/XYZ, key-account matrix, segments, migration.

One concept per private module (the pyjanitor way); everything public is re-exported here.
"""

from kamlab.classify.abc import abc
from kamlab.classify.matrix import account_criteria, key_account_matrix
from kamlab.classify.migration import migration, transition_matrix
from kamlab.classify.pattern import demand_pattern
from kamlab.classify.segments import segments
from kamlab.classify.xyz import abc_xyz, xyz

__all__ = [
    "abc",
    "abc_xyz",
    "account_criteria",
    "demand_pattern",
    "key_account_matrix",
    "migration",
    "segments",
    "transition_matrix",
    "xyz",
]
