"""The customer scorecard in German and Italian: every template in the catalogs, no English
left on a rendered page, numbers and dates in the locale's format."""

from __future__ import annotations

import ast
import datetime
import re
from pathlib import Path

import pandas as pd
import pytest
from babel.dates import parse_date
from babel.numbers import parse_decimal
from bs4 import BeautifulSoup
from pack_support import MONTH, build_demo_database

import kamlab.chain as chain
import kamlab.scorecard as sc
from kamlab.i18n import speaking
from kamlab.i18n.language import catalog, language
from kamlab.scorecard import commercial, supply

ROOT = Path(__file__).resolve().parents[1]
SCORECARD = ROOT / "kamlab" / "scorecard"
#: the modules whose words are the customer scorecard's
SOURCES = [
    *(
        SCORECARD / f"{name}.py"
        for name in (
            "card tiles values figures service sales receivables commercial supply demand "
            "accuracy challenges actions classification trends commentary reasons render"
        ).split()
    ),
    ROOT / "kamlab" / "i18n" / "challenge.py",
]
#: functions whose first argument is an English template (``t`` is ``fmt.text`` in a section)
CALLS = {"text", "t"}
#: module-level tables of English templates or words, shown through ``text`` by key
TABLES = {
    "STATUS_WORDS", "TEMPLATES", "SENTENCES", "PHRASES", "ACTIONS", "NO_TABLE", "CODE_WORDS",
    "_FVA_LABELS", "_CLAUSES", "KIND_NAMES", "LIFECYCLE_NOTES", "_CRITERIA_WORDS", "_NO_DATA_WHAT",
    "DATA_PHRASES", "DATA_WORDS", "VISIT_LABELS", "NO_TERMS",
}  # fmt: skip
#: data codes a section passes to ``text`` through a variable (kpi_changes' names, states)
WORDS = ["OTIF", "Overdue share", "DSO", "Credit utilisation", "no target"]


def _strings(node: ast.AST) -> list[str]:
    """The string constants in `node` that are words: not the operands of a comparison (a
    code tested), not the parts of an f-string (a key built), not punctuation alone."""
    if isinstance(node, ast.Compare | ast.JoinedStr):
        return []
    if isinstance(node, ast.Constant):
        value = node.value
        return [value] if isinstance(value, str) and re.search(r"[^\W\d_]", value) else []
    return [s for child in ast.iter_child_nodes(node) for s in _strings(child)]


def _messages() -> list[str]:
    """Every English template the scorecard passes to ``text`` (also as ``t`` or through a
    template table) — each must be a catalog entry."""
    found: list[str] = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in CALLS:
                    first = node.args[0]
                    if isinstance(first, ast.Constant | ast.IfExp):
                        found += _strings(first)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                name = getattr(target, "id", None)
                if name in TABLES:
                    found += _table(node.value)
                elif name == "template":
                    found += _strings(node.value)
            elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) in TABLES:
                found += _table(node.value)
            elif isinstance(node, ast.For) and "template" in ast.unparse(node.target):
                found += [s for s in _strings(node.iter) if "{" in s]
    return list(dict.fromkeys([*found, *WORDS]))


def _notebook_texts() -> list[str]:
    """The scorecard notebook's markdown cells (a heading and what to look for), each one
    catalog entry the pack's runner translates as a whole; the glossary cell is the
    pack's glossary, translated with it."""
    import nbformat

    nb = nbformat.read(ROOT / "kamlab" / "notebooks" / "scorecard.ipynb", as_version=4)
    return [
        c.source
        for c in nb.cells
        if c.cell_type == "markdown" and not c.source.startswith("## Glossary")
    ]


def test_the_notebooks_headings_and_guidance_are_in_both_catalogs():
    texts = _notebook_texts()
    assert len(texts) == 19
    for code in ("de", "it"):
        entries = catalog(code)
        missing = [m.splitlines()[0] for m in texts if not entries.get(m)]
        assert not missing, f"{code}: {missing}"
        for m in texts:  # the heading stays a heading: the pack's contents list reads it
            assert entries[m].startswith("## ") and entries[m].count("\n") == m.count("\n")


def _table(value: ast.AST) -> list[str]:
    """The English of a template table: a dict's values, a tuple's strings, or the template
    (second place) of each (pattern, template) pair."""
    if isinstance(value, ast.Dict):
        return [s for v in value.values for s in _strings(v)]
    if isinstance(value, ast.Tuple) and value.elts and isinstance(value.elts[0], ast.Tuple):
        return [s for pair in value.elts for s in _strings(pair.elts[-1])]
    return _strings(value)


def _fields(template: str) -> set[str]:
    return set(re.findall(r"{(\w*)}", template))


def test_every_scorecard_template_is_in_both_catalogs_with_its_placeholders():
    messages = _messages()
    assert len(messages) > 300
    assert "{done} of {due} order lines on time and in full" in messages
    for code in ("de", "it"):
        entries = catalog(code)
        missing = [m for m in messages if not entries.get(m)]
        assert not missing, f"{code}: no translation of {missing}"
        wrong = [m for m in messages if _fields(m) != _fields(entries[m])]
        assert not wrong, f"{code}: placeholders differ in {wrong}"
        # every entry can be filled: no stray brace in a translation
        for m in messages:
            entries[m].format(**dict.fromkeys(_fields(m), "x"))


def test_the_catalog_says_the_same_word_as_the_meeting_pack():
    """One term per concept across the pack: an English entry of both catalog parts has one
    translation (the scorecard's part does not override the meeting pack's)."""
    from babel.messages.pofile import read_po

    for code in ("de", "it"):
        folder = ROOT / "kamlab" / "i18n" / "locales" / code
        parts = {}
        for name in ("meeting.po", "scorecard.po"):
            with (folder / name).open("rb") as fh:
                parts[name] = {m.id: m.string for m in read_po(fh) if m.id}
        both = set(parts["meeting.po"]) & set(parts["scorecard.po"])
        differ = {m for m in both if parts["meeting.po"][m] != parts["scorecard.po"][m]}
        assert not differ, f"{code}: {sorted(differ)}"


# -- a rendered scorecard ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def analytics(tmp_path_factory):
    base = tmp_path_factory.mktemp("scorecard-language")
    database = build_demo_database(base)
    settings = base / "extracts" / "kamlab.toml"  # the demo's rates: every section has figures
    return chain.load_analytics(database, MONTH, cache_dir=base / "cache", settings=settings)


def _page(analytics, code: str, customer: int = 0) -> str:
    """Every section of one customer's scorecard (the notebook's cells) as one page."""
    with speaking(code):
        card = sc.Scorecard(analytics, analytics.customer_ids()[customer])
        parts = [getattr(card, n)() for n in sc.Scorecard.SECTIONS]
        parts += [getattr(commercial, n)(card) for n in commercial.SECTIONS]
        parts += [
            getattr(supply, n)(card)
            for n in ("stock_health", "phase_in_out", "safety_stock", "capacity_allocation")
        ]
    return "".join(p._repr_html_() for p in parts)


#: English words that are never part of a name or a code a page shows
ENGLISH = (" the ", " of ", " and ", " with ", " is ", " are ", " not ", "customer",
           "forecast", "overdue", "months", " days", "invoice", "target", "available")  # fmt: skip


def _cells(page: str) -> list[str]:
    soup = BeautifulSoup(page, "html.parser")
    return [
        c.get_text(" ", strip=True)
        for c in soup.find_all(["h1", "h2", "th", "td", "p", "li", "div"])
        if not c.find(["div", "table", "p", "ul"])
    ]


def _names(analytics) -> list[str]:
    """What a page shows as data: customer, material, family and competitor names."""
    names = [*analytics.customers["name"].astype(str), *analytics.customers["account_manager"]]
    names += list(analytics.materials["description"].astype(str))
    for frame, column in (
        ("three_c", "main_competitor"),
        ("competitors", "competitor"),
        ("competitors", "activity"),
        ("lost_sales", "competitor"),
        ("price_requests", "reason"),
        ("actions", "topic"),  # what the KAM wrote, in the team's language
    ):
        f = getattr(analytics, frame, None)
        if f is not None and column in f:
            names += list(f[column].dropna().astype(str))
    return sorted({n for n in names if n}, key=len, reverse=True)


@pytest.mark.parametrize("code", ["de", "it"])
def test_a_german_or_italian_scorecard_leaves_no_english(analytics, code):
    english = {m for m in _messages() if "{" not in m}
    translated = catalog(code)
    left = {m for m in english if translated.get(m, m) != m}
    names = _names(analytics)
    for customer in range(len(analytics.customer_ids())):
        page = _page(analytics, code, customer)
        cells = _cells(page)
        assert not set(cells) & left, sorted(set(cells) & left)
        for cell in cells:
            for name in names:  # names are data, in whatever language they are
                cell = cell.replace(name, "")
            hits = [w for w in ENGLISH if w in f" {cell.lower()} "]
            assert not hits, f"{code}: {hits} in {cell!r}"


@pytest.mark.parametrize("code", ["de", "it"])
def test_numbers_and_dates_on_a_scorecard_parse_back_in_the_locale(analytics, code):
    lang = language(code)
    page = _page(analytics, code)
    soup = BeautifulSoup(page, "html.parser")
    numbers = dates = 0
    for td in soup.find_all("td"):
        cell = td.get_text().strip()
        if re.fullmatch(r"\d+", cell):  # an id (invoice 90000527) or a small count
            continue
        if re.fullmatch(r"\d{2}\.\d{2}\.\d{4}|\d{1,2} [a-z]{3} \d{4}", cell):  # a day
            assert lang.date(_day(cell, lang)) == cell
            dates += 1
        elif re.fullmatch(r"[+-]?[\d.]+(,\d+)?", cell):  # a figure in a table
            value = parse_decimal(cell.lstrip("+"), locale=lang.locale, strict=True)
            assert lang.number(value, digits=len(cell.partition(",")[2])).lstrip("-") == (
                cell.lstrip("+-")
            ), cell
            numbers += 1
    assert numbers > 50 and dates > 5
    # the money and percentages of the tiles, in the locale's own patterns
    tiles = [d.get_text() for d in soup.select(".kam-tile-value")]
    assert any(t.endswith("\xa0%") if code == "de" else t.endswith("%") for t in tiles), tiles
    header = soup.find("table", class_="kam-facts").get_text(" ")
    assert lang.month_full(pd.Period(MONTH, "M")) in header
    assert "€" in header and not re.search(r"\d,\d{3}\b", header)


def test_english_stays_the_house_style(analytics):
    page = _page(analytics, "en")
    assert "Account review — " in page and "on target" in page or "off target" in page
    assert re.search(r"\d{1,3}(,\d{3})+ EUR", page)


def _day(cell: str, lang) -> datetime.date:
    """A day as the locale writes it, read back with Babel's locale data: "07.12.2026"
    (numeric, Babel's parser), "7 dic 2026" (the locale's abbreviated month names)."""
    if "." in cell:
        return parse_date(cell, locale=lang.locale, format="medium")
    day, month, year = cell.split()
    names = {v: k for k, v in lang.locale.months["format"]["abbreviated"].items()}
    return datetime.date(int(year), names[month], int(day))


#: the figures' titles and axis labels, with values as long as the pages fill them with
FIGURE_TEXTS = {
    "Forecast accuracy by lag: customer, statistical and naive forecasts": {},
    "OTIF and on-time delivery by month (requested date)": {},
    "OTIF and on-time delivery by month (confirmed date)": {},
    "Gross margin by month (revenue − quantity × standard cost), {last} vs {year}": {
        "last": 2024, "year": 2025},
    "Monthly demand to {month}, forecast for the next {n} months": {
        "month": "Sept. 2025", "n": 12},
    "Net revenue by month, {last} vs {year}, budget {year}": {"last": 2024, "year": 2025},
    "Open receivables by days overdue at {day}": {"day": "30 set 2025"},
    "Days sales outstanding at each month end": {},
    "Forecast lag (months ahead)": {},
    "Rejected parts per million delivered (PPM)": {},
}  # fmt: skip


@pytest.mark.parametrize("code", ["en", "de", "it"])
def test_every_figure_title_fits_on_its_figure(code):
    from kamlab.scorecard import figures

    lang = language(code)
    frame = pd.DataFrame({"month": ["Jan", "Feb"], "value": [1.0, 2.0]})
    for template, values in FIGURE_TEXTS.items():
        said = lang.text(template, **values)
        fig = figures.bar_figure(frame, x="month", y="value", title=said, xlabel=said,
                                 ylabel=lang.text("Open amount ({currency})", currency="EUR"))  # fmt: skip
        assert not figures.text_outside(fig), (code, said)
