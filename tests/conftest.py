"""Small extract sets, valid per the contract, shaped like files read as text; the public data sets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

# public data sets by others, beside the repository: <repo>/../shared/data (README there)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The public data sets folder; the test is skipped, saying where it looked, when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data sets not found at {SHARED_DATA} (<repo>/../shared/data)")
    return SHARED_DATA


def _frame(text: str) -> pd.DataFrame:
    header, *rows = [line.split("|") for line in text.strip().splitlines()]
    return pd.DataFrame(
        {
            h.strip(): pd.Series([r[i].strip() for r in rows], dtype="str")
            for i, h in enumerate(header)
        }
    )


def small_extracts() -> dict[str, pd.DataFrame]:
    """Two customers (EUR, USD), three materials and a few rows in every table, all valid."""
    return {
        "customers": _frame("""
            customer_id|name|account_manager|region|segment|currency|credit_limit|payment_terms_days|otif_target|forecast_accuracy_target
            C1|Acme GmbH|Ann|DE|auto|EUR|50000|30|0.95|0.8
            C2|Bolt Inc.|Bob|US|tools|USD||60||
        """),
        "materials": _frame("""
            material_id|description|product_family|lifecycle
            M1|Bolt 8mm|fasteners|active
            M2|Nut 8mm|fasteners|phase-in
            M3|Washer|fasteners|phase-out
        """),
        "orders": _frame("""
            order_id|line|customer_id|material_id|order_date|requested_date|confirmed_date|quantity|net_value|currency|status
            O1|10|C1|M1|2024-01-05|2024-02-01|2024-02-03|100|500.5|EUR|delivered
            O1|20|C1|M2|2024-01-05|2024-02-01||50|100|EUR|cancelled
            O2|10|C2|M1|2024-02-10|2024-03-15|2024-03-15|10|60|USD|open
            O3|10|C2|M3|2024-03-01|2024-04-01|2024-04-02|5|20|USD|delivered
        """),
        "deliveries": _frame("""
            delivery_id|order_id|line|delivered_date|delivered_quantity|air_freight
            D1|O1|10|2024-02-03|100|false
            D2|O3|10|2024-04-05|3|true
            D3|O3|10|2024-04-09|2|false
        """),
        "customer_forecasts": _frame("""
            customer_id|material_id|snapshot_date|period|quantity
            C1|M1|2024-01-31|2024-02|90
            C1|M1|2024-01-31|2024-03|80
            C2|M1|2024-02-29|2024-03|12
            C2|M3|2024-02-29|2024-04|4
        """),
        "invoices": _frame("""
            document_id|customer_id|document_type|posting_date|due_date|amount|currency|reference_document
            I1|C1|invoice|2024-02-05|2024-03-06|500.5|EUR|
            I2|C2|invoice|2024-04-05|2024-06-04|20|USD|
            CN1|C1|credit_note|2024-02-20|2024-02-20|50|EUR|I1
        """),
        "instalments": _frame("""
            document_id|instalment|due_date|amount
            I2|1|2024-05-05|6
            I2|2|2024-06-04|14
        """),
        "payments": _frame("""
            payment_id|line|customer_id|payment_date|amount|currency|allocated_document
            P1|1|C1|2024-03-10|450.5|EUR|I1
            P2|1|C2|2024-05-01|5|USD|
        """),
        "complaints": _frame("""
            complaint_id|customer_id|material_id|opened_date|closed_date|category|rejected_quantity
            Q1|C1|M1|2024-02-10|2024-02-20|scratches|4
        """),
        "budget": _frame("""
            customer_id|period|product_family|planned_quantity|planned_revenue|currency
            C1|2024-02||120|600|EUR
            C2|2024-03|fasteners|15|90|USD
        """),
    }


@pytest.fixture
def extracts() -> dict[str, pd.DataFrame]:
    return small_extracts()
