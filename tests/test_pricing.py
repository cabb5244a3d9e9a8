"""kamlab.pricing: hand-worked price realisation, the audit findings, margin, special prices."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kamlab.data.contract import TABLES
from kamlab.exclusions import excluded
from kamlab.pricing import (
    billed_lines,
    gross_margin,
    price_audit,
    price_realisation,
    price_realisation_summary,
    special_price_requests,
)

SAMPLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sales_data_sample.csv"


def _prices(rows):
    cols = ["customer_id", "material_id", "source", "valid_from", "valid_to", "price",
            "currency", "price_unit"]  # fmt: skip
    f = pd.DataFrame(rows, columns=cols)
    for c in ("valid_from", "valid_to"):
        f[c] = pd.to_datetime(f[c])
    return f


def _lines(rows):
    f = pd.DataFrame(
        rows, columns=["customer_id", "material_id", "billing_date", "quantity", "net_value"]
    )
    f["billing_date"] = pd.to_datetime(f["billing_date"])
    return f.assign(currency="EUR")


def test_the_price_valid_on_a_boundary_date_applies_on_that_day():
    prices = _prices(
        [
            ("C1", "M1", "contract", "2024-01-01", "2024-06-30", 10.0, "EUR", 1),
            ("C1", "M1", "contract", "2024-07-01", None, 11.0, "EUR", 1),
        ]
    )
    # 30 June is the old price's last day, 1 July the new price's first
    lines = _lines(
        [
            ("C1", "M1", "2024-06-30", 5, 50.0),
            ("C1", "M1", "2024-07-01", 5, 55.0),
            ("C1", "M1", "2023-12-31", 5, 50.0),
        ]  # fmt: skip
    )
    r = price_realisation(lines, prices)
    assert r["agreed_unit_price"].tolist()[:2] == [10.0, 11.0]
    assert r["issue"].tolist() == ["ok", "ok", "no agreement"]
    assert r["at_stake"].tolist()[:2] == [0.0, 0.0] and np.isnan(r["at_stake"].iloc[2])
    # negative control: the new price billed on the old price's last day is off agreement
    wrong = price_realisation(_lines([("C1", "M1", "2024-06-30", 5, 55.0)]), prices)
    assert wrong["issue"].tolist() == ["off agreement"]
    assert wrong["at_stake"].tolist() == [-5.0]


def test_a_price_per_100_units_is_divided_by_its_price_unit():
    prices = _prices([("C1", "M1", "contract", "2024-01-01", None, 250.0, "EUR", 100)])
    # 400 pieces at 2.50 = 1,000; at 250 per piece (per 100 used per 1) = 100,000
    lines = _lines(
        [("C1", "M1", "2024-03-01", 400, 1000.0), ("C1", "M1", "2024-03-02", 400, 100000.0)]
    )
    r = price_realisation(lines, prices)
    assert r["agreed_unit_price"].tolist() == [2.5, 2.5]
    assert r["agreed_value"].tolist() == [1000.0, 1000.0]
    assert r["issue"].tolist() == ["ok", "price unit"]
    assert r["at_stake"].tolist() == [0.0, -99000.0]
    assert r["realisation"].tolist() == [1.0, 100.0]
    audit = price_audit(r)
    assert audit["finding"].tolist() == [
        "billed at 100 x the agreed unit price: price per 100 used per 1?"
    ]


def test_a_special_price_that_expired_the_day_before_the_invoice_is_flagged():
    prices = _prices(
        [
            ("C1", "M1", "contract", "2024-01-01", "2024-12-31", 10.0, "EUR", 1),
            ("C1", "M1", "special_price", "2024-03-01", "2024-05-31", 8.0, "EUR", 1),
        ]
    )
    lines = _lines(
        [("C1", "M1", "2024-05-31", 100, 800.0),  # last day of the special price: fine
         ("C1", "M1", "2024-06-01", 100, 800.0),  # the day after: expired special still used
         ("C1", "M1", "2024-06-01", 100, 1000.0),  # back on the contract price
         ("C1", "M1", "2024-02-29", 100, 800.0)]  # before the special: off agreement
    )  # fmt: skip
    r = price_realisation(lines, prices)
    assert r["agreement_source"].tolist() == ["special_price", "contract", "contract", "contract"]
    assert r["issue"].tolist() == ["ok", "expired special price", "ok", "off agreement"]
    assert r["at_stake"].tolist() == [0.0, 200.0, 0.0, 200.0]
    audit = price_audit(r)
    # equal money at stake: the earlier line first
    assert audit["finding"].tolist() == [
        "billed -20.0% against the agreed price",
        "billed at a special price that expired on 31 May 2024",
    ]
    # the request behind the expired special price is named (prices.price_request_id)
    named = price_audit(
        price_realisation(lines, prices.assign(price_request_id=[None, "SPR-0007"]))
    )
    assert named["expired_request_id"].isna().tolist() == [True, False]
    assert named["expired_request_id"].iloc[1] == "SPR-0007"
    assert named["finding"].tolist()[1] == (
        "billed at a special price that expired on 31 May 2024 (request SPR-0007)"
    )
    summary = price_realisation_summary(r)
    row = summary.iloc[0]
    assert row["leakage"] == 400.0 and row["lines"] == 4
    assert row["realisation"] == pytest.approx(3400.0 / 3800.0)
    assert row["lines_expired_special_price"] == 1 and row["lines_ok"] == 2


def test_the_previous_price_still_billed_after_a_price_increase_is_named():
    prices = _prices(
        [
            ("C1", "M1", "contract", "2024-01-01", "2024-12-31", 10.0, "EUR", 1),
            ("C1", "M1", "contract", "2025-01-01", "2025-12-31", 10.4, "EUR", 1),
        ]
    )
    r = price_realisation(_lines([("C1", "M1", "2025-01-15", 10, 100.0)]), prices)
    assert r["issue"].tolist() == ["previous price"]
    assert r["previous_price"].tolist() == [10.0]
    assert r["at_stake"].iloc[0] == pytest.approx(4.0)


def test_an_agreement_in_another_currency_is_not_compared_and_money_never_mixes():
    prices = _prices([("C1", "M1", "contract", "2024-01-01", None, 10.0, "USD", 1)])
    lines = _lines([("C1", "M1", "2024-02-01", 10, 100.0)])
    r = price_realisation(lines, prices)
    assert r["issue"].tolist() == ["currency differs"] and np.isnan(r["at_stake"].iloc[0])
    both = pd.concat([lines, lines.assign(currency="USD")], ignore_index=True)
    s = price_realisation_summary(price_realisation(both, prices))
    assert s["currency"].tolist() == ["EUR", "USD"]
    assert s["revenue"].tolist() == [100.0, 100.0]


def test_lines_without_quantity_are_counted_not_dropped_silently():
    prices = _prices([("C1", "M1", "contract", "2024-01-01", None, 10.0, "EUR", 1)])
    r = price_realisation(_lines([("C1", "M1", "2024-02-01", 0, 5.0)]), prices)
    assert len(r) == 0
    ex = excluded(r)
    assert ex.loc[ex["reason"].str.startswith("quantity"), "rows"].tolist() == [1]


def test_billed_lines_value_each_delivery_at_its_order_price():
    orders = pd.DataFrame({"order_id": ["A", "A"], "line": [10, 20], "customer_id": "C1",
                           "material_id": ["M1", "M2"], "quantity": [10.0, 0.0],
                           "net_value": [25.0, 0.0], "currency": "EUR"})  # fmt: skip
    deliveries = pd.DataFrame({"delivery_id": ["D1", "D2", "D3"], "order_id": ["A", "A", "B"],
                               "line": [10, 20, 10],
                               "delivered_date": pd.to_datetime(["2024-03-01"] * 3),
                               "delivered_quantity": [4.0, 1.0, 1.0]})  # fmt: skip
    b = billed_lines(orders, deliveries)
    assert b["net_value"].tolist() == [10.0]
    assert excluded(b)["rows"].tolist() == [1, 1]


def test_gross_margin_per_family_and_month_only_where_the_cost_is_in_the_line_currency():
    lines = _lines(
        [("C1", "M1", "2024-01-03", 10, 100.0), ("C1", "M2", "2024-01-09", 2, 40.0),
         ("C1", "M1", "2024-02-01", 5, 50.0), ("C1", "M3", "2024-02-01", 1, 99.0)]
    )  # fmt: skip
    materials = pd.DataFrame({"material_id": ["M1", "M2", "M3"], "product_family": ["F", "F", "G"],
                              "unit_cost": [6.0, 15.0, 50.0],
                              "cost_currency": ["EUR", None, "USD"]})  # fmt: skip
    r = gross_margin(lines, materials, by=("product_family", "period"))
    assert r["period"].astype(str).tolist() == ["2024-01", "2024-02"]
    # January: 140 - (10*6 + 2*15) = 50; February: 50 - 30 = 20 (M3's USD cost left out)
    assert r["gross_margin"].tolist() == [50.0, 20.0]
    assert r["margin_pct"].tolist() == pytest.approx([50 / 140, 20 / 50])
    ex = excluded(r).set_index("reason")
    assert ex.loc["unit_cost in another currency", "revenue"] == 99.0

    # with closing rates the USD cost converts to the line's EUR: 1 x 50 USD x 0.9 = 45 EUR
    r = gross_margin(
        lines, materials, by=("product_family", "period"), rates={"EUR": 1.0, "USD": 0.9}
    )
    g = r.set_index(["product_family", r["period"].astype(str)])["gross_margin"]
    assert g[("G", "2024-02")] == pytest.approx(99.0 - 45.0)
    assert excluded(r).set_index("reason").loc["unit_cost in another currency", "rows"] == 0


def test_special_price_requests_on_a_date():
    f = pd.DataFrame(
        {
            "request_id": ["R1", "R2", "R3", "R4"],
            "customer_id": "C1",
            "material_id": "M1",
            "requested_date": pd.to_datetime(
                ["2024-01-10", "2024-05-01", "2024-05-20", "2024-07-01"]
            ),
            "status": ["approved", "approved", "approved", "open"],
            "requested_price": [8.0, 9.0, 9.0, 7.0],
            "approved_price": [8.5, 9.0, 9.0, None],
            "reference_price": [10.0, 10.0, 10.0, 10.0],
            "decided_date": pd.to_datetime(["2024-01-20", "2024-05-11", "2024-06-10", None]),
            "expiry_date": pd.to_datetime(["2024-05-31", "2024-07-15", "2024-12-31", None]),
        }
    )
    r = special_price_requests(f, as_of="2024-06-05", expiring_days=60).set_index("request_id")
    # R3 was decided after as_of: on 5 June it was still open; R4 not raised yet
    assert r["state"].to_dict() == {"R3": "open", "R2": "expiring", "R1": "expired"}
    assert r.loc["R3", "age_days"] == 16.0 and r.loc["R1", "decision_days"] == 10.0
    assert r.loc["R1", "discount"] == pytest.approx(0.15)
    assert r.loc["R1", "asked_discount"] == pytest.approx(0.2)
    assert excluded(r)["rows"].tolist() == [1]


@pytest.fixture(scope="module")
def sample():
    raw = pd.read_csv(SAMPLE, keep_default_na=False, na_values=[""])
    return raw


def test_price_realisation_against_msrp_on_the_sample_sales_data(sample):
    """Real-shaped order lines: the unit price is SALES / QUANTITYORDERED (PRICEEACH is
    capped at 100), the list price MSRP, in USD (../shared/data/README.md)."""
    live = sample[sample["STATUS"] != "Cancelled"]
    lines = pd.DataFrame(
        {
            "customer_id": live["CUSTOMERNAME"].astype("str"),
            "material_id": live["PRODUCTCODE"].astype("str"),
            "billing_date": pd.to_datetime(live["ORDERDATE"], format="%m/%d/%Y %H:%M"),
            "quantity": live["QUANTITYORDERED"].astype("float64"),
            "net_value": live["SALES"].astype("float64"),
            "currency": "USD",
        }
    )
    pairs = lines[["customer_id", "material_id"]].drop_duplicates()
    msrp = live.drop_duplicates("PRODUCTCODE").set_index("PRODUCTCODE")["MSRP"]
    prices = pairs.assign(
        source="price_list",
        valid_from=pd.Timestamp("2003-01-01"),
        valid_to=pd.NaT,
        price=pairs["material_id"].map(msrp).astype("float64"),
        currency="USD",
        price_unit=1,
    )
    r = price_realisation(lines, prices)
    assert len(r) == len(lines) and (r["agreement_source"] == "price_list").all()
    # independent reference: the same ratio with a plain groupby
    ref = (
        live.assign(list_value=live["QUANTITYORDERED"] * live["MSRP"])
        .groupby("CUSTOMERNAME")[["SALES", "list_value"]]
        .sum()
    )
    ref = ref["SALES"] / ref["list_value"]
    s = price_realisation_summary(r).set_index("customer_id")["realisation"]
    pd.testing.assert_series_equal(
        s.sort_index(), ref.sort_index(), check_names=False, check_index_type=False
    )
    tol = (live["SALES"] - live["QUANTITYORDERED"] * live["MSRP"]).abs() <= 0.005 * live[
        "QUANTITYORDERED"
    ] * live["MSRP"] + 0.01
    assert int((r["issue"] == "ok").sum()) == int(tol.sum())
    assert set(r["issue"]) <= {"ok", "off agreement", "price unit"}
    audit = price_audit(r)
    assert len(audit) == int((~tol).sum())
    assert audit["at_stake"].abs().is_monotonic_decreasing


def test_an_sap_condition_extract_loads_unedited_through_the_mapping(tmp_path):
    """KONP/A005-style price records (German formats, SAP field names and condition types)
    map onto the prices table and give the same realisation as the contract's words."""
    from kamlab.config import load_settings
    from kamlab.data.ingest import read_extracts
    from kamlab.data.validate import validate

    (tmp_path / "prices.csv").write_text(
        "KUNNR;MATNR;KSCHL;DATAB;DATBI;KBETR;KONWA;KPEIN\n"
        "0000100001;M1;PR00;01.01.2024;31.12.9999;1.250,00;EUR;100\n"
        "0000100001;M1;ZSPR;01.03.2024;31.05.2024;1.100,00;EUR;100\n",
        encoding="utf-8",
    )
    (tmp_path / "kamlab.toml").write_text(
        '[formats]\ndate_format = "%d.%m.%Y"\ndecimal = ","\nthousands = "."\n'
        '[mapping.prices]\nKUNNR = "customer_id"\nMATNR = "material_id"\nKSCHL = "source"\n'
        'DATAB = "valid_from"\nDATBI = "valid_to"\nKBETR = "price"\nKONWA = "currency"\n'
        'KPEIN = "price_unit"\n'
        '[mapping.prices.recode.source]\nPR00 = "contract"\nZSPR = "special_price"\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path / "kamlab.toml")
    frames, _, _ = read_extracts(tmp_path, settings=settings)
    frames["customers"] = pd.DataFrame(
        {"customer_id": ["0000100001"], "name": ["A"], "account_manager": ["K"], "region": ["R"],
         "segment": ["S"], "currency": ["EUR"], "credit_limit": [""], "payment_terms_days": ["30"],
         "otif_target": [""], "forecast_accuracy_target": [""]}
    )  # fmt: skip
    frames["materials"] = pd.DataFrame(
        {"material_id": ["M1"], "description": ["d"], "product_family": ["F"],
         "lifecycle": ["active"]}
    )  # fmt: skip
    for name in ("orders", "deliveries", "customer_forecasts", "invoices", "payments",
                 "complaints", "budget"):  # fmt: skip
        frames[name] = pd.DataFrame(columns=TABLES[name].column_names)
    prices = validate(frames, settings=settings).prices
    assert prices["source"].tolist() == ["contract", "special_price"]
    assert prices["price"].tolist() == [1250.0, 1100.0] and prices["price_unit"].tolist() == [
        100,
        100,
    ]
    r = price_realisation(
        _lines([("0000100001", "M1", "2024-04-02", 200, 2200.0), ("0000100001", "M1", "2024-06-03", 200, 2200.0)]),
        prices,
    )  # fmt: skip
    assert r["issue"].tolist() == ["ok", "expired special price"]
    assert r["at_stake"].tolist() == [0.0, 300.0]


def test_bad_price_records_are_refused_at_load_with_table_column_rule_and_rows():
    from kamlab.data.validate import ContractError, validate

    frames = {
        "customers": pd.DataFrame(
            {"customer_id": ["C1"], "name": ["A"], "account_manager": ["K"], "region": ["R"],
             "segment": ["S"], "currency": ["EUR"], "credit_limit": [""],
             "payment_terms_days": ["30"], "otif_target": [""], "forecast_accuracy_target": [""]}
        ),
        "materials": pd.DataFrame({"material_id": ["M1"], "description": ["d"],
                                   "product_family": ["F"], "lifecycle": ["active"]}),
        "prices": pd.DataFrame(
            {"customer_id": ["C1", "C1", "C9"], "material_id": ["M1", "M1", "M1"],
             "source": ["contract", "rebate", "contract"],
             "valid_from": ["2024-06-01", "2024-01-01", "2024-01-01"],
             "valid_to": ["2024-05-31", "", ""], "price": ["10", "10", "10"],
             "currency": ["EUR", "EUR", "EUR"], "price_unit": ["0", "1", "1"]}
        ),
    }  # fmt: skip
    for name in ("orders", "deliveries", "customer_forecasts", "invoices", "payments",
                 "complaints", "budget"):  # fmt: skip
        frames[name] = pd.DataFrame(columns=TABLES[name].column_names)
    with pytest.raises(ContractError) as info:
        validate(frames)
    f = info.value.failures
    f = f[f["table"] == "prices"].set_index("rule")
    assert f.loc[">= 1", "column"] == "price_unit"
    assert f.loc["one of special_price, contract, price_list", "column"] == "source"
    assert f.loc["valid to not before valid from", "count"] == 1
    assert f.loc["exists in customers.customer_id", "count"] == 1
