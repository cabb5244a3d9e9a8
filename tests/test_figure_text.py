"""Every text that reaches a page is data: a name with dollar signs is never mathtext, on the
portfolio page or any figure; amounts in two currencies each name theirs (#27, faults 10, 12)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database

from kamlab import chain
from kamlab.scorecard import Portfolio, Scorecard, commercial, supply

ODD = r"Cash $\qqq$ Ltd"  # an unknown TeX command between dollars: a mathtext parse error


@pytest.fixture(scope="module")
def analytics(tmp_path_factory):
    database = build_demo_database(tmp_path_factory.mktemp("text"), customers=3)
    cache = tmp_path_factory.mktemp("cache")
    return chain.load_analytics(database, MONTH, cache_dir=cache)


@pytest.fixture(scope="module")
def odd(analytics):
    """The analytics with every customer named like the reported one (and a $ in a family)."""
    customers = analytics.customers.assign(
        name=[f"{ODD} {i}" for i in range(len(analytics.customers))]
    )
    return dataclasses.replace(analytics, customers=customers)


def test_dollar_names_render_on_the_portfolio_page_and_every_scorecard_figure(odd):
    portfolio = Portfolio(odd)
    pages = [
        portfolio.header(),
        portfolio.priority(),
        portfolio.kpis(),
        portfolio.matrix(),
        portfolio.rankings(),
        portfolio.top_overdue(),
        portfolio.accuracy_league(),
        supply.portfolio_supply(odd),
    ]
    figures = 0
    for customer in odd.customer_ids():
        card = Scorecard(odd, customer)
        for section in (
            card.header(),
            card.tiles(),
            card.sales(),
            card.demand(),
            card.challenges(),
            card.accuracy(),
            card.service(),
            card.receivables(),
            card.classification(),
            commercial.prices(card),
            commercial.pipeline(card),
            supply.stock_health(card),
            supply.safety_stock(card),
        ):
            pages.append(section)
    for section in pages:
        html = section._repr_html_()
        figures += html.count('class="kam-figure"')
    assert figures > 10  # the figures were drawn, names and all
    assert any("Cash $\\qqq$ Ltd" in s._repr_html_() for s in pages)  # shown as written


def test_every_figure_keeps_dollar_signs_as_text():
    from kamlab.scorecard.figures import bar_figure, scatter_figure
    from kamlab.scorecard.render import figure_html

    frame = pd.DataFrame({"name": [ODD, "$x^2$ GmbH", "Plain AG"], "value": [3.0, 2.0, 1.0]})
    bars = bar_figure(
        frame, x="name", y="value", title=f"Revenue of {ODD}", xlabel="$", ylabel="EUR $"
    )
    scores = pd.DataFrame({"x": [0.2, 0.8, 0.5], "y": [0.3, 0.7, 0.9], "name": frame["name"]})
    scatter = scatter_figure(
        scores,
        x="x",
        y="y",
        label="name",
        title=ODD,
        xlabel="$a$",
        ylabel="$b$",
        split=(0.5, 0.5),
    )
    for fig in (bars, scatter):
        assert figure_html(fig, alt=ODD).startswith("<img")
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_parse_math"))]
        assert any(ODD in t for t in texts)


def test_money_at_stake_in_two_currencies_names_each_in_the_why(analytics):
    customer = analytics.customer_ids()[0]
    usd = pd.DataFrame(
        {"customer_id": [customer], "currency": ["USD"], "amount": [500_000.0], "kind": ["overdue"]}
    )
    eur = usd.assign(currency="EUR", amount=400_000.0, kind="expected_loss")
    why = Portfolio(analytics, stake=[usd, eur]).priorities().set_index("customer_id")["why"]
    mostly = why[customer].split("mostly ")[1].split(";")[0].rstrip(".")
    first, second = mostly.split(" and ")
    assert first.endswith((" EUR", " USD")) and second.endswith((" EUR", " USD")), why[customer]
    assert "expected credit loss 400k EUR" in mostly, why[customer]
    one = Portfolio(analytics, stake=[eur]).priorities().set_index("customer_id")["why"]
    assert "expected credit loss 400k and" in one[customer]  # one currency: said once, up front
