"""Validation at the boundary: coerce extract frames to the contract and check every rule.

:func:`validate` is driven entirely by :mod:`kamlab.data.contract`, in two steps:

1. *pre-parse* (ours): each column is coerced to its contract dtype (ids as strings, dates as
   ``datetime64``, months as ``Period[M]``, numbers in the extract's decimal format with SAP's
   trailing minus, SAP flags as booleans); a cell that does not parse is a failure;
2. *rules* (pandera, pandas backend): :func:`table_schema` builds each table's pandera
   ``DataFrameSchema`` from the contract (dtype, not empty, bounds, allowed values, pattern,
   finite numbers, unique key, row rules) with the cross-table rules as custom checks (foreign
   keys, same customer and currency as the referenced row, instalment sums), validated lazily.

All failures of both steps are collected into one :class:`ContractError`: table, column, rule,
count and the first offending rows (line in the extract file, header = line 1, and values).
Nothing is dropped silently: the only rows left out are completely blank lines, counted in
``Dataset.exclusions``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlab.config import DEFAULTS, FormatSettings, Settings
from kamlab.data.contract import ONE_OF_REQUIRED, TABLES, Column, ForeignKey, RowRule, Table
from kamlab.data.dataset import Dataset
from kamlab.data.derive import derive
from kamlab.data.mapping import (
    check_mapping,
    column_formats,
    distinct,
    sql_queries,
    table_formats,
)

if TYPE_CHECKING:
    import pandera.pandas as pandera

__all__ = [
    "FAILURE_COLUMNS",
    "ContractError",
    "closest_columns",
    "coerce_column",
    "did_you_mean",
    "empty_frame",
    "table_schema",
    "validate",
]

FAILURE_COLUMNS = ["table", "column", "rule", "count", "lines", "examples"]
_NOT_EMPTY = "not empty"
_FINITE = "finite number"  # inf, Infinity, 1e309, NaN as text: not an amount
_SHOWN = 5  # offending rows quoted per failure
_FIRST_LINE = 2  # data row 0 is line 2 of a file with a header line
_TRUE = {"true", "t", "yes", "y", "1", "x", "ja", "j", "si", "sì", "s", "wahr", "vero"}
_FALSE = {"false", "f", "no", "n", "0", "nein", "falso", "falsch"}
_DTYPES = {"string": "str", "float": "float64", "bool": "bool", "date": "datetime64[us]"}


class ContractError(ValueError):
    """Extracts that break the data contract; ``failures`` has one row per broken rule.

    ``failures`` columns: table, column, rule, count (offending rows), lines (first
    offending lines in the extract, header = line 1) and examples (those rows' values).
    """

    def __init__(self, failures: pd.DataFrame):
        self.failures = failures.reset_index(drop=True)
        super().__init__(_render(self.failures))


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with `table`'s contract columns and dtypes."""
    spec = TABLES[table]
    return pd.DataFrame({c.name: pd.Series(dtype=_dtype(c)) for c in spec.columns})


def _dtype(column: Column) -> str | pd.PeriodDtype:
    if column.dtype == "period":
        return pd.PeriodDtype("M")
    if column.dtype == "int":
        return "Int64" if column.nullable else "int64"
    if column.dtype == "bool" and column.nullable:
        return "boolean"
    return _DTYPES[column.dtype]


def validate(frames: Mapping[str, pd.DataFrame], *, settings: Settings = DEFAULTS) -> Dataset:
    """Coerce `frames` (table name -> extract frame, contract column names) and check the contract.

    Every table is optional, but at least one of orders and invoices must be given. An absent
    customer or material master is derived from the transactions (:mod:`kamlab.data.derive`;
    ``Dataset.derived``); other absent tables are empty (``Dataset.absent``). Formats come
    from ``settings.formats`` with each table's and column's own from ``settings.mapping``;
    a table mapped with ``distinct = true`` keeps one row per distinct combination of its
    contract columns. Columns outside the contract are ignored; optional columns that are
    absent become typed empty columns. Completely blank rows and repeated rows of a distinct
    table are left out and counted in ``Dataset.exclusions``. Any failure raises
    :class:`ContractError` after *all* rules have been checked, each said once: a column
    missing from the extract is one line, a missing table that rows refer to is one line.

    >>> frames = {"customers": pd.DataFrame({"customer_id": ["C1"], "name": ["Acme"],
    ...     "account_manager": ["Ann"], "region": ["DE"], "segment": ["auto"],
    ...     "currency": ["eur"], "credit_limit": ["1.000,50"], "payment_terms_days": ["30"],
    ...     "otif_target": [""], "forecast_accuracy_target": ["0,8"]})}
    >>> settings = Settings(formats=FormatSettings(decimal=",", thousands="."))
    >>> try:
    ...     validate(frames, settings=settings)
    ... except ContractError as err:
    ...     print(err.failures[["table", "column", "rule", "count"]].head(2).to_string())
           table    column              rule  count
    0  customers  currency  matches [A-Z]{3}      1
    1     orders               table present      1
    """
    check_mapping(settings.mapping)
    unknown = sorted(set(frames) - set(TABLES))
    failures: list[dict] = []
    for name in unknown:
        failures.append(
            _failure(name, "", "known table", 1, [], f"known tables: {', '.join(TABLES)}")
        )
    if not any(name in frames for name in ONE_OF_REQUIRED):
        wanted = " or ".join(ONE_OF_REQUIRED)
        failures.append(
            _failure(ONE_OF_REQUIRED[0], "", "table present", 1, [], f"no {wanted} extract given")
        )
    typed: dict[str, pd.DataFrame] = {}
    lines: dict[str, np.ndarray] = {}
    unparsed: dict[str, dict[str, np.ndarray]] = {}
    missing: dict[str, set[str]] = {}
    exclusions = []
    queried = sql_queries(settings.mapping)  # rows of a query's result: "SQL row 1" is the first
    words = {name: "SQL row" if name in queried else "line" for name in TABLES}
    for name, spec in TABLES.items():
        if name not in frames:
            continue
        fmt = table_formats(settings.mapping, name, settings.formats)
        frame, line, blank = _drop_blank_rows(frames[name])
        if name in queried:
            line = line - (_FIRST_LINE - 1)
        if blank:
            exclusions.append({"table": name, "reason": "blank line", "rows": blank})
        if distinct(settings.mapping, name):
            frame, line, repeated = _distinct_rows(spec, frame, line)
            if repeated:
                reason = "repeated row (distinct = true)"
                exclusions.append({"table": name, "reason": reason, "rows": repeated})
        columns = column_formats(settings.mapping, name, settings.formats)
        typed[name], table_failures, unparsed[name] = _coerce_table(
            spec, frame, line, fmt, columns, word=words[name]
        )
        missing[name] = {c.name for c in spec.columns if c.name not in frame.columns}
        lines[name] = line
        failures += table_failures
    derived = []
    for name, spec in TABLES.items():
        if name not in frames and spec.derived_from:
            frame = derive(name, typed)
            if frame is not None:
                line = np.zeros(len(frame), dtype=np.int64)  # 0: not a line of a file
                typed[name], table_failures, unparsed[name] = _coerce_table(
                    spec, frame, line, DEFAULTS.formats, {}
                )
                missing[name], lines[name] = set(), line
                failures += table_failures
                derived.append(name)
    # tables rows can refer to: with rows, and with the referenced columns in the extract
    present = {
        name: df.drop(columns=list(missing[name])) if missing[name] else df
        for name, df in typed.items()
        if len(df)
    }
    for name in typed:
        failures += _check_table(
            TABLES[name],
            typed[name],
            lines[name],
            unparsed=unparsed[name],
            missing=missing[name],
            related=present,
            word=words[name],
        )
    failures += _missing_referenced_tables(typed, present)
    if failures:
        order = {name: i for i, name in enumerate([*TABLES, *unknown])}
        failures.sort(key=lambda f: order[f["table"]])
        raise ContractError(pd.DataFrame(failures, columns=FAILURE_COLUMNS))
    excluded = pd.DataFrame(exclusions, columns=["table", "reason", "rows"]).astype(
        {"table": "str", "reason": "str", "rows": "int64"}
    )
    absent = tuple(name for name in TABLES if name not in typed)
    return Dataset(
        **{name: typed[name] if name in typed else empty_frame(name) for name in TABLES},
        exclusions=excluded,
        absent=absent,
        derived=tuple(derived),
    )


def _missing_referenced_tables(typed, present) -> list[dict]:
    """One failure per table that rows refer to but that is absent or has no rows, with the
    number of rows that would have matched it (not one foreign-key failure per table)."""
    referring: dict[str, dict[str, int]] = {}
    for name, df in typed.items():
        for fk in TABLES[name].foreign_keys:
            if fk.ref_table in present or not len(df):
                continue
            rows = int(df[list(fk.columns)].notna().all(axis=1).sum())
            if rows:
                by = referring.setdefault(fk.ref_table, {})
                by[name] = max(by.get(name, 0), rows)
    failures = []
    for table, by in referring.items():
        state = "has no rows" if table in typed else "no extract given"
        refs = ", ".join(f"{name} ({rows:,} row{'s' * (rows != 1)})" for name, rows in by.items())
        failures.append(
            _failure(
                table, "", "table present", sum(by.values()), [], f"{state}; referred to by {refs}"
            )
        )
    return failures


def _distinct_rows(spec: Table, frame: pd.DataFrame, line: np.ndarray):
    """One row per distinct combination of the contract columns present (the first)."""
    frame = frame[[c for c in spec.column_names if c in frame.columns]]
    repeated = frame.duplicated().to_numpy()
    if not repeated.any():
        return frame, line, 0
    return frame.loc[~repeated].reset_index(drop=True), line[~repeated], int(repeated.sum())


# --- coercion -------------------------------------------------------------------------------


def _drop_blank_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Drop rows with every cell empty (spreadsheet tails); return the file line of each row."""
    line = np.arange(len(frame), dtype=np.int64) + _FIRST_LINE
    if frame.shape[1] == 0 or len(frame) == 0:
        return frame.reset_index(drop=True), line, 0
    empty = pd.Series(True, index=frame.index)
    for col in frame.columns:
        s = frame[col]
        blank = s.isna()
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            blank = blank | s.astype("str").str.strip().eq("")
        empty &= blank
        if not empty.any():
            return frame.reset_index(drop=True), line, 0
    keep = ~empty.to_numpy()
    return frame.loc[keep].reset_index(drop=True), line[keep], int((~keep).sum())


def _as_text(s: pd.Series) -> pd.Series:
    """`s` as strings (numbers that are whole print without .0), before stripping."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.notna() & (s == np.round(s))
        text = s.astype("str")
        if whole.any():
            text = text.mask(whole, s[whole].astype("int64").astype("str"))
        return text.mask(s.isna())
    return s if s.dtype == "str" else s.astype("str")


def _arrow_text(s: pd.Series) -> pa.ChunkedArray:
    """`s` as stripped Arrow strings; empty and blank cells are null."""
    arr = pa.array(_as_text(s), type=pa.large_string())
    arr = pc.utf8_trim_whitespace(arr)
    empty = pc.equal(arr, "")
    if pc.any(empty).as_py():
        arr = pc.if_else(empty, pa.scalar(None, pa.large_string()), arr)
    return arr


def _series(arr: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    if pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type):
        return pd.Series(pd.array(arr, dtype="str"), index=index)
    return pd.Series(arr.to_numpy(zero_copy_only=False), index=index)


def coerce_column(s: pd.Series, column: Column, formats: FormatSettings = DEFAULTS.formats):
    """Return (`s` converted to `column`'s dtype, mask of values that could not be parsed).

    Missing cells (NaN, None, empty or blank strings) stay missing and are not parse failures.
    Text is parsed with Arrow compute kernels; only a column holding unparseable values takes
    the slower pandas path that finds them.

    >>> col = Column("amount", "float", "an amount")
    >>> de = FormatSettings(decimal=",", thousands=".")
    >>> values, bad = coerce_column(pd.Series(["1.234,50", "7-", "", "abc"]), col, de)
    >>> values.tolist()[:2], bad.tolist()
    ([1234.5, -7.0], [False, False, False, True])
    """
    kind = column.dtype
    if kind == "string":
        return _series(_arrow_text(s), s.index), pd.Series(False, index=s.index)
    if kind in ("float", "int"):
        return _coerce_number(s, column, formats)
    if kind == "date":
        return _coerce_date(s, formats)
    if kind == "period":
        return _coerce_period(s, formats)
    if kind == "bool":
        return _coerce_bool(s, column, formats)
    raise ValueError(f"contract column {column.name!r}: unknown dtype {kind!r}")


def _coerce_number(s: pd.Series, column: Column, formats: FormatSettings):
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.astype("float64")
        bad = pd.Series(False, index=s.index)
    else:
        text = _arrow_text(s)
        if formats.thousands:
            text = pc.replace_substring(text, formats.thousands, "")
        if formats.decimal != ".":
            text = pc.replace_substring(text, formats.decimal, ".")
        text = pc.replace_substring(text, " ", "")
        if pc.any(pc.ends_with(text, "-")).as_py():  # SAP writes negatives as "125,00-"
            text = pc.replace_substring_regex(text, r"^(.+)-$", r"-\1")
        try:
            number = pc.cast(text, pa.float64())
            values = _series(number, s.index)
            bad = _series(pc.fill_null(pc.is_nan(number), False), s.index)  # "NaN" as text
        except pa.ArrowInvalid:
            raw = _series(text, s.index)
            values = pd.to_numeric(raw, errors="coerce").astype("float64")
            bad = raw.notna() & values.isna()
    if column.dtype == "int":
        fraction = values.notna() & ~(values == np.round(values)) | np.isinf(values)
        bad = bad | fraction
        values = values.mask(fraction)
        values = values.astype("Int64")
        if not column.nullable and values.notna().all():
            values = values.astype("int64")
    return values, bad


def _parse_stamps(s: pd.Series, formats: tuple[str, ...]):
    """Parse text with each strptime format in turn (Arrow), then pandas for what is left."""
    text = _arrow_text(s)
    stamp = None
    if formats[0] == "%Y-%m-%d":
        try:  # Arrow's ISO cast is many times faster than strptime
            stamp = pc.cast(text, pa.timestamp("us"))
        except pa.ArrowInvalid:
            stamp = None
    if stamp is None:
        stamp = pa.nulls(len(text), pa.timestamp("us"))
        for fmt in formats:
            parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
            stamp = pc.coalesce(stamp, parsed)
            if stamp.null_count == text.null_count:
                break
    values = _series(stamp, s.index).astype("datetime64[us]")
    raw = _series(text, s.index)
    todo = raw.notna() & values.isna()
    if todo.any():  # e.g. ISO with a time zone, or formats Arrow's strptime does not take
        left = pd.to_datetime(raw[todo], format=formats[0], errors="coerce")
        missing = left.isna()
        if missing.any():
            iso = pd.to_datetime(raw[todo][missing], format="ISO8601", errors="coerce", utc=True)
            left[missing] = iso.dt.tz_localize(None)
        values[todo] = left.astype("datetime64[us]")
    return values, raw.notna() & values.isna()


def _coerce_date(s: pd.Series, formats: FormatSettings):
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        values = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return values.astype("datetime64[us]").dt.normalize(), pd.Series(False, index=s.index)
    if isinstance(s.dtype, pd.PeriodDtype):
        return s.dt.to_timestamp().astype("datetime64[us]"), pd.Series(False, index=s.index)
    dates = (formats.date_format, "%Y-%m-%d") if formats.date_format else ("%Y-%m-%d",)
    # datetimes with a time part the format does not spell (SAP/Excel "31.12.2024 14:05")
    fmts = [f for d in dates for f in (d, *([] if "%H" in d else [f"{d} %H:%M", f"{d} %H:%M:%S"]))]
    values, bad = _parse_stamps(s, tuple(dict.fromkeys(fmts)))
    return values.dt.normalize(), bad


def _coerce_period(s: pd.Series, formats: FormatSettings):
    if isinstance(s.dtype, pd.PeriodDtype):
        return s.astype(pd.PeriodDtype("M")), pd.Series(False, index=s.index)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.to_period("M"), pd.Series(False, index=s.index)
    values, bad = _parse_stamps(s, (formats.period_format, "%Y-%m", "%Y-%m-%d"))
    return values.dt.to_period("M"), bad


def _coerce_bool(s: pd.Series, column: Column, formats: FormatSettings):
    if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
        return s.astype(_dtype(column)), pd.Series(False, index=s.index)
    text = pc.utf8_lower(_arrow_text(s))
    if formats.blank_flag_false:
        text = pc.fill_null(text, "false")
    true = pc.is_in(text, value_set=pa.array(sorted(_TRUE), pa.large_string()))
    false = pc.is_in(text, value_set=pa.array(sorted(_FALSE), pa.large_string()))
    values = pd.Series(pd.NA, index=s.index, dtype="boolean")
    values[_series(true, s.index).to_numpy(dtype=bool)] = True
    values[_series(false, s.index).to_numpy(dtype=bool)] = False
    bad = _series(pc.is_valid(text), s.index) & values.isna()
    if not column.nullable and values.notna().all():
        return values.astype("bool"), bad
    return values, bad


def _not_a_number_text(s: pd.Series, bad: pd.Series) -> pd.Series:
    """Cells among `bad` that spell NaN or infinity as text: they break the finite-number
    rule rather than fail to parse."""
    out = pd.Series(False, index=s.index)
    if s.dtype == "str" or s.dtype == object:
        word = s[bad].astype("str").str.strip().str.lower().str.lstrip("+-")
        out[bad] = word.isin(("nan", "inf", "infinity")).to_numpy()
    return out


def _coerce_table(
    spec: Table,
    frame: pd.DataFrame,
    line: np.ndarray,
    fmt: FormatSettings,
    column_fmt: Mapping[str, FormatSettings],
    *,
    word: str = "line",
):
    failures = []
    out = {}
    unparsed = {}
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    unmapped = [c for c in frame.columns if c not in spec.column_names]
    for name in missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        hint = did_you_mean(spec.name, name, unmapped)
        text = f"{hint}; columns: {have}" if hint else f"columns: {have}"
        failures.append(_failure(spec.name, name, "required column", 1, [], text))
    for column in spec.columns:
        if column.name not in frame.columns:
            empty = {"int": "Int64", "bool": "boolean"}.get(column.dtype, _dtype(column))
            out[column.name] = pd.Series(index=frame.index, dtype=empty)
            continue
        values, bad = coerce_column(frame[column.name], column, column_fmt.get(column.name, fmt))
        if bad.any():
            unparsed[column.name] = bad.to_numpy()
            not_a_number = _not_a_number_text(frame[column.name], bad)
            for rule, rows in (
                (f"parses as {column.dtype}", bad & ~not_a_number),
                (_FINITE, not_a_number),
            ):
                if rows.any():
                    failures.append(
                        _rows_failure(
                            spec.name,
                            column.name,
                            rule,
                            rows.to_numpy(),
                            line,
                            {column.name: frame[column.name]},
                            word,
                        )
                    )
        out[column.name] = values
    return pd.DataFrame(out, index=frame.index), failures, unparsed


def _plain(name: str) -> str:
    """`name` without case and separators: ``customerID`` and ``Customer-Id`` -> customerid."""
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def closest_columns(name: str, headers: Iterable[str], *, n: int = 3) -> list[str]:
    """The `headers` most like the contract column `name`, best first: those equal to it but
    for case and separators, else up to `n` by difflib's similarity (ratio >= 0.6) of their
    plain spellings; [] when none is close.

    >>> closest_columns("customer_id", ["OrderNo", "customerID", "Kunde"])
    ['customerID']
    >>> closest_columns("net_value", ["NetValu", "value", "qty"])
    ['NetValu', 'value']
    """
    headers = [str(h) for h in headers]
    same = [h for h in headers if _plain(h) == _plain(name)]
    if same:
        return same
    by_plain: dict[str, list[str]] = {}
    for h in headers:
        by_plain.setdefault(_plain(h), []).append(h)
    close = difflib.get_close_matches(_plain(name), list(by_plain), n=n, cutoff=0.6)
    return [h for c in close for h in by_plain[c]][:n]


def did_you_mean(table: str, column: str, headers: Iterable[str]) -> str:
    """The hint for a missing contract `column` among the extract's unmapped `headers`, with
    the mapping line that fixes it; "" when no header is close.

    >>> did_you_mean("orders", "customer_id", ["customerID", "qty"])
    'did you mean customerID? map it: [mapping.orders] customerID = "customer_id"'
    """
    found = closest_columns(column, headers)
    if not found:
        return ""
    names = " or ".join(found)
    return f'did you mean {names}? map it: [mapping.{table}] {found[0]} = "{column}"'


# --- checks: pandera schemas built from the contract ----------------------------------------

_UNIQUE_CHECKS = {"multiple_fields_uniqueness", "field_uniqueness"}

View = Callable[[pd.DataFrame], dict[str, pd.Series]]


@dataclass(frozen=True)
class _FrameRule:
    """A rule over whole rows (row rule, foreign key, instalment sum) as a pandera check."""

    column: str  # the column the failure row names
    text: str  # the rule as reported
    passes: Callable[[pd.DataFrame], pd.Series]  # True where a row keeps the rule
    view: View  # the values quoted for offending rows


@dataclass(frozen=True)
class _Schema:
    schema: pandera.DataFrameSchema
    column_rules: dict[tuple[str, int], str]  # (column, pandera check number) -> rule text
    frame_rules: tuple[_FrameRule, ...]


def _validation_dtype(column: Column, frame: pd.DataFrame | None) -> str | pd.PeriodDtype:
    """The contract's dtype; integers and flags that must be filled but hold empty cells are
    coerced to pandas' nullable dtypes, and are checked as such so the empty cells are
    reported as "not empty" rather than as a dtype error."""
    dtype = _dtype(column)
    if frame is not None and column.dtype in ("int", "bool") and not column.nullable:
        nullable = {"int": "Int64", "bool": "boolean"}[column.dtype]
        if frame[column.name].dtype == nullable:
            return nullable
    return dtype


def _finite(s: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(s.to_numpy(dtype="float64", na_value=np.nan)), index=s.index)


def _column_checks(column: Column) -> list[tuple[pandera.Check, str]]:
    """`column`'s value rules as pandera checks with the rule text each is reported as."""
    import pandera.pandas as pandera  # on first use: `import kamlab` stays cheap

    checks = []
    if column.dtype == "float":
        checks.append((pandera.Check(_finite, name=_FINITE), _FINITE))
    if column.dtype in ("float", "int"):
        if column.ge is not None:
            checks.append((pandera.Check.ge(column.ge), f">= {column.ge:g}"))
        if column.gt is not None:
            checks.append((pandera.Check.gt(column.gt), f"> {column.gt:g}"))
        if column.le is not None:
            checks.append((pandera.Check.le(column.le), f"<= {column.le:g}"))
    if column.isin is not None:
        checks.append((pandera.Check.isin(list(column.isin)), f"one of {', '.join(column.isin)}"))
    if column.pattern is not None:
        checks.append(
            (pandera.Check.str_matches(rf"(?:{column.pattern})\Z"), f"matches {column.pattern}")
        )
    return checks


def table_schema(
    table: str, *, related: Mapping[str, pd.DataFrame] | None = None
) -> pandera.DataFrameSchema:
    """`table`'s contract as a pandera ``DataFrameSchema`` (pandas backend), built from
    :mod:`kamlab.data.contract` for frames as :func:`validate` coerces them.

    Columns carry dtype, nullability and value
    rules (bounds, allowed values, pattern, finite numbers); the key is a uniqueness rule; row
    rules are frame checks. With `related` (table name -> coerced frame) the cross-table rules
    become custom checks too: foreign keys (with the same customer/currency where the contract
    asks) and instalments adding up to their invoice.

    >>> table_schema("budget").columns["planned_revenue"].checks[1]
    <Check greater_than_or_equal_to: greater_than_or_equal_to(0)>
    """
    return _schema(TABLES[table], related).schema


def _schema(
    spec: Table, related: Mapping[str, pd.DataFrame] | None, frame: pd.DataFrame | None = None
) -> _Schema:
    import pandera.pandas as pandera

    columns = {}
    column_rules = {}
    for column in spec.columns:
        checks = _column_checks(column)
        for number, (_, text) in enumerate(checks):
            column_rules[(column.name, number)] = text
        columns[column.name] = pandera.Column(
            _validation_dtype(column, frame), [c for c, _ in checks], nullable=column.nullable
        )
    frame_rules = [_row_rule(spec, rule) for rule in spec.row_rules]
    if related is not None:
        for fk in spec.foreign_keys:
            if fk.ref_table in related and set(fk.ref_columns) <= set(related[fk.ref_table]):
                frame_rules += _foreign_key_rules(spec, fk, related[fk.ref_table])
        if spec.name == "instalments" and "invoices" in related:
            frame_rules.append(_instalment_sum_rule(related["invoices"]))
    schema = pandera.DataFrameSchema(
        columns,
        checks=[pandera.Check(r.passes, name=r.text) for r in frame_rules],
        unique=list(spec.key),
        name=spec.name,
    )
    return _Schema(schema, column_rules, tuple(frame_rules))


def _check_table(
    spec: Table, df: pd.DataFrame, line: np.ndarray, *, unparsed, missing, related, word="line"
):
    """Every rule of one table, checked lazily by pandera; returns failure rows in contract
    order. Cells that did not parse and columns missing from the extract were reported already
    and are not reported again as empty."""
    import pandera.pandas as pandera

    built = _schema(spec, related, df)
    try:
        # a shallow copy: pandera registers the frame it validated (weakref), and frames that
        # live until interpreter exit make its clean-up print "Exception ignored" there
        built.schema.validate(df.copy(deep=False), lazy=True, inplace=True)
    except pandera.errors.SchemaErrors as err:
        cases = err.failure_cases
    else:
        return []
    position = {c.name: i for i, c in enumerate(spec.columns)}
    show = _key_view(spec, df)
    found: dict[tuple, tuple[np.ndarray, View]] = {}
    key = (", ".join(spec.key), "unique key")
    keys = ["schema_context", "column", "check", "check_number"]
    for (context, column, check, number), group in cases.groupby(keys, dropna=False, sort=False):
        bad = np.zeros(len(df), dtype=bool)
        bad[group["index"].dropna().to_numpy(dtype=np.int64)] = True
        if check == "not_nullable":
            if column in missing:
                continue
            if column in unparsed:
                bad &= ~unparsed[column]
            rank, name, rule = (position[column], 0), column, _NOT_EMPTY
            view = _column_view(show, column)
        elif check in _UNIQUE_CHECKS:
            if missing & set(spec.key):
                continue  # the missing key column was reported
            rank, (name, rule), view = (len(position), 0), key, _key_only(show)
        elif context == "Column" and pd.notna(number):
            rank, name = (position[column], 1 + int(number)), column
            rule, view = built.column_rules[(column, int(number))], _column_view(show, column)
            if rule != _FINITE and spec.column(column).dtype in ("float", "int"):
                bad &= _finite(df[column]).to_numpy()  # -inf is said once: not finite
        elif context == "DataFrameSchema" and pd.notna(number):
            frame_rule = built.frame_rules[int(number)]
            rank, name, rule = (len(position) + 1, int(number)), frame_rule.column, frame_rule.text
            view = frame_rule.view
        else:  # a dtype the coercion did not produce: a defect in kamlab, still reported
            rank, name, rule, view = (
                (len(position) + 2, 0),
                str(column),
                str(check),
                _key_only(show),
            )
        if not bad.any() and not group["index"].isna().all():
            continue
        previous = found.get((rank, name, rule))
        found[(rank, name, rule)] = (bad if previous is None else previous[0] | bad, view)
    failures = []
    for (_, name, rule), (bad, view) in sorted(found.items(), key=lambda item: item[0][0]):
        if bad.any():
            failures.append(_rows_failure(spec.name, name, rule, bad, line, view(df), word))
        else:
            failures.append(_failure(spec.name, name, rule, 1, [], ""))
    return failures


def _key_only(show: dict[str, pd.Series]) -> View:
    return lambda df: show


def _column_view(show: dict[str, pd.Series], column: str) -> View:
    return lambda df: {**show, column: df[column]}


def _comparable(s: pd.Series, other: pd.Series) -> pd.Series:
    """Months compare with dates through the date's month."""
    if isinstance(other.dtype, pd.PeriodDtype) and pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.to_period("M")
    return s


def _row_rule_violations(df: pd.DataFrame, rule: RowRule) -> np.ndarray:
    if rule.op == "one of":  # both given or neither: the row names no single thing
        return (df[rule.left].notna() == df[rule.right].notna()).to_numpy(dtype=bool)
    left = _comparable(df[rule.left], df[rule.right])
    right = _comparable(df[rule.right], df[rule.left])
    both = (left.notna() & right.notna()).to_numpy()
    if not both.any():
        return both
    ok = np.ones(len(df), dtype=bool)
    lv, rv = left[both], right[both]
    if rule.op == ">=":
        ok[both] = (lv >= rv).to_numpy(dtype=bool)
    elif rule.op == ">":
        ok[both] = (lv > rv).to_numpy(dtype=bool)
    else:
        ok[both] = (lv == rv).to_numpy(dtype=bool)
    return both & ~ok


def _row_rule(spec: Table, rule: RowRule) -> _FrameRule:
    def passes(df: pd.DataFrame) -> pd.Series:
        return pd.Series(~_row_rule_violations(df, rule), index=df.index)

    def view(df: pd.DataFrame) -> dict[str, pd.Series]:
        return {**_key_view(spec, df), rule.left: df[rule.left], rule.right: df[rule.right]}

    return _FrameRule(rule.left, rule.name, passes, view)


def _key_part(s: pd.Series) -> pa.Array:
    if isinstance(s.dtype, pd.PeriodDtype):
        values = pa.array(s.array.asi8)
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        values = pa.array(s.to_numpy().view("int64"))
    elif s.dtype == "str" or pd.api.types.is_integer_dtype(s.dtype):
        values = pa.array(s)
    else:
        values = pa.array(_as_text(s))
    return values if values.type == pa.large_string() else values.cast(pa.large_string())


def _key_strings(frame: pd.DataFrame, columns: list[str]) -> pa.Array | pa.ChunkedArray:
    """One Arrow string per row joining `columns` (so compound keys compare as one value)."""
    parts = [_key_part(frame[c]) for c in columns]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(
        *parts,
        pa.scalar("\x1f", pa.large_string()),
        null_handling="replace",
        null_replacement="\x00",
    )


def _referenced(fk: ForeignKey, ref: pd.DataFrame) -> pd.DataFrame:
    if fk.ref_filter is None:
        return ref
    column, value = fk.ref_filter
    return ref.loc[ref[column].eq(value).fillna(False).to_numpy(dtype=bool)]


def _positions(df: pd.DataFrame, fk: ForeignKey, ref: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """(rows whose `fk.columns` are all filled, position of the first matching `ref` row)."""
    cols = list(fk.columns)
    filled = df[cols].notna().all(axis=1).to_numpy()
    if not filled.any():
        return filled, pd.Series(pd.NA, index=df.index, dtype="Int64")
    position = pc.index_in(
        _key_strings(df, cols), value_set=_key_strings(ref, list(fk.ref_columns))
    )
    return filled, pd.Series(_series(position, df.index), dtype="Int64")


def _foreign_key_rules(spec: Table, fk: ForeignKey, ref_table: pd.DataFrame) -> list[_FrameRule]:
    """Rows whose `fk.columns` are filled must exist in the referenced table, and agree with
    the row they reference on the `fk.same` columns (duplicate keys: the first row counts)."""
    ref = _referenced(fk, ref_table)
    cols = list(fk.columns)
    where = f"{fk.ref_table}.{', '.join(fk.ref_columns)}"
    if fk.ref_filter is not None:
        where += f" with {fk.ref_filter[0]} = {fk.ref_filter[1]}"
    # the rules of one foreign key look its positions up once per frame; keyed by id, as
    # holding the frame would keep it (and pandera's registry entry for it) alive
    last: list = [None, None]

    def positions(df: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
        if last[0] != id(df):
            last[:] = [id(df), _positions(df, fk, ref)]
        return last[1]

    def base_view(df: pd.DataFrame) -> dict[str, pd.Series]:
        return {**_key_view(spec, df), **{c: df[c] for c in cols}}

    def exists(df: pd.DataFrame) -> pd.Series:
        filled, position = positions(df)
        return pd.Series(~filled | position.notna().to_numpy(), index=df.index)

    rules = [_FrameRule(", ".join(cols), f"exists in {where}", exists, base_view)]
    for col in fk.same:
        rules.append(_same_rule(fk, ref, col, positions, base_view))
    return rules


def _same_rule(fk: ForeignKey, ref: pd.DataFrame, col: str, positions, base_view) -> _FrameRule:
    def referenced_values(df: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
        filled, position = positions(df)
        found = position.notna().to_numpy() & filled
        values = pd.Series(pd.NA, index=df.index, dtype=object)
        values[found] = ref[col].to_numpy(dtype=object)[position[found].to_numpy(dtype=np.int64)]
        return found, values

    def passes(df: pd.DataFrame) -> pd.Series:
        found, theirs = referenced_values(df)
        mine = df[col]
        differs = found & (mine.notna() & theirs.notna()).to_numpy(dtype=bool)
        differs[differs] = mine[differs].to_numpy(dtype=object) != theirs[differs].to_numpy()
        return pd.Series(~differs, index=df.index)

    def view(df: pd.DataFrame) -> dict[str, pd.Series]:
        return {**base_view(df), col: df[col], f"{fk.ref_table}.{col}": referenced_values(df)[1]}

    return _FrameRule(col, f"same {col} as {fk.ref_table} row", passes, view)


def _instalment_sum_rule(invoices: pd.DataFrame) -> _FrameRule:
    """The instalments of an invoice add up to the invoice amount (to 0.01)."""
    amounts = invoices.drop_duplicates("document_id").set_index("document_id")["amount"]

    def totals(inst: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        total = inst.groupby("document_id", sort=False)["amount"].sum()
        return total, amounts.reindex(total.index)

    def passes(inst: pd.DataFrame) -> pd.Series:
        total, invoice_amount = totals(inst)
        off = ((total - invoice_amount).abs() > 0.005 + 1e-9) & invoice_amount.notna()
        return ~inst["document_id"].isin(total.index[off])

    def view(inst: pd.DataFrame) -> dict[str, pd.Series]:
        total, invoice_amount = totals(inst)
        return {
            "document_id": inst["document_id"],
            "instalment": inst["instalment"],
            "amount": inst["amount"],
            "sum": inst["document_id"].map(total).round(2),
            "invoice amount": inst["document_id"].map(invoice_amount),
        }

    return _FrameRule("amount", "instalments sum to the invoice amount", passes, view)


# --- failures -------------------------------------------------------------------------------


def _key_view(spec: Table, df: pd.DataFrame) -> dict[str, pd.Series]:
    return {k: df[k] for k in spec.key}


def _failure(table, column, rule, count, line_numbers, examples) -> dict:
    return {
        "table": table,
        "column": column,
        "rule": rule,
        "count": int(count),
        "lines": list(line_numbers),
        "examples": [examples] if isinstance(examples, str) else list(examples),
    }


def _rows_failure(
    table, column, rule, bad, line, view: dict[str, pd.Series], word: str = "line"
) -> dict:
    """A failure quoting the first offending rows by `word` (a file's "line", a query's
    "SQL row") and number; number 0 is a derived row."""
    bad = np.asarray(bad, dtype=bool)
    pos = np.flatnonzero(bad)[:_SHOWN]
    shown = []
    for p in pos:
        values = " ".join(f"{k}={_fmt(v.iloc[p])}" for k, v in view.items())
        where = f"{word} {line[p]}" if line[p] else "derived row"
        shown.append(f"{where}: {values}")
    return _failure(table, column, rule, int(bad.sum()), line[pos].tolist(), shown)


def _fmt(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<empty>"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:.15g}"
    return repr(value) if isinstance(value, str) else str(value)


def _render(failures: pd.DataFrame) -> str:
    n, tables = len(failures), failures["table"].nunique()
    head = (
        f"extracts break the data contract: {n} failure{'s' * (n != 1)} in "
        f"{tables} table{'s' * (tables != 1)} (lines count from the header line = 1)"
    )
    shown = failures[["table", "column", "rule", "count", "examples"]].rename(
        columns={"examples": "first offending rows"}
    )
    widths = {c: max(len(c), *(len(str(v)) for v in shown[c])) for c in shown.columns[:4]}
    rows = ["  ".join(f"{c:<{widths[c]}}" for c in shown.columns[:4]) + "  first offending rows"]
    for rec in shown.itertuples(index=False):
        cells = [str(v) for v in rec[:4]]
        left = "  ".join(
            f"{v:>{widths[c]}}" if c == "count" else f"{v:<{widths[c]}}"
            for c, v in zip(shown.columns[:4], cells, strict=True)
        )
        examples = list(rec[4]) if isinstance(rec[4], list) else [str(rec[4])]
        examples = examples or [""]
        pad = " " * (len(left) + 2)
        rows.append(left + "  " + examples[0])
        rows += [pad + e for e in examples[1:]]
    return head + "\n" + "\n".join(rows)
