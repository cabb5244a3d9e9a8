"""The one home of kamlab's settings: bucket edges, thresholds, weights and paths.

Every default lives here, in one frozen dataclass per domain concept. A project overrides
any of them in a ``kamlab.toml`` whose tables mirror the sections below::

    [receivables]
    bucket_edges = [0, 30, 60, 90, 120]
    basis = "due_date"

    [classify]
    abc_cutoffs = [0.8, 0.95]

    [mapping.orders]            # extract column -> contract column
    VBELN = "order_id"
    POSNR = "line"

    [formats]
    date_format = "%d.%m.%Y"    # German SAP export
    decimal = ","
    thousands = "."

Analytics functions take these values as keyword arguments whose defaults come from
:data:`DEFAULTS`; the scorecard and pack pass ``load_settings()`` values explicitly, so a
function's result never depends on hidden global state.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULTS",
    "AccuracySettings",
    "ClassifySettings",
    "ForecastSettings",
    "FormatSettings",
    "PackSettings",
    "ReceivablesSettings",
    "ScorecardSettings",
    "ServiceSettings",
    "Settings",
    "SettingsError",
    "load_settings",
    "settings_from_mapping",
]


class SettingsError(ValueError):
    """A ``kamlab.toml`` names an unknown section or key, or gives a value of the wrong type."""


@dataclass(frozen=True)
class FormatSettings:
    """How extract files spell dates and numbers (SAP exports follow the user's locale)."""

    date_format: str | None = (
        None  # None: ISO 8601 (YYYY-MM-DD); e.g. "%d.%m.%Y" (DE), "%d/%m/%Y" (IT)
    )
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    csv_separator: str | None = None  # None: sniffed from the header line (, ; tab |)
    period_format: str = "%Y-%m"  # months (e.g. "%m.%Y", "%Y%m" for SAP SPMON); ISO also read
    blank_flag_false: bool = False  # True: an empty flag cell is False (SAP "X"/blank flags)


@dataclass(frozen=True)
class ForecastSettings:
    """Statistical forecast engine (kamlab.forecast)."""

    horizon: int = 12  # months ahead
    levels: tuple[int, ...] = (80, 95)  # prediction-interval coverage, %
    season_length: int = 12
    min_seasonal_history: int = 24  # months of history before a seasonal model is tried
    backtest_origins: int = 24  # rolling origins (months) kept for accuracy scoring
    backtest_max_lag: int = 6
    min_history: int = 3  # months since the first demand before a model is fitted (else: mean)
    phaseout_months: int = 6  # a phase-out material's forecast tapers to zero over this many
    chunk_size: int = 1000  # series per parallel task (amortises process start-up)
    tsb_alpha: float = 0.2  # intermittent demand: TSB smoothing of demand sizes
    tsb_beta: float = 0.2  # intermittent demand: TSB smoothing of the demand probability


@dataclass(frozen=True)
class AccuracySettings:
    """Forecast-accuracy scoring and the challenge list (kamlab.accuracy)."""

    lags: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
    tracking_signal_limit: float = 4.0  # |TS| above this = persistent bias
    tracking_signal_window: int = 6  # months
    challenge_level: int = 80  # customer forecast outside this statistical interval -> challenge
    challenge_deviation: float = 0.30  # or deviating more than 30 % from the statistical forecast
    challenge_last_year_deviation: float = 0.50  # or more than 50 % from last year's actuals
    metrics: tuple[str, ...] = (  # metrics score() reports by default
        "mae",
        "rmse",
        "mape",
        "smape",
        "wape",
        "accuracy",
        "bias",
        "mase",
        "rmsse",
    )
    pooling: tuple[str, ...] = ("volume", "series_mean")  # how score() pools across series
    season_length: int = 12  # m of the seasonal-naive scale of MASE / RMSSE (1 if too short)
    exclude_lifecycle: tuple[str, ...] = ("phase-out",)  # forecasts for these are not scored
    trend_months: int = 24  # target months shown by accuracy_trend
    fva_metric: str = "wape"  # error compared across steps by value_added
    fva_steps: tuple[str, ...] = ("naive", "customer", "statistical")  # forecast process order
    bias_lags: tuple[int, ...] = (1,)  # lags at which bias_alerts tracks the signal
    challenge_max_lines: int = 10  # focused challenge list: lines per customer on the page
    challenge_min_value: float = 2000.0  # ... each with at least this value at stake (currency)


@dataclass(frozen=True)
class ClassifySettings:
    """Portfolio classification (kamlab.classify)."""

    abc_cutoffs: tuple[float, float] = (0.80, 0.95)  # cumulative revenue share closing A and B
    xyz_cutoffs: tuple[float, float] = (0.5, 1.0)  # coefficient of variation closing X and Y
    xyz_window: int = 12  # months of demand (ending at `end`) whose CV decides XYZ
    adi_cutoff: float = 1.32  # Syntetos-Boylan
    cv2_cutoff: float = 0.49
    matrix_threshold: float = 0.5  # score (0-1) dividing high from low on both matrix axes
    attractiveness_weights: dict[str, float] = field(
        default_factory=lambda: {
            "revenue": 0.35,
            "growth": 0.20,
            "margin": 0.20,
            "payment_behaviour": 0.25,
        }
    )
    strength_weights: dict[str, float] = field(
        default_factory=lambda: {
            "share_of_business": 0.25,
            "otif": 0.30,
            "forecast_accuracy": 0.25,
            "complaints": 0.20,
        }
    )
    # matrix criteria where a lower raw value is better (ranked in reverse before scaling)
    lower_is_better: tuple[str, ...] = ("payment_behaviour", "complaints", "days_beyond_terms")
    criteria_months: int = 12  # account_criteria: revenue window; growth = it vs the one before
    segments_k_range: tuple[int, int] = (2, 6)  # KMeans k tried, inclusive; best silhouette wins
    segments_n_init: int = 10  # KMeans restarts (fixed, so results do not vary by version)
    segments_describe_z: float = 0.5  # |centroid z-score| from which a feature describes a segment
    segments_log_features: tuple[str, ...] = ("revenue",)  # Pareto-skewed: log before scaling
    random_state: int = 0


@dataclass(frozen=True)
class ServiceSettings:
    """Service KPIs: OTIF / OTD (kamlab.service)."""

    date_basis: str = "requested"  # or "confirmed"
    days_late_tolerance: int = 0
    days_early_tolerance: int | None = None  # None: early deliveries count as on time
    quantity_tolerance: float = 0.0  # fraction short still counted in full


@dataclass(frozen=True)
class ReceivablesSettings:
    """Receivables ageing and behaviour (kamlab.receivables)."""

    basis: str = "due_date"  # or "posting_date"
    bucket_edges: tuple[int, ...] = (0, 30, 60, 90, 120)  # not due | 1-30 | ... | >120
    history_months: int = 12
    late_days: int = 30  # late-payment risk: paid more than this many days after due date
    credit_warning: float = 0.9  # utilisation above this is amber, above 1 red
    dso_simple_months: int = 3  # simple DSO: receivables / sales of the last 3 months x days
    dso_countback_months: int = 24  # countback DSO walks back at most this many months
    top_overdue: int = 10  # invoices listed per currency in the top-overdue table
    write_off_loss_rate: float = 1.0  # provision matrix: share of the last bucket (>120) lost
    random_state: int = 0  # late-payment model


@dataclass(frozen=True)
class ScorecardSettings:
    """Red/amber/green rules for the scorecard tiles, the priority and the commentary.

    Thresholds were calibrated on the demo's month-ends before the review month (a
    validation window, never the month shown), so that a normal account is green or amber
    and the scripted problems are red. Default demo (40 customers, review 2026-10), share
    of the 32 unscripted accounts' customer-months that would be red: OTIF pooled over 3
    months more than 5 points under target 12 % (one month alone: about 25 %, too noisy);
    DSO more than 30 days over terms 8 %; more than 15 % of receivables over 30 days
    overdue 6 %. In the review month 15 of 40 accounts are red (4 of them scripted
    stories), 18 amber, 7 green. ``tests/test_pages.py`` rechecks this on a smaller demo. Amber = within `amber_margin` (OTIF) or
    `accuracy_amber_margin` of target; a KPI with no target or no data is grey.
    """

    amber_margin: float = 0.05  # OTIF: amber down to target - 5 points
    overdue_share_red: float = 0.15  # share of open receivables > overdue_grace_days overdue
    overdue_share_amber: float = 0.05
    # portfolio ranking (ABC) and the key-account matrix add revenue across customers: with
    # several currencies they need rates, units of `reporting_currency` per unit of each
    reporting_currency: str = "EUR"
    fx_rates: dict[str, float] = field(default_factory=dict)  # e.g. {"EUR": 1.0, "USD": 0.92}
    revenue_window_months: int = 12  # ABC / XYZ on the last 12 months, movement vs a year ago
    dso_amber_days: int = 30  # DSO tile: amber up to terms + 30 days, red beyond
    dso_green_days: int = 10  # DSO tile: green up to terms + 10 days
    otif_months: int = 3  # OTIF tile pooled over the last 3 months (one month is too noisy)
    accuracy_amber_margin: float = 0.10  # forecast accuracy: amber down to target - 10 points
    budget_green: float = -0.03  # revenue YTD vs plan: green from -3 %, amber from -15 %
    budget_amber: float = -0.15
    overdue_grace_days: int = 30  # a few days overdue is not a problem: count > 30 days only
    # red only when the long-overdue amount is material: at least this share of 12 months' revenue
    overdue_materiality: float = 0.01
    # what-changed commentary: a change is material from these sizes (points / days / share)
    change_otif: float = 0.05
    change_dso_days: float = 10.0
    change_overdue_share: float = 0.05
    change_credit: float = 0.15
    growth_material: float = 0.15  # revenue, last 12 months vs the 12 before
    # priority: money at stake in the reporting currency (fx_rates) x (1 + weight x overdue actions)
    overdue_action_weight: float = 0.25
    # how much of each kind of money at stake counts in the priority score: cash at risk in
    # full; revenue-type amounts (a gap to plan, a forecast deviation) by the margin they carry
    stake_weights: dict[str, float] = field(
        default_factory=lambda: {
            "overdue": 1.0,
            "expected_loss": 1.0,
            "service_cost": 1.0,
            "late_risk": 0.3,  # cash late, not lost
            "revenue_gap": 0.3,
            "challenged_forecast": 0.3,
            "lost_sales": 0.3,
            "price_leakage": 1.0,
            "stock_at_risk": 1.0,
        }
    )


@dataclass(frozen=True)
class PackSettings:
    """Monthly pack build (kamlab.pack)."""

    reports_dir: str = "reports"
    database: str = "data/kam.duckdb"
    workers: int = 2
    timeout_seconds: int = 600  # per customer notebook
    max_scorecard_kb: int = 300


@dataclass(frozen=True)
class Settings:
    """All of kamlab's settings; ``mapping`` maps table -> {extract column: contract column}."""

    formats: FormatSettings = field(default_factory=FormatSettings)
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    accuracy: AccuracySettings = field(default_factory=AccuracySettings)
    classify: ClassifySettings = field(default_factory=ClassifySettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    receivables: ReceivablesSettings = field(default_factory=ReceivablesSettings)
    scorecard: ScorecardSettings = field(default_factory=ScorecardSettings)
    pack: PackSettings = field(default_factory=PackSettings)
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)


DEFAULTS = Settings()


def _coerce(where: str, default: Any, value: Any) -> Any:
    """Return `value` shaped like `default` (lists become tuples), or raise SettingsError."""
    if isinstance(default, tuple):
        if not isinstance(value, list):
            raise SettingsError(f"{where}: expected a list, got {value!r}")
        return tuple(value)
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise SettingsError(f"{where}: expected a table, got {value!r}")
        return {**default, **value}
    if isinstance(default, bool) or default is None:
        return value
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if not isinstance(value, type(default)):
        raise SettingsError(f"{where}: expected {type(default).__name__}, got {value!r}")
    return value


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from `path` (default ``./kamlab.toml`` if it exists) over the defaults.

    Unknown sections or keys raise :class:`SettingsError` naming them, so a typo never
    silently falls back to a default. Callers that run a pack use
    :func:`kamlab.chain.resolve_settings`, which also accepts resolved settings.
    """
    if path is None:
        path = Path("kamlab.toml")
        if not path.exists():
            return DEFAULTS
    path = Path(path)
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return settings_from_mapping(raw, where=path.name)


def settings_from_mapping(raw: dict[str, Any], *, where: str = "kamlab.toml") -> Settings:
    """Settings from tables shaped like a ``kamlab.toml`` (`where` names it in errors)."""
    changes: dict[str, Any] = {}
    for section, values in raw.items():
        if section == "mapping":
            if not all(isinstance(v, dict) for v in values.values()):
                raise SettingsError(f"{where} [mapping.TABLE]: each table maps names to names")
            changes["mapping"] = {t: dict(m) for t, m in values.items()}
            continue
        if section not in {f.name for f in dataclasses.fields(Settings)}:
            raise SettingsError(f"{where}: unknown section [{section}]")
        current = getattr(DEFAULTS, section)
        known = {f.name for f in dataclasses.fields(current)}
        unknown = set(values) - known
        if unknown:
            raise SettingsError(
                f"{where} [{section}]: unknown key(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        coerced = {
            k: _coerce(f"{where} [{section}] {k}", getattr(current, k), v)
            for k, v in values.items()
        }
        changes[section] = dataclasses.replace(current, **coerced)
    return dataclasses.replace(DEFAULTS, **changes)
