"""The supply tables through demo, ingest and load: typed, per customer, absent = empty."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from kamlab.data.demo import generate, write_demo
from kamlab.data.ingest import ingest
from kamlab.data.store import load, summary

SMALL = {"customers": 6, "materials": 60, "months": 24, "end": "2025-06", "seed": 5}


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    folder = tmp_path_factory.mktemp("supply")
    write_demo(folder / "extracts", **SMALL)
    ingest(folder / "extracts", folder / "kam.duckdb")
    return folder / "kam.duckdb"


def test_demo_plants_every_supply_problem():
    frames = generate(**SMALL)
    plan, stock, capacity = frames["material_plan"], frames["stock"], frames["capacity"]
    as_of = pd.Timestamp("2025-06-30")
    assert (plan["end_of_life"] < as_of).sum() == 1  # one end of life already passed
    assert (
        plan["end_of_life"].notna().sum() == (frames["materials"]["lifecycle"] == "phase-out").sum()
    )
    assert stock["customer_id"].notna().sum() == 1  # one consignment line
    assert (stock["snapshot_date"] == as_of).all()
    per_month = capacity.groupby(["material_id", "period"]).agg(
        allocated=("allocated_quantity", "sum"), capacity=("capacity", "first")
    )
    assert (per_month["allocated"] > per_month["capacity"]).sum() == 1


def test_one_customers_load_has_the_stock_of_what_it_buys_and_its_own_stock(database):
    whole = load(database)
    customer = whole.stock.dropna(subset=["customer_id"])["customer_id"].iloc[0]
    mine = load(database, customers=[customer])
    bought = set(mine.orders["material_id"]) | set(mine.customer_forecasts["material_id"])
    assert len(mine.stock) > 0
    assert set(mine.stock["material_id"]) <= bought
    assert set(mine.material_plan["material_id"]) == set(mine.stock["material_id"])
    assert mine.stock["customer_id"].dropna().eq(customer).all()
    assert mine.capacity["customer_id"].eq(customer).all()
    other = next(c for c in whole.customers["customer_id"] if c != customer)
    assert load(database, customers=[other]).stock["customer_id"].isna().all()


def test_a_database_written_before_the_supply_tables_loads_them_empty(database, tmp_path):
    old = tmp_path / "old.duckdb"
    old.write_bytes(database.read_bytes())
    with duckdb.connect(str(old)) as con:
        for table in ("stock", "material_plan", "capacity"):
            con.execute(f"DROP TABLE {table}")
    dataset = load(old, customers=["0000100001"])
    assert dataset.stock.empty and list(dataset.stock.columns)[:2] == ["material_id", "plant"]
    assert dataset.capacity["period"].dtype == pd.PeriodDtype("M")
    assert "stock" not in set(summary(old).tables["table"])
