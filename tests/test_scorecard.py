"""The scorecard: parameter checks, sections as escaped offline HTML, RAG rules."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database

import kamlab.chain as chain
import kamlab.scorecard as sc
from kamlab.scorecard.render import Section, table_html


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("scorecard"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def analytics(database, cache):
    return chain.load_analytics(database, MONTH, cache_dir=cache)


def test_a_malformed_month_is_refused_with_the_expected_format():
    for bad in ["2025-13", "2025-6", "June 2025", "2025-06-01", 202506]:
        with pytest.raises(chain.ChainError, match="YYYY-MM"):
            chain.parse_month(bad)


def test_an_unknown_customer_is_refused_naming_it(database, cache, analytics):
    with pytest.raises(chain.ChainError, match="unknown customer 'NOPE'"):
        sc.open_scorecard("NOPE", MONTH, source=database, options={"cache_dir": str(cache)})


def test_an_unknown_option_or_missing_source_is_refused_before_any_work(tmp_path):
    with pytest.raises(sc.ScorecardError, match="unknown option"):
        sc.open_scorecard("C1", MONTH, source=tmp_path / "x.duckdb", options={"cache": 1})
    with pytest.raises(chain.ChainError, match="does not exist"):
        sc.open_scorecard("C1", MONTH, source=tmp_path / "missing.duckdb")


def test_analytics_are_cached_on_disk_and_reused(database, cache, analytics):
    files = list(cache.glob("analytics-*"))
    assert (
        len(files) == 1
        and chain.analytics_key(database, MONTH, analytics.settings) in files[0].name
    )
    chain.cache._MEMORY.clear()  # as a new process would: only the disk cache is left
    again = chain.load_analytics(database, MONTH, cache_dir=cache)
    assert again is not analytics
    pd.testing.assert_frame_equal(again.demand, analytics.demand)
    pd.testing.assert_frame_equal(again.forecast, analytics.forecast)


def test_section_list_names_the_sections_the_notebook_shows_in_its_order():
    notebook = (Path(sc.__file__).parents[1] / "notebooks" / "scorecard.ipynb").read_text()
    called = re.findall(r"card\.(\w+)\(\)", notebook)
    assert tuple(called) == sc.Scorecard.SECTIONS


def test_every_section_is_one_offline_html_block(analytics):
    card = sc.Scorecard(analytics, analytics.customer_ids()[0])
    for name in sc.Scorecard.SECTIONS:
        section = getattr(card, name)()
        assert isinstance(section, Section)
        page = section._repr_html_()
        assert not re.search(r"(src|href)=[\"']?https?://", page), name
        assert "object at 0x" not in repr(section)


def test_figures_are_embedded_as_png_and_customer_text_is_escaped(analytics):
    nasty = analytics.customers.assign(name='<b>"Müller/Söhne" {AG}</b>')
    card = sc.Scorecard(
        chain.PackAnalytics(**{**vars(analytics), "customers": nasty}),
        analytics.customer_ids()[0],
    )
    header = card.header()._repr_html_()
    assert (
        "<b>&quot;" not in header and "&lt;b&gt;&quot;Müller/Söhne&quot; {AG}&lt;/b&gt;" in header
    )
    demand = card.demand()._repr_html_()
    assert demand.count('src="data:image/png;base64,') == 1


def test_tables_escape_cells_and_show_missing_values_as_a_dash():
    frame = pd.DataFrame({"name": ["<script>x</script>", None], "value": [1234.5, float("nan")]})
    page = table_html(frame, formats={"value": ",.1f"})
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "1,234.5" in page and page.count("–") == 2


def test_a_ranked_list_prints_its_first_rows_and_says_how_many_more_the_screen_shows():
    frame = pd.DataFrame({"material": [f"M{i}" for i in range(7)], "value": range(7)})
    page = table_html(frame, print_rows=3)
    assert page.count('<tr class="kam-print-hide">') == 4  # rows 4-7: on screen only
    assert '<td class="txt">M2</td>' in page.split('class="kam-print-hide"')[0]
    assert '<p class="kam-note kam-print-only">Printed: the first 3 rows; 4 more on screen.' in page
    whole = table_html(frame, print_rows=None)
    assert "kam-print" not in whole
    assert "kam-print" not in table_html(frame, print_rows=3, classes="kam-facts")
    assert "kam-print-only" not in table_html(frame, classes="kam-table kam-print-hide")
    assert "kam-print" not in table_html(frame.head(3), print_rows=3)


def test_the_worst_tile_colour_is_the_customer_status():
    assert sc.overall_status(["green", "red", "amber"]) == "red"
    assert sc.overall_status([]) == "grey"


def test_the_otif_tile_pools_the_service_module_lines_over_the_last_months(analytics):
    cid = analytics.customer_ids()[0]
    card = sc.Scorecard(analytics, cid)
    tile = card.headline_tiles()[0]
    n = analytics.settings.scorecard.otif_months
    service = analytics.service
    rows = service[
        (service["customer_id"] == cid)
        & (service["period"] > analytics.month - n)
        & (service["period"] <= analytics.month)
    ]
    value = rows["lines_otif"].sum() / rows["lines_due"].sum()
    target = float(card.customer["otif_target"])
    assert tile.value == f"{round(float(value) * 100)} %"
    margin = analytics.settings.scorecard.amber_margin
    expected = "green" if value >= target else "amber" if value >= target - margin else "red"
    assert tile.status == expected and tile.target == f"target {round(target * 100)} %"


def test_percentages_never_show_minus_zero():
    from kamlab.i18n.formats import percent

    assert percent(-0.001, signed=True) == "0 %" and percent(0.126, signed=True) == "+13 %"
    assert percent(float("nan")) == "–" and percent(None) == "–"


def test_a_kpi_without_a_target_is_grey_never_green(analytics):
    from kamlab.service import sla_adherence

    cid = analytics.customer_ids()[0]
    customers = analytics.customers.assign(otif_target=float("nan"))
    customers["forecast_accuracy_target"] = float("nan")
    month = analytics.service[analytics.service["period"] == analytics.month]
    untargeted = chain.PackAnalytics(
        **{
            **vars(analytics),
            "customers": customers,
            "sla": sla_adherence(month.drop(columns="period"), customers),
        }
    )
    otif, accuracy = sc.Scorecard(untargeted, cid).headline_tiles()[:2]
    assert otif.label.startswith("OTIF") and accuracy.label.startswith("Forecast accuracy")
    assert otif.value != "–" and otif.status == "grey"
    assert accuracy.status == "grey"


def test_a_customers_slice_is_its_rows_of_the_portfolio_frame_in_order(analytics):
    """The slice found through the per-frame row index equals the plain comparison."""
    ids = analytics.customer_ids()
    for frame in (analytics.customer_demand, analytics.service, analytics.receivables):
        for cid in [*ids[:3], "NOPE"]:
            card = sc.Scorecard.__new__(sc.Scorecard)
            card.customer_id = cid
            expected = frame[frame["customer_id"] == cid].reset_index(drop=True)
            pd.testing.assert_frame_equal(card._slice(frame), expected)
    # a new frame (same id reused or not) gets its own index
    shuffled = analytics.customer_demand.iloc[::-1].reset_index(drop=True)
    card.customer_id = ids[0]
    expected = shuffled[shuffled["customer_id"] == ids[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(card._slice(shuffled), expected)


def _pixels(draw) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from kamlab.scorecard import figures

    with figures._style():
        fig = Figure(figsize=(6, 3))
        ax = figures._axes(fig, xlabel="x", ylabel="y")
        draw(ax)
        figures._finish(fig, ax, title="t")
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba()).copy()


def test_figures_draw_what_seaborn_draws_pixel_for_pixel():
    """The scorecard draws lines and bars with matplotlib in place of seaborn's lineplot and
    barplot (for speed): same pixels, also for missing values, repeated x (a mean), one hue
    level, hue levels that never share a category (no dodge), and no data at all."""
    import seaborn as sns

    from kamlab.scorecard import figures

    months = pd.period_range("2024-01", periods=8, freq="M").to_timestamp()
    lines = pd.DataFrame(
        {
            "month": [*months, *months, months[2]],
            "value": [3, 1, None, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 2.5],
            "kind": ["b"] * 8 + ["a"] * 8 + ["b"],
        }
    )
    bars = pd.DataFrame(
        {
            "month": ["Jan", "Feb", "Mar", "Jan", "Feb", "Apr", "Feb"],
            "amount": [5.0, 3.0, 4.0, 6.0, None, 2.0, 4.0],
            "year": ["2024", "2024", "2024", "2025", "2025", "2025", "2025"],
        }
    )
    disjoint = bars.assign(year=["2024", "2024", "2024", "2025", "2025", "2025", "2024"])
    disjoint = disjoint[disjoint["month"] != "Jan"]
    line_cases = [
        dict(data=lines, x="month", y="value", hue="kind", palette="colorblind", marker="o"),
        dict(data=lines, x="month", y="value", color="#333333", label="Actual", marker="o"),
        dict(data=lines[lines["kind"] == "a"], x="month", y="value", hue="kind", palette="colorblind"),
        dict(data=lines, x="month", y="value", label="Forecast", color="#dd8452", linestyle="--"),
        dict(data=lines.iloc[:0], x="month", y="value", label="none", color="#333333"),
        dict(data=lines, x="month", y="value", markersize=3, marker="s"),
    ]  # fmt: skip
    no_march = bars.assign(amount=bars["amount"].where(bars["month"] != "Mar"))
    no_a = lines.assign(value=lines["value"].where(lines["kind"] != "a"))
    line_cases.append(dict(data=no_a, x="month", y="value", hue="kind", palette="colorblind"))
    bar_cases = [
        dict(data=no_march, x="month", y="amount", hue="year", palette="colorblind"),
        dict(data=no_march, x="month", y="amount", color="#4c72b0"),
        dict(data=bars, x="month", y="amount", hue="year", palette="colorblind"),
        dict(data=bars, x="month", y="amount", color="#4c72b0"),
        dict(data=disjoint, x="month", y="amount", hue="year", palette="colorblind"),
        dict(data=bars.iloc[:0], x="month", y="amount", color="#4c72b0"),
    ]
    pairs = [(figures._lineplot, sns.lineplot, case) for case in line_cases]
    pairs += [(figures._barplot, sns.barplot, case) for case in bar_cases]
    for ours, seaborns, case in pairs:
        kw = {k: v for k, v in case.items() if k != "data"}
        mine = _pixels(lambda ax, f=ours, kw=kw, d=case["data"]: f(ax, d, **kw))
        theirs = _pixels(
            lambda ax, f=seaborns, kw=kw, d=case["data"]: f(data=d, ax=ax, errorbar=None, **kw)
        )
        assert np.array_equal(mine, theirs), kw


def test_a_customers_focused_challenges_are_its_lines_of_the_portfolios_list(analytics):
    """The card takes its challenge lines from the portfolio's list (worked out once): the
    same frame, dtypes and hidden counts as focus_challenges on the customer's figures."""
    from kamlab.accuracy.challenge import focus_challenges

    s = analytics.settings.accuracy
    checked = 0
    for cid in analytics.customer_ids():
        card = sc.Scorecard(analytics, cid)
        expected = focus_challenges(
            card._slice(analytics.challenges),
            materials=analytics.materials,
            max_lines=s.challenge_max_lines,
            min_value=s.challenge_min_value,
        )
        got = card.focused_challenges()
        pd.testing.assert_frame_equal(got, expected)
        assert got.attrs == expected.attrs
        checked += len(got) > 0
    assert checked  # some customers have lines to challenge


def test_challenge_lines_say_our_record_and_name_what_is_not_challenged(analytics):
    """Every challenge line carries our track record; customers whose own forecast is better
    somewhere get the note naming those materials (#20 Deliver 4)."""
    import html

    lines = notes = 0
    for cid in analytics.customer_ids():
        card = sc.Scorecard(analytics, cid)
        body = html.unescape(card.challenges().body)
        focus = card.focused_challenges()
        if len(focus):
            mine = card._slice(analytics.challenges)
            ours = set(mine.loc[mine["verdict"] == "challenge", "material_id"])
            assert set(focus["material_id"]) <= ours  # only where our record is better
            found = re.findall(r"our forecast has been closer (\d+) of the last (\d+) months", body)
            assert len(found) == len(focus)
            assert all(int(w) <= int(m) for w, m in found)
            lines += len(found)
        mine = card._slice(analytics.challenges)
        if (mine["verdict"] == "customer_better").any():
            assert "the customer's own forecast has the better record" in body
            notes += 1
    assert lines and notes


def test_the_judgement_of_each_manager_shows_on_the_portfolio_page_and_the_card(analytics):
    """#25 Deliver 4: the agreed forecast's value added per KAM (portfolio) and per customer
    (the accuracy section), from the chain's judgement frames."""
    from kamlab.scorecard.portfolio import Portfolio

    kam = analytics.judgement_kam
    assert kam is not None and set(kam["account_manager"]) <= set(
        analytics.customers["account_manager"]
    )
    body = Portfolio(analytics).judgement().body
    for manager in kam["account_manager"].unique():
        assert manager.replace("'", "&#x27;") in body or manager in body
    cid = analytics.judgement["customer_id"].iloc[0]
    assert (
        "Agreed forecast vs our forecast (points saved)"
        in sc.Scorecard(analytics, cid).accuracy().body
    )
