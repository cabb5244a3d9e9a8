"""The demo's commercial tables: valid, consistent with the orders, and the planted problems found."""

import pandas as pd
import pytest

from kamlab.data.demo import generate
from kamlab.data.validate import validate
from kamlab.market import share_of_business
from kamlab.opportunities import lost_sales, npi_projects
from kamlab.pricing import billed_lines, price_audit, price_realisation

END = "2025-06"
AS_OF = pd.Timestamp("2025-06-30")


@pytest.fixture(scope="module")
def demo():
    return generate(end=END)


@pytest.fixture(scope="module")
def audit(demo):
    lines = billed_lines(demo["orders"], demo["deliveries"])
    return price_audit(price_realisation(lines, demo["prices"]))


def _customer(demo, position):
    return demo["customers"]["customer_id"].iloc[position]


def test_the_commercial_tables_pass_the_contract(demo):
    ds = validate({k: v for k, v in demo.items()})
    for name in ("prices", "price_requests", "opportunities", "market", "visits", "ratings"):
        assert len(getattr(ds, name)) > 0, name


def test_contract_prices_are_the_prices_billed_apart_from_the_planted_problems(demo, audit):
    planted = {_customer(demo, i) for i in (0, 1, 2, 5)}
    lines = billed_lines(demo["orders"], demo["deliveries"])
    elsewhere = audit.loc[~audit["customer_id"].isin(planted)]
    # around New Year only (a line billed in one year at the other year's price: late,
    # early or split deliveries of lines requested in the other year)
    assert len(elsewhere) < 0.01 * len(lines)
    assert set(elsewhere["issue"]) <= {"previous price", "off agreement", "no agreement"}
    day = elsewhere["billing_date"]
    new_year = pd.to_datetime((day.dt.year + (day.dt.month > 6)).astype(str) + "-01-01")
    assert ((day - new_year).abs() <= pd.Timedelta(days=60)).all()


def test_the_planted_price_problems_are_found(demo, audit):
    def found(position, issue):
        mine = audit[audit["customer_id"] == _customer(demo, position)]
        return mine.loc[mine["issue"] == issue]

    expired = found(0, "expired special price")
    assert len(expired) > 0 and (expired["at_stake"] > 0).all()
    assert (expired["billing_date"] > AS_OF - pd.DateOffset(months=3)).all()
    wrong = found(1, "off agreement")
    assert wrong["at_stake"].sum() > 0  # the 10 % increase in the record never billed
    unit = found(2, "price unit")
    assert (
        len(unit) > 0
        and (unit["billed_unit_price"] / unit["agreed_unit_price"]).round().eq(100).all()
    )
    assert len(found(5, "no agreement")) > 0


def test_the_stalled_npi_project_and_the_rfq_lost_to_a_competitor(demo):
    npi = npi_projects(demo["opportunities"], as_of=AS_OF)
    helios = npi[npi["customer_id"] == _customer(demo, 1)]
    stalled = helios[helios["flag"] == "stalled"]
    assert (stalled["age_in_stage_days"] == 210).any() and (stalled["slippage_days"] > 120).any()
    lost = lost_sales(demo["opportunities"], start="2025-01-01", end=AS_OF)
    keystone = lost[lost["customer_id"] == _customer(demo, 2)]
    assert (
        (keystone["competitor"] == "Apex Fluid Power Inc.") & (keystone["loss_reason"] == "price")
    ).any()


def test_share_of_business_is_a_fraction_and_missing_estimates_show_as_missing(demo):
    s = share_of_business(demo["orders"], demo["materials"], demo["market"], month=END)
    known = s["share_of_business"].dropna()
    assert known.between(0, 1).all() and len(known) > 100
    assert (s["reason"] == "no market estimate").any()
    assert s.loc[s["reason"] == "no market estimate", "share_of_business"].isna().all()


def test_priced_on_the_requested_date_only_the_planted_problems_remain(demo):
    lines = billed_lines(demo["orders"], demo["deliveries"])
    audit = price_audit(price_realisation(lines, demo["prices"], date="requested_date"))
    planted = {_customer(demo, i) for i in (0, 1, 2, 5)}
    assert set(audit["customer_id"]) <= planted
    assert set(audit["issue"]) <= {
        "expired special price", "off agreement", "price unit", "no agreement",
    }  # fmt: skip
