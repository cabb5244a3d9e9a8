"""The whole pack in the KAM's language: every template in both catalogs, the demo pack built
in German (one account manager's scorecards in Italian) and in Italian leaves no English
template on its index, portfolio page or workbook, and its numbers and dates parse back."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import openpyxl
import pytest
from babel.dates import parse_date
from babel.numbers import parse_decimal
from bs4 import BeautifulSoup
from pack_support import MONTH, build_demo_database

from kamlab.chain import load_analytics
from kamlab.config import DEFAULTS, SettingsError, settings_from_mapping
from kamlab.i18n.language import catalog
from kamlab.pack import PackError, build_pack
from kamlab.pack.build import page_languages
from kamlab.pack.narrative import markdown_messages, translate_markdown

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kamlab"
# the scorecard's own modules: translated on branch lang-card (#24), in parallel with this one
LANG_CARD = {
    f"kamlab/scorecard/{name}.py"
    for name in (
        "card tiles values figures service sales receivables commercial supply demand accuracy "
        "challenges actions classification trends commentary reasons render"
    ).split()
} | {"kamlab/i18n/challenge.py"}
# words that are English and neither German nor Italian
ENGLISH = {
    "the", "and", "of", "with", "which", "where", "overdue", "target", "revenue", "months",
    "customer", "customers", "forecast", "stake", "accounts", "findings", "priority", "days",
}  # fmt: skip
_PLACEHOLDER = re.compile(r"{(\w+)}")
_T_CALL = re.compile(r"""\bt\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _say_template(key: str) -> str:
    from kamlab.i18n import challenge

    return getattr(challenge, "TEMPLATES", {}).get(key, key)


def _messages() -> dict[str, str]:
    """Every literal English template passed to ``text`` / ``fmt.text`` / ``lang.text`` /
    ``say`` (its template) / ``_none`` in kamlab, and to ``t`` in the pack's Jinja
    templates, with the file it is in; the pack notebooks' narrative lines too."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            arg = {"text": 0, "say": 0, "_none": 1}.get(name)
            if arg is None or len(node.args) <= arg:
                continue
            literal = node.args[arg]
            if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                message = _say_template(literal.value) if name == "say" else literal.value
                found.setdefault(message, "kamlab/i18n/challenge.py" if name == "say" else where)
    for path in sorted((PACKAGE / "templates").glob("*.j2")):
        for double, single in _T_CALL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(double or single, str(path.relative_to(ROOT)))
    for name in ("portfolio", "scorecard"):
        path = PACKAGE / "notebooks" / f"{name}.ipynb"
        for message in markdown_messages(path):
            found.setdefault(message, str(path.relative_to(ROOT)))
    return found


def _lacking(messages: list[str]) -> list[str]:
    """The messages missing from a catalog or with other placeholders there."""
    wrong = []
    for code in ("de", "it"):
        entries = catalog(code)
        for m in messages:
            if not entries.get(m):
                wrong.append(f"{code}: missing {m!r}")
            elif set(_PLACEHOLDER.findall(m)) != set(_PLACEHOLDER.findall(entries[m])):
                wrong.append(f"{code}: other placeholders in {m!r}")
    return wrong


def _ours(messages: dict[str, str]) -> list[str]:
    scorecard_narrative = "kamlab/notebooks/scorecard.ipynb"
    glossary = set(markdown_messages(PACKAGE / "notebooks" / "portfolio.ipynb"))
    return [
        m
        for m, where in messages.items()
        if where not in LANG_CARD and (where != scorecard_narrative or m in glossary)
    ]


def test_the_scan_finds_the_templates_of_every_kind_of_call():
    messages = _messages()
    assert "Key account portfolio — {month}" in messages  # text() in the portfolio page
    assert "Account review pack — {month}" in messages  # t() in the index template
    assert '<a href="{href}">open</a>' in messages  # t('...') with single quotes
    assert "Glossary" in messages  # a notebook heading
    assert "Account review with {customer}" in messages  # Language.text (the meeting page)
    assert len(_ours(messages)) > 150


def test_every_pack_template_is_in_both_catalogs_with_the_same_placeholders():
    ours = _ours(_messages())
    assert not _lacking(ours)


def test_a_template_missing_from_a_catalog_is_found():
    """Negative control: the check above can fail."""
    assert _lacking(["A sentence no catalog has, {n} times."]) == [
        "de: missing 'A sentence no catalog has, {n} times.'",
        "it: missing 'A sentence no catalog has, {n} times.'",
    ]


def test_every_scorecard_template_is_in_both_catalogs():
    messages = _messages()
    theirs = [m for m in messages if m not in _ours(messages)]
    assert theirs and not _lacking(theirs)


def test_the_narrative_is_translated_line_by_line_keeping_its_markdown():
    from kamlab.i18n import language

    source = "## Glossary\n- **OTD** (on-time delivery): share of order lines delivered by the requested date, complete or not.\n\nUnknown line."
    german = translate_markdown(source, language("de"))
    assert german.startswith("## Glossar\n- **OTD** (Termintreue): Anteil")
    assert german.endswith("\n\nUnknown line.")
    assert translate_markdown(source, language("en")) == source


# -- settings: the pack's language and each account manager's ---------------------------------
def test_pack_languages_are_read_and_checked():
    s = settings_from_mapping({"pack": {"language": "de", "languages": {"Anna Rossi": "it"}}})
    assert s.pack.language == "de" and s.pack.languages == {"Anna Rossi": "it"}
    assert DEFAULTS.pack.languages == {}
    with pytest.raises(SettingsError, match=r"\[pack\] languages: allowed a language per"):
        settings_from_mapping({"pack": {"languages": {"Anna Rossi": "fr"}}})


def test_each_customer_gets_its_account_managers_language(database):
    customers = load_analytics(database, MONTH, cache_dir=None).customers
    managers = customers.set_index("customer_id")["account_manager"].astype(str)
    one = managers.iloc[0]
    s = settings_from_mapping({"pack": {"language": "de", "languages": {one: "it"}}})
    chosen = page_languages(customers, s)
    assert chosen == {c: "it" if m == one else "de" for c, m in managers.items()}
    wrong = settings_from_mapping({"pack": {"languages": {"Nobody Here": "it"}}})
    with pytest.raises(PackError, match=r"no customer has the account manager\(s\) \['Nobody"):
        page_languages(customers, wrong)


def test_a_misspelt_account_manager_stops_the_pack_before_any_work(database, tmp_path, capsys):
    from kamlab.cli import main

    toml = tmp_path / "kamlab.toml"
    toml.write_text('[pack.languages]\n"Nobody Here" = "it"\n', encoding="utf-8")
    with pytest.raises(PackError, match=r"no customer has the account manager\(s\) \['Nobody"):
        build_pack(
            MONTH,
            source=database,
            reports_dir=tmp_path / "reports",
            settings_path=toml,
            cache_dir=tmp_path / "cache",
            progress=False,
        )
    assert not (tmp_path / "reports").exists()
    argv = ["pack", "--month", MONTH, "--database", str(database), "--config", str(toml)]
    assert main([*argv, "--reports", str(tmp_path / "reports")]) == 2
    assert "Nobody Here" in capsys.readouterr().err


# -- the demo pack in German and Italian -------------------------------------------------------
@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("language"), customers=3)


@pytest.fixture(scope="module")
def packs(database, tmp_path_factory) -> dict[str, Path]:
    """The German pack (the second customer's account manager reads Italian) and the
    Italian pack of one customer, sharing one analytics cache."""
    root = tmp_path_factory.mktemp("packs")
    customers = load_analytics(database, MONTH, cache_dir=None).customers
    managers = customers.set_index(customers["customer_id"].astype(str))["account_manager"]
    first = managers.index[0]
    other = next(c for c in managers.index if managers[c] != managers[first])
    ids, italian = [first, other], str(managers[other])
    out = {}
    for code, chosen, languages in (("de", ids, {italian: "it"}), ("it", ids[:1], {})):
        toml = root / f"{code}.toml"
        lines = [f'[pack]\nlanguage = "{code}"\n']
        if languages:
            lines += ["[pack.languages]\n"] + [f'"{k}" = "{v}"\n' for k, v in languages.items()]
        toml.write_text("".join(lines), encoding="utf-8")
        result = build_pack(
            MONTH,
            customers=chosen,
            workers=2,
            source=database,
            reports_dir=root / code,
            settings_path=toml,
            cache_dir=root / "cache",
            progress=False,
        )
        assert result.ok, result.results
        out[code] = result.directory
    out["italian_customer"] = ids[1]
    return out


def _soup(path: Path) -> BeautifulSoup:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["style", "script"]):
        tag.decompose()
    return soup


def _english_left(texts: list[str], code: str) -> list[str]:
    """The texts that are one of our English templates (their translation differs), or
    hold a sentence of one."""
    entries = catalog(code)
    english = {m for m in _messages() if entries.get(m, m) != m}
    sentences = [m for m in english if len(m) >= 30 and not _PLACEHOLDER.search(m)]
    return [
        t
        for t in texts
        if not re.fullmatch(r"[A-Z]{2,6}", t)  # an acronym a glossary explains: OTIF, DSO
        and (t in english or any(s in t for s in sentences if len(t) >= len(s)))
    ]


def _own_texts(soup: BeautifulSoup) -> list[str]:
    """The index's texts that this branch writes: title, headings, links, paragraphs, status
    words and table headers (not the KPI labels, which are the scorecard's)."""
    labels = {th.get_text(strip=True) for th in soup.select("table.kam-index thead th")[5:-1]}
    tags = soup.select("title, h1, h2, a, p, table.kam-index thead th, span.kam-status")
    texts = [t.get_text(" ", strip=True) for t in tags]
    return [t for t in texts if t and t not in labels]


@pytest.mark.parametrize("code", ["de", "it"])
def test_the_index_speaks_the_packs_language(packs, code):
    soup = _soup(packs[code] / "index.html")
    assert soup.html["lang"] == code
    texts = _own_texts(soup)
    assert not _english_left(texts, code)
    words = soup.select("title, h1, h2, a, table.kam-index thead th:nth-child(-n+5)")
    found = {w.lower() for t in words for w in re.findall(r"[A-Za-z]+", t.get_text())}
    assert not found & ENGLISH
    heading = {
        "de": "Kundenreview-Paket — Juni 2025",
        "it": "Pacchetto revisione clienti — giugno 2025",
    }
    assert soup.h1.get_text(strip=True) == heading[code]


def test_the_negative_control_finds_an_english_heading(packs):
    assert _english_left(["Account review pack — June 2025", "New since last pack"], "de") == [
        "New since last pack"
    ]


def _headers_under(soup: BeautifulSoup, code: str) -> list[str]:
    """The table headers of the portfolio sections this branch writes (the league's value
    added, the judgement and the stock sections are the scorecard's)."""
    entries = catalog(code)
    ours = {
        entries[t]
        for t in ("Where to look first", "Portfolio KPIs", "Key-account matrix", "Top overdue")
    }
    found, section = [], None
    for tag in soup.find_all(["h2", "th"]):
        if tag.name == "h2":
            section = tag.get_text(strip=True).rstrip("¶")
        elif section in ours:
            found.append(tag.get_text(strip=True))
    return found


@pytest.mark.parametrize("code", ["de", "it"])
def test_the_portfolio_page_and_its_glossary_speak_the_packs_language(packs, code):
    soup = _soup(packs[code] / "portfolio.html")
    assert soup.html["lang"] == code
    own = [h.get_text(" ", strip=True).rstrip("¶").strip() for h in soup.select("h1, h2, nav")]
    own += [li.get_text(" ", strip=True) for li in soup.select("li")]  # the glossary
    own += _headers_under(soup, code)
    assert not _english_left(own, code)
    glossary = {"de": "Glossar", "it": "Glossario"}[code]
    assert glossary in own and len(soup.select("li")) >= 12


def test_numbers_and_dates_on_the_portfolio_page_parse_back_in_the_locale(packs, database):
    soup = _soup(packs["de"] / "portfolio.html")
    table = next(t for t in soup.select("table") if "Rechnung" in t.get_text())
    heads = [th.get_text(strip=True) for th in table.select("thead th")]
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in table.select("tbody tr")]
    assert rows
    analytics = load_analytics(database, MONTH, cache_dir=None)
    top = analytics.top_overdue.set_index(analytics.top_overdue["document_id"].astype(str))
    for row in rows:
        cell = dict(zip(heads, row, strict=True))
        invoice = top.loc[cell["Rechnung"]]
        assert parse_date(cell["Fällig"], locale="de_DE") == invoice["due_date"].date()
        assert float(parse_decimal(cell["Offen"], locale="de_DE")) == round(invoice["open_amount"])


@pytest.mark.parametrize("code", ["de", "it"])
def test_the_workbook_names_its_sheets_and_columns_in_the_packs_language(packs, code):
    book = openpyxl.load_workbook(packs[code] / "pack.xlsx", read_only=True)
    entries = catalog(code)
    translated = set(entries.values()) | {k for k, v in entries.items() if k == v}
    kpis = [k["label"] for c in json.loads((packs[code] / "pack.json").read_text())["customers"] for k in c["kpis"]]  # fmt: skip
    sheets = book.sheetnames
    assert sheets[0] == entries["Summary"] and entries["Run log"] in sheets
    assert all(s in translated for s in sheets), [s for s in sheets if s not in translated]
    left = []
    for sheet in book.worksheets:
        header = next(sheet.iter_rows(max_row=1, values_only=True))
        left += [
            f"{sheet.title}: {h}"
            for h in header
            if h is not None
            and re.search("[A-Za-z]", h)  # an ageing bucket "1-30" is in no language
            and h not in translated
            and not any(h.startswith(label) for label in kpis)
            and not h.startswith(entries["Weighted at stake {currency}"].split("{")[0])
        ]
    assert not left


def test_one_account_managers_scorecards_are_in_italian_in_a_german_pack(packs):
    directory = packs["de"]
    log = {r["key"]: r for r in json.loads((directory / "run-log.json").read_text())["results"]}
    italian = packs["italian_customer"]
    pages = {
        key: _soup(directory / "customers" / f"{r['slug']}.html")
        for key, r in log.items()
        if r["kind"] == "scorecard"
    }
    assert {key: soup.html["lang"] for key, soup in pages.items()} == {
        key: "it" if key == italian else "de" for key in pages
    }
    footers = {key: soup.find("footer").get_text() for key, soup in pages.items()}
    assert "· mese 2025-06 ·" in footers[italian]
    assert all("· Monat 2025-06 ·" in f for key, f in footers.items() if key != italian)
    glossary = {key: [h.get_text() for h in soup.select("h2")] for key, soup in pages.items()}
    assert any("Glossario" in h for h in glossary[italian])


def _data_texts(database: Path) -> set[str]:
    """Every text value in the demo database (names, CRM notes, action topics): a page shows
    the company's data as it was typed, in whatever language it was typed in."""
    import duckdb

    found: set[str] = set()
    with duckdb.connect(str(database), read_only=True) as db:
        columns = db.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR'"
        ).fetchall()
        for table, column in columns:
            rows = db.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
            found.update(str(v).strip() for (v,) in rows if v is not None)
    return found


@pytest.mark.parametrize("code", ["de", "it"])
def test_no_page_of_the_pack_leaves_an_english_word(packs, database, code):
    directory = packs[code]
    data = _data_texts(database)
    pages = [directory / "index.html", directory / "portfolio.html"]
    pages += sorted((directory / "customers").glob("*.html"))
    left = {}
    for page in pages:
        soup = _soup(page)
        texts = [
            t
            for t in soup.stripped_strings
            if t not in data and not all(part in data for part in t.split("; "))
        ]
        words = {w.lower() for t in texts for w in re.findall(r"[A-Za-z]+", t)}
        english = _english_left(texts, soup.html["lang"])
        if words & ENGLISH or english:
            left[page.name] = sorted(words & ENGLISH) + english[:5]
    assert not left
