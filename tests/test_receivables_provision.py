"""Provision matrix from roll rates: hand example and properties on a generated ledger."""

import numpy as np
import pandas as pd
import pytest
from receivables_ledgers import random_ledger

from kamlab.receivables import (
    ageing,
    ageing_history,
    ageing_summary,
    last_month_ends,
    open_items,
    provision_matrix,
)

LABELS = ["not due", "1-30", "31-60", ">60"]


def _history(rows):
    frame = pd.DataFrame(rows, columns=["month_end", "customer_id", "currency", *LABELS])
    frame["month_end"] = pd.to_datetime(frame["month_end"])
    return frame


def test_loss_rates_are_products_of_roll_rates_to_write_off():
    hist = _history(
        [
            ("2024-01-31", "C1", "EUR", 600.0, 100.0, 40.0, 10.0),
            ("2024-01-31", "C2", "EUR", 400.0, 100.0, 10.0, 0.0),
            ("2024-02-29", "C1", "EUR", 700.0, 150.0, 60.0, 20.0),
            ("2024-02-29", "C2", "EUR", 300.0, 50.0, 40.0, 5.0),
            ("2024-03-31", "C1", "EUR", 500.0, 100.0, 40.0, 30.0),
        ]
    )
    # month pairs Jan->Feb, Feb->Mar; balances summed over customers
    # not due: (200 + 100) / (1000 + 1000) = 0.15
    # 1-30: (100 + 40) / (200 + 200) = 0.35
    # 31-60: (25 + 30) / (50 + 100) = 0.366667
    pm = provision_matrix(hist, hist.iloc[[4]].drop(columns="month_end"), write_off_loss_rate=0.8)
    rates = pm.rates.set_index("bucket")
    assert rates["roll_rate"].tolist() == pytest.approx([0.15, 0.35, 55 / 150, 0.8], abs=1e-6)
    expected = [0.15 * 0.35 * 55 / 150 * 0.8, 0.35 * 55 / 150 * 0.8, 55 / 150 * 0.8, 0.8]
    assert rates["loss_rate"].tolist() == pytest.approx(expected, abs=1e-6)
    provision = 500 * expected[0] + 100 * expected[1] + 40 * expected[2] + 30 * expected[3]
    assert pm.by_customer["provision"].tolist() == [round(provision, 2)]
    assert pm.total.to_dict("records") == [{"currency": "EUR", "provision": round(provision, 2)}]


def test_a_gap_between_month_ends_is_not_treated_as_one_month_and_credits_are_not_provisioned():
    hist = _history(
        [
            ("2024-01-31", "C1", "EUR", 100.0, 100.0, 100.0, 0.0),
            ("2024-02-29", "C1", "EUR", 100.0, 50.0, 50.0, 50.0),
            ("2024-04-30", "C1", "EUR", 100.0, 100.0, 100.0, 100.0),
        ]
    )
    current = _history([("2024-04-30", "C1", "EUR", -30.0, 10.0, 0.0, 0.0)])
    pm = provision_matrix(hist, current.drop(columns="month_end"))
    assert pm.rates["roll_rate"].tolist() == [0.5, 0.5, 0.5, 1.0]
    assert pm.by_customer["provision"].tolist() == [round(10 * 0.5 * 0.5, 2)]


def test_a_bucket_without_history_gives_nan_with_a_reason_and_currencies_are_separate():
    hist = _history(
        [
            ("2024-01-31", "C1", "EUR", 100.0, 0.0, 0.0, 0.0),
            ("2024-02-29", "C1", "EUR", 100.0, 10.0, 0.0, 0.0),
            ("2024-01-31", "C2", "USD", 100.0, 100.0, 100.0, 100.0),
            ("2024-02-29", "C2", "USD", 100.0, 100.0, 100.0, 100.0),
        ]
    )
    current = _history(
        [
            ("2024-02-29", "C1", "EUR", 0.0, 10.0, 0.0, 0.0),
            ("2024-02-29", "C2", "USD", 0, 0, 0, 5.0),
        ]
    ).drop(columns="month_end")
    pm = provision_matrix(hist, current)
    c1, c2 = pm.by_customer.itertuples()
    assert np.isnan(c1.provision)
    assert c1.reason == "no roll-rate history for a bucket with a balance"
    assert c2.provision == 5.0
    assert set(pm.rates["currency"]) == {"EUR", "USD"}


def test_loss_rates_rise_with_age_and_the_last_is_the_write_off_rate_on_generated_data():
    inv, pay, inst = random_ledger(1500, seed=3)
    hist = ageing_history(inv, pay, month_ends=last_month_ends("2023-10-31", 18), instalments=inst)
    aged = ageing(open_items(inv, pay, as_of="2023-10-31", instalments=inst), as_of="2023-10-31")
    pm = provision_matrix(hist, ageing_summary(aged), write_off_loss_rate=0.9)
    for _, rates in pm.rates.groupby("currency"):
        loss = rates["loss_rate"].to_numpy()
        assert np.all(np.diff(loss) >= 0)
        assert loss[-1] == 0.9
        assert 0 < loss[0] < loss[-1]
    assert (pm.by_customer["provision"] >= 0).all()


def test_an_empty_history_gives_empty_rates_and_nan_provisions_with_a_reason():
    hist = _history([])
    current = _history([("2024-02-29", "C1", "EUR", 10.0, 0.0, 0.0, 0.0)]).drop(columns="month_end")
    pm = provision_matrix(hist, current)
    assert pm.rates.empty
    assert np.isnan(pm.by_customer["provision"].iloc[0])
    assert pm.by_customer["reason"].iloc[0] == "no roll-rate history for a bucket with a balance"


def test_a_zero_roll_rate_stops_the_chain_before_a_bucket_without_history():
    # USD: 1-30 never rolls on (31-60 stays empty), so > 60 and 31-60 have no history
    hist = _history(
        [
            ("2024-01-31", "C1", "USD", 100.0, 50.0, 0.0, 0.0),
            ("2024-02-29", "C1", "USD", 100.0, 20.0, 0.0, 0.0),
        ]
    )
    pm = provision_matrix(hist, hist.iloc[[1]].drop(columns="month_end"))
    rates = pm.rates.set_index("bucket")
    assert rates.loc["1-30", "roll_rate"] == 0.0
    assert rates["loss_rate"].tolist()[:2] == [0.0, 0.0]  # 0.2 × 0 and 0 × (unknown)
    assert np.isnan(rates.loc["31-60", "loss_rate"])  # still unknown: never held a balance
    assert pm.total["provision"].tolist() == [0.0]


def test_the_provision_uses_exact_loss_rates_and_rounds_only_the_result():
    """Worked by hand: roll 1/3 from not due, then everything rolls on and is written off,
    so the not-due loss rate is exactly 1/3 and 3,000,000 not due provisions 1,000,000.00
    (0.333333 × 3,000,000 = 999,999.00 if the rounded rate were used)."""
    hist = pd.DataFrame(
        {
            "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
            "customer_id": ["C1", "C1"],
            "currency": ["EUR", "EUR"],
            "not due": [3_000_000.0, 0.0],
            "1-30": [500.0, 1_000_000.0],
            ">30": [0.0, 500.0],
        }
    )
    current = pd.DataFrame(
        {
            "customer_id": ["C1"],
            "currency": ["EUR"],
            "not due": [3_000_000.0],
            "1-30": [0.0],
            ">30": [0.0],
        }
    )
    pm = provision_matrix(hist, current)
    assert pm.rates["loss_rate"].tolist() == [0.333333, 1.0, 1.0]  # shown rounded
    assert pm.by_customer["provision"].tolist() == [1_000_000.00]
    assert pm.total["provision"].tolist() == [1_000_000.00]
