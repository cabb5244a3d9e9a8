"""Shared analytics of one pack: computed once per month and data set, cached on disk.

:func:`prepare` runs every analytics module over the whole portfolio once (demand,
forecasts and their intervals, backtests, accuracy scores, classes, service, receivables)
and returns a :class:`PackAnalytics`; each customer's scorecard only selects its slice.
:func:`load_analytics` finds it in the cache (key: hash of the data file, the settings, the
month and the kamlab version) or prepares and stores it, and keeps it in memory so a warm
kernel serving many customers loads it once.

A module that has not landed yet leaves its fields ``None`` and says so in
``PackAnalytics.unavailable``; the scorecard shows that note instead of failing.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import pickle
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import kamlab
from kamlab.config import DEFAULTS, Settings, load_settings
from kamlab.data.dataset import Dataset
from kamlab.demand import monthly_demand

__all__ = [
    "PackAnalytics",
    "ScorecardError",
    "analytics_key",
    "load_analytics",
    "latest_month",
    "load_dataset",
    "parse_month",
    "prepare",
    "resolve_source",
]

DATABASE_ENV = "KAMLAB_DATABASE"
CACHE_ENV = "KAMLAB_CACHE"

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class ScorecardError(ValueError):
    """A scorecard or pack parameter is wrong (unknown customer, malformed month, no data)."""


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
    actions: pd.DataFrame | None = None  # agreed actions (optional `actions` table), as given
    missing_tables: tuple[str, ...] = ()  # contract tables with no rows in the data
    excluded: pd.DataFrame | None = (
        None  # rows each analysis left out: analysis, table, reason, rows
    )

    def customer_ids(self) -> list[str]:
        return self.customers["customer_id"].astype(str).tolist()

    def check_customer(self, customer_id: str) -> None:
        """Raise :class:`ScorecardError` unless `customer_id` is in the data."""
        known = self.customer_ids()
        if customer_id not in known:
            shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
            raise ScorecardError(
                f"unknown customer {customer_id!r}: not in the data "
                f"({len(known)} customers: {shown})"
            )


def parse_month(month: str | pd.Period) -> pd.Period:
    """The month as a monthly ``Period``; raises :class:`ScorecardError` unless ``YYYY-MM``.

    >>> str(parse_month("2025-06"))
    '2025-06'
    """
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    if not isinstance(month, str) or not _MONTH.fullmatch(month):
        raise ScorecardError(f"month must be 'YYYY-MM' (e.g. '2025-06'), got {month!r}")
    return pd.Period(month, "M")


def resolve_source(source: str | os.PathLike | None = None) -> Path:
    """The database path: `source`, else ``$KAMLAB_DATABASE``, else ``[pack] database``.

    Raises :class:`ScorecardError` if the file does not exist.
    """
    if source is None:
        source = os.environ.get(DATABASE_ENV) or load_settings().pack.database
    path = Path(source)
    if not path.is_file():
        raise ScorecardError(f"data source {str(path)!r} does not exist; run `kamlab ingest` first")
    return path


def load_dataset(
    source: str | os.PathLike | None = None, customers: list[str] | None = None
) -> Dataset:
    """Load the DuckDB store at `source` (see :func:`resolve_source`; only `customers` if given)."""
    from kamlab.data import store

    return store.load(resolve_source(source), customers=customers)


def latest_month(dataset: Dataset) -> pd.Period:
    """The month of the latest order date in `dataset`: the default review month."""
    if dataset.orders.empty:
        raise ScorecardError("the data holds no orders: give the month explicitly")
    return dataset.orders["order_date"].max().to_period("M")


def prepare(
    dataset: Dataset, month: str | pd.Period, *, settings: Settings = DEFAULTS
) -> PackAnalytics:
    """Compute the month's shared analytics for every customer in `dataset`, once.

    Data after `month` is ignored (the pack is reproducible for a past month); ``as_of``
    is the last day of `month`.
    """
    period = parse_month(month)
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
        actions=getattr(dataset, "actions", None),
        missing_tables=tuple(n for n, f in dataset.tables().items() if f.empty),
    )
    excluded_parts = [] if excluded is None else [excluded.assign(analysis="demand")]
    for requirement, names, step in _STEPS:
        if step is None or not _available(requirement):  # pragma: no cover - transitional
            module = requirement.replace(":", ".")
            out.unavailable.update(dict.fromkeys(names, f"{module} is not available yet"))
            continue
        for name, value in step(dataset, out).items():
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
        "bias": bias_alerts(
            actuals,
            forecasts,
            by=["customer_id", "material_id"],
            source="customer",
            lags=s.bias_lags,
            window=s.tracking_signal_window,
            limit=s.tracking_signal_limit,
            **context,
        ),
    }
    if a.forecast is not None:
        out["challenges"] = challenge_list(
            a.customer_forecasts,
            a.forecast,
            a.demand,
            as_of=a.as_of,
            level=s.challenge_level,
            deviation=s.challenge_deviation,
            last_year_deviation=s.challenge_last_year_deviation,
        )
    return out


def _service_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.service import air_freight, delivery_performance, otif, plan_vs_actual, quality

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
    return {
        "service": otif(recent, by=["customer_id", "period"]),
        "service_year": otif(recent, by=["customer_id"]),
        "air_freight": air_freight(ds.deliveries, ds.orders, as_of=a.as_of, start=start),
        "quality": quality(ds.complaints, ds.deliveries, ds.orders, as_of=a.as_of, start=start),
        "plan": plan_vs_actual(ds.orders, ds.budget, ds.materials, month=a.month),
    }


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


def _classify_step(ds: Dataset, a: PackAnalytics) -> dict:
    from kamlab.classify import abc, account_criteria, key_account_matrix, xyz

    c, sc = a.settings.classify, a.settings.scorecard
    demand = a.demand
    currencies = sorted(demand["currency"].dropna().unique())
    rates = dict(sc.fx_rates) or None
    if len(currencies) > 1 and rates is None:
        reason = (
            f"revenue is in several currencies ({', '.join(currencies)}): set [scorecard] "
            "fx_rates in kamlab.toml to rank customers and place them in the matrix"
        )
        return {"unavailable": dict.fromkeys(("classes", "matrix"), reason)}
    if rates is not None:
        missing = sorted(set(currencies) - set(rates))
        if missing:
            raise ScorecardError(f"[scorecard] fx_rates has no rate for {missing}")
        demand = demand.assign(
            net_value=demand["net_value"] * demand["currency"].map(rates).astype("float64"),
            currency=sc.reporting_currency,
        )
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


# (requirement "module" or "module:attribute", fields it fills, step); a step returns
# {field: frame}. Steps run in this order, so later ones may use earlier fields.
_STEPS: list[tuple[str, tuple[str, ...], Callable[[Dataset, PackAnalytics], dict] | None]] = [
    ("kamlab.forecast:forecast", ("forecast", "forecast_total", "backtest"), _forecast_step),
    (
        "kamlab.accuracy:score",
        ("accuracy", "value_added", "league", "bias", "challenges"),
        _accuracy_step,
    ),
    (
        "kamlab.service:otif",
        ("service", "service_year", "air_freight", "quality", "plan"),
        _service_step,
    ),
    (
        "kamlab.receivables:ageing",
        ("receivables", "ageing_history", "dso", "credit", "top_overdue", "days_to_pay"),
        _receivables_step,
    ),
    ("kamlab.classify:key_account_matrix", ("classes", "matrix"), _classify_step),
]


def analytics_key(source: str | os.PathLike, month: str | pd.Period, settings: Settings) -> str:
    """Cache key: sha256 of the data file's bytes, the settings, the month and kamlab's version."""
    digest = hashlib.sha256()
    with open(source, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(repr(settings).encode())
    digest.update(str(parse_month(month)).encode())
    digest.update(kamlab.__version__.encode())
    return digest.hexdigest()[:24]


_MEMORY: dict[tuple, PackAnalytics] = {}  # the last analytics loaded in this process
_LATEST: dict[tuple, pd.Period] = {}  # default month per data file
_ON_DISK: set[tuple] = set()  # (memo, cache_dir) known to hold the memo's analytics


def load_analytics(
    source: str | os.PathLike | None,
    month: str | pd.Period | None,
    *,
    settings: Settings | str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = "",
) -> PackAnalytics:
    """The shared analytics of `month` for the data at `source`: memory, disk cache, or prepare.

    `source` as in :func:`resolve_source`; `month` None means the month of the latest order.
    `settings` is a :class:`Settings`, a path to a ``kamlab.toml``, or None (``./kamlab.toml``
    if present, else the defaults). `cache_dir` default: ``$KAMLAB_CACHE``, else
    ``.kamlab-cache``; with ``cache_dir=None`` nothing is written to disk.
    """
    if cache_dir == "":
        cache_dir = os.environ.get(CACHE_ENV) or ".kamlab-cache"
    path = resolve_source(source)
    stat = path.stat()
    if not isinstance(settings, Settings):
        settings = load_settings(settings)
    dataset = None
    if month is None:
        data_id = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if data_id not in _LATEST:
            dataset = load_dataset(path)
            _LATEST[data_id] = latest_month(dataset)
        month = _LATEST[data_id]
    period = parse_month(month)
    memo = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, str(period), repr(settings))
    if memo in _MEMORY and (cache_dir is None or (memo, str(cache_dir)) in _ON_DISK):
        return _MEMORY[memo]
    cached = None
    if cache_dir is not None:
        cached = Path(cache_dir) / f"analytics-{analytics_key(path, period, settings)}.pkl"
        _ON_DISK.add((memo, str(cache_dir)))
        if memo in _MEMORY:  # computed without this cache: store it there for other processes
            if not cached.exists():
                _atomic_pickle(_MEMORY[memo], cached)
            return _MEMORY[memo]
        if cached.exists():
            with cached.open("rb") as fh:
                result = pickle.load(fh)
            _remember(memo, result)
            return result
    result = prepare(
        dataset if dataset is not None else load_dataset(path), period, settings=settings
    )
    if cached is not None:
        _atomic_pickle(result, cached)
    _remember(memo, result)
    return result


def _remember(memo: tuple, result: PackAnalytics) -> None:
    """Keep only the latest analytics in memory (a kernel serves one month at a time)."""
    if memo not in _MEMORY:
        _MEMORY.clear()
        _ON_DISK.intersection_update({k for k in _ON_DISK if k[0] == memo})
    _MEMORY[memo] = result


def _atomic_pickle(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
