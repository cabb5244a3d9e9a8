"""The monthly chain on a small demo: settings resolved once, steps fit together, stories show.

``kamlab.chain.prepare`` on 6 customers × 60 materials × 30 months, written to CSV, ingested
into DuckDB and loaded back, with the demo's own kamlab.toml (exchange rates). The demo's
first six customers are scripted stories (kamlab/data/demo.py, _STORIES).
"""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import kamlab.chain as chain
from kamlab.config import DEFAULTS, Settings
from kamlab.data import demo, store
from kamlab.data.ingest import ingest

MONTH = "2026-10"
MULLER, HELIOS, KEYSTONE, IRONBRIDGE, ZURICH, ONEILL = (f"00001000{i:02d}" for i in range(1, 7))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chain")
    paths = demo.write_demo(tmp / "extracts", customers=6, materials=60, months=30, end=MONTH)
    settings = chain.resolve_settings(next(p for p in paths if p.name == "kamlab.toml"))
    ingest(tmp / "extracts", tmp / "kam.duckdb", settings=settings)
    ds = store.load(tmp / "kam.duckdb")
    timed = []
    analytics = chain.prepare(
        ds, MONTH, settings=settings, on_step=lambda name, s: timed.append(name)
    )
    return ds, analytics, timed


def test_the_stories_are_the_expected_customers(run):
    ds, _, _ = run
    names = ds.customers.set_index("customer_id")["name"]
    assert names[MULLER].startswith("Müller & Söhne")
    assert names[ZURICH] == "Zürcher Präzision AG"
    assert names[ONEILL].startswith("O'Neill")


def test_every_registered_step_ran_once_and_filled_its_fields(run):
    _, a, timed = run
    assert timed == [s.name for s in chain.STEPS]
    assert a.unavailable == {}
    for s in chain.STEPS:
        for name in s.fields:
            frame = getattr(a, name)
            assert isinstance(frame, pd.DataFrame) and len(frame), name
            numbers = frame.select_dtypes("number").to_numpy(dtype="float64", na_value=np.nan)
            assert not np.isinf(numbers).any(), name


def test_a_step_names_only_fields_the_analytics_have():
    with pytest.raises(TypeError, match="no field"):
        chain.step("kamlab.forecast", "no_such_field")


def test_the_over_forecaster_shows_positive_bias_and_destroys_value(run):
    _, a, _ = run
    s = a.accuracy
    bias = s[(s["metric"] == "bias") & (s["lag"] == 1)].set_index(["customer_id", "source"])[
        "value"
    ]
    assert bias[(MULLER, "customer")] > 0.2
    assert abs(bias[(MULLER, "statistical")]) < 0.1
    fva = a.value_added.query("lag == 1").set_index("customer_id")
    assert fva.loc[MULLER, "fva_customer_vs_naive"] < 0
    league = a.league
    assert league["customer_id"].iloc[-1] == MULLER and not league["adds_value"].iloc[-1]
    alerts = a.bias
    assert (alerts.loc[alerts["customer_id"] == MULLER, "direction"] == "over-forecast").any()


def test_the_worsening_chf_payer_pays_late_and_is_over_its_limit(run):
    _, a, _ = run
    dso = a.dso[a.dso["customer_id"] == ZURICH].sort_values("month_end")
    assert set(dso["currency"]) == {"CHF"}
    assert dso["dso_countback"].tail(3).mean() > dso["dso_countback"].head(3).mean() + 15
    credit = a.credit.set_index("customer_id")
    assert credit.loc[ZURICH, "status"] == "over limit"
    assert credit.loc[ZURICH, "currency"] == "CHF"


def test_the_poor_service_account_has_the_worst_otif_and_most_air_freight(run):
    _, a, _ = run
    otif = a.service_year.set_index("customer_id")["otif"]
    assert otif.idxmin() == ONEILL
    air = a.air_freight.set_index("customer_id")["air_freight_share"]
    assert air.idxmax() == ONEILL


def test_growing_and_declining_customers_show_in_plan_vs_actual_and_the_matrix(run):
    _, a, _ = run
    plan = a.plan
    revenue = plan[plan["measure"] == "revenue"].set_index("customer_id")
    assert revenue.loc[KEYSTONE, "ytd_growth"] > 0.2
    assert revenue.loc[IRONBRIDGE, "ytd_growth"] < -0.15
    matrix = a.matrix.set_index("customer_id")
    assert matrix["growth_scaled"].idxmax() == KEYSTONE
    assert matrix["growth_scaled"].idxmin() == IRONBRIDGE


def test_amounts_stay_in_the_customers_own_currency(run):
    ds, a, _ = run
    own = ds.customers.set_index("customer_id")["currency"]
    for name in ("dso", "days_to_pay", "air_freight", "credit"):
        frame = getattr(a, name)
        assert (frame["currency"].to_numpy() == own[frame["customer_id"]].to_numpy()).all(), name


def test_the_classes_rank_in_the_reporting_currency_once_rates_are_set(run):
    _, a, _ = run
    now = a.classes[a.classes["when"] == "now"]
    assert set(now["currency"]) == {a.settings.scorecard.reporting_currency}
    assert now["share"].sum() == pytest.approx(1.0)


# --- settings resolved once ---------------------------------------------------------------


def test_settings_come_from_the_config_else_the_working_directory_else_defaults(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert chain.resolve_settings() is DEFAULTS
    (tmp_path / "kamlab.toml").write_text("[scorecard]\noverdue_share_red = 0.3\n")
    assert chain.resolve_settings().scorecard.overdue_share_red == 0.3
    other = tmp_path / "other.toml"
    other.write_text("[scorecard]\noverdue_share_red = 0.4\n")
    assert chain.resolve_settings(other).scorecard.overdue_share_red == 0.4
    given = Settings()
    assert chain.resolve_settings(given) is given


def test_resolved_settings_written_for_kernels_read_back_equal(tmp_path):
    changed = dataclasses.replace(
        DEFAULTS,
        receivables=dataclasses.replace(DEFAULTS.receivables, bucket_edges=(0, 15, 45)),
        scorecard=dataclasses.replace(DEFAULTS.scorecard, fx_rates={"EUR": 1.0, "USD": 0.9}),
        mapping={"orders": {"VBELN": "order_id"}},
    )
    path = chain.write_settings(changed, tmp_path)
    assert path.suffix == ".json" and json.loads(path.read_text())["pack"]["workers"] == 2
    back = chain.resolve_settings(path)
    assert back == changed and repr(back) == repr(changed)  # same cache key in every kernel
    assert chain.write_settings(back, tmp_path) == path


def test_a_kamlab_toml_in_the_working_directory_reaches_every_page_and_runs_once(
    tmp_path, monkeypatch
):
    """Issue 13.1: kernels start in reports/YYYY-MM/, yet use ./kamlab.toml of the pack."""
    from pack_support import MONTH as PACK_MONTH
    from pack_support import build_demo_database

    from kamlab.cli import main

    database = build_demo_database(tmp_path / "data")
    rates = (tmp_path / "data" / "extracts" / "kamlab.toml").read_text()
    assert "fx_rates" in rates  # the demo's three customers bill in EUR and USD
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.delenv(chain.CACHE_ENV, raising=False)
    customer = chain.load_analytics(database, PACK_MONTH, cache_dir=None).customer_ids()[0]
    argv = ["pack", "--month", PACK_MONTH, "--customers", customer, "--workers", "1"]
    argv += ["--source", str(database), "--reports", "reports"]
    assert main(argv) == 0
    pages = sorted((project / "reports" / PACK_MONTH).rglob("*.html"))
    assert len(pages) == 3  # index, portfolio, one scorecard
    unset = [p.name for p in pages if "fx_rates" in p.read_text()]
    assert unset, "without rates the pages ask for [scorecard] fx_rates"

    (project / "kamlab.toml").write_text(rates)
    assert main(argv) == 0
    unset = [p.name for p in pages if "fx_rates" in p.read_text()]
    assert unset == []
    entries = sorted(p.name for p in (project / ".kamlab-cache").glob("analytics-*"))
    assert len(entries) == 2  # one per settings (without, then with rates), none per kernel
    key = chain.analytics_key(database, PACK_MONTH, chain.resolve_settings())
    assert any(key in name for name in entries)
