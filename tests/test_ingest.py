"""ingest(): files in, mapped and validated, one DuckDB store out, atomically."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_DATA, small_extracts

from kamlab.config import DEFAULTS, SettingsError, load_settings
from kamlab.data.contract import TABLES
from kamlab.data.ingest import IngestError, ingest
from kamlab.data.mapping import SAP_EXAMPLE
from kamlab.data.store import load, summary
from kamlab.data.validate import ContractError, validate

SHARED = SHARED_DATA


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


def test_text_cells_of_an_xlsx_extract_stay_text(tmp_path):
    """ids written as text cells keep their leading zeros; number cells are numbers."""
    openpyxl = pytest.importorskip("openpyxl")
    ids = {"C1": "0000100001", "C2": "0000100002"}
    frames = small_extracts()
    for table in [t for t in frames if "customer_id" in TABLES[t].column_names]:
        frames[table]["customer_id"] = frames[table]["customer_id"].replace(ids)
    folder = write_csvs(tmp_path / "x", {k: v for k, v in frames.items() if k != "customers"})
    book = openpyxl.Workbook()
    sheet = book.active
    customers = frames["customers"]
    sheet.append(list(customers.columns))
    for record in customers.to_dict("records"):
        row = [record[c] or None for c in customers.columns]
        row[7] = int(row[7])  # payment terms as a number cell
        sheet.append(row)
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "0000100001"
    assert sheet["H2"].data_type == "n"
    book.save(folder / "customers.xlsx")
    ingest(folder, tmp_path / "kam.duckdb")
    ds = load(tmp_path / "kam.duckdb")
    assert sorted(ds.customers["customer_id"]) == ["0000100001", "0000100002"]
    assert (ds.orders["customer_id"] == "0000100001").sum() == 2
    assert ds.customers["payment_terms_days"].tolist() == [30, 60]


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
        if name not in spec:  # an optional table the SAP example does not map (actions)
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


# --- public sample data sets (../shared/data/README.md), mapped by docs/byo/*.toml only -------

BYO = Path(__file__).resolve().parents[1] / "docs" / "byo"
needs_order_book = pytest.mark.skipif(
    not (SHARED / "sales_data_sample.csv").exists(),
    reason="public data set ../shared/data/sales_data_sample.csv is not beside this checkout",
)
needs_ar_ledger = pytest.mark.skipif(
    not (SHARED / "ibm_accounts_receivable.csv").exists(),
    reason="public data set ../shared/data/ibm_accounts_receivable.csv is not beside this checkout",
)


@needs_order_book
def test_the_public_order_book_ingests_with_its_documented_mapping_only(tmp_path):
    report = ingest(SHARED, tmp_path / "kam.duckdb", settings=load_settings(BYO / "orderbook.toml"))
    ds = load(tmp_path / "kam.duckdb")
    assert len(ds.orders) == 2823 and ds.orders["order_id"].nunique() == 307
    assert len(ds.customers) == 92 and len(ds.materials) == 109 and ds.derived == ()
    assert set(ds.absent) == set(TABLES) - {"orders", "customers", "materials"}
    assert (ds.orders["status"] == "cancelled").sum() == 60
    assert ds.orders["order_date"].min() == pd.Timestamp("2003-01-06")
    assert ds.orders["order_date"].max() == pd.Timestamp("2005-05-31")
    assert (ds.customers["region"] == "NA").sum() > 0  # North America, not a missing value
    assert round(ds.orders["net_value"].sum(), 2) == 10032628.85
    repeated = report.exclusions.set_index("table")["rows"]
    assert repeated.to_dict() == {"customers": 2823 - 92, "materials": 2823 - 109}


@needs_ar_ledger
def test_the_public_ar_ledger_ingests_with_its_documented_mapping_only(tmp_path):
    ingest(SHARED, tmp_path / "kam.duckdb", settings=load_settings(BYO / "ar_ledger.toml"))
    ds = load(tmp_path / "kam.duckdb")
    assert len(ds.invoices) == 2466 and len(ds.customers) == 100 and len(ds.payments) == 2466
    assert set(ds.absent) == set(TABLES) - {"invoices", "payments", "customers"}
    assert ds.invoices["document_id"].str.len().eq(10).all()  # leading zeros kept
    assert round(ds.invoices["amount"].sum(), 2) == 147703.18
    assert ds.invoices["disputed"].sum() == 561  # "Yes"
    assert (ds.invoices["due_date"] - ds.invoices["posting_date"]).dt.days.eq(30).all()
    paid = ds.payments.set_index("allocated_document")["payment_date"]
    late = paid.reindex(ds.invoices["document_id"]).to_numpy() > ds.invoices["due_date"].to_numpy()
    assert late.sum() == 877  # DaysLate > 0 in the file


def _byo_mapping(name: str, tables: tuple[str, ...]) -> dict:
    with (BYO / name).open("rb") as fh:
        return {t: m for t, m in tomllib.load(fh)["mapping"].items() if t in tables}


@needs_order_book
@needs_ar_ledger
def test_two_date_formats_in_one_ingest_with_master_data_derived(tmp_path):
    """Orders in "M/D/YYYY H:MM", invoices in "M/D/YYYY", no customer or material master."""
    mapping = _byo_mapping("orderbook.toml", ("orders",))
    mapping |= _byo_mapping("ar_ledger.toml", ("invoices", "payments"))
    settings = replace(DEFAULTS, mapping=mapping)
    report = ingest(SHARED, tmp_path / "kam.duckdb", settings=settings)
    assert report.derived == ("customers", "materials")
    assert "(derived from the transactions)" in str(report)
    ds = load(tmp_path / "kam.duckdb")
    assert ds.derived == ("customers", "materials")
    assert len(ds.customers) == 92 + 100 and len(ds.materials) == 109
    assert ds.orders["order_date"].min() == pd.Timestamp("2003-01-06")
    assert ds.invoices["posting_date"].min() == pd.Timestamp("2012-01-03")
    terms = ds.customers.set_index("customer_id")["payment_terms_days"]
    assert terms["0379-NEVHP"] == 30 and pd.isna(terms["Land of Toys Inc."])
    assert "derived from the transactions" in str(summary(tmp_path / "kam.duckdb"))


def test_two_extract_columns_mapped_to_one_contract_column_is_a_settings_error(tmp_path):
    toml = tmp_path / "kamlab.toml"
    toml.write_text('[mapping.orders]\nKUNNR = "customer_id"\nKUNAG = "customer_id"\n')
    folder = write_csvs(tmp_path / "x", small_extracts())
    with pytest.raises(SettingsError, match=r"\['customer_id'\] given more than once"):
        ingest(folder, tmp_path / "kam.duckdb", settings=load_settings(toml))


def _large_extracts(folder: Path, lines: int) -> Path:
    """The small extract set with `lines` extra order lines, so writing takes a while."""
    frames = small_extracts()
    extra = pd.DataFrame(
        {
            "order_id": [f"B{i // 10}" for i in range(lines)],
            "line": [str(10 * (i % 10 + 1)) for i in range(lines)],
            "customer_id": "C1",
            "material_id": "M1",
            "order_date": "2024-01-05",
            "requested_date": "2024-02-01",
            "confirmed_date": "",
            "quantity": "1",
            "net_value": "2.5",
            "currency": "EUR",
            "status": "open",
        }
    )
    frames["orders"] = pd.concat([frames["orders"], extra], ignore_index=True)
    return write_csvs(folder, frames)


def _temp_files(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.startswith(f".{db.name}."))


def test_temp_files_of_an_ingest_killed_mid_write_are_removed_by_the_next(tmp_path):
    folder = _large_extracts(tmp_path / "x", 400_000)
    db = tmp_path / "db" / "kam.duckdb"
    code = "import sys; from kamlab.data.ingest import ingest; ingest(sys.argv[1], sys.argv[2])"
    child = subprocess.Popen([sys.executable, "-c", code, str(folder), str(db)])
    deadline = time.monotonic() + 120
    while not (db.parent.is_dir() and _temp_files(db)) and child.poll() is None:
        assert time.monotonic() < deadline, "the ingest never started writing"
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL, "the ingest finished before it could be killed"
    leaked = _temp_files(db)
    assert leaked and all(str(child.pid) in name for name in leaked)
    assert not db.exists()
    ingest(write_csvs(tmp_path / "small", small_extracts()), db)
    assert _temp_files(db) == [] and db.exists()


def test_temp_files_of_a_running_ingest_are_left_alone(tmp_path):
    db = tmp_path / "kam.duckdb"
    mine = tmp_path / f".kam.duckdb.{os.getpid()}.tmp"
    mine.write_text("being written")
    with pytest.raises(ContractError):
        ingest(write_csvs(tmp_path / "bad", {"orders": small_extracts()["materials"]}), db)
    assert mine.exists()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[mapping.orders]\nfile = "a.csv"\n[mapping.files]\norders = "b.csv"\n', "two files"),
        ("[mapping.orders]\ndate_fromat = 5\n", "expected a column name"),
        ("[mapping.orders]\ndecimal = 5\n", "decimal: expected str"),
        ('[mapping.orders]\nformats = {ordr_date = "%d"}\n', "unknown contract column 'ordr_date'"),
        ('[mapping.orders]\nformats = {order_date = {sep = ";"}}\n', "unknown format key"),
        ('[mapping.orders]\ndistinct = "yes"\n', "distinct: expected bool"),
    ],
)
def test_bad_table_formats_are_settings_errors(tmp_path, toml, message):
    (tmp_path / "kamlab.toml").write_text(toml)
    folder = write_csvs(tmp_path / "x", small_extracts())
    with pytest.raises(SettingsError, match=re.escape(message)):
        ingest(folder, tmp_path / "kam.duckdb", settings=load_settings(tmp_path / "kamlab.toml"))


def test_one_file_feeding_several_tables_with_its_own_separator_and_encoding(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    book = small_extracts()["orders"].merge(small_extracts()["customers"], on="customer_id")
    book = book.rename(columns={"currency_x": "currency"}).drop(columns="currency_y")
    book.to_csv(folder / "book.txt", sep=";", index=False, encoding="cp1252")
    (tmp_path / "kamlab.toml").write_text(
        '[mapping.orders]\nfile = "book.txt"\ncsv_separator = ";"\nencoding = "cp1252"\n'
        '[mapping.customers]\nfile = "book.txt"\ndistinct = true\ncsv_separator = ";"\n'
        'encoding = "cp1252"\n'
    )
    report = ingest(
        folder, tmp_path / "kam.duckdb", settings=load_settings(tmp_path / "kamlab.toml")
    )
    assert report.rows["orders"] == 4 and report.rows["customers"] == 2
    assert report.derived == ("materials",)
    assert list(report.ignored_columns) == []  # every column of the file is stored somewhere


@pytest.mark.parametrize(
    ("tables", "derived"),
    [(("orders", "customers", "materials"), ()), (("invoices", "payments"), ("customers",))],
)
def test_a_partial_extract_set_round_trips_with_what_was_absent_and_derived(
    tmp_path, tables, derived
):
    frames = {k: v for k, v in small_extracts().items() if k in tables}
    db = tmp_path / "kam.duckdb"
    report = ingest(write_csvs(tmp_path / "x", frames), db)
    absent = tuple(t for t in TABLES if t not in tables and t not in derived)
    assert report.absent == absent and report.derived == derived
    ds = load(db, customers=["C1"])
    assert ds.absent == absent and ds.derived == derived
    assert all(len(getattr(ds, t)) for t in tables)
    text = str(summary(db))
    assert all(f"{t}" in text for t in absent) and "no extract: empty" in text


def test_a_table_file_that_also_feeds_the_master_data_is_still_read_as_its_table(tmp_path):
    frames = {k: v for k, v in small_extracts().items() if k in ("orders", "materials")}
    orders = frames["orders"].assign(name=frames["orders"]["customer_id"])
    write_csvs(tmp_path / "x", {"orders": orders, "materials": frames["materials"]})
    (tmp_path / "kamlab.toml").write_text(
        '[mapping.customers]\nfile = "orders.csv"\ndistinct = true\n'
        '[mapping.customers.constants]\naccount_manager = "unknown"\nregion = "unknown"\n'
        'segment = "unknown"\n'
    )
    settings = load_settings(tmp_path / "kamlab.toml")
    report = ingest(tmp_path / "x", tmp_path / "kam.duckdb", settings=settings)
    assert report.rows["orders"] == 4 and report.rows["customers"] == 2
    assert report.files["orders"].name == report.files["customers"].name == "orders.csv"
    assert report.ignored_files == [] and report.derived == ()
