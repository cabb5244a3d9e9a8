"""Ingest: read a folder of extracts, map, validate, and write the DuckDB store atomically.

Files are named after their tables (``orders.csv``, ``orders.parquet``, ``orders.xlsx``) or
named in ``[mapping.files]``; a table may instead be a query over the files
(``[mapping.TABLE] sql``, :mod:`kamlab.data.sql`). The database is written to a temporary file beside the target
and moved over it with :func:`os.replace` only after everything succeeded, so a failed ingest
leaves the previous database untouched.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kamlab.config import DEFAULTS, FormatSettings, Settings
from kamlab.data.budget_workbook import (
    BudgetWorkbookError,
    is_budget_workbook,
    read_budget_workbook,
)
from kamlab.data.contract import TABLES
from kamlab.data.mapping import (
    apply_mapping,
    check_mapping,
    file_names,
    sql_queries,
    table_formats,
)
from kamlab.data.sql import SqlError, run_query
from kamlab.data.store import write
from kamlab.data.validate import did_you_mean, validate

__all__ = [
    "EXTENSIONS",
    "IngestError",
    "IngestReport",
    "ingest",
    "read_extracts",
    "read_file",
    "remove_stale_temp_files",
]

EXTENSIONS = (".csv", ".txt", ".parquet", ".xlsx", ".xls")
_SEPARATORS = (";", ",", "\t", "|")


class IngestError(ValueError):
    """The extracts folder or one of its files cannot be read as given."""


@dataclass
class IngestReport:
    """What one ingest did: rows per table, rows left out (with reasons), files, seconds."""

    database: Path
    rows: pd.Series
    exclusions: pd.DataFrame
    files: dict[str, Path | tuple[Path, ...]]  # a SQL table: the files its query read
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)  # by table(s) of a file
    ignored_files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    absent: tuple[str, ...] = ()  # no extract given: empty tables
    derived: tuple[str, ...] = ()  # master tables derived from the transactions

    def __str__(self) -> str:
        total = int(self.rows.sum())
        lines = [
            f"ingested {total:,} rows into {self.database} in {self.seconds:.1f} s "
            f"({total / max(self.seconds, 1e-9):,.0f} rows/s)"
        ]
        table = pd.DataFrame(
            {
                "rows": self.rows,
                "file": pd.Series({t: _source_name(p) for t, p in self.files.items()}),
            }
        ).reindex(self.rows.index)
        for name in self.derived:
            table.loc[name, "file"] = "(derived from the transactions)"
        table["file"] = table["file"].fillna("(no extract: empty)")
        lines.append(table.to_string())
        if len(self.exclusions):
            lines.append("excluded rows:\n" + self.exclusions.to_string(index=False))
        else:
            lines.append("excluded rows: none")
        for name, columns in self.ignored_columns.items():
            lines.append(f"{name}: columns outside the contract not stored: {', '.join(columns)}")
        if self.ignored_files:
            lines.append(f"files not read (no table): {', '.join(self.ignored_files)}")
        return "\n".join(lines)


def _source_name(source: Path | tuple[Path, ...]) -> str:
    if isinstance(source, tuple):
        return "SQL over " + ", ".join(p.name for p in source)
    return source.name


def _sniff_separator(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace") as fh:
        header = fh.readline()
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_file(path: str | Path, *, formats: FormatSettings = DEFAULTS.formats) -> pd.DataFrame:
    """Read one extract file as it is: CSV cells as text (no value becomes missing except
    empty cells, so ``NA`` stays a value), Parquet and Excel with their own types."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            sep = formats.csv_separator or _sniff_separator(path, formats.encoding)
            frame = pd.read_csv(
                path,
                sep=sep,
                engine="pyarrow",
                dtype="str",
                encoding=formats.encoding,
                keep_default_na=False,
                na_values=[""],
            )
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".xlsx", ".xls"):
            frame = _typed_cells(pd.read_excel(path, sheet_name=0, dtype=object))
        else:
            raise IngestError(f"{path}: unsupported file type; use one of {EXTENSIONS}")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, IngestError):
            raise
        raise IngestError(f"{path}: cannot be read: {exc}") from exc
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    return frame


def _typed_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Spreadsheet columns by their cells' types: text cells stay text (ids with leading zeros
    such as ``'0000100001'``), columns of only number cells become numbers and of only date
    cells dates; a column mixing text and number cells keeps each cell as it is."""
    out = {}
    for name in frame.columns:
        s = frame[name]
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind in ("integer", "floating", "mixed-integer-float"):
            out[name] = pd.to_numeric(s)
        elif kind in ("datetime", "datetime64", "date"):
            out[name] = pd.to_datetime(s)
        elif kind == "string":
            out[name] = s.astype("str")
        else:
            out[name] = s
    return pd.DataFrame(out, index=frame.index)


def _find_files(
    folder: Path, named: dict[str, str], queried: Collection[str] = ()
) -> tuple[dict[str, Path], list[str]]:
    """Table -> its file (named, else ``<table>.<ext>``) and the files no table names; the
    tables in `queried` are defined by SQL and take no file."""
    found: dict[str, Path] = {}
    named = {**named, **dict.fromkeys(queried, "")}
    for table, name in named.items():
        if table in queried:
            continue
        path = folder / name
        if not path.is_file():
            raise IngestError(f"kamlab.toml: file of {table} {name!r}: no such file in {folder}")
        found[table] = path
    claimed = {p.name for p in found.values()}
    ignored = []
    for path in sorted(folder.iterdir()):
        table = path.stem.lower()
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix.lower() not in EXTENSIONS or table not in TABLES or table in named:
            if path.name not in claimed:  # e.g. orders.csv also feeding customers: read
                ignored.append(path.name)
            continue
        if table in found:
            raise IngestError(
                f"{folder}: two extracts for table {table}: {found[table].name} and {path.name}"
            )
        found[table] = path
    return found, ignored


def read_extracts(
    extracts_dir: str | Path, *, settings: Settings = DEFAULTS
) -> tuple[dict[str, pd.DataFrame], dict[str, Path | tuple[Path, ...]], list[str]]:
    """Read and map every table's extract in `extracts_dir`; run the tables defined by SQL.

    Returns (table -> frame in contract column names, table -> file (a SQL table: the
    files its query read), files not read). A query that fails, or whose result lacks a
    required contract column, raises :class:`IngestError` in one line naming the table.
    """
    folder = Path(extracts_dir)
    if not folder.is_dir():
        raise IngestError(f"extracts folder not found: {folder}")
    check_mapping(settings.mapping)
    queries = sql_queries(settings.mapping)
    files: dict[str, Path | tuple[Path, ...]]
    files, ignored = _find_files(folder, file_names(settings.mapping), queries)
    read: dict[tuple, pd.DataFrame] = {}  # one file feeding several tables is read once

    def read_once(path: Path, formats: FormatSettings) -> pd.DataFrame:
        how = (path, formats.encoding, formats.csv_separator)
        if how not in read:
            read[how] = read_file(path, formats=formats)
        return read[how]

    frames = {}
    for table, path in files.items():
        if table == "budget" and is_budget_workbook(path):  # the draft a KAM edited
            try:
                frames[table] = read_budget_workbook(path)
            except BudgetWorkbookError as err:
                raise IngestError(str(err)) from None
            continue
        formats = table_formats(settings.mapping, table, settings.formats)
        frames[table] = apply_mapping(read_once(path, formats), table, settings.mapping)
    extracts = [p for p in sorted(folder.iterdir()) if _is_extract(p)]
    for table, sql in queries.items():
        formats = table_formats(settings.mapping, table, settings.formats)
        try:
            result, used = run_query(
                table, sql, extracts, lambda p, f=formats: read_once(p, f), formats
            )
        except SqlError as exc:
            raise IngestError(str(exc)) from exc
        frames[table] = apply_mapping(result, table, settings.mapping)
        _check_result_columns(table, frames[table])
        files[table] = used
        ignored = [name for name in ignored if name not in {p.name for p in used}]
    return frames, files, ignored


def _is_extract(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in EXTENSIONS


def _check_result_columns(table: str, frame: pd.DataFrame) -> None:
    """One line naming the required contract columns a query's mapped result lacks."""
    spec = TABLES[table]
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    if not missing:
        return
    unmapped = [c for c in frame.columns if c not in spec.column_names]
    hints = [h for h in (did_you_mean(table, c, unmapped) for c in missing) if h]
    raise IngestError(
        f"kamlab.toml [mapping.{table}] sql: the result lacks the required column(s) "
        f"{', '.join(missing)}"
        + "".join(f"; {h}" for h in hints)
        + "; its columns: "
        + (", ".join(map(str, frame.columns)) or "none")
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temp_files(database: str | Path) -> list[Path]:
    """Delete the temporary files that ingests of `database` killed mid-write left behind.

    :func:`kamlab.data.store.write` writes ``.<name>.<pid>.tmp`` (and DuckDB its ``.wal``)
    beside the database and removes them on every normal exit; a process killed by a signal
    cannot. Files of processes that are no longer running are removed; those of a running
    ingest are left alone. Returns the files removed.
    """
    database = Path(database)
    pattern = re.compile(rf"\.{re.escape(database.name)}\.(\d+)\.tmp(\.wal)?")
    if not database.parent.is_dir():
        return []
    removed = []
    for path in database.parent.iterdir():
        match = pattern.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _columns_not_stored(
    frames: dict[str, pd.DataFrame], files: dict[str, Path | tuple[Path, ...]]
) -> dict[str, list[str]]:
    """Per file (or query), the extract columns no table reading it stores, keyed by those
    tables."""
    by_file: dict[Path | tuple[Path, ...], list[str]] = {}
    for table in frames:
        by_file.setdefault(files[table], []).append(table)
    out = {}
    for tables in by_file.values():
        unused = [[c for c in frames[t].columns if c not in TABLES[t].column_names] for t in tables]
        columns = [c for c in unused[0] if all(c in u for u in unused[1:])]
        if columns:
            out[", ".join(tables)] = columns
    return out


def ingest(
    extracts_dir: str | Path,
    database: str | Path = "data/kam.duckdb",
    *,
    settings: Settings = DEFAULTS,
    settings_text: str | None = None,
) -> IngestReport:
    """Read, map and validate the extracts in `extracts_dir`, then (re)write `database`.

    `settings_text`: the ``kamlab.toml`` behind `settings`, recorded in the database.

    Raises :class:`~kamlab.data.validate.ContractError` (every failure at once) or
    :class:`IngestError`; in both cases an existing `database` is left as it was. Temporary
    files left by an earlier ingest that was killed are removed first.
    """
    start = time.perf_counter()
    database = Path(database)
    remove_stale_temp_files(database)  # first, so a failing ingest cleans up too
    frames, files, ignored = read_extracts(extracts_dir, settings=settings)
    outside = _columns_not_stored(frames, files)
    dataset = validate(frames, settings=settings)
    del frames  # the text as read is no longer needed: lower peak memory while writing
    write(dataset, database, settings=settings_text)
    return IngestReport(
        database=database,
        rows=dataset.row_counts(),
        exclusions=dataset.exclusions,
        files=files,
        ignored_columns=outside,
        ignored_files=ignored,
        seconds=time.perf_counter() - start,
        absent=dataset.absent,
        derived=dataset.derived,
    )
