"""The embedded store: one DuckDB file holding the validated tables of an ingest.

:func:`write` replaces the database atomically; :func:`load` reads a typed
:class:`~kamlab.data.dataset.Dataset` back, only for the customers asked for (deliveries
through their orders, instalments through their invoices; materials always in full).
Months are stored as the DATE of their first day and come back as ``Period[M]``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from kamlab.data.contract import TABLES, Table
from kamlab.data.dataset import Dataset

__all__ = ["StoreError", "Summary", "load", "summary", "write"]

# rows are stored sorted by the column load() filters on, so DuckDB skips whole row groups
_SORT = {
    "deliveries": "order_id",
    "instalments": "document_id",
    "materials": "material_id",
    "stock": "material_id",
    "material_plan": "material_id",
}
_META = "_kamlab"


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


def write(dataset: Dataset, path: str | Path) -> None:
    """Write `dataset` to the DuckDB file `path`, replacing it only once fully written."""
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
            con.execute(f"CREATE TABLE {_META} AS SELECT 1 AS store_version, now() AS written_at")
            con.execute("CHECKPOINT")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)


def _connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    path = Path(path)
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
    return con


def _typed(frame: pd.DataFrame, spec: Table) -> pd.DataFrame:
    out = {}
    for c in spec.columns:
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


def _query(spec: Table, customers: list[str] | None) -> str:
    columns = ", ".join(f"t.{_quote(c)}" for c in spec.column_names)
    base = f"SELECT {columns} FROM {_quote(spec.name)} t"
    if customers is None or spec.name == "materials":
        return base
    # a literal list lets DuckDB skip row groups by their min/max (rows are stored by customer)
    wanted = ", ".join("?" * len(customers)) if customers else "NULL"
    if spec.name in ("stock", "material_plan"):  # per material: what the customers buy
        bought = (
            f"SELECT material_id FROM orders WHERE customer_id IN ({wanted}) UNION "
            f"SELECT material_id FROM customer_forecasts WHERE customer_id IN ({wanted})"
        )
        if spec.name == "material_plan":
            return f"{base} WHERE t.material_id IN ({bought})"
        return (
            f"{base} WHERE t.customer_id IN ({wanted}) "
            f"OR (t.customer_id IS NULL AND t.material_id IN ({bought}))"
        )
    if "customer_id" in spec.column_names:
        return f"{base} WHERE t.customer_id IN ({wanted})"
    if spec.name == "deliveries":
        return (
            f"{base} SEMI JOIN (SELECT order_id, line FROM orders WHERE customer_id IN ({wanted})) o "
            "ON t.order_id = o.order_id AND t.line = o.line"
        )
    if spec.name == "instalments":
        return (
            f"{base} WHERE t.document_id IN "
            f"(SELECT document_id FROM invoices WHERE customer_id IN ({wanted}))"
        )
    raise ValueError(f"table {spec.name}: no customer filter defined")


def load(path: str | Path = "data/kam.duckdb", customers: Iterable[str] | None = None) -> Dataset:
    """Read the store at `path` as a typed :class:`Dataset`, for `customers` only if given.

    Ids come back as strings, dates as ``datetime64[us]``, months as ``Period[M]``; materials
    and the exclusions are always returned in full; stock and material plans for the materials
    the customers ordered or forecast (plus stock reserved for them). An optional table the
    database predates comes back empty. Unknown customers give empty tables.
    Rows are ordered by customer (deliveries by order, instalments by invoice), then key.
    """
    if isinstance(customers, str):
        customers = [customers]
    wanted = None if customers is None else [str(c) for c in customers]
    with _connect(path) as con:
        have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        tables = {}
        for name, spec in TABLES.items():
            if name not in have:
                tables[name] = _typed(pd.DataFrame(columns=spec.column_names), spec)
                continue
            sql = _query(spec, wanted)
            params = wanted * (sql.count("?") // len(wanted)) if wanted and "?" in sql else None
            tables[name] = _typed(con.execute(sql, params).df(), spec)
        exclusions = con.execute('SELECT "table", reason, "rows" FROM exclusions').df()
    exclusions = exclusions.astype({"table": "str", "reason": "str", "rows": "int64"})
    return Dataset(**tables, exclusions=exclusions)


@dataclass
class Summary:
    """Row counts and date ranges per table, and every excluded row count with its reason."""

    database: Path
    tables: pd.DataFrame  # table, rows, first, last, dates (columns the range spans)
    exclusions: pd.DataFrame  # table, reason, rows

    def __str__(self) -> str:
        tables = self.tables.copy()
        for col in ("first", "last"):
            tables[col] = tables[col].dt.strftime("%Y-%m-%d").fillna("-")
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
    tables = pd.DataFrame(rows)
    for col in ("first", "last"):
        tables[col] = pd.to_datetime(tables[col]).astype("datetime64[us]")
    return Summary(Path(path), tables, exclusions.astype({"table": "str", "reason": "str"}))
