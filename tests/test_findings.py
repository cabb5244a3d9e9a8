"""kamlab.findings: one table of what to act on, money counted once, severity by distance."""

import json

import numpy as np
import pandas as pd
import pytest

from kamlab.at_stake import money_at_stake
from kamlab.findings import COLUMNS, compare, findings, pooled, worse_in_a_row
from kamlab.scorecard.priority import priority
from kamlab.scorecard.reasons import sentence, why

MONTH = pd.Period("2026-11", "M")


def _customers(*ids, **overrides) -> pd.DataFrame:
    base = {
        "currency": "EUR",
        "payment_terms_days": 30,
        "credit_limit": 1_000_000.0,
        "otif_target": 0.95,
        "forecast_accuracy_target": 0.6,
    }
    base.update(overrides)
    return pd.DataFrame([{"customer_id": c, **base} for c in ids])


def _revenue(*ids, amount=10_000_000.0) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(ids), "currency": "EUR", "revenue": amount})


def _find(ids=("C1",), customers=None, **frames) -> pd.DataFrame:
    return findings(
        customers=customers if customers is not None else _customers(*ids),
        month=MONTH,
        revenue=_revenue(*ids),
        **frames,
    )


# -- the "worse N months in a row" detector ------------------------------------------------
def test_a_customer_paying_5_days_later_each_month_is_recognised():
    months = pd.period_range(MONTH - 11, MONTH, freq="M")
    steady = [2.0] * 6 + [2.0 + 5 * k for k in range(1, 7)]  # 5 days later each of 6 months
    pay = pd.DataFrame(
        {
            "customer_id": "C1",
            "currency": "EUR",
            "period": months,
            "amount": 10_000.0,
            "days_beyond_terms": steady,
        }
    )
    out = _find(pay_monthly=pay)
    row = out[out["kind"] == "paying_later"].iloc[0]
    # pooled over 3 calendar months the slide starts one month after the first later payment
    assert row["months"] == 6 and row["since"] == str(MONTH - 6)
    assert row["value"] == pytest.approx((27 + 32 + 22) / 3)  # Sep-Nov pooled, equal amounts
    assert row["severity"] == "amber"  # 27 days beyond terms: not yet beyond 30
    assert "Paying later month after month: 6 months in a row" in sentence(row)


def test_a_month_without_values_ends_a_streak_it_is_never_skipped():
    f = pd.DataFrame(
        {
            "customer_id": "C",
            "period": pd.PeriodIndex(
                ["2026-06", "2026-07", "2026-09", "2026-10", "2026-11"], freq="M"
            ),
            "dso": [40.0, 45.0, 50.0, 55.0, 60.0],
        }
    )  # August has no value: the run is Sep-Nov vs Aug (empty) -> Oct, Nov worse: 2 months
    out = worse_in_a_row(f, value="dso", month=MONTH, higher_is_better=False)
    assert out["months"].tolist() == [2] and out["first"].tolist() == [50.0]


def test_pooling_uses_calendar_months_and_a_month_without_lines_adds_nothing():
    f = pd.DataFrame(
        {
            "customer_id": "C",
            "period": pd.PeriodIndex(["2026-08", "2026-10", "2026-11"], freq="M"),
            "ok": [7.0, 3.0, 1.0],
            "due": [13.0, 3.0, 2.0],
        }
    )
    out = pooled(f, numerator="ok", denominator="due", month=MONTH, months=3)
    # Oct: Aug-Oct = (7 + 0 + 3) / (13 + 0 + 3); Nov: Sep-Nov = (0 + 3 + 1) / (0 + 3 + 2)
    assert out.set_index("period")["value"][pd.Period("2026-10", "M")] == pytest.approx(10 / 16)
    assert out.set_index("period")["value"][MONTH] == pytest.approx(4 / 5)


# -- severity from the distance to the target -----------------------------------------------
def test_otif_a_few_points_under_target_is_amber_far_under_is_red():
    sla = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "otif": [0.86, 0.53, 0.97],
            "otif_target": [0.95, 0.88, 0.95],
            "lines_due": [100, 100, 100],
        }
    )
    out = _find(ids=("A", "B", "C"), sla=sla).set_index("customer_id")
    assert out.loc["A", "severity"] == "amber" and out.loc["B", "severity"] == "red"
    assert "C" not in out.index  # on target: no finding


def test_the_customers_own_forecast_accuracy_is_amber_at_most():
    acc = pd.DataFrame(
        {"customer_id": ["C1"], "source": "customer", "lag": 1, "metric": "accuracy",
         "value": [0.10]}
    )  # fmt: skip
    out = _find(accuracy=acc)
    assert out["severity"].tolist() == ["amber"]


# -- money at stake counted once -------------------------------------------------------------
def _ageing(rows):
    cols = ["month_end", "customer_id", "currency", "not due", "1-30", "31-60", "61-90",
            "91-120", ">120"]  # fmt: skip
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


def test_an_invoice_long_overdue_and_above_the_limit_is_counted_once_as_overdue():
    # Müller-like: 2.26M open, 718k more than 30 days overdue, limit 2.0M: 260k above it
    ageing = _ageing([(MONTH.end_time, "C1", "EUR", 1_300_000.0, 242_000.0, 318_000.0,
                       200_000.0, 100_000.0, 100_000.0)])  # fmt: skip
    credit = pd.DataFrame(
        {"customer_id": ["C1"], "currency": "EUR", "credit_limit": [2_000_000.0],
         "open_receivables": [2_260_000.0], "utilisation": [1.13], "status": ["over limit"]}
    )  # fmt: skip
    out = _find(ageing=ageing, credit=credit)
    stake = money_at_stake(out)
    assert stake["amount"].sum() == pytest.approx(718_000.0)  # not 718k + 260k
    assert stake["amount"].sum() <= 2_260_000.0
    over = out[out["kind"] == "over_credit_limit"].iloc[0]
    assert over["severity"] == "red" and np.isnan(over["amount"])  # flagged, money in overdue
    # a limit exceeded by more than the overdue part: only the difference is added
    credit2 = credit.assign(credit_limit=1_000_000.0, utilisation=2.26)
    stake2 = money_at_stake(_find(ageing=ageing, credit=credit2))
    assert stake2["amount"].sum() == pytest.approx(1_260_000.0)  # = open - limit, once


def test_an_old_invoice_beside_a_credit_note_is_overdue_gross_not_netted():
    # one invoice 200 days overdue (1,000) and an unapplied credit note (-1,500) not yet due
    ageing = _ageing([(MONTH.end_time, "C1", "EUR", -1_500.0, 0.0, 0.0, 0.0, 0.0, 1_000.0)])
    out = _find(ageing=ageing)
    row = out[out["kind"] == "overdue"].iloc[0]
    assert row["amount"] == 1_000.0 and row["value"] == 1.0  # all of the gross open amount


def test_phase_out_stock_is_not_counted_again_as_overstock():
    phase_out = pd.DataFrame(
        {"customer_id": ["C1"], "material_id": ["M1"], "currency": "EUR",
         "customer_at_risk": [50_000.0], "months_left": [2.0]}
    )  # fmt: skip
    stock = pd.DataFrame(
        {"customer_id": ["C1", "C1"], "material_id": ["M1", "M2"], "currency": "EUR",
         "status": ["overstock", "overstock"], "excess_value": [40_000.0, 5_000.0]}
    )  # fmt: skip
    out = _find(customer_phase_out=phase_out, customer_stock=stock)
    stake = money_at_stake(out).set_index("kind")["amount"]
    assert stake.to_dict() == {"phase_out_exposure": 50_000.0, "overstock": 5_000.0}


def test_a_price_record_error_is_flagged_without_money_never_as_overbilling():
    audit = pd.DataFrame(
        {"customer_id": ["C1"], "currency": "EUR", "issue": ["price unit"],
         "material_id": ["M1"], "net_value": [5_000.0], "agreed_value": [50.0],
         "at_stake": [-4_950.0], "billing_date": [pd.Timestamp("2026-10-03")]}
    )  # fmt: skip
    out = _find(price_audit=audit)
    row = out.iloc[0]
    assert row["kind"] == "price_record_error" and np.isnan(row["amount"])
    assert "no money lost" in sentence(row)
    assert money_at_stake(out).empty


# -- new / persisting / resolved -------------------------------------------------------------
def test_findings_are_new_persisting_or_resolved_against_last_month():
    def table(kinds):
        rows = [{c: np.nan for c in COLUMNS} | {"customer_id": "C1", "kind": k,
                "currency": "EUR", "severity": "amber"} for k in kinds]  # fmt: skip
        return pd.DataFrame(rows, columns=COLUMNS)

    out = compare(table(["overdue", "lost_deals"]), table(["overdue", "npi_stalled"]))
    assert dict(zip(out["kind"], out["status"], strict=True)) == {
        "overdue": "persisting",
        "lost_deals": "new",
        "npi_stalled": "resolved",
    }
    assert set(compare(table(["overdue"]), None)["status"]) == {"new"}


# -- the order and its reason ---------------------------------------------------------------
def test_with_nothing_at_stake_the_order_is_revenue_times_the_worst_status_not_the_alphabet():
    revenue = pd.DataFrame(
        {"customer_id": ["Aa", "Bb", "Cc"], "currency": "EUR",
         "revenue": [100.0, 5_000.0, 4_000.0]}
    )  # fmt: skip
    out = priority(
        [], customers=["Aa", "Bb", "Cc"], revenue=revenue, rates={"EUR": 1.0},
        status={"Aa": "red", "Bb": "green", "Cc": "red"},
    )  # fmt: skip
    # Cc: 4,000 x 1 (red) > Bb: 5,000 x 0.1 (green) > Aa: 100 x 1
    assert out["customer_id"].tolist() == ["Cc", "Bb", "Aa"]


def test_the_reason_names_the_top_findings_in_at_most_25_words():
    audit = pd.DataFrame(
        {"customer_id": ["C1"] * 2, "currency": "EUR", "issue": ["off agreement"] * 2,
         "material_id": ["M1", "M2"], "net_value": [910_000.0, 1_000.0],
         "agreed_value": [1_000_000.0, 1_000.0], "at_stake": [90_000.0, 0.0],
         "billing_date": pd.to_datetime(["2026-03-01", "2026-04-01"])}
    )  # fmt: skip
    npi = pd.DataFrame(
        {"customer_id": ["C1"], "opportunity_id": ["OPP-1"], "stage": ["samples"],
         "age_in_stage_days": [210.0], "slippage_days": [150.0], "probability": [0.5],
         "annual_value": [480_000.0], "currency": "EUR", "flag": ["stalled"]}
    )  # fmt: skip
    out = _find(price_audit=audit, npi=npi)
    text = why(out, rank=1, stake={"EUR": 330_000.0}, currency="EUR")
    assert text.startswith("#1: 330k EUR at stake;")
    assert "billed 9 % below the agreed price (90k EUR)" in text and "NPI stalled" in text
    assert len(text.split()) <= 25


def test_last_months_findings_are_read_back_from_the_previous_pack_json(tmp_path):
    from kamlab.pack.build import previous_findings

    assert previous_findings(tmp_path) is None  # no previous pack: every finding is new
    rows = [
        {"customer_id": "C1", "kind": "overdue", "currency": "EUR", "severity": "red",
         "amount": 10.0, "status": "new"},
        {"customer_id": "C1", "kind": "npi_stalled", "currency": "EUR", "severity": "amber",
         "amount": None, "status": "resolved"},
    ]  # fmt: skip
    (tmp_path / "pack.json").write_text(json.dumps({"schema_version": "2.0", "findings": rows}))
    before = previous_findings(tmp_path)
    assert before["kind"].tolist() == ["overdue"]  # resolved last month: not a finding any more
    now = compare(before.assign(amount=20.0), before)
    assert now["status"].tolist() == ["persisting"]
    (tmp_path / "pack.json").write_text('{"schema_version": "1.0", "customers": []}')
    assert previous_findings(tmp_path) is None  # an older layout: no findings to compare
