"""Issue 23: tables defined by SQL over the extract files, the did-you-mean, the review month.

The worked mappings of ``docs/byo/`` ingest the example extracts of ``byo_extracts``; the
failure paths run the real ``kamlab`` command in a child process on real files and check
its one line on stderr, exit code 2 and the previous database, byte for byte.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from byo_extracts import write_erp, write_sap

from kamlab.config import FormatSettings, Settings, SettingsError, load_settings
from kamlab.data.ingest import ingest, read_extracts, read_file
from kamlab.data.mapping import check_mapping
from kamlab.data.sql import SqlError, locked_connection, run_query, typed_text_columns
from kamlab.data.validate import ContractError, closest_columns, validate

BYO = Path(__file__).resolve().parents[1] / "docs" / "byo"


def _settings(toml: Path | str, tmp_path: Path) -> Settings:
    if isinstance(toml, str):
        path = tmp_path / "kamlab.toml"
        path.write_text(toml, encoding="utf-8")
        toml = path
    return load_settings(toml)


@pytest.fixture(scope="module")
def erp(tmp_path_factory):
    folder = tmp_path_factory.mktemp("erp") / "extracts"
    return folder, write_erp(folder)


@pytest.fixture(scope="module")
def sap(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sap") / "extracts"
    return folder, write_sap(folder)


# -- the worked mappings -----------------------------------------------------------------------


def test_the_erp_header_and_lines_ingest_by_their_documented_mapping(erp, tmp_path):
    folder, truth = erp
    report = ingest(
        folder, tmp_path / "kam.duckdb", settings=load_settings(BYO / "erp_header_lines.toml")
    )
    assert report.rows["orders"] == truth.order_lines
    assert report.rows["deliveries"] == truth.shipped_lines  # the filter: shipped lines only
    assert report.rows["materials"] == 8 and report.rows["customers"] == 4
    assert report.files["orders"] == (folder / "order_header.csv", folder / "order_lines.csv")
    with duckdb.connect(str(tmp_path / "kam.duckdb"), read_only=True) as con:
        value, families, statuses = con.execute(
            "SELECT (SELECT sum(net_value) FROM orders),"
            " (SELECT string_agg(DISTINCT product_family, ',' ORDER BY product_family)"
            "  FROM materials),"
            " (SELECT string_agg(DISTINCT status, ',' ORDER BY status) FROM orders)"
        ).fetchall()[0]
    assert value == pytest.approx(truth.net_value, abs=0.005)  # computed column, in SQL
    assert families == "Pumps,Seals,Valves"  # looked up in categories.csv
    assert statuses == "cancelled,delivered,open"  # CASE


def test_the_sap_vbak_vbap_extracts_ingest_by_their_documented_mapping(sap, tmp_path):
    folder, truth = sap
    db = tmp_path / "kam.duckdb"
    report = ingest(folder, db, settings=load_settings(BYO / "sap_vbak_vbap.toml"))
    assert report.rows["orders"] == truth.order_lines
    with duckdb.connect(str(db), read_only=True) as con:
        orders = con.execute("SELECT * FROM orders").df()
        invoices = con.execute("SELECT * FROM invoices").df()
        materials = con.execute("SELECT * FROM materials").df()
    assert orders["net_value"].sum() == pytest.approx(truth.net_value, abs=0.005)  # 1.234,50
    assert orders["order_id"].str.fullmatch(r"0000012\d{3}").all()  # VBELN keeps its zeros
    assert orders["customer_id"].str.startswith("00001000").all()
    assert sorted(orders["line"].unique().tolist()) == [10, 20, 30]  # POSNR 000010
    assert (invoices["document_type"] == "credit_note").sum() == truth.credit_notes
    assert (invoices["amount"] > 0).all()  # 3.070,13- is a credit memo of 3,070.13
    assert ((invoices["due_date"] - invoices["posting_date"]).dt.days == 30).all()
    assert set(materials["description"].str.split().str[0]) == {"Ventil"}  # MAKT, German
    assert set(materials["lifecycle"]) == {"active", "phase-in", "phase-out"}


# -- typing the files -------------------------------------------------------------------------


def test_text_columns_become_dates_and_numbers_only_when_every_value_is_one():
    raw = pd.DataFrame(
        {
            "id": ["0042", "0043", ""],  # leading zeros: an id, text
            "qty": ["1.234,5", "7-", ""],  # German, SAP negative
            "day": ["20250131", "20250228", ""],
            "mixed": ["12", "12a", "3"],
            "whole": ["10", "20", "30"],
        }
    )
    got = typed_text_columns(raw, FormatSettings(date_format="%Y%m%d", decimal=",", thousands="."))
    assert got["id"].tolist()[:2] == ["0042", "0043"] and pd.isna(got["id"].iloc[2])
    assert got["qty"].tolist()[:2] == [1234.5, -7.0]
    assert str(got["day"].iloc[1]) == "2025-02-28"
    assert got["mixed"].tolist() == ["12", "12a", "3"]
    assert got["whole"].tolist() == [10, 20, 30] and "int" in str(got["whole"].dtype)


# -- the query reaches nothing but the folder's files ----------------------------------------


@pytest.mark.parametrize(
    "escape",
    [
        "SELECT * FROM read_csv('{outside}')",
        "SELECT * FROM '{outside}'",
        "SELECT * FROM glob('{folder}/*')",
        "COPY (SELECT 1) TO '{folder}/written.csv'",
        "ATTACH '{folder}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT * FROM read_csv('https://example.com/x.csv')",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET lock_configuration = false",
    ],
)
def test_the_locked_connection_refuses_each_escape(escape, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    with locked_connection() as con, pytest.raises(duckdb.Error):
        con.execute(escape.format(outside=outside, folder=tmp_path)).fetchall()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.csv"]  # nothing written


def test_a_file_database_cannot_be_created_or_written(tmp_path):
    with locked_connection() as con:
        for sql in (
            f"ATTACH '{tmp_path}/new.duckdb' AS db",
            f"CREATE TABLE '{tmp_path}/new.duckdb'.t AS SELECT 1",
            f"INSERT INTO read_csv('{tmp_path}/x.csv') VALUES (1)",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql).fetchall()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT * FROM order_header; SELECT 1", "must be one SELECT query"),
        ("COPY order_header TO 'x.csv'", "must be one SELECT query, got COPY"),
        ("CREATE TABLE t AS SELECT * FROM order_header", "must be one SELECT query"),
        ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
        ("SELECT * FROM no_such_file", "no extract file named 'no_such_file'"),
        ("SELEC * FROM order_header", 'syntax error at or near "SELEC"'),
        ("SELECT nope FROM order_header", 'Referenced column "nope" not found'),
    ],
)
def test_a_query_that_cannot_run_is_one_line_naming_the_table(sql, says, erp):
    folder, _ = erp
    files = sorted(folder.iterdir())
    with pytest.raises(SqlError) as err:
        run_query("orders", sql, files, lambda p: pd.read_csv(p, dtype="str"), FormatSettings())
    assert str(err.value).startswith("kamlab.toml [mapping.orders] sql: ")
    assert says in str(err.value) and "\n" not in str(err.value)


def test_files_are_tables_under_their_names_with_or_without_extension(erp):
    folder, truth = erp
    sql = 'SELECT count(*) AS n FROM "order_lines.csv" JOIN Order_Header USING (order_no)'
    files = sorted(folder.iterdir())
    result, used = run_query("orders", sql, files, pd.read_csv, FormatSettings())
    assert result["n"].tolist() == [truth.order_lines]
    assert [p.name for p in used] == ["order_header.csv", "order_lines.csv"]


def test_a_table_is_given_a_file_or_sql_not_both():
    with pytest.raises(SettingsError, match="either a file or sql"):
        check_mapping({"orders": {"file": "a.csv", "sql": "SELECT 1"}})
    with pytest.raises(SettingsError, match="sql: expected str"):
        check_mapping({"orders": {"sql": 1}})


def test_contract_failures_of_a_query_name_its_result_rows(erp, tmp_path):
    folder, _ = erp
    toml = (
        (BYO / "erp_header_lines.toml")
        .read_text()
        .replace(
            "l.qty                                        AS quantity",
            "CASE WHEN l.order_no = 2 THEN -l.qty ELSE l.qty END AS quantity",
        )
    )
    frames, _, _ = read_extracts(folder, settings=_settings(toml, tmp_path))
    with pytest.raises(ContractError) as err:
        validate(frames, settings=_settings(toml, tmp_path))
    failures = err.value.failures
    row = failures[(failures["table"] == "orders") & (failures["column"] == "quantity")].iloc[0]
    assert row["rule"] == ">= 0" and row["count"] == 3
    assert row["lines"] == [4, 5, 6]  # result rows 4-6: order 2's three lines
    assert row["examples"][0].startswith("SQL row 4: order_id='2' line=1 quantity=-")


# -- did you mean -----------------------------------------------------------------------------


def test_a_missing_column_suggests_the_closest_header(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "order_id,line,customerID,material_id,order_date,requested_date,quantity,netvalue,"
        "currency,status\n1,1,C1,M1,2025-01-02,2025-01-09,5,10.5,EUR,open\n"
    )
    with pytest.raises(ContractError) as err:
        ingest(tmp_path, tmp_path / "kam.duckdb")
    failures = err.value.failures.set_index("column")
    assert failures.loc["customer_id", "examples"][0].startswith(
        'did you mean customerID? map it: [mapping.orders] customerID = "customer_id"'
    )
    assert failures.loc["net_value", "examples"][0].startswith("did you mean netvalue?")
    assert "did you mean customerID?" in str(err.value)


def test_closest_headers_ignore_case_and_separators_first_then_edit_distance():
    assert closest_columns("customer_id", ["Customer-ID", "customer", "cust_id"]) == ["Customer-ID"]
    assert closest_columns("customer_id", ["customer", "kunde"]) == ["customer"]
    assert closest_columns("due_date", ["order", "amount"]) == []


# -- the real command: one line, exit 2, the previous database untouched ---------------------


def _kamlab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kamlab", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def project(erp, tmp_path_factory):
    """A project with a good database ingested from the ERP example by `kamlab ingest`."""
    folder, _ = erp
    root = tmp_path_factory.mktemp("project")
    shutil.copy(BYO / "erp_header_lines.toml", root / "kamlab.toml")
    done = _kamlab("ingest", str(folder), "--database", "kam.duckdb", cwd=root)
    assert done.returncode == 0, done.stderr
    return root


_GOOD = (BYO / "erp_header_lines.toml").read_text()
_ORDERS_SQL = _GOOD.split('sql = """', 1)[1].split('"""', 1)[0]


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        (_ORDERS_SQL.replace("FROM order_header h", "FROM order_header h WHERE"), "syntax error"),
        (
            _ORDERS_SQL.replace("FROM order_header h", "FROM read_csv('{outside}') h"),
            "disabled by configuration",
        ),
        (_ORDERS_SQL.replace("FROM order_header h", "FROM '{outside}' h"), "no extract file named"),
        (f"COPY ({_ORDERS_SQL}) TO '{{outside}}.out'", "must be one SELECT query, got COPY"),
        ("CREATE TABLE t AS SELECT 1; SELECT * FROM t", "must be one SELECT query"),
        (
            _ORDERS_SQL.replace("AS customer_id", ""),
            "lacks the required column(s) customer_id; did you mean customer?",
        ),
    ],
    ids=["bad SQL", "reads outside", "reads a path", "writes", "creates", "lacks a column"],
)
def test_a_failing_query_stops_the_command_with_one_line(sql, says, project, erp, tmp_path):
    folder, _ = erp
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("order_no,customer,order_date,currency\n1,X,2025-01-01,EUR\n")
    config = tmp_path / "bad.toml"
    config.write_text(_GOOD.replace(_ORDERS_SQL, sql.format(outside=outside), 1))
    database = project / "kam.duckdb"
    before = (database.read_bytes(), database.stat().st_mtime_ns)
    argv = ["ingest", str(folder), "--database", "kam.duckdb", "--config", str(config)]
    done = _kamlab(*argv, cwd=project)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("kamlab ingest: kamlab.toml [mapping.orders] sql: "), lines[0]
    assert says in lines[0]
    assert (database.read_bytes(), database.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "elsewhere.csv"]


# -- the review month: any transactional table ----------------------------------------------


def _dataset(erp, tmp_path, *, invoices_from: str):
    """The ERP example with an AR ledger of one invoice per month from `invoices_from`."""
    from kamlab.data.store import load, write

    folder, _ = erp
    frames, _, _ = read_extracts(folder, settings=load_settings(BYO / "erp_header_lines.toml"))
    days = pd.date_range(invoices_from, periods=6, freq="MS") + pd.Timedelta(days=4)
    frames["invoices"] = pd.DataFrame(
        {
            "document_id": [f"R{i}" for i in range(6)],
            "customer_id": "C-001",
            "document_type": "invoice",
            "posting_date": days.strftime("%Y-%m-%d"),
            "due_date": (days + pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
            "amount": "100",
            "currency": "EUR",
        }
    )
    write(validate(frames, settings=load_settings(BYO / "erp_header_lines.toml")), tmp_path / "db")
    return load(tmp_path / "db")


def test_a_month_of_the_invoices_only_is_a_review_month(erp, tmp_path):
    from kamlab.chain.source import check_month, months_without_data

    ds = _dataset(erp, tmp_path, invoices_from="2027-01-01")
    month = pd.Period("2027-03", "M")
    check_month(ds, month)  # orders end 2025-06; the AR ledger covers it
    assert months_without_data(ds, month) == {
        "orders": "no orders in 2027-03: they run from 2024-01 to 2025-06"
    }
    assert months_without_data(ds, pd.Period("2025-06", "M")) == {
        "invoices": "no invoices in 2025-06: they run from 2027-01 to 2027-06"
    }


@pytest.mark.parametrize(
    ("month", "side"), [("2028-01", "after"), ("2023-05", "before"), ("2026-03", "between")]
)
def test_a_month_outside_every_table_names_each_tables_range(month, side, erp, tmp_path):
    from kamlab.chain import ChainError
    from kamlab.chain.source import check_month

    ds = _dataset(erp, tmp_path, invoices_from="2027-01-01")
    with pytest.raises(ChainError) as err:
        check_month(ds, pd.Period(month, "M"))
    assert str(err.value).startswith(f"month {month} is {side}")
    for ranges in (
        "orders run from 2024-01 to 2025-06",
        "invoices run from 2027-01 to 2027-06",
        "deliveries run from 2024-01 to 2025-07",
    ):
        assert ranges in str(err.value)


# -- one flag name for the database ---------------------------------------------------------


def test_every_command_takes_database_and_pack_still_takes_source():
    from kamlab.cli import _parser

    parser = _parser()
    commands = (["ingest", "x"], ["summary"], ["pack", "--month", "2025-06"])
    commands += (["budget", "--year", "2026"], ["meeting", "--month", "2025-06"])
    for command in commands:
        assert parser.parse_args([*command, "--database", "a.duckdb"]).database == "a.duckdb"
    old = parser.parse_args(["pack", "--month", "2025-06", "--source", "b.duckdb"])
    assert old.database == "b.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "kamlab", "pack", "--help"], capture_output=True, text=True
    )
    assert "--database DATABASE, --source DATABASE" in done.stdout


def test_parquet_and_spreadsheet_files_are_tables_with_their_own_types(erp, tmp_path):
    folder, _ = erp
    items = pd.read_csv(folder / "items.csv", dtype={"item": "str"})
    items.to_excel(tmp_path / "items.xlsx", index=False)
    pd.read_csv(folder / "categories.csv").to_parquet(tmp_path / "categories.parquet")
    sql = (
        "SELECT i.item AS material_id, i.description, c.category_name AS product_family,"
        " 'active' AS lifecycle FROM items i JOIN categories c USING (category_id)"
    )
    files = sorted(tmp_path.iterdir())
    got, used = run_query("materials", sql, files, read_file, FormatSettings())
    assert [p.name for p in used] == ["categories.parquet", "items.xlsx"]
    assert len(got) == len(items) and set(got["product_family"]) == {"Pumps", "Seals", "Valves"}
