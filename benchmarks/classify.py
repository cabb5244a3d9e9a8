"""Benchmark kamlab.classify: the full classification of 2,000 customers, step by step.

Run by hand (once; the machine is shared):  PYTHONPATH=. python benchmarks/classify.py
Options: --customers N --materials N --months N (defaults 2000, 2000, 60).

Data: ``kamlab.data.demo.generate(customers, materials, months, end="2025-12", seed=0)``,
turned into monthly demand per customer × material by ``kamlab.demand.monthly_demand``
(not timed as a classify step). Amounts are converted to EUR with the demo's own rates
before ABC and the matrix, as the library requires. Payment behaviour, OTIF, forecast
accuracy and complaints per customer come from other modules' KPIs; here they are seeded
random values, since those KPIs have their own benchmarks.

Each step is timed once without tracing (wall time), then run again under ``tracemalloc``
for its peak Python/numpy allocation. Peer figure: a plain pandas ``groupby().apply`` /
Python-loop version of the same definition, run on the same data, which must agree with
ours (asserted) — the way such a step is usually written in a notebook.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd

from kamlab.classify import (
    abc,
    abc_xyz,
    account_criteria,
    demand_pattern,
    key_account_matrix,
    migration,
    segments,
    xyz,
)
from kamlab.data.demo import generate
from kamlab.demand import monthly_demand

END = "2025-12"
EUR_PER = {"EUR": 1.0, "USD": 1 / 1.08, "GBP": 1 / 0.86, "CHF": 1 / 0.95}  # demo's rates


def _measure(step: Callable[[], object]) -> tuple[float, float, object]:
    """Wall seconds (untraced run) and peak traced MiB (second run) of one step."""
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def _timed(step: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


# --- peers: the same definitions written the obvious way ----------------------------------


def _peer_abc(frame: pd.DataFrame) -> pd.Series:
    totals = frame.groupby("customer_id")["value"].sum()
    items = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(v for _, v in items if v > 0)
    running, out = 0.0, {}
    for name, v in items:
        before = round(running / total, 12)
        out[name] = "C" if v <= 0 else "A" if before < 0.8 else "B" if before < 0.95 else "C"
        running += max(v, 0.0)
    return pd.Series(out)


def _peer_xyz(demand: pd.DataFrame) -> pd.Series:
    window = demand[demand["period"] > pd.Period(END, "M") - 12]

    def cls(s: pd.Series) -> str:
        y = np.concatenate([s.to_numpy(), np.zeros(12 - len(s))])
        if y.mean() <= 0:
            return "Z"
        cv = round(float(y.std() / y.mean()), 12)
        return "X" if cv < 0.5 else "Y" if cv <= 1.0 else "Z"

    return window.groupby(["customer_id", "material_id"])["quantity"].apply(cls)


def _peer_pattern(demand: pd.DataFrame) -> pd.Series:
    def cls(s: pd.Series) -> str:
        y = s.to_numpy()
        nz = np.flatnonzero(y > 0)
        if len(nz) == 0:
            return "no demand"
        sizes = y[nz]
        adi = (len(y) - nz[0]) / len(nz)
        cv2 = (sizes.std() / sizes.mean()) ** 2
        if adi < 1.32:
            return "smooth" if cv2 < 0.49 else "erratic"
        return "intermittent" if cv2 < 0.49 else "lumpy"

    ordered = demand.sort_values(["customer_id", "material_id", "period"])
    return ordered.groupby(["customer_id", "material_id"])["quantity"].apply(cls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--materials", type=int, default=2000)
    parser.add_argument("--months", type=int, default=60)
    args = parser.parse_args()

    t0 = time.perf_counter()
    frames = generate(
        customers=args.customers, materials=args.materials, months=args.months, end=END, seed=0
    )
    customers, materials = frames["customers"], frames["materials"]
    demand = monthly_demand(frames["orders"], end=END)
    del frames
    print(
        f"data: {len(customers):,} customers, {len(demand):,} customer×material×month rows, "
        f"{len(demand.groupby(['customer_id', 'material_id'], observed=True)):,} series "
        f"(generated and aggregated in {time.perf_counter() - t0:.0f} s)\n"
    )
    rates = pd.Series(EUR_PER)
    window = demand[demand["period"] > pd.Period(END, "M") - 12]
    revenue = window.assign(value=window["net_value"] * window["currency"].map(rates).astype(float))
    revenue = revenue[["customer_id", "value"]]
    rng = np.random.default_rng(1)
    ids = customers["customer_id"]
    others = {
        "payment_behaviour": pd.Series(rng.normal(5, 10, len(ids)), index=ids),
        "otif": pd.Series(rng.beta(18, 2, len(ids)), index=ids),
        "forecast_accuracy": pd.Series(rng.beta(6, 3, len(ids)), index=ids),
        "complaints": pd.Series(rng.gamma(2, 150, len(ids)), index=ids),
    }

    def criteria_at(as_of: str) -> pd.DataFrame:
        return account_criteria(
            demand, as_of=as_of, customers=customers, materials=materials, rates=EUR_PER, **others
        )

    state: dict[str, pd.DataFrame] = {}
    steps: list[tuple[str, str, Callable[[], object]]] = [
        ("ABC of customers (12 m revenue, EUR)", "abc", lambda: abc(revenue, value="value")),
        ("XYZ per customer×material (12 m)", "xyz", lambda: xyz(demand, end=END)),
        ("XYZ per customer (12 m)", "xyz_c", lambda: xyz(demand, keys=["customer_id"], end=END)),
        (
            "ABC×XYZ matrix (customers)",
            "abc_xyz",
            lambda: abc_xyz(state["abc"], state["xyz_c"], value="value"),
        ),
        ("demand pattern per customer×material", "pattern", lambda: demand_pattern(demand)),
        ("account_criteria (24 m window)", "criteria", lambda: criteria_at(END)),
        ("key-account matrix", "matrix", lambda: key_account_matrix(state["criteria"])),
        ("segments (KMeans, k 2-6 by silhouette)", "segments", lambda: segments(state["criteria"])),
        (
            "migration (matrix a year apart)",
            "migration",
            lambda: migration(state["matrix_before"], state["matrix"]),
        ),
    ]
    rows = []
    for name, key, step in steps:
        if key == "migration":
            state["matrix_before"] = key_account_matrix(criteria_at("2024-12"))
        seconds, peak, state[key] = _measure(step)
        rows.append({"step": name, "kamlab s": seconds, "peak MiB": peak})
        print(f"  {name}: {seconds:.2f} s, peak {peak:.0f} MiB", flush=True)

    # peers, on the same data, must agree with ours
    peer_s, peer_abc = _timed(lambda: _peer_abc(revenue))
    ours = state["abc"].set_index("customer_id")["abc_class"]
    assert (peer_abc.reindex(ours.index) == ours).all(), "ABC disagrees with the peer"
    rows[0]["peer s"] = peer_s
    peer_s, peer_xyz = _timed(lambda: _peer_xyz(demand))
    ours = state["xyz"].set_index(["customer_id", "material_id"])["xyz_class"]
    assert (peer_xyz.reindex(ours.index) == ours).all(), "XYZ disagrees with the peer"
    rows[1]["peer s"] = peer_s
    peer_s, peer_pattern = _timed(lambda: _peer_pattern(demand))
    ours = state["pattern"].set_index(["customer_id", "material_id"])["pattern"]
    assert (peer_pattern.reindex(ours.index) == ours).all(), "pattern disagrees with the peer"
    rows[4]["peer s"] = peer_s

    table = pd.DataFrame(rows).set_index("step")
    table["peer s"] = table.get("peer s")
    total = table["kamlab s"].sum()
    print("\nclassification of", f"{len(customers):,} customers (peer = groupby.apply / loop):")
    print(table.to_string(float_format=lambda v: f"{v:,.2f}", na_rep="—"))
    print(f"total classify wall time {total:.1f} s")
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    counts = state["matrix"]["quadrant"].value_counts().to_dict()
    print(f"quadrants: {counts}; segments: {state['segments']['segment'].nunique()}")
    print("patterns:", state["pattern"]["pattern"].value_counts().to_dict())


if __name__ == "__main__":
    main()
