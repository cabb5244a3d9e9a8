"""The whole monthly analytics chain in one plain Python process, timed step by step.

Run by hand (once; the machine is shared):
    PYTHONPATH=. python benchmarks/chain.py                  # default demo, 40 customers
    PYTHONPATH=. python benchmarks/chain.py --large          # 2000 customers × 2000 materials × 60 months

It doubles as the reference of how the analytics modules fit together for one monthly pack
(month ``M``, as of its last day): demo → CSV → ingest into DuckDB → load → demand → forecast
and backtest → accuracy (naive, score, FVA, bias, challenge list) → service → receivables →
classify (criteria wired from the service / receivables / accuracy results → matrix, segments,
migration). It is the "same analytics in plain Python" floor for the pack benchmark: a pack
cannot be faster than this. Prints step, seconds, rows, then wall time and peak memory.

Conventions the chain relies on (see each function's docstring):

* ``monthly_demand(..., end=M)`` fills every series up to the pack month, so a customer who
  stopped ordering still has zero months up to ``M`` (forecast, XYZ and naive need that).
* customer forecasts arrive with one snapshot date per customer and month (any day of the
  month); the naive benchmark is made for the same customer × snapshot dates
  (``naive_snapshots(snapshot_dates=<frame customer_id, snapshot_date>)``), and the
  statistical backtest is dated at month ends; ``score`` keeps, per series and target
  month, the latest snapshot of each snapshot month.
* amounts are compared within one currency; criteria across customers are converted with an
  explicit ``rates`` table (factors into EUR: account_criteria multiplies by them; abc takes a
  single-currency value column, so the chain converts first).
* service takes dates (``as_of``, ``start``) as Timestamps, not Periods: the window of the
  last 12 months starts at ``(M - 11).start_time``; receivables likewise.
* score, value_added and bias_alerts each pair forecasts with actuals again; a caller that
  needs several views can pair once (``pair_forecasts``) and aggregate with ``score_pairs``.
* criteria for the migration a year back are recomputed as of that month (service,
  receivables and accuracy results as they stood then), so both matrices weigh the same
  criteria and the migration driver is a real change, not a re-weighting.

Rows: the result's rows (demo / Dataset: orders + deliveries + invoices; ingest: 0).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from kamlab import accuracy, classify, receivables, service
from kamlab.data import demo, store
from kamlab.data.ingest import ingest
from kamlab.demand import monthly_demand
from kamlab.forecast import backtest, forecast

# the demo recipe's rates (currency per EUR), as factors into EUR for account_criteria / abc
TO_EUR = {c: 1.0 / v for c, v in {"EUR": 1.0, "USD": 1.08, "GBP": 0.86, "CHF": 0.95}.items()}


def _rows(result: object) -> int:
    if isinstance(result, pd.DataFrame | pd.Series):
        return len(result)
    if hasattr(result, "by_customer"):  # ProvisionMatrix
        return len(result.by_customer)
    if isinstance(result, dict):  # the demo's frames
        return sum(len(frame) for frame in result.values())
    if hasattr(result, "orders"):  # Dataset
        return sum(len(getattr(result, t)) for t in ("orders", "deliveries", "invoices"))
    return 0


class Timer:
    """Run steps, remember their results and (step, seconds, rows)."""

    def __init__(self, echo: bool = False) -> None:
        self.results: dict[str, object] = {}
        self.table: list[tuple[str, float, int]] = []
        self.echo = echo

    def __call__(self, step: str, func: Callable[[], object]) -> object:
        start = time.perf_counter()
        out = func()
        seconds = time.perf_counter() - start
        self.results[step] = out
        self.table.append((step, seconds, _rows(out)))
        if self.echo:
            print(f"{step:<28} {seconds:9.2f} {_rows(out):>10,}", flush=True)
        return out


def _per_customer(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    """One value column of a per-customer result as a Series keyed by customer_id."""
    return frame.set_index("customer_id")[value].rename(column)


def _criteria(ds, demand, month, *, payment, otif, scores, quality) -> pd.DataFrame:
    """account_criteria wired from the receivables, service and accuracy results of `month`."""
    accuracy_l1 = scores[
        (scores["source"] == "customer")
        & (scores["lag"] == 1)
        & (scores["metric"] == "accuracy")
        & (scores["pooling"] == "volume")
    ]
    return classify.account_criteria(
        demand,
        as_of=month,
        customers=ds.customers,
        materials=ds.materials,
        rates=TO_EUR,
        payment_behaviour=_per_customer(payment, "payment_behaviour", "days_beyond_terms"),
        otif=_per_customer(otif, "otif", "otif"),
        forecast_accuracy=_per_customer(accuracy_l1, "forecast_accuracy", "value"),
        complaints=_per_customer(quality, "complaints", "ppm"),
    )


def _criteria_as_of(ds, demand, forecasts, month: pd.Period) -> pd.DataFrame:
    """The same criteria as they stood at the end of an earlier `month` (for migration)."""
    as_of = month.to_timestamp(how="end").normalize()
    first = (month - 11).start_time
    lines = service.delivery_performance(ds.orders, ds.deliveries, as_of=as_of)
    lines = lines[lines["period"].between(month - 11, month)]
    inv, pay, inst = ds.invoices, ds.payments, ds.instalments
    known = forecasts[(forecasts["source"] == "customer") & (forecasts["snapshot_date"] <= as_of)]
    return _criteria(
        ds,
        demand,
        month,
        payment=receivables.days_to_pay(inv, pay, instalments=inst, start=first, end=as_of),
        otif=service.otif(lines, by=["customer_id"]),
        scores=accuracy.score(
            demand[demand["period"] <= month],
            known,
            by=["customer_id"],
            lags=[1],
            metrics=["accuracy"],
            pooling="volume",
            materials=ds.materials,
            as_of=month,
        ),
        quality=service.quality(ds.complaints, ds.deliveries, ds.orders, as_of=as_of, start=first),
    )


def run_chain(ds, month: str, *, timer: Timer | None = None, n_jobs: int | None = 1) -> dict:
    """Run every analytics step for the monthly pack of `month` on Dataset `ds`."""
    t = timer or Timer()
    m = pd.Period(month, "M")
    as_of = m.to_timestamp(how="end").normalize()
    year_ago = m - 12

    # --- demand and forecast --------------------------------------------------------------
    demand = t("monthly_demand", lambda: monthly_demand(ds.orders, end=m))
    life = ds.materials[["material_id", "lifecycle"]]
    t("forecast", lambda: forecast(demand, 12, lifecycle=life, end=m, n_jobs=n_jobs))
    stat_bt = t(
        "backtest",
        lambda: backtest(demand, origins=24, max_lag=6, lifecycle=life, end=m, n_jobs=n_jobs),
    )
    cf = ds.customer_forecasts
    snaps = cf[["customer_id", "snapshot_date"]].drop_duplicates()
    naive = t("naive_snapshots", lambda: accuracy.naive_snapshots(demand, snapshot_dates=snaps))
    forecasts = pd.concat(
        [
            cf.assign(source="customer"),
            stat_bt.assign(source="statistical"),
            naive,
        ],
        ignore_index=True,
    )
    kw = {"materials": ds.materials, "as_of": m}
    scores = t(
        "score",
        lambda: accuracy.score(demand, forecasts, by=["customer_id"], **kw),
    )
    # process order for KAM: does the customer's forecast add value over naive and over ours?
    steps = ("naive", "statistical", "customer")
    fva = t("value_added", lambda: accuracy.value_added(demand, forecasts, steps=steps, **kw))
    t("fva_league", lambda: accuracy.fva_league(fva, lag=1, column="fva_customer_vs_naive"))
    t("bias_alerts", lambda: accuracy.bias_alerts(demand, forecasts, **kw))
    latest = cf[cf["snapshot_date"] <= as_of]
    stat_fc = t.results["forecast"]
    t(
        "challenge_list",
        lambda: accuracy.challenge_list(latest, stat_fc, demand, as_of=as_of),
    )

    # --- service ---------------------------------------------------------------------------
    lines = t(
        "delivery_performance",
        lambda: service.delivery_performance(ds.orders, ds.deliveries, as_of=as_of),
    )
    otif_12 = lines[lines["period"].between(m - 11, m)]
    otif_c = t("otif by customer", lambda: service.otif(otif_12, by=["customer_id"]))
    t("otif by customer×month", lambda: service.otif(lines, by=["customer_id", "period"]))
    t("sla_adherence", lambda: service.sla_adherence(otif_c, ds.customers))
    t(
        "air_freight",
        lambda: service.air_freight(
            ds.deliveries, ds.orders, as_of=as_of, start=(m - 11).start_time
        ),
    )
    qual = t(
        "quality",
        lambda: service.quality(
            ds.complaints, ds.deliveries, ds.orders, as_of=as_of, start=(m - 11).start_time
        ),
    )
    t(
        "plan_vs_actual",
        lambda: service.plan_vs_actual(ds.orders, ds.budget, ds.materials, month=m),
    )
    t(
        "price_volume_mix",
        lambda: service.price_volume_mix(ds.orders, ds.materials, month=m),
    )

    # --- receivables ----------------------------------------------------------------------
    inv, pay, inst = ds.invoices, ds.payments, ds.instalments
    oi = t(
        "open_items",
        lambda: receivables.open_items(inv, pay, as_of=as_of, instalments=inst),
    )
    aged = t("ageing", lambda: receivables.ageing(oi, as_of=as_of))
    summary = t("ageing_summary", lambda: receivables.ageing_summary(aged))
    ends = receivables.last_month_ends(as_of, 12)
    history = t(
        "ageing_history",
        lambda: receivables.ageing_history(inv, pay, month_ends=ends, instalments=inst),
    )
    t("dso", lambda: receivables.dso(inv, pay, as_of=as_of, instalments=inst))
    dtp = t(
        "days_to_pay",
        lambda: receivables.days_to_pay(
            inv, pay, instalments=inst, start=(m - 11).start_time, end=as_of
        ),
    )
    t(
        "days_to_pay monthly",
        lambda: receivables.days_to_pay(
            inv, pay, instalments=inst, monthly=True, start=(m - 11).start_time, end=as_of
        ),
    )
    t(
        "collection_effectiveness",
        lambda: receivables.collection_effectiveness(inv, pay, as_of=as_of, instalments=inst),
    )
    t("credit_utilisation", lambda: receivables.credit_utilisation(oi, ds.customers))
    t("top_overdue", lambda: receivables.top_overdue(aged))
    t("provision_matrix", lambda: receivables.provision_matrix(history, summary))
    t(
        "late_payment_risk",
        lambda: receivables.late_payment_risk(inv, pay, as_of=as_of, instalments=inst),
    )

    # --- classify --------------------------------------------------------------------------
    last12 = demand[demand["period"].between(m - 11, m)]
    eur = last12.assign(value=last12["net_value"] * last12["currency"].map(TO_EUR))
    t("abc", lambda: classify.abc(eur.drop(columns="currency"), value="value"))
    t("xyz", lambda: classify.xyz(demand, end=m))
    t("demand_pattern", lambda: classify.demand_pattern(demand))
    crit = t(
        "account_criteria",
        lambda: _criteria(ds, demand, m, payment=dtp, otif=otif_c, scores=scores, quality=qual),
    )
    matrix = t("key_account_matrix", lambda: classify.key_account_matrix(crit))
    t("segments", lambda: classify.segments(crit))
    before = t(
        "matrix a year before",
        lambda: classify.key_account_matrix(_criteria_as_of(ds, demand, forecasts, year_ago)),
    )
    t("migration", lambda: classify.migration(before, matrix))
    return t.results


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--large", action="store_true", help="2000 customers × 2000 materials × 60")
    p.add_argument("--month", default="2026-10")
    p.add_argument("--n-jobs", type=int, default=1)
    args = p.parse_args(argv)
    size = {"customers": 2000, "materials": 2000, "months": 60} if args.large else {}
    t = Timer(echo=True)
    wall = time.perf_counter()
    print(f"{'step':<28} {'seconds':>9} {'rows':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        frames = t("demo.generate", lambda: demo.generate(end=args.month, seed=0, **size))
        out = Path(tmp) / "extracts"
        out.mkdir()
        for name, frame in frames.items():
            frame.to_csv(out / f"{name}.csv", index=False)
        del frames
        db = Path(tmp) / "kam.duckdb"
        t("ingest", lambda: ingest(out, db))
        ds = t("store.load", lambda: store.load(db))
        run_chain(ds, args.month, timer=t, n_jobs=args.n_jobs)
    total = time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total (wall)':<28} {total:9.2f}")
    print(f"peak memory (maxrss): {peak:,.0f} MB; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
