"""Where red starts: the spread of OTIF and revenue-vs-budget shortfalls on the months *before*
the review month (a validation window, never the month shown), on the default demo.

Run: ``PYTHONPATH=. python benchmarks/calibrate_severity.py`` (about a minute). Prints, over
the unscripted customers' customer-months, the share beyond each candidate threshold; the
defaults in ``kamlab.config.ScorecardSettings`` cite these figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.chain import prepare
from kamlab.data.demo import generate
from kamlab.data.validate import validate
from kamlab.findings import pooled
from kamlab.service.plan import plan_vs_actual

REVIEW = pd.Period("2026-11", "M")


def main() -> None:
    ds = validate(generate(end=str(REVIEW)))
    scripted = set(ds.customers["customer_id"].astype(str)[:8])
    a = prepare(ds, REVIEW)
    otif = pooled(a.service, numerator="lines_otif", denominator="lines_due", month=REVIEW - 1)
    target = ds.customers.set_index("customer_id")["otif_target"]
    otif = otif[~otif["customer_id"].isin(scripted) & (otif["period"] >= REVIEW - 9)]
    short = (otif["customer_id"].map(target) - otif["value"]).dropna()
    print(f"OTIF (3 months pooled), {len(short)} customer-months before {REVIEW}:")
    for points in (0.0, 0.05, 0.08, 0.10, 0.12, 0.15):
        print(f"  more than {points:.0%} under target: {(short > points).mean():.1%}")
    values = []
    for month in pd.period_range(REVIEW - 8, REVIEW - 1, freq="M"):
        orders = ds.orders[ds.orders["requested_date"] <= month.end_time]
        p = plan_vs_actual(orders, ds.budget, ds.materials, month=month)
        keep = (p["measure"] == "revenue") & ~p["customer_id"].astype(str).isin(scripted)
        values.append(p.loc[keep & (p["ytd_plan"] > 0), "ytd_variance_pct"].to_numpy())
    v = pd.Series(np.concatenate(values))
    print(f"Revenue vs budget YTD, {len(v)} customer-months before {REVIEW}:")
    for t in (-0.15, -0.17, -0.20, -0.25):
        print(f"  below {t:+.0%}: {(v < t).mean():.1%}")
    print(f"  5th percentile: {v.quantile(0.05):+.1%}")


if __name__ == "__main__":
    main()
