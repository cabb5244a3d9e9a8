"""The shared analytics steps of one pack: every module run once over the whole portfolio.

:func:`prepare` runs the registered steps in order (demand first, then forecasts and
backtests, accuracy, service, receivables, classes) and returns a :class:`PackAnalytics`;
each customer's scorecard only selects its slice.

A step is one small function ``(dataset, analytics) -> {field: frame}`` registered with
:func:`step`, naming the module it needs and the :class:`PackAnalytics` fields it fills.
To add one (pricing, inventory, ...): add the fields to :class:`PackAnalytics` (DataFrames,
default ``None``: the cache stores frames) and one decorated function below; steps run in the order they are defined, so a
step may use the fields of earlier ones. A module that has not landed leaves its fields
``None`` and says so in ``PackAnalytics.unavailable``; the scorecard shows that note.
A step that cannot run on this data returns ``{"unavailable": {field: reason}}``.

A step whose results are per customer runs **by customer chunk** when it names the tables
it reads: ``@step("kamlab.x:f", "field", tables=("customers", "orders"), inputs=("demand",))``.
Reading a store (a pack: :func:`kamlab.chain.load_analytics`), each chunk of about a
hundred customers then reads only its customers' rows of those tables and gets the
`inputs` (earlier fields) sliced to them — in a worker process or on a Dask cluster — and
the chunks' frames are put end to end in customer order; the client never holds those
tables. A step that needs a portfolio-wide figure (a rank, a model) computes it from
per-chunk parts, as the payment-risk step does (:func:`_late_payment_by_chunk`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import fields as dataclasses_fields
from typing import Any

import numpy as np
import pandas as pd

from kamlab.chain.backtests import reusable_origins
from kamlab.chain.chunks import (
    accuracy_chunk,
    chunk_of,
    combine,
    customer_chunks,
    map_chunks,
    placement,
    run_on,
    source_of_chunks,
    step_chunk,
)
from kamlab.chain.errors import ChainError
from kamlab.chain.source import (
    MONTH_END_SLACK_DAYS,
    check_month,
    coverage,
    load_dates,
    months_without_data,
    parse_month,
)
from kamlab.config import DEFAULTS, Settings
from kamlab.data.dataset import Dataset
from kamlab.demand import monthly_demand

__all__ = ["CHUNK_TABLES", "STEPS", "PackAnalytics", "Step", "prepare", "step"]

_log = logging.getLogger("kamlab.chain")
_LEDGER = ("customers", "invoices", "payments", "instalments")
# tables only steps run by customer chunk read: a chain reading a store leaves them out of
# the client's dataset
CHUNK_TABLES = ("invoices", "payments", "instalments")
# the late-payment model trains on the settled invoices of at most this many customers (the
# first by the hash of their id: the same sample every month); all customers are scored
LATE_MODEL_CUSTOMERS = 1000
# the forecast strategy is validated in January and July and applied from there to the
# half-year's months: the forecast and the backtest origins use a choice made on data up to
# their month, at a fifth of the cost of validating each of the 25 (benchmarks/forecast_notes)
STRATEGY_EVERY_MONTHS = 6


@dataclass
class PackAnalytics:
    """Everything a month's scorecards show, for all customers, computed once.

    Frames hold every customer (keyed by ``customer_id``); ``None`` means the module that
    computes it is not available, with the reason in ``unavailable[field]``.
    """

    month: pd.Period
    as_of: pd.Timestamp
    settings: Settings
    customers: pd.DataFrame
    materials: pd.DataFrame
    demand: pd.DataFrame  # customer x material x period: quantity, net_value, currency
    customer_demand: pd.DataFrame  # customer x period: quantity, net_value, currency
    customer_forecasts: pd.DataFrame  # the customers' own submitted snapshots
    # portfolio_strategy() per origin (the forecast's month and the backtest's origins)
    forecast_strategy: pd.DataFrame | None = None
    forecast: pd.DataFrame | None = None  # kamlab.forecast.forecast, all series
    forecast_total: pd.DataFrame | None = None  # aggregate_forecast() per customer
    accuracy: pd.DataFrame | None = None  # score() by customer x source x lag, volume-pooled
    value_added: pd.DataFrame | None = None  # value_added() by customer x lag
    league: pd.DataFrame | None = None  # fva_league() at lag 1
    bias: pd.DataFrame | None = None  # bias_alerts() of the customer's forecast per material
    # statistical backtest summed per material x month at the inventory error lag
    backtest_totals: pd.DataFrame | None = None
    challenges: pd.DataFrame | None = None  # challenge_list() of the latest snapshots
    # track_record() of the customer's vs our forecast per customer x material (and family)
    track_record: pd.DataFrame | None = None
    combined_forecast: pd.DataFrame | None = None  # combined_forecast() of the latest snapshots
    # the agreed forecast (optional table agreed_forecasts) and the KAM's judgement
    agreed_forecasts: pd.DataFrame | None = None  # agreed up to as_of, as given
    judgement: pd.DataFrame | None = None  # judgement_value_added() by customer x lag
    judgement_kam: pd.DataFrame | None = None  # ... by account_manager x lag
    service: pd.DataFrame | None = None  # otif() by customer x month, last 12 months
    service_year: pd.DataFrame | None = None  # otif() by customer over those 12 months
    sla: pd.DataFrame | None = None  # sla_adherence() of OTIF over [scorecard] otif_months
    air_freight: pd.DataFrame | None = None  # air_freight() by customer, last 12 months
    quality: pd.DataFrame | None = None  # quality() by customer, last 12 months
    plan: pd.DataFrame | None = None  # plan_vs_actual() by customer x currency x measure
    budget_revisions: pd.DataFrame | None = None  # what the budget revision in force changed
    receivables: pd.DataFrame | None = None  # ageing() of the open items at as_of
    ageing_history: pd.DataFrame | None = None  # ageing_history() at the last month-ends
    dso: pd.DataFrame | None = None  # dso() at each of those month-ends
    credit: pd.DataFrame | None = None  # credit_utilisation() at as_of
    top_overdue: pd.DataFrame | None = None  # top_overdue() per customer and currency
    days_to_pay: pd.DataFrame | None = None  # days_to_pay() by customer, last 12 months
    pay_monthly: pd.DataFrame | None = None  # days_to_pay(monthly=True) by customer x month
    classes: pd.DataFrame | None = None  # ABC / XYZ per customer, now and a year ago
    matrix: pd.DataFrame | None = None  # key_account_matrix() per customer
    # --- commercial (kamlab.pricing, .opportunities, .market, .satisfaction) ---
    price_summary: pd.DataFrame | None = None  # price_realisation_summary() by customer, 12 m
    price_audit: pd.DataFrame | None = None  # price_audit() of the lines billed in 12 months
    price_monthly: pd.DataFrame | None = None  # price_realisation_summary() customer x month
    margin: pd.DataFrame | None = None  # gross_margin() by customer x family x month, 12 m
    price_requests: pd.DataFrame | None = None  # special_price_requests() at as_of
    pipeline: pd.DataFrame | None = None  # weighted_pipeline() by customer x start month
    pipeline_forecast: pd.DataFrame | None = None  # pipeline_forecast() layer per customer
    win_rate: pd.DataFrame | None = None  # win_rate() by customer x type, 12 months
    rfq_activity: pd.DataFrame | None = None  # rfq_activity() by customer x month, 12 m
    lost_sales: pd.DataFrame | None = None  # lost_sales() listed, 12 months
    npi: pd.DataFrame | None = None  # npi_projects() at as_of
    pipeline_at_risk: pd.DataFrame | None = None  # pipeline_at_risk() at as_of
    share_of_business: pd.DataFrame | None = None  # share_of_business() customer x family
    competitors: pd.DataFrame | None = None  # competitor_activity() at the month
    three_c: pd.DataFrame | None = None  # three_c() per customer x family
    ratings: pd.DataFrame | None = None  # vendor_rating_trend(), 24 months
    issues: pd.DataFrame | None = None  # issues_closed_on_time() by customer, 12 months
    visits: pd.DataFrame | None = None  # visits_vs_plan() by customer x type, 12 months
    money_at_stake: pd.DataFrame | None = None  # at_stake.money_at_stake(findings), counted once
    # --- supply (kamlab.inventory.supply_view; None with the reason when there is no stock)
    stock_position: pd.DataFrame | None = None  # per material x plant, at cost
    stock_coverage: pd.DataFrame | None = None  # months of stock: statistical / customer fc
    stock_health: pd.DataFrame | None = None  # deadstock / overstock / slow mover
    safety_stock: pd.DataFrame | None = None  # recommended vs SAP safety stock (PFEP)
    phase_out: pd.DataFrame | None = None  # PIPO exposure per phase-out material
    phase_in: pd.DataFrame | None = None  # successor ramp vs predecessor run-down
    allocation: pd.DataFrame | None = None  # capacity allocated vs forecast, per customer
    capacity_load: pd.DataFrame | None = None  # allocations vs capacity per material x month
    supply_shares: pd.DataFrame | None = None  # customer's share of each material's demand
    customer_stock: pd.DataFrame | None = None  # stock health per customer x material
    customer_phase_out: pd.DataFrame | None = None  # PIPO list per customer
    supply_at_stake: pd.DataFrame | None = None  # customer_id, currency, amount, kind
    material_context: pd.DataFrame | None = None  # material_id, lifecycle, stock, end_of_life
    # pages (#16): receivables risk, budget by month, margin and the price/volume/mix bridge
    provision: pd.DataFrame | None = None  # provision_matrix().by_customer at as_of
    late_payment: pd.DataFrame | None = None  # late_payment_risk() of the open invoices
    budget_monthly: pd.DataFrame | None = None  # budget by customer x currency x period
    margin_monthly: pd.DataFrame | None = None  # service.plan.gross_margin(), customer x month
    bridge: pd.DataFrame | None = None  # price_volume_mix() YTD vs last year by customer
    # kamlab.findings: what a KAM should act on, one row per customer x kind (the pages' source)
    findings: pd.DataFrame | None = None
    # the customer meeting pack (kamlab.scorecard.meeting): what we share with the customer
    meeting_lines: pd.DataFrame | None = None  # lines due in [scorecard] otif_months, not OTIF
    open_orders: pd.DataFrame | None = None  # open order lines at as_of, with the quantity left
    open_complaints: pd.DataFrame | None = None  # complaints open at as_of
    expiring_prices: pd.DataFrame | None = None  # agreements ending in the next 3 months
    unavailable: dict[str, str] = field(default_factory=dict)
    actions: pd.DataFrame | None = None  # agreed actions (optional `actions` table), as given
    missing_tables: tuple[str, ...] = ()  # contract tables with no rows (for the month)
    missing_reasons: dict[str, str] = field(default_factory=dict)  # table -> why, if not "none"
    derived_tables: tuple[str, ...] = ()  # master tables built from the transactions' ids
    excluded: pd.DataFrame | None = (
        None  # rows each analysis left out: analysis, table, reason, rows
    )
    coverage: pd.DataFrame | None = None  # first, last: the dates the transactions cover

    @property
    def data_end(self) -> pd.Timestamp:
        """The last date the transactions cover up to ``as_of`` (``as_of`` when unknown)."""
        if self.coverage is None or self.coverage.empty:
            return self.as_of
        return min(pd.Timestamp(self.coverage["last"].iloc[0]), self.as_of)

    @property
    def first_month(self) -> pd.Period | None:
        """The first month the transactions cover (None when unknown)."""
        if self.coverage is None or self.coverage.empty:
            return None
        return pd.Period(self.coverage["first"].iloc[0], "M")

    @property
    def month_partial(self) -> bool:
        """True when the data stop part-way through the review month (more than
        ``MONTH_END_SLACK_DAYS`` before its end): its figures cover it only to ``data_end``."""
        return (self.as_of - self.data_end).days > MONTH_END_SLACK_DAYS

    def customer_ids(self) -> list[str]:
        return self.customers["customer_id"].astype(str).tolist()

    def check_customer(self, customer_id: str) -> None:
        """Raise :class:`ChainError` unless `customer_id` is in the data."""
        known = self.customer_ids()
        if customer_id not in known:
            shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
            raise ChainError(
                f"unknown customer {customer_id!r}: not in the data "
                f"({len(known)} customers: {shown})"
            )


@dataclass(frozen=True)
class Step:
    """One shared-analytics step: `run` fills `fields` when `requirement` can be imported.

    `requirement` is ``"module"`` or ``"module:attribute"``. A step with `tables` runs by
    customer chunk when the chain reads a store (:func:`prepare`'s ``source``): each chunk
    reads those tables for its customers only and gets the analytics `inputs` (earlier
    fields, keyed by customer) sliced to them; its per-customer results are put end to
    end in customer order. Its results must therefore be per customer (no portfolio-wide
    ranks or shares).
    """

    name: str
    requirement: str
    fields: tuple[str, ...]
    run: Callable[[Dataset, PackAnalytics], dict]
    tables: tuple[str, ...] | None = None  # by customer chunk, reading these tables
    inputs: tuple[str, ...] = ()  # PackAnalytics fields a chunk receives (its customers')


STEPS: list[Step] = []  # in run order


def step(
    requirement: str,
    *fields: str,
    tables: tuple[str, ...] | None = None,
    inputs: tuple[str, ...] = (),
) -> Callable:
    """Register the decorated function as the next step, filling `fields`; with `tables`, a
    step run by customer chunk on those tables, given `inputs` (see :class:`Step`)."""
    known = {f.name for f in dataclasses_fields(PackAnalytics)}
    unknown = (set(fields) | set(inputs)) - known
    if unknown:
        raise TypeError(f"PackAnalytics has no field(s) {sorted(unknown)}")
    if tables is not None and set(tables) - set(Dataset.table_names()):
        raise TypeError(f"no table(s) {sorted(set(tables) - set(Dataset.table_names()))}")

    def register(run: Callable[[Dataset, PackAnalytics], dict]) -> Callable:
        name = run.__name__.removeprefix("_").removesuffix("_step")
        STEPS.append(Step(name, requirement, fields, run, tables, tuple(inputs)))
        return run

    return register


def prepare(
    dataset: Dataset,
    month: str | pd.Period,
    *,
    settings: Settings = DEFAULTS,
    on_step: Callable[[str, float], None] | None = None,
    n_jobs: int | None = None,
    scheduler: Any = None,
    source: str | os.PathLike | None = None,
) -> PackAnalytics:
    """Compute the month's shared analytics for every customer in `dataset`, once.

    Data after `month` is ignored (the pack is reproducible for a past month); ``as_of``
    is the last day of `month`. `on_step(name, seconds)` is called after each step (timing).
    Raises :class:`ChainError` when no transactional table (orders, invoices, payments,
    deliveries) covers `month`; orders or invoices that do not cover it count as missing for
    the month, their sections saying so (``missing_reasons``).
    Forecasts and the per-customer-chunk steps run in `n_jobs` local processes (None: one
    per core) or on the Dask cluster of `scheduler` (a ``distributed.Client`` or address);
    the results do not depend on where they ran.

    With `source` (the store `dataset` was read from) the steps that declare ``tables``
    (service, receivables, payment risk) run by customer chunk, each chunk reading its
    customers' rows from the store: `dataset` then needs none of the tables only they read
    (:data:`CHUNK_TABLES`; :func:`kamlab.chain.load_dataset` with ``chunked=True``). The
    results equal those of the whole `dataset` in memory.
    """
    period = parse_month(month)
    dated = dataset if source is None else load_dates(source)  # the client may lack the ledger
    check_month(dated, period)
    outside_month = months_without_data(dated, period)  # e.g. orders ending before it
    empty = set(_missing_tables(dataset, source))
    as_of = period.to_timestamp(how="end").normalize()
    demand = monthly_demand(dataset.orders, end=period)
    excluded = demand.attrs.get("excluded")
    demand = demand[demand["period"] <= period].reset_index(drop=True)
    demand.attrs = {}  # kept in `excluded`; a frame in attrs breaks later merges
    customer_demand = demand.groupby(
        ["customer_id", "currency", "period"], observed=True, as_index=False
    )[["quantity", "net_value"]].sum()
    snapshots = dataset.customer_forecasts
    known = snapshots["snapshot_date"] <= as_of
    if not known.all():  # a past month; otherwise share the dataset's frame, not a copy
        snapshots = snapshots[known]
    out = PackAnalytics(
        month=period,
        as_of=as_of,
        settings=settings,
        customers=dataset.customers.reset_index(drop=True),
        materials=dataset.materials.reset_index(drop=True),
        demand=demand,
        customer_demand=customer_demand,
        customer_forecasts=snapshots.reset_index(drop=True),
        excluded=excluded,
        actions=getattr(dataset, "actions", None),
        missing_tables=tuple(n for n in dataset.table_names() if n in empty or n in outside_month),
        missing_reasons=outside_month,
        derived_tables=tuple(dataset.derived),
        coverage=coverage(dated, as_of),
    )
    excluded_parts = [] if excluded is None else [excluded.assign(analysis="demand")]
    for s in STEPS:
        if not _available(s.requirement):  # pragma: no cover - transitional
            module = s.requirement.replace(":", ".")
            out.unavailable.update(dict.fromkeys(s.fields, f"{module} is not available yet"))
            continue
        started = time.perf_counter()
        with run_on(n_jobs=n_jobs, scheduler=scheduler, source=source):
            if s.tables is not None and source is not None:
                results = _by_customer_chunk(s, out, source)
            elif s.tables is not None:  # in customer order, as its chunks would give it
                results = {
                    k: combine([{k: v}], k) if isinstance(v, pd.DataFrame) else v
                    for k, v in s.run(dataset, out).items()
                }
            else:
                results = s.run(dataset, out)
        if on_step is not None:
            on_step(s.name, time.perf_counter() - started)
        for name, value in results.items():
            if name == "unavailable":  # the step cannot run on this data, and says why
                out.unavailable.update(value)
            else:
                setattr(out, name, _without_attrs(value, name, excluded_parts))
    if excluded_parts:
        out.excluded = pd.concat(excluded_parts, ignore_index=True)
        if "rows" in out.excluded:  # counts, whether a part's frame typed them or not
            out.excluded["rows"] = out.excluded["rows"].astype("int64")
    return out


def _missing_tables(dataset: Dataset, source: str | os.PathLike | None) -> tuple[str, ...]:
    """Contract tables with no rows: counted in the store when there is one (the client's
    `dataset` may leave out the tables only chunks read)."""
    if source is None:
        return tuple(n for n, f in dataset.tables().items() if f.empty)
    from kamlab.data.store import row_counts

    counts = row_counts(source)
    return tuple(n for n in dataset.table_names() if not counts.get(n, 0))


def _by_customer_chunk(s: Step, a: PackAnalytics, source: str | os.PathLike) -> dict:
    """Run step `s` by customer chunk (:func:`~kamlab.chain.chunks.step_chunk`): each chunk
    reads its customers' rows of ``s.tables`` from `source`; the results are combined."""
    ids = a.customer_ids()
    sliced = {name: _rows_by_customer(getattr(a, name)) for name in ("customers", *s.inputs)}

    def tasks():
        for chunk in customer_chunks(ids):
            view = _chunk_view(a, chunk, sliced)
            yield (s.run, view, str(source), chunk, s.tables), {}

    parts = map_chunks(step_chunk, tasks(), **placement())
    out: dict = {}
    unavailable: dict[str, str] = {}
    for name in s.fields:
        combined = combine(parts, name)
        if combined is not None:
            out[name] = combined
    for part in parts:
        for name, reason in part.get("unavailable", {}).items():
            if name not in out:
                unavailable.setdefault(name, reason)
    if unavailable:
        out["unavailable"] = unavailable
    return out


def _rows_by_customer(frame: pd.DataFrame | None) -> tuple[pd.DataFrame, dict] | None:
    """`frame` with the positions of each customer's rows (None: no frame)."""
    if frame is None:
        return None
    if "customer_id" not in frame.columns:
        return frame, {}
    return frame, frame.groupby(frame["customer_id"].astype("str"), sort=False).indices


def _chunk_view(a: PackAnalytics, customers: list[str], sliced: dict) -> PackAnalytics:
    """`a` as a chunk sees it: the `sliced` fields (customers and the step's inputs) hold
    only `customers`' rows (a frame without customer_id whole); other customer frames are
    empty or None."""
    values = {}
    for f in dataclasses_fields(a):
        value = getattr(a, f.name)
        if not isinstance(value, pd.DataFrame) or f.name == "materials":
            continue
        if f.name in sliced:
            frame, rows = sliced[f.name]
            if rows or "customer_id" in frame.columns:
                mine = [rows[c] for c in customers if c in rows]
                at = np.sort(np.concatenate(mine)) if mine else np.empty(0, dtype=np.intp)
                value = frame.take(at).reset_index(drop=True)
            values[f.name] = value
        elif f.default is dataclasses.MISSING:  # required: the step did not ask for it
            values[f.name] = value.iloc[:0]
        else:
            values[f.name] = None
    return dataclasses.replace(a, **values)


def _without_attrs(frame: pd.DataFrame, name: str, excluded: list[pd.DataFrame]) -> pd.DataFrame:
    """`frame` with its ``attrs`` cleared; an ``attrs["excluded"]`` table goes to `excluded`.

    pandas compares attrs whenever two frames meet, and a DataFrame in attrs makes that
    comparison raise; the exclusions stay visible in ``PackAnalytics.excluded``.
    """
    report = frame.attrs.get("excluded")
    if isinstance(report, pd.DataFrame) and len(report):
        excluded.append(report.assign(analysis=name))
    frame = frame.copy(deep=False)
    frame.attrs = {}
    return frame


def _available(requirement: str) -> bool:
    """Whether "module" or "module:attribute" can be imported (a broken module still raises)."""
    module, _, attribute = requirement.partition(":")
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is not None and module.startswith(err.name):
            return False
        raise
    return not attribute or hasattr(imported, attribute)


def forecast_options(settings: Settings) -> dict:
    """The keyword arguments of :func:`kamlab.forecast.forecast` that come from `settings`
    (intervals, seasonality, history, phase-out taper, demand-pattern cut-offs)."""
    f, c = settings.forecast, settings.classify
    return {
        "level": f.levels,
        "season_length": f.season_length,
        "min_seasonal_history": f.min_seasonal_history,
        "min_history": f.min_history,
        "phaseout_months": f.phaseout_months,
        "adi_cutoff": c.adi_cutoff,
        "cv2_cutoff": c.cv2_cutoff,
    }


def strategy_month(origin: pd.Period) -> pd.Period:
    """The month whose validation sets the forecast strategy at `origin`: the latest month
    at or before it whose ordinal is a multiple of :data:`STRATEGY_EVERY_MONTHS`."""
    return origin - origin.ordinal % STRATEGY_EVERY_MONTHS


@step("kamlab.forecast:forecast", "forecast_strategy")
def _forecast_strategy_step(ds: Dataset, a: PackAnalytics) -> dict:
    """The portfolio's strategy per demand pattern at the month and at every backtest
    origin (:func:`kamlab.forecast.strategy.portfolio_strategy`, on the forecast's horizon,
    validated at :func:`strategy_month`): the same whatever the customer chunks."""
    from kamlab.forecast import portfolio_strategy

    f = a.settings.forecast
    origins = [a.month - back for back in range(f.backtest_origins, -1, -1)]
    chosen = portfolio_strategy(
        a.demand[["customer_id", "material_id", "period", "quantity"]],
        f.horizon,
        origins=sorted({strategy_month(o) for o in origins}),
        **{
            k: v
            for k, v in forecast_options(a.settings).items()
            if k not in ("level", "phaseout_months")
        },
    )
    at = chosen.set_index("origin")
    parts = [
        at.loc[[strategy_month(o)]].reset_index(names="validated_at").assign(origin=o)
        for o in origins
    ]
    out = pd.concat(parts, ignore_index=True)
    out["origin"] = pd.PeriodIndex(out["origin"], freq="M")
    return {"forecast_strategy": out[["origin", *chosen.columns.drop("origin"), "validated_at"]]}


def _strategy_at(a: PackAnalytics, origin: pd.Period) -> pd.DataFrame | None:
    """The chain's strategy rows at `origin` (None: no strategy step ran)."""
    if a.forecast_strategy is None:
        return None
    return a.forecast_strategy[a.forecast_strategy["origin"] == origin].reset_index(drop=True)


@step("kamlab.forecast:forecast", "forecast", "forecast_total")
def _forecast_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.forecast import aggregate_forecast, forecast

    series = a.demand[["customer_id", "material_id", "period", "quantity"]]
    fc = forecast(
        series,
        a.settings.forecast.horizon,
        lifecycle=a.materials[["material_id", "lifecycle"]],
        end=a.month,
        strategy=_strategy_at(a, a.month),
        **forecast_options(a.settings),
        **placement(),
    )
    return {"forecast": fc, "forecast_total": aggregate_forecast(fc, a.materials, level="customer")}


_ACCURACY = (
    "accuracy",
    "value_added",
    "league",
    "bias",
    "challenges",
    "backtest_totals",
    "track_record",
    "combined_forecast",
    "agreed_forecasts",
    "judgement",
    "judgement_kam",
)


@step("kamlab.accuracy:score", *_ACCURACY)
def _accuracy_step(ds: Dataset, a: PackAnalytics) -> dict:
    """Backtests, naive benchmark and scores by customer chunk (:mod:`kamlab.chain.chunks`):
    the statistical backtest is scored where it is made and never held for the portfolio."""
    from kamlab.accuracy import (
        agreed_snapshots,
        challenge_list,
        combined_forecast,
        fva_league,
        judgement_value_added,
    )

    s = a.settings.accuracy
    fields = _ACCURACY
    if "orders" in a.missing_tables:  # an AR ledger alone: nothing to forecast or score
        reason = a.missing_reasons.get("orders", "no orders in the data")
        return {"unavailable": dict.fromkeys(fields, reason)}
    demand = a.demand[["customer_id", "material_id", "period", "quantity"]]
    by_customer = demand.groupby("customer_id", sort=False).indices
    snapshots = a.customer_forecasts
    snapshots_by = snapshots.groupby("customer_id", sort=False).indices
    agreed = ds.agreed_forecasts[ds.agreed_forecasts["agreed_on"] <= a.as_of]
    agreed_snaps = agreed_snapshots(agreed).reset_index(drop=True)
    agreed_by = agreed_snaps.groupby("customer_id", sort=False).indices
    context = {
        "materials": a.materials,
        "customers": a.customers,
        "month": a.month,
        "settings": a.settings,
        "backtests": reusable_origins(),
        "strategy": a.forecast_strategy,
    }

    def tasks():  # a chunk's slices are cut when a worker is about to take it
        for ids in customer_chunks(list(by_customer)):
            rows = np.concatenate([by_customer[c] for c in ids])
            mine = [snapshots_by[c] for c in ids if c in snapshots_by]
            cf = snapshots.iloc[np.concatenate(mine)] if mine else snapshots.iloc[:0]
            ours = [agreed_by[c] for c in ids if c in agreed_by]
            ag = agreed_snaps.iloc[np.concatenate(ours)] if ours else None
            yield (demand.iloc[np.sort(rows)], cf, ag), context

    parts = map_chunks(accuracy_chunk, tasks(), **placement())
    if parts:
        origins = combine(parts, "backtest_origins").sum()
        _log.info(
            "accuracy: backtest origins (chunk × month) reused from the cache %d, computed %d",
            origins["reused"],
            origins["computed"],
        )
    bias = combine(parts, "bias") if parts else None
    if bias is None:  # no orders, or none before the month (its first): nothing to backtest
        reason = f"no forecast to score up to {a.month} (no orders to score against)"
        return {"unavailable": dict.fromkeys(fields, reason)}
    fva = combine(parts, "value_added")
    alert_order = bias.assign(_abs=bias["tracking_signal"].abs())
    order = alert_order.sort_values(["alert", "_abs"], ascending=[False, False]).index
    bias = bias.loc[order].reset_index(drop=True).__finalize__(bias)
    out = {
        "value_added": fva,
        "league": fva_league(fva, lag=1),
        "accuracy": combine(parts, "accuracy"),
        "backtest_totals": combine(parts, "backtest_totals")
        .groupby(["material_id", "period", "lag"], observed=True, as_index=False)["quantity"]
        .sum(),
        "bias": bias,
        "track_record": combine(parts, "track_record"),
    }
    unavailable = {}
    agreed_pairs = combine(parts, "agreed_pairs")
    if "agreed_forecasts" in a.missing_tables or agreed.empty:
        why = (
            "no agreed_forecasts in the data"
            if "agreed_forecasts" in a.missing_tables
            else f"no agreed forecast up to {a.month}"
        )
        unavailable.update(dict.fromkeys(("agreed_forecasts", "judgement", "judgement_kam"), why))
    else:
        out["agreed_forecasts"] = agreed.reset_index(drop=True)
        if agreed_pairs is None or agreed_pairs.empty:
            why = f"no agreed figure up to {a.month} has an actual yet"
            unavailable.update(dict.fromkeys(("judgement", "judgement_kam"), why))
        else:
            for name, by in (("judgement", "customer_id"), ("judgement_kam", "account_manager")):
                out[name] = judgement_value_added(
                    a.demand,
                    pairs=agreed_pairs,
                    by=(by,),
                    lags=s.lags,
                    metric=s.fva_metric,
                    customers=a.customers,
                    as_of=a.month,
                )
    customer = a.customer_forecasts
    window_start = a.month - (s.tracking_signal_window - 1)
    if not customer["period"].between(window_start, a.month).any():
        del out["bias"]
        unavailable["bias"] = (
            f"no customer forecast for {window_start}–{a.month} "
            f"(the {s.tracking_signal_window}-month bias window)"
        )
    if "customer_forecasts" in a.missing_tables:
        unavailable["bias"] = unavailable["challenges"] = "no customer forecasts in the data"
        unavailable["combined_forecast"] = unavailable["track_record"] = unavailable["bias"]
        del out["track_record"]
    elif customer.empty:
        unavailable["challenges"] = f"no customer forecast up to {a.month}"
        unavailable["combined_forecast"] = unavailable["challenges"]
    elif a.forecast is not None:
        out["challenges"] = challenge_list(
            a.customer_forecasts,
            a.forecast,
            a.demand,
            as_of=a.as_of,
            level=s.challenge_level,
            deviation=s.challenge_deviation,
            last_year_deviation=s.challenge_last_year_deviation,
            track_record=out["track_record"],
            materials=a.materials,
            min_months=s.track_record_min_months,
        )
        out["combined_forecast"] = combined_forecast(
            a.customer_forecasts,
            a.forecast,
            out["track_record"],
            materials=a.materials,
            min_months=s.track_record_min_months,
            as_of=a.as_of,
        )
    if unavailable:
        out["unavailable"] = unavailable
    return out


@step(
    "kamlab.service:otif",
    "service",
    "service_year",
    "sla",
    "air_freight",
    "quality",
    "plan",
    "budget_revisions",
    tables=("customers", "materials", "orders", "deliveries", "complaints", "budget"),
)
def _service_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.budget import budget_in_force, budget_revisions
    from kamlab.service import (
        air_freight,
        delivery_performance,
        otif,
        plan_vs_actual,
        quality,
        sla_adherence,
    )

    s = a.settings.service
    lines = delivery_performance(
        ds.orders,
        ds.deliveries,
        as_of=a.data_end,  # a line due after the data's end cannot be judged: not late
        date_basis=s.date_basis,
        days_late_tolerance=s.days_late_tolerance,
        days_early_tolerance=s.days_early_tolerance,
        quantity_tolerance=s.quantity_tolerance,
    )
    year_start = a.month - 11
    recent = lines[lines["period"] >= year_start]
    start = year_start.to_timestamp()
    monthly = otif(recent, by=["customer_id", "period"])
    n = a.settings.scorecard.otif_months  # the OTIF tile pools the last n months
    window = lines[(lines["period"] > a.month - n) & (lines["period"] <= a.month)]
    return {
        "service": monthly,
        "sla": sla_adherence(otif(window, by=["customer_id"]), a.customers),
        "service_year": otif(recent, by=["customer_id"]),
        "air_freight": air_freight(ds.deliveries, ds.orders, as_of=a.as_of, start=start),
        "quality": quality(ds.complaints, ds.deliveries, ds.orders, as_of=a.as_of, start=start),
        "plan": plan_vs_actual(
            ds.orders, budget_in_force(ds.budget, as_of=a.as_of), ds.materials, month=a.month
        ),
        "budget_revisions": budget_revisions(ds.budget, as_of=a.as_of),
    }


@step(
    "kamlab.receivables:ageing",
    "receivables",
    "ageing_history",
    "dso",
    "credit",
    "top_overdue",
    "days_to_pay",
    "pay_monthly",
    tables=_LEDGER,
)
def _receivables_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.receivables import (
        ageing,
        ageing_history,
        credit_utilisation,
        days_to_pay,
        dso,
        open_items,
        top_overdue,
    )

    r = a.settings.receivables
    instalments = ds.instalments if len(ds.instalments) else None
    items = open_items(ds.invoices, ds.payments, as_of=a.as_of, instalments=instalments)
    aged = ageing(items, as_of=a.as_of, basis=r.basis, edges=r.bucket_edges)
    month_ends = pd.period_range(a.month - (r.history_months - 1), a.month, freq="M")
    month_ends = month_ends.to_timestamp(how="end").normalize()
    dso_kwargs = {
        "instalments": instalments,
        "simple_months": r.dso_simple_months,
        "countback_months": r.dso_countback_months,
    }
    return {
        "receivables": aged,
        "ageing_history": ageing_history(
            ds.invoices,
            ds.payments,
            month_ends=month_ends,
            instalments=instalments,
            basis=r.basis,
            edges=r.bucket_edges,
        ),
        "dso": pd.concat(
            [
                dso(ds.invoices, ds.payments, as_of=d, **dso_kwargs).assign(month_end=d)
                for d in month_ends
            ],
            ignore_index=True,
        ),
        "credit": credit_utilisation(items, a.customers, warning=r.credit_warning),
        "top_overdue": top_overdue(aged, n=r.top_overdue, by=["customer_id", "currency"]),
        "days_to_pay": days_to_pay(
            ds.invoices,
            ds.payments,
            instalments=instalments,
            by=["customer_id"],
            start=(a.month - 11).to_timestamp(),
            end=a.as_of,
        ),
        "pay_monthly": days_to_pay(  # the "paying later month after month" detector
            ds.invoices,
            ds.payments,
            instalments=instalments,
            by=["customer_id"],
            monthly=True,
            start=(a.month - 11).to_timestamp(),
            end=a.as_of,
        ),
    }


@step("kamlab.classify:key_account_matrix", "classes", "matrix")
def _classify_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.classify import abc, account_criteria, key_account_matrix, xyz
    from kamlab.currency import convert

    c, sc = a.settings.classify, a.settings.scorecard
    demand = a.demand
    currencies = sorted(demand["currency"].dropna().unique())
    rates = {sc.reporting_currency: 1.0, **sc.fx_rates} if sc.fx_rates else None
    if len(currencies) > 1 and rates is None:
        reason = (
            f"revenue is in several currencies ({', '.join(currencies)}): set [scorecard] "
            "fx_rates in kamlab.toml to rank customers and place them in the matrix"
        )
        return {"unavailable": dict.fromkeys(("classes", "matrix"), reason)}
    if rates is not None:  # revenue at the rate of its month (kamlab.currency)
        try:
            demand = convert(
                demand,
                rates,
                amounts=["net_value"],
                reporting_currency=sc.reporting_currency,
                on=demand["period"],
            )
        except ValueError as err:
            raise ChainError(f"[scorecard] fx_rates: {err}") from None
    window = sc.revenue_window_months
    classes = []
    for label, end in (("now", a.month), ("year_ago", a.month - 12)):
        part = demand[(demand["period"] > end - window) & (demand["period"] <= end)]
        if part.empty:
            continue
        per_customer = part.groupby(
            ["customer_id", "currency", "period"], observed=True, as_index=False
        )[["quantity", "net_value"]].sum()
        ranked = abc(part, value="net_value", by="customer_id", cutoffs=c.abc_cutoffs)
        variability = xyz(
            per_customer,
            keys=["customer_id"],
            window=window,
            end=end,
            start=a.first_month,
            cutoffs=c.xyz_cutoffs,
        )
        classes.append(
            ranked[["customer_id", "net_value", "currency", "share", "rank", "abc_class"]]
            .merge(variability[["customer_id", "cv", "xyz_class"]], on="customer_id", how="outer")
            .assign(when=label)
        )
    if not classes:
        reason = (
            a.missing_reasons.get("orders", "no orders in the data")
            if "orders" in a.missing_tables
            else f"no demand in the {window} months up to {a.month}"
        )
        return {"unavailable": dict.fromkeys(("classes", "matrix"), reason)}
    service_year = (  # no deliveries: OTIF is unknown, not 0 % for everyone (a tie at 0.5)
        a.service_year.set_index("customer_id")["otif"]
        if a.service_year is not None and "deliveries" not in a.missing_tables
        else None
    )
    accuracy = None
    if a.accuracy is not None:
        acc = a.accuracy
        acc = acc[(acc["source"] == "customer") & (acc["lag"] == 1) & (acc["metric"] == "accuracy")]
        accuracy = acc.set_index("customer_id")["value"]
    absent = set(a.missing_tables)  # a criterion whose table is absent is not scored
    criteria = account_criteria(
        a.demand,
        rates=rates,
        as_of=a.month,
        customers=a.customers,
        materials=a.materials,
        payment_behaviour=None
        if "invoices" in absent
        else _by_customer(a.days_to_pay, "days_beyond_terms"),
        otif=service_year,
        forecast_accuracy=None if "customer_forecasts" in absent else accuracy,
        complaints=None if "complaints" in absent else _by_customer(a.quality, "ppm"),
        months=c.criteria_months,
        start=a.first_month,
    )
    matrix = key_account_matrix(
        criteria,
        attractiveness_weights=c.attractiveness_weights,
        strength_weights=c.strength_weights,
        threshold=c.matrix_threshold,
        lower_is_better=c.lower_is_better,
    )
    return {"classes": pd.concat(classes, ignore_index=True), "matrix": matrix}


def _by_customer(frame: pd.DataFrame | None, column: str) -> pd.Series | None:
    """One value per customer (a customer billing in one currency has one row)."""
    if frame is None:
        return None
    return frame.drop_duplicates("customer_id").set_index("customer_id")[column]


# --- commercial steps ---------------------------------------------------------------------
def _window_start(a: PackAnalytics) -> pd.Timestamp:
    return (a.month - (a.settings.commercial.window_months - 1)).to_timestamp()


@step(
    "kamlab.pricing:price_realisation",
    "price_summary",
    "price_audit",
    "price_monthly",
    "margin",
    "price_requests",
)
def _pricing_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.pricing import (
        billed_lines,
        gross_margin,
        price_audit,
        price_realisation,
        price_realisation_summary,
        special_price_requests,
    )

    c = a.settings.commercial
    lines = billed_lines(ds.orders, ds.deliveries)
    lines = lines[(lines["billing_date"] >= _window_start(a)) & (lines["billing_date"] <= a.as_of)]
    out = {
        "margin": gross_margin(lines, ds.materials, by=("customer_id", "product_family", "period")),
        "price_requests": special_price_requests(
            ds.price_requests, as_of=a.as_of, expiring_days=c.spr_expiring_days
        ),
    }
    if len(ds.prices) == 0:
        reason = "no price agreements in the data (prices table absent or empty)"
        fields = ("price_summary", "price_audit", "price_monthly")
        return {**out, "unavailable": dict.fromkeys(fields, reason)}
    realised = price_realisation(
        lines.reset_index(drop=True), ds.prices, date=c.pricing_date, tolerance=c.price_tolerance
    )
    return {
        **out,
        "price_summary": price_realisation_summary(realised),
        "price_audit": price_audit(realised),
        "price_monthly": price_realisation_summary(
            realised.assign(period=realised["billing_date"].dt.to_period("M")),
            by=("customer_id", "period"),
        ),
    }


@step(
    "kamlab.opportunities:weighted_pipeline",
    "pipeline",
    "pipeline_forecast",
    "win_rate",
    "rfq_activity",
    "lost_sales",
    "npi",
    "pipeline_at_risk",
)
def _opportunities_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.opportunities import (
        lost_sales,
        npi_projects,
        pipeline_at_risk,
        pipeline_forecast,
        rfq_activity,
        weighted_pipeline,
        win_rate,
    )

    c = a.settings.commercial
    o = ds.opportunities
    if len(o) == 0:
        reason = "no CRM opportunities in the data (opportunities table absent or empty)"
        fields = ("pipeline", "pipeline_forecast", "win_rate", "rfq_activity", "lost_sales",
                  "npi", "pipeline_at_risk")  # fmt: skip
        return {"unavailable": dict.fromkeys(fields, reason)}
    window = {"start": _window_start(a), "end": a.as_of}
    return {
        "pipeline": weighted_pipeline(o, as_of=a.as_of),
        "pipeline_forecast": pipeline_forecast(
            o, as_of=a.as_of, horizon=c.pipeline_horizon, by=("customer_id",)
        ),
        "win_rate": win_rate(o, by=("customer_id", "type"), **window),
        "rfq_activity": rfq_activity(o, **window),
        "lost_sales": lost_sales(o, **window),
        "npi": npi_projects(o, as_of=a.as_of, stall_days=c.stall_days),
        "pipeline_at_risk": pipeline_at_risk(o, as_of=a.as_of, stall_days=c.stall_days),
    }


@step("kamlab.market:share_of_business", "share_of_business", "competitors", "three_c")
def _market_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.market import competitor_activity, share_of_business, three_c

    if len(ds.market) == 0:
        reason = "no market estimates in the data (market table absent or empty)"
        return {
            "unavailable": dict.fromkeys(("share_of_business", "competitors", "three_c"), reason)
        }
    orders = ds.orders[ds.orders["requested_date"] <= a.as_of]
    share = share_of_business(orders, ds.materials, ds.market, month=a.month)
    return {
        "share_of_business": share,
        "competitors": competitor_activity(ds.market, ds.opportunities, month=a.month),
        "three_c": three_c(share, ds.market, month=a.month),
    }


@step("kamlab.satisfaction:visits_vs_plan", "ratings", "issues", "visits")
def _satisfaction_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.satisfaction import issues_closed_on_time, vendor_rating_trend, visits_vs_plan

    c = a.settings.commercial
    window = {"start": _window_start(a), "as_of": a.as_of}
    out = {
        "ratings": vendor_rating_trend(ds.ratings, month=a.month),
        "issues": issues_closed_on_time(ds.complaints, target_days=c.issue_close_days, **window),
    }
    if len(ds.visits) == 0:
        reason = "no visit reports in the data (visits table absent or empty)"
        return {**out, "unavailable": {"visits": reason}}
    out["visits"] = visits_vs_plan(
        ds.visits, plan=c.visit_plan, customers=a.customer_ids(), **window
    )
    return out


_SUPPLY = (
    "stock_position",
    "stock_coverage",
    "stock_health",
    "safety_stock",
    "phase_out",
    "phase_in",
    "allocation",
    "capacity_load",
    "supply_shares",
    "customer_stock",
    "customer_phase_out",
    "supply_at_stake",
    "material_context",
)


@step("kamlab.inventory:supply_view", *_SUPPLY)
def _inventory_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.inventory import latest_customer_forecast, open_order_quantity, supply_view

    stock = ds.stock[ds.stock["snapshot_date"] <= a.as_of]
    if stock.empty:
        return {"unavailable": dict.fromkeys(_SUPPLY, "no stock data in the extracts")}
    if a.forecast is None:
        return {"unavailable": dict.fromkeys(_SUPPLY, "no statistical forecast to cover")}
    orders = ds.orders[ds.orders["order_date"] <= a.as_of]
    view = supply_view(
        stock=stock,
        material_plan=ds.material_plan,
        capacity=ds.capacity,
        materials=a.materials,
        demand=a.demand,
        open_orders=open_order_quantity(orders, ds.deliveries),
        customer_forecast=latest_customer_forecast(a.customer_forecasts, as_of=a.as_of),
        forecast=a.forecast,
        backtest=a.backtest_totals,
        as_of=a.as_of,
        settings=a.settings.inventory,
        horizon=a.settings.forecast.horizon,
    )
    return view.frames()


@step("kamlab.receivables:provision_matrix", "provision", "late_payment")
def _receivables_risk_step(ds: Dataset, a: PackAnalytics) -> dict:
    """Expected credit loss (provision matrix on the month-end ageing history) and each open
    invoice's probability of being paid more than ``late_days`` late.

    The model trains on the settled invoices of :func:`late_model_sample` (at most
    :data:`LATE_MODEL_CUSTOMERS` customers) and scores every open invoice; reading a store,
    both by customer chunk (:func:`_late_payment_by_chunk`), with the same results.
    """
    from kamlab.receivables import late_payment_risk, provision_matrix

    r = a.settings.receivables
    out = {}
    hist = a.ageing_history
    if hist is not None and len(hist):
        out["provision"] = provision_matrix(
            hist, hist[hist["month_end"] == a.as_of], write_off_loss_rate=r.write_off_loss_rate
        ).by_customer
    if "invoices" in a.missing_tables or "payments" in a.missing_tables:
        return out
    source = source_of_chunks()
    if source is not None:
        out["late_payment"] = _late_payment_by_chunk(a, source)
        return out
    out["late_payment"] = late_payment_risk(
        ds.invoices,
        ds.payments,
        as_of=a.as_of,
        late_days=r.late_days,
        instalments=ds.instalments if len(ds.instalments) else None,
        features=_late_features(ds.invoices),
        random_state=r.random_state,
        fit_customers=late_model_sample(a.customer_ids()),
    )
    return out


def late_model_sample(customer_ids: list[str]) -> list[str]:
    """The customers the late-payment model trains on: all, or the
    :data:`LATE_MODEL_CUSTOMERS` first by their chunk hash (stable month to month)."""
    if len(customer_ids) <= LATE_MODEL_CUSTOMERS:
        return list(customer_ids)
    ranked = sorted(customer_ids, key=lambda c: (chunk_of(c, 1 << 62), c))
    return ranked[:LATE_MODEL_CUSTOMERS]


def _late_features(invoices: pd.DataFrame) -> list[str]:
    """Extra model features the invoices carry (the dispute flag, when it is filled)."""
    return [c for c in ("disputed",) if c in invoices.columns and invoices[c].notna().any()]


def _late_payment_by_chunk(a: PackAnalytics, source: str) -> pd.DataFrame:
    """:func:`~kamlab.receivables.late_payment_risk` of the whole store, by customer chunk:
    each chunk's outcomes per day (summed: the portfolio late rate), a fit on the sample
    customers' ledger, then each chunk's open invoices scored.

    A chunk's ledger is read and settled once: the first pass leaves its outcomes in a
    folder of this run (a pickle per chunk) and the second pass scores them from there;
    a worker that cannot see the folder (a Dask worker on another host) reads its chunk
    from the store again — the same outcomes.
    """
    from kamlab.data.store import load
    from kamlab.receivables.risk import fit_late_payment, sum_late_rates

    r = a.settings.receivables
    chunks = customer_chunks(a.customer_ids())
    sample = late_model_sample(a.customer_ids())
    ledger = load(source, customers=sample, tables=_LEDGER)
    features = _late_features(ledger.invoices)  # the flag is filled in the sample or not
    common = {"as_of": a.as_of, "late_days": r.late_days, "features": features}
    with tempfile.TemporaryDirectory(prefix="kamlab-late-") as spill:
        tasks = [((source, ids), {**common, "spill": os.path.join(spill, f"{k}.pkl")})
                 for k, ids in enumerate(chunks)]  # fmt: skip
        daily = map_chunks(_late_payment_chunk, tasks, **placement())
        portfolio = sum_late_rates([d["late_rates"] for d in daily])
        model = fit_late_payment(
            _payment_outcomes(ledger, **common),
            portfolio,
            as_of=a.as_of,
            features=features,
            random_state=r.random_state,
        )
        del ledger
        scored = map_chunks(
            _late_payment_chunk,
            ((args, {**kw, "portfolio": portfolio, "model": model}) for args, kw in tasks),
            **placement(),
        )
    return combine(scored, "late_payment")


def _payment_outcomes(ledger: Dataset, **common: Any) -> pd.DataFrame:
    from kamlab.receivables.risk import payment_outcomes

    instalments = ledger.instalments if len(ledger.instalments) else None
    return payment_outcomes(ledger.invoices, ledger.payments, instalments=instalments, **common)


def _late_payment_chunk(
    source: str,
    customers: list[str],
    *,
    spill: str | None = None,
    portfolio=None,
    model=None,
    **common: Any,
) -> dict[str, pd.DataFrame]:
    """One chunk of :func:`_late_payment_by_chunk`: its outcomes per day (no `model` yet;
    the outcomes are kept at `spill`), or its open invoices scored by `model` (from the
    outcomes at `spill` when that file is there)."""
    from kamlab.data.store import load
    from kamlab.receivables.risk import late_rate_by_day, score_late_payment

    outcomes = None
    if model is not None and spill is not None and os.path.exists(spill):
        outcomes = pd.read_pickle(spill)
    if outcomes is None:
        outcomes = _payment_outcomes(load(source, customers=customers, tables=_LEDGER), **common)
    if model is None:
        if spill is not None:
            with contextlib.suppress(OSError):  # no room: the scoring pass reads it again
                outcomes.to_pickle(f"{spill}.part")
                os.replace(f"{spill}.part", spill)  # a file there is whole
        return {"late_rates": late_rate_by_day(outcomes)}
    scored = score_late_payment(outcomes, portfolio, model, as_of=common["as_of"])
    scored.attrs = {}
    return {"late_payment": scored}


@step("kamlab.pricing:gross_margin", "budget_monthly", "margin_monthly", "bridge")
def _revenue_step(ds: Dataset, a: PackAnalytics) -> dict:
    """Budget by month (for the revenue chart), gross margin by month, and the YTD
    price/volume/mix bridge against last year."""
    from kamlab.budget import budget_in_force
    from kamlab.pricing import gross_margin
    from kamlab.service.plan import price_volume_mix

    rates = dict(a.settings.scorecard.fx_rates) or None
    months = a.demand.assign(month_start=a.demand["period"].dt.start_time)
    margin = gross_margin(
        months, a.materials, by=("customer_id", "period"), date="month_start", rates=rates
    )
    out = {"margin_monthly": margin}
    if len(ds.budget):
        out["budget_monthly"] = (
            budget_in_force(ds.budget, as_of=a.as_of)
            .groupby(["customer_id", "currency", "period"], observed=True, as_index=False)[
                ["planned_quantity", "planned_revenue"]
            ]
            .sum()
        )
    if len(ds.orders):
        out["bridge"] = price_volume_mix(ds.orders, ds.materials, month=a.month, window="ytd")
    return out


@step("kamlab.findings:findings", "findings", "money_at_stake")
def _findings_step(ds: Dataset, a: PackAnalytics) -> dict:
    """The month's findings (:mod:`kamlab.findings`) from the frames above, once per month.

    Last month's findings (new / persisting / resolved) are not read here: the pack compares
    with the previous pack's ``pack.json`` (:func:`kamlab.findings.compare`)."""
    from kamlab.accuracy.challenge import focus_challenges
    from kamlab.at_stake import money_at_stake
    from kamlab.findings import findings

    s = a.settings
    recent = a.customer_demand[a.customer_demand["period"] > a.month - 12]
    revenue = recent.groupby(["customer_id", "currency"], observed=True, as_index=False)[
        "net_value"
    ].sum()
    focus = None
    if a.challenges is not None:
        focus = focus_challenges(
            a.challenges,
            materials=a.materials,
            max_lines=s.accuracy.challenge_max_lines,
            min_value=s.accuracy.challenge_min_value,
        )
    stake = a.supply_at_stake
    short = None if stake is None else stake[stake["kind"] == "safety stock short"]
    table = findings(
        customers=a.customers,
        month=a.month,
        revenue=revenue.rename(columns={"net_value": "revenue"}),
        rules=finding_rules(s),
        sla=a.sla,
        service=a.service if "deliveries" not in a.missing_tables else None,
        air_freight=a.air_freight,
        quality=a.quality if "complaints" not in a.missing_tables else None,
        ageing=_month_end(a.ageing_history, a.as_of),
        top_overdue=a.top_overdue,
        credit=a.credit,
        dso=a.dso,
        pay_monthly=a.pay_monthly,
        accuracy=a.accuracy,
        bias=a.bias,
        challenges=focus,
        plan=a.plan,
        price_audit=a.price_audit,
        price_monthly=a.price_monthly,
        margin=a.margin_monthly,
        lost_sales=a.lost_sales,
        npi=a.npi,
        pipeline_at_risk=a.pipeline_at_risk,
        share_of_business=a.share_of_business,
        customer_stock=a.customer_stock,
        customer_phase_out=a.customer_phase_out,
        stock_short=short,
        allocation=a.allocation,
        capacity_load=a.capacity_load,
        monthly_revenue=a.customer_demand,
    )
    return {"findings": table, "money_at_stake": money_at_stake(table)}


def _month_end(frame: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame | None:
    return None if frame is None else frame[frame["month_end"] == as_of]


def finding_rules(settings: Settings):
    """The :class:`kamlab.findings.FindingRules` of `settings` (resolved once, here)."""
    from kamlab.findings import FindingRules

    sc = settings.scorecard
    return FindingRules(
        otif_red_points=sc.amber_margin,
        accuracy_amber_points=sc.accuracy_amber_margin,
        overdue_grace_days=sc.overdue_grace_days,
        overdue_share_amber=sc.overdue_share_amber,
        overdue_share_red=sc.overdue_share_red,
        overdue_materiality=sc.overdue_materiality,
        dso_green_days=sc.dso_green_days,
        dso_amber_days=sc.dso_amber_days,
        budget_green=sc.budget_green,
        budget_amber=sc.budget_amber,
        streak_months=sc.streak_months,
        realisation_tolerance=settings.commercial.price_tolerance,
    )


@step(
    "kamlab.service:delivery_performance",
    "meeting_lines",
    "open_orders",
    "open_complaints",
    "expiring_prices",
    tables=("customers", "orders", "deliveries", "complaints", "prices"),
)
def _meeting_step(ds: Dataset, a: PackAnalytics) -> dict:
    """What the customer meeting pack lists: the order lines behind the OTIF figure that were
    late or short, the open order lines (backlog), the open complaints and the agreed prices
    that end in the next three months."""
    from kamlab.service import delivery_performance

    s = a.settings.service
    first = (a.month - (a.settings.scorecard.otif_months - 1)).start_time
    recent = ds.orders.loc[(ds.orders["requested_date"] >= first - pd.Timedelta(days=62))]
    lines = delivery_performance(
        recent,
        ds.deliveries,
        as_of=a.as_of,
        date_basis=s.date_basis,
        days_late_tolerance=s.days_late_tolerance,
        days_early_tolerance=s.days_early_tolerance,
        quantity_tolerance=s.quantity_tolerance,
    )
    window = lines["due_date"].between(first, a.as_of) & ~lines["otif"].astype(bool)
    missed = lines.loc[window.to_numpy(dtype=bool), [
        "customer_id", "order_id", "line", "material_id", "due_date", "quantity",
        "delivered_quantity", "first_delivered_date", "days_late", "on_time", "in_full",
    ]].reset_index(drop=True)  # fmt: skip
    o = ds.orders
    is_open = (o["status"].eq("open") & (o["order_date"] <= a.as_of)).to_numpy(dtype=bool)
    delivered = (
        ds.deliveries.loc[ds.deliveries["delivered_date"] <= a.as_of]
        .groupby(["order_id", "line"], as_index=False)["delivered_quantity"]
        .sum()
    )
    backlog = (
        o.loc[
            is_open,
            [
                "customer_id",
                "order_id",
                "line",
                "material_id",
                "requested_date",
                "confirmed_date",
                "quantity",
            ],
        ]  # fmt: skip
        .merge(delivered, on=["order_id", "line"], how="left")
        .assign(open_quantity=lambda f: f["quantity"] - f["delivered_quantity"].fillna(0.0))
    )
    backlog = backlog.loc[backlog["open_quantity"] > 0].reset_index(drop=True)
    c = ds.complaints
    complaints = c.loc[
        ((c["opened_date"] <= a.as_of) & (c["closed_date"].isna() | (c["closed_date"] > a.as_of)))
        .to_numpy(dtype=bool),
        ["customer_id", "complaint_id", "material_id", "opened_date", "category",
         "rejected_quantity"],
    ].reset_index(drop=True)  # fmt: skip
    p = ds.prices
    ending = p["valid_to"].between(
        a.as_of + pd.Timedelta(days=1), a.as_of + pd.DateOffset(months=3)
    )
    prices = p.loc[ending.to_numpy(dtype=bool), [
        "customer_id", "material_id", "source", "valid_from", "valid_to", "price", "price_unit",
        "currency",
    ]].reset_index(drop=True)  # fmt: skip
    return {
        "meeting_lines": missed,
        "open_orders": backlog,
        "open_complaints": complaints,
        "expiring_prices": prices,
    }
