"""Portfolio classification: demand pattern, ABC/XYZ, key-account matrix, segments, migration.

One concept per private module (the pyjanitor way); everything public is re-exported here.
"""

from kamlab.classify.pattern import demand_pattern

__all__ = ["demand_pattern"]
