"""The whole monthly analytics chain on a small demo: results fit together and tell its stories.

Runs benchmarks/chain.py's ``run_chain`` (the reference of how the modules fit together) on
6 customers × 60 materials × 30 months, written to CSV, ingested into DuckDB and loaded back.
The demo's first six customers are scripted stories (kamlab/data/demo.py, _STORIES).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kamlab.data import demo, store
from kamlab.data.ingest import ingest

MONTH = "2026-10"
MULLER, HELIOS, KEYSTONE, IRONBRIDGE, ZURICH, ONEILL = (f"00001000{i:02d}" for i in range(1, 7))


def _chain_module():
    path = Path(__file__).parents[1] / "benchmarks" / "chain.py"
    spec = importlib.util.spec_from_file_location("kamlab_chain_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chain")
    extracts = tmp / "extracts"
    demo.write_demo(extracts, customers=6, materials=60, months=30, end=MONTH, seed=0)
    ingest(extracts, tmp / "kam.duckdb")
    ds = store.load(tmp / "kam.duckdb")
    chain = _chain_module()
    timer = chain.Timer()
    results = chain.run_chain(ds, MONTH, timer=timer)
    return ds, results, timer


def test_the_stories_are_the_expected_customers(run):
    ds, _, _ = run
    names = ds.customers.set_index("customer_id")["name"]
    assert names[MULLER].startswith("Müller & Söhne")
    assert names[ZURICH] == "Zürcher Präzision AG"
    assert names[ONEILL].startswith("O'Neill")


def test_every_step_ran_and_no_result_holds_an_infinity(run):
    _, results, timer = run
    assert len(timer.table) == len(results) >= 35
    for step, result in results.items():
        if isinstance(result, pd.DataFrame):
            numbers = result.select_dtypes("number").to_numpy(dtype="float64", na_value=np.nan)
            assert not np.isinf(numbers).any(), step


def test_naive_made_on_the_customers_snapshot_dates_is_never_superseded(run):
    _, results, _ = run
    excluded = results["score"].attrs["excluded"]
    naive = excluded[excluded["source"] == "naive"]
    assert "earlier snapshot of the same month superseded" not in set(naive["reason"])
    scored = results["score"]
    assert {"customer", "statistical", "naive"} <= set(scored["source"])


def test_the_over_forecaster_shows_positive_bias_and_destroys_value(run):
    _, results, _ = run
    s = results["score"]
    bias = s[(s["metric"] == "bias") & (s["pooling"] == "volume") & (s["lag"] == 1)].set_index(
        ["customer_id", "source"]
    )["value"]
    assert bias[(MULLER, "customer")] > 0.2
    assert abs(bias[(MULLER, "statistical")]) < 0.1
    fva = results["value_added"].query("lag == 1").set_index("customer_id")
    assert fva.loc[MULLER, "fva_customer_vs_statistical"] < 0  # its forecast is worse than ours
    assert fva.loc[MULLER, "fva_customer_vs_naive"] < 0
    league = results["fva_league"]
    assert league["customer_id"].iloc[-1] == MULLER and not league["adds_value"].iloc[-1]
    alerts = results["bias_alerts"]
    assert (alerts.loc[alerts["customer_id"] == MULLER, "direction"] == "over-forecast").any()


def test_the_worsening_chf_payer_pays_ever_later_and_is_over_its_limit(run):
    _, results, _ = run
    monthly = results["days_to_pay monthly"]
    z = monthly[monthly["customer_id"] == ZURICH].sort_values("period")
    assert set(z["currency"]) == {"CHF"}
    assert z["days_beyond_terms"].tail(3).mean() > z["days_beyond_terms"].head(3).mean() + 15
    credit = results["credit_utilisation"].set_index("customer_id")
    assert credit.loc[ZURICH, "status"] == "over limit"
    assert credit.loc[ZURICH, "currency"] == "CHF"


def test_the_poor_service_account_misses_its_otif_target_by_most(run):
    _, results, _ = run
    sla = results["sla_adherence"].set_index("customer_id")
    assert sla.loc[ONEILL, "status"] == "missed"
    assert sla["gap"].idxmin() == ONEILL and sla.loc[ONEILL, "gap"] < -0.2
    air = results["air_freight"].set_index("customer_id")["air_freight_share"]
    assert air.idxmax() == ONEILL


def test_days_late_are_plausible_for_closed_lines(run):
    _, results, _ = run
    lines = results["delivery_performance"]
    assert lines["days_late"].max() < 120  # late ≤ 40 days, splits ≤ 24 days later


def test_growing_and_declining_customers_show_in_plan_vs_actual_and_the_matrix(run):
    _, results, _ = run
    plan = results["plan_vs_actual"]
    revenue = plan[plan["measure"] == "revenue"].set_index("customer_id")
    assert revenue.loc[KEYSTONE, "ytd_growth"] > 0.2
    assert revenue.loc[IRONBRIDGE, "ytd_growth"] < -0.15
    matrix = results["key_account_matrix"].set_index("customer_id")
    assert matrix["growth_scaled"].idxmax() == KEYSTONE
    assert matrix["growth_scaled"].idxmin() == IRONBRIDGE
    moves = results["migration"]
    assert set(moves["customer_id"]) == set(matrix.index)
    assert moves[["before", "after"]].notna().all().all()


def test_criteria_are_complete_once_currencies_are_converted(run):
    _, results, _ = run
    criteria = results["account_criteria"]
    assert (
        criteria[["revenue", "growth", "margin", "payment_behaviour", "otif"]].notna().all().all()
    )
    assert criteria["margin"].between(0, 1).all()


def test_amounts_stay_in_the_customers_own_currency(run):
    ds, results, _ = run
    own = ds.customers.set_index("customer_id")["currency"]
    for step in ("ageing_summary", "dso", "days_to_pay", "air_freight", "price_volume_mix"):
        frame = results[step]
        assert (frame["currency"].to_numpy() == own[frame["customer_id"]].to_numpy()).all(), step
    totals = results["provision_matrix"].total
    assert totals["currency"].is_unique


def test_missing_relative_bias_always_comes_with_a_note(run):
    _, results, _ = run
    alerts = results["bias_alerts"]
    assert alerts.loc[alerts["bias"].isna(), "note"].notna().all()


def test_the_provision_is_a_number_in_every_currency(run):
    _, results, _ = run
    assert results["provision_matrix"].total["provision"].notna().all()
