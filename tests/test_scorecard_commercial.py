"""The commercial scorecard sections: built from the chain's steps, 'no data' when absent."""

import re
from pathlib import Path

import pandas as pd
import pytest

from kamlab.chain import PackAnalytics
from kamlab.chain.steps import STEPS, _without_attrs
from kamlab.config import DEFAULTS
from kamlab.data.dataset import Dataset
from kamlab.data.demo import generate
from kamlab.data.validate import empty_frame, validate
from kamlab.demand import monthly_demand
from kamlab.findings import KINDS
from kamlab.scorecard import commercial
from kamlab.scorecard.card import Scorecard
from kamlab.scorecard.render import Section

MONTH = pd.Period("2025-06", "M")
COMMERCIAL_STEPS = ("pricing", "opportunities", "market", "satisfaction", "findings")


def _analytics(ds: Dataset) -> PackAnalytics:
    """PackAnalytics with only the commercial steps run (the others are not needed here), and
    the findings (money at stake) from them."""
    demand = monthly_demand(ds.orders, end=MONTH)
    customer_demand = demand.groupby(["customer_id", "currency", "period"], observed=True,
                                     as_index=False)[["quantity", "net_value"]].sum()  # fmt: skip
    a = PackAnalytics(
        month=MONTH,
        as_of=MONTH.to_timestamp(how="end").normalize(),
        settings=DEFAULTS,
        customers=ds.customers,
        materials=ds.materials,
        demand=demand,
        customer_demand=customer_demand,
        customer_forecasts=ds.customer_forecasts,
    )
    excluded: list[pd.DataFrame] = []
    for s in STEPS:
        if s.name not in COMMERCIAL_STEPS:
            continue
        for name, value in s.run(ds, a).items():
            if name == "unavailable":
                a.unavailable.update(value)
            else:
                setattr(a, name, _without_attrs(value, name, excluded))
    return a


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return validate(generate(end=str(MONTH)))


@pytest.fixture(scope="module")
def analytics(demo) -> PackAnalytics:
    return _analytics(demo)


def test_the_chain_fills_every_commercial_field_on_the_demo(analytics):
    for name in ("price_summary", "price_audit", "margin", "price_requests", "pipeline",
                 "pipeline_forecast", "win_rate", "rfq_activity", "lost_sales", "npi",
                 "pipeline_at_risk", "share_of_business", "competitors", "three_c", "ratings",
                 "issues", "visits", "money_at_stake"):  # fmt: skip
        frame = getattr(analytics, name)
        assert frame is not None and len(frame) > 0, name
    stake = analytics.money_at_stake
    assert list(stake.columns) == ["customer_id", "currency", "kind", "amount"]
    # the findings' kinds, each amount counted once (kamlab.findings.OWNERSHIP)
    assert {"expired_special_price", "billed_below_agreement", "lost_deals", "npi_stalled",
            "pipeline_at_risk"} <= set(stake["kind"]) <= set(KINDS)  # fmt: skip
    assert (stake["amount"] > 0).all()
    assert not stake.duplicated(["customer_id", "currency", "kind"]).any()


def test_each_section_is_one_offline_html_block_with_the_planted_findings(analytics):
    ids = analytics.customer_ids()
    pages = {}
    for cid in ids[:3]:
        card = Scorecard(analytics, cid)
        for name in commercial.SECTIONS:
            section = getattr(commercial, name)(card)
            assert isinstance(section, Section) and section.status in ("ok", "empty"), name
            page = section._repr_html_()
            assert not re.search(r"(src|href)=[\"']?https?://", page), name
            pages[cid, name] = page
    assert "expired on" in pages[ids[0], "prices"]  # Müller's expired special price
    assert "stalled" in pages[ids[1], "projects"]  # Helios' NPI project
    assert "Apex Fluid Power Inc." in pages[ids[2], "projects"]  # Keystone's lost RFQ


def test_without_commercial_tables_every_section_says_no_data(demo):
    bare = Dataset(**{**demo.tables(), **{
        name: empty_frame(name)
        for name in ("prices", "price_requests", "opportunities", "market", "visits", "ratings")
    }}, exclusions=demo.exclusions)  # fmt: skip
    bare.complaints = empty_frame("complaints")
    a = _analytics(bare)
    card = Scorecard(a, a.customer_ids()[0])
    for name in ("pipeline", "projects", "market"):
        section = getattr(commercial, name)(card)
        assert section.status == "empty", name
        assert "No " in section.body
    # margin needs only orders and standard costs; the price check says why it is missing
    prices = commercial.prices(card)
    assert prices.status == "ok" and "no price agreements in the data" in prices.body
    assert commercial.workbook_sheets(a).keys() <= {"Price audit", "Special prices",
                                                    "Money at stake"}  # fmt: skip


def test_workbook_sheets_are_plain_frames(analytics):
    sheets = commercial.workbook_sheets(analytics)
    assert {"Price audit", "Pipeline", "Lost sales", "NPI projects", "Money at stake"} <= set(
        sheets
    )
    for frame in sheets.values():
        assert not any(isinstance(t, (pd.PeriodDtype, pd.CategoricalDtype)) for t in frame.dtypes)


def test_the_notebook_calls_the_commercial_sections_in_their_order():
    notebook = (Path(commercial.__file__).parents[1] / "notebooks" / "scorecard.ipynb").read_text()
    assert tuple(re.findall(r"commercial\.(\w+)\(card\)", notebook)) == commercial.SECTIONS


def test_portfolio_summary_has_one_row_per_customer_and_currency(analytics):
    s = commercial.portfolio_summary(analytics)
    assert len(s) == len(analytics.customers)
    assert s["customer_id"].is_unique
    helios = s.iloc[1]
    assert helios["price_leakage"] > 0 and helios["stalled_projects"] >= 1
    assert s["share_of_business"].dropna().between(0, 1).all()
    assert s["price_realisation"].dropna().between(0.5, 1.5).all()
