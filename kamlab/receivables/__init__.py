"""Receivables: open items and ageing as of any date, behaviour, exposure, expected loss, risk."""

from kamlab.receivables.ageing import (
    ageing,
    ageing_summary,
    bucket_labels,
    days_overdue,
    in_reporting_currency,
)
from kamlab.receivables.history import ageing_history, last_month_ends
from kamlab.receivables.open_items import open_items

__all__ = [
    "ageing",
    "ageing_history",
    "ageing_summary",
    "bucket_labels",
    "days_overdue",
    "in_reporting_currency",
    "last_month_ends",
    "open_items",
]
