"""The monthly chain on a small demo: settings resolved once, steps fit together, stories show.

``kamlab.chain.prepare`` on 6 customers × 60 materials × 30 months, written to CSV, ingested
into DuckDB and loaded back, with the demo's own kamlab.toml (exchange rates). The demo's
first six customers are scripted stories (kamlab/data/demo.py, _STORIES).
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

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


# columns where infinity is a stated value: stock no forecast will use up, an allocation
# without forecast demand (kamlab.inventory)
_STATED_INF = ["coverage_statistical", "coverage_customer", "ratio"]


def test_every_registered_step_ran_once_and_filled_its_fields(run):
    _, a, timed = run
    assert timed == [s.name for s in chain.STEPS]
    assert a.unavailable == {}
    for s in chain.STEPS:
        for name in s.fields:
            frame = getattr(a, name)
            assert isinstance(frame, pd.DataFrame) and len(frame), name
            numbers = frame.select_dtypes("number").drop(columns=_STATED_INF, errors="ignore")
            numbers = numbers.to_numpy(dtype="float64", na_value=np.nan)
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


# --- the cache ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 3-customer demo database, its analytics cached once in a folder of its own."""
    from pack_support import MONTH as PACK_MONTH
    from pack_support import build_demo_database

    tmp = tmp_path_factory.mktemp("small")
    database = build_demo_database(tmp)
    cache = tmp / "cache"
    analytics = chain.load_analytics(database, PACK_MONTH, cache_dir=cache)
    return database, PACK_MONTH, cache, analytics


def _entries(cache):
    return sorted(cache.glob("analytics-*"))


def _from_disk(database, month, cache, **kwargs):
    chain.cache._MEMORY.clear()  # as a new process would: only the disk cache is left
    return chain.load_analytics(database, month, cache_dir=cache, **kwargs)


def test_a_cache_entry_is_parquet_and_json_and_reads_back_equal(small):
    database, month, cache, analytics = small
    (entry,) = _entries(cache)
    assert {p.suffix for p in entry.iterdir()} == {".parquet", ".json"}  # nothing executable
    again = _from_disk(database, month, cache)
    assert again is not analytics
    for f in dataclasses.fields(analytics):
        mine, theirs = getattr(analytics, f.name), getattr(again, f.name)
        if isinstance(mine, pd.DataFrame):
            pd.testing.assert_frame_equal(theirs, mine, obj=f.name)
        else:
            assert theirs == mine, f.name


@pytest.mark.parametrize("damage", ["truncated parquet", "truncated meta", "missing frame"])
def test_a_damaged_cache_entry_is_a_miss_recomputed_with_a_warning(small, damage):
    database, month, cache, analytics = small
    (entry,) = _entries(cache)
    if damage == "truncated parquet":
        victim = entry / "demand.parquet"
        victim.write_bytes(victim.read_bytes()[:100])
    elif damage == "truncated meta":
        victim = entry / "meta.json"
        victim.write_bytes(victim.read_bytes()[:50])
    else:
        (entry / "forecast.parquet").unlink()
    with pytest.warns(chain.CacheWarning, match="unreadable"):
        again = _from_disk(database, month, cache)
    pd.testing.assert_frame_equal(again.demand, analytics.demand)
    assert _entries(cache) == [entry]  # rewritten, whole
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _from_disk(database, month, cache)


def test_the_key_changes_with_data_analytics_settings_month_and_code_only(small):
    database, month, _, analytics = small
    key = chain.analytics_key(database, month, analytics.settings)
    other_workers = dataclasses.replace(
        analytics.settings, pack=dataclasses.replace(analytics.settings.pack, workers=7)
    )
    assert chain.analytics_key(database, month, other_workers) == key
    other_edges = dataclasses.replace(
        analytics.settings,
        receivables=dataclasses.replace(analytics.settings.receivables, bucket_edges=(0, 45)),
    )
    assert chain.analytics_key(database, month, other_edges) != key
    assert chain.analytics_key(database, "2025-05", analytics.settings) != key
    assert chain.analytics_key(database, month, analytics.settings, code="other") != key


def test_a_change_to_an_analytics_module_changes_the_key(small, tmp_path):
    """The code version is read from the installed source: a new process sees the change."""
    database, month, _, _ = small
    package = Path(chain.__file__).parents[1]
    copy = tmp_path / "kamlab"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "notebooks"))
    script = (
        "import kamlab.chain as c\n"
        f"print(c.analytics_key({str(database)!r}, {month!r}, c.resolve_settings()))\n"
    )

    def key_in_new_process():
        out = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    before = key_in_new_process()
    assert before == chain.analytics_key(database, month, DEFAULTS)
    with (copy / "receivables" / "provision.py").open("a") as fh:
        fh.write("\n# a changed rule\n")
    assert key_in_new_process() != before
    (copy / "scorecard" / "card.py").write_text(
        (copy / "scorecard" / "card.py").read_text() + "\n# presentation only\n"
    )
    with (copy / "receivables" / "provision.py").open("a") as fh:
        fh.truncate(fh.tell() - len("\n# a changed rule\n"))
    assert key_in_new_process() == before  # presentation code does not invalidate analytics


def test_the_cache_keeps_to_its_size_and_age_limits(small, tmp_path):
    database, month, _, analytics = small
    cache = tmp_path / "cache"
    tight = dataclasses.replace(
        analytics.settings, cache=dataclasses.replace(analytics.settings.cache, max_megabytes=0)
    )
    chain.load_analytics(database, month, settings=tight, cache_dir=cache)
    first = _entries(cache)
    chain.load_analytics(database, "2025-05", settings=tight, cache_dir=cache)
    second = _entries(cache)
    assert len(first) == len(second) == 1 and first != second  # only the newest is kept
    old = cache / "analytics-0123456789abcdef01234567"
    shutil.copytree(second[0], old)
    stale_tmp = cache / ".tmp-analytics-x-1-dead"
    stale_tmp.mkdir()
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(stale_tmp, (month_ago, month_ago))
    chain.load_analytics(database, "2025-04", cache_dir=cache)  # default limits: 2 GB, 30 days
    names = {p.name for p in cache.iterdir()}
    assert old.name not in names and stale_tmp.name not in names
    assert second[0].name in names and len(_entries(cache)) == 2


# --- the review month and missing forecasts -----------------------------------------------


@pytest.mark.parametrize(("month", "side"), [("2031-01", "after"), ("2020-01", "before")])
def test_a_month_outside_the_data_is_refused_in_one_line_with_exit_code_2(
    small, month, side, capsys
):
    from kamlab.cli import main

    database, _, cache, _ = small
    with pytest.raises(chain.ChainError, match=f"month {month} is {side} the data: orders run"):
        chain.load_analytics(database, month, cache_dir=None)
    argv = ["pack", "--month", month, "--source", str(database), "--workers", "1"]
    assert main([*argv, "--reports", str(cache.parent / "reports")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"is {side} the data" in err and "Traceback" not in err


def test_without_customer_forecasts_the_chain_says_so_and_the_scorecard_renders(small):
    import kamlab.scorecard as sc

    database, month, _, _ = small
    ds = chain.load_dataset(database)
    ds = dataclasses.replace(ds, customer_forecasts=ds.customer_forecasts.iloc[:0])
    a = chain.prepare(ds, month)
    assert a.bias is None and a.challenges is None
    assert a.unavailable["bias"] == "no customer forecasts in the data"  # not "in line"
    assert a.unavailable["challenges"] == "no customer forecasts in the data"
    assert a.accuracy is not None  # the naive and statistical forecasts are still scored
    card = sc.Scorecard(a, a.customer_ids()[0])
    for name in sc.Scorecard.SECTIONS:
        getattr(card, name)()


def test_the_first_month_of_the_data_gives_analytics_with_reasons_not_a_crash(small):
    database, _, _, _ = small
    ds = chain.load_dataset(database)
    first = ds.orders["order_date"].min().to_period("M")
    a = chain.prepare(ds, first)
    assert a.accuracy is None and "no forecast to score" in a.unavailable["accuracy"]


def test_an_unwritable_cache_folder_is_named_before_any_analysis(small, tmp_path):
    database, month, _, _ = small
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(chain.ChainError, match=r"cannot write to the cache folder .*a-file/cache"):
        chain.open_chain(month, source=database, cache_dir=blocker / "cache")


def test_analytics_parquet_cannot_hold_are_kept_in_memory_with_a_warning(small, tmp_path):
    database, month, _, analytics = small
    odd = dataclasses.replace(
        analytics, excluded=pd.DataFrame({"rows": pd.Series([1, "two"], dtype=object)})
    )
    entry = tmp_path / "analytics-odd"
    with pytest.warns(chain.CacheWarning, match="not written"):
        chain.cache._store(odd, entry, analytics.settings)
    assert not entry.exists() and list(tmp_path.iterdir()) == []  # no temp folder left


def test_a_step_field_that_is_not_a_frame_is_never_dropped_silently(small, tmp_path):
    _, _, _, analytics = small
    odd = dataclasses.replace(analytics, plan={"not": "a frame"})
    with pytest.warns(chain.CacheWarning, match=r"PackAnalytics.plan is a dict"):
        chain.cache._store(odd, tmp_path / "analytics-odd", analytics.settings)
