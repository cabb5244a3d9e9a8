"""validate(): every contract rule fails loudly, naming table, column, rule and rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import small_extracts

from kamlab.config import DEFAULTS, FormatSettings, Settings
from kamlab.data.contract import TABLES, Column
from kamlab.data.validate import FAILURE_COLUMNS, ContractError, coerce_column, validate


def _broken(table: str, row: int, column: str, value) -> dict[str, pd.DataFrame]:
    frames = small_extracts()
    frames[table].loc[row, column] = value
    return frames


def _expect(frames, table, column, rule, line, value=None, settings=DEFAULTS) -> ContractError:
    """validate() raises with a message row naming table, column, rule and the file line."""
    pattern = rf"{re.escape(table)}\s+{re.escape(column)}\s+[^\n]*{re.escape(rule)}[^\n]*?\s\d+\s+line {line}:"
    if value is not None:
        pattern += rf".*{re.escape(value)}"
    with pytest.raises(ContractError, match=pattern) as info:
        validate(frames, settings=settings)
    return info.value


def test_valid_extracts_come_back_typed_as_the_contract_says():
    ds = validate(small_extracts())
    assert ds.orders["customer_id"].dtype == "str"
    assert ds.orders["line"].dtype == "int64"
    assert ds.orders["order_date"].dtype == "datetime64[us]"
    assert ds.budget["period"].dtype == pd.PeriodDtype("M")
    assert ds.deliveries["air_freight"].tolist() == [False, True, False]
    assert ds.invoices["reference_instalment"].dtype == "Int64"
    assert ds.customers["credit_limit"].isna().tolist() == [False, True]
    assert ds.orders["confirmed_date"].isna().sum() == 1
    assert ds.exclusions.empty


def test_optional_table_absent_gives_an_empty_typed_frame():
    frames = small_extracts()
    del frames["instalments"]
    ds = validate(frames)
    assert ds.instalments.empty
    assert list(ds.instalments.columns) == TABLES["instalments"].column_names
    assert ds.instalments["due_date"].dtype == "datetime64[us]"


def test_optional_column_absent_gives_an_empty_typed_column():
    ds = validate(small_extracts())
    assert ds.customers["wallet_share"].isna().all()
    assert ds.customers["wallet_share"].dtype == "float64"


def test_orders_or_invoices_must_be_given():
    frames = small_extracts()
    del frames["orders"], frames["invoices"], frames["deliveries"], frames["instalments"]
    del frames["payments"]
    with pytest.raises(
        ContractError, match=r"orders\s+table present\s+1\s+no orders or invoices extract given"
    ):
        validate(frames)


def test_absent_optional_tables_are_empty_and_named():
    frames = small_extracts()
    for name in ("deliveries", "customer_forecasts", "complaints", "budget", "instalments"):
        del frames[name]
    ds = validate(frames)
    assert ds.absent == tuple(name for name in TABLES if name not in frames)
    assert {"deliveries", "customer_forecasts", "instalments", "complaints", "budget"} <= set(
        ds.absent
    )
    assert ds.derived == () and ds.deliveries.empty and len(ds.orders) == 4


def test_orders_customers_and_materials_alone_make_a_dataset():
    frames = {
        k: v for k, v in small_extracts().items() if k in ("orders", "customers", "materials")
    }
    ds = validate(frames)
    assert len(ds.orders) == 4 and ds.invoices.empty and ds.derived == ()
    assert set(ds.absent) == set(TABLES) - set(frames)


def test_invoices_and_payments_alone_make_a_dataset_with_derived_customers():
    frames = {k: v for k, v in small_extracts().items() if k in ("invoices", "payments")}
    ds = validate(frames)
    assert ds.derived == ("customers",)
    assert "customers" not in ds.absent and "orders" in ds.absent and "materials" in ds.absent
    c = ds.customers.set_index("customer_id")
    assert c["name"].to_dict() == {"C1": "C1", "C2": "C2"}
    assert c["currency"].to_dict() == {"C1": "EUR", "C2": "USD"}
    # median days from posting to due date of the customer's invoices (credit notes left out)
    assert c["payment_terms_days"].to_dict() == {"C1": 30, "C2": 60}
    assert ds.customers["credit_limit"].isna().all()


def test_derived_customer_currency_is_the_one_used_most():
    frames = {k: v for k, v in small_extracts().items() if k in ("orders", "materials")}
    frames["orders"].loc[3, "currency"] = "EUR"  # C2: USD, EUR -> tie -> EUR (alphabetical)
    ds = validate(frames)
    assert ds.customers.set_index("customer_id")["currency"].to_dict() == {"C1": "EUR", "C2": "EUR"}
    assert ds.customers["payment_terms_days"].isna().all()  # no invoices: unknown


def test_derived_materials_from_orders():
    frames = {k: v for k, v in small_extracts().items() if k in ("orders", "customers")}
    ds = validate(frames)
    assert ds.derived == ("materials",)
    assert ds.materials["material_id"].tolist() == ["M1", "M2", "M3"]
    assert set(ds.materials["lifecycle"]) == {"active"}


def test_a_missing_referenced_table_is_one_line_with_the_rows_that_refer_to_it():
    frames = small_extracts()
    del frames["invoices"]
    with pytest.raises(ContractError) as info:
        validate(frames)
    f = info.value.failures
    assert f[["table", "rule", "count"]].values.tolist() == [["invoices", "table present", 3]]
    assert "instalments (2 rows), payments (1 row)" in f["examples"][0][0]


def test_an_empty_master_table_is_one_line_not_a_foreign_key_failure_per_table():
    frames = small_extracts()
    frames["customers"] = frames["customers"].iloc[0:0]
    with pytest.raises(ContractError) as info:
        validate(frames)
    f = info.value.failures
    assert f[["table", "column", "rule"]].values.tolist() == [["customers", "", "table present"]]
    assert f["count"][0] == 4 + 4 + 3 + 2 + 1 + 2  # orders, forecasts, invoices, payments ...
    assert f["examples"][0][0].startswith("has no rows; referred to by orders (4 rows)")


def test_unknown_table_is_reported():
    frames = small_extracts()
    frames["ordres"] = frames["orders"]
    with pytest.raises(ContractError, match=r"ordres\s+known table"):
        validate(frames)


def test_missing_required_column_is_reported_with_the_columns_present():
    frames = small_extracts()
    frames["orders"] = frames["orders"].drop(columns="requested_date")
    with pytest.raises(
        ContractError, match=r"orders\s+requested_date\s+required column.*order_date"
    ) as info:
        validate(frames)
    assert len(info.value.failures) == 1  # said once: not also "not empty"


def test_missing_key_column_is_not_also_a_duplicate_key():
    frames = small_extracts()
    frames["orders"] = frames["orders"].drop(columns="line")
    with pytest.raises(ContractError) as info:
        validate(frames)
    assert info.value.failures["rule"].tolist() == ["required column"]


def test_empty_cell_in_a_non_nullable_column_is_reported():
    _expect(
        _broken("orders", 2, "material_id", ""),
        "orders",
        "material_id",
        "not empty",
        4,
        "material_id=<empty>",
    )


def test_unparseable_number_names_the_value():
    _expect(
        _broken("orders", 1, "quantity", "12 pcs"),
        "orders",
        "quantity",
        "parses as float",
        3,
        "quantity='12 pcs'",
    )


def test_fractional_integer_is_a_parse_failure():
    _expect(_broken("orders", 0, "line", "10.5"), "orders", "line", "parses as int", 2, "'10.5'")


def test_unparseable_date_names_the_value():
    _expect(
        _broken("invoices", 1, "posting_date", "31.02.2024"),
        "invoices",
        "posting_date",
        "parses as date",
        3,
        "'31.02.2024'",
    )


def test_unparseable_month_names_the_value():
    _expect(
        _broken("budget", 0, "period", "Feb 2024"),
        "budget",
        "period",
        "parses as period",
        2,
        "'Feb 2024'",
    )


def test_unparseable_flag_names_the_value():
    _expect(
        _broken("deliveries", 2, "air_freight", "maybe"),
        "deliveries",
        "air_freight",
        "parses as bool",
        4,
        "'maybe'",
    )


def test_value_below_ge_bound_is_reported():
    _expect(_broken("orders", 3, "quantity", "-5"), "orders", "quantity", ">= 0", 5, "quantity=-5")


def test_value_not_above_gt_bound_is_reported():
    _expect(_broken("payments", 1, "amount", "0"), "payments", "amount", "> 0", 3, "amount=0")


def test_value_above_le_bound_is_reported():
    _expect(
        _broken("customers", 0, "otif_target", "95"),
        "customers",
        "otif_target",
        "<= 1",
        2,
        "otif_target=95",
    )


def test_value_outside_the_allowed_set_is_reported():
    _expect(
        _broken("orders", 0, "status", "shipped"),
        "orders",
        "status",
        "one of open, delivered, cancelled",
        2,
        "status='shipped'",
    )


def test_value_not_matching_the_pattern_is_reported():
    _expect(
        _broken("invoices", 2, "currency", "EURO"),
        "invoices",
        "currency",
        "matches [A-Z]{3}",
        4,
        "currency='EURO'",
    )


def test_duplicate_id_is_reported_with_every_duplicate_line():
    err = _expect(
        _broken("customers", 1, "customer_id", "C1"),
        "customers",
        "customer_id",
        "unique key",
        2,
        "customer_id='C1'",
    )
    row = err.failures.query("rule == 'unique key'").iloc[0]
    assert row["count"] == 2 and row["lines"] == [2, 3]


def test_duplicate_compound_key_is_reported():
    frames = _broken("orders", 1, "line", "10")
    _expect(frames, "orders", "order_id, line", "unique key", 2, "order_id='O1' line=10")


def test_due_date_before_posting_date_is_reported():
    _expect(
        _broken("invoices", 0, "due_date", "2024-01-01"),
        "invoices",
        "due_date",
        "due date not before posting date",
        2,
        "posting_date=2024-02-05",
    )


def test_forecast_for_a_month_before_its_snapshot_is_reported():
    _expect(
        _broken("customer_forecasts", 1, "period", "2023-12"),
        "customer_forecasts",
        "period",
        "target month not before the snapshot month",
        3,
        "period=2023-12",
    )


def test_forecast_for_the_snapshot_month_itself_passes():
    frames = _broken("customer_forecasts", 1, "period", "2024-01")
    assert len(validate(frames).customer_forecasts) == 4


def test_complaint_closed_before_it_opened_is_reported():
    _expect(
        _broken("complaints", 0, "closed_date", "2024-02-01"),
        "complaints",
        "closed_date",
        "closed not before opened",
        2,
    )


def test_unknown_customer_is_reported():
    _expect(
        _broken("orders", 2, "customer_id", "C9"),
        "orders",
        "customer_id",
        "exists in customers.customer_id",
        4,
        "customer_id='C9'",
    )


def test_unknown_material_is_reported():
    _expect(
        _broken("complaints", 0, "material_id", "M9"),
        "complaints",
        "material_id",
        "exists in materials.material_id",
        2,
        "material_id='M9'",
    )


def test_delivery_of_an_unknown_order_line_is_reported():
    _expect(
        _broken("deliveries", 0, "line", "30"),
        "deliveries",
        "order_id, line",
        "exists in orders.order_id, line",
        2,
        "line=30",
    )


def test_payment_for_an_unknown_invoice_is_reported():
    _expect(
        _broken("payments", 0, "allocated_document", "I7"),
        "payments",
        "allocated_document",
        "exists in invoices.document_id with document_type = invoice",
        2,
        "allocated_document='I7'",
    )


def test_payment_allocated_to_a_credit_note_is_reported():
    _expect(
        _broken("payments", 0, "allocated_document", "CN1"),
        "payments",
        "allocated_document",
        "with document_type = invoice",
        2,
        "'CN1'",
    )


def test_payment_in_another_currency_than_its_invoice_is_reported():
    _expect(
        _broken("payments", 0, "currency", "USD"),
        "payments",
        "currency",
        "same currency as invoices row",
        2,
        "currency='USD' invoices.currency='EUR'",
    )


def test_payment_for_another_customers_invoice_is_reported():
    frames = small_extracts()
    frames["payments"].loc[1, "allocated_document"] = "I1"  # C2 pays C1's EUR invoice in USD
    err = _expect(
        frames,
        "payments",
        "customer_id",
        "same customer_id as invoices row",
        3,
        "invoices.customer_id='C1'",
    )
    assert set(err.failures["column"]) >= {"customer_id", "currency"}


def test_credit_note_referring_to_another_customers_invoice_is_reported():
    frames = _broken("invoices", 2, "reference_document", "I2")
    _expect(frames, "invoices", "customer_id", "same customer_id as invoices row", 4)


def test_instalments_not_adding_up_to_the_invoice_are_reported():
    _expect(
        _broken("instalments", 1, "amount", "13.5"),
        "instalments",
        "amount",
        "instalments sum to the invoice amount",
        2,
        "sum=19.5 invoice amount=20",
    )


def test_instalments_adding_up_within_a_cent_pass():
    frames = small_extracts()
    frames["instalments"].loc[1, "amount"] = "14.004"
    assert len(validate(frames).instalments) == 2


def test_instalment_of_a_credit_note_is_reported():
    _expect(
        _broken("instalments", 0, "document_id", "CN1"),
        "instalments",
        "document_id",
        "with document_type = invoice",
        2,
    )


def test_all_failures_are_collected_in_one_error():
    frames = small_extracts()
    frames["orders"].loc[0, "customer_id"] = "C9"
    frames["payments"].loc[0, "currency"] = "USD"
    frames["materials"].loc[2, "lifecycle"] = "obsolete"
    with pytest.raises(ContractError) as info:
        validate(frames)
    failures = info.value.failures
    assert list(failures.columns) == FAILURE_COLUMNS
    assert set(zip(failures["table"], failures["column"], strict=True)) == {
        ("orders", "customer_id"),
        ("payments", "currency"),
        ("materials", "lifecycle"),
    }
    assert "3 failures in 3 tables" in str(info.value)


def test_an_unparseable_cell_is_not_also_reported_as_empty():
    with pytest.raises(ContractError) as info:
        validate(_broken("orders", 1, "quantity", "abc"))
    assert info.value.failures["rule"].tolist() == ["parses as float"]


def test_only_the_first_five_offending_rows_are_quoted_but_all_are_counted():
    frames = small_extracts()
    orders = frames["orders"]
    many = pd.concat([orders] * 3, ignore_index=True)
    many["line"] = pd.Series(np.arange(len(many)).astype(str), dtype="str")
    many["quantity"] = "-1"
    frames["orders"] = many
    with pytest.raises(ContractError) as info:
        validate(frames)
    row = info.value.failures.iloc[0]
    assert row["count"] == 12
    assert row["lines"] == [2, 3, 4, 5, 6]


def test_blank_lines_are_left_out_and_counted():
    frames = small_extracts()
    blank = pd.DataFrame({c: [""] for c in frames["orders"].columns}, dtype="str")
    frames["orders"] = pd.concat([frames["orders"], blank], ignore_index=True)
    ds = validate(frames)
    assert len(ds.orders) == 4
    assert ds.exclusions.to_dict("records") == [
        {"table": "orders", "reason": "blank line", "rows": 1}
    ]


def test_line_numbers_count_blank_lines_left_out():
    frames = small_extracts()
    blank = pd.DataFrame({c: [""] for c in frames["orders"].columns}, dtype="str")
    orders = pd.concat([blank, frames["orders"]], ignore_index=True)
    orders.loc[2, "status"] = "lost"
    frames["orders"] = orders
    _expect(frames, "orders", "status", "one of", 4, "'lost'")


def test_validate_does_not_change_its_input():
    frames = small_extracts()
    before = {k: v.copy() for k, v in frames.items()}
    validate(frames)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_ids_keep_leading_zeros_and_na_stays_a_value():
    frames = small_extracts()
    for table in (
        "customers",
        "orders",
        "invoices",
        "payments",
        "complaints",
        "budget",
        "customer_forecasts",
    ):
        frames[table]["customer_id"] = frames[table]["customer_id"].replace("C1", "0001")
    frames["customers"].loc[1, "region"] = "NA"
    ds = validate(frames)
    assert ds.customers["customer_id"].tolist() == ["0001", "C2"]
    assert ds.customers["region"].tolist() == ["DE", "NA"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.234,56", 1234.56), ("125,00-", -125.0), ("0,5", 0.5), ("  7 ", 7.0), ("", None)],
)
def test_german_numbers_are_read_with_the_configured_separators(text, expected):
    column = Column("x", "float", "x", nullable=True)
    values, bad = coerce_column(
        pd.Series([text], dtype="str"), column, FormatSettings(decimal=",", thousands=".")
    )
    assert not bad.any()
    assert values.isna().iloc[0] if expected is None else values.iloc[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("X", True),
        ("x", True),
        ("yes", True),
        ("1", True),
        ("true", True),
        ("no", False),
        ("0", False),
        ("False", False),
    ],
)
def test_flags_are_read_from_the_usual_spellings(text, expected):
    values, bad = coerce_column(pd.Series([text], dtype="str"), Column("f", "bool", "f"))
    assert not bad.any() and values.iloc[0] == expected


def test_blank_sap_flag_is_false_when_configured_and_empty_otherwise():
    column = Column("f", "bool", "f")
    values, _ = coerce_column(pd.Series(["X", ""]), column, FormatSettings(blank_flag_false=True))
    assert values.tolist() == [True, False]
    values, _ = coerce_column(pd.Series(["X", ""]), column)
    assert values.isna().tolist() == [False, True]


def test_dates_in_the_configured_format_and_iso_both_parse():
    column = Column("d", "date", "d")
    values, bad = coerce_column(
        pd.Series(["31.12.2024", "2024-06-30", "7/4/2024"]),
        column,
        FormatSettings(date_format="%d.%m.%Y"),
    )
    assert values[:2].dt.strftime("%Y-%m-%d").tolist() == ["2024-12-31", "2024-06-30"]
    assert bad.tolist() == [False, False, True]


def test_date_with_a_time_part_keeps_the_day():
    values, bad = coerce_column(
        pd.Series(["2/24/2003 0:00", "11/5/2004 13:45"]),
        Column("d", "date", "d"),
        FormatSettings(date_format="%m/%d/%Y %H:%M"),
    )
    assert not bad.any()
    assert values.dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2003-02-24 00:00", "2004-11-05 00:00"]


def test_months_in_a_configured_format_parse_to_periods():
    values, bad = coerce_column(
        pd.Series(["03.2025", "2025-04"]),
        Column("p", "period", "p"),
        FormatSettings(period_format="%m.%Y"),
    )
    assert not bad.any()
    assert values.astype("str").tolist() == ["2025-03", "2025-04"]


def test_native_parquet_types_are_accepted():
    frames = small_extracts()
    typed = validate(frames)
    again = validate(typed.tables())
    for name, frame in typed.tables().items():
        pd.testing.assert_frame_equal(again.tables()[name], frame)


def test_whole_floats_from_spreadsheets_become_ids_without_decimals():
    values, _ = coerce_column(pd.Series([12345.0, np.nan]), Column("id", "string", "id"))
    assert values.iloc[0] == "12345" and values.isna().iloc[1]


def test_settings_formats_reach_validation():
    frames = small_extracts()
    frames["orders"]["net_value"] = ["500,5", "100", "60", "20"]
    with pytest.raises(ContractError, match="parses as float"):
        validate(frames)
    settings = Settings(formats=FormatSettings(decimal=","))
    assert validate(frames, settings=settings).orders["net_value"].iloc[0] == 500.5


@pytest.mark.parametrize("text", ["inf", "Infinity", "1e309", "-inf", "NaN", "nan"])
@pytest.mark.parametrize(
    ("table", "column"),
    [("invoices", "amount"), ("orders", "quantity"), ("customers", "credit_limit")],
)
def test_non_finite_numbers_are_rejected(text, table, column):
    err = _expect(_broken(table, 0, column, text), table, column, "finite number", 2)
    assert err.failures["rule"].tolist() == ["finite number"]  # said once, not also "empty"


def test_infinity_from_a_typed_file_is_rejected():
    frames = small_extracts()
    frames["orders"]["net_value"] = [500.5, np.inf, 60.0, 20.0]  # e.g. a parquet extract
    err = _expect(frames, "orders", "net_value", "finite number", 3, "net_value=inf")
    assert len(err.failures) == 1


def _with_mapping(mapping: dict) -> Settings:
    return Settings(mapping=mapping)


def test_per_table_and_per_column_date_formats():
    frames = small_extracts()
    frames["orders"]["order_date"] = [
        "01/05/2024 0:00",
        "1/5/2024 0:00",
        "2/10/2024 0:00",
        "3/1/2024 0:00",
    ]
    frames["orders"]["requested_date"] = ["20240201", "20240201", "20240315", "20240401"]
    frames["invoices"]["posting_date"] = ["05.02.2024", "05.04.2024", "20.02.2024"]
    mapping = {
        "orders": {"date_format": "%m/%d/%Y %H:%M", "formats": {"requested_date": "%Y%m%d"}},
        "invoices": {"formats": {"posting_date": "%d.%m.%Y"}},
    }
    got = validate(frames, settings=_with_mapping(mapping))
    expected = validate(small_extracts())
    for table in ("orders", "invoices"):
        pd.testing.assert_frame_equal(getattr(got, table), getattr(expected, table))


def test_per_column_number_format():
    frames = small_extracts()
    frames["orders"]["net_value"] = ["500,5", "100", "60", "20"]
    mapping = {"orders": {"formats": {"net_value": {"decimal": ","}}}}
    got = validate(frames, settings=_with_mapping(mapping))
    assert got.orders["net_value"].tolist() == [500.5, 100.0, 60.0, 20.0]
    assert got.orders["quantity"].tolist() == [100.0, 50.0, 10.0, 5.0]  # "." elsewhere


def test_a_date_with_a_time_part_its_format_does_not_spell_keeps_its_day():
    frames = small_extracts()
    frames["invoices"]["posting_date"] = ["05.02.2024 14:05", "05.04.2024 00:00:00", "20.02.2024"]
    mapping = {"invoices": {"formats": {"posting_date": "%d.%m.%Y"}}}
    got = validate(frames, settings=_with_mapping(mapping))
    assert (
        got.invoices["posting_date"].tolist()
        == validate(small_extracts()).invoices["posting_date"].tolist()
    )


def test_distinct_keeps_one_row_per_master_record_and_counts_the_repeats():
    frames = small_extracts()
    frames["materials"] = pd.concat([frames["materials"]] * 3, ignore_index=True)
    ds = validate(frames, settings=_with_mapping({"materials": {"distinct": True}}))
    assert ds.materials["material_id"].tolist() == ["M1", "M2", "M3"]
    assert ds.exclusions.to_dict("records") == [
        {"table": "materials", "reason": "repeated row (distinct = true)", "rows": 6}
    ]


def test_distinct_rows_that_conflict_still_break_the_key():
    frames = small_extracts()
    other = frames["materials"].iloc[[0]].assign(description="Bolt 10mm")
    frames["materials"] = pd.concat([frames["materials"], other], ignore_index=True)
    err = _expect(
        frames,
        "materials",
        "material_id",
        "unique key",
        2,
        settings=_with_mapping({"materials": {"distinct": True}}),
    )
    assert err.failures["lines"][0] == [2, 5]  # lines in the file, repeats taken out


def test_disputed_flag_on_invoices_is_read():
    frames = small_extracts()
    frames["invoices"]["disputed"] = ["Yes", "No", ""]
    ds = validate(frames)
    assert ds.invoices["disputed"].tolist() == [True, False, pd.NA]
    assert validate(small_extracts()).invoices["disputed"].isna().all()  # optional column
