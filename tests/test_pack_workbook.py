"""pack.xlsx as a managers' workbook: numbers with formats, human headers, names, no formulas."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
from pack_support import MONTH, write_notebook

from kamlab.pack import build_pack
from kamlab.pack.workbook import excel_workbook, header

EVIL_NAME, EVIL_MANAGER = "=1+1", "@SUM(A1:A9)"


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    """A real pack (tiny notebook) of a demo whose first customer is named like a formula."""
    from kamlab.data.demo import write_demo
    from kamlab.data.ingest import ingest

    root = tmp_path_factory.mktemp("workbook")
    extracts = root / "extracts"
    write_demo(extracts, customers=3, materials=30, months=30, end=MONTH, seed=1)
    customers = pd.read_csv(extracts / "customers.csv", dtype=str, keep_default_na=False)
    customers.loc[0, ["name", "account_manager"]] = [EVIL_NAME, EVIL_MANAGER]
    customers.to_csv(extracts / "customers.csv", index=False)
    ingest(extracts, root / "kam.duckdb")
    result = build_pack(
        MONTH,
        workers=1,
        source=root / "kam.duckdb",
        reports_dir=root / "reports",
        cache_dir=root / "cache",
        notebook=write_notebook(root / "tiny.ipynb", "print(customer_id)"),
        progress=False,
    )
    return openpyxl.load_workbook(result.directory / "pack.xlsx")


def _rows(sheet) -> list[dict]:
    head = [c.value for c in sheet[1]]
    return [dict(zip(head, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def test_a_formula_like_name_stays_text_on_summary_and_run_log(workbook):
    for title, column in (("Summary", "Customer"), ("Run log", "Customer")):
        cells = [r[column] for r in _rows(workbook[title]) if r[column].value == EVIL_NAME]
        assert cells, title
        assert all(c.data_type == "s" for c in cells), title
    managers = [r["Account manager"] for r in _rows(workbook["Summary"])]
    evil = [c for c in managers if c.value == EVIL_MANAGER]
    assert evil and evil[0].data_type == "s"
    for sheet in workbook.worksheets:
        formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == [], sheet.title


def test_kpis_are_numbers_with_formats_and_headers_are_human(workbook):
    summary = workbook["Summary"]
    head = [c.value for c in summary[1]]
    assert head[:4] == ["Customer ID", "Customer", "Account manager", "Status"]
    assert not any("_" in h for sheet in workbook.worksheets for h in _heads(sheet))
    rows = _rows(summary)
    otif = next(h for h in head if h.startswith("OTIF") and "status" not in h)
    cells = [r[otif] for r in rows if r[otif].value is not None]
    assert cells and all(c.data_type == "n" and c.number_format == "0.0%" for c in cells)
    assert all(0 <= c.value <= 1 for c in cells)
    dso = [
        r["Days sales outstanding"] for r in rows if r["Days sales outstanding"].value is not None
    ]
    assert dso and all(isinstance(c.value, float) and c.number_format == "#,##0" for c in dso)
    # a share column keeps its % format even when some customer's tile has no figure
    accuracy = next(h for h in head if h.startswith("Forecast accuracy") and "status" not in h)
    cells = [r[accuracy] for r in rows if r[accuracy].value is not None]
    assert all(c.number_format == "0.0%" for c in cells)


def test_every_sheet_names_the_customer_freezes_the_header_and_filters(workbook):
    for sheet in workbook.worksheets:
        heads = _heads(sheet)
        if "Customer ID" in heads:
            assert heads[heads.index("Customer ID") + 1] == "Customer", sheet.title
            names = [r["Customer"].value for r in _rows(sheet)]
            assert all(names), sheet.title
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        widths = [d.width for d in sheet.column_dimensions.values()]
        assert widths and all(8 <= w <= 62 for w in widths), sheet.title


def test_amounts_carry_their_currency_and_dates_are_dates(workbook):
    ageing = _rows(workbook["Ageing"])
    total = ageing[0]["Total"]
    assert total.data_type == "n"
    assert total.number_format == f'#,##0.00 "{ageing[0]["Currency"].value}"'
    month_end = ageing[0]["Month end"]
    assert isinstance(month_end.value, dt.datetime) and month_end.number_format == "yyyy-mm-dd"
    by_month = _rows(workbook["OTIF by month"])
    assert by_month[0]["Period"].number_format == "mmm yyyy"
    assert isinstance(by_month[0]["Period"].value, dt.datetime)


def test_otif_is_split_into_on_time_and_in_full(workbook):
    rows = _rows(workbook["OTIF 12 months"])
    heads = _heads(workbook["OTIF 12 months"])
    assert {"On time (OTD)", "In full (by now)", "OTIF"} <= set(heads)
    assert "In full in the window" not in heads  # equals OTIF on every row
    assert any(r["In full (by now)"].value != r["OTIF"].value for r in rows)


def _heads(sheet) -> list[str]:
    return [c.value for c in sheet[1]]


def test_headers_and_injection_on_a_small_frame(tmp_path):
    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "ytd_variance_pct": [0.1234, -0.05],
            "net_value": [1234.5, 99.0],
            "currency": ["EUR", "USD"],
            "comment": ["-2+3", "\tx"],
        }
    )
    path = tmp_path / "x.xlsx"
    path.write_bytes(excel_workbook({"T": frame}, names={"C1": "+A1", "C2": "Bolt"}))
    sheet = openpyxl.load_workbook(path)["T"]
    assert [c.value for c in sheet[1]] == [
        "Customer ID", "Customer", "YTD variance %", "Net value", "Currency", "Comment",
    ]  # fmt: skip
    assert sheet["B2"].value == "+A1" and sheet["B2"].data_type == "s"
    assert sheet["F2"].value == "-2+3" and sheet["F2"].data_type == "s"
    assert sheet["C2"].value == pytest.approx(0.1234) and sheet["C2"].number_format.startswith(
        "+0.0%"
    )
    assert sheet["D2"].number_format == '#,##0.00 "EUR"'
    assert sheet["D3"].number_format == '#,##0.00 "USD"'
    assert header("dso_countback") == "DSO countback"
