"""Deterministic, realistic demo extracts: every contract table, simulated from one seed.

The recipe (what is simulated, how and with which parameters) is in ``data/demo_recipe.md``.
In short: customers with hidden behaviour (size, growth, forecast bias, service and payment
habits) buy a Pareto-skewed subset of materials; monthly demand per customer × material has
trend, seasonality, lifecycle and intermittency; orders, deliveries, invoices, payments,
credit notes, complaints, customer forecasts and budget all follow from that demand. Every
event is dated on or before the extract date (the last day of `end`), except requested,
confirmed and due dates and forecast target months, which may lie in the future.

Everything is vectorised numpy driven by one ``np.random.default_rng(seed)``: the same
arguments give identical frames, and ``generate(customers=2000, materials=2000, months=60)``
runs in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlab.data.contract import TABLES
from kamlab.data.demo_agreed import agreed_forecasts
from kamlab.data.demo_commercial import generate_commercial
from kamlab.data.demo_supply import supply_tables

__all__ = ["generate", "write_demo"]

# --- fixed parameters of the recipe (see data/demo_recipe.md) -----------------------------

_FX = {"EUR": 1.0, "USD": 1.08, "GBP": 0.86, "CHF": 0.95}  # customer currency per EUR
_CURRENCIES = tuple(_FX)


@dataclass(frozen=True)
class _Region:
    name: str
    weight: float
    currency_p: tuple[float, float, float, float]  # EUR, USD, GBP, CHF
    legal_forms: tuple[str, ...]


_REGIONS = (
    _Region("DACH", 0.34, (0.75, 0.0, 0.0, 0.25), ("GmbH", "AG", "GmbH & Co. KG")),
    _Region("Benelux & France", 0.16, (1.0, 0.0, 0.0, 0.0), ("B.V.", "SAS", "N.V.")),
    _Region("Southern Europe", 0.16, (1.0, 0.0, 0.0, 0.0), ("S.p.A.", "S.A.", "S.r.l.")),
    _Region("Nordics", 0.08, (1.0, 0.0, 0.0, 0.0), ("AB", "Oy", "A/S")),
    _Region("UK & Ireland", 0.13, (0.2, 0.0, 0.8, 0.0), ("Ltd", "plc")),
    _Region("North America", 0.13, (0.0, 1.0, 0.0, 0.0), ("Inc.", "Corp.", "LLC")),
)
_SEGMENTS = (
    "Automotive",
    "Industrial machinery",
    "Food & beverage",
    "Medical devices",
    "Wholesale & distribution",
)
_NAME_STEMS = (
    "Alpen", "Nordwind", "Rhein", "Baltic", "Iberia", "Adriatic", "Atlas", "Vulcan",
    "Helios", "Meridian", "Orion", "Polaris", "Zenith", "Apex", "Summit", "Granite",
    "Silverline", "Bluewater", "Redwood", "Ironbridge", "Cobalt", "Falcon", "Lakeside",
    "Northgate", "Crown", "Sterling", "Pioneer", "Keystone", "Riverside", "Highland",
)  # fmt: skip
_NAME_TRADES = (
    "Maschinenbau", "Industries", "Components", "Technik", "Automation", "Systems",
    "Engineering", "Fluidtechnik", "Motion", "Werke", "Manufacturing", "Precision",
)  # fmt: skip
_MANAGERS = (
    "Anna Schäfer", "Marco Bianchi", "Sophie Dubois", "James O'Connor", "Lena Johansson",
    "Pieter van Dijk", "Jörg Weiß", "Carmen Ruiz",
)  # fmt: skip


@dataclass(frozen=True)
class _Story:
    """A scripted customer, so the default demo always shows these cases (index = position)."""

    name: str
    region: int
    currency: str
    size: float | None = None
    growth: float | None = None
    bias: float | None = None
    pay_delay: float | None = None
    pay_worsening: float = 0.0
    late_rate: float | None = None
    short_rate: float | None = None
    fc_noise: float | None = None
    fc_kind: int | None = None  # forecasting behaviour, an index of _FORECASTERS
    credit_limit: bool = True
    credit_factor: float | None = None  # limit / expected exposure (< 1: set too tight)


# how a customer forecasts (#20 Deliver 10): name, share of customers, share of the real
# order already known at lag 0 (falling to 0 at lag 6), bias range, noise (lognormal sigma)
# range. "late" forecasts the mean of its last 3 months' orders (no season, no trend: it
# reacts late to a trend); "noise" forecasts its 12-month average level with large noise.
_FORECASTERS = (
    ("good", 0.25, 0.5, (-0.03, 0.03), (0.08, 0.15)),
    ("over", 0.25, 0.15, (0.15, 0.35), (0.10, 0.25)),
    ("under", 0.10, 0.15, (-0.20, -0.08), (0.10, 0.25)),
    ("late", 0.20, 0.1, (0.0, 0.0), (0.08, 0.20)),
    ("noise", 0.20, 0.0, (0.0, 0.0), (0.45, 0.70)),
)
_GOOD, _OVER, _UNDER, _LATE, _NOISE = range(len(_FORECASTERS))

_STORIES = (
    # over-forecasts by ~27 %, pays ~5 weeks late; the awkward name tests slugs and escaping
    _Story(
        'Müller & Söhne "Nord"/Süd {EU} GmbH',
        0,
        "EUR",
        2.5,
        bias=0.27,
        pay_delay=38.0,
        fc_kind=_OVER,
    ),
    # the biggest account: accurate forecasts, pays on time, good service
    _Story(
        "Helios Automation AG",
        0,
        "EUR",
        6.0,
        0.04,
        0.02,
        -1.0,
        late_rate=0.03,
        fc_noise=0.08,
        fc_kind=_GOOD,
    ),
    # growing fast; its forecast follows its last months' orders, so it lags the growth
    _Story("Keystone Motion Inc.", 5, "USD", 2.0, growth=0.35, fc_kind=_LATE),
    _Story("Ironbridge Components Ltd", 4, "GBP", 2.0, growth=-0.30),  # declining
    # pays on time until ~9 months ago, then later and later (up to ~50 days)
    _Story(
        "Zürcher Präzision AG", 0, "CHF", 1.5, pay_delay=2.0, pay_worsening=48.0, credit_factor=0.8
    ),
    # poor service: many late and short deliveries, air freight
    _Story("O'Neill <Tools> & Co. Ltd", 4, "GBP", 1.5, late_rate=0.30, short_rate=0.12),
    _Story(  # under-forecasts
        "Équipements Dupont & Fils SAS (Lyon)", 1, "EUR", 2.0, bias=-0.25, fc_kind=_UNDER
    ),
    _Story("Distribución Ibérica S.L.", 2, "EUR", 1.0, credit_limit=False),  # no credit limit
)


@dataclass(frozen=True)
class _Family:
    name: str
    items: tuple[str, ...]
    unit_cost: float  # median standard cost, EUR
    margin: float  # list-price margin over cost
    pack: int  # order multiple
    season_amp: float  # amplitude of the 12-month cycle
    season_peak: int  # month of year (1-12) of the peak


_FAMILIES = (
    _Family("Bearings", ("Ball bearing", "Roller bearing", "Needle bearing", "Thrust bearing"), 6.0, 0.35, 10, 0.10, 3),
    _Family("Seals & Gaskets", ("O-ring", "Shaft seal", "Flat gasket", "V-ring"), 0.8, 0.45, 50, 0.05, 4),
    _Family("Fasteners", ("Hex bolt", "Socket screw", "Lock nut", "Washer"), 0.15, 0.40, 100, 0.08, 5),
    _Family("Hydraulics", ("Hydraulic valve", "Gear pump", "Hydraulic hose", "Cylinder"), 85.0, 0.30, 1, 0.25, 4),
    _Family("Pneumatics", ("Pneumatic valve", "Air cylinder", "Push-in fitting", "FRL unit"), 40.0, 0.32, 1, 0.12, 10),
    _Family("Sensors", ("Proximity sensor", "Pressure sensor", "Encoder", "Temperature probe"), 60.0, 0.38, 1, 0.08, 11),
    _Family("Drives", ("Gear motor", "Servo drive", "Timing belt", "Coupling"), 250.0, 0.28, 1, 0.15, 6),
    _Family("Filters", ("Oil filter", "Air filter element", "Suction strainer", "Filter cartridge"), 12.0, 0.42, 5, 0.30, 10),
)  # fmt: skip
_FAMILY_SHARE = (0.16, 0.12, 0.14, 0.12, 0.12, 0.12, 0.08, 0.14)
# calendar profile shared by all: European summer shutdown and the Christmas break
_CALENDAR = np.array([0.95, 1.0, 1.08, 1.05, 1.05, 1.02, 0.95, 0.72, 1.08, 1.1, 1.05, 0.85])
_COMPLAINT_CATEGORIES = (
    "Dimensional",
    "Surface damage",
    "Wrong material",
    "Function",
    "Packaging",
    "Documentation",  # no parts rejected
)

_ACTION_TOPICS = (
    "Agree a payment plan for the overdue invoices",
    "Review the forecast of the top materials with the buyer",
    "Confirm the last-time buy of a phase-out material",
    "Root-cause the late deliveries with logistics",
    "Renew the price agreement",
    "Agree a credit-limit increase with finance",
    "Present the new product range",
    "Close the open quality complaints",
)
_FUTURE = 6  # months of demand simulated beyond `end` (open orders, forecast targets)
_SNAPSHOT_MONTHS = 24  # monthly forecast snapshots kept
_MAX_LAG = 6  # customer forecasts cover lags 0..6
_FORECAST_SERIES = 20  # materials per customer the customer forecasts (its biggest)
_CANCEL_RATE = 0.02
_PARTIAL_RATE = 0.03  # invoices paid in two parts
_CLEARED_LATER_RATE = 0.05  # payments cleared against the invoice some days after receipt
_UNAPPLIED_RATE = 0.002  # payments never cleared (stay on account)
_CN_ON_ACCOUNT_RATE = 0.15  # complaint credit notes the customer leaves on account


# --- small vectorised helpers -------------------------------------------------------------


def _end_period(end: str | pd.Period | None) -> pd.Period:
    if end is None:
        return pd.Timestamp.today().to_period("M") - 1
    return pd.Period(end, freq="M")


def _ids(start: int, numbers: np.ndarray, prefix: str = "", width: int = 0) -> pa.Array:
    """Ids as strings: `prefix` + zero-padded (start + number); numbers are small and >= 0."""
    numbers = np.asarray(numbers, dtype="int64")
    distinct = int(numbers.max()) + 1 if len(numbers) else 0
    repeated = len(numbers) > distinct  # format each number once, then look up
    text = pc.cast(pa.array((np.arange(distinct) if repeated else numbers) + start), pa.string())
    if width:
        text = pc.utf8_lpad(text, width, padding="0")
    if prefix:
        text = pc.binary_join_element_wise(prefix, text, "")
    return text.take(pa.array(numbers)) if repeated else text


def _take(values: pa.Array | list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string()).take(pa.array(np.asarray(index, dtype="int64")))


def _weekday_forward(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays (days since 1970-01-01, a Thursday) to the next Monday."""
    dow = (days + 3) % 7  # 0 = Monday
    return days + np.where(dow == 5, 2, np.where(dow == 6, 1, 0))


def _weekday_back(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the Friday before."""
    dow = (days + 3) % 7
    return days - np.where(dow == 5, 1, np.where(dow == 6, 2, 0))


def _group_numbers(key: np.ndarray) -> np.ndarray:
    """0-based number of each row's distinct `key`, numbered in ascending key order."""
    return np.unique(key, return_inverse=True)[1].astype("int64")


def _rank_within(group: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """0-based position of each row within its `group`, ordered by the `secondary` key (>= 0)."""
    if not len(group):
        return np.zeros(0, dtype="int64")
    order = np.argsort(group * (int(secondary.max()) + 1) + secondary, kind="stable")
    g = group[order]
    start = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    first = np.repeat(start, np.diff(np.r_[start, len(g)]))
    rank = np.empty(len(g), dtype="int64")
    rank[order] = np.arange(len(g)) - first
    return rank


def _month_start_days(ordinals: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the first day of each monthly Period ordinal."""
    return (
        np.asarray(ordinals, dtype="int64")
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype("int64")
    )


def _dates(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    out = np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[us]")
    if missing is not None:
        out[missing] = np.datetime64("NaT")
    return out


def _frame(table: str, columns: dict[str, object]) -> pd.DataFrame:
    """A frame with exactly the contract's columns of `table`, in its order and dtypes.

    Columns are wrapped without copying where possible: the generated arrays are large.
    """
    text = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default ``str``
    out = {}
    rows = len(next(iter(columns.values())))
    for col in TABLES[table].columns:
        if col.name not in columns and not col.required:  # an optional column not simulated
            kinds = {"bool": "boolean", "int": "Int64", "string": text, "date": "datetime64[us]"}
            empty = kinds.get(col.dtype, "float64")
            out[col.name] = pd.Series(pd.array([None] * rows, dtype=empty))
            continue
        values = columns[col.name]
        if col.dtype == "string":
            if not isinstance(values, pa.Array | pa.ChunkedArray):
                values = pa.array(values, type=pa.string())
            out[col.name] = pd.Series(values, dtype=text, copy=False)
        elif col.dtype == "period":
            out[col.name] = pd.Series(
                pd.PeriodIndex.from_ordinals(np.asarray(values, dtype="int64"), freq="M")
            )
        elif col.dtype == "int" and col.nullable:
            out[col.name] = pd.Series(pd.array(values, dtype="Int64"), copy=False)
        else:
            dtype = {"date": "datetime64[us]", "int": "int64", "float": "float64", "bool": bool}
            out[col.name] = pd.Series(np.asarray(values, dtype=dtype[col.dtype]), copy=False)
    return pd.DataFrame(out, copy=False)


# --- the simulation -----------------------------------------------------------------------


def generate(
    *,
    customers: int = 40,
    materials: int = 400,
    months: int = 36,
    end: str | pd.Period | None = None,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Simulate one demo extract set: a dict of contract table name -> typed DataFrame.

    Parameters
    ----------
    customers, materials, months
        Size: number of customers and materials, months of order history up to `end`.
    end
        Last month of history (``"YYYY-MM"`` or Period); the extract is dated the last day
        of that month. Default: the calendar month before today (the only use of today).
    seed
        Seed of the single random generator; the same arguments give identical frames.

    The tables satisfy every rule of :mod:`kamlab.data.contract` (keys, foreign keys incl.
    same customer and currency, row rules, instalments adding up to their invoice).
    """
    if customers < 1 or materials < 1 or months < 1:
        raise ValueError(
            f"generate: customers, materials and months must be >= 1, got "
            f"{customers}, {materials}, {months}"
        )
    rng = np.random.default_rng(seed)
    end = _end_period(end)
    fc_rng = np.random.default_rng([seed, 21])
    sim = _Simulation(rng, customers, materials, months, end, fc_rng=fc_rng)
    frames = sim.run()
    frames.update(generate_commercial(frames, end=end, seed=seed))
    frames.update(supply_tables(frames, end=end, seed=seed))  # kamlab.data.demo_supply
    agreed = agreed_forecasts(frames, end=end, seed=seed)  # kamlab.data.demo_agreed
    frames["agreed_forecasts"] = _frame(
        "agreed_forecasts",
        {
            **{c: agreed[c].astype(str).tolist() for c in ("customer_id", "material_id")},
            **{c: agreed[c].astype(str).tolist() for c in ("basis", "agreed_by")},
            "period": agreed["period"].array.asi8 if len(agreed) else [],
            "quantity": agreed["quantity"].to_numpy("float64"),
            "agreed_on": agreed["agreed_on"].to_numpy("datetime64[us]"),
        },
    )
    return {name: frames[name] for name in TABLES if name in frames}  # in contract order


class _Simulation:
    """Holds the shared arrays of one run; each step adds one table (struct of arrays)."""

    def __init__(
        self,
        rng: np.random.Generator,
        customers: int,
        materials: int,
        months: int,
        end: pd.Period,
        fc_rng: np.random.Generator | None = None,
    ) -> None:
        self.rng = rng
        # forecasting behaviour has its own stream: the other tables do not change with it
        self.fc_rng = fc_rng if fc_rng is not None else np.random.default_rng(0)
        self.nc, self.nm, self.months = customers, materials, months
        self.end_o = end.ordinal
        self.o0 = self.end_o - months + 1
        self.T = months + _FUTURE
        self.month_o = self.o0 + np.arange(self.T)
        self.mstart = _month_start_days(self.month_o)
        self.as_of = int(_month_start_days(np.array([self.end_o + 1]))[0]) - 1
        self.year_o = self.end_o // 12  # years since 1970 of `end`

    # customers ------------------------------------------------------------------------------
    def _customers(self) -> None:
        rng, n = self.rng, self.nc
        self.size = rng.lognormal(0.0, 1.0, n)
        weights = np.array([r.weight for r in _REGIONS])
        self.region = rng.choice(len(_REGIONS), n, p=weights / weights.sum())
        cum = np.cumsum([r.currency_p for r in _REGIONS], axis=1)
        self.currency = (rng.random(n)[:, None] > cum[self.region]).sum(axis=1)
        self.currency = np.minimum(self.currency, len(_CURRENCIES) - 1)
        self.segment = rng.integers(len(_SEGMENTS), size=n)
        n_am = max(4, min(6, n // 8)) if n <= 200 else n // 30
        self.manager = rng.integers(n_am, size=n)
        self.terms = rng.choice([30, 60, 90], n, p=[0.5, 0.35, 0.15])
        self.terms[self.currency == _CURRENCIES.index("USD")] = 30  # US: net 30
        self.growth = rng.normal(0.03, 0.08, n)
        # a normal month is green or amber: late 1-6 %, short 0.2-1.5 % of lines (the scripted
        # poor-service story stands out at 30 % / 12 %)
        self.late_rate = rng.uniform(0.01, 0.06, n)
        self.short_rate = rng.uniform(0.002, 0.015, n)
        self.split_rate = rng.uniform(0.01, 0.04, n)
        kind = rng.choice(3, n, p=[0.4, 0.4, 0.2])  # good / over / under forecaster
        self.bias = np.select(
            [kind == 0, kind == 1],
            [rng.normal(0.0, 0.04, n), rng.uniform(0.1, 0.3, n)],
            rng.uniform(-0.15, -0.05, n),
        )
        self.fc_noise = rng.uniform(0.08, 0.25, n)
        self.sends_fc = rng.random(n) < 0.85
        # the forecasting behaviour of _FORECASTERS replaces the draws above (kept so that
        # the main stream, and every other table, is unchanged)
        frng = self.fc_rng
        shares = np.array([f[1] for f in _FORECASTERS])
        self.fc_kind = frng.choice(len(_FORECASTERS), n, p=shares / shares.sum())
        lo = np.array([f[3][0] for f in _FORECASTERS])[self.fc_kind]
        hi = np.array([f[3][1] for f in _FORECASTERS])[self.fc_kind]
        self.bias = frng.uniform(lo, hi)
        lo = np.array([f[4][0] for f in _FORECASTERS])[self.fc_kind]
        hi = np.array([f[4][1] for f in _FORECASTERS])[self.fc_kind]
        self.fc_noise = frng.uniform(lo, hi)
        payer = rng.choice(3, n, p=[0.7, 0.2, 0.1])  # on time / a bit late / slow
        self.pay_delay = np.select(
            [payer == 0, payer == 1],
            [rng.normal(-1.0, 2.0, n), rng.uniform(5.0, 15.0, n)],
            rng.uniform(20.0, 60.0, n),
        )
        self.pay_sd = rng.uniform(2.0, 8.0, n)
        self.pay_worsening = np.zeros(n)
        self.dispute_rate = np.where(payer == 2, 0.01, 0.003)
        self.complaint_rate = rng.uniform(0.003, 0.02, n)
        self.lead = rng.integers(10, 40, n)
        self.n_slots = np.clip(np.round(1 + self.size), 1, 4).astype("int64")
        self.discount = rng.uniform(0.0, 0.15, n)
        self.price_increase = rng.uniform(0.0, 0.05, n)
        self.snapshot_day = rng.integers(2, 9, n)
        self.otif_target = rng.choice([0.85, 0.88, 0.90, 0.90, 0.92, 0.95], n)
        self.fa_target = rng.choice([0.5, 0.55, 0.6, 0.65, 0.7], n)
        self.wallet_share = np.round(rng.uniform(0.15, 0.85, n), 2)
        self.credit_factor = rng.uniform(0.9, 1.8, n)
        self.has_limit = np.ones(n, dtype=bool)
        self.instalments = (self.terms == 90) & (rng.random(n) < 0.5)
        self.rebate = rng.uniform(0.01, 0.03, n) * (rng.random(n) < 0.3)

        stems = rng.integers(len(_NAME_STEMS), size=n)
        trades = rng.integers(len(_NAME_TRADES), size=n)
        form_pick = rng.integers(3, size=n)
        form_table = np.array(
            [[r.legal_forms[k % len(r.legal_forms)] for k in range(3)] for r in _REGIONS]
        )
        forms = form_table[self.region, form_pick]
        names = (
            pd.Series(np.array(_NAME_STEMS)[stems], dtype="string")
            + " "
            + np.array(_NAME_TRADES)[trades]
            + " "
            + forms
        )
        for i, story in enumerate(_STORIES[:n]):
            names.iloc[i] = story.name
            self.region[i] = story.region
            self.currency[i] = _CURRENCIES.index(story.currency)
            for attr in (
                "size",
                "growth",
                "bias",
                "pay_delay",
                "late_rate",
                "short_rate",
                "fc_noise",
                "credit_factor",
                "fc_kind",
            ):
                value = getattr(story, attr)
                if value is not None:
                    getattr(self, attr)[i] = value
            self.pay_worsening[i] = story.pay_worsening
            if story.fc_kind is not None:  # the middle of its behaviour's ranges
                kind = _FORECASTERS[story.fc_kind]
                if story.bias is None:
                    self.bias[i] = sum(kind[3]) / 2
                if story.fc_noise is None:
                    self.fc_noise[i] = sum(kind[4]) / 2
            self.has_limit[i] = story.credit_limit
            self.sends_fc[i] = True
            if story.pay_delay is not None and story.pay_delay > 20:
                self.dispute_rate[i] = 0.01
        dup = names.groupby(names).cumcount().to_numpy()
        names = names.where(dup == 0, names + " (" + pd.Series(dup + 1).astype("string") + ")")
        self.names = names.to_numpy()
        self.customer_ids = _ids(100001, np.arange(n), width=10)  # SAP KUNNR style

    # materials --------------------------------------------------------------------------------
    def _materials(self) -> None:
        rng, n = self.rng, self.nm
        share = np.array(_FAMILY_SHARE)
        self.family = rng.choice(len(_FAMILIES), n, p=share / share.sum())
        u = rng.random(n)
        self.lifecycle = np.where(u < 0.08, 1, np.where(u < 0.18, 2, 0))  # active/in/out
        self.in_start = np.where(self.lifecycle == 1, self.end_o - rng.integers(3, 15, n), -(10**6))
        self.out_start = np.where(self.lifecycle == 2, self.end_o - rng.integers(8, 20, n), 10**6)
        self.out_len = rng.integers(5, 11, n)
        cost = np.array([f.unit_cost for f in _FAMILIES])[self.family]
        self.unit_cost = np.maximum(0.01, np.round(cost * rng.lognormal(0.0, 0.6, n), 2))
        margin = np.array([f.margin for f in _FAMILIES])[self.family] * rng.uniform(0.8, 1.2, n)
        self.list_price = self.unit_cost / (1.0 - margin)
        self.pack = np.array([f.pack for f in _FAMILIES])[self.family]
        self.popularity = rng.lognormal(0.0, 1.2, n)
        # order size below which a customer orders now and then rather than every month
        self.lot = np.maximum(self.pack, 2500.0 / self.list_price) * rng.uniform(0.5, 2.0, n)
        item = rng.integers(4, size=n)
        names = np.array([i for f in _FAMILIES for i in f.items])[self.family * 4 + item]
        code = rng.integers(100, 1000, n)
        letter = np.array(list("ABCDEFGHKLMNPRSTUVX"))[rng.integers(19, size=n)]
        suffix = np.array(["", "", "", " SS", " 24V", ' 1/2"', " Ø20"])[rng.integers(7, size=n)]
        self.description = (
            pd.Series(names, dtype="string") + " " + code.astype(str) + "-" + letter + suffix
        ).to_numpy()
        self.material_ids = _ids(100001, np.arange(n), prefix="M")

    # which customer buys what, and how much -----------------------------------------------------
    def _series(self) -> None:
        rng = self.rng
        n_buy = np.clip(
            np.round(rng.uniform(15, 60, self.nc) * self.size**0.35), 5, self.nm
        ).astype("int64")
        affinity = rng.normal(0.0, 1.0, (self.nc, len(_FAMILIES)))
        keys = np.log(self.popularity)[None, :] + affinity[:, self.family]
        keys += rng.gumbel(size=keys.shape)  # Gumbel top-k = weighted draw without replacement
        kmax = int(n_buy.max())
        top = np.argsort(-keys, axis=1)[:, :kmax]
        del keys
        chosen = np.arange(kmax)[None, :] < n_buy[:, None]
        cust = np.repeat(np.arange(self.nc), n_buy)
        mat = top[chosen]
        order = np.lexsort((mat, cust))
        self.s_cust, self.s_mat = cust[order], mat[order]
        S = len(self.s_cust)
        revenue = 800.0 * self.size[self.s_cust] * self.popularity[self.s_mat]
        revenue *= rng.lognormal(0.0, 0.8, S)
        self.s_level = revenue / self.list_price[self.s_mat]  # units per month at `end`
        self.s_growth = self.growth[self.s_cust] + rng.normal(0.0, 0.08, S)
        self.s_erratic = np.where(rng.random(S) < 0.15, 0.6, 0.0)
        fam = np.array([[f.season_amp, f.season_peak] for f in _FAMILIES])
        moy = np.arange(12)[None, :]
        season = 1 + fam[:, :1] * np.cos(2 * np.pi * (moy - (fam[:, 1:] - 1)) / 12)
        season *= _CALENDAR[None, :]
        self.season = season / season.mean(axis=1, keepdims=True)  # family x month of year

    def _life(self, mat: np.ndarray, o: np.ndarray) -> np.ndarray:
        ramp_in = np.clip((o - self.in_start[mat] + 1) / 4.0, 0.0, 1.0)
        fade_out = np.clip(1.0 - (o - self.out_start[mat]) / self.out_len[mat], 0.0, 1.0)
        return ramp_in * fade_out

    def _expected(self, s: np.ndarray, o: np.ndarray, *, life: bool = True) -> np.ndarray:
        """Expected monthly quantity of series `s` in month ordinal `o` (broadcasting)."""
        mat = self.s_mat[s]
        lam = self.s_level[s] * np.exp(self.s_growth[s] * (o - self.end_o) / 12.0)
        lam = lam * self.season[self.family[mat], o % 12]
        return lam * self._life(mat, o) if life else lam

    def _demand(self) -> None:
        rng = self.rng
        s = np.arange(len(self.s_cust))[:, None]
        o = self.month_o[None, :]
        lam = self._expected(s, o)
        lot = self.lot[self.s_mat][:, None]
        p = np.minimum(1.0, lam / lot)
        occur = rng.random(lam.shape) < p
        sigma = 0.15 + 0.45 * (1.0 - p) + self.s_erratic[:, None]
        size = np.maximum(lam, lot) * np.exp(sigma * rng.standard_normal(lam.shape) - sigma**2 / 2)
        pack = self.pack[self.s_mat][:, None]
        self.qty = np.where(occur & (lam > 0), np.maximum(1.0, np.round(size / pack)) * pack, 0.0)
        self.lam = lam

    # orders ----------------------------------------------------------------------------------
    def _price(self, cust: np.ndarray, mat: np.ndarray, year_o: np.ndarray) -> np.ndarray:
        fx = np.array([_FX[c] for c in _CURRENCIES])[self.currency[cust]]
        price = self.list_price[mat] * (1 - self.discount[cust]) * fx
        price = price * (1 + self.price_increase[cust]) ** (year_o - self.year_o)
        return np.maximum(0.01, np.round(price, 2))

    def _orders(self) -> dict[str, object]:
        rng = self.rng
        s_idx, t_idx = np.nonzero(self.qty)
        qty = self.qty[s_idx, t_idx]
        cust, mat = self.s_cust[s_idx], self.s_mat[s_idx]
        # each customer orders for up to 4 delivery slots a month; one order per slot
        slot_day = rng.integers(0, 26, (self.nc, self.T, 4))
        jitter = rng.integers(0, 8, (self.nc, self.T, 4))
        slot_requested = _weekday_forward(self.mstart[None, :, None] + slot_day)
        slot_ordered = _weekday_back(slot_requested - self.lead[:, None, None] - jitter).ravel()
        slot_requested = slot_requested.ravel()
        slot = (rng.random(len(qty)) * self.n_slots[cust]).astype("int64")
        g = (cust * self.T + t_idx) * 4 + slot
        keep = slot_ordered[g] <= self.as_of
        cust, mat, qty, t_idx, g = cust[keep], mat[keep], qty[keep], t_idx[keep], g[keep]
        requested, ordered = slot_requested[g], slot_ordered[g]
        n = len(qty)
        # orders numbered in order-date sequence, lines 10, 20, ... by material
        used = np.unique(g)
        number = np.empty(len(used), dtype="int64")
        number[np.argsort(slot_ordered[used], kind="stable")] = np.arange(len(used))
        order_no = number[np.searchsorted(used, g)]
        line = 10 * (_rank_within(order_no, mat) + 1)
        year = self.month_o[t_idx] // 12
        price = self._price(cust, mat, year)
        cancelled = rng.random(n) < _CANCEL_RATE
        late_confirm = rng.random(n) < self.late_rate[cust] * 0.5
        confirmed = _weekday_forward(requested + late_confirm * rng.integers(2, 15, n))
        unconfirmed = ordered > self.as_of - 3
        self.o = {
            "order_no": order_no,
            "line": line,
            "cust": cust,
            "mat": mat,
            "ordered": ordered,
            "requested": requested,
            "confirmed": confirmed,
            "unconfirmed": unconfirmed,
            "qty": qty,
            "price": price,
            "net_value": np.round(qty * price, 2),
            "cancelled": cancelled,
        }

    # deliveries ------------------------------------------------------------------------------
    def _deliveries(self) -> None:
        rng, o = self.rng, self.o
        n = len(o["qty"])
        cust = o["cust"]
        base = np.where(o["unconfirmed"], o["requested"], o["confirmed"])
        late = rng.random(n) < self.late_rate[cust]
        days_late = np.minimum(rng.geometric(0.2, n), 40)
        early = rng.integers(0, 4, n)
        first = np.where(late, _weekday_forward(base + days_late), _weekday_back(base - early))
        first = np.maximum(first, o["ordered"] + 1)
        qty = o["qty"]
        short = (rng.random(n) < self.short_rate[cust]) & (qty >= 2)
        delivered = np.where(short, np.maximum(1.0, np.floor(qty * rng.uniform(0.5, 0.95, n))), qty)
        split = (rng.random(n) < self.split_rate[cust]) & (delivered >= 2)
        part1 = np.where(
            split, np.maximum(1.0, np.floor(delivered * rng.uniform(0.3, 0.7, n))), delivered
        )
        second = _weekday_forward(first + rng.integers(4, 25, n))
        last = np.where(split, second, first)
        live = ~o["cancelled"]
        o["status"] = np.where(o["cancelled"], 2, np.where(last <= self.as_of, 1, 0))
        # delivery rows: first parts, then second parts of split lines
        row1 = np.flatnonzero(live & (first <= self.as_of))
        row2 = np.flatnonzero(live & split & (second <= self.as_of))
        line_idx = np.r_[row1, row2]
        date = np.r_[first[row1], second[row2]]
        dqty = np.r_[part1[row1], (delivered - part1)[row2]]
        dcust = cust[line_idx]
        days_after = date - o["requested"][line_idx]
        p_air = np.where(days_after > 0, np.minimum(0.7, 0.2 + 0.03 * days_after), 0.01)
        air = rng.random(len(date)) < p_air
        value = dqty * o["price"][line_idx]
        rate = np.where(air, 0.06, 0.012) * rng.lognormal(0.0, 0.3, len(date))
        freight = np.round(np.maximum(value * rate, np.where(air, 45.0, 4.0)), 2)
        # one delivery (and one invoice) per customer and day
        delivery_no = _group_numbers(date * self.nc + dcust)
        self.d = {
            "delivery_no": delivery_no,
            "order_no": o["order_no"][line_idx],
            "line": o["line"][line_idx],
            "mat": o["mat"][line_idx],
            "price": o["price"][line_idx],
            "cust": dcust,
            "date": date,
            "qty": dqty,
            "value": np.round(value, 2),
            "air": air,
            "freight": freight,
        }

    # invoices, instalments, complaints, credit notes, payments ----------------------------------
    def _invoices(self) -> None:
        rng, d = self.rng, self.d
        n_inv = int(d["delivery_no"].max()) + 1 if len(d["delivery_no"]) else 0
        amount = np.round(np.bincount(d["delivery_no"], weights=d["value"], minlength=n_inv), 2)
        cust = np.zeros(n_inv, dtype="int64")
        cust[d["delivery_no"]] = d["cust"]
        posting = np.zeros(n_inv, dtype="int64")
        posting[d["delivery_no"]] = d["date"]
        terms = self.terms[cust]
        n_parts = np.where(
            self.instalments[cust] & (amount >= 5000) & (rng.random(n_inv) < 0.1),
            rng.integers(2, 4, n_inv),
            1,
        )
        due = posting + terms
        self.inv = {"cust": cust, "posting": posting, "due": due, "amount": amount}
        self.inv["n_parts"] = n_parts
        # instalments: 2 parts = 30 % at 30 days + 70 % at terms; 3 parts = thirds at 30/60/90
        inst_inv = np.repeat(np.flatnonzero(n_parts > 1), n_parts[n_parts > 1])
        k = _rank_within(inst_inv, np.arange(len(inst_inv))) + 1
        parts = n_parts[inst_inv]
        share = np.where(parts == 2, np.where(k == 1, 0.3, 0.7), 1.0 / 3.0)
        inst_amount = np.round(amount[inst_inv] * share, 2)
        is_last = k == parts
        first_sum = np.bincount(inst_inv[~is_last], inst_amount[~is_last], minlength=n_inv)
        inst_amount = np.where(
            is_last, np.round(amount[inst_inv] - first_sum[inst_inv], 2), inst_amount
        )
        inst_due = posting[inst_inv] + np.where(
            parts == 2, np.where(k == 1, 30, terms[inst_inv]), 30 * k
        )
        due[inst_inv[is_last]] = inst_due[is_last]
        self.inst = {"inv": inst_inv, "k": k, "due": inst_due, "amount": inst_amount}
        # when each invoice (first open part) would be paid, before credit notes are known
        ramp = np.clip((posting - (self.as_of - 270)) / 270.0, 0.0, 1.0)
        delay = self.pay_delay[cust] + self.pay_worsening[cust] * ramp
        delay = delay + rng.normal(0.0, 1.0, n_inv) * self.pay_sd[cust]
        # disputed invoices are paid 3-10 months late; a quarter of them never
        disputed = rng.random(n_inv) < self.dispute_rate[cust]
        delay = delay + disputed * rng.uniform(90.0, 300.0, n_inv)
        self.inv["delay"] = delay
        self.inv["disputed"] = disputed & (rng.random(n_inv) < 0.25)
        self.inv["partial"] = (n_parts == 1) & (rng.random(n_inv) < _PARTIAL_RATE)
        self.inv["pay"] = np.maximum(
            _weekday_forward(due + np.round(delay).astype("int64")), posting + 3
        )

    def _complaints(self) -> None:
        rng, d = self.rng, self.d
        n = len(d["date"])
        hit = rng.random(n) < self.complaint_rate[d["cust"]]
        rows = np.flatnonzero(hit)
        opened = _weekday_forward(d["date"][rows] + rng.integers(3, 41, len(rows)))
        rows, opened = rows[opened <= self.as_of], opened[opened <= self.as_of]
        m = len(rows)
        category = rng.integers(len(_COMPLAINT_CATEGORIES), size=m)
        rejected = np.where(
            category == len(_COMPLAINT_CATEGORIES) - 1,
            0.0,
            np.maximum(1.0, np.round(d["qty"][rows] * rng.uniform(0.02, 0.4, m))),
        )
        rejected = np.minimum(rejected, d["qty"][rows])
        closed = _weekday_forward(opened + rng.integers(5, 91, m))
        order = np.argsort(opened, kind="stable")
        self.cmp = {
            k: v[order]
            for k, v in {
                "row": rows,
                "cust": d["cust"][rows],
                "mat": d["mat"][rows],
                "opened": opened,
                "closed": closed,
                "is_open": closed > self.as_of,
                "category": category,
                "rejected": rejected,
                "price": d["price"][rows],
            }.items()
        }

    def _credit_notes(self) -> None:
        rng, c, inv = self.rng, self.cmp, self.inv
        make = (~c["is_open"]) & (c["rejected"] > 0) & (rng.random(len(c["row"])) < 0.75)
        cust = c["cust"][make]
        posting = c["closed"][make]
        amount = np.round(c["rejected"][make] * c["price"][make], 2)
        own = self.d["delivery_no"][c["row"][make]]
        n = len(posting)
        # netted against its own invoice while that is unpaid, else against the next invoice
        inv_key = inv["cust"] * 10**6 + inv["posting"]
        by_key = np.argsort(inv_key, kind="stable")
        nxt = np.searchsorted(inv_key[by_key], cust * 10**6 + posting, side="left")
        nxt_ok = nxt < len(by_key)
        nxt_inv = by_key[np.minimum(nxt, len(by_key) - 1)]
        nxt_ok &= inv["cust"][nxt_inv] == cust
        usable = (inv["n_parts"] == 1) & ~inv["partial"] & ~inv["disputed"]
        own_ok = usable[own] & (posting < inv["pay"][own])
        target = np.where(own_ok, own, np.where(nxt_ok & usable[nxt_inv], nxt_inv, -1))
        target[rng.random(n) < _CN_ON_ACCOUNT_RATE] = -1
        # at most 80 % of an invoice is credited, in posting order
        safe_t = np.maximum(target, 0)
        cum = pd.Series(np.where(target >= 0, amount, 0.0)).groupby(safe_t).cumsum().to_numpy()
        target[(target >= 0) & (cum > 0.8 * inv["amount"][safe_t])] = -1
        # rebates: a credit note each January for last year's purchases
        rebate_cust = np.flatnonzero(self.rebate > 0)
        year_inv = (inv["posting"].astype("datetime64[D]").astype("datetime64[Y]")).astype("int64")
        last_year = self.year_o - (1 if (self.end_o % 12) == 0 else 0) - 1
        # (only the latest January within history: earlier rebates were paid out)
        sales = np.bincount(
            inv["cust"][year_inv == last_year], inv["amount"][year_inv == last_year], self.nc
        )
        january = _weekday_forward(_month_start_days(np.array([(last_year + 1) * 12]))[0] + 19)
        rebate_cust = rebate_cust[(sales[rebate_cust] > 0) & (january <= self.as_of)]
        r_amount = np.round(sales[rebate_cust] * self.rebate[rebate_cust], 2)
        # the customer deducts it from the first later invoice big enough; a third wait
        credited = np.bincount(target[target >= 0], amount[target >= 0], len(inv["amount"]))
        room = np.zeros(self.nc)
        room[rebate_cust] = r_amount
        fits = (
            usable
            & (inv["posting"] >= january)
            & (0.8 * inv["amount"] - credited >= room[inv["cust"]])
        )
        fits &= room[inv["cust"]] > 0
        first_fit = np.full(self.nc, -1)
        candidates = np.flatnonzero(fits)
        candidates = candidates[np.argsort(inv["posting"][candidates], kind="stable")][::-1]
        first_fit[inv["cust"][candidates]] = candidates  # the earliest wins (written last)
        # one not yet used if it is recent; one too big for any invoice was paid out instead
        recent = january > self.as_of - 90
        r_target = np.where(
            recent & (rng.random(len(rebate_cust)) < 0.5), -1, first_fit[rebate_cust]
        )
        paid_out = (r_target < 0) & ~recent
        rebate_cust, r_amount, r_target = (
            rebate_cust[~paid_out],
            r_amount[~paid_out],
            r_target[~paid_out],
        )
        cust = np.r_[cust, rebate_cust]
        posting = np.r_[posting, np.full(len(rebate_cust), january, dtype="int64")]
        amount = np.r_[amount, r_amount]
        target = np.r_[target, r_target]
        later = (target >= 0) & (rng.random(len(target)) < 0.2)
        alloc = posting + rng.integers(1, 15, len(target))
        later &= alloc <= self.as_of
        order = np.argsort(posting, kind="stable")
        self.cn = {
            k: v[order]
            for k, v in {
                "cust": cust,
                "posting": posting,
                "amount": amount,
                "target": target,
                "alloc": alloc,
                "alloc_missing": ~later,
            }.items()
        }
        ok = self.cn["amount"] > 0
        self.cn = {k: v[ok] for k, v in self.cn.items()}

    def _payments(self) -> None:
        rng, inv, inst, cn = self.rng, self.inv, self.inst, self.cn
        n_inv = len(inv["amount"])
        credited = np.bincount(
            cn["target"][cn["target"] >= 0], cn["amount"][cn["target"] >= 0], n_inv
        )
        single = np.flatnonzero((inv["n_parts"] == 1) & ~inv["disputed"])
        due_amount = np.round(inv["amount"][single] - credited[single], 2)
        single = single[due_amount > 0]
        due_amount = due_amount[due_amount > 0]
        pay = inv["pay"][single]
        partial = inv["partial"][single]
        first_amount = np.where(
            partial, np.round(due_amount * rng.uniform(0.4, 0.9, len(single)), 2), due_amount
        )
        second_pay = _weekday_forward(pay + rng.integers(10, 46, len(single)))
        # instalments: each paid around its own due date
        i_inv = inst["inv"]
        i_delay = inv["delay"][i_inv] + rng.normal(0.0, 2.0, len(i_inv))
        i_pay = np.maximum(
            _weekday_forward(inst["due"] + np.round(i_delay).astype("int64")),
            inv["posting"][i_inv] + 3,
        )
        i_live = ~inv["disputed"][i_inv]
        p_inv = np.r_[single, single[partial], i_inv[i_live]]
        p_date = np.r_[pay, second_pay[partial], i_pay[i_live]]
        p_amount = np.r_[first_amount, (due_amount - first_amount)[partial], inst["amount"][i_live]]
        p_inst = np.r_[np.zeros(len(single) + int(partial.sum()), dtype="int64"), inst["k"][i_live]]
        keep = (p_date <= self.as_of) & (p_amount > 0.004)
        p_inv, p_date, p_amount, p_inst = p_inv[keep], p_date[keep], p_amount[keep], p_inst[keep]
        n = len(p_inv)
        lag = rng.integers(2, 46, n)
        cleared_later = rng.random(n) < _CLEARED_LATER_RATE
        alloc = p_date + lag
        on_account = (cleared_later & (alloc > self.as_of)) | (rng.random(n) < _UNAPPLIED_RATE)
        alloc_missing = ~cleared_later | on_account
        cust = inv["cust"][p_inv]
        # one payment per customer and value date, one line per cleared item
        pay_no = _group_numbers(p_date * self.nc + cust)
        line = _rank_within(pay_no, p_inv * 4 + p_inst) + 1
        self.pay = {
            "pay_no": pay_no,
            "line": line,
            "cust": cust,
            "date": p_date,
            "amount": np.round(p_amount, 2),
            "inv": np.where(on_account, -1, p_inv),
            "alloc": alloc,
            "alloc_missing": alloc_missing,
            "inst": p_inst,
        }

    # customer forecasts and budget -------------------------------------------------------------
    def _forecasts(self) -> dict[str, object]:
        rng = self.rng
        level_rank = np.argsort(np.argsort(-self.s_level, kind="stable"))
        rank = _rank_within(self.s_cust, level_rank)
        # materials the customer has ordered, or a new one it will order soon
        ever = self.qty[:, : self.months].any(axis=1)
        ever |= (self.lifecycle[self.s_mat] == 1) & self.qty.any(axis=1)
        series = np.flatnonzero((rank < _FORECAST_SERIES) & self.sends_fc[self.s_cust] & ever)
        n_snap = min(_SNAPSHOT_MONTHS, self.months)
        snap_t = np.arange(self.months - n_snap, self.months)  # grid index of snapshot month
        snapshot = _weekday_forward(self.mstart[snap_t][None, :] + self.snapshot_day[:, None])
        lags = np.arange(_MAX_LAG + 1)
        # share of the real order already known, by behaviour and lag
        known = np.array([f[2] for f in _FORECASTERS])[:, None] * (1.0 - lags / _MAX_LAG)
        # "late": the mean of the orders of the 3 months before the snapshot month
        held = np.concatenate([np.zeros((len(self.qty), 1)), np.cumsum(self.qty, axis=1)], axis=1)
        t_hi = snap_t  # months before the snapshot month: [t - 3, t)
        t_lo = np.maximum(snap_t - 3, 0)
        n_back = np.maximum(t_hi - t_lo, 1)
        # "noise": the 12-month average level before `end`, without season
        level = self.lam[:, max(self.months - 12, 0) : self.months].mean(axis=1)
        parts = []
        for block in np.array_split(series, max(1, len(series) // 2000)):  # bounds memory
            # per series x month: what the customer expects, and what it will order
            s, o = block[:, None], self.month_o[None, :]
            mat = self.s_mat[block][:, None]
            # customers keep forecasting phasing-out materials at half their old level
            expected = np.where(
                self.lifecycle[mat] == 2,
                self._expected(s, o, life=False) * (0.5 + 0.5 * self._life(mat, o)),
                self.lam[block],
            )
            f = np.repeat(np.arange(len(block)), n_snap * len(lags))
            st = np.tile(np.repeat(np.arange(n_snap), len(lags)), len(block))
            lag = np.tile(lags, len(block) * n_snap)
            t = snap_t[st] + lag
            cust, mat = self.s_cust[block][f], self.s_mat[block][f]
            kind = self.fc_kind[cust]
            recent = (held[block][f, t_hi[st]] - held[block][f, t_lo[st]]) / n_back[st]
            belief = np.select(
                [kind == _LATE, kind == _NOISE], [recent, level[block][f]], expected[f, t]
            )
            k = known[kind, lag]
            base = (1.0 - k) * belief + k * self.qty[block][f, t]
            sigma = self.fc_noise[cust] * (0.6 + 0.15 * lag)
            noise = np.exp(sigma * rng.standard_normal(len(f)) - sigma**2 / 2)
            pack = self.pack[mat]
            fc = np.round(base * (1 + self.bias[cust]) * noise / pack) * pack
            parts.append((cust, mat, snapshot[cust, st], self.month_o[t], fc))
        cust, mat, day, period, fc = (
            np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, "int64")
            for i in range(5)
        )
        del parts
        return {
            "customer_id": _take(self.customer_ids, cust),
            "material_id": _take(self.material_ids, mat),
            "snapshot_date": _dates(day),
            "period": period,
            "quantity": fc.astype("float64"),
        }

    def _budget(self) -> dict[str, object]:
        rng = self.rng
        nf = len(_FAMILIES)
        last_year = self.year_o - 1
        months_o = np.arange(last_year * 12, (last_year + 2) * 12)
        S = len(self.s_cust)
        s = np.arange(S)[:, None]
        # the planner's view: last year's expected quantity (without lifecycle), with the lifecycle of the planned month (phase-outs planned down, phase-ins
        # up); a customer's own growth is not known to the plan, so growers beat it
        o = months_o[None, :]
        basis = self._expected(s, o - 12, life=False) * self._life(self.s_mat[:, None], o)
        price = self._price(self.s_cust[:, None], self.s_mat[:, None], months_o[None, :] // 12)
        group = self.s_cust * nf + self.family[self.s_mat]
        groups, g_idx = np.unique(group, return_inverse=True)
        G, M = len(groups), len(months_o)
        flat = (g_idx[:, None] * M + np.arange(M)[None, :]).ravel()
        qty = np.bincount(flat, basis.ravel(), G * M).reshape(G, M)
        revenue = np.bincount(flat, (basis * price).ravel(), G * M).reshape(G, M)
        noise = rng.lognormal(0.0, 0.05, (G, M))
        # each year's budget approved on 15 December of the year before
        approved = _month_start_days(months_o[[0, 12]] - 1) + 14
        version = np.repeat(approved, 12)[None, :].repeat(G, axis=0)
        qty, revenue = qty * noise, revenue * noise
        g_cust = groups // nf
        keep = np.ones((G, M), dtype=bool)
        # the mid-year revision (approved 1 July, once the history reaches July): customers
        # whose first half ran more than 8 % off plan get July-December re-planned at the rate
        # their first half ran (per family, within 0.7-1.4 of the plan)
        if self.end_o % 12 >= 6:
            actual = self._expected(s, o)
            act = np.bincount(flat, actual.ravel(), G * M).reshape(G, M)
            base = np.bincount(flat, basis.ravel(), G * M).reshape(G, M)
            half = slice(12, 18)
            c_act = np.bincount(g_cust, act[:, half].sum(axis=1), self.nc)
            c_plan = np.bincount(g_cust, base[:, half].sum(axis=1), self.nc)
            with np.errstate(divide="ignore", invalid="ignore"):
                off = np.abs(c_act / c_plan - 1.0) > 0.08
                rate = np.clip(act[:, half].sum(axis=1) / base[:, half].sum(axis=1), 0.7, 1.4)
            revised = np.flatnonzero(off[g_cust] & np.isfinite(rate))
            if len(revised):
                r_qty = qty[revised, 12:].copy()
                r_rev = revenue[revised, 12:].copy()
                r_qty[:, 6:] *= rate[revised, None]
                r_rev[:, 6:] *= rate[revised, None]
                july = _month_start_days(months_o[[18]])[0]
                groups = np.concatenate([groups, groups[revised]])
                G2 = len(revised)
                qty = np.concatenate([qty, np.pad(r_qty, ((0, 0), (12, 0)))])
                revenue = np.concatenate([revenue, np.pad(r_rev, ((0, 0), (12, 0)))])
                version = np.concatenate([version, np.full((G2, M), july)])
                keep = np.concatenate([keep, np.arange(M)[None, :].repeat(G2, axis=0) >= 12])
        G = len(groups)
        keep = keep.ravel()
        cust = np.repeat(groups // nf, M)[keep]
        fam = np.repeat(groups % nf, M)[keep]
        return {
            "customer_id": _take(self.customer_ids, cust),
            "period": np.tile(months_o, G)[keep],
            "product_family": _take([f.name for f in _FAMILIES], fam),
            "planned_quantity": np.round(qty).ravel()[keep],
            "planned_revenue": np.round(revenue, -1).ravel()[keep],
            "currency": _take(_CURRENCIES, self.currency[cust]),
            "version_date": (version.ravel()[keep] * 86400).astype("datetime64[s]"),
        }

    def _actions(self) -> dict[str, object]:
        """Actions agreed in the monthly reviews of the last 4 months: 0-3 per customer and
        review, due 2-8 weeks later; done ones closed 0-10 weeks after opening (never after
        the extract date), so some open actions are overdue at the end."""
        rng = self.rng
        reviews = self.end_o - np.arange(4)  # review months, the latest first
        per = rng.integers(0, 4, (self.nc, len(reviews)))
        cust = np.repeat(np.repeat(np.arange(self.nc), len(reviews)), per.ravel())
        month = np.repeat(np.tile(reviews, self.nc), per.ravel())
        n = len(cust)
        opened = _weekday_forward(_month_start_days(month) + rng.integers(2, 20, n))
        opened = np.minimum(opened, self.as_of)
        due = opened + rng.integers(14, 57, n)
        closed = opened + rng.integers(3, 50, n)
        done = (rng.random(n) < 0.85) & (closed <= self.as_of)
        dropped = done & (rng.random(n) < 0.1)
        status = np.where(dropped, 3, np.where(done, 2, np.where(rng.random(n) < 0.5, 1, 0)))
        topics = _ACTION_TOPICS
        managers = list(_MANAGERS)
        return {
            "action_id": _ids(500_000, np.arange(n), prefix="A"),
            "customer_id": _take(self.customer_ids, cust),
            "opened": _dates(opened),
            "owner": _take(managers, rng.integers(len(managers), size=n)),
            "topic": _take(topics, rng.integers(len(topics), size=n)),
            "due": _dates(due),
            "status": _take(["open", "in progress", "done", "dropped"], status),
            "closed": _dates(closed, ~done),
        }

    # assembly --------------------------------------------------------------------------------
    def run(self) -> dict[str, pd.DataFrame]:
        self._customers()
        self._materials()
        self._series()
        self._demand()
        forecasts = _frame("customer_forecasts", self._forecasts())
        self._orders()
        del self.lam, self.qty
        self._deliveries()
        orders = _frame("orders", self._order_columns())
        deliveries = _frame("deliveries", self._delivery_columns())
        del self.o
        for column in ("order_no", "line", "air", "freight"):
            del self.d[column]
        self._invoices()
        self._complaints()
        self._credit_notes()
        self._payments()
        budget = self._budget()
        return {
            "customers": _frame("customers", self._customer_columns()),
            "materials": _frame("materials", self._material_columns()),
            "orders": orders,
            "deliveries": deliveries,
            "customer_forecasts": forecasts,
            "invoices": _frame("invoices", self._invoice_columns()),
            "instalments": _frame("instalments", self._instalment_columns()),
            "payments": _frame("payments", self._payment_columns()),
            "complaints": _frame("complaints", self._complaint_columns()),
            "budget": _frame("budget", budget),
            "actions": _frame("actions", self._actions()),
        }

    def _customer_columns(self) -> dict[str, object]:
        inv = self.inv
        recent = inv["posting"] > self.as_of - 365
        sales = np.bincount(inv["cust"][recent], inv["amount"][recent], self.nc)
        exposure = sales * (self.terms + 30) / 365.0 * self.credit_factor
        limit = np.maximum(10_000.0, np.ceil(exposure / 5_000.0) * 5_000.0)
        managers = list(_MANAGERS) + [
            f"{a.split()[0]} {b.split()[-1]}" for b in _MANAGERS for a in _MANAGERS
        ]
        managers += [f"Manager {i + 1}" for i in range(len(managers), int(self.manager.max()) + 1)]
        return {
            "customer_id": self.customer_ids,
            "name": self.names,
            "account_manager": _take(managers, self.manager),
            "region": _take([r.name for r in _REGIONS], self.region),
            "segment": _take(_SEGMENTS, self.segment),
            "currency": _take(_CURRENCIES, self.currency),
            "credit_limit": np.where(self.has_limit, limit, np.nan),
            "payment_terms_days": self.terms,
            "otif_target": self.otif_target,
            "forecast_accuracy_target": np.where(self.sends_fc, self.fa_target, np.nan),
            "wallet_share": self.wallet_share,
        }

    def _material_columns(self) -> dict[str, object]:
        return {
            "material_id": self.material_ids,
            "description": self.description,
            "product_family": _take([f.name for f in _FAMILIES], self.family),
            "lifecycle": _take(["active", "phase-in", "phase-out"], self.lifecycle),
            "unit_cost": self.unit_cost,
            "cost_currency": _take(["EUR"], np.zeros(self.nm, dtype="int64")),
        }

    def _order_columns(self) -> dict[str, object]:
        o = self.o
        return {
            "order_id": _ids(10_000_000, o["order_no"]),
            "line": o["line"],
            "customer_id": _take(self.customer_ids, o["cust"]),
            "material_id": _take(self.material_ids, o["mat"]),
            "order_date": _dates(o["ordered"]),
            "requested_date": _dates(o["requested"]),
            "confirmed_date": _dates(o["confirmed"], o["unconfirmed"]),
            "quantity": o["qty"],
            "net_value": o["net_value"],
            "currency": _take(_CURRENCIES, self.currency[o["cust"]]),
            "status": _take(["open", "delivered", "cancelled"], o["status"]),
        }

    def _delivery_columns(self) -> dict[str, object]:
        d = self.d
        return {
            "delivery_id": _ids(80_000_000, d["delivery_no"]),
            "order_id": _ids(10_000_000, d["order_no"]),
            "line": d["line"],
            "delivered_date": _dates(d["date"]),
            "delivered_quantity": d["qty"],
            "air_freight": d["air"],
            "freight_cost": d["freight"],
        }

    def _invoice_columns(self) -> dict[str, object]:
        inv, cn = self.inv, self.cn
        n_inv, n_cn = len(inv["amount"]), len(cn["amount"])
        ref = cn["target"] >= 0
        reference = _ids(90_000_000, np.maximum(cn["target"], 0))
        reference = pc.if_else(pa.array(ref), reference, pa.nulls(n_cn, pa.string()))
        cust = np.r_[inv["cust"], cn["cust"]]
        return {
            "document_id": pa.concat_arrays(
                [_ids(90_000_000, np.arange(n_inv)), _ids(70_000_000, np.arange(n_cn))]
            ),
            "customer_id": _take(self.customer_ids, cust),
            "document_type": _take(
                ["invoice", "credit_note"], np.r_[np.zeros(n_inv), np.ones(n_cn)]
            ),
            "posting_date": _dates(np.r_[inv["posting"], cn["posting"]]),
            "due_date": _dates(np.r_[inv["due"], cn["posting"]]),
            "amount": np.r_[inv["amount"], cn["amount"]],
            "currency": _take(_CURRENCIES, self.currency[cust]),
            "reference_document": pa.concat_arrays([pa.nulls(n_inv, pa.string()), reference]),
            "allocation_date": _dates(
                np.r_[inv["posting"], cn["alloc"]], np.r_[np.ones(n_inv, bool), cn["alloc_missing"]]
            ),
            "reference_instalment": pd.array([pd.NA] * (n_inv + n_cn), dtype="Int64"),
        }

    def _instalment_columns(self) -> dict[str, object]:
        inst = self.inst
        return {
            "document_id": _ids(90_000_000, inst["inv"]),
            "instalment": inst["k"],
            "due_date": _dates(inst["due"]),
            "amount": inst["amount"],
        }

    def _payment_columns(self) -> dict[str, object]:
        p = self.pay
        allocated = p["inv"] >= 0
        doc = pc.if_else(
            pa.array(allocated),
            _ids(90_000_000, np.maximum(p["inv"], 0)),
            pa.nulls(len(allocated), pa.string()),
        )
        inst = pd.array(p["inst"], dtype="Int64")
        inst[(p["inst"] == 0) | ~allocated] = pd.NA
        return {
            "payment_id": _ids(14_000_000, p["pay_no"]),
            "line": p["line"],
            "customer_id": _take(self.customer_ids, p["cust"]),
            "payment_date": _dates(p["date"]),
            "amount": p["amount"],
            "currency": _take(_CURRENCIES, self.currency[p["cust"]]),
            "allocated_document": doc,
            "allocation_date": _dates(p["alloc"], p["alloc_missing"]),
            "instalment": inst,
        }

    def _complaint_columns(self) -> dict[str, object]:
        c = self.cmp
        return {
            "complaint_id": _ids(300_000_000, np.arange(len(c["row"]))),
            "customer_id": _take(self.customer_ids, c["cust"]),
            "material_id": _take(self.material_ids, c["mat"]),
            "opened_date": _dates(c["opened"]),
            "closed_date": _dates(c["closed"], c["is_open"]),
            "category": _take(_COMPLAINT_CATEGORIES, c["category"]),
            "rejected_quantity": c["rejected"],
        }


# --- files --------------------------------------------------------------------------------


def write_demo(out_dir: str | Path, *, fmt: str = "csv", **generate_kwargs: object) -> list[Path]:
    """Generate the demo tables and write one ``<table>.csv`` (or ``.parquet``) each.

    CSV files are UTF-8 with a header, ISO dates (YYYY-MM-DD), months as YYYY-MM and empty
    cells for missing values. Parquet files hold the same columns, months as YYYY-MM text.
    `generate_kwargs` go to :func:`generate`. Also writes ``kamlab.toml`` with the demo's
    exchange rates (``kamlab pack --config DIR/kamlab.toml``). Returns the paths written,
    tables in contract order, then the settings file.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"write_demo: fmt must be 'csv' or 'parquet', got {fmt!r}")
    frames = generate(**generate_kwargs)  # type: ignore[arg-type]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in frames.items():
        table = TABLES[name]
        flat = frame.copy()
        for col in table.columns:
            if col.dtype == "period":
                flat[col.name] = flat[col.name].dt.strftime("%Y-%m")
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            flat.to_csv(path, index=False, date_format="%Y-%m-%d")
        else:
            flat.to_parquet(path, index=False)
        paths.append(path)
    paths.append(_write_settings(out))
    return paths


def _write_settings(out: Path) -> Path:
    """A ``kamlab.toml`` beside the extracts with the demo's own exchange rates.

    The demo bills in several currencies; ranking customers (ABC) and placing them in the
    key-account matrix add revenue across customers, which kamlab does only with stated rates.
    """
    rates = ", ".join(f"{c} = {1.0 / per_eur:.6f}" for c, per_eur in _FX.items())
    path = out / "kamlab.toml"
    path.write_text(
        "# Settings for the demo extracts (written by `kamlab demo`).\n"
        "# Rates: EUR per unit of each currency, the demo's fixed list-price rates.\n"
        '[scorecard]\nreporting_currency = "EUR"\n'
        f"fx_rates = {{ {rates} }}\n",
        encoding="utf-8",
    )
    return path
