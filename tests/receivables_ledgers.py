"""Small ledger builders and a seeded random ledger shared by the receivables tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import SHARED_DATA


def invoices(*rows: tuple) -> pd.DataFrame:
    """rows: (document_id, customer_id, type, posting, due, amount, currency, reference[, allocation_date])."""
    cols = [
        "document_id",
        "customer_id",
        "document_type",
        "posting_date",
        "due_date",
        "amount",
        "currency",
        "reference_document",
        "allocation_date",
    ]
    rows = [tuple(r) + (None,) * (len(cols) - len(r)) for r in rows]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("posting_date", "due_date", "allocation_date"):
        frame[c] = pd.to_datetime(frame[c])
    for c in ("document_id", "customer_id", "document_type", "currency", "reference_document"):
        frame[c] = frame[c].astype("string")
    frame["amount"] = frame["amount"].astype("float64")
    return frame


def payments(*rows: tuple) -> pd.DataFrame:
    """rows: (payment_id, line, customer_id, date, amount, currency, allocated[, allocation_date[, instalment]])."""
    cols = [
        "payment_id",
        "line",
        "customer_id",
        "payment_date",
        "amount",
        "currency",
        "allocated_document",
        "allocation_date",
        "instalment",
    ]
    rows = [tuple(r) + (None,) * (len(cols) - len(r)) for r in rows]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("payment_date", "allocation_date"):
        frame[c] = pd.to_datetime(frame[c])
    for c in ("payment_id", "customer_id", "currency", "allocated_document"):
        frame[c] = frame[c].astype("string")
    frame["line"] = frame["line"].astype("int64")
    frame["amount"] = frame["amount"].astype("float64")
    frame["instalment"] = frame["instalment"].astype("Int64")
    return frame


def no_payments() -> pd.DataFrame:
    return payments(("X", 1, "C", "2000-01-01", 1.0, "EUR", None)).iloc[:0]


def random_ledger(
    n_invoices: int,
    *,
    customers: int = 20,
    seed: int = 0,
    start: str = "2022-01-01",
    days: int = 720,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A seeded ledger with every case mixed in: partial, late, early, on-account payments,
    credit notes against invoices and on account, instalments, two currencies.

    Returns (invoices, payments, instalments)."""
    rng = np.random.default_rng(seed)
    n = n_invoices
    cust = rng.integers(0, customers, n)
    currency = np.where(cust % 4 == 0, "USD", "EUR")
    posting = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D")
    terms = rng.choice([0, 14, 30, 60], n)
    due = posting + pd.to_timedelta(terms, unit="D")
    amount = np.round(rng.uniform(10, 1000, n), 2)
    doc = np.array([f"I{i:06d}" for i in range(n)])
    inv = pd.DataFrame(
        {
            "document_id": doc,
            "customer_id": [f"C{c:03d}" for c in cust],
            "document_type": "invoice",
            "posting_date": posting,
            "due_date": due,
            "amount": amount,
            "currency": currency,
            "reference_document": pd.NA,
            "allocation_date": pd.NaT,
        }
    )
    # credit notes: against a random invoice (some allocated later), and some on account
    k = max(n // 10, 2)
    pick = rng.integers(0, n, k)
    cn_post = posting[pick] + pd.to_timedelta(rng.integers(-20, 60, k), unit="D")
    on_account = rng.random(k) < 0.3
    later = rng.random(k) < 0.3
    cn = pd.DataFrame(
        {
            "document_id": [f"K{i:06d}" for i in range(k)],
            "customer_id": inv["customer_id"].to_numpy()[pick],
            "document_type": "credit_note",
            "posting_date": cn_post,
            "due_date": cn_post,
            "amount": np.round(amount[pick] * rng.uniform(0.05, 0.5, k), 2),
            "currency": currency[pick],
            "reference_document": np.where(on_account, None, doc[pick]),
            "allocation_date": np.where(
                later & ~on_account,
                np.maximum(cn_post, posting[pick]) + pd.to_timedelta(15, unit="D"),
                pd.NaT,
            ),
        }
    )
    inv = pd.concat([inv, cn], ignore_index=True)
    for c in ("document_id", "customer_id", "document_type", "currency", "reference_document"):
        inv[c] = inv[c].astype("string")
    inv["allocation_date"] = pd.to_datetime(inv["allocation_date"])

    # instalments for every 7th invoice: 30 % at due, 70 % at due + 30 days
    with_inst = np.arange(0, n, 7)
    first = np.round(amount[with_inst] * 0.3, 2)
    inst = pd.DataFrame(
        {
            "document_id": np.concatenate([doc[with_inst], doc[with_inst]]),
            "instalment": np.concatenate(
                [np.ones(len(with_inst)), np.full(len(with_inst), 2)]
            ).astype("int64"),
            "due_date": np.concatenate(
                [due[with_inst], due[with_inst] + pd.to_timedelta(30, unit="D")]
            ),
            "amount": np.concatenate([first, np.round(amount[with_inst] - first, 2)]),
        }
    )
    # payments: 85 % of invoices paid, some in two parts, some early (cleared later), some over
    paid = rng.random(n) < 0.85
    idx = np.flatnonzero(paid)
    delay = rng.integers(-40, 150, len(idx))
    pay_date = due[idx] + pd.to_timedelta(delay, unit="D")
    two = rng.random(len(idx)) < 0.3
    share = np.where(two, np.round(rng.uniform(0.2, 0.8, len(idx)), 2), 1.0)
    part1 = np.round(amount[idx] * share, 2)
    over = rng.random(len(idx)) < 0.03
    part1 = np.where(over & ~two, part1 + 5.0, part1)
    alloc = np.where(rng.random(len(idx)) < 0.2, pay_date + pd.to_timedelta(10, unit="D"), pd.NaT)
    p1 = pd.DataFrame(
        {
            "payment_id": [f"P{i:06d}" for i in idx],
            "line": 1,
            "customer_id": inv["customer_id"].to_numpy()[idx],
            "payment_date": pay_date,
            "amount": part1,
            "currency": currency[idx],
            "allocated_document": doc[idx],
            "allocation_date": pd.to_datetime(alloc),
        }
    )
    j = idx[two]
    p2 = pd.DataFrame(
        {
            "payment_id": [f"Q{i:06d}" for i in j],
            "line": 1,
            "customer_id": inv["customer_id"].to_numpy()[j],
            "payment_date": pay_date[two] + pd.to_timedelta(rng.integers(1, 60, len(j)), unit="D"),
            "amount": np.round(amount[j] - part1[two], 2),
            "currency": currency[j],
            "allocated_document": doc[j],
            "allocation_date": pd.NaT,
        }
    )
    m = max(n // 20, 2)
    who = rng.integers(0, n, m)
    p3 = pd.DataFrame(
        {
            "payment_id": [f"A{i:06d}" for i in range(m)],
            "line": 1,
            "customer_id": inv["customer_id"].to_numpy()[who],
            "payment_date": posting[who] + pd.to_timedelta(rng.integers(0, 90, m), unit="D"),
            "amount": np.round(rng.uniform(5, 200, m), 2),
            "currency": currency[who],
            "allocated_document": None,
            "allocation_date": pd.NaT,
        }
    )
    pay = pd.concat([p1, p2, p3], ignore_index=True)
    pay = pay.loc[pay["amount"] > 0].reset_index(drop=True)
    for c in ("payment_id", "customer_id", "currency", "allocated_document"):
        pay[c] = pay[c].astype("string")
    pay["allocation_date"] = pd.to_datetime(pay["allocation_date"])
    return inv, pay, inst


IBM_CSV = str(SHARED_DATA / "ibm_accounts_receivable.csv")


def ibm_ledger(path: str = IBM_CSV) -> tuple[pd.DataFrame, pd.DataFrame]:
    """IBM sample AR (shared/data README §1) as contract invoices and payments.

    One invoice per row, settled in full by one payment on SettledDate. No currency is given:
    "XXX" (ISO 4217 "no currency"). Disputed and PaperlessBill are kept as extra columns."""
    raw = pd.read_csv(path, dtype={"invoiceNumber": "string", "customerID": "string"})
    date = {
        c: pd.to_datetime(raw[c], format="%m/%d/%Y")
        for c in ("InvoiceDate", "DueDate", "SettledDate")
    }
    inv = pd.DataFrame(
        {
            "document_id": raw["invoiceNumber"],
            "customer_id": raw["customerID"],
            "document_type": "invoice",
            "posting_date": date["InvoiceDate"],
            "due_date": date["DueDate"],
            "amount": raw["InvoiceAmount"].astype("float64"),
            "currency": "XXX",
            "reference_document": pd.Series(pd.NA, index=raw.index, dtype="string"),
            "disputed": raw["Disputed"].eq("Yes"),
            "paperless": raw["PaperlessBill"].eq("Electronic"),
            "country": raw["countryCode"].astype("string"),
        }
    )
    pay = pd.DataFrame(
        {
            "payment_id": "P" + raw["invoiceNumber"],
            "line": 1,
            "customer_id": raw["customerID"],
            "payment_date": date["SettledDate"],
            "amount": raw["InvoiceAmount"].astype("float64"),
            "currency": "XXX",
            "allocated_document": raw["invoiceNumber"],
        }
    )
    for frame in (inv, pay):
        for c in ("document_type", "currency"):
            if c in frame:
                frame[c] = frame[c].astype("string")
    pay["currency"] = pay["currency"].astype("string")
    return inv, pay
