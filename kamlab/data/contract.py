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
    """A rule across columns of one row, e.g. ``due_date >= posting_date`` (nulls pass)."""

    name: str
    left: str
    op: Literal[">=", ">", "=="]
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
                    "Credit limit in the customer's currency",
                    nullable=True,
                    ge=0,
                ),
                Column("payment_terms_days", "int", "Standard payment terms, days net", ge=0),
                Column(
                    "otif_target",
                    "float",
                    "SLA target for OTIF, fraction 0-1",
                    nullable=True,
                    ge=0,
                    le=1,
                ),
                Column(
                    "forecast_accuracy_target",
                    "float",
                    "SLA target for forecast accuracy (1 - WAPE), fraction 0-1",
                    nullable=True,
                    ge=0,
                    le=1,
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
                Column("confirmed_date", "date", "Delivery date we confirmed", nullable=True),
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
            ),
            key=("customer_id", "period", "product_family"),
            foreign_keys=(ForeignKey(("customer_id",), "customers", ("customer_id",)),),
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
        checks.append(f"{rule.name}: `{rule.left}` {rule.op} `{rule.right}` (empty values pass)")
    checks += list(spec.notes)
    if checks:
        out += ["", *(f"- {c}" for c in checks)]
    return [*out, ""]


def contract_markdown() -> str:
    """The data contract as Markdown: one section per table, generated from the code."""
    lines = ["| table | one row per | key |", "|---|---|---|"]
    for spec in TABLES.values():
        optional = " (optional)" if spec.optional else ""
        lines.append(f"| `{spec.name}`{optional} | {spec.description} | {', '.join(spec.key)} |")
    lines.append("")
    for spec in TABLES.values():
        lines += _table_markdown(spec)
    return "\n".join(lines)
