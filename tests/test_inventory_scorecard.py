"""Supply sections of the scorecard and the supply frames for the pack and the index."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database

import kamlab.chain as chain
import kamlab.scorecard as sc
from kamlab.chain.steps import _SUPPLY
from kamlab.inventory import MONEY_KINDS
from kamlab.scorecard import supply
from kamlab.scorecard.render import Section

SECTIONS = (supply.stock_health, supply.phase_in_out, supply.safety_stock)
ALL_SECTIONS = (*SECTIONS, supply.capacity_allocation)


@pytest.fixture(scope="module")
def analytics(tmp_path_factory):
    folder = tmp_path_factory.mktemp("supply-card")
    database = build_demo_database(folder, customers=4)
    return chain.load_analytics(database, MONTH, cache_dir=folder / "cache")


def test_every_supply_section_is_one_offline_html_block_with_numbers(analytics):
    for customer in analytics.customer_ids():
        card = sc.Scorecard(analytics, customer)
        for section in ALL_SECTIONS:
            got = section(card)
            assert isinstance(got, Section) and got.status in ("ok", "empty")
            page = got._repr_html_()
            assert not re.search(r"(src|href)=[\"']?https?://", page)
            assert not re.search(r"\bnan\b", page.lower())
    card = sc.Scorecard(analytics, analytics.customer_ids()[1])
    assert "Money at stake" in supply.stock_health(card)._repr_html_()
    page = supply.portfolio_supply(analytics)._repr_html_()
    assert "safety stocks to change in SAP" in page and not re.search(r"\bnan\b", page.lower())


def test_without_stock_data_every_section_says_no_data(analytics):
    reason = "no stock data in the extracts"
    empty = dataclasses.replace(
        analytics, **dict.fromkeys(_SUPPLY), unavailable=dict.fromkeys(_SUPPLY, reason)
    )
    card = sc.Scorecard(empty, empty.customer_ids()[0])
    for section in ALL_SECTIONS:
        got = section(card)
        assert got.status == "unavailable" and f"No data: {reason}." in got._repr_html_()
    got = supply.portfolio_supply(empty)
    assert got.status == "unavailable" and reason in got._repr_html_()
    assert supply.safety_stock_proposals(empty).empty
    assert list(supply.supply_at_stake(empty).columns) == [
        "customer_id",
        "currency",
        "amount",
        "kind",
    ]
    assert supply.material_context(empty).empty


def test_frames_for_the_workbook_the_index_and_the_challenge_list(analytics):
    proposals = supply.safety_stock_proposals(analytics)
    assert len(proposals) and proposals["change"].ne(0).all()
    money = proposals["money_tied_up"] + proposals["money_at_risk"]
    assert money.is_monotonic_decreasing
    stake = supply.supply_at_stake(analytics)
    assert set(stake["kind"]) <= set(MONEY_KINDS) and (stake["amount"] > 0).all()
    assert not stake.duplicated(["customer_id", "currency", "kind"]).any()
    context = supply.material_context(analytics)
    phase_out = analytics.materials.loc[analytics.materials["lifecycle"] == "phase-out"]
    with_stock = context[context["material_id"].isin(phase_out["material_id"])]
    assert with_stock["end_of_life"].notna().all()
    joined = analytics.challenges.merge(context, on="material_id", how="left")
    assert len(joined) == len(analytics.challenges)  # one context row per material


def test_money_at_stake_of_a_customer_is_its_share_of_the_material_figures(analytics):
    stock = analytics.customer_stock
    shares = stock.groupby(["material_id", "plant"])["share"].sum()
    assert shares.max() == pytest.approx(1.0) and (shares <= 1 + 1e-9).all()
    health = analytics.stock_health.set_index(["material_id", "plant"])["excess_value"]
    per_material = stock.groupby(["material_id", "plant"])["excess_value"].sum()
    pd.testing.assert_series_equal(
        per_material, health.loc[per_material.index].rename("excess_value"), check_names=False
    )
