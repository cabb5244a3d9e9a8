"""Issue 14: whole packs from partial extract sets, with real kernels through `kamlab pack`.

Two small demo sets cut down to what a company may actually have — (a) orders + customers +
materials, (b) invoices + payments with the customer master derived — and the two public
sample extracts in ``../shared/data`` mapped by ``docs/byo/*.toml`` only. Each pack must exit
0, say "not available: no <table> in the data" (grey, no number) where a table is missing,
and print no raw ``nan`` / ``None`` on any page.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from byo_extracts import END, write_erp, write_sap
from pack_support import MONTH

from kamlab.cli import main

BYO = Path(__file__).resolve().parents[1] / "docs" / "byo"


def _extracts(root: Path, tables: tuple[str, ...]) -> Path:
    """A three-customer demo extract set holding only `tables` (the rest absent)."""
    from kamlab.data.demo import write_demo

    full, only = root / "full", root / "extracts"
    write_demo(full, customers=3, materials=30, months=30, end=MONTH, seed=1)
    only.mkdir()
    for table in tables:
        shutil.copy(full / f"{table}.csv", only / f"{table}.csv")
    if "customers" in tables:  # a master without payment terms, as order books often are
        master = pd.read_csv(only / "customers.csv", dtype="str", keep_default_na=False)
        master.drop(columns="payment_terms_days").to_csv(only / "customers.csv", index=False)
    return only


def _pack(
    project: Path, extracts: Path, month: str, *, config: Path | None = None, customers=()
) -> Path:
    """`kamlab ingest` then `kamlab pack` from `project`, as an analyst runs them; both
    must exit 0. Returns the month's pack folder."""
    project.mkdir(exist_ok=True)
    if config is not None:
        shutil.copy(config, project / "kamlab.toml")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        mp.delenv("KAMLAB_CACHE", raising=False)
        assert main(["ingest", str(extracts), "--database", "kam.duckdb"]) == 0
        argv = ["pack", "--month", month, "--workers", "2", "--database", "kam.duckdb"]
        argv += ["--reports", "reports"]
        if customers:
            argv += ["--customers", *customers]
        assert main(argv) == 0
    return project / "reports" / month


def _text(page: Path) -> str:
    """What a reader reads on `page`: tags, styles and embedded images removed."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<(style|script)\b.*?</\1>", " ", raw, flags=re.S)
    raw = re.sub(r"<[^>]+>", " ", raw)
    return re.sub(r"\s+", " ", html.unescape(raw))


def _sections(page: Path) -> dict[str, str]:
    """The text of each <h2> section of a scorecard, by its title."""
    raw = page.read_text(encoding="utf-8")
    parts = re.split(r'<h2 id="([^"]+)"', raw)
    return {
        title.replace("-", " "): re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
        for title, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def _tiles(page: Path) -> dict[str, tuple[str, str, str]]:
    """Headline tiles by label: (colour, value, note; "" when the tile has none)."""
    tiles = {}
    for card in page.read_text(encoding="utf-8").split('<div class="kam-tile kam-')[1:]:
        field = dict(re.findall(r'<div class="kam-tile-(\w+)">([^<]*)</div>', card))
        tiles[html.unescape(field["label"])] = (
            card.split('"', 1)[0],
            html.unescape(field["value"]),
            html.unescape(field.get("note", "")),
        )
    return tiles


def _check_pages(pack: Path, customers: int) -> list[Path]:
    """Every page present and free of raw missing values; the scorecards returned."""
    cards = sorted((pack / "customers").glob("*.html"))
    assert len(cards) == customers
    for page in [pack / "index.html", pack / "portfolio.html", *cards]:
        text = _text(page)
        raw = re.findall(r".{40}(?:\b[Nn]a[Nn]\b|\bNone\b|<NA>).{20}", text)
        assert raw == [], (page.name, raw)
    return cards


def _says_absent(card: Path, section: str, table: str) -> None:
    text = _sections(card)[section]
    assert f"not available: no {table.replace('_', ' ')} in the data" in text.lower(), (
        card.name,
        section,
        text,
    )


# -- (a) orders + customers + materials ------------------------------------------------------


@pytest.fixture(scope="module")
def orders_only(tmp_path_factory):
    root = tmp_path_factory.mktemp("byo-orders")
    extracts = _extracts(root, ("orders", "customers", "materials"))
    return _pack(root / "project", extracts, MONTH)


def test_a_pack_from_orders_and_master_data_only(orders_only):
    cards = _check_pages(orders_only, customers=3)
    for card in cards:
        tiles = _tiles(card)
        for label, table in [
            ("OTIF, last 3 months", "deliveries"),
            ("Forecast accuracy, 1 month ahead", "customer_forecasts"),
            ("Revenue vs budget, YTD", "budget"),
            ("Overdue more than 30 days", "invoices"),
            ("Days sales outstanding", "invoices"),
        ]:
            assert tiles[label] == (
                "grey",
                "–",
                f"not available: no {table.replace('_', ' ')} in the data",
            )
        _says_absent(card, "Service", "deliveries")
        _says_absent(card, "Receivables", "invoices")
        _says_absent(card, "Forecast accuracy", "customer_forecasts")
        _says_absent(card, "Forecast challenge list", "customer_forecasts")
        _says_absent(card, "Revenue and volume", "budget")  # the revenue itself is there
        assert "Revenue this year to date" in _sections(card)["Revenue and volume"]
        header = _text(card)
        assert "no payment terms in the data" in header
    index = _text(orders_only / "index.html")
    assert "0 green" in index  # no KPI with data and a target: nothing painted green


# -- (b) invoices + payments, customers derived ----------------------------------------------


@pytest.fixture(scope="module")
def receivables_only(tmp_path_factory):
    root = tmp_path_factory.mktemp("byo-ar")
    extracts = _extracts(root, ("invoices", "payments"))
    return _pack(root / "project", extracts, MONTH)


def test_a_pack_from_invoices_and_payments_only(receivables_only):
    cards = _check_pages(receivables_only, customers=3)
    for card in cards:
        tiles = _tiles(card)
        assert tiles["OTIF, last 3 months"][0] == "grey"
        assert tiles["Revenue vs budget, YTD"][:2] == ("grey", "–")
        for section in (
            "Revenue and volume",
            "Demand and forecast",
            "Forecast accuracy",
            "Service",
        ):
            _says_absent(card, section, "orders")
        receivables = _sections(card)["Receivables"]
        assert "not available" not in receivables.lower()  # the section the data is for
        dso = tiles["Days sales outstanding"]
        assert dso[0] != "grey" and dso[1].endswith("days"), dso  # terms derived from due dates
        assert "Master data customers derived from the transactions" in _text(card)


# -- the public sample extracts, mapped by docs/byo only -------------------------------------


def test_the_public_order_book_packs_with_its_documented_mapping_only(shared_data, tmp_path):
    customers = ("Euro Shopping Channel", "La Rochelle Gifts", "Mini Gifts Distributors Ltd.")
    pack = _pack(
        tmp_path, shared_data, "2005-05", config=BYO / "orderbook.toml", customers=customers
    )
    cards = _check_pages(pack, customers=3)
    card = next(c for c in cards if c.name.startswith("Euro-Shopping"))
    assert "no payment terms in the data" in _text(card)
    _says_absent(card, "Service", "deliveries")
    _says_absent(card, "Receivables", "invoices")
    _says_absent(card, "Forecast challenge list", "customer_forecasts")
    strength = re.search(r"Attractiveness / strength \(0–1\) (\S+) / (\S+ ?\S*)", _text(card))
    assert strength and strength.group(2).startswith("not scored"), strength  # OTIF unknown
    assert "led by on-time" not in _text(card)


def test_the_public_ar_ledger_packs_with_its_documented_mapping_only(shared_data, tmp_path):
    customers = ("9149-MATVB", "4640-FGEJI", "0688-XNJRO")
    pack = _pack(
        tmp_path, shared_data, "2013-12", config=BYO / "ar_ledger.toml", customers=customers
    )
    cards = _check_pages(pack, customers=3)
    card = next(c for c in cards if c.name.startswith("0688-XNJRO"))
    assert "30 days net" in _text(card)
    _says_absent(card, "Revenue and volume", "orders")
    _says_absent(card, "Demand and forecast", "orders")
    assert "not available" not in _sections(card)["Receivables"].lower()
    assert _tiles(card)["Days sales outstanding"][1].endswith("days")


# -- orders as header + lines, joined by SQL (issue 23): docs/byo mappings only -------------


def _pack_example(tmp_path: Path, write, mapping: str, customers: tuple[str, ...]) -> Path:
    """Write an example extract set of ``byo_extracts``; ingest and pack it with `mapping`."""
    write(tmp_path / "extracts")
    return _pack(
        tmp_path / "project", tmp_path / "extracts", END, config=BYO / mapping, customers=customers
    )


def test_the_erp_header_and_lines_pack_with_their_documented_mapping_only(tmp_path):
    pack = _pack_example(tmp_path, write_erp, "erp_header_lines.toml", ("C-001", "C-003"))
    for card in _check_pages(pack, customers=2):
        assert "Revenue this year to date" in _sections(card)["Revenue and volume"]
        tiles = _tiles(card)
        assert tiles["OTIF, last 3 months"][1].endswith("%"), tiles["OTIF, last 3 months"]
        _says_absent(card, "Receivables", "invoices")


def test_the_sap_vbak_vbap_extracts_pack_with_their_documented_mapping_only(tmp_path):
    pack = _pack_example(tmp_path, write_sap, "sap_vbak_vbap.toml", ("0000100001",))
    (card,) = _check_pages(pack, customers=1)
    text = _text(card)
    assert "Müller Maschinenbau" in text  # KNA1 read as cp1252
    assert "Revenue this year to date" in _sections(card)["Revenue and volume"]
    assert "not available" not in _sections(card)["Receivables"].lower()


def test_invoices_running_later_than_orders_give_a_valid_receivables_month(tmp_path):
    """The AR ledger covers two years after the last order: its months are review months;
    the order sections say there are no orders that month, receivables show figures."""
    extracts = tmp_path / "extracts"
    write_sap(extracts)
    vbrk = pd.read_csv(extracts / "VBRK.csv", sep=";", dtype="str", encoding="cp1252")
    later = pd.to_datetime(vbrk["FKDAT"], format="%Y%m%d") + pd.DateOffset(years=2)
    vbrk.assign(FKDAT=later.dt.strftime("%Y%m%d")).to_csv(
        extracts / "VBRK.csv", sep=";", index=False, encoding="cp1252"
    )
    month = str(pd.Period(END, "M") + 24)
    pack = _pack(
        tmp_path / "project",
        extracts,
        month,
        config=BYO / "sap_vbak_vbap.toml",
        customers=("0000100002",),
    )
    (card,) = _check_pages(pack, customers=1)
    first = str(pd.Period(END, "M") - 17)
    orders_gone = f"no orders in {month}: they run from {first} to {END}"
    assert orders_gone in _sections(card)["Revenue and volume"], _sections(card)
    assert "not available" not in _sections(card)["Receivables"].lower()
    assert _tiles(card)["Days sales outstanding"][1].endswith("days")
