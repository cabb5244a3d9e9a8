"""The figures a scorecard shows, checked on hand-built data where the right answer is known
(#20: calendar windows, absent never zero, overdue gross, like-for-like, workbook units)."""

import html
import re

import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database

import kamlab.chain as chain
import kamlab.scorecard as sc
from kamlab.i18n import formats as fmt
from kamlab.scorecard import trends


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("figures"))


@pytest.fixture(scope="module")
def analytics(database):
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
    assert tile.note.startswith(f"1 invoice; all overdue 50k {cur}")
    assert f"credits 50k {cur} unapplied" in tile.note
    page = card.receivables()._repr_html_()
    assert f"Unapplied credit notes and payments: 50,000 {cur}" in page
    assert f"net open balance 0 {cur}" in page


# -- 4. like for like ------------------------------------------------------------------------
def test_growth_compares_only_the_months_the_data_cover_a_year_back(analytics):
    month = analytics.month
    cid = analytics.customer_ids()[0]
    cur = sc.Scorecard(analytics, cid).currency
    # the data start 18 months before the review month; the customer buys 100 every month
    periods = pd.period_range(month - 17, month, freq="M")
    flat = pd.DataFrame({"period": periods, "currency": cur, "quantity": 1.0, "net_value": 100.0})
    first = pd.DataFrame({"first": [periods[0].start_time], "last": [analytics.as_of]})
    card = sc.Scorecard(
        _with(
            analytics,
            customer_demand=_replace_customer(analytics.customer_demand, cid, flat),
            coverage=first,
        ),
        cid,
    )
    g = card.growth()  # 12 months (1,200) against 6 covered months (600) would be +100 %
    assert (g["now"], g["last_year"], g["growth"], g["trend"]) == (600.0, 600.0, 0.0, "stable")
    assert g["months"] == 6 and g["partial"]


def test_xyz_does_not_count_months_before_the_data_as_zero_demand():
    from kamlab.classify import xyz

    d = pd.DataFrame(
        {
            "customer_id": "C",
            "period": pd.period_range("2025-01", periods=6, freq="M"),
            "quantity": 10.0,
        }
    )
    # a 12-month window to June: 6 months before the data as zeros would give CV 1 (Y)
    r = xyz(d, keys=["customer_id"], window=12, end="2025-06", start="2025-01").iloc[0]
    assert (r["months"], r["cv"], r["xyz_class"]) == (6, 0.0, "X")
    assert "6 months the data cover" in r["reason"]
    none = xyz(d, keys=["customer_id"], window=12, end="2024-12", start="2025-01").iloc[0]
    assert pd.isna(none["xyz_class"]) and none["months"] == 0


def test_matrix_growth_is_like_for_like_when_the_data_start_inside_the_earlier_year():
    from kamlab.classify import account_criteria

    d = pd.DataFrame(
        {
            "customer_id": "C",
            "material_id": "M",
            "currency": "EUR",
            "period": pd.period_range("2024-07", "2025-12", freq="M"),
            "quantity": 1.0,
            "net_value": 100.0,
        }
    )
    r = account_criteria(d, as_of="2025-12", months=12, start="2024-07").iloc[0]
    assert r["revenue"] == 1200.0 and r["growth"] == 0.0  # 6 months vs 6, not 1,200 vs 600
    assert account_criteria(d, as_of="2025-12", months=12).iloc[0]["growth"] == 1.0


def test_a_review_month_the_data_end_in_is_flagged_and_later_lines_are_not_judged(
    database, analytics
):
    import dataclasses

    from kamlab.service import delivery_performance

    ds = chain.load_dataset(database)
    cut = pd.Timestamp(f"{MONTH}-15")
    ds = dataclasses.replace(
        ds,
        orders=ds.orders[ds.orders["order_date"] <= cut],
        deliveries=ds.deliveries[ds.deliveries["delivered_date"] <= cut],
        invoices=ds.invoices[ds.invoices["posting_date"] <= cut],
        payments=ds.payments[ds.payments["payment_date"] <= cut],
    )
    a = chain.prepare(ds, MONTH, settings=analytics.settings)
    assert a.month_partial and a.data_end <= cut and a.data_end > cut - pd.Timedelta(days=4)
    lines = delivery_performance(ds.orders, ds.deliveries, as_of=a.as_of)
    judged = lines[(lines["period"] == a.month) & (lines["due_date"] <= a.data_end)]
    unjudged = lines[(lines["period"] == a.month) & (lines["due_date"] > a.data_end)]
    assert len(unjudged) > 0  # lines the data cannot judge exist ...
    month_rows = a.service[a.service["period"] == a.month]
    assert month_rows["lines_due"].sum() == len(judged)  # ... and are not counted
    warning = f"The data end on {fmt.date(a.data_end)}"
    cid = a.customer_ids()[0]
    assert warning in sc.Scorecard(a, cid).header()._repr_html_()
    assert warning in sc.Portfolio(a).header()._repr_html_()


# -- 5. the workbook: formats by the column's unit -----------------------------------------
def test_workbook_formats_follow_the_unit_of_each_column(tmp_path):
    import openpyxl

    from kamlab.pack.workbook import excel_workbook

    share = pd.DataFrame(
        {
            "customer_id": ["C1"],
            "share_of_business": [0.59],
            "change": [0.07],
            "our_sales": [4_692_747.5],
            "currency": ["EUR"],
        }
    )
    npi = pd.DataFrame(
        {"probability": [0.5], "days_to_sop": [122.0], "annual_value": [480_000.0]}
    ).assign(currency="EUR")
    stock = pd.DataFrame(
        {
            "sap_safety_stock": [3_092_192.0],
            "change": [-2_522_619.0],
            "lead_time_months": [2.96],
            "money_tied_up": [1_009_047.6],
            "currency": ["EUR"],
        }
    )
    summary = pd.DataFrame(
        {"money_at_stake": pd.array([8_400_000.0], dtype="Float64"), "currency": ["EUR"]}
    )
    path = tmp_path / "w.xlsx"
    path.write_bytes(
        excel_workbook(
            {
                "Share of business (3C)": share,
                "NPI projects": npi,
                "Safety stock to change": stock,
                "Summary": summary,
            },
            names={"C1": "Bolt"},
        )
    )
    book = openpyxl.load_workbook(path)

    def formats(title: str) -> dict[str, str]:
        sheet = book[title]
        return {h.value: c.number_format for h, c in zip(sheet[1], sheet[2], strict=True)}

    assert formats("Share of business (3C)") == {
        "Customer ID": "General",
        "Customer": "General",
        "Share of business": "0.0%",
        "Change": "+0.0%;-0.0%;0.0%",
        "Our sales": '#,##0.00 "EUR"',
        "Currency": "General",
    }
    npi_formats = formats("NPI projects")
    assert npi_formats["Probability"] == "0.0%" and npi_formats["Days to sop"] == "#,##0"
    assert npi_formats["Annual value"] == '#,##0.00 "EUR"'
    stock_formats = formats("Safety stock to change")
    assert stock_formats["Sap safety stock"] == "#,##0" and stock_formats["Change"] == "#,##0"
    assert stock_formats["Lead time months"] == "#,##0.0"
    assert stock_formats["Money tied up"] == '#,##0.00 "EUR"'
    cell = book["Summary"]["A2"]  # money at stake: a number in its currency, not "8.4M EUR"
    assert cell.value == 8_400_000.0 and cell.number_format == '#,##0.00 "EUR"'


# -- 6. pages ----------------------------------------------------------------------------------
def test_a_price_unit_record_error_is_not_worded_as_overbilling(analytics):
    from kamlab.scorecard import commercial

    cid = analytics.customer_ids()[0]
    card = sc.Scorecard(analytics, cid)
    cur = card.currency
    summary = (
        card._slice(analytics.price_summary)
        .iloc[[0]]
        .assign(currency=cur, overbilled=528_915.0, leakage=1_000.0)
    )
    audit = card._slice(analytics.price_audit)
    audit = (audit.iloc[[0]] if len(audit) else analytics.price_audit.iloc[[0]]).assign(
        customer_id=cid, currency=cur, issue="price unit", at_stake=-528_915.0
    )
    page = commercial.prices(
        sc.Scorecard(
            _with(
                analytics,
                price_summary=_replace_customer(analytics.price_summary, cid, summary),
                price_audit=_replace_customer(analytics.price_audit, cid, audit),
            ),
            cid,
        )
    )._repr_html_()
    assert f'Billed above the agreements</td><td class="txt">0 {cur}' in page
    assert f"528,915 {cur}: check the price unit in the price record" in page


def test_a_scorecard_page_opens_with_a_table_of_contents_that_links_its_sections():
    import re

    import nbformat
    from nbformat import v4

    from kamlab.pack.html import notebook_html

    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Title"),
        *[
            v4.new_markdown_cell(f"## {t}\nintro")
            for t in ("Headline KPIs", "Phase in / phase out", "Safety stock (PFEP)")
        ],
    ]
    page = notebook_html(nbformat.from_dict(nb), title="t")
    nav = re.search(r'<nav class="kam-toc".*?</nav>', page, re.S).group(0)
    links = re.findall(r'href="#([^"]+)"', nav)
    assert len(links) == 3
    for anchor in links:  # every link lands on a heading of the page
        assert f'id="{anchor}"' in page
    assert page.index("<nav") < page.index('id="Headline-KPIs"')


def test_matrix_labels_overlap_no_other_label_point_or_quadrant_line():
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kamlab.scorecard import figures as fg

    rng = np.random.default_rng(7)
    n = 40
    frame = pd.DataFrame(
        {
            "customer": [f"Ironbridge Fluidtechnik {i}" for i in range(n)],
            "strength": rng.uniform(0.2, 0.8, n),
            "attractiveness": np.r_[rng.uniform(0.45, 0.55, 10), rng.uniform(0.1, 0.9, n - 10)],
            "quadrant": "strategic",
        }
    )
    fig = fg.scatter_figure(
        frame, x="strength", y="attractiveness", label="customer", title="m",
        xlabel="s", ylabel="a", split=(0.5, 0.5),
    )  # fmt: skip
    ax = fig.axes[0]
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) >= 4
    centres = ax.transData.transform(frame[["strength", "attractiveness"]].to_numpy())
    lx, ly = ax.transData.transform([(0.5, 0.5)])[0]
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[i + 1 :])
        assert not any(box.contains(cx, cy) for cx, cy in centres)
        assert not (box.x0 < lx < box.x1 or box.y0 < ly < box.y1)


# -- 2. absent is never zero -----------------------------------------------------------------
_ZERO = re.compile(r"^[+-]?0(\.0+)?( ?%| pts| days?| [A-Z]{3})?( / 0( ?%)?)?$|^0 of ")


def _facts(page: str) -> dict[str, str]:
    """label -> value of every two-cell fact row and headline tile of a page."""
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        if len(cells) == 2 and cells[0]:
            out[cells[0]] = cells[1]
    for label, value in re.findall(
        r'kam-tile-label">(.*?)</div><div class="kam-tile-value">(.*?)</div>', page
    ):
        out["tile " + html.unescape(label)] = html.unescape(value)
    return out


def _pages(a: chain.PackAnalytics) -> dict[tuple[str, str], str]:
    from kamlab.scorecard import commercial, supply

    pages = {}
    for cid in a.customer_ids():
        card = sc.Scorecard(a, cid)
        for name in sc.Scorecard.SECTIONS:
            pages[cid, name] = getattr(card, name)()._repr_html_()
        for name in commercial.SECTIONS:
            pages[cid, name] = getattr(commercial, name)(card)._repr_html_()
        for name in ("stock_health", "phase_in_out", "safety_stock", "capacity_allocation"):
            pages[cid, name] = getattr(supply, name)(card)._repr_html_()
    p = sc.Portfolio(a)
    for name in ("header", "priority", "kpis", "matrix", "rankings", "top_overdue"):
        pages["portfolio", name] = getattr(p, name)()._repr_html_()
    return pages


def _sheets(a: chain.PackAnalytics) -> dict[str, pd.DataFrame]:
    from kamlab.pack.build import _headline_tables
    from kamlab.scorecard import commercial

    return {**_headline_tables(a), **commercial.workbook_sheets(a)}


@pytest.fixture(scope="module")
def full(database, analytics):
    return _pages(analytics), _sheets(analytics)


@pytest.mark.parametrize(
    "tables",
    [
        ("complaints",),
        ("invoices", "payments", "instalments"),
        ("deliveries",),
        ("customer_forecasts",),
        ("budget",),
    ],
    ids=lambda t: t[0],
)
def test_no_page_or_sheet_shows_a_zero_for_a_table_that_is_absent(
    database, analytics, full, tables
):
    """With a table absent, every fact, tile and sheet column that had a figure either keeps
    it or says "not available": none turns into 0 (0 %, 0 / 0, 0 EUR, "0 of ...")."""
    import dataclasses

    from kamlab.data.demo import _FX

    ds = chain.load_dataset(database)
    ds = dataclasses.replace(ds, **{t: getattr(ds, t).iloc[:0] for t in tables})
    rates = {c: 1.0 / per_eur for c, per_eur in _FX.items()}  # as `kamlab demo` writes them
    settings = dataclasses.replace(
        analytics.settings,
        scorecard=dataclasses.replace(
            analytics.settings.scorecard, reporting_currency="EUR", fx_rates=rates
        ),
    )  # with rates, so that the key-account matrix is drawn
    a = chain.prepare(ds, MONTH, settings=settings)
    assert set(tables) <= set(a.missing_tables)
    pages, sheets = _pages(a), _sheets(a)
    full_pages, full_sheets = full
    zeros = []
    for key, page in pages.items():
        before = _facts(full_pages[key])
        for label, value in _facts(page).items():
            if _ZERO.search(value) and label in before and not _ZERO.search(before[label]):
                zeros.append((key, label, before[label], value))
    for name, frame in sheets.items():
        if name not in full_sheets or frame is None or full_sheets[name] is None:
            continue
        for column in frame.select_dtypes("number").columns:
            values = frame[column]
            was = full_sheets[name].get(column)
            if (
                len(values)
                and values.notna().any()
                and (values.fillna(0) == 0).all()
                and was is not None
                and (pd.to_numeric(was, errors="coerce").fillna(0) != 0).any()
            ):
                zeros.append(("sheet", name, column, "all 0"))
    assert zeros == []
    if "complaints" in tables:  # the key-account matrix does not score a criterion it lacks
        assert a.matrix["complaints_scaled"].isna().all()
        explanation = a.matrix["explanation"]
        assert not explanation.str.contains("led by complaints").any()
        assert explanation.str.contains(r"missing: [^;]*complaints").all()  # said, not scored


def test_a_large_customer_forecast_in_a_challenge_reason_has_thousands_separators():
    from kamlab.accuracy import challenge_list

    cf = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": "M1",
            "snapshot_date": pd.Timestamp("2024-06-30"),
            "period": pd.Period("2024-08", "M"),
            "quantity": 211_600.0,
        },
        index=[0],
    )
    stat = pd.DataFrame(
        {
            "customer_id": "C1",
            "material_id": "M1",
            "period": pd.Period("2024-08", "M"),
            "forecast": 0.0,
            "lo_80": 0.0,
            "hi_80": 0.0,
        },
        index=[0],
    )
    act = pd.DataFrame(
        {
            "customer_id": [],
            "material_id": [],
            "period": pd.PeriodIndex([], freq="M"),
            "quantity": [],
        }
    )
    prices = pd.DataFrame({"material_id": ["M1"], "price": [1.0]})
    reason = challenge_list(cf, stat, act, prices=prices)["reason"].iloc[0]
    assert reason.startswith("customer forecasts 211,600 where the statistical forecast is 0")
