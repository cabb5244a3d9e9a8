"""The monthly pack: layout, offline pages, failures isolated, retry, atomic and idempotent."""

import json
import re

import nbformat
import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database, write_notebook

import kamlab.scorecard as sc
from kamlab.pack import PackError, build_pack, slug
from kamlab.pack.html import external_urls


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("pack"))


@pytest.fixture(scope="module")
def customers(database, tmp_path_factory):
    return sc.load_analytics(database, MONTH, cache_dir=None).customer_ids()[:3]


@pytest.fixture(scope="module")
def pack(database, customers, tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    result = build_pack(
        MONTH,
        customers=customers,
        workers=2,
        source=database,
        reports_dir=root,
        cache_dir=root / "cache",
        progress=False,
    )
    return result


def test_the_pack_has_an_index_scorecards_notebooks_workbook_and_run_log(pack, customers):
    d = pack.directory
    assert [r.status for r in pack.results] == ["ok"] * (len(customers) + 1), pack.results
    for c in customers:
        assert (d / "customers" / f"{slug(c)}.html").is_file()
        nb = nbformat.read(d / "customers" / f"{slug(c)}.ipynb", as_version=4)
        assert all(cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code")
    index = (d / "index.html").read_text()
    for c in customers:
        assert f'href="customers/{slug(c)}.html"' in index
    log = json.loads((d / "run-log.json").read_text())
    assert {r["key"] for r in log["results"]} == {*customers, "portfolio"}
    assert all(r["seconds"] > 0 for r in log["results"])
    sheets = pd.read_excel(d / "pack.xlsx", sheet_name=None)
    assert list(sheets["Summary"]["customer_id"]) == customers


def test_pages_are_offline_small_and_show_no_code_or_prompts(pack):
    pages = [pack.directory / "index.html", pack.directory / "portfolio.html"]
    pages += sorted((pack.directory / "customers").glob("*.html"))
    for page in pages:
        text = page.read_text()
        assert external_urls(text) == [], page
        assert not re.search(r"<script|https?://", text), page
        assert len(text.encode()) <= 300 * 1024, page
        assert "Out[" not in text and "In [" not in text and "open_scorecard(" not in text
        assert "Text(" not in text and "<Figure" not in text


def test_a_rerun_is_idempotent(pack, database, customers):
    before = sorted(p.relative_to(pack.directory) for p in pack.directory.rglob("*"))
    again = build_pack(
        MONTH,
        customers=customers,
        workers=1,
        source=database,
        reports_dir=pack.directory.parent,
        cache_dir=pack.directory.parent / "cache",
        progress=False,
    )
    after = sorted(p.relative_to(again.directory) for p in again.directory.rglob("*"))
    assert before == after and not [p for p in after if p.name.startswith(".tmp")]
    assert (pack.directory / "index.html").read_text().count("customers/") == len(customers)


def test_a_failing_and_a_timed_out_customer_are_isolated_then_retried(
    database, customers, tmp_path
):
    bad, slow, good = customers
    notebook = write_notebook(
        tmp_path / "flaky.ipynb",
        "import time, pathlib\n"
        f"if customer_id == {bad!r} and not pathlib.Path({str(tmp_path / 'fixed')!r}).exists():\n"
        "    raise ValueError('broken extract for this customer')",
        f"if customer_id == {slow!r} and not pathlib.Path({str(tmp_path / 'fixed')!r}).exists():\n"
        "    time.sleep(30)",
        "print('done', customer_id)",
    )
    kwargs = dict(
        customers=customers,
        workers=1,
        source=database,
        reports_dir=tmp_path,
        cache_dir=tmp_path / "cache",
        notebook=notebook,
        timeout=3,
        progress=False,
    )
    first = build_pack(MONTH, **kwargs)
    status = {r.key: r for r in first.results}
    assert status[bad].status == "failed" and "broken extract" in status[bad].error
    assert status[bad].cell == 2
    assert status[slow].status == "timeout" and status[slow].cell == 3
    assert status[good].status == "ok"
    partial = nbformat.read(first.directory / "customers" / f"{slug(slow)}.ipynb", as_version=4)
    assert partial.cells[-1].get("execution_count") is None  # kept, and visibly unfinished
    index = (first.directory / "index.html").read_text()
    assert index.count("kam-failed") >= 2
    (tmp_path / "fixed").touch()
    retry = build_pack(MONTH, retry_failed=True, **kwargs)
    assert {r.key for r in retry.results if r.seconds > 0 and r.status == "ok"} >= {bad, slow}
    assert [r.status for r in retry.results] == ["ok"] * len(retry.results)
    log = json.loads((retry.directory / "run-log.json").read_text())
    assert {r["key"]: r["status"] for r in log["results"]}[good] == "ok"


def test_wrong_parameters_stop_the_pack_before_any_kernel_starts(database, tmp_path):
    with pytest.raises(PackError, match="YYYY-MM"):
        build_pack("2025/06", source=database, reports_dir=tmp_path)
    with pytest.raises(PackError, match="unknown customer"):
        build_pack(
            MONTH, customers=["NOPE"], source=database, reports_dir=tmp_path, cache_dir=tmp_path
        )
    with pytest.raises(PackError, match="nothing to retry"):
        build_pack(
            MONTH, retry_failed=True, source=database, reports_dir=tmp_path, cache_dir=tmp_path
        )


def test_slugs_are_safe_distinct_file_names():
    ids = ['A"1', "A/1", "A{1}", "Ä1", "日本", "..", "a b", "C001"]
    slugs = [slug(i) for i in ids]
    assert len(set(slugs)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", s) and s not in {".", ".."} for s in slugs)
    assert slug("C001") == "C001"
