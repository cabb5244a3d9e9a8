"""The figures a scorecard shows, checked on hand-built data where the right answer is known
(#20: calendar windows, absent never zero, overdue gross, like-for-like, workbook units)."""

import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database

import kamlab.chain as chain
import kamlab.scorecard as sc
from kamlab.i18n import formats as fmt
from kamlab.scorecard import trends


@pytest.fixture(scope="module")
def analytics(tmp_path_factory):
    database = build_demo_database(tmp_path_factory.mktemp("figures"))
    return chain.load_analytics(database, MONTH, cache_dir=None)


def _with(analytics, **frames) -> chain.PackAnalytics:
    """The analytics with some frames replaced (the others shared)."""
    return chain.PackAnalytics(**{**vars(analytics), **frames})


def _replace_customer(frame: pd.DataFrame, cid: str, rows: pd.DataFrame) -> pd.DataFrame:
    """`frame` with customer `cid`'s rows replaced by `rows` (columns not given: missing)."""
    rows = rows.assign(customer_id=cid).reindex(columns=frame.columns)
    rest = frame[frame["customer_id"].astype(str) != cid]
    return pd.concat([rest, rows], ignore_index=True)


# -- 1. trend windows in calendar months -----------------------------------------------------
def test_the_otif_trend_pools_calendar_months_and_a_month_without_lines_is_empty(analytics):
    month = analytics.month
    cid = analytics.customer_ids()[0]
    # lines due in Jan (10 of 10 on time), Mar (7 of 13) and Jun (1 of 1); none in Feb, Apr, May
    mine = pd.DataFrame(
        {
            "period": pd.PeriodIndex([month - 5, month - 3, month], freq="M"),
            "lines_due": [10, 13, 1],
            "lines_otif": [10, 7, 1],
        }
    )
    card = sc.Scorecard(
        _with(analytics, service=_replace_customer(analytics.service, cid, mine)), cid
    )
    h = card.kpi_history()
    otif = h[h["kpi"] == "otif"].set_index("period")["value"]
    assert otif[month] == pytest.approx(1 / 1)  # Apr-Jun: only June's line
    assert otif[month - 1] == pytest.approx(7 / 13)  # Mar-May: March alone, not Jan+Mar+Jun
    assert otif[month - 3] == pytest.approx(17 / 23)  # Jan-Mar: Feb empty, not skipped
    assert month - 7 not in otif.index  # Nov-Jan: starts before the data, not known
    text = trends.trend_text(card, "otif", fmt.percent)
    assert text == f"▲ from 54 % in {(month - 1):%b} · ▲ from 74 % in {(month - 3):%b}"


def test_no_arrow_for_a_move_that_rounds_away(analytics):
    month = analytics.month
    card = sc.Scorecard(analytics, analytics.customer_ids()[0])
    card._memo["kpi_history"] = pd.DataFrame(
        {
            "kpi": "overdue",
            "period": pd.PeriodIndex([month - 3, month - 1, month], freq="M"),
            "value": [0.2, 0.004, 0.0],
        }
    )
    text = trends.trend_text(card, "overdue", fmt.percent)
    assert text == f"► as in {(month - 1):%b} · ▼ from 20 % in {(month - 3):%b}"


# -- 3. overdue gross ------------------------------------------------------------------------
def test_an_unapplied_credit_does_not_hide_an_old_invoice(analytics):
    from receivables_ledgers import invoices, no_payments

    from kamlab.receivables import ageing, ageing_history, open_items

    cid = analytics.customer_ids()[0]
    card = sc.Scorecard(analytics, cid)
    cur, as_of = card.currency, analytics.as_of
    due = (as_of - pd.Timedelta(days=990)).strftime("%Y-%m-%d")
    ledger = invoices(
        ("I1", cid, "invoice", due, due, 50_000.0, cur, None),
        ("K1", cid, "credit_note", "2025-06-01", "2025-06-01", 50_000.0, cur, None),
    )
    hist = ageing_history(ledger, no_payments(), month_ends=[as_of])
    items = ageing(open_items(ledger, no_payments(), as_of=as_of), as_of=as_of)
    assert (hist.filter(regex=r"^(not due|\d|>)") >= 0).all().all()  # no negative bucket
    card = sc.Scorecard(
        _with(
            analytics,
            ageing_history=_replace_customer(analytics.ageing_history, cid, hist),
            receivables=_replace_customer(analytics.receivables, cid, items),
        ),
        cid,
    )
    tile = card.headline_tiles()[3]
    assert tile.value == "100 %" and tile.status in ("red", "amber")
    assert tile.target == f"50k of 50k {cur} invoiced and open"
    assert tile.note.startswith("1 invoice more than 30 days overdue")
    assert f"unapplied credits 50k {cur}" in tile.note
    page = card.receivables()._repr_html_()
    assert f"Unapplied credit notes and payments: 50,000 {cur}" in page
    assert f"net open balance 0 {cur}" in page
