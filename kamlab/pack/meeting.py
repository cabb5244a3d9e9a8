"""``kamlab meeting``: the customer meeting pack, one page per customer in its language.

Writes ``<reports>/<month>/meeting/<customer>.html`` (self-contained, offline, printing on A4)
and, where a headless Chromium is installed, the same page as ``<customer>.pdf``. The page
is rendered in this process from the month's cached analytics (:mod:`kamlab.scorecard.meeting`),
without a notebook kernel: it holds no figure that needs one. The language of each page is
``--language``, else the customer's ``language`` (customers table), else ``[pack] language``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kamlab.chain import ChainError, open_chain
from kamlab.i18n.language import LANGUAGES, language
from kamlab.pack.html import atomic_write
from kamlab.pack.runner import PackError
from kamlab.pack.slug import slug
from kamlab.scorecard.meeting import meeting_page

__all__ = ["MeetingPage", "build_meeting_pack"]


@dataclass(frozen=True)
class MeetingPage:
    """One customer's meeting page: where it was written, in which language, and its PDF."""

    customer_id: str
    language: str
    html: Path
    pdf: Path | None


def _pdf(page: Path, chromium: str) -> Path | None:
    """Print `page` to PDF with headless Chromium; None if it fails (the HTML still stands)."""
    target = page.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="kamlab-chromium-") as profile:
        run = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--no-pdf-header-footer",
             f"--print-to-pdf={target}", page.as_uri()],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    return target if run.returncode == 0 and target.is_file() else None


def build_meeting_pack(
    month: str,
    *,
    customers: Sequence[str] | None = None,
    language_code: str | None = None,
    source: str | Path | None = None,
    reports_dir: str | Path | None = None,
    settings_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    pdf: bool = True,
) -> list[MeetingPage]:
    """Write the meeting page of each of `customers` (default: all) for `month`.

    Raises :class:`~kamlab.pack.runner.PackError` before writing anything for an unknown
    customer, an unknown language or a wrong month.
    """
    if language_code is not None and language_code not in LANGUAGES:
        raise PackError(f"--language must be one of {list(LANGUAGES)}, got {language_code!r}")
    try:
        chain = open_chain(month, source=source, config=settings_path, cache_dir=cache_dir)
    except ChainError as err:
        raise PackError(str(err)) from None
    settings, analytics = chain.settings, chain.analytics
    known = analytics.customer_ids()
    wanted = list(dict.fromkeys(customers)) if customers else known
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise PackError(f"unknown customer(s) {unknown}: not in {str(chain.source)!r}")
    own = {}
    if "language" in analytics.customers.columns:
        c = analytics.customers.dropna(subset=["language"])
        own = dict(zip(c["customer_id"].astype(str), c["language"].astype(str), strict=True))
    glossary = settings.pack.glossary_dir or None
    directory = (
        Path(reports_dir or settings.pack.reports_dir).resolve() / str(chain.month) / "meeting"
    )
    directory.mkdir(parents=True, exist_ok=True)
    chromium = (shutil.which("chromium") or shutil.which("chromium-browser")) if pdf else None
    pages = []
    for customer in wanted:
        code = language_code or own.get(customer) or settings.pack.language
        if code not in LANGUAGES:
            raise PackError(
                f"customer {customer}: language {code!r} is not one of {list(LANGUAGES)}"
            )
        page = directory / f"{slug(customer)}.html"
        atomic_write(page, meeting_page(analytics, customer, language(code, glossary_dir=glossary)))
        pages.append(MeetingPage(customer, code, page, _pdf(page, chromium) if chromium else None))
    return pages
