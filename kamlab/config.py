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
:data:`DEFAULTS`; :mod:`kamlab.chain` resolves the settings once per pack
(``--config``, else ``./kamlab.toml``, else these defaults) and passes them explicitly, so
a function's result never depends on hidden global state.

Every value is checked by type and by range or allowed values, both declared in the field's
annotation beside it (``horizon: AtLeast1 = 12``; :class:`Allowed`), so a new setting is
validated the moment it is declared. A mistake raises :class:`SettingsError` — one line
naming the file, the key, what is allowed and what was given — which the CLI reports with
exit code 2, before any analytics run.
"""

from __future__ import annotations

import codecs
import dataclasses
import itertools
import json
import math
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

__all__ = [
    "DEFAULTS",
    "Allowed",
    "AccuracySettings",
    "BudgetSettings",
    "CacheSettings",
    "ClassifySettings",
    "CommercialSettings",
    "ForecastSettings",
    "FormatSettings",
    "InventorySettings",
    "PackSettings",
    "ReceivablesSettings",
    "ScorecardSettings",
    "ServiceSettings",
    "Settings",
    "SettingsError",
    "at_least",
    "check_settings",
    "load_settings",
    "one_of",
    "settings_from_mapping",
]


class SettingsError(ValueError):
    """A ``kamlab.toml`` is missing or not TOML, names an unknown section or key, or gives a
    value of the wrong type or outside its allowed values (CLI exit code 2)."""


@dataclass(frozen=True)
class Allowed:
    """A setting's allowed values beyond its type, declared in its annotation beside it:
    ``horizon: Annotated[int, at_least(1)] = 12``. `words` says what is allowed (for the
    one-line error), `check` tells whether a value (already of the right type) is."""

    words: str
    check: Callable[[Any], bool]


def at_least(low: float) -> Allowed:
    return Allowed(f"{low:g} or more", lambda v: v >= low)


def one_of(*values: str) -> Allowed:
    names = [repr(v) for v in values]
    words = " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)
    return Allowed(words, lambda v: v in values)


def _is_encoding(value: str) -> bool:
    try:
        codecs.lookup(value)
    except LookupError:
        return False
    return True


def _are_edges(edges: tuple[int, ...]) -> bool:
    return len(edges) >= 1 and edges[0] == 0 and all(a < b for a, b in itertools.pairwise(edges))


def _increasing(values: tuple[float, ...]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


# CSS @page sizes a printed page may take ([pack] paper)
PAPER_SIZES = ("A3", "A4", "A5", "letter", "legal")

# the kinds of setting, each with its rule (a section's fields use these in their annotations)
AtLeast0 = Annotated[int, at_least(0)]  # counts and days that may be zero
AtLeast1 = Annotated[int, at_least(1)]  # months, windows, horizons, lags, counts
NonNegative = Annotated[float, at_least(0)]  # tolerances, margins, weights
Positive = Annotated[float, Allowed("more than 0", lambda v: v > 0)]  # limits and rates
Probability = Annotated[
    float, Allowed("a probability between 0 and 1 (both excluded)", lambda v: 0 < v < 1)
]
Share = Annotated[float, Allowed("a share in (0, 1]", lambda v: 0 < v <= 1)]
_SCORE = Allowed("a value in [0, 1]", lambda v: 0 <= v <= 1)
_TOLERANCE = Allowed("a share in [0, 1)", lambda v: 0 <= v < 1)
_COVERAGE = Allowed("a coverage in %, 1 to 99", lambda v: 0 < v < 100)
_COVERAGES = Allowed("coverages in %, each 1 to 99", lambda v: all(0 < x < 100 for x in v))
_EACH_AT_LEAST_1 = Allowed("whole numbers, each 1 or more", lambda v: all(x >= 1 for x in v))
_WEIGHTS = Allowed("numbers, each 0 or more", lambda v: all(x >= 0 for x in v.values()))
_RATES = Allowed(
    "exchange rates, each more than 0 (units of the reporting currency per unit)",
    lambda v: all(x > 0 for x in v.values()),
)
_LANGUAGE_TABLE = Allowed(
    "a language per account manager: en, de or it",
    lambda v: all(x in ("en", "de", "it") for x in v.values()),
)
_EDGES = Allowed("increasing whole days starting at 0, e.g. [0, 30, 60]", _are_edges)
_CUTOFF_SHARES = Allowed(
    "two increasing shares in (0, 1], e.g. [0.8, 0.95]",
    lambda v: all(0 < c <= 1 for c in v) and _increasing(v),
)
_INCREASING_POSITIVE = Allowed(
    "two increasing numbers above 0, e.g. [0.5, 1.0]", lambda v: v[0] > 0 and _increasing(v)
)
_K_RANGE = Allowed(
    "two whole numbers 2 <= first <= second, e.g. [2, 6]", lambda v: 2 <= v[0] <= v[1]
)
_PRICE_RISES = Allowed(
    "a fraction per product family above -1, e.g. {Valves = 0.03}",
    lambda v: all(x > -1 for x in v.values()),
)
_ENCODING = Allowed("an encoding Python knows, e.g. 'utf-8', 'cp1252'", _is_encoding)
_THOUSANDS = one_of("'", ",", ".", " ")
_SEPARATOR = Allowed("one of ',', ';', tab, '|'", lambda v: v in (",", ";", "\t", "|"))


@dataclass(frozen=True)
class FormatSettings:
    """How extract files spell dates and numbers (SAP exports follow the user's locale)."""

    date_format: str | None = (
        None  # None: ISO 8601 (YYYY-MM-DD); e.g. "%d.%m.%Y" (DE), "%d/%m/%Y" (IT)
    )
    decimal: Annotated[str, one_of(".", ",")] = "."
    thousands: Annotated[str, _THOUSANDS] | None = None
    encoding: Annotated[str, _ENCODING] = "utf-8"
    csv_separator: Annotated[str, _SEPARATOR] | None = (
        None  # None: sniffed from the header line (, ; tab |)
    )
    period_format: str = "%Y-%m"  # months (e.g. "%m.%Y", "%Y%m" for SAP SPMON); ISO also read
    blank_flag_false: bool = False  # True: an empty flag cell is False (SAP "X"/blank flags)


@dataclass(frozen=True)
class ForecastSettings:
    """Statistical forecast engine (kamlab.forecast)."""

    horizon: AtLeast1 = 12  # months ahead
    levels: Annotated[tuple[int, ...], _COVERAGES] = (80, 95)  # prediction-interval coverage, %
    season_length: AtLeast1 = 12
    min_seasonal_history: AtLeast1 | None = None  # periods before a seasonal model; None: 2 seasons
    backtest_origins: AtLeast0 = 24  # rolling origins (months) kept for accuracy scoring
    backtest_max_lag: AtLeast1 = 6
    min_history: AtLeast1 = 3  # months since the first demand before a model is fitted (else: mean)
    phaseout_months: AtLeast1 = 6  # a phase-out material's forecast tapers to zero over this many
    chunk_size: AtLeast1 = 1000  # series per parallel task (amortises process start-up)
    tsb_alpha: Share = 0.2  # intermittent demand: TSB smoothing of demand sizes
    tsb_beta: Share = 0.2  # intermittent demand: TSB smoothing of the demand probability


@dataclass(frozen=True)
class AccuracySettings:
    """Forecast-accuracy scoring and the challenge list (kamlab.accuracy)."""

    lags: Annotated[tuple[int, ...], _EACH_AT_LEAST_1] = (1, 2, 3, 4, 5, 6)
    tracking_signal_limit: Positive = 4.0  # |TS| above this = persistent bias
    tracking_signal_window: AtLeast1 = 6  # months
    challenge_level: Annotated[int, _COVERAGE] = (
        80  # customer forecast outside this statistical interval -> challenge
    )
    challenge_deviation: Positive = (
        0.30  # or deviating more than 30 % from the statistical forecast
    )
    challenge_last_year_deviation: Positive = 0.50  # or more than 50 % from last year's actuals
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
    season_length: AtLeast1 = 12  # m of the seasonal-naive scale of MASE / RMSSE (1 if too short)
    exclude_lifecycle: tuple[str, ...] = ("phase-out",)  # forecasts for these are not scored
    trend_months: AtLeast1 = 24  # target months shown by accuracy_trend
    fva_metric: str = "wape"  # error compared across steps by value_added
    fva_steps: tuple[str, ...] = ("naive", "customer", "statistical")  # forecast process order
    bias_lags: Annotated[tuple[int, ...], _EACH_AT_LEAST_1] = (
        1,
    )  # lags at which bias_alerts tracks the signal
    challenge_max_lines: AtLeast1 = 10  # focused challenge list: lines per customer on the page
    challenge_min_value: NonNegative = (
        2000.0  # ... each with at least this value at stake (currency)
    )
    # track record (kamlab.accuracy.track_record): which forecast has been closer, per series
    track_record_months: AtLeast1 = 12  # target months of the record (the last N up to the month)
    track_record_min_months: AtLeast1 = 6  # fewer months for a material: its family's record
    combination_prior_months: NonNegative = 6.0  # shrinkage of combination weights towards 1/2
    # a figure is challenged only where, at the lag concerned, our record's MAE is at least
    # this share below the customer's AND ours was closer in more of the months than theirs
    # (the customer's is "better" in the mirror case). Chosen on simulated pairs with 12
    # months of independent normal errors (tests/test_accuracy_track_record.py checks these
    # rates): with ours 25 % less accurate a challenge is still proposed for 8 % of series
    # (4.5 % at 0.20), with ours 25 % more accurate for 58 % (50 % at 0.20), equally good 28 %
    # (20 %). 0.10 keeps challenges with a worse number rare without hiding most real edges.
    challenge_margin: Annotated[float, Allowed("a share in [0, 1)", lambda v: 0 <= v < 1)] = 0.10


@dataclass(frozen=True)
class ClassifySettings:
    """Portfolio classification (kamlab.classify)."""

    abc_cutoffs: Annotated[tuple[float, float], _CUTOFF_SHARES] = (
        0.80,
        0.95,
    )  # cumulative revenue share closing A and B
    xyz_cutoffs: Annotated[tuple[float, float], _INCREASING_POSITIVE] = (
        0.5,
        1.0,
    )  # coefficient of variation closing X and Y
    xyz_window: AtLeast1 = 12  # months of demand (ending at `end`) whose CV decides XYZ
    adi_cutoff: Positive = 1.32  # Syntetos-Boylan
    cv2_cutoff: Positive = 0.49
    matrix_threshold: Annotated[float, _SCORE] = (
        0.5  # score (0-1) dividing high from low on both matrix axes
    )
    attractiveness_weights: Annotated[dict[str, float], _WEIGHTS] = field(
        default_factory=lambda: {
            "revenue": 0.35,
            "growth": 0.20,
            "margin": 0.20,
            "payment_behaviour": 0.25,
        }
    )
    strength_weights: Annotated[dict[str, float], _WEIGHTS] = field(
        default_factory=lambda: {
            "share_of_business": 0.25,
            "otif": 0.30,
            "forecast_accuracy": 0.25,
            "complaints": 0.20,
        }
    )
    # matrix criteria where a lower raw value is better (ranked in reverse before scaling)
    lower_is_better: tuple[str, ...] = ("payment_behaviour", "complaints", "days_beyond_terms")
    criteria_months: AtLeast1 = (
        12  # account_criteria: revenue window; growth = it vs the one before
    )
    segments_k_range: Annotated[tuple[int, int], _K_RANGE] = (
        2,
        6,
    )  # KMeans k tried, inclusive; best silhouette wins
    segments_n_init: AtLeast1 = 10  # KMeans restarts (fixed, so results do not vary by version)
    segments_describe_z: NonNegative = (
        0.5  # |centroid z-score| from which a feature describes a segment
    )
    segments_log_features: tuple[str, ...] = ("revenue",)  # Pareto-skewed: log before scaling
    random_state: int = 0


@dataclass(frozen=True)
class ServiceSettings:
    """Service KPIs: OTIF / OTD (kamlab.service)."""

    date_basis: Annotated[str, one_of("requested", "confirmed")] = "requested"  # or "confirmed"
    days_late_tolerance: AtLeast0 = 0
    days_early_tolerance: AtLeast0 | None = None  # None: early deliveries count as on time
    quantity_tolerance: Annotated[float, _TOLERANCE] = 0.0  # fraction short still counted in full


@dataclass(frozen=True)
class ReceivablesSettings:
    """Receivables ageing and behaviour (kamlab.receivables)."""

    basis: Annotated[str, one_of("due_date", "posting_date")] = "due_date"  # or "posting_date"
    bucket_edges: Annotated[tuple[int, ...], _EDGES] = (
        0,
        30,
        60,
        90,
        120,
    )  # not due | 1-30 | ... | >120
    history_months: AtLeast1 = 12
    late_days: AtLeast0 = 30  # late-payment risk: paid more than this many days after due date
    credit_warning: Positive = 0.9  # utilisation above this is amber, above 1 red
    dso_simple_months: AtLeast1 = 3  # simple DSO: receivables / sales of the last 3 months x days
    dso_countback_months: AtLeast1 = 24  # countback DSO walks back at most this many months
    top_overdue: AtLeast1 = 10  # invoices listed per currency in the top-overdue table
    write_off_loss_rate: Annotated[float, _SCORE] = (
        1.0  # provision matrix: share of the last bucket (>120) lost
    )
    random_state: int = 0  # late-payment model


@dataclass(frozen=True)
class ScorecardSettings:
    """Red/amber/green rules for the scorecard tiles, the findings, the priority and the
    commentary.

    Severity follows the distance to the target, calibrated on the default demo's months
    *before* the review month (a validation window, never the month shown): of the 32
    unscripted accounts' customer-months up to 2026-10, OTIF pooled over 3 months was below
    target in 43 %, more than 5 points below in 17 %, more than 10 points below in 5.6 %
    (the 95th percentile of the shortfall is 10.2 points): red starts beyond 10 points, so
    86 % against 95 % is amber and 53 % red. DSO more than 30 days over terms 8 %; more than
    15 % of receivables over 30 days overdue 6 %. Revenue
    vs budget year to date (month-ends Mar–Oct 2026, 256 customer-months): below −15 % in
    9.4 %, below −20 % in 2.7 % (5th percentile −16.8 %): red starts below −20 %. The customer's own forecast accuracy is
    amber at most (a discussion point; what it costs shows in stock and service findings).
    ``tests/test_findings.py`` checks ≤ 30 % red on the demo. A KPI with no target or no data
    is grey.
    """

    amber_margin: NonNegative = (
        0.10  # OTIF: amber below target down to target - 10 points, then red
    )
    overdue_share_red: Annotated[float, _SCORE] = (
        0.15  # share of open receivables > overdue_grace_days overdue
    )
    overdue_share_amber: Annotated[float, _SCORE] = 0.05
    # portfolio ranking (ABC) and the key-account matrix add revenue across customers: with
    # several currencies they need rates, units of `reporting_currency` per unit of each
    reporting_currency: str = "EUR"
    fx_rates: Annotated[dict[str, float], _RATES] = field(
        default_factory=dict
    )  # e.g. {"EUR": 1.0, "USD": 0.92}
    revenue_window_months: AtLeast1 = 12  # ABC / XYZ on the last 12 months, movement vs a year ago
    dso_amber_days: AtLeast0 = 30  # DSO tile: amber up to terms + 30 days, red beyond
    dso_green_days: AtLeast0 = 10  # DSO tile: green up to terms + 10 days
    otif_months: AtLeast1 = 3  # OTIF tile pooled over the last 3 months (one month is too noisy)
    accuracy_amber_margin: NonNegative = 0.10  # forecast accuracy: amber down to target - 10 points
    budget_green: float = -0.03  # revenue YTD vs plan: green from -3 %, amber down to -20 %
    budget_amber: float = -0.20
    overdue_grace_days: AtLeast0 = 30  # a few days overdue is not a problem: count > 30 days only
    # red only when the long-overdue amount is material: at least this share of 12 months' revenue
    overdue_materiality: NonNegative = 0.01
    # what-changed commentary: a change is material from these sizes (points / days / share)
    change_otif: NonNegative = 0.05
    change_dso_days: NonNegative = 10.0
    change_overdue_share: NonNegative = 0.05
    change_credit: NonNegative = 0.15
    growth_material: NonNegative = 0.15  # revenue, last 12 months vs the 12 before
    streak_months: AtLeast1 = (
        3  # DSO, days beyond terms, OTIF, price realisation worse N months running
    )
    # priority: money at stake in the reporting currency (fx_rates) x (1 + weight x overdue actions)
    overdue_action_weight: NonNegative = 0.25
    # how much of each kind of money at stake counts in the priority score (kamlab.findings
    # kinds; 1 when not listed): cash and margin lost in full; revenue-type amounts (a gap to
    # plan, a forecast deviation, pipeline) by the margin they carry; lost deals by a tenth
    stake_weights: Annotated[dict[str, float], _WEIGHTS] = field(
        default_factory=lambda: {
            "overdue": 1.0,  # receivables long overdue
            "over_credit_limit": 1.0,  # receivables above the limit, not already long overdue
            "air_freight": 1.0,  # cost paid
            "expired_special_price": 1.0,  # margin lost on every invoice
            "billed_below_agreement": 1.0,
            "phase_out_exposure": 1.0,  # stock at cost likely written off
            "deadstock": 1.0,
            "overstock": 0.3,  # cash tied up, not lost
            "stock_out_risk": 0.3,
            "revenue_gap": 0.3,
            "forecast_challenge": 0.3,
            "npi_stalled": 0.3,
            "pipeline_at_risk": 0.3,
            "lost_deals": 0.1,  # a year's value of deals already lost: margin, not this month's
        }
    )


@dataclass(frozen=True)
class CommercialSettings:
    """Prices, pipeline, market and satisfaction (kamlab.pricing, .opportunities, .market,
    .satisfaction)."""

    pricing_date: Annotated[str, one_of("billing_date", "order_date", "requested_date")] = (
        "billing_date"  # the line date that picks the agreed price
    )
    price_tolerance: NonNegative = 0.005  # relative difference still billed "as agreed"
    window_months: AtLeast1 = 12  # price audit, win rate, lost sales, issues: the last 12 months
    spr_expiring_days: AtLeast0 = 60  # special prices expiring within this many days are flagged
    stall_days: AtLeast1 = 90  # an open opportunity / NPI project this long in one stage is stalled
    pipeline_horizon: AtLeast1 = 12  # months of the pipeline forecast layer
    issue_close_days: AtLeast0 = 30  # complaints closed within this many days are on time
    visit_plan: Annotated[dict[str, float], _WEIGHTS] = field(
        default_factory=lambda: {"visit": 12.0, "voc": 2.0, "review": 4.0}
    )  # meetings per customer per 12 months


@dataclass(frozen=True)
class PackSettings:
    """Monthly pack build (kamlab.pack)."""

    reports_dir: str = "reports"
    database: str = "data/kam.duckdb"
    workers: AtLeast1 = 2
    timeout_seconds: AtLeast1 = 600  # per customer notebook
    max_scorecard_kb: AtLeast1 = 300
    paper: Annotated[str, one_of(*PAPER_SIZES)] = (
        "A4"  # printed page size: A4, A3, A5, letter or legal (the index prints landscape)
    )
    # en, de or it: the index, portfolio page and workbook, the scorecards of account
    # managers not in [pack.languages], and the meeting pages (a customer's own first)
    language: Annotated[str, one_of("en", "de", "it")] = "en"
    # account manager (as in customers.account_manager) -> the language of that KAM's
    # scorecards, e.g. [pack.languages] "Anna Rossi" = "it"
    languages: Annotated[dict[str, str], _LANGUAGE_TABLE] = field(default_factory=dict)
    glossary_dir: str = ""  # folder with <language>.po files overriding kamlab's wording


@dataclass(frozen=True)
class CacheSettings:
    """The shared-analytics cache (kamlab.chain): where, and how much is kept.

    After each write, entries not used for `max_age_days` are removed, then the least
    recently used ones until the folder holds at most `max_megabytes`.
    """

    directory: str = ".kamlab-cache"  # $KAMLAB_CACHE, when set, takes precedence
    max_megabytes: AtLeast0 = 2000
    max_age_days: AtLeast0 = 30


@dataclass(frozen=True)
class InventorySettings:
    """Stock, safety stock (PFEP), phase-in/phase-out and capacity allocation (kamlab.inventory)."""

    service_measure: Annotated[str, one_of("cycle", "fill_rate")] = (
        "cycle"  # "cycle" (P1, chance of no stock-out per cycle) or "fill_rate"
    )
    cycle_service_level: Probability = (
        0.95  # target probability of no stock-out in a replenishment cycle
    )
    fill_rate: Probability = 0.98  # target share of demand met from stock (P2 / beta)
    demand_months: AtLeast1 = (
        12  # months of history behind mean demand, its variability and pattern
    )
    error_lag: AtLeast1 = 1  # backtest lag whose residuals give the forecast-error sigma
    min_error_points: AtLeast1 = (
        6  # fewer backtest residuals than this: demand history sigma instead
    )
    bootstrap_draws: AtLeast1 = 1000  # intermittent items: simulated lead-time demands per series
    intermittent_patterns: tuple[str, ...] = ("intermittent", "lumpy")  # bootstrap, not normal
    safety_stock_tolerance: NonNegative = (
        0.25  # SAP value off by more than this share: propose a change
    )
    deadstock_months: AtLeast1 = 12  # no demand for this many months (with stock) = deadstock
    overstock_months: Positive = 6.0  # coverage beyond this many months = overstock
    slow_mover_months: AtLeast1 = 3  # demand in at most this many of the last `demand_months`
    allocation_tolerance: NonNegative = (
        0.10  # allocated vs forecast beyond +/- this share is flagged
    )
    random_state: int = 0  # bootstrap draws


@dataclass(frozen=True)
class BudgetSettings:
    """The annual budget draft (kamlab.budget, ``kamlab budget``)."""

    npi_ramp_months: AtLeast1 = 6  # an NPI project reaches its run rate this many months after SOP
    price_months: AtLeast1 = (
        12  # unpriced by an agreement: the realised price of the last 12 months
    )
    price_increase: Annotated[dict[str, float], _PRICE_RISES] = field(
        default_factory=dict
    )  # family -> assumed rise, 0.03


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
    cache: CacheSettings = field(default_factory=CacheSettings)
    commercial: CommercialSettings = field(default_factory=CommercialSettings)
    inventory: InventorySettings = field(default_factory=InventorySettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)


DEFAULTS = Settings()


def _given(value: Any) -> str:
    """`value` spelled as in TOML (true, "a", [1, 2], inf) for error messages."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _coerce(where: str, hint: Any, value: Any) -> Any:
    """`value` checked against the type `hint` and shaped like it (lists become tuples).

    Raises :class:`SettingsError` naming `where`, the expected type and the given value.
    """
    expected, coerced = _shape(hint, value)
    if expected is not None:
        raise SettingsError(f"{where}: expected {expected}, got {_given(value)}")
    return coerced


def _shape(hint: Any, value: Any) -> tuple[str | None, Any]:
    """(None, shaped value) when `value` fits `hint`, else (what was expected, None)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:  # the rules are checked by _check, on the shaped value
        return _shape(args[0], value)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None, None
        (inner,) = [a for a in args if a is not type(None)]
        expected, shaped = _shape(inner, value)
        return (f"{expected} (or leave it out)" if expected else None), shaped
    if hint is bool:
        return (None, value) if isinstance(value, bool) else ("true or false", None)
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return (None, value) if ok else ("a whole number", None)
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and math.isfinite(value):
            return None, float(value)
        return "a finite number", None
    if hint is str:
        return (None, value) if isinstance(value, str) else ("a text in quotes", None)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return f"a list of {_name(args[0])}s", None
        items = args[:1] * len(value) if args[-1] is Ellipsis else args
        if len(items) != len(value):
            return f"a list of {len(items)} {_name(args[0])}s", None
        shaped = []
        for item_hint, item in zip(items, value, strict=True):
            expected, one = _shape(item_hint, item)
            if expected is not None:
                return f"a list of {_name(args[0])}s", None
            shaped.append(one)
        return None, tuple(shaped)
    if origin is dict:
        key_hint, value_hint = args
        if not isinstance(value, dict):
            return f"a table of {_name(value_hint)}s", None
        shaped = {}
        for k, v in value.items():
            expected, one = _shape(value_hint, v)
            if expected is not None:
                return f"a table of {_name(value_hint)}s ({k} = {_given(v)})", None
            shaped[k] = one
        return None, shaped
    if hint is Any:
        return None, value
    raise TypeError(f"settings type {hint!r} is not supported")  # pragma: no cover


def _hints(section: type) -> dict[str, Any]:
    """A settings section's field annotations, their :class:`Allowed` rules included."""
    return typing.get_type_hints(section, include_extras=True)


def _rules(hint: Any) -> list[Allowed]:
    """The :class:`Allowed` rules in `hint` (also inside ``X | None``)."""
    if typing.get_origin(hint) is Annotated:
        return [m for m in hint.__metadata__ if isinstance(m, Allowed)]
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return [r for a in typing.get_args(hint) for r in _rules(a)]
    return []


def _check(where: str, hint: Any, shaped: Any, given: Any) -> None:
    """Raise :class:`SettingsError` unless `shaped` keeps every rule declared in `hint`."""
    if shaped is None:
        return
    for rule in _rules(hint):
        if not rule.check(shaped):
            raise SettingsError(f"{where}: allowed {rule.words}; got {_given(given)}")


def check_settings(settings: Settings, *, where: str = "settings") -> Settings:
    """`settings` unchanged if every value keeps its type's rules, else :class:`SettingsError`
    (for settings built in code, e.g. with ``dataclasses.replace``, not read from a file)."""
    for section in dataclasses.fields(settings):
        values = getattr(settings, section.name)
        if not dataclasses.is_dataclass(values):
            continue
        for key, hint in _hints(type(values)).items():
            value = getattr(values, key)
            name = f"{where} [{section.name}] {key}"
            _check(name, hint, _coerce(name, hint, value), value)
    return settings


def _name(hint: Any) -> str:
    """A type hint in words, for messages."""
    return {
        int: "whole number",
        float: "number",
        str: "text",
        bool: "true/false",
        Any: "value",
    }.get(hint, "table" if typing.get_origin(hint) is dict else str(hint))


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from `path` (default ``./kamlab.toml`` if it exists) over the defaults.

    Every value is checked by type and allowed values; a file that is missing or not valid
    TOML, an unknown section or key, a section that is not a table, a value of the wrong
    type or outside its allowed values raises :class:`SettingsError` with one line naming
    the file, the key, what is allowed and what was given — a typo never silently falls
    back to a default. Callers that run a pack use :func:`kamlab.chain.resolve_settings`.
    """
    if path is None:
        path = Path("kamlab.toml")
        if not path.exists():
            return DEFAULTS
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such settings file") from None
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{path}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SettingsError(f"{path}: cannot be read: {err}") from None
    return settings_from_mapping(raw, where=str(path))


def settings_from_mapping(raw: dict[str, Any], *, where: str = "kamlab.toml") -> Settings:
    """Settings from tables shaped like a ``kamlab.toml``, checked as in :func:`load_settings`
    (`where` names the source in messages)."""
    sections = [f.name for f in dataclasses.fields(Settings)]
    changes: dict[str, Any] = {}
    for section, values in raw.items():
        if section not in sections:
            raise SettingsError(f"{where}: unknown section [{section}]; known: {sections}")
        if not isinstance(values, dict):
            raise SettingsError(
                f"{where}: [{section}] must be a table ('[{section}]' then 'key = value' "
                f"lines), got {section} = {_given(values)}"
            )
        if section == "mapping":
            # each [mapping.TABLE] is checked against the contract by kamlab.data.mapping
            changes["mapping"] = {
                table: _coerce(f"{where} [mapping.{table}]", dict[str, Any], names)
                for table, names in values.items()
            }
            continue
        current = getattr(DEFAULTS, section)
        hints = _hints(type(current))
        unknown = set(values) - set(hints)
        if unknown:
            raise SettingsError(
                f"{where} [{section}]: unknown key(s) {sorted(unknown)}; known: {sorted(hints)}"
            )
        coerced = {}
        for key, value in values.items():
            name = f"{where} [{section}] {key}"
            shaped = _coerce(name, hints[key], value)
            _check(name, hints[key], shaped, value)
            default = getattr(current, key)
            coerced[key] = {**default, **shaped} if isinstance(default, dict) else shaped
        changes[section] = dataclasses.replace(current, **coerced)
    return dataclasses.replace(DEFAULTS, **changes)
