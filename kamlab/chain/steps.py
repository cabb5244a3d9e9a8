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
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import fields as dataclasses_fields

import pandas as pd

from kamlab.chain.errors import ChainError
from kamlab.chain.source import check_month, parse_month
from kamlab.config import DEFAULTS, Settings
from kamlab.data.dataset import Dataset
from kamlab.demand import monthly_demand

__all__ = ["STEPS", "PackAnalytics", "Step", "prepare", "step"]


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
    forecast: pd.DataFrame | None = None  # kamlab.forecast.forecast, all series
    forecast_total: pd.DataFrame | None = None  # aggregate_forecast() per customer
    backtest: pd.DataFrame | None = None  # rolling-origin snapshots (source "statistical")
    accuracy: pd.DataFrame | None = None  # score() by customer x source x lag, volume-pooled
    value_added: pd.DataFrame | None = None  # value_added() by customer x lag
    league: pd.DataFrame | None = None  # fva_league() at lag 1
    bias: pd.DataFrame | None = None  # bias_alerts() of the customer's forecast per material
    challenges: pd.DataFrame | None = None  # challenge_list() of the latest snapshots
    service: pd.DataFrame | None = None  # otif() by customer x month, last 12 months
    service_year: pd.DataFrame | None = None  # otif() by customer over those 12 months
    sla: pd.DataFrame | None = None  # sla_adherence() of the review month's OTIF per customer
    air_freight: pd.DataFrame | None = None  # air_freight() by customer, last 12 months
    quality: pd.DataFrame | None = None  # quality() by customer, last 12 months
    plan: pd.DataFrame | None = None  # plan_vs_actual() by customer x currency x measure
    receivables: pd.DataFrame | None = None  # ageing() of the open items at as_of
    ageing_history: pd.DataFrame | None = None  # ageing_history() at the last month-ends
    dso: pd.DataFrame | None = None  # dso() at each of those month-ends
    credit: pd.DataFrame | None = None  # credit_utilisation() at as_of
    top_overdue: pd.DataFrame | None = None  # top_overdue() per customer and currency
    days_to_pay: pd.DataFrame | None = None  # days_to_pay() by customer, last 12 months
    classes: pd.DataFrame | None = None  # ABC / XYZ per customer, now and a year ago
    matrix: pd.DataFrame | None = None  # key_account_matrix() per customer
    unavailable: dict[str, str] = field(default_factory=dict)
    excluded: pd.DataFrame | None = (
        None  # rows each analysis left out: analysis, table, reason, rows
    )

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

    `requirement` is ``"module"`` or ``"module:attribute"``.
    """

    name: str
    requirement: str
    fields: tuple[str, ...]
    run: Callable[[Dataset, PackAnalytics], dict]


STEPS: list[Step] = []  # in run order


def step(requirement: str, *fields: str) -> Callable:
    """Register the decorated function as the next step, filling `fields` (see :class:`Step`)."""
    unknown = set(fields) - {f.name for f in dataclasses_fields(PackAnalytics)}
    if unknown:
        raise TypeError(f"PackAnalytics has no field(s) {sorted(unknown)}")

    def register(run: Callable[[Dataset, PackAnalytics], dict]) -> Callable:
        name = run.__name__.removeprefix("_").removesuffix("_step")
        STEPS.append(Step(name, requirement, fields, run))
        return run

    return register


def prepare(
    dataset: Dataset,
    month: str | pd.Period,
    *,
    settings: Settings = DEFAULTS,
    on_step: Callable[[str, float], None] | None = None,
) -> PackAnalytics:
    """Compute the month's shared analytics for every customer in `dataset`, once.

    Data after `month` is ignored (the pack is reproducible for a past month); ``as_of``
    is the last day of `month`. `on_step(name, seconds)` is called after each step (timing).
    Raises :class:`ChainError` when `month` lies outside the months that have orders.
    """
    period = parse_month(month)
    check_month(dataset, period)
    as_of = period.to_timestamp(how="end").normalize()
    demand = monthly_demand(dataset.orders, end=period)
    excluded = demand.attrs.get("excluded")
    demand = demand[demand["period"] <= period].reset_index(drop=True)
    demand.attrs = {}  # kept in `excluded`; a frame in attrs breaks later merges
    customer_demand = demand.groupby(
        ["customer_id", "currency", "period"], observed=True, as_index=False
    )[["quantity", "net_value"]].sum()
    snapshots = dataset.customer_forecasts
    if len(snapshots):
        snapshots = snapshots[snapshots["snapshot_date"] <= as_of]
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
    )
    excluded_parts = [] if excluded is None else [excluded.assign(analysis="demand")]
    for s in STEPS:
        if not _available(s.requirement):  # pragma: no cover - transitional
            module = s.requirement.replace(":", ".")
            out.unavailable.update(dict.fromkeys(s.fields, f"{module} is not available yet"))
            continue
        started = time.perf_counter()
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
    return out


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


@step("kamlab.forecast:forecast", "forecast", "forecast_total", "backtest")
def _forecast_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.forecast import aggregate_forecast, backtest, forecast

    f = a.settings.forecast
    series = a.demand[["customer_id", "material_id", "period", "quantity"]]
    common = {
        "level": f.levels,
        "lifecycle": a.materials[["material_id", "lifecycle"]],
        "end": a.month,
        "season_length": f.season_length,
        "min_seasonal_history": f.min_seasonal_history,
        "min_history": f.min_history,
        "phaseout_months": f.phaseout_months,
    }
    fc = forecast(series, f.horizon, **common)
    return {
        "forecast": fc,
        "forecast_total": aggregate_forecast(fc, a.materials, level="customer"),
        "backtest": backtest(
            series, origins=f.backtest_origins, max_lag=f.backtest_max_lag, **common
        ),
    }


@step("kamlab.accuracy:score", "accuracy", "value_added", "league", "bias", "challenges")
def _accuracy_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.accuracy import (
        bias_alerts,
        challenge_list,
        fva_league,
        naive_snapshots,
        score,
        value_added,
    )

    s = a.settings.accuracy
    cols = ["customer_id", "material_id", "snapshot_date", "period", "quantity", "source"]
    actuals = a.demand[["customer_id", "material_id", "period", "quantity"]]
    customer = a.customer_forecasts.assign(source="customer")[cols]
    parts = [customer, naive_snapshots(actuals, lags=s.lags, season_length=s.season_length)[cols]]
    if a.backtest is not None:
        parts.append(a.backtest[cols])
    parts = [p for p in parts if len(p)]
    if not parts:
        reason = f"no forecast to score up to {a.month} (customer, naive or statistical)"
        return {
            "unavailable": dict.fromkeys(
                ("accuracy", "value_added", "league", "bias", "challenges"), reason
            )
        }
    forecasts = pd.concat(parts, ignore_index=True)
    context = {"materials": a.materials, "customers": a.customers, "as_of": a.month}
    fva = value_added(
        actuals,
        forecasts,
        by=["customer_id"],
        lags=s.lags,
        metric=s.fva_metric,
        steps=s.fva_steps,
        **context,
    )
    out = {
        "value_added": fva,
        "league": fva_league(fva, lag=1),
        "accuracy": score(
            actuals,
            forecasts,
            by=["customer_id"],
            lags=s.lags,
            metrics=("wape", "accuracy", "bias", "mase"),
            pooling="volume",
            exclude_lifecycle=s.exclude_lifecycle,
            season_length=s.season_length,
            **context,
        ),
    }
    unavailable = {}
    window_start = a.month - (s.tracking_signal_window - 1)
    if customer["period"].between(window_start, a.month).any():
        out["bias"] = bias_alerts(
            actuals,
            forecasts,
            by=["customer_id", "material_id"],
            source="customer",
            lags=s.bias_lags,
            window=s.tracking_signal_window,
            limit=s.tracking_signal_limit,
            **context,
        )
    else:
        unavailable["bias"] = (
            f"no customer forecast for {window_start}–{a.month} "
            f"(the {s.tracking_signal_window}-month bias window)"
        )
    if customer.empty:
        unavailable["challenges"] = f"no customer forecast up to {a.month}"
    elif a.forecast is not None:
        out["challenges"] = challenge_list(
            a.customer_forecasts,
            a.forecast,
            a.demand,
            as_of=a.as_of,
            level=s.challenge_level,
            deviation=s.challenge_deviation,
            last_year_deviation=s.challenge_last_year_deviation,
        )
    if unavailable:
        out["unavailable"] = unavailable
    return out


@step("kamlab.service:otif", "service", "service_year", "sla", "air_freight", "quality", "plan")
def _service_step(ds: Dataset, a: PackAnalytics) -> dict:
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
        as_of=a.as_of,
        date_basis=s.date_basis,
        days_late_tolerance=s.days_late_tolerance,
        days_early_tolerance=s.days_early_tolerance,
        quantity_tolerance=s.quantity_tolerance,
    )
    year_start = a.month - 11
    recent = lines[lines["period"] >= year_start]
    start = year_start.to_timestamp()
    monthly = otif(recent, by=["customer_id", "period"])
    this_month = monthly[monthly["period"] == a.month].drop(columns="period")
    return {
        "service": monthly,
        "sla": sla_adherence(this_month, a.customers),
        "service_year": otif(recent, by=["customer_id"]),
        "air_freight": air_freight(ds.deliveries, ds.orders, as_of=a.as_of, start=start),
        "quality": quality(ds.complaints, ds.deliveries, ds.orders, as_of=a.as_of, start=start),
        "plan": plan_vs_actual(ds.orders, ds.budget, ds.materials, month=a.month),
    }


@step(
    "kamlab.receivables:ageing",
    "receivables",
    "ageing_history",
    "dso",
    "credit",
    "top_overdue",
    "days_to_pay",
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
            per_customer, keys=["customer_id"], window=window, end=end, cutoffs=c.xyz_cutoffs
        )
        classes.append(
            ranked[["customer_id", "net_value", "currency", "share", "rank", "abc_class"]]
            .merge(variability[["customer_id", "cv", "xyz_class"]], on="customer_id", how="outer")
            .assign(when=label)
        )
    if not classes:
        reason = f"no demand in the {window} months up to {a.month}"
        return {"unavailable": dict.fromkeys(("classes", "matrix"), reason)}
    service_year = (
        a.service_year.set_index("customer_id")["otif"] if a.service_year is not None else None
    )
    accuracy = None
    if a.accuracy is not None:
        acc = a.accuracy
        acc = acc[(acc["source"] == "customer") & (acc["lag"] == 1) & (acc["metric"] == "accuracy")]
        accuracy = acc.set_index("customer_id")["value"]
    criteria = account_criteria(
        a.demand,
        rates=rates,
        as_of=a.month,
        customers=a.customers,
        materials=a.materials,
        payment_behaviour=_by_customer(a.days_to_pay, "days_beyond_terms"),
        otif=service_year,
        forecast_accuracy=accuracy,
        complaints=_by_customer(a.quality, "ppm"),
        months=c.criteria_months,
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
