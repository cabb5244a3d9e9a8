"""Service KPIs: OTIF / OTD per order line, SLA adherence, air freight, quality, plan vs actual.

One concept per private-ish module (the pyjanitor way); everything public is re-exported here.
"""

from kamlab.service.delivery import delivery_performance, otif

__all__ = ["delivery_performance", "otif"]
