"""Tables defined by SQL over the extract files: ``[mapping.TABLE] sql = "SELECT ..."``.

The query runs in a fresh in-memory DuckDB in which each extract file it names is a table,
under the file's name with or without its extension (``order_header`` or
``"order_header.csv"``; DuckDB names are case-insensitive). Files are read as for a file
table, with the SQL table's formats (``[formats]`` and the table's own keys): CSV cells as
text, then each CSV column typed when every value in it is a date in the date format or a
number in the decimal/thousands format (SAP's trailing minus included) — unless a value
starts with a leading zero, so ids such as ``0000100001`` stay text; Parquet and spreadsheet
columns keep their own types. The query's result is then mapped and validated like a file.

The query reaches nothing else: the connection turns off DuckDB's external access and locks
its configuration before the query is even parsed for the files it names, so no other path,
no write to a file, no ``ATTACH`` of a file, no extension and no network; and it must be one
``SELECT`` statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlab.config import FormatSettings

__all__ = ["SqlError", "file_names_in", "locked_connection", "run_query", "typed_text_columns"]

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_LEADING_ZERO = r"^[+-]?0\d"


class SqlError(ValueError):
    """A table's SQL cannot run: bad syntax, an unknown file or column, or not one SELECT."""


def locked_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can reach no file, extension or network, and whose
    configuration cannot be changed back (``SET`` and ``RESET`` of a locked option fail)."""
    con = duckdb.connect(":memory:")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def file_names_in(paths: list[Path]) -> dict[str, list[Path]]:
    """Table name (lower case) -> the extract files it may mean: each file under its name
    and under its name without the extension."""
    names: dict[str, list[Path]] = {}
    for path in paths:
        for name in {path.name.lower(), path.stem.lower()}:
            names.setdefault(name, []).append(path)
    return names


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _strict_text(s: pd.Series) -> pa.Array:
    arr = pc.utf8_trim_whitespace(
        pa.array(s.astype("str"), type=pa.large_string(), from_pandas=True)
    )
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.large_string()), arr)


def _as_dates(text: pa.Array, formats: FormatSettings) -> pa.Array | None:
    """`text` as dates (timestamps when a value has a time of day) when every filled value
    is a date, optionally with a time, in the date format; else None."""
    base = formats.date_format or "%Y-%m-%d"
    stamp = pa.nulls(len(text), pa.timestamp("us"))
    for fmt in (base, *([] if "%H" in base else [f"{base} %H:%M", f"{base} %H:%M:%S"])):
        stamp = pc.coalesce(stamp, pc.strptime(text, format=fmt, unit="us", error_is_null=True))
        if stamp.null_count == text.null_count:
            day = pc.cast(stamp, pa.date32())
            midnight = pc.equal(pc.cast(day, pa.timestamp("us")), stamp)
            return day if pc.all(midnight).as_py() is not False else stamp
    return None


def _as_numbers(text: pa.Array, formats: FormatSettings) -> pa.Array | None:
    """`text` as numbers (int64 when none has a decimal part) when every filled value is a
    number in the decimal/thousands format and none has a leading zero, else None."""
    if pc.any(pc.match_substring_regex(text, _LEADING_ZERO)).as_py():
        return None
    if formats.thousands:
        text = pc.replace_substring(text, formats.thousands, "")
    if formats.decimal != ".":
        text = pc.replace_substring(text, formats.decimal, ".")
    text = pc.replace_substring_regex(text, r"^(.+)-$", r"-\1")  # SAP: 125,00-
    if not pc.all(pc.match_substring_regex(text, rf"^{_NUMBER}$")).as_py():
        return None
    number = pc.cast(text, pa.float64())
    whole = not pc.any(pc.match_substring(text, ".")).as_py()
    if whole and pc.all(pc.less(pc.abs(number), 2.0**53)).as_py() is not False:
        return pc.cast(number, pa.int64())
    return number


def typed_text_columns(frame: pd.DataFrame, formats: FormatSettings) -> pd.DataFrame:
    """`frame` with each text column typed as dates or numbers when all its filled values
    are (see the module docstring); other columns unchanged. Returns a new frame.

    >>> raw = pd.DataFrame({"VBELN": ["0000004711"], "ERDAT": ["20240131"],
    ...                     "NETWR": ["1.234,50-"], "POSNR": ["10"]})
    >>> sap = FormatSettings(date_format="%Y%m%d", decimal=",", thousands=".")
    >>> typed_text_columns(raw, sap).iloc[0].tolist()
    ['0000004711', datetime.date(2024, 1, 31), -1234.5, 10]
    """
    out = {}
    for name in frame.columns:
        s = frame[name]
        if not (s.dtype == "str" or s.dtype == object):
            out[name] = s
            continue
        text = _strict_text(s)
        if text.null_count == len(text):
            out[name] = s
            continue
        typed = _as_dates(text, formats)
        if typed is None:
            typed = _as_numbers(text, formats)
        if typed is None:
            out[name] = pd.Series(pd.array(text, dtype="str"), index=frame.index)
        else:
            out[name] = pd.Series(
                pd.array(typed, dtype=pd.ArrowDtype(typed.type)), index=frame.index
            )
    return pd.DataFrame(out, index=frame.index)


def _tables_named(tree: object, tables: set[str], ctes: set[str]) -> None:
    """Collect the plain table names and the CTE names of a serialized parse tree."""
    if isinstance(tree, dict):
        if tree.get("type") == "BASE_TABLE" and not tree.get("schema_name"):
            if not tree.get("catalog_name"):
                tables.add(tree["table_name"])
        for item in (tree.get("cte_map") or {}).get("map", []):
            ctes.add(str(item.get("key", "")).lower())
        for value in tree.values():
            _tables_named(value, tables, ctes)
    elif isinstance(tree, list):
        for value in tree:
            _tables_named(value, tables, ctes)


def _statement(table: str, sql: str, con: duckdb.DuckDBPyConnection) -> set[str]:
    """The table names `sql` reads (CTEs left out), after checking it is one SELECT query.
    Only parsed here, never bound or run: the files are not there yet."""
    where = f"kamlab.toml [mapping.{table}] sql"
    try:
        statements = con.extract_statements(sql)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            kinds = ", ".join(s.type.name for s in statements) or "nothing"
            raise SqlError(f"{where}: must be one SELECT query, got {kinds}")
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
    except duckdb.Error as exc:
        raise SqlError(f"{where}: {_first_line(exc)}") from exc
    if tree.get("error"):
        raise SqlError(f"{where}: {tree.get('error_message', 'cannot be parsed')}")
    tables: set[str] = set()
    ctes: set[str] = set()
    _tables_named(tree, tables, ctes)
    return {name for name in tables if name.lower() not in ctes}


def run_query(
    table: str,
    sql: str,
    files: list[Path],
    read: Callable[[Path], pd.DataFrame],
    formats: FormatSettings,
) -> tuple[pd.DataFrame, tuple[Path, ...]]:
    """Run `table`'s `sql` over the extract `files` it names, each read by `read` and typed
    by :func:`typed_text_columns` with `formats`; return (the result, the files read).

    Raises :class:`SqlError` in one line naming the table: DuckDB's message (syntax,
    unknown column, a path or write refused), a name that is no file, or a name meaning two.
    """
    where = f"kamlab.toml [mapping.{table}] sql"
    with locked_connection() as con:
        names = file_names_in(files)
        wanted = _statement(table, sql, con)
        used: list[Path] = []
        for name in sorted(wanted):
            paths = names.get(name.lower())
            if paths is None:
                have = ", ".join(sorted(p.name for p in files)) or "none"
                raise SqlError(f"{where}: no extract file named {name!r}; files: {have}")
            if len(paths) > 1:
                both = ", ".join(sorted(p.name for p in paths))
                raise SqlError(
                    f'{where}: {name!r} names {both}; write the file name, e.g. "{paths[0].name}"'
                )
            frame = typed_text_columns(read(paths[0]), formats)
            con.register(name, pa.Table.from_pandas(frame, preserve_index=False))
            used.append(paths[0])
        try:
            result = con.execute(sql).df()
        except duckdb.Error as exc:
            raise SqlError(f"{where}: {_first_line(exc)}") from exc
    return result, tuple(dict.fromkeys(used))
