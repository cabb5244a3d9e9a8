"""Benchmark the price audit: 5 M invoice lines against 200 k price agreements.

Run by hand, once, niced (the machine is shared):
    PYTHONPATH=. nice -n 10 python benchmarks/pricing.py [--lines 5000000] [--agreements 200000]

Data (seeded, synthetic, shaped like the contract): 2,000 customers × 2,000 materials; 40 k
customer × material pairs with yearly contract records over 4 years plus special prices (3-month
windows) up to `--agreements` records; invoice lines on 45 k pairs (5 k without any agreement)
over the 4 years, 96 % billed at the agreed price, the rest off by a few per cent, at a price
unit ×100, or at an expired special price.

Three ways to get each line's agreed price (the record valid on its billing day, special price
before contract, latest start first) and flag the lines off the agreement, each timed in a fresh
subprocess that reads the tables from Parquet (its ru_maxrss is its own peak):
- ``kamlab``: ``price_audit(price_realisation(lines, prices))`` — sorted interval lookup with one
  ``searchsorted`` per source, plus the findings (expired special, previous price, price unit);
- ``pandas``: merge lines with all records of their pair, filter on validity, keep the best;
- ``duckdb``: the same join and filter in SQL (``QUALIFY row_number()``), on 2 threads.
All three must agree on every line's agreed unit price and on the lines off the agreement.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CUSTOMERS = 2000
MATERIALS = 2000
YEARS = (2022, 2023, 2024, 2025)
TOLERANCE = 0.005


def synthetic(lines: int, agreements: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(invoice lines, price records), seeded."""
    rng = np.random.default_rng(seed)
    n_pairs = 40_000
    code = rng.choice(CUSTOMERS * MATERIALS, n_pairs + 5_000, replace=False)
    pair_c, pair_m = code // MATERIALS, code % MATERIALS
    base = np.round(rng.lognormal(2.0, 1.2, n_pairs), 2) + 0.01
    contract_n = n_pairs * len(YEARS)
    special_n = max(0, agreements - contract_n)
    # contract records: one per pair and year, +0-5 % a year
    p_idx = np.repeat(np.arange(n_pairs), len(YEARS))
    year = np.tile(np.array(YEARS), n_pairs)
    price = np.round(base[p_idx] * (1 + 0.03 * (year - YEARS[0])), 2)
    per100 = price < 1.0
    unit = np.where(per100, 100, 1)
    start = pd.to_datetime({"year": year, "month": 1, "day": 1})
    end = pd.to_datetime({"year": year, "month": 12, "day": 31})
    s_idx = rng.integers(0, n_pairs, special_n)
    s_from = pd.Timestamp(f"{YEARS[0]}-01-01") + pd.to_timedelta(
        rng.integers(0, 365 * len(YEARS) - 120, special_n), unit="D"
    )
    s_to = s_from + pd.Timedelta(days=90)
    s_price = np.round(base[s_idx] * 0.9, 2)
    prices = pd.DataFrame(
        {
            "customer_id": np.concatenate([pair_c[p_idx], pair_c[s_idx]]),
            "material_id": np.concatenate([pair_m[p_idx], pair_m[s_idx]]),
            "source": np.array(["contract"] * contract_n + ["special_price"] * special_n),
            "valid_from": np.concatenate([start.to_numpy(), s_from.to_numpy()]),
            "valid_to": np.concatenate([end.to_numpy(), s_to.to_numpy()]),
            "price": np.concatenate([price * unit, s_price]),
            "currency": "EUR",
            "price_unit": np.concatenate([unit, np.ones(special_n, dtype="int64")]),
        }
    )
    # overlapping specials of one pair: keep the first (one record per key)
    prices = prices.drop_duplicates(["customer_id", "material_id", "source", "valid_from"])
    prices["customer_id"] = pd.array([f"C{i:06d}" for i in prices["customer_id"]], dtype="str")
    prices["material_id"] = pd.array([f"M{i:06d}" for i in prices["material_id"]], dtype="str")

    pair = rng.integers(0, n_pairs + 5_000, lines)
    day = pd.Timestamp(f"{YEARS[0]}-01-01") + pd.to_timedelta(
        rng.integers(0, 365 * len(YEARS), lines), unit="D"
    )
    q = rng.integers(1, 500, lines).astype("float64")
    known = pair < n_pairs
    yr = day.year.to_numpy()
    agreed = np.where(
        known, base[np.minimum(pair, n_pairs - 1)] * (1 + 0.03 * (yr - YEARS[0])), 7.0
    )
    agreed = np.round(agreed, 2)
    u = rng.random(lines)
    billed = np.where(
        u < 0.96,
        agreed,
        np.where(u < 0.985, agreed * rng.uniform(0.9, 1.1, lines), agreed * 100),
    )
    c_ids = np.array([f"C{i:06d}" for i in range(CUSTOMERS)], dtype=object)
    m_ids = np.array([f"M{i:06d}" for i in range(MATERIALS)], dtype=object)
    all_c = np.concatenate([pair_c, np.zeros(0, dtype="int64")])
    lines_f = pd.DataFrame(
        {
            "document_id": np.arange(lines, dtype="int64"),
            "customer_id": pd.array(c_ids[all_c[pair]], dtype="str"),
            "material_id": pd.array(m_ids[pair_m[pair]], dtype="str"),
            "billing_date": day.to_numpy().astype("datetime64[us]"),
            "quantity": q,
            "net_value": np.round(q * billed, 2),
            "currency": "EUR",
        }
    )
    return lines_f, prices.reset_index(drop=True)


def run_kamlab(lines: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    from kamlab.pricing import price_audit, price_realisation

    realised = price_realisation(lines, prices, tolerance=TOLERANCE)
    audit = price_audit(realised)
    return pd.DataFrame(
        {"document_id": realised["document_id"], "agreed": realised["agreed_unit_price"]}
    ).assign(off=lambda f: f["document_id"].isin(audit["document_id"]))


_PRIORITY = {"special_price": 0, "contract": 1, "price_list": 2}


def run_pandas(lines: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    p = prices.assign(
        agreed=prices["price"] / prices["price_unit"],
        priority=prices["source"].map(_PRIORITY),
        valid_to=prices["valid_to"].fillna(pd.Timestamp.max),
    )[["customer_id", "material_id", "valid_from", "valid_to", "agreed", "priority"]]
    m = lines[["document_id", "customer_id", "material_id", "billing_date"]].merge(
        p, on=["customer_id", "material_id"], how="inner"
    )
    m = m[(m["valid_from"] <= m["billing_date"]) & (m["billing_date"] <= m["valid_to"])]
    m = m.sort_values(["document_id", "priority", "valid_from"], ascending=[True, True, False])
    best = m.drop_duplicates("document_id")[["document_id", "agreed"]]
    out = lines[["document_id", "quantity", "net_value"]].merge(best, on="document_id", how="left")
    value = out["quantity"] * out["agreed"]
    ok = (out["net_value"] - value).abs() <= TOLERANCE * value + 0.01
    return pd.DataFrame(
        {"document_id": out["document_id"], "agreed": out["agreed"], "off": ~ok.fillna(False)}
    )


def run_duckdb(lines: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("lines", lines)
    con.register("prices", prices)
    return con.execute(
        f"""
        WITH best AS (
            SELECT l.document_id, p.price / p.price_unit AS agreed
            FROM lines l JOIN prices p
              ON l.customer_id = p.customer_id AND l.material_id = p.material_id
             AND p.valid_from <= l.billing_date
             AND l.billing_date <= coalesce(p.valid_to, DATE '9999-12-31')
            QUALIFY row_number() OVER (
                PARTITION BY l.document_id
                ORDER BY CASE p.source WHEN 'special_price' THEN 0 WHEN 'contract' THEN 1
                         ELSE 2 END, p.valid_from DESC) = 1
        )
        SELECT l.document_id, b.agreed,
               NOT coalesce(abs(l.net_value - l.quantity * b.agreed)
                            <= {TOLERANCE} * l.quantity * b.agreed + 0.01, false) AS off
        FROM lines l LEFT JOIN best b USING (document_id)
        ORDER BY l.document_id
        """
    ).df()


METHODS = {"kamlab": run_kamlab, "pandas": run_pandas, "duckdb": run_duckdb}


def _child(method: str, folder: Path) -> None:
    lines = pd.read_parquet(folder / "lines.parquet")
    prices = pd.read_parquet(folder / "prices.parquet")
    for col in ("customer_id", "material_id", "source", "currency"):
        for f in (lines, prices):
            if col in f:
                f[col] = f[col].astype("str")
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = METHODS[method](lines, prices)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = result.sort_values("document_id").reset_index(drop=True)
    result.to_parquet(folder / f"result_{method}.parquet")
    print(json.dumps({"method": method, "wall": wall, "cpu": cpu, "peak_mb": peak,
                      "loaded_mb": loaded, "off": int(result["off"].sum())}))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--agreements", type=int, default=200_000)
    ap.add_argument("--child", choices=list(METHODS))
    ap.add_argument("--dir", type=Path)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.dir)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        lines, prices = synthetic(args.lines, args.agreements)
        lines.to_parquet(folder / "lines.parquet")
        prices.to_parquet(folder / "prices.parquet")
        print(f"data: {len(lines):,} lines, {len(prices):,} agreements "
              f"({time.perf_counter() - t0:.1f} s to make)")  # fmt: skip
        del lines, prices
        rows = []
        for method in METHODS:
            out = subprocess.run(
                [sys.executable, __file__, "--child", method, "--dir", str(folder)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        ref = pd.read_parquet(folder / "result_kamlab.parquet")
        for method in ("pandas", "duckdb"):
            other = pd.read_parquet(folder / f"result_{method}.parquet")
            np.testing.assert_allclose(ref["agreed"], other["agreed"], rtol=1e-12)
            assert (ref["off"].to_numpy() == other["off"].to_numpy()).all(), method
    table = pd.DataFrame(rows).set_index("method")
    fastest = table["wall"].min()
    table["x_fastest"] = table["wall"] / fastest
    print(table.round(2).to_string())
    print("same agreed price and the same lines off the agreement in all three")


if __name__ == "__main__":
    main()
