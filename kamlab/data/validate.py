"""Validation at the boundary: coerce extract frames to the contract and check every rule.

:func:`validate` is driven entirely by :mod:`kamlab.data.contract`. It coerces each column
to its contract dtype (ids as strings, dates as ``datetime64``, months as ``Period[M]``,
numbers in the extract's decimal format, SAP flags as booleans), then checks every rule
*lazily* and raises one :class:`ContractError` listing all failures: table, column, rule,
count and the first offending rows (line in the extract file, header = line 1, and values).
Nothing is dropped silently: the only rows left out are completely blank lines, counted in
``Dataset.exclusions``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlab.config import DEFAULTS, FormatSettings, Settings
from kamlab.data.contract import TABLES, Column, ForeignKey, RowRule, Table
from kamlab.data.dataset import Dataset

__all__ = ["FAILURE_COLUMNS", "ContractError", "coerce_column", "empty_frame", "validate"]

FAILURE_COLUMNS = ["table", "column", "rule", "count", "lines", "examples"]
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

    Columns outside the contract are ignored; optional columns and optional tables that are
    absent become typed empty columns/frames. Completely blank rows are left out and counted
    in ``Dataset.exclusions``. Any failure raises :class:`ContractError` after *all* rules
    have been checked.

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
    1  materials               table present      1
    """
    fmt = settings.formats
    unknown = sorted(set(frames) - set(TABLES))
    failures: list[dict] = []
    for name in unknown:
        failures.append(
            _failure(name, "", "known table", 1, [], f"known tables: {', '.join(TABLES)}")
        )
    typed: dict[str, pd.DataFrame] = {}
    lines: dict[str, np.ndarray] = {}
    unparsed: dict[str, dict[str, np.ndarray]] = {}
    exclusions = []
    for name, spec in TABLES.items():
        if name not in frames:
            if not spec.optional:
                failures.append(_failure(name, "", "table present", 1, [], "no extract given"))
            typed[name] = empty_frame(name)
            lines[name] = np.empty(0, dtype=np.int64)
            continue
        frame, line, blank = _drop_blank_rows(frames[name])
        if blank:
            exclusions.append({"table": name, "reason": "blank line", "rows": blank})
        typed[name], table_failures, unparsed[name] = _coerce_table(spec, frame, line, fmt)
        lines[name] = line
        failures += table_failures
    for name, spec in TABLES.items():
        failures += _check_table(spec, typed, lines, unparsed.get(name, {}))
    failures += _check_instalments(typed, lines)
    if failures:
        order = {name: i for i, name in enumerate([*TABLES, *unknown])}
        failures.sort(key=lambda f: order[f["table"]])
        raise ContractError(pd.DataFrame(failures, columns=FAILURE_COLUMNS))
    excluded = pd.DataFrame(exclusions, columns=["table", "reason", "rows"]).astype(
        {"table": "str", "reason": "str", "rows": "int64"}
    )
    return Dataset(**typed, exclusions=excluded)


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
            values = _series(pc.cast(text, pa.float64()), s.index)
            bad = pd.Series(False, index=s.index)
        except pa.ArrowInvalid:
            raw = _series(text, s.index)
            values = pd.to_numeric(raw, errors="coerce").astype("float64")
            bad = raw.notna() & values.isna()
    if column.dtype == "int":
        fraction = values.notna() & (values != np.round(values))
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
    fmts = (formats.date_format, "%Y-%m-%d") if formats.date_format else ("%Y-%m-%d",)
    values, bad = _parse_stamps(s, fmts)
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
        return s.astype("bool"), pd.Series(False, index=s.index)
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


def _coerce_table(spec: Table, frame: pd.DataFrame, line: np.ndarray, fmt: FormatSettings):
    failures = []
    out = {}
    unparsed = {}
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    for name in missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        failures.append(_failure(spec.name, name, "required column", 1, [], f"columns: {have}"))
    for column in spec.columns:
        if column.name not in frame.columns:
            out[column.name] = pd.Series(index=frame.index, dtype=_dtype(column))
            continue
        values, bad = coerce_column(frame[column.name], column, fmt)
        if bad.any():
            unparsed[column.name] = bad.to_numpy()
            failures.append(
                _rows_failure(
                    spec.name,
                    column.name,
                    f"parses as {column.dtype}",
                    bad.to_numpy(),
                    line,
                    {column.name: frame[column.name]},
                )
            )
        out[column.name] = values
    return pd.DataFrame(out, index=frame.index), failures, unparsed


# --- checks ---------------------------------------------------------------------------------


def _check_table(spec: Table, typed: dict[str, pd.DataFrame], lines, unparsed):
    """Value rules, key, row rules and foreign keys of one table (unparsed cells skipped)."""
    df, line = typed[spec.name], lines[spec.name]
    if df.empty:
        return []
    failures = []
    show = _key_view(spec, df)
    for column in spec.columns:
        s = df[column.name]
        skip = unparsed.get(column.name)
        for rule, bad in _value_rules(column, s):
            if skip is not None:
                bad = bad & ~skip
            if bad.any():
                failures.append(
                    _rows_failure(spec.name, column.name, rule, bad, line, {**show, column.name: s})
                )
    key = list(spec.key)
    dup = df.duplicated(key, keep=False).to_numpy()
    if dup.any():
        failures.append(_rows_failure(spec.name, ", ".join(key), "unique key", dup, line, show))
    for rule in spec.row_rules:
        bad = _row_rule_violations(df, rule)
        if bad.any():
            view = {**show, rule.left: df[rule.left], rule.right: df[rule.right]}
            failures.append(_rows_failure(spec.name, rule.left, rule.name, bad, line, view))
    for fk in spec.foreign_keys:
        failures += _check_foreign_key(spec, fk, typed, line, show)
    return failures


def _value_rules(column: Column, s: pd.Series):
    """Yield (rule text, mask of violating rows) for `column`'s nullability and value rules."""
    missing = s.isna().to_numpy()
    if not column.nullable:
        yield "not empty", missing
    present = ~missing
    if column.dtype in ("float", "int"):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        if column.ge is not None:
            yield f">= {column.ge:g}", present & ~(v >= column.ge)
        if column.gt is not None:
            yield f"> {column.gt:g}", present & ~(v > column.gt)
        if column.le is not None:
            yield f"<= {column.le:g}", present & ~(v <= column.le)
    if column.isin is not None:
        yield f"one of {', '.join(column.isin)}", present & ~s.isin(column.isin).to_numpy()
    if column.pattern is not None:
        full = s.str.fullmatch(column.pattern).fillna(True).astype(bool)
        yield f"matches {column.pattern}", present & ~full.to_numpy()


def _comparable(s: pd.Series, other: pd.Series) -> pd.Series:
    """Months compare with dates through the date's month."""
    if isinstance(other.dtype, pd.PeriodDtype) and pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.to_period("M")
    return s


def _row_rule_violations(df: pd.DataFrame, rule: RowRule) -> np.ndarray:
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


def _check_foreign_key(spec, fk: ForeignKey, typed, line, show):
    """Rows whose `fk.columns` are filled must exist in the referenced table (and agree on
    the `fk.same` columns with the row they reference)."""
    df = typed[spec.name]
    cols, ref_cols = list(fk.columns), list(fk.ref_columns)
    filled = df[cols].notna().all(axis=1).to_numpy()
    if not filled.any():
        return []
    ref = typed[fk.ref_table]
    where = f"{fk.ref_table}.{', '.join(ref_cols)}"
    if fk.ref_filter is not None:
        fcol, fval = fk.ref_filter
        ref = ref.loc[ref[fcol].eq(fval).fillna(False).to_numpy(dtype=bool)]
        where += f" with {fcol} = {fval}"
    # index of the first matching row (duplicate keys are reported by the key check)
    position = pc.index_in(_key_strings(df, cols), value_set=_key_strings(ref, ref_cols))
    position = pd.Series(_series(position, df.index), dtype="Int64")
    found = position.notna().to_numpy() & filled
    failures = []
    view = {**show, **{c: df[c] for c in cols}}
    missing = filled & ~found
    if missing.any():
        failures.append(
            _rows_failure(spec.name, ", ".join(cols), f"exists in {where}", missing, line, view)
        )
    rows = position[found].to_numpy(dtype=np.int64)
    for col in fk.same:
        ref_values = pd.Series(pd.NA, index=df.index, dtype=object)
        ref_values[found] = ref[col].to_numpy(dtype=object)[rows]
        mine = df[col]
        differs = found & (mine.notna() & ref_values.notna()).to_numpy(dtype=bool)
        differs[differs] = mine[differs].to_numpy(dtype=object) != ref_values[differs].to_numpy()
        if differs.any():
            failures.append(
                _rows_failure(
                    spec.name,
                    col,
                    f"same {col} as {fk.ref_table} row",
                    differs,
                    line,
                    {**view, col: mine, f"{fk.ref_table}.{col}": ref_values},
                )
            )
    return failures


def _check_instalments(typed, lines) -> list[dict]:
    """The instalments of an invoice add up to the invoice amount (to 0.01)."""
    inst = typed["instalments"]
    if inst.empty:
        return []
    totals = inst.groupby("document_id", sort=False)["amount"].sum()
    invoices = typed["invoices"].drop_duplicates("document_id").set_index("document_id")
    invoice_amount = invoices["amount"].reindex(totals.index)
    off = (totals - invoice_amount).abs() > 0.005 + 1e-9
    off &= invoice_amount.notna()
    if not off.any():
        return []
    bad = inst["document_id"].isin(totals.index[off]).to_numpy()
    view = {
        "document_id": inst["document_id"],
        "instalment": inst["instalment"],
        "amount": inst["amount"],
        "sum": inst["document_id"].map(totals).round(2),
        "invoice amount": inst["document_id"].map(invoice_amount),
    }
    return [
        _rows_failure(
            "instalments",
            "amount",
            "instalments sum to the invoice amount",
            bad,
            lines["instalments"],
            view,
        )
    ]


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


def _rows_failure(table, column, rule, bad, line, view: dict[str, pd.Series]) -> dict:
    bad = np.asarray(bad, dtype=bool)
    pos = np.flatnonzero(bad)[:_SHOWN]
    shown = []
    for p in pos:
        values = " ".join(f"{k}={_fmt(v.iloc[p])}" for k, v in view.items())
        shown.append(f"line {line[p]}: {values}")
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
