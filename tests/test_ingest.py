"""ingest(): files in, mapped and validated, one DuckDB store out, atomically."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from conftest import small_extracts

from kamlab.config import SettingsError, load_settings
from kamlab.data.contract import TABLES
from kamlab.data.ingest import IngestError, ingest, read_extracts
from kamlab.data.mapping import SAP_EXAMPLE
from kamlab.data.store import load
from kamlab.data.validate import ContractError, validate

SHARED = Path("/work/shared/data")


def write_csvs(folder: Path, frames: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _assert_same_tables(got, expected) -> None:
    for name, spec in TABLES.items():
        key = list(spec.key)
        pd.testing.assert_frame_equal(
            getattr(got, name).sort_values(key, ignore_index=True),
            getattr(expected, name).sort_values(key, ignore_index=True),
            obj=name,
        )


def test_ingest_writes_every_table_and_reports_rows(tmp_path):
    folder = write_csvs(tmp_path / "x", small_extracts())
    report = ingest(folder, tmp_path / "kam.duckdb")
    assert report.rows["orders"] == 4 and report.rows["deliveries"] == 3
    assert report.exclusions.empty and report.seconds > 0
    assert "orders" in str(report) and "excluded rows: none" in str(report)
    _assert_same_tables(load(tmp_path / "kam.duckdb"), validate(small_extracts()))


def test_parquet_and_excel_extracts_are_read_like_csv(tmp_path):
    frames = small_extracts()
    folder = tmp_path / "x"
    write_csvs(folder, {k: v for k, v in frames.items() if k not in ("orders", "customers")})
    validate(frames).orders.to_parquet(folder / "orders.parquet")
    frames["customers"].to_excel(folder / "customers.xlsx", index=False)
    ingest(folder, tmp_path / "kam.duckdb")
    _assert_same_tables(load(tmp_path / "kam.duckdb"), validate(small_extracts()))


def test_failed_ingest_leaves_the_previous_database_untouched(tmp_path):
    db = tmp_path / "kam.duckdb"
    ingest(write_csvs(tmp_path / "good", small_extracts()), db)
    before = db.read_bytes()
    bad = small_extracts()
    bad["orders"].loc[0, "customer_id"] = "C9"
    with pytest.raises(ContractError, match="orders"):
        ingest(write_csvs(tmp_path / "bad", bad), db)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "good", "kam.duckdb"]
    assert len(load(db).orders) == 4


def test_failed_ingest_creates_no_database(tmp_path):
    bad = small_extracts()
    bad["invoices"].loc[0, "amount"] = "-1"
    with pytest.raises(ContractError):
        ingest(write_csvs(tmp_path / "bad", bad), tmp_path / "kam.duckdb")
    assert not (tmp_path / "kam.duckdb").exists()


def test_second_ingest_replaces_the_first(tmp_path):
    db = tmp_path / "kam.duckdb"
    ingest(write_csvs(tmp_path / "a", small_extracts()), db)
    frames = small_extracts()
    frames["complaints"] = frames["complaints"].iloc[0:0]
    ingest(write_csvs(tmp_path / "b", frames), db)
    assert load(db).complaints.empty


def test_missing_folder_is_an_ingest_error(tmp_path):
    with pytest.raises(IngestError, match="extracts folder not found"):
        ingest(tmp_path / "nowhere", tmp_path / "kam.duckdb")


def test_two_files_for_one_table_is_an_ingest_error(tmp_path):
    folder = write_csvs(tmp_path / "x", small_extracts())
    small_extracts()["orders"].to_parquet(folder / "orders.parquet")
    with pytest.raises(IngestError, match="two extracts for table orders"):
        ingest(folder, tmp_path / "kam.duckdb")


def test_blank_lines_and_extra_columns_are_reported(tmp_path):
    frames = small_extracts()
    frames["orders"]["MANDT"] = "100"
    folder = write_csvs(tmp_path / "x", frames)
    with (folder / "orders.csv").open("a") as fh:
        fh.write(",,,,,,,,,,,\n")
    (folder / "notes.txt").write_text("hello")
    report = ingest(folder, tmp_path / "kam.duckdb")
    assert report.ignored_columns == {"orders": ["MANDT"]}
    assert report.ignored_files == ["notes.txt"]
    assert report.exclusions.to_dict("records") == [
        {"table": "orders", "reason": "blank line", "rows": 1}
    ]
    assert load(tmp_path / "kam.duckdb").exclusions.to_dict("records") == [
        {"table": "orders", "reason": "blank line", "rows": 1}
    ]


def test_unknown_mapping_target_is_a_settings_error(tmp_path):
    toml = tmp_path / "kamlab.toml"
    toml.write_text('[mapping.orders]\nKUNNR = "customer"\n')
    folder = write_csvs(tmp_path / "x", small_extracts())
    with pytest.raises(SettingsError, match=r"unknown contract column\(s\) \['customer'\]"):
        ingest(folder, tmp_path / "kam.duckdb", settings=load_settings(toml))


# --- a German SAP export, loaded unedited with the documented kamlab.toml ---------------------


def _german(value, dtype: str) -> str:
    if value is None or pd.isna(value):
        return ""
    if dtype == "date":
        return value.strftime("%d.%m.%Y")
    if dtype == "period":
        return value.strftime("%m.%Y")
    if dtype == "float":
        return f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if dtype == "bool":
        return "X" if value else ""
    return str(value)


def write_sap_extracts(folder: Path) -> dict[str, pd.DataFrame]:
    """The small extracts as a German SAP system exports them (SAP_EXAMPLE's names and codes).

    Returns the contract-named frames the files stand for.
    """
    frames = small_extracts()
    frames["customers"].loc[0, "name"] = "Müller & Söhne GmbH"
    frames["orders"].loc[0, "net_value"] = "12345.5"
    frames["invoices"].loc[0, "amount"] = "12345.5"
    frames["payments"].loc[0, "amount"] = "12295.5"
    spec = tomllib.loads(SAP_EXAMPLE)["mapping"]
    files = spec.pop("files")
    typed = validate(frames)
    folder.mkdir(parents=True)
    for name, frame in typed.tables().items():
        if name not in spec:  # optional tables SAP_EXAMPLE does not map: no extract
            continue
        mapping = spec[name]
        recode = mapping.get("recode", {})
        out = {"MANDT": ["100"] * len(frame)}  # SAP client: not in the contract, ignored
        for source, target in mapping.items():
            if target in TABLES[name].column_names:
                column = TABLES[name].column(target)
                codes = {v: k for k, v in reversed(recode.get(target, {}).items())}
                values = frame[target].map(lambda v, c=column: _german(v, c.dtype))
                out[source] = values.map(lambda v, codes=codes: codes.get(v, v))
        pd.DataFrame(out).to_csv(
            folder / files.get(name, f"{name}.csv"), sep=";", index=False, encoding="cp1252"
        )
    return frames


def test_german_sap_extract_loads_unedited_with_the_documented_mapping(tmp_path):
    frames = write_sap_extracts(tmp_path / "sap")
    assert "KUNNR;NAME1;KAM" in (tmp_path / "sap" / "KNA1.csv").read_text(encoding="cp1252")
    assert "12.345,50" in (tmp_path / "sap" / "VBAP.csv").read_text(encoding="cp1252")
    toml = tmp_path / "kamlab.toml"
    toml.write_text(SAP_EXAMPLE, encoding="utf-8")
    report = ingest(tmp_path / "sap", tmp_path / "kam.duckdb", settings=load_settings(toml))
    assert report.files["orders"].name == "VBAP.csv"
    _assert_same_tables(load(tmp_path / "kam.duckdb"), validate(frames))


def test_german_sap_extract_with_a_bad_date_names_file_line_and_value(tmp_path):
    write_sap_extracts(tmp_path / "sap")
    path = tmp_path / "sap" / "VBAP.csv"
    text = path.read_text(encoding="cp1252").replace("01.02.2024", "32.02.2024", 1)
    path.write_text(text, encoding="cp1252")
    toml = tmp_path / "kamlab.toml"
    toml.write_text(SAP_EXAMPLE, encoding="utf-8")
    with pytest.raises(
        ContractError, match=r"orders\s+requested_date\s+parses as date.*line 2:.*'32.02.2024'"
    ):
        ingest(tmp_path / "sap", tmp_path / "kam.duckdb", settings=load_settings(toml))


# --- a public sample data set: "Sample Sales Data" (see /work/shared/data/README.md) -----------

SALES_TOML = """
[formats]
date_format = "%m/%d/%Y %H:%M"

[mapping.files]
orders = "sales_data_sample.csv"
customers = "sales_data_sample.csv"
materials = "sales_data_sample.csv"

[mapping.orders]
ORDERNUMBER = "order_id"
ORDERLINENUMBER = "line"
CUSTOMERNAME = "customer_id"
PRODUCTCODE = "material_id"
ORDERDATE = ["order_date", "requested_date"]
QUANTITYORDERED = "quantity"
SALES = "net_value"
STATUS = "status"
[mapping.orders.constants]
currency = "USD"
confirmed_date = ""
[mapping.orders.recode.status]
Shipped = "delivered"
Resolved = "delivered"
Cancelled = "cancelled"
"On Hold" = "open"
"In Process" = "open"
Disputed = "open"

[mapping.customers]
CUSTOMERNAME = ["customer_id", "name"]
TERRITORY = "region"
COUNTRY = "segment"
[mapping.customers.constants]
account_manager = "unassigned"
currency = "USD"
credit_limit = ""
payment_terms_days = "30"
otif_target = ""
forecast_accuracy_target = ""

[mapping.materials]
PRODUCTCODE = "material_id"
PRODUCTLINE = ["description", "product_family"]
[mapping.materials.constants]
lifecycle = "active"
"""


@pytest.mark.skipif(not (SHARED / "sales_data_sample.csv").exists(), reason="shared data absent")
def test_sample_sales_data_maps_into_orders_customers_and_materials(tmp_path):
    toml = tmp_path / "kamlab.toml"
    toml.write_text(SALES_TOML)
    settings = load_settings(toml)
    frames, files, _ = read_extracts(SHARED, settings=settings)
    assert set(files) == {"orders", "customers", "materials"}
    # the file has one row per order line: as a customer master its ids repeat
    with pytest.raises(ContractError, match=r"customers\s+customer_id\s+unique key\s+2823"):
        validate(frames, settings=settings)
    frames["customers"] = frames["customers"].drop_duplicates("customer_id")
    frames["materials"] = frames["materials"].drop_duplicates("material_id")
    with pytest.raises(ContractError) as info:
        validate(frames, settings=settings)
    # what is really missing: the other tables; orders, customers, materials pass every rule
    assert set(info.value.failures["rule"]) == {"table present"}
    required = {name for name, spec in TABLES.items() if not spec.optional}
    assert set(info.value.failures["table"]) == required - set(frames)
    for name, spec in TABLES.items():
        if name not in frames and not spec.optional:
            frames[name] = pd.DataFrame(columns=spec.column_names)
    ds = validate(frames, settings=settings)
    assert len(ds.orders) == 2823 and ds.orders["order_id"].nunique() == 307
    assert len(ds.customers) == 92 and len(ds.materials) == 109
    assert (ds.orders["status"] == "cancelled").sum() == 60
    assert ds.orders["order_date"].min() == pd.Timestamp("2003-01-06")
    assert ds.orders["order_date"].max() == pd.Timestamp("2005-05-31")
    assert (ds.customers["region"] == "NA").sum() > 0  # North America, not a missing value


# --- a public sample data set: IBM "Accounts Receivable" (one row per settled invoice) ---------

AR_TOML = """
[formats]
date_format = "%m/%d/%Y"

[mapping.files]
invoices = "ibm_accounts_receivable.csv"
payments = "ibm_accounts_receivable.csv"

[mapping.invoices]
invoiceNumber = "document_id"
customerID = "customer_id"
InvoiceDate = "posting_date"
DueDate = "due_date"
InvoiceAmount = "amount"
[mapping.invoices.constants]
document_type = "invoice"
currency = "USD"
reference_document = ""

[mapping.payments]
invoiceNumber = ["payment_id", "allocated_document"]
customerID = "customer_id"
SettledDate = "payment_date"
InvoiceAmount = "amount"
[mapping.payments.constants]
line = "1"
currency = "USD"
"""


@pytest.mark.skipif(
    not (SHARED / "ibm_accounts_receivable.csv").exists(), reason="shared data absent"
)
def test_ibm_receivables_sample_maps_into_invoices_and_payments(tmp_path):
    toml = tmp_path / "kamlab.toml"
    toml.write_text(AR_TOML)
    settings = load_settings(toml)
    frames, _, _ = read_extracts(SHARED, settings=settings)
    ids = frames["invoices"]["customer_id"].drop_duplicates()
    frames["customers"] = pd.DataFrame(
        {
            "customer_id": ids,
            "name": ids,
            "account_manager": "unassigned",
            "region": "unknown",
            "segment": "unknown",
            "currency": "USD",
            "credit_limit": None,
            "payment_terms_days": 30,
            "otif_target": None,
            "forecast_accuracy_target": None,
        }
    )
    for name, spec in TABLES.items():
        if name not in frames and not spec.optional:
            frames[name] = pd.DataFrame(columns=spec.column_names)
    ds = validate(frames, settings=settings)
    assert len(ds.invoices) == 2466 and len(ds.customers) == 100
    assert ds.invoices["document_id"].str.len().eq(10).all()  # leading zeros kept
    assert round(ds.invoices["amount"].sum(), 2) == 147703.18
    assert (ds.invoices["due_date"] - ds.invoices["posting_date"]).dt.days.eq(30).all()
    late = ds.payments["payment_date"].to_numpy() > ds.invoices["due_date"].to_numpy()
    assert late.sum() == 877  # DaysLate > 0 in the file


def test_two_extract_columns_mapped_to_one_contract_column_is_a_settings_error(tmp_path):
    toml = tmp_path / "kamlab.toml"
    toml.write_text('[mapping.orders]\nKUNNR = "customer_id"\nKUNAG = "customer_id"\n')
    folder = write_csvs(tmp_path / "x", small_extracts())
    with pytest.raises(SettingsError, match=r"\['customer_id'\] given more than once"):
        ingest(folder, tmp_path / "kam.duckdb", settings=load_settings(toml))
