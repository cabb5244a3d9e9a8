"""Receivables benchmark: ageing speed on a generated ledger, late-payment model on IBM data.

Run by hand from the repository root (takes a few minutes; run it alone on the machine):

    PYTHONPATH=. python benchmarks/receivables.py [--invoices 1000000] [--skip-model]

Part 1 generates N invoices and N payment lines (vectorised, seeded) and times, end to end
from the contract frames: one as-of ageing (open_items -> ageing -> ageing_summary) and
ageing_history over 24 month-ends. Peak memory is the process's maximum resident set size
(resource.getrusage), which includes the generated data. The machine is shared: CPU time
(time.process_time) is printed beside wall time, with the load average at the end.

Part 2 evaluates late_payment_risk on the IBM sample AR data (<repo>/../shared/data) with
time-ordered splits: at each cutoff the model trains on invoices settled by the cutoff and
scores the invoices posted in the next three months; ROC AUC and Brier score are pooled
over cutoffs and set beside the baseline (the customer's historical late rate).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from kamlab.receivables import (
    ageing,
    ageing_history,
    ageing_summary,
    last_month_ends,
    late_payment_risk,
    open_items,
    settlements,
)

IBM_CSV = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ibm_accounts_receivable.csv"
)
TARGETS = {"as-of ageing (s)": 2.0, "24 month-ends (s)": 15.0, "peak memory (GB)": 3.0}


def generate(n: int, *, customers: int = 20_000, seed: int = 0):
    """About n invoices (3 % credit notes) and n payment lines over three years, three currencies."""
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, customers, n)
    cust_id = pd.array(np.char.add("C", cust.astype("U6")), dtype="string")
    currency = pd.array(np.array(["EUR", "USD", "GBP"])[cust % 3], dtype="string")
    start = np.datetime64("2022-01-01")
    posting = start + rng.integers(0, 3 * 365, n).astype("timedelta64[D]")
    terms = rng.choice(np.array([14, 30, 45, 60]), n).astype("timedelta64[D]")
    amount = np.round(rng.lognormal(6, 1, n), 2)
    doc = pd.array(np.char.add("D", np.arange(n).astype("U8")), dtype="string")
    is_cn = rng.random(n) < 0.03
    target = rng.integers(0, n, n)
    # a credit note refers to an earlier invoice of the same customer: reuse that invoice's keys
    ref = np.where(is_cn & ~is_cn[target], target, -1)
    cust_id_arr = np.asarray(cust_id, dtype=object)
    currency_arr = np.asarray(currency, dtype=object)
    cust_id_arr[ref >= 0] = cust_id_arr[ref[ref >= 0]]
    currency_arr[ref >= 0] = currency_arr[ref[ref >= 0]]
    reference = np.full(n, None, dtype=object)
    reference[ref >= 0] = np.asarray(doc, dtype=object)[ref[ref >= 0]]
    amount = np.where(ref >= 0, np.round(amount[np.maximum(ref, 0)] * 0.1, 2), amount)
    invoices = pd.DataFrame(
        {
            "document_id": doc,
            "customer_id": pd.array(cust_id_arr, dtype="string"),
            "document_type": pd.array(np.where(is_cn, "credit_note", "invoice"), dtype="string"),
            "posting_date": posting,
            "due_date": posting + np.where(is_cn, np.timedelta64(0, "D"), terms),
            "amount": np.maximum(amount, 0.01),
            "currency": pd.array(currency_arr, dtype="string"),
            "reference_document": pd.array(reference, dtype="string"),
        }
    )
    # payments: 90 % of invoices paid in full by one line, 5 % in two parts (40 % then the
    # rest), 5 % unpaid; the remaining lines (about 3 %) are payments on account
    inv_idx = np.flatnonzero(~is_cn)
    u = rng.random(len(inv_idx))
    full, part = inv_idx[u < 0.90], inv_idx[(u >= 0.90) & (u < 0.95)]
    first = np.round(amount[part] * 0.4, 2)
    pick = np.concatenate([full, part, part])
    pay_amount = np.concatenate([amount[full], first, np.round(amount[part] - first, 2)])
    lag = rng.normal(5, 20, len(pick)).astype("int64")
    lag[len(full) + len(part) :] += rng.integers(10, 60, len(part))  # the rest comes later
    pay_date = posting[pick] + terms[pick] + lag.astype("timedelta64[D]")
    allocated = np.asarray(doc, dtype=object)[pick]
    extra = max(n - len(pick), 0)
    who = rng.integers(0, n, extra)
    pick = np.concatenate([pick, who])
    pay_date = np.concatenate(
        [pay_date, posting[who] + rng.integers(0, 90, extra).astype("timedelta64[D]")]
    )
    pay_amount = np.concatenate([pay_amount, np.round(rng.uniform(10, 500, extra), 2)])
    allocated = np.concatenate([allocated, np.full(extra, None, dtype=object)])
    m = len(pick)
    payments = pd.DataFrame(
        {
            "payment_id": pd.array(np.char.add("P", np.arange(m).astype("U8")), dtype="string"),
            "line": np.ones(m, dtype="int64"),
            "customer_id": pd.array(cust_id_arr[pick], dtype="string"),
            "payment_date": pay_date,
            "amount": np.maximum(pay_amount, 0.01),
            "currency": pd.array(currency_arr[pick], dtype="string"),
            "allocated_document": pd.array(allocated, dtype="string"),
        }
    )
    return invoices, payments


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def ageing_benchmark(n: int) -> list[tuple[str, float]]:
    t0 = time.perf_counter()
    invoices, payments = generate(n)
    rows = [("generate data (s)", time.perf_counter() - t0), ("memory after data (GB)", peak_gb())]
    as_of = "2024-06-30"
    t0, c0 = time.perf_counter(), time.process_time()
    aged = ageing(open_items(invoices, payments, as_of=as_of), as_of=as_of)
    table = ageing_summary(aged)
    rows.append(("as-of ageing (s)", time.perf_counter() - t0))
    rows.append(("  of which CPU time (s)", time.process_time() - c0))
    t0, c0 = time.perf_counter(), time.process_time()
    history = ageing_history(invoices, payments, month_ends=last_month_ends(as_of, 24))
    rows.append(("24 month-ends (s)", time.perf_counter() - t0))
    rows.append(("  of which CPU time (s)", time.process_time() - c0))
    rows.append(("peak memory (GB)", peak_gb()))
    rows.append(("open items at as_of", float(len(aged))))
    rows.append(("summary rows / history rows", float(len(table)) + len(history) / 1e6))
    return rows


def model_benchmark() -> pd.DataFrame:
    raw = pd.read_csv(IBM_CSV, dtype={"invoiceNumber": "string", "customerID": "string"})
    when = {
        c: pd.to_datetime(raw[c], format="%m/%d/%Y")
        for c in ("InvoiceDate", "DueDate", "SettledDate")
    }
    invoices = pd.DataFrame(
        {
            "document_id": raw["invoiceNumber"],
            "customer_id": raw["customerID"],
            "document_type": "invoice",
            "posting_date": when["InvoiceDate"],
            "due_date": when["DueDate"],
            "amount": raw["InvoiceAmount"],
            "currency": "XXX",
            "reference_document": pd.Series(pd.NA, index=raw.index, dtype="string"),
            "disputed": raw["Disputed"].eq("Yes"),
            "paperless": raw["PaperlessBill"].eq("Electronic"),
            "country": raw["countryCode"].astype("string"),
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": "P" + raw["invoiceNumber"],
            "line": 1,
            "customer_id": raw["customerID"],
            "payment_date": when["SettledDate"],
            "amount": raw["InvoiceAmount"],
            "currency": "XXX",
            "allocated_document": raw["invoiceNumber"],
        }
    )
    outcome = settlements(invoices, payments).set_index("document_id")["days_late"]
    cutoffs = ["2012-12-31", "2013-03-31", "2013-06-30", "2013-09-30"]
    rows = []
    for late_days in (0, 10):
        for features in ((), ("disputed", "paperless", "country")):
            y, p, b = [], [], []
            for cut in cutoffs:
                lo, hi = pd.Timestamp(cut), pd.Timestamp(cut) + pd.offsets.MonthEnd(3)
                window = invoices["posting_date"].between(lo, hi, inclusive="right")
                r = late_payment_risk(
                    invoices,
                    payments,
                    as_of=cut,
                    late_days=late_days,
                    targets=invoices.loc[window, "document_id"],
                    features=features,
                )
                y.append((r["document_id"].map(outcome) > late_days).astype(int).to_numpy())
                p.append(r["probability"].to_numpy())
                b.append(r["baseline"].to_numpy())
            y, p, b = np.concatenate(y), np.concatenate(p), np.concatenate(b)
            rows.append(
                {
                    "target": f"days late > {late_days}",
                    "features": "history+amount+terms+month"
                    + (" +disputed,paper,country" if features else ""),
                    "test invoices": len(y),
                    "late rate": round(float(y.mean()), 3),
                    "AUC model": round(roc_auc_score(y, p), 3),
                    "AUC baseline": round(roc_auc_score(y, b), 3),
                    "Brier model": round(brier_score_loss(y, p), 4),
                    "Brier baseline": round(brier_score_loss(y, b), 4),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--skip-model", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = ageing_benchmark(args.invoices)
    print(f"\nAgeing, {args.invoices:,} invoices and {args.invoices:,} payment lines")
    print(f"{'measure':<32}{'ours':>12}{'target':>10}")
    for name, value in rows:
        target = TARGETS.get(name)
        print(f"{name:<32}{value:>12.2f}{'' if target is None else f'< {target:g}':>10}")
    if not args.skip_model and IBM_CSV.exists():
        print("\nLate-payment model, IBM sample AR, cutoffs 2012-12 .. 2013-09, next 3 months")
        print(model_benchmark().to_string(index=False))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\ntotal wall time {time.perf_counter() - t0:.1f} s, peak memory {peak_gb():.2f} GB")
    print(f"load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
