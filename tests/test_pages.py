"""What a KAM reads first: priority, what changed, focused challenges, honest absence, legible figures."""

import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest

from kamlab.accuracy.challenge import focus_challenges
from kamlab.chain import prepare
from kamlab.config import DEFAULTS, ScorecardSettings
from kamlab.data.demo import _FX, generate
from kamlab.data.validate import validate
from kamlab.scorecard import Scorecard
from kamlab.scorecard import figures as fg
from kamlab.scorecard.portfolio import PACK_JSON_VERSION, Portfolio
from kamlab.scorecard.priority import priority
from kamlab.scorecard.render import Section

MONTH = "2025-06"
RATES = {c: 1.0 / per_eur for c, per_eur in _FX.items()}  # EUR per unit, as `kamlab demo` writes
SETTINGS = dataclasses.replace(
    DEFAULTS, scorecard=ScorecardSettings(reporting_currency="EUR", fx_rates=RATES)
)


def _stake(rows):
    return pd.DataFrame(rows, columns=["customer_id", "currency", "amount", "kind"])


# -- priority on a small constructed portfolio ------------------------------------------------


def test_priority_ranks_by_weighted_money_at_stake_in_the_reporting_currency():
    receivables = _stake([("A", "EUR", 10_000.0, "overdue"), ("B", "USD", 20_000.0, "overdue")])
    plan = _stake([("A", "EUR", 50_000.0, "revenue_gap"), ("C", "EUR", 20_000.0, "revenue_gap")])
    leakage = _stake([("C", "EUR", 2_000.0, "price_leakage"), ("C", "EUR", -5.0, "price_leakage")])
    out = priority(
        [receivables, plan, leakage],
        customers=["A", "B", "C", "D"],
        rates={"EUR": 1.0, "USD": 0.5},
        weights={"revenue_gap": 0.3},
    )
    # A: 10,000 + 0.3 x 50,000 = 25,000; B: 20,000 USD x 0.5 = 10,000; C: 0.3 x 20,000 + 2,000
    # = 8,000 (the negative amount is not at stake); D: nothing
    assert out["customer_id"].tolist() == ["A", "B", "C", "D"]
    assert out["score"].round(6).tolist() == [25_000.0, 10_000.0, 8_000.0, 0.0]
    assert out["basis"].iloc[0] == "EUR" and out["rank"].tolist() == [1, 2, 3, 4]
    b = out.set_index("customer_id").loc["B"]
    assert b["stake"] == {"USD": 20_000.0}  # shown in its own currency, never converted
    # an overdue agreed action raises B above A: 10,000 x (1 + 1.5 x 1) = 25,000 < A? no: ties
    # broken by id; two overdue actions: 10,000 x 4 = 40,000 > 25,000
    raised = priority(
        [receivables, plan],
        customers=["A", "B", "C"],
        rates={"EUR": 1.0, "USD": 0.5},
        weights={"revenue_gap": 0.3},
        overdue_actions={"B": 2},
        action_weight=1.5,
    )
    assert raised["customer_id"].tolist()[:2] == ["B", "A"]


def test_priority_never_adds_currencies_without_rates_it_compares_shares_of_revenue():
    parts = [_stake([("A", "EUR", 1_000.0, "overdue"), ("B", "JPY", 500_000.0, "overdue")])]
    revenue = pd.DataFrame(
        {"customer_id": ["A", "B"], "currency": ["EUR", "JPY"], "revenue": [10_000.0, 10_000_000.0]}
    )
    out = priority(parts, customers=["A", "B"], revenue=revenue)
    # A: 1,000 / 10,000 = 10 % of its revenue; B: 500,000 / 10 M = 5 %
    assert out["customer_id"].tolist() == ["A", "B"]
    assert out["score"].round(6).tolist() == [0.1, 0.05]
    assert out["basis"].iloc[0] == "share of revenue"
    with pytest.raises(ValueError, match="rates"):
        priority(parts, customers=["A", "B"])


# -- focused challenge list -------------------------------------------------------------------


def test_focused_challenges_keep_one_line_per_material_above_the_threshold_at_most_n():
    periods = pd.period_range("2025-07", periods=3, freq="M")
    rows = []
    for m in range(15):  # 15 materials x 3 months; value at stake 1,000 x (m + 1) per month
        for p in periods:
            rows.append(("C1", f"M{m:02d}", p, 100.0, 50.0, "EUR", 1000.0 * (m + 1), f"r{m}"))
    ch = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "material_id",
            "period",
            "customer_forecast",
            "statistical_forecast",
            "currency",
            "value_at_stake",
            "reason",
        ],
    )
    materials = pd.DataFrame(
        {
            "material_id": [f"M{m:02d}" for m in range(15)],
            "lifecycle": ["phase-out"] + ["active"] * 14,
            "description": "x",
        }
    )
    out = focus_challenges(ch, materials=materials, max_lines=10, min_value=4_000.0)
    # per material 3,000 x (m + 1): M00 (3,000) is below 4,000; the 10 largest are M14..M05
    assert out["material_id"].tolist() == [f"M{m:02d}" for m in range(14, 4, -1)]
    assert out["months"].iloc[0] == "Jul 2025, Aug 2025, Sep 2025"
    assert out["value_at_stake"].iloc[0] == 45_000.0 and out["customer_forecast"].iloc[0] == 300.0
    assert out.attrs["hidden"] == {"C1": 45 - 30}
    with_phase_out = focus_challenges(ch, materials=materials, min_value=0.0, max_lines=20)
    note = with_phase_out.set_index("material_id").at["M00", "context"]
    assert "phase-out" in note and "stock" in note


# -- the demo's stories, named by the commentary ----------------------------------------------


@pytest.fixture(scope="module")
def demo():
    frames = generate(customers=20, materials=150, months=30, end=MONTH, seed=0)
    return validate(frames)


@pytest.fixture(scope="module")
def analytics(demo):
    return prepare(demo, MONTH, settings=SETTINGS)


def _text(section: Section) -> str:
    """What a reader sees of a section: its HTML with tags stripped and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", section._repr_html_()))


def test_the_commentary_names_each_scripted_story(analytics):
    ids = analytics.customer_ids()
    said = {i: _text(Scorecard(analytics, ids[i]).commentary()) for i in range(6)}
    assert "persistently over-forecasts" in said[0]  # Müller & Söhne: over-forecaster
    assert "Growing account" in said[2]  # Keystone Motion: +35 %/year
    assert "Declining account" in said[3]  # Ironbridge Components: -30 %/year
    assert re.search(r"DSO worsening: \d+ days in \w+ \d{4} → \d+ days now", said[4])  # Zürcher
    assert "OTIF" in said[5] and "logistics" in said[5]  # O'Neill: poor service, off target
    assert any("Phase-out material" in text for text in said.values())  # phase-out, with stock
    for text in said.values():  # the commentary ends with the actions
        assert text.strip().splitlines()[-1].strip().startswith("Actions:") or "Actions:" in text


def test_most_demo_accounts_are_green_or_amber_and_no_kpi_without_target_is_green(analytics):
    statuses = []
    for cid in analytics.customer_ids()[8:]:  # after the eight scripted stories: normal accounts
        tiles = Scorecard(analytics, cid).headline_tiles()
        statuses.append(min((t.status for t in tiles), key=["red", "amber", "green", "grey"].index))
        for t in tiles:
            if t.target in ("", "no target agreed") and t.value == "–":
                assert t.status == "grey", t
    assert statuses.count("red") < len(statuses) / 2


def test_index_order_and_pack_json_follow_the_priority(analytics):
    portfolio = Portfolio(analytics)
    summary = portfolio.summary()
    assert summary["priority"].tolist() == list(range(1, len(summary) + 1))
    assert summary["why"].str.endswith(".").all()
    data = portfolio.pack_json()
    assert data["schema_version"] == PACK_JSON_VERSION and data["month"] == MONTH
    first = data["customers"][0]
    assert first["customer_id"] == summary["customer_id"].iloc[0]
    assert {"rank", "score", "money_at_stake", "parts", "why"} <= set(first["priority"])
    assert len(first["kpis"]) == 6 and first["commentary"][-1].startswith("Actions:")
    otif = first["kpis"][0]
    assert otif["unit"] == "share" and otif["value"] == f"{round(otif['number'] * 100)} %"
    assert first["challenge_lines"] <= analytics.settings.accuracy.challenge_max_lines


# -- honest absence ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def without_tables(demo):
    empty = {
        n: getattr(demo, n).iloc[0:0] for n in ("deliveries", "invoices", "payments", "budget")
    }
    empty["instalments"] = demo.instalments.iloc[0:0]
    return prepare(dataclasses.replace(demo, **empty), MONTH, settings=SETTINGS)


def test_each_missing_table_is_said_grey_never_a_number(without_tables):
    card = Scorecard(without_tables, without_tables.customer_ids()[1])
    tiles = {t.label.split(",")[0]: t for t in card.headline_tiles()}
    for label, table in [
        ("OTIF", "deliveries"),
        ("Revenue vs budget", "budget"),
        ("Overdue more than 30 days", "invoices"),
        ("Credit utilisation", "invoices"),
        ("Days sales outstanding", "invoices"),
    ]:
        tile = tiles[label]
        assert (tile.status, tile.value) == ("grey", "–"), tile
        assert tile.note == f"not available: no {table} in the data"
    assert "Not available: no deliveries in the data." in _text(card.service())
    assert "Not available: no invoices in the data." in _text(card.receivables())
    assert "Budget: not available: no budget in the data." in _text(card.sales())
    page = " ".join(_text(getattr(card, name)()) for name in Scorecard.SECTIONS)
    assert not re.search(r"\bnan\b", page, re.IGNORECASE)
    assert not re.search(r"(?<![\d,.])0 days|DSO 0\b", page), page


# -- legible figures --------------------------------------------------------------------------


def test_no_figure_text_falls_outside_its_canvas(analytics):
    months = pd.period_range("2024-01", periods=24, freq="M")
    big = pd.DataFrame(
        {"period": months, "quantity": np.linspace(2e6, 2.4e7, 24), "kpi": "OTIF"}
    ).assign(net_value=lambda f: f["quantity"] * 1.7)
    fc = pd.DataFrame(
        {"period": pd.period_range("2026-01", periods=6, freq="M"), "forecast": 2.3e7}
    ).assign(lo_80=2.0e7, hi_80=2.6e7)
    long_names = analytics.matrix.assign(
        customer="Redwood Engineering GmbH & Co. KG Niederlassung Süd",
        strength=np.linspace(0.0, 1.0, len(analytics.matrix)),
    )
    built = {
        "demand": fg.demand_figure(big, forecast=fc, customer_forecast=None, title="Demand"),
        "trend": fg.trend_figure(
            big, x="period", y="net_value", hue="kpi", title="t", xlabel="Month",
            ylabel="Net revenue (EUR)", target=3e7,
        ),
        "bars": fg.bar_figure(
            big.assign(m=big["period"].astype(str)), x="m", y="net_value", title="b",
            xlabel="Month", ylabel="Net revenue (EUR)",
        ),
        "matrix": fg.scatter_figure(
            long_names, x="strength", y="attractiveness", hue="quadrant", label="customer",
            title="Key-account matrix", xlabel="strength", ylabel="attractiveness",
            split=(0.5, 0.5), colours=fg.QUADRANT_COLOURS,
        ),
    }  # fmt: skip
    for name, fig in built.items():
        assert fg.text_outside(fig) == [], name
    # seven-digit axis numbers are shortened: 24,000,000 reads 24M
    labels = [t.get_text() for t in built["demand"].axes[0].get_yticklabels()]
    assert any(label.endswith("M") for label in labels) and not any("000,000" in x for x in labels)


def test_rag_thresholds_keep_normal_accounts_out_of_red_over_the_validation_months(analytics):
    """The calibration in ScorecardSettings' docstring, rechecked: over the months before the
    review month, normal demo accounts are rarely red, the scripted problems often are."""
    s = analytics.settings.scorecard
    red = {}
    for i, cid in enumerate(analytics.customer_ids()):
        card = Scorecard(analytics, cid)
        h = card.kpi_history()
        h = h[h["period"] < analytics.month]  # validation: never the month shown
        terms = float(card.customer["payment_terms_days"])
        target = float(card.customer["otif_target"])
        rules = {
            "otif": lambda v, t=target: v < t - s.amber_margin,
            "dso": lambda v, t=terms: v > t + s.dso_amber_days,
            "overdue": lambda v: v > s.overdue_share_red,
        }
        for kpi, is_red in rules.items():
            values = h.loc[h["kpi"] == kpi, "value"]
            red.setdefault(kpi, {})[i] = float(values.map(is_red).mean()) if len(values) else 0.0
    normal = range(8, len(analytics.customer_ids()))
    for kpi, by_customer in red.items():
        share = np.mean([by_customer[i] for i in normal])
        assert share <= 0.2, (kpi, share)
    assert red["otif"][5] > 0.5  # O'Neill, poor service
    assert red["dso"][0] > 0.5  # Müller & Söhne, pays ~5 weeks late


def test_last_months_open_actions_show_with_their_status_and_overdue_ones_count(analytics):
    actions = analytics.actions
    as_of = analytics.as_of
    still_open = actions[(actions["opened"] <= as_of) & ~(actions["closed"] <= as_of)]
    overdue = still_open[still_open["due"] < as_of]
    assert len(overdue), "the demo has overdue actions"
    cid = str(overdue["customer_id"].iloc[0])
    card = Scorecard(analytics, cid)
    mine = overdue[overdue["customer_id"] == cid]
    assert card.overdue_actions() == len(mine)
    text = _text(card.actions())
    assert str(mine["topic"].iloc[0]) in text and "— overdue" in text
    assert "past due" in _text(card.commentary())


def test_a_missing_credit_limit_is_an_action_not_no_data(analytics):
    card = Scorecard(analytics, analytics.customer_ids()[7])  # Distribución Ibérica: no limit
    tile = next(t for t in card.headline_tiles() if t.label == "Credit utilisation")
    assert (tile.value, tile.word) == ("not set", "action needed")
    assert "action needed" in _text(card.tiles()) and "no data" not in _text(card.tiles()).lower()
    assert "agree a credit limit with finance" in _text(card.commentary())
