"""Currency conversion, worked by hand: undated and dated rates, the date each report uses."""

import pandas as pd
import pytest

from kamlab.currency import convert, rate_factors
from kamlab.receivables import in_reporting_currency

DATED = pd.DataFrame(
    {
        "currency": ["USD", "USD", "CHF"],
        "date": pd.to_datetime(["2025-05-31", "2025-06-30", "2025-05-31"]),
        "rate": [0.90, 0.95, 1.05],
    }
)


def test_undated_rates_apply_to_every_amount_and_the_reporting_currency_is_one():
    got = rate_factors(["USD", "EUR", "USD"], {"USD": 0.9}, reporting_currency="EUR")
    assert got.tolist() == [0.9, 1.0, 0.9]


def test_a_dated_rate_is_the_latest_on_or_before_the_amounts_date():
    on = pd.Series(pd.to_datetime(["2025-06-29", "2025-06-30", "2025-07-15", "2025-06-01"]))
    got = rate_factors(["USD", "USD", "USD", "CHF"], DATED, on=on)
    assert got.tolist() == [0.90, 0.95, 0.95, 1.05]


def test_a_monthly_period_converts_at_its_month_end_rate():
    on = pd.Series(pd.period_range("2025-05", periods=2, freq="M"))
    assert rate_factors(["USD", "USD"], DATED, on=on).tolist() == [0.90, 0.95]


def test_no_rate_is_an_error_naming_the_currency_never_a_guess():
    with pytest.raises(ValueError, match=r"no rate to EUR for \['GBP'\]"):
        rate_factors(["GBP", "USD"], {"USD": 0.9}, reporting_currency="EUR")
    with pytest.raises(ValueError, match=r"for \['USD'\] at the amounts' dates"):
        rate_factors(["USD"], DATED, on="2025-01-31")  # before the first USD rate
    with pytest.raises(ValueError, match="pass on="):
        rate_factors(["USD"], DATED)
    assert pd.isna(rate_factors(["GBP"], {"USD": 0.9}, missing="nan")[0])


def test_convert_multiplies_the_amounts_and_names_the_reporting_currency():
    frame = pd.DataFrame(
        {"customer_id": ["C1", "C2"], "currency": ["USD", "EUR"], "net_value": [200.0, 10.0]}
    )
    got = convert(frame, {"USD": 0.9}, amounts=["net_value"], reporting_currency="EUR")
    assert got["net_value"].tolist() == [180.0, 10.0]
    assert got["currency"].tolist() == ["EUR", "EUR"]
    assert frame["currency"].tolist() == ["USD", "EUR"]  # the input is untouched


def test_open_items_convert_at_the_closing_rate_of_the_as_of_date():
    open_items = pd.DataFrame(
        {"customer_id": ["C1", "C1"], "currency": ["USD", "EUR"], "total": [1000.0, 100.0]}
    )
    may = in_reporting_currency(
        open_items, DATED, reporting_currency="EUR", amounts=["total"], as_of="2025-05-31"
    )
    june = in_reporting_currency(
        open_items, DATED, reporting_currency="EUR", amounts=["total"], as_of="2025-06-30"
    )
    assert may["total"].tolist() == [1000.0]  # 900 + 100
    assert june["total"].tolist() == [1050.0]  # 950 + 100
