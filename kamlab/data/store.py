"""The embedded store: one DuckDB file holding the validated tables of an ingest.

:func:`write` replaces the database atomically; :func:`load` reads a typed
:class:`~kamlab.data.dataset.Dataset` back, only for the customers asked for (deliveries
through their orders, instalments through their invoices; materials always in full).
Months are stored as the DATE of their first day and come back as ``Period[M]``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from kamlab.data.contract import TABLES, Table
from kamlab.data.dataset import Dataset

__all__ = [
    "WINDOW_COLUMNS",
    "StoreError",
    "Summary",
    "fingerprints",
    "monthly_fingerprints",
    "load",
    "row_counts",
    "summary",
    "write",
]

# rows are stored sorted by the column load() filters on, so DuckDB skips whole row groups
_SORT = {
    "deliveries": "order_id",
    "instalments": "document_id",
    "materials": "material_id",
    "stock": "material_id",
    "material_plan": "material_id",
}
_META = "_kamlab"
# the date that places a row in time, for load(since=, until=): the event the row records
WINDOW_COLUMNS = {
    "orders": "requested_date",
    "deliveries": "delivered_date",
    "customer_forecasts": "snapshot_date",
    "invoices": "posting_date",
    "instalments": "due_date",
    "payments": "payment_date",
    "complaints": "opened_date",
    "budget": "period",
}

Bound = str | pd.Timestamp | pd.Period | None


class StoreError(FileNotFoundError):
    """No kamlab database at the path, or one written by an incompatible version."""


def _sql_type(dtype: str) -> str:
    return {
        "string": "VARCHAR",
        "float": "DOUBLE",
        "int": "BIGINT",
        "bool": "BOOLEAN",
        "date": "DATE",
        "period": "DATE",
    }[dtype]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _for_store(frame: pd.DataFrame, spec: Table) -> pd.DataFrame:
    out = {}
    for c in spec.columns:
        s = frame[c.name]
        out[c.name] = s.dt.to_timestamp() if c.dtype == "period" else s
    return pd.DataFrame(out, index=frame.index)


def write(dataset: Dataset, path: str | Path, *, settings: str | None = None) -> None:
    """Write `dataset` to the DuckDB file `path`, replacing it only once fully written.

    `settings`: the text of the ``kamlab.toml`` the data were ingested with, recorded so that
    a notebook or a pack run without a settings file uses them (:func:`recorded_settings`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(tmp)) as con:
            for name, spec in TABLES.items():
                frame = _for_store(getattr(dataset, name), spec)
                select = ", ".join(
                    f"CAST({_quote(c.name)} AS {_sql_type(c.dtype)}) AS {_quote(c.name)}"
                    for c in spec.columns
                )
                first = _SORT.get(name, "customer_id")
                order = ", ".join(_quote(c) for c in dict.fromkeys([first, *spec.key]))
                con.register("_frame", frame)
                con.execute(
                    f"CREATE TABLE {_quote(name)} AS SELECT {select} FROM _frame ORDER BY {order}"
                )
                con.unregister("_frame")
            con.register("_frame", dataset.exclusions[["table", "reason", "rows"]])
            con.execute(
                'CREATE TABLE exclusions AS SELECT CAST("table" AS VARCHAR) AS "table", '
                'CAST(reason AS VARCHAR) AS reason, CAST("rows" AS BIGINT) AS "rows" FROM _frame'
            )
            con.unregister("_frame")
            con.execute(
                f"CREATE TABLE {_META} AS SELECT 1 AS store_version, now() AS written_at, "
                "?::VARCHAR[] AS absent, ?::VARCHAR[] AS derived, ?::VARCHAR AS settings",
                [list(dataset.absent), list(dataset.derived), settings],
            )
            con.execute("CHECKPOINT")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)


# what DuckDB raises reading a damaged file (truncated, empty, text, another program's file)
_DAMAGED = (
    duckdb.IOException,
    duckdb.SerializationException,
    duckdb.InternalException,
    duckdb.FatalException,
)


def _damaged(path: Path, err: Exception) -> StoreError:
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return StoreError(
        f"{path} is damaged or not a kamlab database ({reason}); rebuild it from the "
        f"extracts: kamlab ingest EXTRACTS_DIR --database {path}"
    )


@contextlib.contextmanager
def _connect(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the store at `path`, checked; a damaged file (also one
    found damaged while reading) is a :class:`StoreError` naming it and the re-ingest."""
    path = Path(path)
    try:
        con = _checked_connection(path)
    except duckdb.Error as err:
        raise _damaged(path, err) from None
    try:
        yield con
    except _DAMAGED as err:
        raise _damaged(path, err) from None
    finally:
        con.close()


def _checked_connection(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise StoreError(f"no kamlab database at {path}; run `kamlab ingest EXTRACTS_DIR` first")
    con = duckdb.connect(str(path), read_only=True)
    have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    # optional tables newer than the database come back empty (see load)
    missing = sorted(
        {*(n for n, t in TABLES.items() if not t.optional), "exclusions", _META} - have
    )
    if missing:
        con.close()
        raise StoreError(f"{path} is not a kamlab database (tables missing: {missing})")
    stored = con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall()
    older = {
        name: sorted(set(spec.column_names) - {c for t, c in stored if t == name})
        for name, spec in TABLES.items()
        if name in have
    }
    older = {name: cols for name, cols in older.items() if cols}
    if older:
        con.close()
        lacking = "; ".join(f"table {n} lacks column(s) {', '.join(c)}" for n, c in older.items())
        raise StoreError(
            f"{path} was written by an older kamlab ({lacking}); re-ingest the extracts: "
            f"`kamlab ingest EXTRACTS_DIR --database {path}`"
        )
    return con


def _typed(frame: pd.DataFrame, spec: Table, names: Sequence[str] | None = None) -> pd.DataFrame:
    out = {}
    for c in spec.columns:
        if names is not None and c.name not in names:
            continue
        s = frame[c.name]
        if c.dtype == "string":
            s = s.astype("str")
        elif c.dtype == "date":
            s = s.astype("datetime64[us]")
        elif c.dtype == "period":
            s = s.astype("datetime64[us]").dt.to_period("M")
        elif c.dtype == "float":
            s = s.astype("float64")
        elif c.dtype == "int":
            s = s.astype("Int64" if c.nullable else "int64")
        elif c.dtype == "bool":
            s = s.astype("boolean" if c.nullable else "bool")
        out[c.name] = s
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _bound(value: Bound, name: str, end: bool) -> pd.Timestamp | None:
    """A window bound as a day: a month (Period or 'YYYY-MM') stands for its first or last day."""
    if value is None:
        return None
    if isinstance(value, pd.Period):
        return value.to_timestamp(how="end").normalize() if end else value.to_timestamp()
    try:
        if isinstance(value, str) and len(value) == 7:
            return _bound(pd.Period(value, "M"), name, end)
        return pd.Timestamp(value).normalize()
    except ValueError as err:
        raise ValueError(f"load: {name}={value!r} is not a date or a YYYY-MM month") from err


def _query(
    spec: Table,
    customers: list[str] | None,
    names: Sequence[str],
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
) -> tuple[str, list]:
    """SQL and parameters reading `names` of `spec` for `customers` within [since, until]."""
    columns = ", ".join(f"t.{_quote(c)}" for c in names)
    sql = f"SELECT {columns} FROM {_quote(spec.name)} t"
    where: list[str] = []
    params: list = []
    if customers is not None and spec.name != "materials":
        # a literal list lets DuckDB skip row groups by their min/max (rows are stored by customer)
        wanted = ", ".join("?" * len(customers)) if customers else "NULL"
        if spec.name in ("stock", "material_plan"):  # per material: what the customers buy
            bought = (
                f"SELECT material_id FROM orders WHERE customer_id IN ({wanted}) UNION "
                f"SELECT material_id FROM customer_forecasts WHERE customer_id IN ({wanted})"
            )
            if spec.name == "material_plan":
                where.append(f"t.material_id IN ({bought})")
                params += customers * 2
            else:
                where.append(
                    f"(t.customer_id IN ({wanted}) "
                    f"OR (t.customer_id IS NULL AND t.material_id IN ({bought})))"
                )
                params += customers * 3
        elif "customer_id" in spec.column_names:
            where.append(f"t.customer_id IN ({wanted})")
            params += customers
        elif spec.name == "deliveries":
            sql += (
                f" SEMI JOIN (SELECT order_id, line FROM orders WHERE customer_id IN ({wanted})) o"
                " ON t.order_id = o.order_id AND t.line = o.line"
            )
            params += customers
        elif spec.name == "instalments":
            where.append(
                f"t.document_id IN (SELECT document_id FROM invoices WHERE customer_id IN ({wanted}))"
            )
            params += customers
        else:
            raise ValueError(f"table {spec.name}: no customer filter defined")
    column = WINDOW_COLUMNS.get(spec.name)
    if column is not None:
        # a row without its date cannot be placed in the window: kept, the analysis decides
        if since is not None:
            where.append(f"(t.{_quote(column)} >= ? OR t.{_quote(column)} IS NULL)")
            params.append(since.date())
        if until is not None:
            where.append(f"(t.{_quote(column)} <= ? OR t.{_quote(column)} IS NULL)")
            params.append(until.date())
    if where:
        sql += " WHERE " + " AND ".join(where)
    if customers is not None:  # a join or filter may not keep the stored order: restore it
        first = _SORT.get(spec.name, "customer_id")
        order = dict.fromkeys([first, *spec.key])
        sql += " ORDER BY " + ", ".join(f"t.{_quote(c)}" for c in order)
    return sql, params


def _per_table(value: object, name: str) -> object:
    return value.get(name) if isinstance(value, Mapping) else value


def load(
    path: str | Path = "data/kam.duckdb",
    customers: Iterable[str] | None = None,
    *,
    tables: Iterable[str] | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
    since: Bound | Mapping[str, Bound] = None,
    until: Bound | Mapping[str, Bound] = None,
) -> Dataset:
    """Read the store at `path` as a typed :class:`Dataset`, only what a step needs.

    Every selection is pushed into the SQL, so DuckDB reads (and pandas holds) only it:

    - `customers`: their rows only (deliveries through their orders, instalments through
      their invoices; materials always in full). Unknown customers give empty tables.
    - `tables`: the tables to read; the others come back empty (typed, contract columns).
    - `columns`: per table, the columns to read (in contract order); tables not named
      come with all their columns.
    - `since` / `until`: a date, or a month (``Period`` or ``"YYYY-MM"``: its first / last
      day), for every table, or a mapping table → bound: rows whose :data:`WINDOW_COLUMNS`
      date lies outside are not read (rows without that date are kept). Customers and
      materials have no window. Mind open items: an invoice posted before `since` may still
      be open, so receivables want `until` only.

    Stock and material plans come for the materials the customers ordered or forecast (plus
    stock reserved for them); an optional table the database predates comes back empty.
    Ids come back as strings (Arrow-backed), dates as ``datetime64[us]``, months as
    ``Period[M]``; the exclusions always in full. Rows are ordered by customer (deliveries by
    order, instalments by invoice), then key.
    """
    if isinstance(customers, str):
        customers = [customers]
    wanted = None if customers is None else [str(c) for c in customers]
    chosen = set(TABLES) if tables is None else set(tables)
    unknown = sorted(chosen - set(TABLES)) + sorted(set(columns or {}) - set(TABLES))
    if unknown:
        raise ValueError(f"load: unknown table(s) {unknown}; known: {list(TABLES)}")
    with _connect(path) as con:
        have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        frames = {}
        for name, spec in TABLES.items():
            names = list(spec.column_names)
            if columns is not None and name in columns:
                bad = sorted(set(columns[name]) - set(names))
                if bad:
                    raise ValueError(f"load: table {name} has no column(s) {bad}")
                names = [c for c in names if c in set(columns[name])]
            if name not in have:
                frames[name] = _typed(pd.DataFrame(columns=names), spec, names)
                continue
            lo = _bound(_per_table(since, name), "since", end=False)
            hi = _bound(_per_table(until, name), "until", end=True)
            sql, params = _query(spec, wanted, names, lo, hi)
            if name not in chosen:
                sql += " LIMIT 0"
            frames[name] = _typed(con.execute(sql, params or None).df(), spec, names)
        exclusions = con.execute('SELECT "table", reason, "rows" FROM exclusions').df()
        absent, derived = _absent_derived(con)
    exclusions = exclusions.astype({"table": "str", "reason": "str", "rows": "int64"})
    return Dataset(**frames, exclusions=exclusions, absent=absent, derived=derived)


def row_counts(path: str | Path) -> dict[str, int]:
    """The number of rows of each contract table in the store at `path` (0: absent)."""
    with _connect(path) as con:
        have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return {
            name: int(con.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0])
            if name in have
            else 0
            for name in TABLES
        }


def _absent_derived(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tables the ingest had no extract for, and the master tables it derived."""
    have = {r[0] for r in con.execute(f"DESCRIBE {_META}").fetchall()}
    if not {"absent", "derived"} <= have:  # written before tables were optional
        return (), ()
    absent, derived = con.execute(f"SELECT absent, derived FROM {_META}").fetchone()
    return tuple(absent), tuple(derived)


def recorded_settings(path: str | Path) -> str | None:
    """The ``kamlab.toml`` text the store at `path` was ingested with (None: none recorded,
    or a store written before settings were recorded)."""
    with _connect(path) as con:
        have = {r[0] for r in con.execute(f"DESCRIBE {_META}").fetchall()}
        if "settings" not in have:
            return None
        (text,) = con.execute(f"SELECT settings FROM {_META}").fetchone()
    return text


def fingerprints(path: str | Path, *, until: Bound = None) -> dict[str, str]:
    """A content hash per table over its rows dated up to `until` (all rows if None).

    Order-independent (the sum of DuckDB's row hashes, with the row count), computed in the
    database without loading the rows: comparing two months' fingerprints tells which tables
    changed in the history a cached result was computed from — a table whose rows up to that
    month are the same has the same fingerprint, whatever was added after it. Tables
    without a :data:`WINDOW_COLUMNS` date (customers, materials) are hashed whole.
    """
    hi = _bound(until, "until", end=True)
    out = {}
    with _connect(path) as con:
        for name, spec in TABLES.items():
            sql = f"SELECT count(*), {_row_hashes(spec)} FROM {_quote(name)} t"
            params = None
            column = WINDOW_COLUMNS.get(name)
            if hi is not None and column is not None:
                sql += f" WHERE t.{_quote(column)} <= ? OR t.{_quote(column)} IS NULL"
                params = [hi.date()]
            count, total = con.execute(sql, params).fetchone()
            out[name] = f"{count}:{total or 0}"
    return out


def monthly_fingerprints(
    path: str | Path,
    table: str,
    months: Iterable[Bound],
    *,
    customers: Iterable[str] | None = None,
) -> dict[str, str]:
    """`table`'s fingerprint up to the end of each of `months`, from one scan of the table.

    Equal to ``fingerprints(path, until=month)[table]`` for each month (keys ``"YYYY-MM"``):
    the rows' hash sums and counts per month of the :data:`WINDOW_COLUMNS` date, added up.
    A table without such a date has its whole-table fingerprint for every month.
    `customers`: of their rows only (a table with a customer_id column): another
    customer's rows, added or corrected, leave it unchanged.
    """
    wanted = {str(pd.Period(m, "M")): pd.Period(m, "M") for m in months}
    spec, column = TABLES[table], WINDOW_COLUMNS.get(table)
    if column is None:
        whole = fingerprints(path)[table]
        return dict.fromkeys(wanted, whole)
    sql = (
        f"SELECT strftime(t.{_quote(column)}, '%Y-%m') AS m, count(*), {_row_hashes(spec)} "
        f"FROM {_quote(table)} t"
    )
    params: list | None = None
    if customers is not None:
        if "customer_id" not in spec.column_names:
            raise ValueError(f"table {table} has no customer_id to select customers by")
        params = [str(c) for c in customers]
        sql += f" WHERE t.customer_id IN ({', '.join('?' * len(params)) or 'NULL'})"
    sql += " GROUP BY m"
    with _connect(path) as con:
        groups = con.execute(sql, params or None).fetchall()
    undated = [(c, h or 0) for m, c, h in groups if m is None]
    dated = sorted((pd.Period(m, "M"), c, h or 0) for m, c, h in groups if m is not None)
    out = {}
    for key, month in wanted.items():
        rows = undated + [(c, h) for m, c, h in dated if m <= month]
        out[key] = f"{sum(c for c, _ in rows)}:{sum(h for _, h in rows)}"
    return out


def _row_hashes(spec: Table) -> str:
    """SQL: the sum of the rows' hashes (order-independent), as a HUGEINT."""
    row = ", ".join(f"t.{_quote(c)}" for c in spec.column_names)
    return f"sum(hash({row})::HUGEINT)"


@dataclass
class Summary:
    """Row counts and date ranges per table, and every excluded row count with its reason."""

    database: Path
    tables: pd.DataFrame  # table, rows, first, last, dates (columns the range spans)
    exclusions: pd.DataFrame  # table, reason, rows
    absent: tuple[str, ...] = ()  # no extract given: empty
    derived: tuple[str, ...] = ()  # master data derived from the transactions

    def __str__(self) -> str:
        tables = self.tables.copy()
        for col in ("first", "last"):
            tables[col] = tables[col].dt.strftime("%Y-%m-%d").fillna("-")
        source = {name: "no extract: empty" for name in self.absent}
        source |= {name: "derived from the transactions" for name in self.derived}
        tables["source"] = [source.get(name, "extract") for name in tables["table"]]
        excluded = self.exclusions.to_string(index=False) if len(self.exclusions) else "  none"
        return (
            f"kamlab database {self.database}\n{tables.to_string(index=False)}\n\n"
            f"excluded rows:\n{excluded}"
        )


def summary(path: str | Path = "data/kam.duckdb") -> Summary:
    """Row counts, first and last date per table (over its date and month columns), exclusions."""
    rows = []
    with _connect(path) as con:
        have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        for name, spec in TABLES.items():
            if name not in have:  # an optional table the database predates
                continue
            dated = [c.name for c in spec.columns if c.dtype in ("date", "period")]
            parts = ['count(*) AS "rows"']
            if dated:
                parts.append(f"least({', '.join(f'min({_quote(c)})' for c in dated)})")
                parts.append(f"greatest({', '.join(f'max({_quote(c)})' for c in dated)})")
            got = con.execute(f"SELECT {', '.join(parts)} FROM {_quote(name)}").fetchone()
            first, last = (got[1], got[2]) if dated else (None, None)
            rows.append(
                {
                    "table": name,
                    "rows": int(got[0]),
                    "first": first,
                    "last": last,
                    "dates": ", ".join(dated),
                }
            )
        exclusions = con.execute('SELECT "table", reason, "rows" FROM exclusions').df()
        absent, derived = _absent_derived(con)
    tables = pd.DataFrame(rows)
    for col in ("first", "last"):
        tables[col] = pd.to_datetime(tables[col]).astype("datetime64[us]")
    exclusions = exclusions.astype({"table": "str", "reason": "str"})
    return Summary(Path(path), tables, exclusions, absent=absent, derived=derived)
