"""`build_pack`: the month's pack directory from the data, in one call.

Layout of ``reports/YYYY-MM/``::

    index.html            one row per customer: status, key figures, link (offline HTML)
    portfolio.html/.ipynb the portfolio notebook, executed
    customers/<slug>.html one self-contained scorecard per customer
    customers/<slug>.ipynb the executed notebook (kept, partial, when it failed)
    pack.xlsx             the headline tables for Excel users
    run-log.json, run.log per-notebook status, error, cell and seconds

The index, portfolio page, workbook and run log's page names are in ``[pack] language``;
each scorecard in its account manager's (``[pack.languages]``, else the pack's): its kernel
is told the language before the notebook runs, and the notebook's narrative is translated
(:mod:`kamlab.pack.narrative`). Validation happens before any kernel starts; every file is written atomically, so an
interrupted or repeated build never leaves a half-written page.
"""

from __future__ import annotations

import errno
import functools
import gc
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pandas as pd
from lxml import etree
from markupsafe import Markup
from tqdm.auto import tqdm

import kamlab
from kamlab.chain import (
    ChainError,
    open_chain,
    parse_month,
    resolve_cache_dir,
    resolve_settings,
    resolve_source,
)
from kamlab.chain.snapshot import PinnedDatabase, pin_database
from kamlab.i18n import formats as fmt
from kamlab.i18n.language import LANGUAGES, Language, current, language, speaking, text
from kamlab.pack.html import TEMPLATES, atomic_write, external_urls
from kamlab.pack.narrative import translated_notebook
from kamlab.pack.runner import (
    NOTEBOOKS,
    Job,
    JobResult,
    PackError,
    PackInterrupted,
    PackResult,
    check_scheduler,
    io_error,
    run_jobs,
    write_run_log,
)
from kamlab.pack.slug import slug
from kamlab.pack.workbook import excel_workbook
from kamlab.scorecard import Portfolio, commercial, supply
from kamlab.scorecard.reasons import UNITS, ranking_text, sentence
from kamlab.scorecard.tiles import STATUS_ICONS, STATUS_WORDS
from kamlab.scorecard.values import absent_frames, coverage_sentence

__all__ = ["RunLogWarning", "build_pack", "page_languages"]


class RunLogWarning(UserWarning):
    """The last run's ``run-log.json`` cannot be read; the pack runs as if there were none."""


PORTFOLIO = "portfolio"


def build_pack(
    month: str,
    *,
    customers: Sequence[str] | None = None,
    workers: int | None = None,
    source: str | Path | None = None,
    reports_dir: str | Path | None = None,
    settings_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    retry_failed: bool = False,
    scheduler: str | None = None,
    timeout: float | None = None,
    notebook: str | Path | None = None,
    progress: bool = True,
) -> PackResult:
    """Build ``<reports_dir>/<month>/`` for `customers` (default: all) and return the results.

    `workers` warm kernels run in parallel processes (default ``[pack] workers``), or one per
    Dask worker when `scheduler` (an address) is given; the shared analytics are then
    prepared on that cluster too. `timeout` is per notebook cell
    (default ``[pack] timeout_seconds``). With `retry_failed`, only the customers that failed
    in the last run of this month are rerun (plus the portfolio page if it failed).
    Settings, database and the shared analytics come from :func:`kamlab.chain.open_chain`
    (`settings_path`, else ``./kamlab.toml``, else defaults; cached in `cache_dir`, default
    ``$KAMLAB_CACHE``, else ``.kamlab-cache``); every kernel gets the resolved settings.
    The database is pinned for the whole pack (:func:`kamlab.chain.snapshot.pin_database`):
    an ingest while it runs changes the next pack, never this one; its fingerprint is in
    every page's footer, the run log and pack.json.
    Raises :class:`PackError` before any work when a parameter is wrong (workers, timeout,
    scheduler address, settings, month, database, customers, reports folder).
    """
    started = time.perf_counter()
    # everything a user can get wrong is checked before the analytics run (minutes at scale)
    scheduler = check_scheduler(scheduler)
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise PackError(f"--workers: expected a whole number 1 or more, got {workers!r}")
    if timeout is not None and not (float(timeout).is_integer() and timeout > 0):
        raise PackError(
            f"--timeout: expected whole seconds more than 0 (e.g. 120), got {timeout!r}"
        )
    try:
        settings = resolve_settings(settings_path)
        period = parse_month(month)
        database = resolve_source(source, settings=settings)
        if settings_path is None:  # no file given: ./kamlab.toml, else those recorded at ingest
            settings = resolve_settings(None, database=database)
        cache_folder = resolve_cache_dir(cache_dir or "", settings=settings)
    except ChainError as err:
        raise PackError(str(err)) from None
    directory = Path(reports_dir or settings.pack.reports_dir).resolve() / str(period)
    _check_writable(directory)
    previous = _previous_results(directory)
    if retry_failed and not previous:
        raise PackError(f"nothing to retry: no readable run log in {str(directory)!r}")
    glossary = _glossary_dir(settings)
    # one snapshot of the database for the whole pack: an ingest meanwhile cannot mix data
    try:
        pinned = pin_database(database, cache_folder)
    except ChainError as err:
        raise PackError(str(err)) from None
    with pinned, speaking(language(settings.pack.language, glossary_dir=glossary or None)):
        stored = _stored_customers(pinned)  # also: a damaged database is named now, not later
        page_languages(stored, settings)  # a misspelt account manager, too
        known = set(stored["customer_id"].astype(str))
        wanted = list(dict.fromkeys(customers)) if customers else None
        unknown = [c for c in wanted or () if c not in known]
        if unknown:
            raise PackError(f"unknown customer(s) {unknown}: not in {str(database)!r}")
        return _build(
            period,
            wanted=wanted,
            workers=workers,
            pinned=pinned,
            settings=settings,
            cache_dir=cache_folder,
            directory=directory,
            previous=previous,
            retry_failed=retry_failed,
            scheduler=scheduler,
            timeout=timeout,
            notebook=notebook,
            progress=progress,
            started=started,
        )


def _build(
    period: pd.Period,
    *,
    wanted: list[str] | None,
    workers: int | None,
    pinned: PinnedDatabase,
    settings,
    cache_dir: Path,
    directory: Path,
    previous: dict[str, JobResult],
    retry_failed: bool,
    scheduler: str | None,
    timeout: float | None,
    notebook: str | Path | None,
    progress: bool,
    started: float,
) -> PackResult:
    """:func:`build_pack` once its parameters are checked, on the pinned database."""
    from kamlab.data.store import StoreError

    try:
        chain = open_chain(
            period, source=pinned.path, config=settings, cache_dir=cache_dir, scheduler=scheduler
        )
    except (ChainError, StoreError) as err:  # named by the path the user gave
        raise PackError(str(err).replace(str(pinned.path), str(pinned.original))) from None
    analytics = chain.analytics
    workers = workers or settings.pack.workers
    timeout = int(timeout if timeout is not None else settings.pack.timeout_seconds)
    notebook = Path(notebook or NOTEBOOKS / "scorecard.ipynb").resolve()

    known = analytics.customer_ids()
    wanted = wanted or known
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise PackError(f"unknown customer(s) {unknown}: not in {str(pinned.original)!r}")
    glossary = _glossary_dir(settings)
    speaks = page_languages(analytics.customers, settings)
    pack_language = current()  # build_pack speaks [pack] language around the whole build
    source = chain.source
    slugs = {c: slug(c) for c in known}
    clashes = pd.Series(slugs).str.lower().duplicated(keep=False)
    if clashes.any():
        raise PackError(f"customer ids clash as file names: {sorted(clashes[clashes].index)}")

    run_portfolio = True
    if retry_failed:
        failed = {k for k, r in previous.items() if r.status != "ok"}
        run_portfolio = PORTFOLIO in failed
        wanted = [c for c in wanted if c in failed]

    key = chain.key
    languages = {code: language(code, glossary_dir=glossary or None) for code in LANGUAGES}
    # each notebook's narrative in each language its pages are written in: translated once
    narrated = cache_dir / "notebooks"
    scorecards = {
        code: str(translated_notebook(notebook, languages[code], narrated))
        for code in {speaks[c] for c in wanted}
    }

    def footer_in(lang: Language) -> str:
        return lang.text(
            "kamlab {version} · month {month} · database {database} · analytics {key}",
            version=kamlab.__version__,
            month=str(period),
            database=pinned.fingerprint,
            key=key,
        )

    footer = footer_in(pack_language)
    options = chain.kernel_options()
    names = analytics.customers.set_index("customer_id")["name"].astype(str)
    jobs = [
        Job(
            key=c,
            kind="scorecard",
            name=names[c],
            slug=slugs[c],
            notebook=scorecards[speaks[c]],
            parameters={
                "customer_id": c,
                "month": str(period),
                "source": str(source),
                "options": options,
            },
            ipynb=str(directory / "customers" / f"{slugs[c]}.ipynb"),
            html=str(directory / "customers" / f"{slugs[c]}.html"),
            title=languages[speaks[c]].text(
                "{customer} — account review {month}", customer=names[c], month=str(period)
            ),
            footer=footer_in(languages[speaks[c]]),
            paper=settings.pack.paper,
            language=speaks[c],
            glossary_dir=glossary,
        )
        for c in wanted
    ]
    if run_portfolio:
        portfolio_notebook = NOTEBOOKS / "portfolio.ipynb"
        jobs.append(
            Job(
                key=PORTFOLIO,
                kind="portfolio",
                name=text("Portfolio overview"),
                slug=PORTFOLIO,
                notebook=str(translated_notebook(portfolio_notebook, pack_language, narrated)),
                parameters={"month": str(period), "source": str(source), "options": options},
                ipynb=str(directory / f"{PORTFOLIO}.ipynb"),
                html=str(directory / f"{PORTFOLIO}.html"),
                title=text("Portfolio overview {month}", month=str(period)),
                footer=footer,
                paper=settings.pack.paper,
                language=pack_language.code,
                glossary_dir=glossary,
            )
        )
    preload = chain.preload()
    directory.mkdir(parents=True, exist_ok=True)  # the kernels start in it
    bar = tqdm(total=len(jobs), desc=f"pack {period}", unit="notebook", disable=not progress)

    def done(result: JobResult) -> None:
        bar.set_postfix_str(f"{result.name[:30]} {result.status}", refresh=False)
        bar.update(1)

    meta = {
        "month": str(period),
        "kamlab_version": kamlab.__version__,
        "analytics_key": key,
        "source": str(pinned.original),
        "database_fingerprint": pinned.fingerprint,
        "workers": workers,
        "scheduler": scheduler,
    }

    # the index ranks every customer, a pass over the whole portfolio (~0.06 s a customer):
    # worked out in this process while the workers run the notebooks, not after them
    portfolio = Portfolio(analytics, previous=previous_findings(directory.parent / str(period - 1)))
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kamlab-priorities")
    ranked = ahead.submit(portfolio.priorities)
    ahead.shutdown(wait=False)

    def finish(results: list[JobResult]) -> PackResult:
        """Run log, index, workbook and pack.json for `results` merged over the previous
        run's; each written on its own, so one that cannot be (full disk, file-size limit)
        is a problem named with its path and reason, never the loss of the others."""
        merged = {**previous, **{r.key: r for r in results}}
        ordered = [merged[k] for k in [*known, PORTFOLIO] if k in merged]
        seconds = round(time.perf_counter() - started, 2)
        finished = datetime.now(UTC).isoformat(timespec="seconds")
        problems: list[str] = []

        def attempt(write, *args) -> None:
            try:
                write(*args)
            except OSError as err:
                problems.append(io_error(err))

        attempt(
            write_run_log, directory, ordered, {**meta, "finished": finished, "seconds": seconds}
        )
        ranked.result()  # raises what the ranking raised
        summary = portfolio.summary()
        summary = summary[summary["customer_id"].isin([r.key for r in ordered])]
        attempt(
            functools.partial(
                _write_index,
                paper=settings.pack.paper,
                ranking=ranking_text(settings),
                previous_pack=portfolio.previous is not None,
                coverage=coverage_sentence(analytics),
            ),
            directory,
            summary,
            merged,
            period,
            footer,
        )
        attempt(
            functools.partial(_write_workbook, findings=portfolio.findings()),
            directory,
            summary,
            merged,
            analytics,
        )
        attempt(_write_sop, directory, analytics)
        pack_json = portfolio.pack_json()  # documented in Portfolio.pack_json
        pack_json["database"] = {"path": str(pinned.original), "fingerprint": pinned.fingerprint}
        text = json.dumps(pack_json, indent=1, ensure_ascii=False)
        attempt(atomic_write, directory / "pack.json", text)
        return PackResult(
            directory=directory,
            results=ordered,
            seconds=seconds,
            problems=problems,
            language=pack_language,
        )

    try:
        results = run_jobs(
            jobs,
            workers=workers,
            preload=preload,
            timeout=timeout,
            cwd=str(directory),
            scheduler=scheduler,
            on_done=done,
        )
    except PackInterrupted as stopped:
        bar.close()
        finish(stopped.results)  # what ran is logged; the rest is "not run", for --retry-failed
        raise
    finally:
        bar.close()
    return finish(results)


def page_languages(customers: pd.DataFrame, settings) -> dict[str, str]:
    """customer_id -> the language of the customer's scorecard: its account manager's in
    ``[pack.languages]``, else ``[pack] language``.

    Raises :class:`PackError` for an account manager in ``[pack.languages]`` who manages
    none of the customers (a misspelt name would otherwise fall back without a word).
    """
    chosen = settings.pack.languages
    managers = customers["account_manager"].astype("string").fillna("")
    unknown = sorted(set(chosen) - set(managers))
    if unknown:
        raise PackError(
            f"[pack.languages]: no customer has the account manager(s) {unknown}; "
            f"the account managers are {sorted(set(managers) - {''})[:10]}"
        )
    return {
        str(cid): chosen.get(str(manager), settings.pack.language)
        for cid, manager in zip(customers["customer_id"], managers, strict=True)
    }


def _glossary_dir(settings) -> str:
    """``[pack] glossary_dir`` as an absolute path ("" when not set): the kernels run in the
    reports folder. Raises :class:`PackError` when it is set but not a folder."""
    given = settings.pack.glossary_dir
    if not given:
        return ""
    folder = Path(given).expanduser().resolve()
    if not folder.is_dir():
        raise PackError(f"[pack] glossary_dir: no such folder {str(folder)!r}")
    return str(folder)


def previous_findings(directory: Path) -> pd.DataFrame | None:
    """Last month's findings, from the previous pack's ``pack.json`` (layout 2.0 or later), or
    None when that pack is absent, older or unreadable (then every finding shows as new)."""
    from kamlab.findings import COLUMNS

    path = directory / "pack.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rows = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        return None
    given = pd.DataFrame(rows)
    if "status" in given:  # resolved last month: no longer a finding
        given = given[given["status"] != "resolved"]
    frame = given.reindex(columns=COLUMNS)
    for c in ("amount", "value", "reference", "months"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in (
        "customer_id",
        "kind",
        "group",
        "severity",
        "currency",
        "since",
        "evidence",
        "detail",
    ):
        frame[c] = frame[c].astype("string")
    return frame.reset_index(drop=True)


def _check_writable(directory: Path) -> None:
    """Raise :class:`PackError` saying why unless `directory` can be made and written in;
    nothing is created (a pack refused later leaves no empty month folder behind)."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
        probe = existing / f".tmp-probe-{os.getpid()}"
        probe.write_bytes(b"kamlab")
        probe.unlink()
    except OSError as err:
        raise PackError(f"reports folder unusable: {io_error(err)}") from None


def _stored_customers(pinned: PinnedDatabase) -> pd.DataFrame:
    """The customer ids and account managers in the pinned database (read before any
    analytics run)."""
    from kamlab.data import store

    try:
        stored = store.load(
            pinned.path,
            tables=["customers"],
            columns={"customers": ["customer_id", "account_manager"]},
        )
    except store.StoreError as err:  # named by the path the user gave, not the pinned copy
        raise PackError(str(err).replace(str(pinned.path), str(pinned.original))) from None
    return stored.customers


def _previous_results(directory: Path) -> dict[str, JobResult]:
    """The last run's results from ``run-log.json``; a damaged log is ignored with a warning
    (this run writes a new one), never a traceback."""
    log = directory / "run-log.json"
    try:
        text = log.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as err:
        warnings.warn(f"run log ignored: {io_error(err)}", RunLogWarning, 2)
        return {}
    try:
        data = json.loads(text.decode("utf-8"))
        results = {str(r["key"]): JobResult(**r) for r in data["results"]}
        for r in results.values():
            if not isinstance(r.status, str) or not isinstance(r.slug, str):
                raise TypeError("status and slug must be texts")
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        warnings.warn(
            f"run log {str(log)!r} is damaged ({type(err).__name__}: {err}); ignored, "
            "this run writes a new one",
            RunLogWarning,
            2,
        )
        return {}
    return results


def _write_index(
    directory: Path,
    summary: pd.DataFrame,
    results: dict[str, JobResult],
    period,
    footer: str,
    paper: str = "A4",
    ranking: str = "",
    previous_pack: bool = False,
    coverage: str = "",
) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    fixed = {
        "customer_id",
        "name",
        "account_manager",
        "status",
        "priority",
        "money_at_stake",
        "score",
        "why",
        "new",
        "findings",
    }
    labels = [
        c for c in summary.columns if c not in fixed and not c.endswith((" status", " number"))
    ]
    rows = []
    for rec in summary.to_dict("records"):
        r = results.get(rec["customer_id"])
        html_exists = r is not None and (directory / "customers" / f"{r.slug}.html").exists()
        rows.append(
            {
                "customer_id": rec["customer_id"],
                "name": rec["name"],
                "account_manager": rec["account_manager"],
                "status": rec["status"],
                "status_word": text(STATUS_WORDS[rec["status"]]),
                "status_icon": STATUS_ICONS[rec["status"]],
                "priority": rec.get("priority", ""),
                "money_at_stake": rec.get("money_at_stake", ""),
                "why": rec.get("why", ""),
                "new": rec.get("new", ""),
                "score": rec.get("score", ""),
                "figures": {k: rec[k] for k in labels},
                "colours": {k: rec[f"{k} status"] for k in labels},
                "icons": {k: STATUS_ICONS[rec[f"{k} status"]] for k in labels},
                "counts": _counts_text(
                    [rec[f"{k} status"] for k in labels], rec.get("findings") or ""
                ),
                "score_text": fmt.number(rec["score"])
                if isinstance(rec.get("score"), int | float)
                else fmt.MISSING,
                "run_status": r.status if r is not None else "not run",
                "run_word": _run_words().get(r.status if r is not None else "not run", ""),
                "error": r.error if r is not None else "",
                "href": f"customers/{r.slug}.html" if html_exists else "",
            }
        )
    counts = summary["status"].value_counts()
    portfolio = results.get(PORTFOLIO)
    page = env.get_template("pack_index.html.j2").render(
        t=_markup_text,
        lang=current().code,
        month=str(period),
        month_name=fmt.month(period),
        coverage=coverage,  # the review month is covered only part-way: said on every page
        customers=rows,
        labels=labels,
        counts={s: int(counts.get(s, 0)) for s in STATUS_WORDS},
        failed=sum(1 for r in rows if r["run_status"] != "ok"),
        portfolio_href=f"{PORTFOLIO}.html",
        portfolio_failed=portfolio is not None and not portfolio.ok,
        workbook_href="pack.xlsx",
        ranking=ranking,
        has_previous=any(r["new"] for r in rows) or previous_pack,
        new_rows=[r for r in rows if r["new"]],
        # the index is a wide table: it prints landscape
        css=(TEMPLATES / "kamlab.css").read_text() + f"@page {{ size: {paper} landscape; }}\n",
        footer=footer,
    )
    urls = external_urls(page)
    if urls:
        raise PackError(f"index.html would load external URLs: {urls[:3]}")
    atomic_write(directory / "index.html", page)


def _markup_text(message: str, /, **values: object) -> Markup:
    """`message` in the active language as HTML the index template inserts as it is (our
    catalogs' markup kept), its `values` escaped."""
    template = Markup(current().text(message))
    return template.format(**values) if values else template


def _run_words() -> dict[str, str]:
    """A notebook's run status as the index shows it."""
    return {
        "ok": text("ok"),
        "failed": text("failed"),
        "timeout": text("timeout"),
        "not run": text("not run"),
    }


def _counts_text(statuses: list[str], findings: str) -> str:
    """ "figures: 2 red, 1 amber; 1 red finding" - what the overall colour stands for."""
    parts = [
        text("{n} red", n=fmt.count(statuses.count("red"))) if "red" in statuses else "",
        text("{n} amber", n=fmt.count(statuses.count("amber"))) if "amber" in statuses else "",
    ]
    counts = ", ".join(p for p in parts if p) or (
        text("all on target") if "green" in statuses else text("no data")
    )
    if findings:
        return text("figures: {counts}; {findings}", counts=counts, findings=findings)
    return text("figures: {counts}", counts=counts)


def _write_workbook(
    directory: Path,
    summary: pd.DataFrame,
    results: dict[str, JobResult],
    analytics,
    *,
    findings: pd.DataFrame | None = None,
) -> None:
    """``pack.xlsx``: Summary (KPI figures as numbers, status and reason as on the index),
    Findings (the month's findings table, the index's source), Run log, headline tables."""
    units = summary.attrs.get("units", {})
    labels = list(units)
    words = {status: text(word) for status, word in STATUS_WORDS.items()}
    currency = analytics.settings.scorecard.reporting_currency
    weighted = text("Weighted at stake {currency}", currency=currency)  # in that currency
    run_words, pages = (
        _run_words(),
        {"scorecard": text("scorecard"), "portfolio": text("portfolio")},
    )
    # money at stake as a number in its currency (sortable); an account with stakes in
    # several currencies keeps them apart, as text, and has no single number
    stakes = [summary.attrs.get("stakes", {}).get(cid, {}) for cid in summary["customer_id"]]
    several = [len(s) > 1 for s in stakes]
    kpis = pd.DataFrame(
        {
            "customer_id": summary["customer_id"],
            "name": summary["name"],
            "account_manager": summary["account_manager"],
            "status": summary["status"].map(words),
            "priority": summary["priority"],
            "money_at_stake": pd.array(
                [next(iter(s.values())) if len(s) == 1 else None for s in stakes],
                dtype="Float64",
            ),
            "currency": [
                next(iter(s)) if len(s) == 1 else (text("several") if s else None) for s in stakes
            ],
            **(
                {"money_at_stake_by_currency": summary["money_at_stake"].where(several, "")}
                if any(several)
                else {}
            ),
            weighted: summary["score"].astype("float64"),
            "why": summary["why"],
            "new_since_last_pack": summary["new"],
            **{label: summary[f"{label} number"].astype("float64") for label in labels},
            **{
                text("{label}, status", label=label): summary[f"{label} status"].map(words)
                for label in labels
            },
        }
    )
    kinds = {label: units[label] or "ratio" for label in labels}
    kinds.update({k: "signed share" for k in labels if "vs budget" in k})
    # converted into the reporting currency its header names, not the row's stake currency
    kinds[weighted] = "converted amount"
    runs = pd.DataFrame(
        [
            {
                "customer_id": r.key if r.kind == "scorecard" else "",
                "name": r.name,
                "page": pages.get(r.kind, r.kind),
                "status": run_words.get(r.status, r.status),
                "seconds": r.seconds,
                "error": r.error,
                "cell": r.cell,
                "html_kb": r.html_kb,
            }
            for r in results.values()
        ],
        columns=["customer_id", "name", "page", "status", "seconds", "error", "cell", "html_kb"],
    ).astype({"cell": "Int64", "seconds": "float64", "html_kb": "float64"})
    sheets = {"Summary": kpis}
    if findings is not None and len(findings):
        currency = analytics.customers.set_index("customer_id")["currency"].astype(str)
        sheets["Findings"] = findings.assign(
            unit=findings["kind"].map(UNITS),  # of value and reference
            text=[sentence(f, currency.get(f["customer_id"])) for f in findings.to_dict("records")],
        )
    sheets.update({"Run log": runs, **_headline_tables(analytics)})
    sheets.update(commercial.workbook_sheets(analytics))
    proposals = supply.safety_stock_proposals(analytics)
    if len(proposals):
        sheets["Safety stock to change"] = proposals
    names = analytics.customers.set_index("customer_id")["name"].astype(str).to_dict()
    path = directory / "pack.xlsx"
    failure = None
    try:  # openpyxl writes each sheet to a temporary file first (lxml: IO_EFBIG, IO_ENOSPC)
        data = excel_workbook(
            sheets,
            names=names,
            number_formats={"Summary": kinds, "Run log": {"seconds": "ratio", "html_kb": "ratio"}},
        )
    except OSError as err:
        failure = err.strerror or str(err)
    except etree.LxmlError as err:
        reason = _LXML_IO.get(str(err).split(":")[0].strip(), str(err))
        failure = f"{reason} (temporary files in {tempfile.gettempdir()})"
    if failure is not None:
        _collect_quietly()  # the half-written sheets' writers, whose cleanup fails again
        raise OSError(None, failure, str(path))
    atomic_write(path, data)


def _collect_quietly() -> None:
    """Collect garbage now, dropping the errors finalizers raise (printed otherwise, with a
    traceback, when openpyxl's abandoned sheet writers are collected)."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


# lxml's I/O error codes as the reasons the OS would give
_LXML_IO = {
    "IO_EFBIG": "File too large (the file-size limit, ulimit -f)",
    "IO_ENOSPC": "No space left on device",
    "IO_EACCES": "Permission denied",
    "IO_EROFS": "Read-only file system",
}


def _write_sop(directory: Path, analytics) -> None:
    """``sop_agreed_forecast.csv``: the agreed forecast as the flat file S&OP loads
    (:func:`kamlab.accuracy.sop_export`); not written when nothing was agreed."""
    from kamlab.accuracy import sop_export

    agreed = getattr(analytics, "agreed_forecasts", None)
    if agreed is None or agreed.empty:
        return
    flat = sop_export(agreed, customers=analytics.customers)
    atomic_write(directory / "sop_agreed_forecast.csv", flat.to_csv(index=False))


def _headline_tables(analytics) -> dict[str, pd.DataFrame]:
    """The portfolio-wide tables worth a sheet, as far as the analytics provide them."""
    from kamlab.accuracy import sop_export, with_agreed

    a = analytics
    agreed = getattr(a, "agreed_forecasts", None)
    tables: dict[str, pd.DataFrame | None] = {
        "Plan vs actual": a.plan,
        "OTIF 12 months": _on_time_and_in_full(a.service_year),
        "OTIF by month": _on_time_and_in_full(a.service),
        "Quality": a.quality,
        "Air freight": a.air_freight,
        "Accuracy by lag": None
        if a.accuracy is None
        else a.accuracy.pivot_table(
            index=["customer_id", "source", "lag"],
            columns="metric",
            values="value",
            aggfunc="first",
        ).reset_index(),
        "Value added": a.value_added,
        "Challenge list": None if a.challenges is None else with_agreed(a.challenges, agreed),
        "Agreed forecast (S&OP)": None
        if agreed is None
        else sop_export(agreed).drop(columns="customer"),
        "Ageing": a.ageing_history[a.ageing_history["month_end"] == a.as_of]
        if a.ageing_history is not None
        else None,
        "DSO": a.dso,
        "Credit utilisation": a.credit,
        "Top overdue": a.top_overdue,
        "Classes": a.classes,
        "Key-account matrix": a.matrix,
    }
    # a sheet whose source table is absent would show zeros that stand for no data: left out
    absent = absent_frames(a)
    sources = {
        "OTIF 12 months": "service_year", "OTIF by month": "service", "Quality": "quality",
        "Air freight": "air_freight", "Value added": "value_added", "Challenge list": "challenges",
        "Ageing": "ageing_history", "DSO": "dso", "Credit utilisation": "credit",
        "Top overdue": "top_overdue",
    }  # fmt: skip
    return {
        name: frame
        for name, frame in tables.items()
        if frame is not None and sources.get(name) not in absent
    }


def _on_time_and_in_full(service: pd.DataFrame | None) -> pd.DataFrame | None:
    """The service table with on time, in full (whenever delivered) and OTIF side by side.

    ``in_full`` counts only in-window quantity and so equals ``otif`` on every row
    (:mod:`kamlab.service.delivery`); ``delivered_in_full`` is what tells short from late.
    """
    if service is None or "delivered_in_full" not in service.columns:
        return service
    return service.drop(columns=["in_full", "lines_in_full"])
