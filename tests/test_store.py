"""load() and summary(): the DuckDB store read back typed, for the customers asked for."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import small_extracts
from test_ingest import write_csvs

from kamlab.data.contract import TABLES
from kamlab.data.ingest import ingest
from kamlab.data.store import StoreError, load, summary


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("store")
    ingest(write_csvs(tmp / "x", small_extracts()), tmp / "kam.duckdb")
    return tmp / "kam.duckdb"


def test_load_returns_every_table_with_contract_columns_and_dtypes(database):
    ds = load(database)
    for name, spec in TABLES.items():
        assert list(getattr(ds, name).columns) == spec.column_names
    assert ds.orders["customer_id"].dtype == "str"
    assert ds.orders["requested_date"].dtype == "datetime64[us]"
    assert ds.customer_forecasts["period"].dtype == pd.PeriodDtype("M")
    assert ds.budget["period"].astype("str").tolist() == ["2024-02", "2024-03"]
    assert ds.deliveries["air_freight"].dtype == "bool"
    assert ds.payments["instalment"].dtype == "Int64"


def test_load_with_customers_reads_only_their_rows(database):
    ds = load(database, customers=["C2"])
    assert ds.customers["customer_id"].tolist() == ["C2"]
    assert set(ds.orders["order_id"]) == {"O2", "O3"}
    assert set(ds.deliveries["delivery_id"]) == {"D2", "D3"}  # through C2's orders
    assert ds.invoices["document_id"].tolist() == ["I2"]
    assert ds.instalments["document_id"].tolist() == ["I2", "I2"]  # through C2's invoices
    assert ds.payments["payment_id"].tolist() == ["P2"]
    assert ds.complaints.empty and len(ds.budget) == 1
    assert len(ds.materials) == 3  # materials always in full


def test_load_accepts_a_single_customer_id_string(database):
    assert load(database, customers="C1").customers["customer_id"].tolist() == ["C1"]


def test_load_of_an_unknown_customer_gives_empty_typed_tables(database):
    ds = load(database, customers=["nobody"])
    assert ds.orders.empty and ds.deliveries.empty and ds.instalments.empty
    assert ds.orders["order_date"].dtype == "datetime64[us]"


def test_load_of_a_missing_database_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="run `kamlab ingest EXTRACTS_DIR` first"):
        load(tmp_path / "none.duckdb")


def test_a_duckdb_file_without_kamlab_tables_is_refused(tmp_path):
    import duckdb

    with duckdb.connect(str(tmp_path / "other.duckdb")) as con:
        con.execute("CREATE TABLE t (x INT)")
    with pytest.raises(StoreError, match="not a kamlab database"):
        load(tmp_path / "other.duckdb")


def test_a_store_from_an_older_kamlab_names_the_missing_columns_and_exits_2(
    database, tmp_path, capsys
):
    import shutil

    import duckdb

    from kamlab.cli import main

    old = tmp_path / "old.duckdb"
    shutil.copy(database, old)
    with duckdb.connect(str(old)) as con:
        con.execute("ALTER TABLE invoices DROP COLUMN disputed")
    with pytest.raises(StoreError, match="older kamlab .table invoices lacks column.s. disputed"):
        load(old)
    assert main(["pack", "--month", "2024-03", "--source", str(old)]) == 2
    err = capsys.readouterr().err
    assert "re-ingest the extracts" in err and "Traceback" not in err


def test_summary_gives_rows_date_ranges_and_exclusions(database):
    result = summary(database)
    orders = result.tables.set_index("table").loc["orders"]
    assert orders["rows"] == 4
    assert orders["first"] == pd.Timestamp("2024-01-05")
    assert orders["last"] == pd.Timestamp("2024-04-02")
    budget = result.tables.set_index("table").loc["budget"]
    assert budget["last"] == pd.Timestamp("2024-03-01")  # months count from their first day
    text = str(result)
    assert "customer_forecasts" in text and "excluded rows:" in text


def test_load_reads_only_the_tables_and_columns_asked_for(database):
    ds = load(
        database, tables=["orders", "materials"], columns={"orders": ["quantity", "order_id"]}
    )
    assert list(ds.orders.columns) == ["order_id", "quantity"]  # contract order
    assert len(ds.orders) == len(load(database).orders)
    assert ds.invoices.empty and list(ds.invoices.columns) == TABLES["invoices"].column_names
    assert ds.invoices["posting_date"].dtype == "datetime64[us]"
    assert len(ds.materials) == 3


def test_load_window_equals_filtering_the_full_load_by_each_tables_date(database):
    from kamlab.data.store import WINDOW_COLUMNS

    full = load(database)
    since, until = pd.Timestamp("2024-02-01"), pd.Period("2024-02", "M")
    part = load(database, since=since, until=until)
    for name, column in WINDOW_COLUMNS.items():
        frame = getattr(full, name)
        day = frame[column].dt.to_timestamp() if column == "period" else frame[column]
        inside = day.isna() | ((day >= since) & (day <= pd.Timestamp("2024-02-29")))
        expected = frame[inside].reset_index(drop=True)
        pd.testing.assert_frame_equal(getattr(part, name), expected, check_index_type=False)
    assert len(part.customers) == len(full.customers)  # no window on master data


def test_load_window_per_table_and_bad_arguments_say_what_is_wrong(database):
    full = load(database)
    part = load(database, until={"invoices": "2023-12"})
    assert part.invoices.empty or (part.invoices["posting_date"] <= "2023-12-31").all()
    assert len(part.orders) == len(full.orders)
    with pytest.raises(ValueError, match="unknown table"):
        load(database, tables=["order"])
    with pytest.raises(ValueError, match="has no column"):
        load(database, columns={"orders": ["qty"]})
    with pytest.raises(ValueError, match="not a date"):
        load(database, since="soon")


def test_fingerprints_change_only_for_the_table_and_history_that_changed(tmp_path):
    from kamlab.data.dataset import Dataset
    from kamlab.data.store import fingerprints, write

    base = tmp_path / "a.duckdb"
    ingest(write_csvs(tmp_path / "x", small_extracts()), base)
    ds = load(base)
    before = fingerprints(base, until="2024-02")
    assert fingerprints(base, until="2024-02") == before  # deterministic
    # a later payment: history up to February unchanged, the whole table changed
    late = ds.payments.iloc[:1].assign(payment_id="P9", payment_date=pd.Timestamp("2024-06-01"))
    changed = tmp_path / "b.duckdb"
    write(Dataset(**{**vars(ds), "payments": pd.concat([ds.payments, late])}), changed)
    assert fingerprints(changed, until="2024-02") == before
    assert fingerprints(changed)["payments"] != fingerprints(base)["payments"]
    # an earlier order quantity corrected: only orders differ up to February
    fixed = ds.orders.copy()
    fixed.loc[fixed.index[0], "quantity"] += 1
    write(Dataset(**{**vars(ds), "orders": fixed}), changed)
    now = fingerprints(changed, until="2024-02")
    assert {t for t in now if now[t] != before[t]} == {"orders"}
