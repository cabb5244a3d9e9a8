"""Column mapping: extract column names, codes and spellings -> the contract's words.

A ``kamlab.toml`` maps each table's extract columns to contract columns, so real extracts
load unedited (``[formats]`` says how all extracts spell dates and numbers)::

    [mapping.orders]
    file = "VA05_export.xlsx"                # file of the table, when not named <table>.csv/...
    date_format = "%m/%d/%Y %H:%M"           # this table's dates (over [formats])
    formats = {requested_date = "%Y%m%d"}    # one column's spelling (over the table's)
    VBELN = "order_id"                       # rename
    ERDAT = ["order_date", "requested_date"] # one extract column feeding two contract columns
    [mapping.orders.constants]
    currency = "EUR"                         # a column the extract lacks, one value for all rows
    [mapping.orders.recode.status]           # extract codes -> contract values
    A = "open"
    C = "delivered"
    [mapping.deliveries]                     # a table defined by SQL over the extract files
    sql = "SELECT * FROM LIKP JOIN LIPS USING (VBELN) WHERE WADAT_IST IS NOT NULL"
    [mapping.customers]
    file = "VA05_export.xlsx"                # one file feeding several tables
    distinct = true                          # one row per distinct customer (master data from
    KUNNR = "customer_id"                    #   a transaction file; repeats counted, not stored)

Reserved keys of ``[mapping.TABLE]`` (never read as extract column names): ``file``,
``sql``, ``distinct``, ``formats``, ``constants``, ``recode`` and the ``[formats]`` settings
(``date_format``, ``period_format``, ``decimal``, ``thousands``, ``blank_flag_false``,
``encoding``, ``csv_separator``). ``[mapping.files]`` (table = file) is still read.
:data:`SAP_EXAMPLE` is a complete example for a German SAP system; ``data/README.md`` shows it
and a test loads extracts with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kamlab.config import FormatSettings, SettingsError
from kamlab.data.contract import TABLES

__all__ = [
    "SAP_EXAMPLE",
    "apply_mapping",
    "check_mapping",
    "column_formats",
    "distinct",
    "file_names",
    "sql_queries",
    "table_formats",
]

_FORMAT_KEYS = tuple(f.name for f in dataclasses.fields(FormatSettings))
_COLUMN_FORMAT_KEYS = ("date_format", "period_format", "decimal", "thousands", "blank_flag_false")
_TABLES_OF_NAMES = ("constants", "recode")
_RESERVED = ("file", "sql", "distinct", "formats", *_TABLES_OF_NAMES, *_FORMAT_KEYS)


def _format_changes(where: str, values: Mapping[str, Any], allowed: tuple[str, ...]) -> dict:
    """`values` checked against FormatSettings' fields and types."""
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise SettingsError(f"{where}: unknown format key(s) {unknown}; known: {list(allowed)}")
    defaults = FormatSettings()
    for key, value in values.items():
        want = bool if key == "blank_flag_false" else str
        if not isinstance(value, want) and not (value is None and getattr(defaults, key) is None):
            raise SettingsError(f"{where} {key}: expected {want.__name__}, got {value!r}")
    return dict(values)


def check_mapping(mapping: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise :class:`~kamlab.config.SettingsError` naming any unknown table, target column,
    reserved key of the wrong type, or a table given two files."""
    for table, spec in mapping.items():
        if table == "files":
            unknown = sorted(set(spec) - set(TABLES))
            if unknown:
                raise SettingsError(
                    f"kamlab.toml [mapping.files]: unknown table(s) {unknown}; known: {list(TABLES)}"
                )
            continue
        if table not in TABLES:
            raise SettingsError(
                f"kamlab.toml [mapping.{table}]: unknown table; known: {list(TABLES)} and 'files'"
            )
        where = f"kamlab.toml [mapping.{table}]"
        known = TABLES[table].column_names
        targets: list[str] = []  # columns given values: renamed or constant
        recoded: list[str] = []
        for source, target in spec.items():
            if source in _TABLES_OF_NAMES:
                if not isinstance(target, Mapping):
                    raise SettingsError(f"kamlab.toml [mapping.{table}.{source}] must be a table")
                (recoded if source == "recode" else targets).extend(target)
            elif source in ("file", "sql", "distinct"):
                want = bool if source == "distinct" else str
                if not isinstance(target, want):
                    raise SettingsError(
                        f"{where} {source}: expected {want.__name__}, got {target!r}"
                    )
            elif source in _FORMAT_KEYS:
                _format_changes(where, {source: target}, _FORMAT_KEYS)
            elif source == "formats":
                if not isinstance(target, Mapping):
                    raise SettingsError(f"{where} formats: expected a table column = format")
                for column, fmt in target.items():
                    if column not in known:
                        raise SettingsError(
                            f"{where} formats: unknown contract column {column!r}; known: {known}"
                        )
                    if not isinstance(fmt, str | Mapping):
                        raise SettingsError(
                            f"{where} formats.{column}: expected a format such as "
                            f'"%d.%m.%Y" or a table of {list(_COLUMN_FORMAT_KEYS)}, got {fmt!r}'
                        )
                    if isinstance(fmt, Mapping):
                        _format_changes(f"{where} formats.{column}", fmt, _COLUMN_FORMAT_KEYS)
            elif isinstance(target, str):
                targets.append(target)
            elif isinstance(target, list) and all(isinstance(t, str) for t in target):
                targets += target
            else:
                raise SettingsError(
                    f"{where} {source}: expected a column name or a list of names, got {target!r}"
                )
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise SettingsError(f"{where}: contract column(s) {twice} given more than once")
        unknown = sorted(set(targets + recoded) - set(known))
        if unknown:
            raise SettingsError(f"{where}: unknown contract column(s) {unknown}; known: {known}")
        if "sql" in spec and ("file" in spec or table in mapping.get("files", {})):
            raise SettingsError(
                f"{where}: give either a file or sql, not both (the query names its files)"
            )
    file_names(mapping)


def sql_queries(mapping: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Table -> its query, for the tables ``[mapping.TABLE] sql = "SELECT ..."`` defines."""
    return {t: spec["sql"] for t, spec in mapping.items() if t != "files" and "sql" in spec}


def file_names(mapping: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Table -> extract file name given in ``[mapping.files]`` or ``[mapping.TABLE] file``."""
    names = dict(mapping.get("files", {}))
    for table, spec in mapping.items():
        if table != "files" and "file" in spec:
            if names.get(table, spec["file"]) != spec["file"]:
                raise SettingsError(
                    f"kamlab.toml: table {table} has two files: [mapping.files] {names[table]!r} "
                    f"and [mapping.{table}] file = {spec['file']!r}"
                )
            names[table] = spec["file"]
    return names


def table_formats(
    mapping: Mapping[str, Mapping[str, Any]], table: str, formats: FormatSettings
) -> FormatSettings:
    """`formats` ([formats] of kamlab.toml) with `table`'s own format keys over them."""
    spec = mapping.get(table, {})
    return dataclasses.replace(formats, **{k: spec[k] for k in _FORMAT_KEYS if k in spec})


def column_formats(
    mapping: Mapping[str, Mapping[str, Any]], table: str, formats: FormatSettings
) -> dict[str, FormatSettings]:
    """Contract column -> its formats, for the columns of `table` given their own in
    ``formats = {...}`` (a string is the column's date or month format); over the table's.

    >>> m = {"orders": {"date_format": "%d.%m.%Y", "formats": {"requested_date": "%Y%m%d"}}}
    >>> got = column_formats(m, "orders", FormatSettings())
    >>> got["requested_date"].date_format, table_formats(m, "orders", FormatSettings()).date_format
    ('%Y%m%d', '%d.%m.%Y')
    """
    base = table_formats(mapping, table, formats)
    out = {}
    for column, fmt in mapping.get(table, {}).get("formats", {}).items():
        if isinstance(fmt, str):
            key = (
                "period_format" if TABLES[table].column(column).dtype == "period" else "date_format"
            )
            fmt = {key: fmt}
        out[column] = dataclasses.replace(base, **fmt)
    return out


def distinct(mapping: Mapping[str, Mapping[str, Any]], table: str) -> bool:
    """Whether ``[mapping.TABLE] distinct = true``: keep one row per distinct combination of
    the table's contract columns (master data read from a transaction file)."""
    return bool(mapping.get(table, {}).get("distinct", False))


def apply_mapping(
    frame: pd.DataFrame, table: str, mapping: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Rename `frame`'s extract columns to contract names, add constants, recode values.

    Columns without a mapping keep their names (so extracts already in the contract's words
    need none). Returns a new frame; `frame` is not changed.

    >>> raw = pd.DataFrame({"KUNNR": ["0001"], "GBSTA": ["C"]})
    >>> spec = {"orders": {"KUNNR": "customer_id", "GBSTA": "status",
    ...                    "recode": {"status": {"C": "delivered"}},
    ...                    "constants": {"currency": "EUR"}}}
    >>> apply_mapping(raw, "orders", spec).to_dict("records")
    [{'customer_id': '0001', 'status': 'delivered', 'currency': 'EUR'}]
    """
    spec = mapping.get(table, {})
    if not spec:
        return frame
    columns: dict[str, pd.Series] = {}
    renamed = {source for source in spec if source not in _RESERVED}
    for name in frame.columns:
        if name in renamed:
            target = spec[name]
            for t in [target] if isinstance(target, str) else target:
                columns[t] = frame[name]
        elif name not in columns:
            columns[name] = frame[name]
    out = pd.DataFrame(columns, index=frame.index)
    for column, value in spec.get("constants", {}).items():
        out[column] = pd.Series(str(value), index=frame.index, dtype="str")
    for column, codes in spec.get("recode", {}).items():
        if column in out.columns:
            text = out[column].astype("str").str.strip().fillna("")
            out[column] = text.replace({str(k): str(v) for k, v in codes.items()})
    return out


SAP_EXAMPLE = """\
# kamlab.toml for extracts from a German SAP system (SE16N / ALV "Tabellenkalkulation" exports):
# dates 31.12.2024, numbers 1.234,56 (SAP writes negatives as 1.234,56-), ';' separated, cp1252.
# Italian systems: date_format = "%d/%m/%Y", the same decimal and thousands separators.
[formats]
date_format = "%d.%m.%Y"
decimal = ","
thousands = "."
csv_separator = ";"
encoding = "cp1252"
period_format = "%m.%Y"     # SAP SPMON months, e.g. 03.2025
blank_flag_false = true     # SAP flags: "X" = true, blank = false

[mapping.files]             # only where a file is not named after its table
customers = "KNA1.csv"
orders = "VBAP.csv"
deliveries = "LIPS.csv"
invoices = "BSID.csv"
payments = "BSAD.csv"

[mapping.customers]         # KNA1 / KNVV, plus CRM fields
KUNNR = "customer_id"
NAME1 = "name"
KAM = "account_manager"     # CRM: responsible key account manager
BZIRK = "region"            # sales district
BRSCH = "segment"           # industry
WAERS = "currency"
KLIMK = "credit_limit"      # credit limit (FD32 / UKM)
ZTERM = "payment_terms_days"
OTIF_ZIEL = "otif_target"   # CRM: SLA targets
FCA_ZIEL = "forecast_accuracy_target"
[mapping.customers.recode.payment_terms_days]   # payment-terms keys -> days net
Z030 = "30"
Z060 = "60"
Z090 = "90"

[mapping.materials]         # MARA / MAKT / MVKE
MATNR = "material_id"
MAKTX = "description"
PRODH = "product_family"    # product hierarchy
MSTAV = "lifecycle"         # distribution-chain status; your system's codes below
[mapping.materials.recode.lifecycle]
"" = "active"
Z1 = "phase-in"
Z9 = "phase-out"

[mapping.orders]            # VBAK / VBAP / VBEP
VBELN = "order_id"
POSNR = "line"
KUNNR = "customer_id"
MATNR = "material_id"
ERDAT = "order_date"
VDATU = "requested_date"    # requested delivery date
EDATU = "confirmed_date"    # first confirmed schedule line
KWMENG = "quantity"
NETWR = "net_value"
WAERK = "currency"
STATUS = "status"           # derived in the export: GBSTA, with ABGRU filled = cancelled
[mapping.orders.recode.status]
A = "open"
B = "open"
C = "delivered"
R = "cancelled"

[mapping.deliveries]        # LIKP / LIPS
VBELN = "delivery_id"
VGBEL = "order_id"          # preceding sales document
VGPOS = "line"
WADAT_IST = "delivered_date"   # actual goods-issue date
LFIMG = "delivered_quantity"
EXPRESS = "air_freight"     # flag, X = shipped by air

[mapping.invoices]          # BSID / BSAD customer line items (FBL5N)
BELNR = "document_id"
KUNNR = "customer_id"
BLART = "document_type"
BUDAT = "posting_date"
NETDT = "due_date"          # net due date (ZFBDT baseline + ZBD1T days)
WRBTR = "amount"
WAERS = "currency"
REBZG = "reference_document"   # invoice a credit note refers to
[mapping.invoices.recode.document_type]
RV = "invoice"
DR = "invoice"
DG = "credit_note"

[mapping.instalments]       # invoices with instalment terms: one line item per due date
BELNR = "document_id"
BUZEI = "instalment"        # line item 001, 002, ...
NETDT = "due_date"
WRBTR = "amount"

[mapping.payments]          # cleared items: clearing document = the payment
AUGBL = "payment_id"
BUZEI = "line"
KUNNR = "customer_id"
AUGDT = "payment_date"
WRBTR = "amount"
WAERS = "currency"
REBZG = "allocated_document"   # invoice cleared; empty = payment on account

[mapping.customer_forecasts]   # customer forecast (EDI DELFOR / upload table)
KUNNR = "customer_id"
MATNR = "material_id"
ERDAT = "snapshot_date"
SPMON = "period"
MENGE = "quantity"

[mapping.complaints]        # QMEL quality notifications
QMNUM = "complaint_id"
KUNUM = "customer_id"
MATNR = "material_id"
ERDAT = "opened_date"
QMDAB = "closed_date"
QMGRP = "category"          # code group
RKMNG = "rejected_quantity"

[mapping.budget]            # CO-PA / BW plan
KUNNR = "customer_id"
SPMON = "period"
PRODH = "product_family"
ABSMG = "planned_quantity"
ERLOS = "planned_revenue"
WAERS = "currency"

# --- supply tables ---
[mapping.stock]             # MARD per storage location summed to the plant (MMBE); customer
MATNR = "material_id"       # stock from MSKU carries KUNNR; cost from MBEW
WERKS = "plant"
STICHTAG = "snapshot_date"  # key date of the extract: add it to the export
KUNNR = "customer_id"       # MSKU only; empty for plant stock
LABST = "on_hand"           # unrestricted use
UMLME = "in_transit"        # stock in transfer
SPEME = "blocked"           # blocked (add INSME, quality inspection, in the export if wanted)
MENGE_OFFEN = "on_order"    # open purchase / production order quantity (MD04 receipts)
VERPR = "unit_cost"         # moving price per 1 unit (divide by MBEW-PEINH in the export)
WAERS = "currency"          # company-code currency (T001-WAERS)

[mapping.material_plan]     # MARC, plant data of the material
MATNR = "material_id"
WERKS = "plant"
PLIFZ = "lead_time_days"    # planned delivery time (in-house: DZEIT; add WEBAZ in the export)
EISBE = "safety_stock"
MINBE = "reorder_point"
BSTMI = "lot_size"          # minimum lot size
SOP_DATUM = "start_of_production"   # no standard field: NPI project date or a Z-field
AUSDT = "end_of_life"       # effective-out date (discontinuation)
NFMAT = "successor_material_id"     # follow-up material

[mapping.capacity]          # product allocation (MC94 / aATP allocation planning export)
MATNR = "material_id"
PRODH = "product_family"
SPMON = "period"
KUNNR = "customer_id"
ALLOC_MENGE = "allocated_quantity"
KAPAZITAET = "capacity"
"""
