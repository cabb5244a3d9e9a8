"""The receivables ledger as open items plus dated amount changes, built once per data set.

Every open item (an invoice or one of its instalments, a credit note or a payment line while
it is on account) gets an integer index; every change of an item's open amount is an *event*
``(item, date, delta)`` in integer cents. The open amount of item *i* as of *d* is then
``Σ delta`` over the events of *i* dated ≤ *d* (DOMAIN.md, "Receivables ageing"), so one as-of
date is a masked ``bincount`` and many month-ends are a walk along each item's step function.

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

import numpy as np
import pandas as pd

__all__: list[str] = []

ITEM_TYPES = ("invoice", "credit_note", "payment")


def days(values: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Dates as int64 days since 1970-01-01 (NaT -> int64 min)."""
    arr = np.asarray(pd.to_datetime(values)).astype("datetime64[D]")
    return arr.astype("int64")


def as_day(value: object) -> int:
    """One date as int64 days since 1970-01-01."""
    return int(pd.Timestamp(value).to_datetime64().astype("datetime64[D]").astype("int64"))


def cents(values: pd.Series) -> np.ndarray:
    return np.round(values.to_numpy(dtype="float64") * 100.0).astype("int64")


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A string column with empty strings read as missing."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    s = frame[column].astype("string")
    return s.mask(s.str.strip() == "")


def _optional(frame: pd.DataFrame, column: str, dtype: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NA if dtype == "Int64" else pd.NaT, index=frame.index, dtype=dtype)
    return frame[column].astype(dtype)


@dataclass(frozen=True)
class Ledger:
    """Items (one row each) and events (item, day, delta cents), plus the allocation pieces."""

    items: pd.DataFrame  # item_type, document_id, line, instalment, customer_id, currency,
    #                      posting_day, due_day, amount_cents (signed), group (customer x currency)
    groups: pd.DataFrame  # customer_id, currency per group code
    event_item: np.ndarray
    event_day: np.ndarray
    event_delta: np.ndarray
    pieces: pd.DataFrame  # allocation pieces: item, source, source_day, alloc_day, cents, pay_row
    notes: pd.DataFrame  # table, reason, rows: data treated specially (not dropped)


def build_ledger(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    instalments: pd.DataFrame | None = None,
) -> Ledger:
    """Items and events of the whole ledger (see the module docstring for the rules)."""
    is_inv = invoices["document_type"].astype("string") == "invoice"
    inv = invoices.loc[is_inv]
    cn = invoices.loc[~is_inv]
    notes: list[tuple[str, str, int]] = []

    # --- invoice items (one per instalment where instalments are given) --------------------
    inv_doc = inv["document_id"].astype("string").reset_index(drop=True)
    inv_frame = pd.DataFrame(
        {
            "document_id": inv_doc,
            "customer_id": inv["customer_id"].astype("string").to_numpy(),
            "currency": inv["currency"].astype("string").to_numpy(),
            "posting_day": days(inv["posting_date"]),
            "due_day": days(inv["due_date"]),
            "amount_cents": cents(inv["amount"]),
        }
    )
    split = pd.Series(False, index=inv_frame.index)
    inst_items = inv_frame.iloc[:0]
    if instalments is not None and len(instalments):
        ins = pd.DataFrame(
            {
                "document_id": instalments["document_id"].astype("string").to_numpy(),
                "instalment": instalments["instalment"].astype("Int64").to_numpy(),
                "due_day": days(instalments["due_date"]),
                "amount_cents": cents(instalments["amount"]),
            }
        )
        known = ins["document_id"].isin(inv_doc)
        if (~known).any():
            notes.append(
                ("instalments", "invoice not found: instalment ignored", int((~known).sum()))
            )
        ins = ins.loc[known]
        split = inv_frame["document_id"].isin(ins["document_id"])
        head = inv_frame.loc[split, ["document_id", "customer_id", "currency", "posting_day"]]
        inst_items = ins.merge(head, on="document_id", how="inner")
    whole = inv_frame.loc[~split].assign(
        instalment=pd.array([pd.NA] * int((~split).sum()), "Int64")
    )
    inv_items = pd.concat([whole, inst_items], ignore_index=True)
    inv_items = inv_items.sort_values(
        ["document_id", "due_day", "instalment"], na_position="first", ignore_index=True
    )
    inv_items["item_type"] = "invoice"
    inv_items["line"] = pd.array([pd.NA] * len(inv_items), "Int64")

    # --- allocations: payment lines and credit notes --------------------------------------
    pay = pd.DataFrame(
        {
            "source": "payment",
            "document_id": payments["payment_id"].astype("string").to_numpy(),
            "line": payments["line"].astype("Int64").to_numpy(),
            "customer_id": payments["customer_id"].astype("string").to_numpy(),
            "currency": payments["currency"].astype("string").to_numpy(),
            "source_day": days(payments["payment_date"]),
            "cents": cents(payments["amount"]),
            "target": _text(payments, "allocated_document").to_numpy(),
            "given_day": days(_optional(payments, "allocation_date", "datetime64[ns]")),
            "named": _optional(payments, "instalment", "Int64").to_numpy(),
        }
    )
    pay["pay_row"] = np.arange(len(pay), dtype="int64")
    crn = pd.DataFrame(
        {
            "source": "credit_note",
            "document_id": cn["document_id"].astype("string").to_numpy(),
            "line": pd.array([pd.NA] * len(cn), "Int64"),
            "customer_id": cn["customer_id"].astype("string").to_numpy(),
            "currency": cn["currency"].astype("string").to_numpy(),
            "source_day": days(cn["posting_date"]),
            "due_day": days(cn["due_date"]),
            "cents": cents(cn["amount"]),
            "target": _text(cn, "reference_document").to_numpy(),
            "given_day": days(_optional(cn, "allocation_date", "datetime64[ns]")),
            "named": _optional(cn, "reference_instalment", "Int64").to_numpy(),
        }
    )
    crn["pay_row"] = np.int64(-1)
    pay["due_day"] = pay["source_day"]
    src = pd.concat([pay, crn], ignore_index=True)
    src["src_row"] = np.arange(len(src), dtype="int64")

    posting = pd.Series(inv_frame["posting_day"].to_numpy(), index=inv_frame["document_id"])
    target_posting = src["target"].map(posting)
    unknown = src["target"].notna() & target_posting.isna()
    if unknown.any():
        notes.append(
            (
                "payments/invoices",
                "allocated document not found: kept on account",
                int(unknown.sum()),
            )
        )
    allocated = src["target"].notna() & ~unknown
    nat = np.iinfo("int64").min
    given = src["given_day"].to_numpy()
    default = np.maximum(src["source_day"].to_numpy(), target_posting.fillna(nat).to_numpy("int64"))
    alloc_day = np.where(given == nat, default, np.maximum(given, default))
    never = np.iinfo("int64").max
    src["alloc_day"] = np.where(allocated.to_numpy(), alloc_day, never)
    src["allocated"] = allocated.to_numpy()

    # --- source items: on account from their own date until allocated --------------------
    on_account = src["alloc_day"].to_numpy() > src["source_day"].to_numpy()
    src_items = src.loc[on_account].copy()
    src_items["item_type"] = src_items["source"]
    src_items["posting_day"] = src_items["source_day"]
    src_items["amount_cents"] = -src_items["cents"]
    src_items["instalment"] = pd.array([pd.NA] * len(src_items), "Int64")

    cols = [
        "item_type",
        "document_id",
        "line",
        "instalment",
        "customer_id",
        "currency",
        "posting_day",
        "due_day",
        "amount_cents",
    ]
    items = pd.concat([inv_items[cols], src_items[cols]], ignore_index=True)
    codes, uniques = pd.MultiIndex.from_frame(items[["customer_id", "currency"]]).factorize()
    items["group"] = codes.astype("int64")
    groups = uniques.to_frame(index=False, name=["customer_id", "currency"])
    n_inv = len(inv_items)
    src_item = np.full(len(src), -1, dtype="int64")
    src_item[on_account] = n_inv + np.arange(int(on_account.sum()))

    # --- allocation pieces on invoice items -----------------------------------------------
    alloc = src.loc[allocated.to_numpy()]
    first_item = (
        pd.Series(np.arange(n_inv), index=inv_items["document_id"]).groupby(level=0).first()
    )
    plain = alloc.loc[~alloc["target"].isin(inst_items["document_id"])]
    pieces = [
        pd.DataFrame(
            {
                "item": plain["target"].map(first_item).to_numpy("int64"),
                "src_row": plain["src_row"].to_numpy(),
                "cents": plain["cents"].to_numpy(),
            }
        )
    ]
    multi = alloc.loc[alloc["target"].isin(inst_items["document_id"])]
    if len(multi):
        pieces.append(_instalment_pieces(multi, inv_items, notes))
    piece = pd.concat(pieces, ignore_index=True)
    info = src.set_index("src_row")
    piece["source"] = info["source"].to_numpy()[piece["src_row"].to_numpy()]
    piece["source_day"] = info["source_day"].to_numpy()[piece["src_row"].to_numpy()]
    piece["alloc_day"] = info["alloc_day"].to_numpy()[piece["src_row"].to_numpy()]
    piece["pay_row"] = info["pay_row"].to_numpy()[piece["src_row"].to_numpy()]

    # --- events ---------------------------------------------------------------------------
    clear = src_item >= 0
    clear &= src["allocated"].to_numpy()
    event_item = np.concatenate(
        [np.arange(len(items), dtype="int64"), piece["item"].to_numpy("int64"), src_item[clear]]
    )
    event_day = np.concatenate(
        [
            items["posting_day"].to_numpy("int64"),
            piece["alloc_day"].to_numpy("int64"),
            src["alloc_day"].to_numpy("int64")[clear],
        ]
    )
    event_delta = np.concatenate(
        [
            items["amount_cents"].to_numpy("int64"),
            -piece["cents"].to_numpy("int64"),
            src["cents"].to_numpy("int64")[clear],
        ]
    )
    note_frame = pd.DataFrame(notes, columns=["table", "reason", "rows"])
    return Ledger(
        items=items,
        groups=groups,
        event_item=event_item,
        event_day=event_day,
        event_delta=event_delta,
        pieces=piece,
        notes=note_frame,
    )


def _instalment_pieces(
    alloc: pd.DataFrame, inv_items: pd.DataFrame, notes: list[tuple[str, str, int]]
) -> pd.DataFrame:
    """Split allocations to invoices with instalments into per-instalment pieces."""
    inst = inv_items.loc[inv_items["document_id"].isin(alloc["target"])].copy()
    inst["item"] = inst.index.to_numpy("int64")
    key = inst.set_index(["document_id", "instalment"])["item"]
    named_idx = pd.MultiIndex.from_arrays([alloc["target"], alloc["named"]])
    named_item = pd.Series(key.reindex(named_idx).to_numpy(), index=alloc.index)
    bad = alloc["named"].notna() & named_item.isna()
    if bad.any():
        notes.append(
            (
                "payments/invoices",
                "instalment not found: applied earliest due first",
                int(bad.sum()),
            )
        )
    named = alloc.loc[named_item.notna()]
    out = [
        pd.DataFrame(
            {
                "item": named_item.loc[named.index].to_numpy("int64"),
                "src_row": named["src_row"].to_numpy(),
                "cents": named["cents"].to_numpy(),
            }
        )
    ]
    free = alloc.loc[named_item.isna()].sort_values(
        ["target", "alloc_day", "source_day", "src_row"]
    )
    if len(free):
        reserved = pd.Series(
            named["cents"].to_numpy(), index=named_item.loc[named.index].astype("int64")
        )
        reserved = reserved.groupby(level=0).sum()
        cap = (inst["amount_cents"] - inst["item"].map(reserved).fillna(0)).clip(lower=0)
        inst["upper"] = cap.groupby(inst["document_id"]).cumsum()
        inst["lower"] = inst["upper"] - cap
        last = ~inst["document_id"].duplicated(keep="last")
        inst.loc[last, "upper"] = np.inf
        free = free.assign(c_hi=free.groupby("target")["cents"].cumsum())
        free["c_lo"] = free["c_hi"] - free["cents"]
        cross = free[["target", "src_row", "c_lo", "c_hi"]].merge(
            inst[["document_id", "item", "lower", "upper"]],
            left_on="target",
            right_on="document_id",
        )
        part = np.minimum(cross["c_hi"], cross["upper"]) - np.maximum(cross["c_lo"], cross["lower"])
        cross = cross.assign(cents=np.round(part).astype("int64"))
        cross = cross.loc[cross["cents"] > 0]
        out.append(cross[["item", "src_row", "cents"]])
    return pd.concat(out, ignore_index=True)
