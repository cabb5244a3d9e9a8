"""The monthly pack: layout, offline pages, failures isolated, retry, atomic and idempotent.

The browser test drives headless Chromium over the DevTools protocol (websocket-client, a
Jupyter dependency) with the network emulated offline and records every request the pages
make; it is skipped only when no Chromium is installed.
"""

import html
import json
import re
import shutil
import subprocess
import time
import urllib.request

import nbformat
import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database, write_notebook

import kamlab.chain as chain
from kamlab.cli import main
from kamlab.pack import PackError, build_pack, slug
from kamlab.pack.html import external_urls


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("pack"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One analytics cache for the module: the shared analytics are prepared once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def customers(database, tmp_path_factory):
    return chain.load_analytics(database, MONTH, cache_dir=None).customer_ids()[:3]


@pytest.fixture(scope="module")
def pack(database, customers, cache, tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    result = build_pack(
        MONTH,
        customers=customers,
        workers=2,
        source=database,
        reports_dir=root,
        cache_dir=cache,
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
    sheets = pd.read_excel(d / "pack.xlsx", sheet_name=None, dtype={"Customer ID": str})
    summary = sheets["Summary"]  # in priority order: the account to look at first on top
    assert sorted(summary["Customer ID"]) == sorted(customers)
    assert list(summary["Priority"]) == list(range(1, len(customers) + 1))
    data = json.loads((d / "pack.json").read_text(encoding="utf-8"))
    assert [c["customer_id"] for c in data["customers"]] == list(summary["Customer ID"])


def test_pages_are_offline_small_and_show_no_code_or_prompts(pack):
    pages = [pack.directory / "index.html", pack.directory / "portfolio.html"]
    pages += sorted((pack.directory / "customers").glob("*.html"))
    for page in pages:
        text = page.read_text()
        assert external_urls(text) == [], page
        assert not re.search(r"<script|https?://", text), page
        # 400 KB: a scorecard carries 20 sections (commercial and supply included), offline
        assert len(text.encode()) <= 400 * 1024, page
        assert "Out[" not in text and "In [" not in text and "open_scorecard(" not in text
        assert "Text(" not in text and "<Figure" not in text


def test_external_urls_are_found_around_embedded_figures_never_inside_them():
    png = "data:image/png;base64,iVBORw0KGgo//AAAA+srcx//x+org/aw=="
    page = (
        f'<img alt="f" src="{png}"><a href="https://example.com/x">x</a>'
        f"<style>@import '//cdn.example.org/s.css';</style><img src=\"{png}\">"
    )
    assert external_urls(page) == ["https://example.com/x", "//cdn.example.org/s.css"]
    assert external_urls(f'<img src="{png}">') == []


def test_notebooks_are_valid_and_pages_are_what_nbconvert_would_write(pack, customers):
    """The pack writes each notebook without a second validation and skips nbconvert's
    closing BeautifulSoup pass: the notebook still validates, and the page parses to the
    very document nbconvert's own HTMLExporter makes of it."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from kamlab.pack.html import TEMPLATES, contents

    stock = HTMLExporter(
        template_name=TEMPLATES.name,
        extra_template_basedirs=[str(TEMPLATES.parent)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    for c in customers:
        nb = nbformat.read(pack.directory / "customers" / f"{slug(c)}.ipynb", as_version=4)
        nbformat.validate(nb)
        page = (pack.directory / "customers" / f"{slug(c)}.html").read_text(encoding="utf-8")
        title = BeautifulSoup(page, features="html.parser").title.string
        nb.metadata["title"] = title
        footer = re.search(r'<footer class="kam-footer">(.*?)</footer>', page).group(1)
        resources = {
            "metadata": {"name": title},
            "kamlab_footer": html.unescape(footer),
            "kamlab_toc": contents(nb),  # the table of contents the pack passes
        }
        expected, _ = stock.from_notebook_node(nb, resources={**resources, "kamlab_paper": "A4"})
        assert str(BeautifulSoup(page, features="html.parser")) == expected


def test_a_rerun_from_the_command_line_is_idempotent(pack, database, customers, cache, monkeypatch):
    monkeypatch.chdir(cache.parent)
    (cache.parent / ".kamlab-cache").mkdir(exist_ok=True)  # the CLI caches in ./.kamlab-cache
    for f in cache.glob("analytics-*"):
        shutil.copytree(f, cache.parent / ".kamlab-cache" / f.name, dirs_exist_ok=True)
    before = sorted(p.relative_to(pack.directory) for p in pack.directory.rglob("*"))
    index = (pack.directory / "index.html").read_text()
    argv = ["pack", "--month", MONTH, "--customers", customers[0], "--workers", "1"]
    argv += ["--source", str(database), "--reports", str(pack.directory.parent)]
    assert main(argv) == 0
    after = sorted(p.relative_to(pack.directory) for p in pack.directory.rglob("*"))
    assert before == after and not [p for p in after if p.name.startswith(".tmp")]
    assert (pack.directory / "index.html").read_text() == index


def test_the_command_line_reports_bad_input_with_exit_code_2(database, capsys):
    assert main(["pack", "--month", "2025/06", "--source", str(database)]) == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_a_failing_and_a_timed_out_customer_are_isolated_then_retried(
    database, customers, cache, tmp_path
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
        cache_dir=cache,
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


def test_the_same_pack_runs_on_a_dask_cluster(database, customers, cache, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = build_pack(
            MONTH,
            customers=customers[:2],
            source=database,
            reports_dir=tmp_path,
            cache_dir=cache,
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert [r.status for r in result.results] == ["ok"] * 3
    assert len({r.worker for r in result.results}) == 1  # one warm kernel served them all
    assert (result.directory / "customers" / f"{slug(customers[0])}.html").is_file()


def test_slugs_are_safe_distinct_file_names():
    ids = ['A"1', "A/1", "A{1}", "Ä1", "日本", "..", "a b", "C001"]
    slugs = [slug(i) for i in ids]
    assert len(set(slugs)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", s) and s not in {".", ".."} for s in slugs)
    assert slug("C001") == "C001"


# -- a real browser ------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-default-apps",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    for _ in range(300):
        if port_file.exists() and port_file.read_text().strip():
            break
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def _visit(port: int, url: str) -> tuple[list[str], list[str]]:
    """Open `url` in a new tab, offline; return (requested URLs, console/JS errors)."""
    import websocket

    request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        target = json.load(response)
    ws = websocket.create_connection(
        target["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
    )
    ws.settimeout(0.5)
    ids = iter(range(1, 10_000))

    def send(method, **params):
        ws.send(json.dumps({"id": next(ids), "method": method, "params": params}))

    for method in ("Network.enable", "Runtime.enable", "Log.enable", "Page.enable"):
        send(method)
    send(
        "Network.emulateNetworkConditions",
        offline=True,
        latency=0,
        downloadThroughput=0,
        uploadThroughput=0,
    )
    navigate = next(ids)
    ws.send(json.dumps({"id": navigate, "method": "Page.navigate", "params": {"url": url}}))
    requested, errors = [], []
    deadline, loaded, probe, next_probe = time.time() + 90, False, None, time.time() + 0.5
    while time.time() < deadline:
        if not loaded and probe is None and time.time() >= next_probe:
            # the load event can be missed on a busy machine: ask for readyState as well
            probe = next(ids)
            ws.send(
                json.dumps(
                    {
                        "id": probe,
                        "method": "Runtime.evaluate",
                        "params": {"expression": "document.readyState + ' ' + location.href"},
                    }
                )
            )
        try:
            msg = json.loads(ws.recv())
        except websocket.WebSocketTimeoutException:
            continue
        method, params = msg.get("method"), msg.get("params", {})
        if probe is not None and msg.get("id") == probe:
            value = msg.get("result", {}).get("result", {}).get("value", "")
            loaded = loaded or value == f"complete {url}"
            probe, next_probe = None, time.time() + 0.5
        elif method == "Network.requestWillBeSent":
            requested.append(params["request"]["url"])
        elif method == "Runtime.exceptionThrown":
            errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            errors.append(str(params.get("args")))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(params["entry"]["text"])
        elif method == "Page.loadEventFired":
            loaded = True
        if loaded:
            deadline = min(deadline, time.time() + 1.0)  # collect late messages briefly
    ws.close()
    assert loaded, f"{url} never finished loading"
    return requested, errors


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_browser_opens_index_and_scorecards_offline_without_requests_or_errors(pack, browser):
    pages = [pack.directory / "index.html", pack.directory / "portfolio.html"]
    pages += sorted((pack.directory / "customers").glob("*.html"))[:2]
    for page in pages:
        requested, errors = _visit(browser, page.as_uri())
        outside = [u for u in requested if not u.startswith(("file://", "data:"))]
        assert outside == [], page
        assert errors == [], page


def _print_pdf(page, pdf) -> tuple[int, list[tuple[float, float]]]:
    """Print `page` with headless Chromium; return (pages, page sizes in points)."""
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    return pages, [(float(w), float(h)) for w, h in boxes]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_scorecard_prints_on_at_most_four_a4_pages_and_the_index_landscape(pack, tmp_path):
    """A4 portrait is 595 x 842 points; the index, a wide table, prints A4 landscape."""
    for page in sorted((pack.directory / "customers").glob("*.html")):
        pages, sizes = _print_pdf(page, tmp_path / f"{page.stem}.pdf")
        assert 1 <= pages <= 4, (page.name, pages)
        assert {(round(w), round(h)) for w, h in sizes} == {(595, 842)}, sizes
        css = page.read_text()
        assert "break-after: avoid" in css and "break-inside: avoid" in css
    pages, sizes = _print_pdf(pack.directory / "index.html", tmp_path / "index.pdf")
    assert {(round(w), round(h)) for w, h in sizes} == {(842, 595)}, sizes
