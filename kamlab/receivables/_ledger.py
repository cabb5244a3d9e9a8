"""The receivables ledger as open items plus dated amount changes, built once per data set.

Every open item (an invoice or one of its instalments, a credit note or a payment line while
it is on account) gets an integer index; every change of an item's open amount is an *event*
``(item, day, delta)`` in integer cents. The open amount of item *i* as of *d* is then
``Σ delta`` over the events of *i* dated ≤ *d* (DOMAIN.md, "Receivables ageing"), so one as-of
date is a masked ``bincount`` and many month-ends are a walk along each item's step function.
Strings (ids, customers, currencies) are factorised once; everything after is integer arrays,
and strings are looked up again only for the rows a result shows.

Rules (DOMAIN.md):
- an invoice item starts at its posting date with +amount;
- an allocation (payment line or credit note naming an invoice) takes −amount off the invoice
  at its allocation date: the given ``allocation_date``, default the later of the source's date
  (payment_date / credit-note posting_date) and the invoice's posting date; a given date earlier
  than either is moved up to the later of them (nothing is cleared before it exists);
- the payment line or credit note is itself a negative item from its own date until the
  allocation date (for ever when it names no invoice): "on account";
- instalments: an allocation naming an instalment goes to it; one naming none fills the
  instalments' remaining capacity (amount − named allocations) earliest-due first, in order of
  allocation date; anything beyond the last instalment stays on it (shown as overpaid).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute

__all__: list[str] = []

ITEM_TYPES = np.array(["invoice", "credit_note", "payment"], dtype=object)
INVOICE, CREDIT_NOTE, PAYMENT = 0, 1, 2
NAT = np.iinfo("int64").min
NEVER = np.iinfo("int64").max


def days(values: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Dates as int64 days since 1970-01-01 (NaT -> int64 min)."""
    arr = np.asarray(pd.to_datetime(values)).astype("datetime64[D]")
    return arr.astype("int64")


def as_day(value: object) -> int:
    """One date as int64 days since 1970-01-01."""
    return int(pd.Timestamp(value).to_datetime64().astype("datetime64[D]").astype("int64"))


def to_dates(day: np.ndarray) -> np.ndarray:
    """int64 days back to datetime64[s]."""
    return np.asarray(day, dtype="int64").astype("datetime64[D]").astype("datetime64[s]")


def cents(values: pd.Series) -> np.ndarray:
    return np.round(values.to_numpy(dtype="float64") * 100.0).astype("int64")


def _column(frame: pd.DataFrame, column: str) -> pd.Series:
    """An optional string column (absent: all missing)."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column]


def factorize(*columns: pd.Series) -> list[np.ndarray]:
    """Integer codes of strings, shared across `columns` (equal strings, equal codes).

    Missing and empty strings get -1. Hashing a million distinct ids costs about a second;
    instead each string's bytes are gathered from the Arrow buffers into zero-padded 8-byte
    words and the words are factorised as integers one after the other (plus the length when
    a string holds a NUL byte). Exact: no hash collisions. Strings longer than 64 bytes fall
    back to ``pd.factorize``.
    """
    parts = [_bytes(c) for c in columns]
    if any(p is None for p in parts):
        joined = pd.concat([c.astype("string") for c in columns], ignore_index=True)
        codes = pd.factorize(joined.mask(joined == ""))[0].astype("int64")
        return np.split(codes, np.cumsum([len(c) for c in columns])[:-1])
    width = max(p[0].shape[1] for p in parts)
    words = np.vstack([np.pad(w, ((0, 0), (0, width - w.shape[1]))) for w, _, _, _ in parts])
    lengths = np.concatenate([p[1] for p in parts])
    missing = np.concatenate([p[2] for p in parts])
    present = np.flatnonzero(~missing)
    words, lengths = words[present], lengths[present]
    codes = pd.factorize(words[:, 0])[0].astype("int64")
    extra = [words[:, j] for j in range(1, width)]
    if any(p[3] for p in parts):
        extra.append(lengths)
    for column in extra:
        step = pd.factorize(column)[0].astype("int64")
        codes = pd.factorize(codes * (int(step.max(initial=0)) + 1) + step)[0].astype("int64")
    out = np.full(len(missing), -1, dtype="int64")
    out[present] = codes
    return np.split(out, np.cumsum([len(c) for c in columns])[:-1])


def _bytes(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool] | None:
    """(n, k) big-endian uint64 words of the zero-padded bytes, lengths, missing-or-empty
    mask, and whether any string holds a NUL byte; None for strings over 64 bytes."""
    arr = pa.chunked_array(pa.array(column.astype("string[pyarrow]").array)).combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype="int64")[arr.offset : arr.offset + n + 1]
    lengths = np.diff(offsets)
    width = -(-int(lengths.max(initial=0)) // 8) * 8
    if width > 64:
        return None
    data = arr.buffers()[2]
    data = np.frombuffer(data, dtype="uint8") if data is not None else np.zeros(0, "uint8")
    data = np.append(data, np.uint8(0))  # a safe index for positions past a string's end
    padded = np.zeros((n, max(width, 8)), dtype="uint8")
    nul = False
    start, last = offsets[:-1], len(data) - 1
    for j in range(width):  # one vectorised pass per byte position, not per string
        inside = lengths > j
        byte = data[np.where(inside, start + j, last)]
        nul |= bool((inside & (byte == 0)).any())
        padded[:, j] = byte
    missing = lengths == 0
    if arr.null_count:
        missing |= arr.is_null().to_numpy(zero_copy_only=False)
    return padded.view(">u8").astype("uint64"), lengths, missing, nul


def _optional_days(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), NAT, dtype="int64")
    return days(frame[column])


def _optional_int(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Instalment numbers as int64, 0 = none."""
    if column not in frame:
        return np.zeros(len(frame), dtype="int64")
    return frame[column].astype("Float64").fillna(0).to_numpy("float64").astype("int64")


@dataclass(frozen=True)
class Ledger:
    """Items and events in integer arrays, plus references to the caller's frames."""

    items: dict[str, np.ndarray]  # kind, row, instalment (0 = none), posting_day, due_day,
    #                      amount_cents (signed); row = position in invoices / payments
    event_item: np.ndarray
    event_day: np.ndarray
    event_delta: np.ndarray
    pieces: dict[str, np.ndarray]  # item, kind (source), source_row, source_day, alloc_day, cents
    invoices: pd.DataFrame
    payments: pd.DataFrame
    notes: pd.DataFrame  # table, reason, rows: data treated specially (nothing is dropped)

    @cached_property
    def _grouping(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """Customer x currency group codes, computed on first use (a single as-of list of
        open items never needs them: it reads its few rows' names directly)."""
        n_doc = len(self.invoices)
        on_pay = self.items["kind"] == PAYMENT
        pay_rows = self.payments.iloc[self.items["row"][on_pay]]
        cust = np.concatenate(factorize(self.invoices["customer_id"], pay_rows["customer_id"]))
        cur = np.concatenate(factorize(self.invoices["currency"], pay_rows["currency"]))
        width = int(cur.max(initial=0)) + 2
        group = pd.factorize((cust + 1) * width + cur + 1)[0].astype("int64")
        first = np.full(int(group.max(initial=-1)) + 1, len(group), dtype="int64")
        np.minimum.at(first, group, np.arange(len(group)))
        from_doc = first < n_doc

        def names(column: str) -> pd.arrays.ArrowStringArray:
            out = pd.Series(pd.NA, index=range(len(first)), dtype="string")
            out.iloc[np.flatnonzero(from_doc)] = (
                self.invoices[column].astype("string").iloc[first[from_doc]].to_numpy()
            )
            out.iloc[np.flatnonzero(~from_doc)] = (
                pay_rows[column].astype("string").iloc[first[~from_doc] - n_doc].to_numpy()
            )
            return out.array

        groups = pd.DataFrame({"customer_id": names("customer_id"), "currency": names("currency")})
        doc_group = group[:n_doc]
        item_group = np.empty(len(on_pay), dtype="int64")
        item_group[~on_pay] = doc_group[self.items["row"][~on_pay]]
        item_group[on_pay] = group[n_doc:]
        return groups, doc_group, item_group

    @property
    def groups(self) -> pd.DataFrame:
        """customer_id, currency of each group code."""
        return self._grouping[0]

    @property
    def doc_group(self) -> np.ndarray:
        """Group code of each invoices row."""
        return self._grouping[1]

    @property
    def item_group(self) -> np.ndarray:
        """Group code of each item."""
        return self._grouping[2]

    @property
    def n_items(self) -> int:
        return len(self.items["kind"])

    def labels(self, index: np.ndarray) -> pd.DataFrame:
        """customer_id, currency, item_type, document_id, line, instalment of items `index`."""
        items = {name: values[index] for name, values in self.items.items()}
        kind = items["kind"]
        row = items["row"]
        on_pay = kind == PAYMENT
        doc = pd.Series(pd.NA, index=range(len(kind)), dtype="string")
        doc.iloc[np.flatnonzero(~on_pay)] = (
            self.invoices["document_id"].astype("string").iloc[row[~on_pay]].to_numpy()
        )
        doc.iloc[np.flatnonzero(on_pay)] = (
            self.payments["payment_id"].astype("string").iloc[row[on_pay]].to_numpy()
        )
        line = pd.array(np.full(len(kind), pd.NA), dtype="Int64")
        if on_pay.any():
            line[on_pay] = self.payments["line"].to_numpy("int64")[row[on_pay]]
        instalment = pd.array(items["instalment"], dtype="Int64")
        instalment[items["instalment"] == 0] = pd.NA

        def from_frames(column: str) -> pd.arrays.ArrowStringArray:
            out = pd.Series(pd.NA, index=range(len(kind)), dtype="string")
            out.iloc[np.flatnonzero(~on_pay)] = (
                self.invoices[column].astype("string").iloc[row[~on_pay]].to_numpy()
            )
            out.iloc[np.flatnonzero(on_pay)] = (
                self.payments[column].astype("string").iloc[row[on_pay]].to_numpy()
            )
            return out.array

        return pd.DataFrame(
            {
                "customer_id": from_frames("customer_id"),
                "currency": from_frames("currency"),
                "item_type": pd.array(ITEM_TYPES[kind], dtype="string"),
                "document_id": doc.array,
                "line": line,
                "instalment": instalment,
            }
        )


def build_ledger(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    instalments: pd.DataFrame | None = None,
) -> Ledger:
    """Items and events of the whole ledger (see the module docstring for the rules)."""
    notes: list[tuple[str, str, int]] = []
    n_doc, n_pay = len(invoices), len(payments)
    if instalments is None:
        instalments = pd.DataFrame(
            {
                "document_id": pd.Series(dtype="string"),
                "instalment": [],
                "due_date": [],
                "amount": [],
            }
        )
    is_inv = (invoices["document_type"].astype("string") == "invoice").fillna(False).to_numpy(bool)

    # --- one factorisation of every document reference (the costly step) -----------------
    doc_codes, pay_codes, cn_codes, ins_codes = factorize(
        invoices["document_id"],
        _column(payments, "allocated_document"),
        _column(invoices, "reference_document"),
        instalments["document_id"],
    )
    row_of = np.full(int(doc_codes.max(initial=-1)) + 2, n_doc, dtype="int64")
    row_of[doc_codes] = np.arange(n_doc)
    row_of[-1] = n_doc  # code -1: no reference
    row_of = np.where(np.append(is_inv, False)[row_of], row_of, -1)  # must name an invoice

    def target(codes: np.ndarray) -> np.ndarray:
        known = (codes >= 0) & (codes < len(row_of) - 1)
        return np.where(known, row_of[np.where(known, codes, -1)], -1)

    pay_has = pay_codes >= 0
    cn_has = (cn_codes >= 0) & ~is_inv
    pay_target = target(pay_codes)
    cn_target = np.where(cn_has, target(cn_codes), -1)
    ins_row = target(ins_codes)

    # --- invoice items (one per instalment where instalments are given) --------------------
    posting = days(invoices["posting_date"])
    due = days(invoices["due_date"])
    doc_cents = cents(invoices["amount"])
    bad_ins = ins_row < 0
    if bad_ins.any():
        notes.append(("instalments", "invoice not found: instalment ignored", int(bad_ins.sum())))
    split = np.zeros(n_doc, dtype=bool)
    split[ins_row[~bad_ins]] = True
    plain = np.flatnonzero(is_inv & ~split)
    i_row = ins_row[~bad_ins]
    i_no = _optional_int(instalments, "instalment")[~bad_ins]
    i_due = days(instalments["due_date"])[~bad_ins]
    i_cents = cents(instalments["amount"])[~bad_ins]
    order = np.lexsort((i_no, i_due, i_row))
    i_row, i_no, i_due, i_cents = i_row[order], i_no[order], i_due[order], i_cents[order]
    n_plain, n_inst = len(plain), len(i_row)
    inv_item = np.full(n_doc, -1, dtype="int64")
    inv_item[plain] = np.arange(n_plain)

    # --- sources: payment lines and credit notes --------------------------------------------
    cn_rows = np.flatnonzero(~is_inv)
    src_kind = np.concatenate([np.full(n_pay, PAYMENT), np.full(len(cn_rows), CREDIT_NOTE)])
    src_row = np.concatenate([np.arange(n_pay), cn_rows]).astype("int64")
    src_day = np.concatenate([days(payments["payment_date"]), posting[cn_rows]])
    src_due = np.concatenate([src_day[:n_pay], due[cn_rows]])
    src_cents = np.concatenate([cents(payments["amount"]), doc_cents[cn_rows]])
    src_target = np.concatenate([pay_target, cn_target[cn_rows]])
    src_given = np.concatenate(
        [
            _optional_days(payments, "allocation_date"),
            _optional_days(invoices, "allocation_date")[cn_rows],
        ]
    )
    src_named = np.concatenate(
        [
            _optional_int(payments, "instalment"),
            _optional_int(invoices, "reference_instalment")[cn_rows],
        ]
    )
    named_ref = np.concatenate([pay_has, cn_has[cn_rows]])
    unknown = named_ref & (src_target < 0)
    if unknown.any():
        notes.append(
            (
                "payments/invoices",
                "allocated document not found: kept on account",
                int(unknown.sum()),
            )
        )
    allocated = src_target >= 0
    default = np.maximum(src_day, np.append(posting, NAT)[np.where(allocated, src_target, n_doc)])
    alloc_day = np.where(src_given == NAT, default, np.maximum(src_given, default))
    alloc_day = np.where(allocated, alloc_day, NEVER)
    on_account = alloc_day > src_day
    acc = np.flatnonzero(on_account)

    # --- the items table ----------------------------------------------------------------------
    items = dict(
        {
            "kind": np.concatenate([np.full(n_plain + n_inst, INVOICE), src_kind[acc]]).astype(
                "int64"
            ),
            "row": np.concatenate([plain, i_row, src_row[acc]]),
            "instalment": np.concatenate(
                [np.zeros(n_plain, "int64"), i_no, np.zeros(len(acc), "int64")]
            ),
            "posting_day": np.concatenate([posting[plain], posting[i_row], src_day[acc]]),
            "due_day": np.concatenate([due[plain], i_due, src_due[acc]]),
            "amount_cents": np.concatenate([doc_cents[plain], i_cents, -src_cents[acc]]),
        }
    )
    src_item = np.full(len(src_kind), -1, dtype="int64")
    src_item[acc] = n_plain + n_inst + np.arange(len(acc))

    # --- allocation pieces on invoice items -----------------------------------------------
    alloc_idx = np.flatnonzero(allocated)
    to_plain = alloc_idx[inv_item[src_target[alloc_idx]] >= 0]
    piece_src = [to_plain]
    piece_item = [inv_item[src_target[to_plain]]]
    piece_cents = [src_cents[to_plain]]
    to_split = alloc_idx[inv_item[src_target[alloc_idx]] < 0]
    if len(to_split):
        s, it, c = _instalment_pieces(
            to_split,
            src_target[to_split],
            src_named[to_split],
            src_cents[to_split],
            alloc_day[to_split],
            src_day[to_split],
            inst_rows=i_row,
            inst_no=i_no,
            inst_cents=i_cents,
            first_item=n_plain,
            notes=notes,
        )
        piece_src.append(s)
        piece_item.append(it)
        piece_cents.append(c)
    p_src = np.concatenate(piece_src)
    pieces = dict(
        {
            "item": np.concatenate(piece_item),
            "kind": src_kind[p_src],
            "source_row": src_row[p_src],
            "source_day": src_day[p_src],
            "alloc_day": alloc_day[p_src],
            "cents": np.concatenate(piece_cents),
        }
    )

    # --- events ---------------------------------------------------------------------------
    clear = acc[allocated[acc]]
    event_item = np.concatenate(
        [np.arange(len(items["kind"]), dtype="int64"), pieces["item"], src_item[clear]]
    )
    event_day = np.concatenate([items["posting_day"], pieces["alloc_day"], alloc_day[clear]])
    event_delta = np.concatenate([items["amount_cents"], -pieces["cents"], src_cents[clear]])
    return Ledger(
        items=items,
        event_item=event_item,
        event_day=event_day,
        event_delta=event_delta,
        pieces=pieces,
        invoices=invoices,
        payments=payments,
        notes=pd.DataFrame(notes, columns=["table", "reason", "rows"]),
    )


def _instalment_pieces(
    src: np.ndarray,
    target_row: np.ndarray,
    named: np.ndarray,
    amount: np.ndarray,
    alloc_day: np.ndarray,
    source_day: np.ndarray,
    *,
    inst_rows: np.ndarray,
    inst_no: np.ndarray,
    inst_cents: np.ndarray,
    first_item: int,
    notes: list[tuple[str, str, int]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split allocations to invoices with instalments into (source, item, cents) pieces."""
    inst = pd.DataFrame(
        {
            "row": inst_rows,
            "instalment": inst_no,
            "cents": inst_cents,
            "item": first_item + np.arange(len(inst_rows)),
        }
    )
    alloc = pd.DataFrame(
        {
            "src": src,
            "row": target_row,
            "instalment": named,
            "cents": amount,
            "alloc_day": alloc_day,
            "source_day": source_day,
        }
    )
    hit = alloc.merge(inst[["row", "instalment", "item"]], on=["row", "instalment"], how="left")
    found = hit["item"].notna().to_numpy()
    bad = (alloc["instalment"].to_numpy() > 0) & ~found
    if bad.any():
        notes.append(
            (
                "payments/invoices",
                "instalment not found: applied earliest due first",
                int(bad.sum()),
            )
        )
    named_hit = hit.loc[found]
    out_src = [named_hit["src"].to_numpy()]
    out_item = [named_hit["item"].to_numpy("int64")]
    out_cents = [named_hit["cents"].to_numpy()]
    free = alloc.loc[~found].sort_values(["row", "alloc_day", "source_day", "src"])
    if len(free):
        reserved = named_hit.groupby("item")["cents"].sum()
        cap = (inst["cents"] - inst["item"].map(reserved).fillna(0)).clip(lower=0)
        inst["upper"] = cap.groupby(inst["row"]).cumsum().astype("float64")
        inst["lower"] = inst["upper"] - cap
        last = ~inst["row"].duplicated(keep="last")
        inst.loc[last, "upper"] = np.inf
        free = free.assign(c_hi=free.groupby("row")["cents"].cumsum())
        free["c_lo"] = free["c_hi"] - free["cents"]
        cross = free[["row", "src", "c_lo", "c_hi"]].merge(
            inst[["row", "item", "lower", "upper"]], on="row"
        )
        part = np.minimum(cross["c_hi"], cross["upper"]) - np.maximum(cross["c_lo"], cross["lower"])
        part = np.round(part.to_numpy("float64")).astype("int64")
        keep = part > 0
        out_src.append(cross["src"].to_numpy()[keep])
        out_item.append(cross["item"].to_numpy("int64")[keep])
        out_cents.append(part[keep])
    return np.concatenate(out_src), np.concatenate(out_item), np.concatenate(out_cents)
