"""The data contract: every table kamlab reads, its columns, keys and rules, defined once.

This module says *what* the data must be; :mod:`kamlab.data.validate` checks it and
``data/README.md`` is generated from it (a test keeps the two equal).

Conventions (../shared/DOMAIN.md): one row per record; ids are strings; dates are dates
(``datetime64``, day precision); target months are monthly ``Period``; money carries a
``currency`` column (ISO 4217 code) and is never added across currencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ONE_OF_REQUIRED",
    "TABLES",
    "Column",
    "ForeignKey",
    "RowRule",
    "Table",
    "contract_markdown",
    "schema",
]

Dtype = Literal["string", "date", "period", "float", "int", "bool"]


@dataclass(frozen=True)
class Column:
    """One column: its dtype, whether it must be present and filled, and its value rules."""

    name: str
    dtype: Dtype
    description: str
    required: bool = True  # the column must be in the extract
    nullable: bool = False  # empty cells allowed
    ge: float | None = None  # values >= ge
    gt: float | None = None  # values > gt
    le: float | None = None  # values <= le
    isin: tuple[str, ...] | None = None
    pattern: str | None = None  # full-match regular expression (strings)


@dataclass(frozen=True)
class ForeignKey:
    """Values of `columns` must exist as `ref_columns` of `ref_table` (empty values skipped)."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    same: tuple[str, ...] = ()  # columns that must also agree with the referenced row
    ref_filter: tuple[str, str] | None = None  # (column, value) the referenced row must have


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row, e.g. ``due_date >= posting_date`` (nulls pass);
    ``"one of"``: exactly one of the two columns is given (here an empty value fails)."""

    name: str
    left: str
    op: Literal[">=", ">", "==", "one of"]
    right: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    row_rules: tuple[RowRule, ...] = ()
    optional: bool = False  # the extract may be absent (an empty table is used)
    notes: tuple[str, ...] = field(default=())
    # master data: when the extract is absent, the table is derived from the ids in these
    # transaction tables (kamlab.data.derive) instead of being empty
    derived_from: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_ISO_CURRENCY = r"[A-Z]{3}"


def _currency(description: str = "ISO 4217 currency code of the amounts") -> Column:
    return Column("currency", "string", description, pattern=_ISO_CURRENCY)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            "One row per customer (SAP KNA1/KNVV + CRM account).",
            (
                Column("customer_id", "string", "Customer number"),
                Column("name", "string", "Customer name"),
                Column("account_manager", "string", "Key account manager responsible"),
                Column("region", "string", "Sales region"),
                Column("segment", "string", "Customer segment / industry"),
                _currency("Customer's billing currency"),
                Column(
                    "credit_limit",
                    "float",
                    "Credit limit in the customer's currency; empty = none",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "payment_terms_days",
                    "int",
                    "Standard payment terms, days net; empty = unknown",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "otif_target",
                    "float",
                    "SLA target for OTIF, fraction 0-1; empty = no target",
                    required=False,
                    nullable=True,
                    ge=0,
                    le=1,
                ),
                Column(
                    "forecast_accuracy_target",
                    "float",
                    "SLA target for forecast accuracy (1 - WAPE), fraction 0-1; empty = no target",
                    required=False,
                    nullable=True,
                    ge=0,
                    le=1,
                ),
                Column(
                    "language",
                    "string",
                    "Language the customer is addressed in: en, de or it (the meeting pack); "
                    "empty = [pack] language",
                    required=False,
                    nullable=True,
                    isin=("en", "de", "it"),
                ),
                Column(
                    "wallet_share",
                    "float",
                    "Our estimated share of the customer's spend in our categories, fraction 0-1 (CRM)",
                    required=False,
                    nullable=True,
                    ge=0,
                    le=1,
                ),
            ),
            key=("customer_id",),
            optional=True,
            derived_from=(
                "orders",
                "invoices",
                "payments",
                "customer_forecasts",
                "complaints",
                "budget",
            ),
        ),
        Table(
            "materials",
            "One row per material (SAP MARA/MVKE).",
            (
                Column("material_id", "string", "Material number"),
                Column("description", "string", "Material description"),
                Column("product_family", "string", "Product family / hierarchy level"),
                Column(
                    "lifecycle",
                    "string",
                    "Lifecycle status",
                    isin=("active", "phase-in", "phase-out"),
                ),
                Column(
                    "unit_cost",
                    "float",
                    "Standard cost per unit (margin proxy), in `cost_currency`",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "cost_currency",
                    "string",
                    "Currency of unit_cost",
                    required=False,
                    nullable=True,
                    pattern=_ISO_CURRENCY,
                ),
            ),
            key=("material_id",),
            optional=True,
            derived_from=("orders", "customer_forecasts", "complaints"),
        ),
        Table(
            "orders",
            "One row per sales-order line (SAP VBAK/VBAP/VBEP).",
            (
                Column("order_id", "string", "Sales document number"),
                Column("line", "int", "Item number within the order", ge=0),
                Column("customer_id", "string", "Sold-to customer"),
                Column("material_id", "string", "Material ordered"),
                Column("order_date", "date", "Date the order was created"),
                Column("requested_date", "date", "Delivery date the customer requested"),
                Column(
                    "confirmed_date",
                    "date",
                    "Delivery date we confirmed; empty = not confirmed",
                    required=False,
                    nullable=True,
                ),
                Column("quantity", "float", "Ordered quantity", ge=0),
                Column("net_value", "float", "Net value of the line", ge=0),
                _currency(),
                Column("status", "string", "Line status", isin=("open", "delivered", "cancelled")),
            ),
            key=("order_id", "line"),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(("material_id",), "materials", ("material_id",)),
            ),
            optional=True,
        ),
        Table(
            "deliveries",
            "One row per outbound-delivery line (SAP LIKP/LIPS), linked to its order line.",
            (
                Column("delivery_id", "string", "Delivery number"),
                Column("order_id", "string", "Order the delivery line fulfils"),
                Column("line", "int", "Order line the delivery line fulfils", ge=0),
                Column("delivered_date", "date", "Goods-issue / proof-of-delivery date"),
                Column("delivered_quantity", "float", "Quantity delivered", ge=0),
                Column("air_freight", "bool", "Shipped by air (expedite)"),
                Column(
                    "freight_cost",
                    "float",
                    "Freight cost of the delivery line, in the order's currency",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
            ),
            key=("delivery_id", "order_id", "line"),
            foreign_keys=(ForeignKey(("order_id", "line"), "orders", ("order_id", "line")),),
            optional=True,
        ),
        Table(
            "customer_forecasts",
            "One row per forecast figure in one snapshot the customer submitted.",
            (
                Column("customer_id", "string", "Customer who sent the forecast"),
                Column("material_id", "string", "Material forecast"),
                Column("snapshot_date", "date", "Date the customer sent the forecast"),
                Column("period", "period", "Target month (YYYY-MM)"),
                Column("quantity", "float", "Forecast quantity", ge=0),
            ),
            key=("customer_id", "material_id", "snapshot_date", "period"),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(("material_id",), "materials", ("material_id",)),
            ),
            row_rules=(
                RowRule(
                    "target month not before the snapshot month", "period", ">=", "snapshot_date"
                ),
            ),
            optional=True,
        ),
        Table(
            "agreed_forecasts",
            "One row per forecast figure the key account manager agreed with the customer "
            "after challenging its forecast, as handed to S&OP.",
            (
                Column("customer_id", "string", "Customer the figure was agreed with"),
                Column("material_id", "string", "Material"),
                Column("period", "period", "Target month (YYYY-MM)"),
                Column("quantity", "float", "Agreed quantity", ge=0),
                Column(
                    "basis",
                    "string",
                    "Where the figure came from: the customer's forecast, kamlab's statistical "
                    "forecast, or the KAM's own figure",
                    isin=("customer", "kamlab", "own"),
                ),
                Column("agreed_by", "string", "Who agreed it (the key account manager)"),
                Column("agreed_on", "date", "When it was agreed (the account review)"),
            ),
            key=("customer_id", "material_id", "agreed_on", "period"),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(("material_id",), "materials", ("material_id",)),
            ),
            row_rules=(
                RowRule("target month not before the agreement month", "period", ">=", "agreed_on"),
            ),
            optional=True,
            notes=(
                "Scored like a forecast snapshot taken on agreed_on (lag = target month − "
                "month of agreed_on) beside the customer's and the statistical forecast.",
            ),
        ),
        Table(
            "invoices",
            "One row per billing document (SAP BSID/BSAD customer line items): invoices and credit notes.",
            (
                Column("document_id", "string", "Billing document number"),
                Column("customer_id", "string", "Customer billed"),
                Column("document_type", "string", "Document type", isin=("invoice", "credit_note")),
                Column("posting_date", "date", "Posting date"),
                Column("due_date", "date", "Net due date"),
                Column("amount", "float", "Gross amount, positive for both types", gt=0),
                _currency(),
                Column(
                    "reference_document",
                    "string",
                    "Credit note: the invoice it is netted against; empty = credit on account",
                    required=False,
                    nullable=True,
                ),
                Column(
                    "allocation_date",
                    "date",
                    "Credit note: when it was netted (default: the later posting date)",
                    required=False,
                    nullable=True,
                ),
                Column(
                    "reference_instalment",
                    "int",
                    "Credit note: instalment of the referenced invoice it is netted against",
                    required=False,
                    nullable=True,
                    ge=1,
                ),
                Column(
                    "disputed",
                    "bool",
                    "The customer disputes the document (dispute case open); empty = not known",
                    required=False,
                    nullable=True,
                ),
            ),
            key=("document_id",),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(
                    ("reference_document",),
                    "invoices",
                    ("document_id",),
                    same=("customer_id", "currency"),
                    ref_filter=("document_type", "invoice"),
                ),
            ),
            row_rules=(
                RowRule("due date not before posting date", "due_date", ">=", "posting_date"),
            ),
            optional=True,
        ),
        Table(
            "instalments",
            "One row per instalment of an invoice paid in parts (several due dates).",
            (
                Column("document_id", "string", "Invoice the instalment belongs to"),
                Column("instalment", "int", "Instalment number, 1 = first", ge=1),
                Column("due_date", "date", "Due date of the instalment"),
                Column("amount", "float", "Instalment amount", gt=0),
            ),
            key=("document_id", "instalment"),
            foreign_keys=(
                ForeignKey(
                    ("document_id",),
                    "invoices",
                    ("document_id",),
                    ref_filter=("document_type", "invoice"),
                ),
            ),
            optional=True,
            notes=("The instalments of an invoice add up to the invoice amount (to 0.01).",),
        ),
        Table(
            "payments",
            "One row per allocation of an incoming payment (SAP clearing).",
            (
                Column("payment_id", "string", "Payment document number"),
                Column("line", "int", "Allocation line within the payment", ge=0),
                Column("customer_id", "string", "Paying customer"),
                Column("payment_date", "date", "Value date of the payment"),
                Column("amount", "float", "Amount allocated on this line", gt=0),
                _currency(),
                Column(
                    "allocated_document",
                    "string",
                    "Invoice cleared by this line; empty = payment on account",
                    nullable=True,
                ),
                Column(
                    "allocation_date",
                    "date",
                    "When the line was cleared against the invoice (default: later of payment and posting date)",
                    required=False,
                    nullable=True,
                ),
                Column(
                    "instalment",
                    "int",
                    "Instalment cleared (default: earliest due first)",
                    required=False,
                    nullable=True,
                    ge=1,
                ),
            ),
            key=("payment_id", "line"),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(
                    ("allocated_document",),
                    "invoices",
                    ("document_id",),
                    same=("customer_id", "currency"),
                    ref_filter=("document_type", "invoice"),
                ),
            ),
            optional=True,
        ),
        Table(
            "complaints",
            "One row per quality notification (SAP QM).",
            (
                Column("complaint_id", "string", "Notification number"),
                Column("customer_id", "string", "Complaining customer"),
                Column("material_id", "string", "Material complained about"),
                Column("opened_date", "date", "Date opened"),
                Column("closed_date", "date", "Date closed; empty = still open", nullable=True),
                Column("category", "string", "Defect category"),
                Column("rejected_quantity", "float", "Quantity rejected", ge=0),
            ),
            key=("complaint_id",),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(("material_id",), "materials", ("material_id",)),
            ),
            row_rules=(RowRule("closed not before opened", "closed_date", ">=", "opened_date"),),
            optional=True,
        ),
        Table(
            "budget",
            "One row per plan figure (customer x month x optional product family).",
            (
                Column("customer_id", "string", "Customer planned"),
                Column("period", "period", "Plan month (YYYY-MM)"),
                Column(
                    "product_family",
                    "string",
                    "Product family; empty = customer total",
                    nullable=True,
                ),
                Column("planned_quantity", "float", "Planned quantity", ge=0),
                Column("planned_revenue", "float", "Planned net revenue", ge=0),
                _currency(),
                Column(
                    "version_date",
                    "date",
                    "Day this version of the budget was approved (the original and each "
                    "revision); empty = the only version",
                    required=False,
                    nullable=True,
                ),
            ),
            key=("customer_id", "period", "product_family", "version_date"),
            foreign_keys=(ForeignKey(("customer_id",), "customers", ("customer_id",)),),
            optional=True,
        ),
        # --- commercial tables ---
        Table(
            "prices",
            "One row per agreed price record (SAP condition record, e.g. PR00 per customer x material).",
            (
                Column("customer_id", "string", "Customer the price is agreed with"),
                Column("material_id", "string", "Material priced"),
                Column(
                    "source",
                    "string",
                    "Where the price comes from; on a date a valid special price beats a "
                    "contract price, which beats a price-list price",
                    isin=("special_price", "contract", "price_list"),
                ),
                Column("valid_from", "date", "First day the price applies"),
                Column(
                    "valid_to",
                    "date",
                    "Last day the price applies; empty = open-ended",
                    nullable=True,
                ),
                Column("price", "float", "Agreed price per `price_unit` units", gt=0),
                _currency("Currency of the price"),
                Column(
                    "price_unit",
                    "int",
                    "Quantity the price is for (1, 10, 100, 1000: SAP KPEIN)",
                    ge=1,
                ),
                Column(
                    "price_request_id",
                    "string",
                    "Special price request that granted the price",
                    required=False,
                    nullable=True,
                ),
            ),
            key=("customer_id", "material_id", "source", "valid_from"),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(("material_id",), "materials", ("material_id",)),
                ForeignKey(
                    ("price_request_id",),
                    "price_requests",
                    ("request_id",),
                    same=("customer_id", "material_id"),
                ),
            ),
            row_rules=(RowRule("valid to not before valid from", "valid_to", ">=", "valid_from"),),
            optional=True,
            notes=(
                "Records of one customer, material and source should not overlap; where they "
                "do, the one starting last applies (as SAP truncates the older record).",
            ),
        ),
        Table(
            "price_requests",
            "One row per special price request (SPR) raised for a customer x material.",
            (
                Column("request_id", "string", "Special price request number"),
                Column("customer_id", "string", "Customer the special price is for"),
                Column("material_id", "string", "Material"),
                Column("requested_date", "date", "Date the request was raised"),
                Column(
                    "status",
                    "string",
                    "Request status",
                    isin=("open", "approved", "rejected", "withdrawn"),
                ),
                Column("requested_price", "float", "Price asked for, per `price_unit`", gt=0),
                Column(
                    "approved_price",
                    "float",
                    "Price approved, per `price_unit`; empty unless approved",
                    nullable=True,
                    gt=0,
                ),
                Column(
                    "reference_price",
                    "float",
                    "Price the request departs from (contract or list), per `price_unit`",
                    required=False,
                    nullable=True,
                    gt=0,
                ),
                _currency("Currency of the prices"),
                Column("price_unit", "int", "Quantity the prices are for", ge=1),
                Column(
                    "annual_volume",
                    "float",
                    "Quantity per year the request is based on",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column("decided_date", "date", "Date approved or rejected", nullable=True),
                Column(
                    "expiry_date",
                    "date",
                    "Last day an approved special price applies",
                    nullable=True,
                ),
                Column(
                    "reason",
                    "string",
                    "Why the special price is needed (competitor offer, volume, project...)",
                    nullable=True,
                ),
            ),
            key=("request_id",),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(("material_id",), "materials", ("material_id",)),
            ),
            row_rules=(
                RowRule("decided not before requested", "decided_date", ">=", "requested_date"),
                RowRule("expiry not before requested", "expiry_date", ">=", "requested_date"),
            ),
            optional=True,
        ),
        Table(
            "opportunities",
            "One row per CRM opportunity: RFQ, quote, new-product (NPI) project or tender.",
            (
                Column("opportunity_id", "string", "CRM opportunity id"),
                Column("customer_id", "string", "Customer"),
                Column(
                    "type",
                    "string",
                    "Kind of opportunity",
                    isin=("rfq", "quote", "npi", "tender"),
                ),
                Column(
                    "material_id",
                    "string",
                    "Material quoted, if it exists already",
                    nullable=True,
                ),
                Column(
                    "product_family",
                    "string",
                    "Product family (when no material exists yet)",
                    nullable=True,
                ),
                Column(
                    "stage",
                    "string",
                    "Current CRM stage (e.g. qualification, quotation, negotiation; NPI: "
                    "prototype, samples, PPAP, pre-series)",
                ),
                Column(
                    "stage_date",
                    "date",
                    "Date the opportunity entered its current stage",
                    nullable=True,
                ),
                Column("probability", "float", "Probability of winning, fraction 0-1", ge=0, le=1),
                Column(
                    "annual_volume",
                    "float",
                    "Expected quantity per year once in production",
                    nullable=True,
                    ge=0,
                ),
                Column("annual_value", "float", "Expected revenue per year", ge=0),
                _currency("Currency of annual_value"),
                Column("created_date", "date", "Date the opportunity (RFQ) was created"),
                Column(
                    "expected_award_date",
                    "date",
                    "Date the customer is expected to decide",
                    nullable=True,
                ),
                Column(
                    "planned_sop_date",
                    "date",
                    "Start of production as first planned (baseline)",
                    nullable=True,
                ),
                Column(
                    "sop_date",
                    "date",
                    "Start of production as expected now",
                    nullable=True,
                ),
                Column("status", "string", "Outcome so far", isin=("open", "won", "lost")),
                Column(
                    "decided_date",
                    "date",
                    "Date won or lost; empty while open",
                    nullable=True,
                ),
                Column(
                    "loss_reason",
                    "string",
                    "Why it was lost (price, technical, delivery, relationship...)",
                    nullable=True,
                ),
                Column("competitor", "string", "Competitor involved / who won it", nullable=True),
            ),
            key=("opportunity_id",),
            foreign_keys=(
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
                ForeignKey(("material_id",), "materials", ("material_id",)),
            ),
            row_rules=(
                RowRule("decided not before created", "decided_date", ">=", "created_date"),
                RowRule("stage entered not before created", "stage_date", ">=", "created_date"),
            ),
            optional=True,
            notes=(
                "A won or lost opportunity has a `decided_date`; an open one has none "
                "(checked by `kamlab.opportunities`, which counts offending rows).",
            ),
        ),
        Table(
            "market",
            "One row per market estimate: a customer's purchases of a product family, and "
            "competitors' shares of them.",
            (
                Column("customer_id", "string", "Customer"),
                Column(
                    "period",
                    "period",
                    "Month of the estimate; it covers the 12 months to this month (YYYY-MM)",
                ),
                Column("product_family", "string", "Product family (as in materials)"),
                Column(
                    "competitor",
                    "string",
                    "Competitor the share belongs to; empty = the row with the customer's total",
                    nullable=True,
                ),
                Column(
                    "total_purchases",
                    "float",
                    "Customer's estimated purchases of the family from all suppliers in the "
                    "12 months to `period` (total row)",
                    nullable=True,
                    ge=0,
                ),
                _currency("Currency of total_purchases"),
                Column(
                    "share",
                    "float",
                    "Competitor's share of the customer's purchases, fraction 0-1",
                    nullable=True,
                    ge=0,
                    le=1,
                ),
                Column(
                    "activity",
                    "string",
                    "Competitor activity seen at the customer (price cut, new product, visits...)",
                    required=False,
                    nullable=True,
                ),
            ),
            key=("customer_id", "period", "product_family", "competitor"),
            foreign_keys=(ForeignKey(("customer_id",), "customers", ("customer_id",)),),
            optional=True,
        ),
        Table(
            "visits",
            "One row per customer contact: visit, voice-of-customer (VOC) meeting or account review.",
            (
                Column("visit_id", "string", "Visit report id"),
                Column("customer_id", "string", "Customer visited"),
                Column("visit_date", "date", "Date of the meeting"),
                Column("type", "string", "Kind of meeting", isin=("visit", "voc", "review")),
                Column(
                    "status",
                    "string",
                    "Held, still planned, or cancelled; empty = held",
                    required=False,
                    nullable=True,
                    isin=("held", "planned", "cancelled"),
                ),
                Column("notes", "string", "Summary of the visit report", nullable=True),
            ),
            key=("visit_id",),
            foreign_keys=(ForeignKey(("customer_id",), "customers", ("customer_id",)),),
            optional=True,
        ),
        Table(
            "ratings",
            "One row per vendor rating the customer gave us (supplier scorecard).",
            (
                Column("customer_id", "string", "Customer who rated us"),
                Column("period", "period", "Month the rating refers to (YYYY-MM)"),
                Column("score", "float", "Vendor rating score", ge=0),
                Column("scale_max", "float", "Best possible score (e.g. 100, 5)", gt=0),
                Column(
                    "rank",
                    "int",
                    "Our rank among the customer's suppliers, 1 = best",
                    nullable=True,
                    ge=1,
                ),
                Column(
                    "suppliers",
                    "int",
                    "Number of suppliers ranked",
                    required=False,
                    nullable=True,
                    ge=1,
                ),
            ),
            key=("customer_id", "period"),
            foreign_keys=(ForeignKey(("customer_id",), "customers", ("customer_id",)),),
            row_rules=(
                RowRule("score not above scale", "scale_max", ">=", "score"),
                RowRule("rank not beyond suppliers", "suppliers", ">=", "rank"),
            ),
            optional=True,
        ),
        # --- supply tables ---
        Table(
            "stock",
            "One row per stock figure of a material in a plant on a key date (SAP MARD/MSKU, MBEW).",
            (
                Column("material_id", "string", "Material in stock"),
                Column("plant", "string", "Plant holding the stock"),
                Column("snapshot_date", "date", "Key date the stock was taken"),
                Column(
                    "customer_id",
                    "string",
                    "Customer the stock is reserved for (customer-specific / consignment "
                    "stock); empty = free for any customer",
                    required=False,
                    nullable=True,
                ),
                Column("on_hand", "float", "Unrestricted-use quantity on hand", ge=0),
                Column(
                    "in_transit",
                    "float",
                    "Quantity in transfer between plants; empty = 0",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "blocked",
                    "float",
                    "Blocked and quality-inspection quantity (not usable); empty = 0",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "on_order",
                    "float",
                    "Open production and purchase orders still to arrive; empty = 0",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column("unit_cost", "float", "Cost per unit (standard or moving price)", ge=0),
                _currency("ISO 4217 currency code of unit_cost"),
            ),
            key=("material_id", "plant", "snapshot_date", "customer_id"),
            foreign_keys=(
                ForeignKey(("material_id",), "materials", ("material_id",)),
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
            ),
            optional=True,
            notes=(
                "Stock value = (on_hand + in_transit + blocked) × unit_cost, in `currency`; "
                "values in different currencies are never added.",
            ),
        ),
        Table(
            "material_plan",
            "One row per material and plant: planning master data (SAP MARC).",
            (
                Column("material_id", "string", "Material planned"),
                Column("plant", "string", "Plant"),
                Column(
                    "lead_time_days",
                    "int",
                    "Replenishment lead time, calendar days (planned delivery or in-house "
                    "production time plus goods-receipt time)",
                    ge=0,
                ),
                Column(
                    "lead_time_sd_days",
                    "float",
                    "Standard deviation of the lead time, days; empty = lead time is fixed",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "safety_stock",
                    "float",
                    "Safety stock set in SAP; empty = none set",
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "reorder_point",
                    "float",
                    "Reorder point set in SAP; empty = not reorder-point planned",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "lot_size",
                    "float",
                    "Minimum lot size / minimum order quantity (MOQ); empty = none",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
                Column(
                    "start_of_production",
                    "date",
                    "Planned start of production (phase-in); empty = not a new material",
                    required=False,
                    nullable=True,
                ),
                Column(
                    "end_of_life",
                    "date",
                    "Planned end of life: last date the material is supplied (phase-out); "
                    "empty = none planned",
                    required=False,
                    nullable=True,
                ),
                Column(
                    "successor_material_id",
                    "string",
                    "Material that replaces this one (follow-up material); empty = none",
                    required=False,
                    nullable=True,
                ),
            ),
            key=("material_id", "plant"),
            foreign_keys=(
                ForeignKey(("material_id",), "materials", ("material_id",)),
                ForeignKey(("successor_material_id",), "materials", ("material_id",)),
            ),
            row_rules=(
                RowRule(
                    "end of life not before start of production",
                    "end_of_life",
                    ">=",
                    "start_of_production",
                ),
            ),
            optional=True,
        ),
        Table(
            "capacity",
            "One row per customer's capacity allocation of a material (or product family) "
            "in a month (SAP product allocation).",
            (
                Column(
                    "material_id",
                    "string",
                    "Material allocated; empty = the allocation is per product family",
                    nullable=True,
                ),
                Column(
                    "product_family",
                    "string",
                    "Product family allocated; empty = the allocation is per material",
                    nullable=True,
                ),
                Column("period", "period", "Month of the allocation (YYYY-MM)"),
                Column("customer_id", "string", "Customer the quantity is allocated to"),
                Column("allocated_quantity", "float", "Quantity allocated to the customer", ge=0),
                Column(
                    "capacity",
                    "float",
                    "Total capacity of the material or family in the month (the same on each "
                    "customer's row); empty = not known",
                    required=False,
                    nullable=True,
                    ge=0,
                ),
            ),
            key=("material_id", "product_family", "period", "customer_id"),
            foreign_keys=(
                ForeignKey(("material_id",), "materials", ("material_id",)),
                ForeignKey(("customer_id",), "customers", ("customer_id",)),
            ),
            row_rules=(
                RowRule(
                    "a material or a product family, not both nor neither",
                    "material_id",
                    "one of",
                    "product_family",
                ),
            ),
            optional=True,
        ),
        # --- actions table ---
        Table(
            "actions",
            "One row per action agreed in an account review (CRM task); the next scorecards "
            "show it until it is closed.",
            (
                Column("action_id", "string", "Action number"),
                Column("customer_id", "string", "Customer the action concerns"),
                Column("opened", "date", "Date the action was agreed"),
                Column("owner", "string", "Who does it"),
                Column("topic", "string", "What is to be done"),
                Column("due", "date", "Due date"),
                Column(
                    "status",
                    "string",
                    "open, in progress, done or dropped",
                    isin=("open", "in progress", "done", "dropped"),
                ),
                Column("closed", "date", "Date closed; empty = still open", nullable=True),
            ),
            key=("action_id",),
            foreign_keys=(ForeignKey(("customer_id",), "customers", ("customer_id",)),),
            row_rules=(RowRule("closed not before opened", "closed", ">=", "opened"),),
            optional=True,
        ),
    )
}

# every table is optional on its own, but an extract set needs transactions: at least one of
ONE_OF_REQUIRED: tuple[str, ...] = ("orders", "invoices")


def schema(table: str) -> Table:
    """The contract of `table`; raises KeyError listing the known tables."""
    try:
        return TABLES[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; known tables: {', '.join(TABLES)}") from None


_DTYPE_TEXT = {
    "string": "text",
    "date": "date",
    "period": "month `YYYY-MM`",
    "float": "number",
    "int": "integer",
    "bool": "flag",
}


def _rules(column: Column) -> str:
    rules = []
    if column.ge is not None:
        rules.append(f"≥ {column.ge:g}")
    if column.gt is not None:
        rules.append(f"> {column.gt:g}")
    if column.le is not None:
        rules.append(f"≤ {column.le:g}")
    if column.isin is not None:
        rules.append("one of " + ", ".join(f"`{v}`" for v in column.isin))
    if column.pattern is not None:
        rules.append(f"matches `{column.pattern}`")
    return "; ".join(rules)


def _table_markdown(spec: Table) -> list[str]:
    out = [f"### `{spec.name}`{' (optional)' if spec.optional else ''}", "", spec.description, ""]
    if spec.derived_from:
        sources = ", ".join(f"`{t}`" for t in spec.derived_from)
        out += [f"When absent: derived from the ids in {sources} (`kamlab.data.derive`).", ""]
    out.append(f"Key (unique): {', '.join(f'`{k}`' for k in spec.key)}.")
    out += ["", "| column | type | must be in the extract | may be empty | rules | meaning |"]
    out.append("|---|---|---|---|---|---|")
    for c in spec.columns:
        out.append(
            f"| `{c.name}` | {_DTYPE_TEXT[c.dtype]} | {'yes' if c.required else 'no'} | "
            f"{'yes' if c.nullable else 'no'} | {_rules(c)} | {c.description} |"
        )
    checks = []
    for fk in spec.foreign_keys:
        text = (
            f"{', '.join(f'`{c}`' for c in fk.columns)} exists in "
            f"`{fk.ref_table}`.{', '.join(f'`{c}`' for c in fk.ref_columns)}"
        )
        if fk.ref_filter:
            text += f" with `{fk.ref_filter[0]}` = `{fk.ref_filter[1]}`"
        if fk.same:
            text += f", with the same {' and '.join(f'`{c}`' for c in fk.same)}"
        checks.append(text + " (empty values skipped)")
    for rule in spec.row_rules:
        if rule.op == "one of":
            checks.append(f"{rule.name}: exactly one of `{rule.left}`, `{rule.right}` is given")
        else:
            checks.append(
                f"{rule.name}: `{rule.left}` {rule.op} `{rule.right}` (empty values pass)"
            )
    checks += list(spec.notes)
    if checks:
        out += ["", *(f"- {c}" for c in checks)]
    return [*out, ""]


def contract_markdown() -> str:
    """The data contract as Markdown: one section per table, generated from the code."""
    needed = " or ".join(f"`{t}`" for t in ONE_OF_REQUIRED)
    lines = [
        f"Every table is optional, but an extract set needs transactions: at least one of "
        f"{needed}.",
        "",
        "| table | one row per | key |",
        "|---|---|---|",
    ]
    for spec in TABLES.values():
        optional = " (optional)" if spec.optional else ""
        lines.append(f"| `{spec.name}`{optional} | {spec.description} | {', '.join(spec.key)} |")
    lines.append("")
    for spec in TABLES.values():
        lines += _table_markdown(spec)
    return "\n".join(lines)
