"""The ``kamlab`` command: parse arguments, call the library, turn expected errors into exit 2.

Exit codes (also in the README):

- 0: everything ran.
- 1: the pack ran, but some customers' notebooks failed or timed out (``--retry-failed``),
  or a pack file could not be written (each named with its path and reason).
- 2: bad input or usage, found before any analytics run: a bad month or a month outside the
  data, a bad argument (workers, timeout, scheduler address), an unknown customer, a
  ``kamlab.toml`` value of the wrong type or out of range, a missing or damaged database or
  extracts folder, an invalid extract, an unreadable file or an unwritable reports folder.
  One line on stderr names the path (or table, column, rule) and the reason; never a
  traceback. Warnings (a damaged run log, a cache entry not stored) are one line each.
- 130 / 143: stopped by Ctrl-C (SIGINT) / SIGTERM; workers and kernels are stopped and the
  run log marks the unfinished customers ``not run``, for ``--retry-failed``.

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its options and
sets ``run`` to a ``_<name>(args) -> int`` function; :data:`COMMANDS` lists them, so a new
subcommand (e.g. ``pack``) is one more pair of functions and one more entry.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import tomllib
import warnings
from collections.abc import Sequence

import kamlab
from kamlab.config import SettingsError, load_settings

__all__ = ["COMMANDS", "main"]

EXIT_OK, EXIT_PACK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT; SIGTERM gives 143


def _month(text: str) -> str:
    """An argparse type: a month ``YYYY-MM`` (bad input -> usage message, exit 2)."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"expected a month YYYY-MM, got {text!r}")
    return text


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="write deterministic demo extracts (one file per table)")
    p.add_argument("--out", required=True, help="folder to write the extracts into")
    p.add_argument("--customers", type=int, default=40)
    p.add_argument("--materials", type=int, default=400)
    p.add_argument("--months", type=int, default=36)
    p.add_argument(
        "--end",
        type=_month,
        default=None,
        help="last month of history, YYYY-MM (default: last month)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    from kamlab.data.demo import write_demo

    paths = write_demo(
        args.out,
        fmt=args.format,
        customers=args.customers,
        materials=args.materials,
        months=args.months,
        end=args.end,
        seed=args.seed,
    )
    print(
        f"wrote {len(paths) - 1} extracts and kamlab.toml (the demo's exchange rates) to {args.out}"
    )
    return EXIT_OK


def _add_ingest(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="validate extracts and (re)write the DuckDB store")
    p.add_argument("extracts_dir", help="folder with <table>.csv / .parquet / .xlsx files")
    p.add_argument("--database", default=None, help="default: [pack] database, data/kam.duckdb")
    p.add_argument("--config", default=None, help="kamlab.toml (default: ./kamlab.toml if any)")
    p.set_defaults(run=_ingest)


def _ingest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kamlab.data.ingest import ingest

    # --config, else ./kamlab.toml, else the extracts' own kamlab.toml (the demo's rates):
    # recorded in the database, so notebooks and packs run without --config find them
    path = args.config or next(
        (p for p in (Path("kamlab.toml"), Path(args.extracts_dir) / "kamlab.toml") if p.is_file()),
        None,
    )
    settings = load_settings(path) if path is not None else load_settings(None)
    text = Path(path).read_text(encoding="utf-8") if path is not None else None
    report = ingest(
        args.extracts_dir,
        args.database or settings.pack.database,
        settings=settings,
        settings_text=text,
    )
    print(report)
    if path is not None:
        print(f"settings: {path} (recorded in the database)")
    return EXIT_OK


def _add_summary(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="row counts, date ranges and exclusions of the store")
    p.add_argument("--database", default=None, help="default: [pack] database, data/kam.duckdb")
    p.add_argument("--config", default=None, help="kamlab.toml (default: ./kamlab.toml if any)")
    p.set_defaults(run=_summary)


def _summary(args: argparse.Namespace) -> int:
    from kamlab.data.store import summary

    settings = load_settings(args.config)
    print(summary(args.database or settings.pack.database))
    return EXIT_OK


def _add_pack(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pack", help="build the monthly account review pack (HTML + Excel)")
    p.add_argument("--month", required=True, help="review month, YYYY-MM")
    p.add_argument("--customers", nargs="+", default=None, help="customer ids (default: all)")
    p.add_argument("--workers", type=int, default=None, help="parallel kernels ([pack] workers)")
    p.add_argument(
        "--database",
        "--source",
        dest="database",
        default=None,
        help="database (default: $KAMLAB_DATABASE, else [pack] database); --source: the same",
    )
    p.add_argument("--reports", default=None, help="reports folder ([pack] reports_dir)")
    p.add_argument("--config", default=None, help="kamlab.toml (default: ./kamlab.toml if any)")
    p.add_argument("--retry-failed", action="store_true", help="rerun only last run's failures")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--timeout", type=float, default=None, help="seconds per notebook cell")
    p.set_defaults(run=_pack)


def _pack(args: argparse.Namespace) -> int:
    from kamlab.i18n import speaking, text
    from kamlab.pack import build_pack

    result = build_pack(
        args.month,
        customers=args.customers,
        workers=args.workers,
        source=args.database,
        reports_dir=args.reports,
        settings_path=args.config,
        retry_failed=args.retry_failed,
        scheduler=args.scheduler,
        timeout=args.timeout,
    )
    ok = len(result.results) - len(result.failed)
    with speaking(result.language or "en"):  # the pack's language, as its index
        print(
            text(
                "pack {month}: {ok} of {total} notebooks ok in {seconds} s",
                month=args.month,
                ok=ok,
                total=len(result.results),
                seconds=f"{result.seconds:.0f}",
            )
        )
        print(text("open {path}", path=result.directory / "index.html"))
        for r in result.failed:  # the error itself stays as raised (English), for support
            cell = f", cell {r.cell}" if r.cell is not None else ""
            print(f"  {r.status}: {r.kind} {r.key}{cell}: {r.error}", file=sys.stderr)
        if result.failed:
            print(text("rerun the failures with --retry-failed"), file=sys.stderr)
        for problem in result.problems:  # a pack file not written: path and reason
            print("  " + text("not written: {problem}", problem=problem), file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_PACK_FAILED


def _add_budget(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("budget", help="draft next year's budget per customer as an xlsx to edit")
    p.add_argument("--year", type=int, required=True, help="budget year, e.g. 2027")
    p.add_argument("--month", type=_month, default=None, help="last month of history to use")
    p.add_argument("--customers", nargs="+", default=None, help="customer ids (default: all)")
    p.add_argument("--out", default=None, help="workbook (default: <reports>/budget-YEAR.xlsx)")
    p.add_argument("--database", default=None, help="default: [pack] database, data/kam.duckdb")
    p.add_argument("--config", default=None, help="kamlab.toml (default: ./kamlab.toml if any)")
    p.set_defaults(run=_budget)


def _budget(args: argparse.Namespace) -> int:
    from kamlab.chain.budget import draft_budget_workbook

    result = draft_budget_workbook(
        args.year,
        source=args.database,
        config=args.config,
        out=args.out,
        customers=args.customers,
        month=args.month,
    )
    customers = result.draft["customer_id"].nunique()
    print(
        f"budget {args.year}: drafted {customers} customers from the history up to "
        f"{result.as_of:%Y-%m} into {result.path}"
    )
    print(
        "enter the figures in the yellow columns and the approval date on the About sheet, "
        "save it as budget.xlsx in the extracts folder and run `kamlab ingest`"
    )
    return EXIT_OK


def _add_meeting(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "meeting", help="the customer meeting pack: one page per customer, in its language"
    )
    p.add_argument("--month", required=True, type=_month, help="review month, YYYY-MM")
    p.add_argument("--customers", nargs="+", default=None, help="customer ids (default: all)")
    p.add_argument("--language", default=None, help="en, de or it (default: per customer)")
    p.add_argument("--database", default=None, help="default: [pack] database, data/kam.duckdb")
    p.add_argument("--reports", default=None, help="reports folder ([pack] reports_dir)")
    p.add_argument("--config", default=None, help="kamlab.toml (default: ./kamlab.toml if any)")
    p.add_argument("--no-pdf", action="store_true", help="HTML only, no PDF")
    p.set_defaults(run=_meeting)


def _meeting(args: argparse.Namespace) -> int:
    from kamlab.pack.meeting import build_meeting_pack

    pages = build_meeting_pack(
        args.month,
        customers=args.customers,
        language_code=args.language,
        source=args.database,
        reports_dir=args.reports,
        settings_path=args.config,
        pdf=not args.no_pdf,
    )
    pdfs = sum(p.pdf is not None for p in pages)
    where = pages[0].html.parent if pages else "-"
    print(f"meeting pack {args.month}: {len(pages)} pages ({pdfs} as PDF) in {where}")
    return EXIT_OK


COMMANDS = [_add_demo, _add_ingest, _add_summary, _add_pack, _add_budget, _add_meeting]


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean bad input or a missing file: reported in one message, exit code 2."""
    from kamlab.chain import ChainError
    from kamlab.data.ingest import IngestError
    from kamlab.data.validate import ContractError
    from kamlab.pack import PackError

    return (
        ContractError,
        IngestError,
        PackError,
        ChainError,
        SettingsError,
        OSError,  # a missing, unreadable or unwritable file: named with its reason
        tomllib.TOMLDecodeError,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kamlab", description="Key account management analytics on SAP/CRM extracts."
    )
    parser.add_argument("--version", action="version", version=f"kamlab {kamlab.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as the user reads it: one line, no source location."""
    return f"kamlab: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kamlab`` with `argv` (default: the process arguments); return the exit code."""
    from kamlab.pack.runner import PackInterrupted, io_error

    args = _parser().parse_args(argv)
    warnings.formatwarning = _one_line_warning
    try:
        return args.run(args)
    except _expected_errors() as exc:
        message = io_error(exc) if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, tomllib.TOMLDecodeError):
            where = getattr(args, "config", None) or "kamlab.toml"
            message = f"{where} is not valid TOML: {exc}"
        print(f"kamlab {args.command}: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PackInterrupted as stopped:
        left = sum(1 for r in stopped.results if r.status == "not run")
        print(
            f"kamlab {args.command}: stopped by {signal.Signals(stopped.signum).name}; "
            f"{left} notebook(s) not run, logged for --retry-failed",
            file=sys.stderr,
        )
        return stopped.exit_code
    except KeyboardInterrupt:
        print(f"kamlab {args.command}: stopped by SIGINT", file=sys.stderr)
        return EXIT_INTERRUPTED
