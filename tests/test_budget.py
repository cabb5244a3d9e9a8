"""The budget draft, the approved version in force, and the workbook round trip."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from kamlab.budget import budget_in_force, budget_revisions, draft_budget
from kamlab.cli import main
from kamlab.data.budget_workbook import (
    BUDGET_COLUMNS,
    BudgetWorkbookError,
    read_budget_workbook,
    write_budget_workbook,
)
from kamlab.data.demo import write_demo
from kamlab.service import plan_vs_actual

P = pd.Period


def _hand_built():
    """One customer, drafted for 2027 from the history up to November 2026.

    - M1 (family F1, active): forecast 10 a month; contract 2.00 until 31 Dec 2026, then
      2.20 from 1 Jan 2027 (the price change on 1 January).
    - M2 (F1, phase-out, end of life 31 Mar 2027): forecast 6 a month; no agreement;
      ordered 12 pieces for 36.00 in the last 12 months -> 3.00, plus the assumed 5 % for F1.
    - RFQ O1 (family F2), probability 0.5, 120 pieces / 1,200.00 a year, start 1 Apr 2027.
    - NPI O2 (family F3), probability 0.8, 240 pieces / 4,800.00 a year, SOP 15 Jul 2027,
      ramping up over 3 months.
    """
    months = pd.period_range("2026-12", "2027-12", freq="M")
    fc = pd.concat(
        [
            pd.DataFrame(
                {"customer_id": "C1", "material_id": "M1", "period": months, "forecast": 10.0}
            ),
            pd.DataFrame(
                {"customer_id": "C1", "material_id": "M2", "period": months, "forecast": 6.0}
            ),
        ],
        ignore_index=True,
    )
    materials = pd.DataFrame(
        {
            "material_id": ["M1", "M2"],
            "product_family": ["F1", "F1"],
            "lifecycle": ["active", "phase-out"],
        }  # fmt: skip
    )
    plan = pd.DataFrame(
        {
            "material_id": ["M2", "M2"],
            "plant": ["P1", "P2"],
            "end_of_life": pd.to_datetime(["2027-02-15", "2027-03-31"]),
        }  # fmt: skip
    )
    prices = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": "M1",
            "source": "contract",
            "valid_from": pd.to_datetime(["2026-01-01", "2027-01-01"]),
            "valid_to": pd.to_datetime(["2026-12-31", None]),
            "price": [200.0, 220.0],
            "currency": "EUR",
            "price_unit": 100,
        }
    )
    orders = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": "M2",
            "requested_date": pd.to_datetime(["2026-03-10", "2026-09-10", "2025-06-01"]),
            "quantity": [4.0, 8.0, 100.0],  # the 2025 line is older than 12 months
            "net_value": [12.0, 24.0, 100.0],
            "currency": "EUR",
            "status": "delivered",
        }
    )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2"],
            "customer_id": "C1",
            "type": ["rfq", "npi"],
            "material_id": [None, None],
            "product_family": ["F2", "F3"],
            "status": "open",
            "probability": [0.5, 0.8],
            "annual_volume": [120.0, 240.0],
            "annual_value": [1200.0, 4800.0],
            "currency": "EUR",
            "created_date": pd.to_datetime(["2026-05-01", "2026-02-01"]),
            "decided_date": pd.NaT,
            "sop_date": pd.to_datetime(["2027-04-01", "2027-07-15"]),
            "expected_award_date": pd.NaT,
        }
    )
    return draft_budget(
        fc,
        materials,
        year=2027,
        as_of="2026-11-30",
        orders=orders,
        prices=prices,
        opportunities=opportunities,
        plan=plan,
        price_increase={"F1": 0.05},
        npi_ramp_months=3,
    )


def test_a_hand_built_draft_line_by_line():
    d = _hand_built().set_index(["product_family", "period"])
    # F1: M1 10 x 2.20, plus M2 tapered from the end of November to its end of life in March
    # (the later of its two plants): 1 - (m - Nov) / 5 -> Jan 0.6, Feb 0.4, Mar 0.2, then 0
    m2_price = 3.0 * 1.05
    for month, w in (("2027-01", 0.6), ("2027-02", 0.4), ("2027-03", 0.2), ("2027-04", 0.0)):
        row = d.loc[("F1", P(month, "M"))]
        assert row["base_quantity"] == pytest.approx(10 + 6 * w)
        assert row["base_value"] == pytest.approx(10 * 2.2 + 6 * w * m2_price)
        assert row["value_at_agreement"] == pytest.approx(22.0)
        assert row["phase_out_quantity"] == pytest.approx(6 * (1 - w))
        assert row["draft_value"] == pytest.approx(row["base_value"])
        assert row["currency"] == "EUR"
    # F2: the RFQ at half its run rate from April, nothing before
    assert ("F2", P("2027-03", "M")) not in d.index
    rfq = d.loc[("F2", P("2027-04", "M"))]
    assert (rfq["pipeline_quantity"], rfq["pipeline_value"]) == pytest.approx((5.0, 50.0))
    assert np.isnan(rfq["base_quantity"]) and rfq["draft_quantity"] == pytest.approx(5.0)
    # F3: the NPI project at 80 %, ramping 1/3, 2/3, then full from its SOP in July
    for month, r in (("2027-07", 1 / 3), ("2027-08", 2 / 3), ("2027-09", 1.0), ("2027-12", 1.0)):
        npi = d.loc[("F3", P(month, "M"))]
        assert npi["npi_quantity"] == pytest.approx(0.8 * 20 * r)
        assert npi["npi_value"] == pytest.approx(0.8 * 400 * r)
        assert npi["draft_value"] == pytest.approx(0.8 * 400 * r)
    # only 2027 is drafted: December 2026 of the forecast is left out and counted
    assert d.index.get_level_values("period").min() == P("2027-01", "M")
    from kamlab.exclusions import excluded

    assert excluded(_hand_built())["rows"].sum() == 2


def test_the_price_source_and_an_unpriced_material_are_said_not_hidden():
    fc = pd.DataFrame({"customer_id": "C1", "material_id": "M9", "forecast": 4.0,
                       "period": pd.period_range("2027-01", periods=12, freq="M")})  # fmt: skip
    mat = pd.DataFrame({"material_id": ["M9"], "product_family": ["F"], "lifecycle": ["active"]})
    d = draft_budget(fc, mat, year=2027, as_of="2026-12-31")
    assert d["unpriced_quantity"].tolist() == [4.0] * 12
    assert d["draft_value"].isna().all() and d["currency"].isna().all()
    assert d["draft_quantity"].tolist() == [4.0] * 12


def test_a_forecast_that_does_not_reach_december_is_refused():
    fc = pd.DataFrame({"customer_id": "C1", "material_id": "M1", "forecast": 1.0,
                       "period": pd.period_range("2027-01", periods=6, freq="M")})  # fmt: skip
    mat = pd.DataFrame({"material_id": ["M1"], "product_family": ["F"], "lifecycle": ["active"]})
    with pytest.raises(
        ValueError, match=r"forecast ends 2027-06; the 2027 budget needs it up to 2027-12"
    ):
        draft_budget(fc, mat, year=2027, as_of="2026-12-31")


def _versions() -> pd.DataFrame:
    months = pd.period_range("2026-01", periods=12, freq="M")
    original = pd.DataFrame({"customer_id": "C1", "period": months, "product_family": None,
                             "planned_quantity": 10.0, "planned_revenue": 100.0, "currency": "EUR",
                             "version_date": pd.Timestamp("2025-12-15")})  # fmt: skip
    revised = original.assign(version_date=pd.Timestamp("2026-07-01"))
    revised.loc[6:, "planned_revenue"] = 70.0
    return pd.concat([original, revised], ignore_index=True)


def test_plan_vs_actual_uses_the_version_in_force_and_refuses_two():
    b = _versions()
    orders = pd.DataFrame({"customer_id": "C1", "material_id": "M1", "quantity": 1.0,
                           "requested_date": pd.to_datetime(["2026-08-10"]), "net_value": [90.0],
                           "currency": "EUR", "status": "delivered"})  # fmt: skip
    with pytest.raises(ValueError, match="several versions"):
        plan_vs_actual(orders, b, month="2026-08")
    june = plan_vs_actual(orders, budget_in_force(b, as_of="2026-06-30"), month="2026-06")
    august = plan_vs_actual(orders, budget_in_force(b, as_of="2026-08-31"), month="2026-08")
    revenue = lambda r: r.loc[r["measure"] == "revenue"].iloc[0]  # noqa: E731
    assert revenue(june)["fy_plan"] == 1200.0
    assert revenue(august)["fy_plan"] == 6 * 100.0 + 6 * 70.0
    assert revenue(august)["month_plan"] == 70.0
    r = budget_revisions(b, as_of="2026-08-31").iloc[0]
    assert (r.revised_on, r.previous_on) == (pd.Timestamp("2026-07-01"), pd.Timestamp("2025-12-15"))
    assert r.revenue_change == pytest.approx(-180.0)
    assert budget_revisions(b, as_of="2026-06-30").empty


def _edit(path, *, approved=dt.date(2026, 12, 18), changes=()):
    book = load_workbook(path)
    book["About"]["B5"] = approved
    sheet = book["Budget"]
    for row, column, value in changes:
        sheet.cell(row, column).value = value
    book.save(path)


def _column(name: str) -> int:
    return [c for c, _, _ in BUDGET_COLUMNS].index(name) + 1


def test_the_workbook_round_trip_keeps_every_figure(tmp_path):
    draft = _hand_built()
    history = _versions()
    path = write_budget_workbook(draft, tmp_path / "budget.xlsx", year=2027,
                                 drafted_on="2026-12-01", versions=history)  # fmt: skip
    sheet = load_workbook(path)["Budget"]
    assert [c.value for c in sheet[1]] == [h for _, h, _ in BUDGET_COLUMNS]
    assert sheet.protection.sheet and not sheet.cell(2, _column("budget_revenue")).protection.locked
    assert sheet.cell(2, _column("draft_value")).protection.locked
    _edit(path, changes=[(2, _column("budget_revenue"), 30.0), (2, _column("comment"), "=cheaper")])
    back = read_budget_workbook(path)
    current = back.loc[back["version_date"] == pd.Timestamp("2026-12-18")]
    assert len(current) == len(draft)
    first = draft.sort_values(["customer_id", "product_family", "period"]).iloc[0]
    assert current.iloc[0]["planned_revenue"] == 30.0  # the KAM's figure
    assert current.iloc[0]["planned_quantity"] == pytest.approx(first["draft_quantity"])
    np.testing.assert_allclose(
        current["planned_revenue"].iloc[1:].to_numpy(),
        draft.sort_values(["customer_id", "product_family", "period"])["draft_value"].iloc[1:],
    )
    earlier = back.loc[back["version_date"] != pd.Timestamp("2026-12-18")]
    pd.testing.assert_frame_equal(
        earlier.reset_index(drop=True)[["period", "planned_revenue", "version_date"]],
        history[["period", "planned_revenue", "version_date"]].astype(
            {"version_date": "datetime64[us]"}
        ),
        check_dtype=False,
    )


def test_a_moved_column_is_refused_with_one_line(tmp_path):
    path = write_budget_workbook(_hand_built(), tmp_path / "budget.xlsx", year=2027,
                                 drafted_on="2026-12-01")  # fmt: skip
    book = load_workbook(path)
    sheet = book["Budget"]
    sheet.protection.sheet = False
    sheet.move_range("T1:T200", cols=1)  # the comment column moved one to the right
    book["About"]["B5"] = dt.date(2026, 12, 18)
    book.save(path)
    with pytest.raises(BudgetWorkbookError) as info:
        read_budget_workbook(path)
    message = str(info.value)
    assert "\n" not in message
    assert "column T should be 'Comment', found None: the layout was changed" in message


def test_an_empty_figure_or_a_missing_approval_date_is_refused(tmp_path):
    path = write_budget_workbook(_hand_built(), tmp_path / "budget.xlsx", year=2027,
                                 drafted_on="2026-12-01")  # fmt: skip
    with pytest.raises(BudgetWorkbookError, match=r"About!B5 \(Approved on\) must be the date"):
        read_budget_workbook(path)
    _edit(
        path,
        changes=[(3, _column("budget_quantity"), None), (5, _column("budget_quantity"), "ten")],
    )
    with pytest.raises(BudgetWorkbookError, match="rows 3: Budget quantity is empty"):
        read_budget_workbook(path)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("budget")
    write_demo(root / "x", customers=4, materials=40, months=30, end="2026-11", seed=3)
    assert main(["ingest", str(root / "x"), "--database", str(root / "kam.duckdb")]) == 0
    return root


def test_kamlab_budget_drafts_and_ingest_reads_the_edited_workbook_back(demo_db, tmp_path, capsys):
    db = tmp_path / "kam.duckdb"
    shutil.copy(demo_db / "kam.duckdb", db)
    extracts = tmp_path / "x"
    shutil.copytree(demo_db / "x", extracts)
    out = tmp_path / "budget-2027.xlsx"
    assert main(["budget", "--year", "2027", "--database", str(db), "--out", str(out)]) == 0
    assert (
        "budget 2027: drafted 4 customers from the history up to 2026-11" in capsys.readouterr().out
    )
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("select count(*) from budget").fetchone()[0]
    _edit(out)
    (extracts / "budget.csv").unlink()
    shutil.copy(out, extracts / "budget.xlsx")
    assert main(["ingest", str(extracts), "--database", str(db)]) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select version_date, count(*) from budget group by 1 order by 1"
        ).fetchall()
    assert rows[-1][0] == dt.date(2026, 12, 18) or str(rows[-1][0]).startswith("2026-12-18")
    assert sum(n for _, n in rows[:-1]) == before  # the history came back whole
    # a moved column: one line, exit 2, the database as it was
    book = load_workbook(extracts / "budget.xlsx")
    book["Budget"].protection.sheet = False
    book["Budget"].move_range("S1:S400", cols=2)
    book.save(extracts / "budget.xlsx")
    stamp = db.stat().st_mtime_ns
    assert main(["ingest", str(extracts), "--database", str(db)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the layout was changed" in err
    assert db.stat().st_mtime_ns == stamp


def test_kamlab_budget_for_a_past_year_exits_2(demo_db, capsys):
    assert main(["budget", "--year", "2025", "--database", str(demo_db / "kam.duckdb")]) == 2
    assert "nothing to draft" in capsys.readouterr().err


def test_the_scorecard_says_what_the_mid_year_revision_changed(demo_db, tmp_path):
    from kamlab.scorecard import open_scorecard

    db = demo_db / "kam.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        revised = con.execute(
            "select distinct customer_id from budget where version_date = DATE '2026-07-01'"
        ).fetchall()
    assert revised, "the demo plants a mid-year revision"
    card = open_scorecard(revised[0][0], "2026-11", source=db,
                          options={"cache_dir": str(tmp_path / "cache")})  # fmt: skip
    html = card.sales().body
    assert "Budget revised on 01 Jul 2026: full-year plan" in html
    plan = card._slice(card.analytics.plan)
    revision = card._slice(card.analytics.budget_revisions).iloc[0]
    revenue = plan[(plan["measure"] == "revenue") & (plan["currency"] == revision["currency"])]
    assert revenue["fy_plan"].iloc[0] == pytest.approx(revision["revenue_after"])
