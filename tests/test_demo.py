"""The demo data: deterministic, conforming to the contract, and telling the intended stories."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kamlab.classify.pattern import demand_pattern
from kamlab.config import load_settings
from kamlab.data.contract import TABLES
from kamlab.data.demo import generate, write_demo
from kamlab.data.ingest import ingest
from kamlab.data.store import load
from kamlab.data.validate import validate
from kamlab.demand import monthly_demand

SMALL = {"customers": 8, "materials": 40, "months": 24, "end": "2025-06", "seed": 3}
AS_OF = pd.Timestamp("2025-06-30")

_DTYPES = {
    "string": lambda s: s.dtype == "str",
    "date": lambda s: s.dtype == "datetime64[us]",
    "period": lambda s: s.dtype == pd.PeriodDtype("M"),
    "int": lambda s: s.dtype in ("int64", "Int64"),
    "float": lambda s: s.dtype == "float64",
    "bool": lambda s: s.dtype in ("bool", "boolean"),  # boolean: a nullable flag
}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return generate(**SMALL)


@pytest.fixture(scope="module")
def default() -> dict[str, pd.DataFrame]:
    return generate(end="2025-06")


def _contract_failures(frames: dict[str, pd.DataFrame]) -> list[str]:
    """Every broken contract rule, as 'table.column: rule' strings (empty = conforming)."""
    bad = []
    for name, table in TABLES.items():
        df = frames[name]
        if list(df.columns) != table.column_names:
            bad.append(f"{name}: columns {list(df.columns)}")
            continue
        for col in table.columns:
            s = df[col.name]
            where = f"{name}.{col.name}"
            if not _DTYPES[col.dtype](s):
                bad.append(f"{where}: dtype {s.dtype}")
            if not col.nullable and s.isna().any():
                bad.append(f"{where}: {int(s.isna().sum())} empty")
            v = s.dropna()
            if col.ge is not None and (v < col.ge).any():
                bad.append(f"{where}: < {col.ge}")
            if col.gt is not None and (v <= col.gt).any():
                bad.append(f"{where}: <= {col.gt}")
            if col.le is not None and (v > col.le).any():
                bad.append(f"{where}: > {col.le}")
            if col.isin is not None and not v.isin(col.isin).all():
                bad.append(f"{where}: not in {col.isin}")
            if col.pattern is not None and not v.str.fullmatch(col.pattern).all():
                bad.append(f"{where}: not matching {col.pattern}")
        if df.duplicated(list(table.key)).any():
            bad.append(f"{name}: duplicate key {table.key}")
        for fk in table.foreign_keys:
            ref = frames[fk.ref_table]
            if fk.ref_filter:
                ref = ref[ref[fk.ref_filter[0]] == fk.ref_filter[1]]
            child = df.dropna(subset=list(fk.columns))
            ref = ref[[*fk.ref_columns, *fk.same]].rename(
                columns={r: c for r, c in zip(fk.ref_columns, fk.columns, strict=True)}
            )
            merged = child[[*fk.columns, *fk.same]].merge(
                ref, on=list(fk.columns), how="left", suffixes=("", "_ref"), indicator=True
            )
            if (merged["_merge"] != "both").any():
                bad.append(f"{name}: {fk.columns} not found in {fk.ref_table}")
            for col in fk.same:
                if (merged[col] != merged[f"{col}_ref"]).any():
                    bad.append(f"{name}: {col} differs from {fk.ref_table}")
        for rule in table.row_rules:
            left, right = df[rule.left], df[rule.right]
            if isinstance(left.dtype, pd.PeriodDtype):
                right = right.dt.to_period("M")
            ok = left.isna() | right.isna() | (left >= right)
            if not ok.all():
                bad.append(f"{name}: {rule.name}")
    inst = frames["instalments"].groupby("document_id")["amount"].sum()
    invoices = frames["invoices"].set_index("document_id")["amount"]
    if not np.allclose(inst, invoices.loc[inst.index], atol=0.005, rtol=0):
        bad.append("instalments: do not add up to the invoice amount")
    return bad


def test_the_same_seed_gives_identical_frames_and_another_seed_different_ones(frames):
    again = generate(**SMALL)
    assert list(again) == list(TABLES)
    for name in TABLES:
        pd.testing.assert_frame_equal(frames[name], again[name])
    other = generate(**{**SMALL, "seed": 4})
    assert not other["orders"]["quantity"].equals(frames["orders"]["quantity"])


def test_every_table_conforms_to_the_contract(frames):
    assert _contract_failures(frames) == []


def test_the_validator_accepts_the_demo_data_and_leaves_it_unchanged(frames, default):
    for tables in (frames, default):
        dataset = validate(tables)
        for name, frame in tables.items():
            pd.testing.assert_frame_equal(getattr(dataset, name), frame)


def test_the_contract_check_catches_a_broken_frame(frames):
    broken = dict(frames)
    broken["payments"] = frames["payments"].assign(currency="XXX")
    broken["invoices"] = frames["invoices"].assign(
        due_date=frames["invoices"]["posting_date"] - pd.Timedelta(days=1)
    )
    failures = _contract_failures(broken)
    assert "payments: currency differs from invoices" in failures
    assert "invoices: due date not before posting date" in failures


def test_default_size_conforms_and_tells_the_scripted_stories(default):
    frames = default
    assert _contract_failures(frames) == []
    customers = frames["customers"]
    assert len(customers) == 40 and len(frames["materials"]) == 400
    assert customers["currency"].value_counts().idxmax() == "EUR"
    assert set(customers["currency"]) == {"EUR", "USD", "GBP", "CHF"}
    assert 4 <= customers["account_manager"].nunique() <= 6
    assert set(customers["payment_terms_days"]) == {30, 60, 90}
    awkward = customers["name"].iloc[0]
    assert all(ch in awkward for ch in '"/&{}ü')
    assert set(frames["materials"]["lifecycle"]) == {"active", "phase-in", "phase-out"}


def test_nothing_happens_after_the_extract_date(frames):
    checks = {
        "orders": "order_date",
        "deliveries": "delivered_date",
        "invoices": "posting_date",
        "payments": "payment_date",
        "complaints": "opened_date",
        "customer_forecasts": "snapshot_date",
    }
    for table, column in checks.items():
        assert frames[table][column].max() <= AS_OF, table
    assert frames["payments"]["allocation_date"].max() <= AS_OF
    assert frames["complaints"]["closed_date"].max() <= AS_OF


def test_order_lines_and_deliveries_agree(frames):
    orders, deliveries = frames["orders"], frames["deliveries"]
    per_line = deliveries.groupby(["order_id", "line"])["delivered_quantity"].agg(["sum", "size"])
    merged = orders.merge(per_line, left_on=["order_id", "line"], right_index=True, how="left")
    assert merged.loc[merged["status"] == "cancelled", "size"].isna().all()
    delivered = merged[merged["status"] == "delivered"]
    assert delivered["size"].notna().all()
    assert (delivered["sum"] <= delivered["quantity"]).all()
    assert (delivered["sum"] < delivered["quantity"]).any(), "no short deliveries"
    assert (per_line["size"] == 2).any(), "no split deliveries"
    assert (orders["status"] == "open").any()
    assert 0.005 < (orders["status"] == "cancelled").mean() < 0.05
    assert (orders["requested_date"] > AS_OF).any(), "no open orders for future months"
    assert (orders["confirmed_date"] > orders["requested_date"]).any()


def test_invoices_follow_deliveries_and_payment_terms(frames):
    invoices = frames["invoices"]
    inv = invoices[invoices["document_type"] == "invoice"]
    terms = inv.merge(frames["customers"], on="customer_id")
    plain = ~terms["document_id"].isin(frames["instalments"]["document_id"])
    days = (terms["due_date"] - terms["posting_date"]).dt.days
    assert (days[plain] == terms.loc[plain, "payment_terms_days"]).all()
    value = frames["orders"][["order_id", "line", "net_value", "quantity"]]
    lines = frames["deliveries"].merge(value, on=["order_id", "line"])
    billed = (lines["delivered_quantity"] * lines["net_value"] / lines["quantity"]).sum()
    by_currency = inv["amount"].sum()
    assert by_currency == pytest.approx(billed, rel=0.01)


def test_receivables_show_overdue_partial_and_on_account_items(default):
    frames = default
    invoices, payments = frames["invoices"], frames["payments"]
    inv = invoices[invoices["document_type"] == "invoice"].set_index("document_id")
    credit = invoices[invoices["document_type"] == "credit_note"]
    paid = payments.groupby("allocated_document")["amount"].sum()
    credited = credit.groupby("reference_document")["amount"].sum()
    open_amount = inv["amount"] - paid.reindex(inv.index, fill_value=0)
    open_amount -= credited.reindex(inv.index, fill_value=0)
    assert (open_amount > -0.005).all(), "an invoice is cleared by more than its amount"
    overdue = (open_amount > 0.005) & (inv["due_date"] < AS_OF)
    assert overdue.sum() >= 10
    assert (overdue & (inv["due_date"] < AS_OF - pd.Timedelta(days=120))).any()
    assert payments["allocated_document"].isna().any(), "no payment on account"
    assert credit["reference_document"].isna().any(), "no credit note on account"
    assert credit["reference_document"].notna().any()
    assert (payments["allocation_date"] > payments["payment_date"]).any()
    assert payments["payment_id"].duplicated().any(), "no payment clearing several invoices"
    partial = payments.groupby("allocated_document").size()
    assert (partial.drop(frames["instalments"]["document_id"], errors="ignore") > 1).any()
    assert len(frames["instalments"]) > 0
    assert frames["customers"]["credit_limit"].isna().sum() == 1


def test_slow_payers_pay_later_and_one_gets_worse(default):
    frames = default
    inv = frames["invoices"].query("document_type == 'invoice'")[
        ["document_id", "customer_id", "due_date"]
    ]
    pay = frames["payments"].merge(
        inv, left_on="allocated_document", right_on="document_id", suffixes=("", "_inv")
    )
    pay = pay[pay["instalment"].isna()]
    late = (pay["payment_date"] - pay["due_date"]).dt.days
    by_customer = late.groupby(pay["customer_id"]).median()
    assert by_customer.max() >= 20 and (by_customer <= 3).sum() >= 20
    worse = pay["customer_id"] == frames["customers"]["customer_id"].iloc[4]
    recent = pay["payment_date"] > AS_OF - pd.Timedelta(days=120)
    assert late[worse & recent].median() > late[worse & ~recent].median() + 15


def test_demand_has_abc_skew_and_an_intermittent_tail(default):
    orders = default["orders"]
    revenue = orders.groupby("material_id")["net_value"].sum().sort_values(ascending=False)
    share = revenue.cumsum() / revenue.sum()
    assert (share <= 0.8).mean() < 0.35  # A materials: a minority make 80 % of revenue
    pattern = demand_pattern(monthly_demand(orders, end="2025-06"))["pattern"]
    counts = pattern.value_counts(normalize=True)
    assert counts.get("smooth", 0) > 0.25
    assert counts.get("intermittent", 0) + counts.get("lumpy", 0) > 0.2


def test_late_deliveries_rates_differ_by_customer_and_air_freight_follows_lateness(frames):
    lines = frames["deliveries"].merge(
        frames["orders"][["order_id", "line", "customer_id", "requested_date"]],
        on=["order_id", "line"],
    )
    late = lines["delivered_date"] > lines["requested_date"]
    assert 0.02 < late.mean() < 0.3
    rates = late.groupby(lines["customer_id"]).mean()
    assert rates.max() - rates.min() > 0.05
    assert lines.loc[late, "air_freight"].mean() > 3 * lines.loc[~late, "air_freight"].mean()


def test_customer_forecast_bias_differs_by_customer(default):
    frames = default
    fc = frames["customer_forecasts"]
    lags = (fc["period"] - fc["snapshot_date"].dt.to_period("M")).map(lambda x: x.n)
    assert set(lags) == set(range(7))
    actual = monthly_demand(frames["orders"], end="2025-06")
    lag3 = fc[lags == 3].merge(
        actual, on=["customer_id", "material_id", "period"], suffixes=("", "_actual")
    )
    total = lag3.groupby("customer_id")[["quantity", "quantity_actual"]].sum()
    bias = total["quantity"] / total["quantity_actual"] - 1
    ids = frames["customers"]["customer_id"]
    assert bias[ids.iloc[0]] > 0.15  # the scripted over-forecaster
    assert abs(bias[ids.iloc[1]]) < 0.1  # the scripted accurate one
    assert bias[ids.iloc[6]] < -0.05  # the scripted under-forecaster
    pairs = fc[["customer_id", "material_id"]].drop_duplicates()
    bought = frames["orders"][["customer_id", "material_id"]].drop_duplicates()
    new = frames["materials"].query("lifecycle == 'phase-in'")["material_id"]
    unknown = pairs.merge(bought, how="left", indicator=True).query("_merge == 'left_only'")
    assert unknown["material_id"].isin(new).all()


def test_budget_covers_last_and_current_year_per_product_family(frames):
    budget = frames["budget"]
    years = budget["period"].dt.year
    assert set(years) == {2024, 2025}
    assert budget.groupby(["customer_id", "product_family"]).size().eq(24).all()
    merged = budget.merge(frames["customers"][["customer_id", "currency"]], on="customer_id")
    assert (merged["currency_x"] == merged["currency_y"]).all()


def test_complaints_reject_part_of_a_delivery_and_some_stay_open(default):
    complaints = default["complaints"]
    assert complaints["closed_date"].isna().any()
    assert (complaints["rejected_quantity"] > 0).mean() > 0.5


def test_write_demo_writes_one_file_per_table_with_iso_dates_and_months(tmp_path):
    paths = write_demo(tmp_path, **SMALL)
    assert [p.name for p in paths] == [*(f"{t}.csv" for t in TABLES), "kamlab.toml"]
    rates = load_settings(paths[-1]).scorecard.fx_rates
    assert rates["EUR"] == 1.0 and rates["USD"] == pytest.approx(1 / 1.08, rel=1e-6)
    head = (tmp_path / "customer_forecasts.csv").read_text(encoding="utf-8").splitlines()
    assert head[0] == "customer_id,material_id,snapshot_date,period,quantity"
    assert re.fullmatch(r"\d{10},M\d{6},\d{4}-\d\d-\d\d,\d{4}-\d\d,[0-9.]+", head[1])
    back = pd.read_csv(tmp_path / "customers.csv", dtype=str, keep_default_na=False)
    assert back["customer_id"].tolist() == generate(**SMALL)["customers"]["customer_id"].tolist()
    parquet = write_demo(tmp_path / "pq", fmt="parquet", **SMALL)
    budget = pd.read_parquet(next(p for p in parquet if p.name == "budget.parquet"))
    assert budget["period"].str.fullmatch(r"\d{4}-\d\d").all()


def test_bad_sizes_and_formats_are_refused(tmp_path):
    with pytest.raises(ValueError, match="customers, materials and months"):
        generate(customers=0)
    with pytest.raises(ValueError, match="fmt must be"):
        write_demo(tmp_path, fmt="xlsx")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_demo_ingests_and_loads_back_equal_to_the_generated_frames(tmp_path, fmt):
    write_demo(tmp_path / "extracts", fmt=fmt, **SMALL)
    ingest(tmp_path / "extracts", tmp_path / "kam.duckdb")
    dataset = load(tmp_path / "kam.duckdb")
    for name, frame in generate(**SMALL).items():
        key = list(TABLES[name].key)
        got = getattr(dataset, name).sort_values(key, ignore_index=True)
        pd.testing.assert_frame_equal(got, frame.sort_values(key, ignore_index=True))


@pytest.mark.parametrize(
    "size",
    [
        {"customers": 1, "materials": 1, "months": 1},
        {"customers": 3, "materials": 2, "months": 13},
        {"customers": 12, "materials": 30, "months": 1},
    ],
)
def test_tiny_sizes_and_a_single_customer_still_give_valid_tables(size):
    frames = generate(end="2025-01", **size)
    assert _contract_failures(frames) == []
    validate(frames)
    assert len(frames["customers"]) == size["customers"]


def test_end_defaults_to_the_month_before_today():
    budget = generate(customers=1, materials=1, months=1)["budget"]
    last_month = pd.Timestamp.today().to_period("M") - 1
    assert budget["period"].max() == pd.Period(f"{last_month.year}-12", "M")


def test_customers_forecast_well_badly_late_or_noisily_as_the_recipe_says(default):
    """#20 Deliver 10: the behaviours of demo.py's _FORECASTERS show in the forecast errors
    one month ahead (WAPE of the customer's forecast against its orders)."""
    from kamlab.data import demo

    sim = demo._Simulation(
        np.random.default_rng(0), 40, 400, 36, pd.Period("2025-06", "M"),
        fc_rng=np.random.default_rng([0, 21]),
    )  # fmt: skip
    sim._customers()
    names = np.array([f[0] for f in demo._FORECASTERS])
    kind = pd.Series(names[sim.fc_kind], index=default["customers"]["customer_id"].to_numpy())
    assert kind.iloc[[0, 1, 2, 6]].tolist() == ["over", "good", "late", "under"]  # the stories
    assert set(kind) == set(names)
    fc = default["customer_forecasts"]
    lag = (fc["period"] - fc["snapshot_date"].dt.to_period("M")).map(lambda x: x.n)
    actual = monthly_demand(default["orders"], end="2025-06")
    lag1 = fc[lag == 1].merge(
        actual, on=["customer_id", "material_id", "period"], suffixes=("", "_actual")
    )
    err = (lag1["quantity"] - lag1["quantity_actual"]).abs()
    per = lag1.assign(err=err).groupby("customer_id")[["err", "quantity_actual", "quantity"]].sum()
    wape = (per["err"] / per["quantity_actual"]).groupby(kind).median()
    bias = (per["quantity"] / per["quantity_actual"] - 1).groupby(kind).median()
    assert wape["good"] < wape["late"] < wape["noise"]
    assert wape["good"] < wape["over"]
    assert bias["over"] > 0.1 and bias["under"] < -0.05
    # the growing customer that forecasts its recent orders stays below them
    keystone = per.loc[kind.index[2]]
    assert keystone["quantity"] < keystone["quantity_actual"]
