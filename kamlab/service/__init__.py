"""Service KPIs: OTIF / OTD per order line, SLA adherence, air freight, quality, plan vs actual.

One concept per module (the pyjanitor way); everything public is re-exported here.
"""

from kamlab.service.delivery import delivery_performance, otif
from kamlab.service.freight import air_freight
from kamlab.service.plan import plan_vs_actual, price_volume_mix
from kamlab.service.quality import quality
from kamlab.service.sla import sla_adherence

__all__ = [
    "air_freight",
    "delivery_performance",
    "otif",
    "plan_vs_actual",
    "price_volume_mix",
    "quality",
    "sla_adherence",
]
