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
    forecast: pd.DataFrame | None = None
    backtest: pd.DataFrame | None = None
    accuracy: pd.DataFrame | None = None
    challenges: pd.DataFrame | None = None
    classes: pd.DataFrame | None = None
    matrix: pd.DataFrame | None = None
    service: pd.DataFrame | None = None
    plan: pd.DataFrame | None = None
    receivables: pd.DataFrame | None = None
    ageing_history: pd.DataFrame | None = None
    unavailable: dict[str, str] = field(default_factory=dict)
    excluded: pd.DataFrame | None = None

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
    demand = demand[demand["period"] <= period].reset_index(drop=True)
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
        excluded=demand.attrs.get("excluded"),
    )
    for requirement, names, step in _STEPS:
        if step is None or not _available(requirement):
            module = requirement.replace(":", ".")
            out.unavailable.update(dict.fromkeys(names, f"{module} is not available yet"))
            continue
        for name, value in step(dataset, out).items():
            setattr(out, name, value)
    return out


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


# (requirement "module" or "module:attribute", fields it fills, step); a step returns
# {field: frame}. Steps run in this order, so later ones may use earlier fields.
# A step of None marks a module whose API has not landed yet.
_STEPS: list[tuple[str, tuple[str, ...], Callable[[Dataset, PackAnalytics], dict] | None]] = [
    ("kamlab.forecast:forecast", ("forecast", "backtest"), None),
    ("kamlab.accuracy:score", ("accuracy", "challenges"), None),
    ("kamlab.classify:abc", ("classes", "matrix"), None),
    ("kamlab.service:otif", ("service", "plan"), None),
    ("kamlab.receivables:ageing", ("receivables", "ageing_history"), None),
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


def load_analytics(
    source: str | os.PathLike | None,
    month: str | pd.Period | None,
    *,
    settings: Settings | str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = ".kamlab-cache",
) -> PackAnalytics:
    """The shared analytics of `month` for the data at `source`: memory, disk cache, or prepare.

    `source` as in :func:`resolve_source`; `month` None means the month of the latest order.
    `settings` is a :class:`Settings`, a path to a ``kamlab.toml``, or None (``./kamlab.toml``
    if present, else the defaults). With ``cache_dir=None`` nothing is written to disk.
    """
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
    if memo in _MEMORY:
        return _MEMORY[memo]
    cached = None
    if cache_dir is not None:
        cached = Path(cache_dir) / f"analytics-{analytics_key(path, period, settings)}.pkl"
        if cached.exists():
            with cached.open("rb") as fh:
                result = pickle.load(fh)
            _MEMORY.clear()
            _MEMORY[memo] = result
            return result
    result = prepare(
        dataset if dataset is not None else load_dataset(path), period, settings=settings
    )
    if cached is not None:
        _atomic_pickle(result, cached)
    _MEMORY.clear()
    _MEMORY[memo] = result
    return result


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
