"""The customer meeting pack: in the customer's language, and nothing internal on any page."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from babel.numbers import parse_decimal
from bs4 import BeautifulSoup

from kamlab.chain import open_chain
from kamlab.cli import main
from kamlab.data.demo import write_demo
from kamlab.i18n.language import LANGUAGES, catalog, language
from kamlab.scorecard.meeting import ALLOWED, MeetingError, shared

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "kamlab/scorecard/meeting.py", ROOT / "kamlab/i18n/language.py"]


def _messages() -> list[str]:
    """Every English template the meeting pack passes to ``Language.text`` (or ``_none``)."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            arg = {"text": 0, "_none": 1}.get(name)
            if arg is None or len(node.args) <= arg:
                continue
            literal = node.args[arg]
            if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                found.append(literal.value)
    return list(dict.fromkeys(found))


def test_locale_formats_are_babels_and_parse_back():
    de, it, en = language("de"), language("it"), language("en")
    assert de.money(1234.56, "EUR") == "1.235\xa0€"
    assert de.money(1234.567, "EUR", digits=2) == "1.234,57\xa0€"
    assert it.money(1234.56, "EUR") == "1.235\xa0€"
    assert en.money(1234.56, "EUR") == "1,235 EUR"  # the pack's English house style
    assert de.percent(0.125, digits=1) == "12,5\xa0%" and it.percent(0.9) == "90%"
    assert de.date("2026-12-07") == "07.12.2026" and it.date("2026-12-07") == "7 dic 2026"
    assert de.month(pd.Period("2026-12", "M")) == "Dez. 2026"
    assert it.month(pd.Period("2026-12", "M")) == "dic 2026"
    for lang in (de, it, en):
        assert parse_decimal(
            lang.number(1234567.25, digits=2), locale=lang.locale
        ) == pytest.approx(1234567.25)
        assert lang.money(None, "EUR") == lang.percent(float("nan")) == lang.date(None) == "–"


def test_every_template_is_in_each_catalog_with_the_same_placeholders():
    messages = _messages()
    assert len(messages) > 50
    for code in ("de", "it"):
        entries = catalog(code)
        missing = [m for m in messages if not entries.get(m)]
        assert not missing, f"{code}.po lacks {missing}"
        for m in messages:
            assert set(re.findall(r"{(\w+)}", m)) == set(re.findall(r"{(\w+)}", entries[m])), m


def test_a_company_glossary_overrides_the_shipped_words(tmp_path):
    (tmp_path / "de.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Delivery performance"\nmsgstr "Lieferperformance"\n',
        encoding="utf-8",
    )
    assert language("de", glossary_dir=tmp_path).text("Delivery performance") == "Lieferperformance"
    assert language("de").text("Delivery performance") == "Liefertreue"
    with pytest.raises(ValueError, match="language must be one of"):
        language("fr")


def test_the_meeting_pack_reads_nothing_off_its_allow_list(demo):
    analytics = open_chain(
        "2026-11", source=demo / "kam.duckdb", cache_dir=demo / "cache"
    ).analytics
    customer = analytics.customer_ids()[0]
    for internal in ("margin", "money_at_stake", "credit", "provision", "late_payment",
                     "competitors", "share_of_business", "challenges", "matrix"):  # fmt: skip
        with pytest.raises(MeetingError, match="not on the allow-list"):
            shared(analytics, internal, customer)
    customers = shared(analytics, "customers", customer)
    assert list(customers.columns) == [c for c in ALLOWED["customers"] if c in customers.columns]
    assert "credit_limit" not in customers.columns


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("meeting")
    write_demo(root / "x", customers=6, materials=60, months=30, end="2026-11", seed=5)
    assert main(["ingest", str(root / "x"), "--database", str(root / "kam.duckdb")]) == 0
    return root


@pytest.fixture(scope="module")
def pages(demo) -> dict[str, dict[str, str]]:
    """language -> customer -> page text, built with the CLI as a KAM would."""
    out = {}
    for code in LANGUAGES:
        reports = demo / f"reports-{code}"
        args = ["meeting", "--month", "2026-11", "--database", str(demo / "kam.duckdb"),
                "--reports", str(reports), "--language", code]  # fmt: skip
        if code != "de":
            args.append("--no-pdf")
        assert main(args) == 0
        folder = reports / "2026-11" / "meeting"
        out[code] = {p.stem: p.read_text(encoding="utf-8") for p in folder.glob("*.html")}
        assert len(out[code]) == 6
    return out


def _text(page: str) -> str:
    return BeautifulSoup(page, "html.parser").get_text(" ")


def test_german_and_italian_pages_leave_no_english_sentence(pages):
    english = {m for m in _messages() if "{" not in m}
    for code in ("de", "it"):
        translated = catalog(code)
        left = {m for m in english if translated[m] != m}
        for customer, page in pages[code].items():
            cells = BeautifulSoup(page, "html.parser").find_all(["h1", "h2", "h3", "th", "p"])
            texts = {c.get_text(" ").strip() for c in cells}
            assert not texts & left, f"{code} {customer}: {sorted(texts & left)}"
            assert f'<html lang="{code}">' in page


def test_numbers_and_dates_on_a_page_parse_back_in_its_locale(pages):
    for code in ("de", "it"):
        lang = language(code)
        page = next(iter(pages[code].values()))
        heads = [
            th.get_text()
            for th in BeautifulSoup(page, "html.parser").find_all("table")[0].find_all("th")
        ]
        rows = BeautifulSoup(page, "html.parser").find_all("table")[0].find_all("tr")[1:]
        assert heads[1] == lang.text("Lines due")
        for row in rows:
            cells = [td.get_text() for td in row.find_all("td")]
            assert parse_decimal(cells[1], locale=lang.locale) >= parse_decimal(
                cells[2], locale=lang.locale
            )
            assert cells[3].endswith("%")


def test_nothing_internal_appears_on_any_page(demo, pages):
    """Search every page, in every language, for each internal figure's label and value."""
    from kamlab.data.store import load

    ds = load(demo / "kam.duckdb")
    analytics = open_chain(
        "2026-11", source=demo / "kam.duckdb", cache_dir=demo / "cache"
    ).analytics
    labels = {
        "en": ["margin", "unit cost", "credit limit", "exposure", "expected loss", "late-payment",
               "priority", "at stake", "competitor", "share of business", "challenge"],
        "de": ["marge", "kreditlimit", "obligo", "kreditverlust", "priorität", "im risiko",
               "wettbewerber", "lieferanteil", "hinterfragen"],
        "it": ["margine", "fido", "esposizione", "perdita attesa", "priorità", "a rischio",
               "concorrent", "quota di fornitura"],
    }  # fmt: skip
    competitors = set(ds.opportunities["competitor"].dropna().astype(str))
    if len(ds.market) and "competitor" in ds.market.columns:
        competitors |= set(ds.market["competitor"].dropna().astype(str))
    assert competitors, "the demo names competitors"
    for code, by_customer in pages.items():
        lang = language(code)
        for customer, page in by_customer.items():
            text = _text(page).lower()
            for label in labels[code] + labels["en"]:
                assert label not in text, f"{code} {customer}: '{label}'"
            for name in competitors:
                assert name.lower() not in text, f"{code} {customer}: competitor {name}"
            c = ds.customers.loc[ds.customers["customer_id"] == customer].iloc[0]
            secrets = [lang.money(c["credit_limit"], c["currency"])]
            stake = analytics.money_at_stake
            for r in stake.loc[stake["customer_id"] == customer].itertuples():
                if abs(r.amount) >= 1000:
                    secrets.append(lang.money(r.amount, r.currency))
            for secret in secrets:
                assert secret.lower() not in text, f"{code} {customer}: {secret}"


def test_pages_are_small_and_the_printed_page_fits_six_a4_sheets(demo, pages):
    for by_customer in pages.values():
        assert max(len(p.encode()) for p in by_customer.values()) <= 300_000
    if shutil.which("chromium") is None:
        pytest.skip("no headless Chromium: the PDF is not made")
    pdfs = list((demo / "reports-de" / "2026-11" / "meeting").glob("*.pdf"))
    assert len(pdfs) == 6
    for pdf in pdfs:
        sheets = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
        assert 1 <= sheets <= 6, (pdf.name, sheets)


def test_an_unknown_language_or_customer_exits_2(demo, capsys):
    db = str(demo / "kam.duckdb")
    assert main(["meeting", "--month", "2026-11", "--database", db, "--language", "fr"]) == 2
    assert "--language must be one of ['en', 'de', 'it']" in capsys.readouterr().err
    assert main(["meeting", "--month", "2026-11", "--database", db, "--customers", "X9"]) == 2
    assert "unknown customer(s) ['X9']" in capsys.readouterr().err
