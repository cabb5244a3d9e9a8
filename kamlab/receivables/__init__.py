"""Receivables: open items and ageing as of any date, behaviour, exposure, expected loss, risk."""

from kamlab.receivables.ageing import (
    ageing,
    ageing_summary,
    bucket_labels,
    days_overdue,
    in_reporting_currency,
    overdue_share,
)
from kamlab.receivables.behaviour import collection_effectiveness, days_to_pay, dso
from kamlab.receivables.exposure import credit_utilisation, top_overdue
from kamlab.receivables.history import ageing_history, last_month_ends
from kamlab.receivables.open_items import open_items
from kamlab.receivables.provision import ProvisionMatrix, provision_matrix
from kamlab.receivables.risk import late_payment_risk, settlements

__all__ = [
    "ProvisionMatrix",
    "ageing",
    "ageing_history",
    "ageing_summary",
    "bucket_labels",
    "collection_effectiveness",
    "credit_utilisation",
    "days_overdue",
    "days_to_pay",
    "dso",
    "in_reporting_currency",
    "last_month_ends",
    "late_payment_risk",
    "open_items",
    "overdue_share",
    "provision_matrix",
    "settlements",
    "top_overdue",
]
