"""The agreed forecast: contract, scoring as a third source, the judgement's value added."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import small_extracts

from kamlab.accuracy import (
    agreed_snapshots,
    judgement_value_added,
    score,
    sop_export,
    with_agreed,
)
from kamlab.data.validate import ContractError, validate

P = pd.Period


def _agreed(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "material_id",
            "period",
            "quantity",
            "basis",
            "agreed_by",
            "agreed_on",
        ],
    ).assign(
        period=lambda f: pd.PeriodIndex(f["period"], freq="M"),
        agreed_on=lambda f: pd.to_datetime(f["agreed_on"]),
    )


def _hand_worked() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """C1 (KAM Ann) and C2 (KAM Bob), material M1, Jul and Aug 2026, actual 100 each.

    C1: customer 130, 80 · statistical 110, 90 · agreed 105, 100 (Ann)
    C2: customer 100, 100 · statistical 120, 120 · agreed 150 in Jul only (Bob)
    Snapshots and agreements one month before the target month (lag 1).
    """
    months = pd.PeriodIndex(["2026-07", "2026-08"] * 2, freq="M")
    actuals = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C2"],
            "material_id": "M1",
            "period": months,
            "quantity": 100.0,
        }
    )
    rows = []
    for cid, src, values in (
        ("C1", "customer", (130, 80)),
        ("C1", "statistical", (110, 90)),
        ("C2", "customer", (100, 100)),
        ("C2", "statistical", (120, 120)),
    ):
        for month, q in zip(("2026-07", "2026-08"), values, strict=True):
            snap = (P(month, "M") - 1).to_timestamp() + pd.Timedelta(days=4)
            rows.append((cid, "M1", snap, P(month, "M"), float(q), src))
    forecasts = pd.DataFrame(
        rows,
        columns=["customer_id", "material_id", "snapshot_date", "period", "quantity", "source"],
    )
    agreed = _agreed(
        [
            ("C1", "M1", "2026-07", 105.0, "own", "Ann", "2026-06-12"),
            ("C1", "M1", "2026-08", 100.0, "own", "Ann", "2026-07-14"),
            ("C2", "M1", "2026-07", 150.0, "own", "Bob", "2026-06-15"),
        ]
    )
    return actuals, forecasts, agreed


def test_judgement_value_added_on_a_hand_worked_example():
    actuals, forecasts, agreed = _hand_worked()
    fc = pd.concat([forecasts, agreed_snapshots(agreed)], ignore_index=True)
    v = judgement_value_added(actuals, fc, lags=[1]).set_index("customer_id")
    # C1: WAPE customer (30 + 20)/200 = 0.25, statistical (10 + 10)/200 = 0.10, agreed 5/200
    c1 = v.loc["C1"]
    assert c1["n_points"] == 2
    assert c1["error_customer"] == pytest.approx(0.25)
    assert c1["error_statistical"] == pytest.approx(0.10)
    assert c1["error_agreed"] == pytest.approx(0.025)
    assert c1["fva_agreed_vs_customer"] == pytest.approx(22.5)  # points of WAPE saved
    assert c1["fva_agreed_vs_statistical"] == pytest.approx(7.5)
    assert c1["fva_statistical_vs_customer"] == pytest.approx(15.0)
    # C2: only July was agreed (August is not a common point): 0 vs 20 vs 50 % error
    c2 = v.loc["C2"]
    assert c2["n_points"] == 1
    assert c2["fva_agreed_vs_customer"] == pytest.approx(-50.0)  # the judgement hurt
    assert c2["fva_agreed_vs_statistical"] == pytest.approx(-30.0)


def test_judgement_value_added_per_key_account_manager():
    actuals, forecasts, agreed = _hand_worked()
    fc = pd.concat([forecasts, agreed_snapshots(agreed)], ignore_index=True)
    customers = pd.DataFrame({"customer_id": ["C1", "C2"], "account_manager": ["Ann", "Bob"]})
    v = judgement_value_added(actuals, fc, lags=[1], by=("account_manager",), customers=customers)
    v = v.set_index("account_manager")
    assert v.loc["Ann", "fva_agreed_vs_customer"] == pytest.approx(22.5)
    assert v.loc["Bob", "fva_agreed_vs_statistical"] == pytest.approx(-30.0)


def test_the_agreed_forecast_is_scored_as_a_third_source_by_lag():
    actuals, forecasts, agreed = _hand_worked()
    fc = pd.concat([forecasts, agreed_snapshots(agreed)], ignore_index=True)
    s = score(actuals, fc, metrics=["wape"], pooling=["volume"], lags=[1])
    wape = s.set_index("source")["value"]
    assert set(wape.index) == {"customer", "statistical", "agreed"}
    assert wape["agreed"] == pytest.approx((5 + 0 + 50) / 300)


def test_with_agreed_takes_the_latest_agreement_since_the_challenged_snapshot():
    ch = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": ["M1", "M2", "M3"],
            "snapshot_date": pd.Timestamp("2026-11-05"),
            "period": P("2026-12", "M"),
        }
    )
    agreed = _agreed(
        [
            ("C1", "M1", "2026-12", 90.0, "kamlab", "Ann", "2026-11-12"),
            ("C1", "M1", "2026-12", 95.0, "own", "Ann", "2026-11-20"),
            ("C1", "M2", "2026-12", 70.0, "customer", "Ann", "2026-10-12"),  # before the snapshot
        ]
    )
    got = with_agreed(ch, agreed)
    assert got["agreed_quantity"].tolist()[0] == 95.0 and got["basis"].iloc[0] == "own"
    assert got["agreed_quantity"].iloc[1:].isna().all() and got["basis"].iloc[1:].isna().all()
    assert len(got) == 3  # every flagged figure stays, agreed or not


def test_sop_export_is_one_flat_row_per_customer_material_and_month():
    agreed = _agreed(
        [
            ("C2", "M1", "2026-12", 10.0, "customer", "Bob", "2026-11-12"),
            ("C1", "M1", "2026-12", 90.0, "kamlab", "Ann", "2026-11-12"),
            ("C1", "M1", "2026-12", 95.0, "own", "Ann", "2026-11-20"),
        ]
    )
    customers = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["Acme", "Bolt"]})
    flat = sop_export(agreed, customers=customers)
    assert list(flat.columns) == [
        "customer_id", "customer", "material_id", "month", "quantity", "basis", "agreed_by",
        "agreed_on",
    ]  # fmt: skip
    assert flat.to_dict("records") == [
        {"customer_id": "C1", "customer": "Acme", "material_id": "M1", "month": "2026-12",
         "quantity": 95.0, "basis": "own", "agreed_by": "Ann", "agreed_on": "2026-11-20"},
        {"customer_id": "C2", "customer": "Bolt", "material_id": "M1", "month": "2026-12",
         "quantity": 10.0, "basis": "customer", "agreed_by": "Bob", "agreed_on": "2026-11-12"},
    ]  # fmt: skip


def _with_agreed_table(basis: str = "own", period: str = "2024-03") -> dict[str, pd.DataFrame]:
    frames = small_extracts()
    frames["agreed_forecasts"] = pd.DataFrame(
        {
            "customer_id": ["C1"],
            "material_id": ["M1"],
            "period": [period],
            "quantity": ["120"],
            "basis": [basis],
            "agreed_by": ["Ann"],
            "agreed_on": ["2024-02-12"],
        }
    )
    return frames


def test_agreed_forecasts_validate_and_load_typed():
    ds = validate(_with_agreed_table())
    a = ds.agreed_forecasts
    assert len(a) == 1 and a["quantity"].iloc[0] == 120.0
    assert isinstance(a["period"].dtype, pd.PeriodDtype)
    assert "agreed_forecasts" not in ds.absent
    assert "agreed_forecasts" in validate(small_extracts()).absent  # optional


@pytest.mark.parametrize(
    ("basis", "period", "rule"),
    [("gut feeling", "2024-03", "basis"), ("own", "2024-01", "target month not before")],
)
def test_bad_agreed_forecasts_are_refused_naming_table_column_and_rule(basis, period, rule):
    with pytest.raises(ContractError, match=rf"agreed_forecasts[^\n]*{rule}"):
        validate(_with_agreed_table(basis, period))


def test_agreed_figures_typed_into_the_workbook_read_back_as_the_table(tmp_path):
    from openpyxl import load_workbook

    from kamlab.data.agreed import AgreedSheetError, agreed_from_workbook
    from kamlab.pack.workbook import excel_workbook

    ch = pd.DataFrame(
        {
            "customer_id": ["0000100001", "0000100001"],
            "material_id": ["M1", "M2"],
            "snapshot_date": pd.Timestamp("2026-11-05"),
            "period": P("2026-12", "M"),
            "customer_forecast": [150.0, 80.0],
            "statistical_forecast": [100.0, 60.0],
            "currency": "EUR",
        }
    )
    path = tmp_path / "pack.xlsx"
    path.write_bytes(excel_workbook({"Challenge list": with_agreed(ch, None)}, names={}))
    book = load_workbook(path)
    sheet = book["Challenge list"]
    head = [c.value for c in sheet[1]]
    sheet.cell(2, head.index("Agreed quantity") + 1, 120)
    sheet.cell(2, head.index("Basis (customer / kamlab / own)") + 1, "own")
    book.save(path)
    customers = pd.DataFrame({"customer_id": ["0000100001"], "account_manager": ["Ann"]})
    got = agreed_from_workbook(path, agreed_on="2026-11-12", customers=customers)
    assert got.to_dict("records") == [
        {"customer_id": "0000100001", "material_id": "M1", "period": P("2026-12", "M"),
         "quantity": 120.0, "basis": "own", "agreed_by": "Ann",
         "agreed_on": pd.Timestamp("2026-11-12")},
    ]  # fmt: skip
    validate({**small_extracts(), "agreed_forecasts": got.assign(customer_id="C1")})
    sheet.cell(3, head.index("Agreed quantity") + 1, 50)
    sheet.cell(3, head.index("Basis (customer / kamlab / own)") + 1, "hunch")
    book.save(path)
    with pytest.raises(AgreedSheetError, match=r"'Challenge list': basis not one of .* rows \[3\]"):
        agreed_from_workbook(path, agreed_on="2026-11-12", customers=customers)
