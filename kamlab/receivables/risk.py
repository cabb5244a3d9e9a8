"""Late-payment risk: probability that an open invoice is paid more than N days late."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from kamlab.config import DEFAULTS
from kamlab.receivables._ledger import INVOICE, as_day, build_ledger, to_dates

__all__ = [
    "LatePaymentModel",
    "fit_late_payment",
    "late_payment_risk",
    "late_rate_by_day",
    "payment_outcomes",
    "score_late_payment",
    "settlements",
    "sum_late_rates",
]

_MIN_TRAIN = 50  # fewer known outcomes (or one class only): the baseline is returned
_BASELINE = "baseline (too little history)"
_FEATURES = [
    "hist_invoices",
    "hist_late_rate",
    "hist_days_late",
    "portfolio_late_rate",
    "log_amount",
    "terms_days",
    "month",
]


def settlements(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    instalments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """When each invoice was settled: the allocation date at which its open amount reached 0.

    One row per invoice: customer_id, currency, document_id, posting_date, due_date, amount,
    settled_date (NaT while any of it is open) and days_late = settled_date − due_date (days,
    negative = early). The latest due date of its instalments counts for an instalment invoice.

    >>> inv = pd.DataFrame({"document_id": ["I1"], "customer_id": ["C1"],
    ...     "document_type": ["invoice"], "posting_date": pd.to_datetime(["2024-01-01"]),
    ...     "due_date": pd.to_datetime(["2024-01-31"]), "amount": [100.0],
    ...     "currency": ["EUR"], "reference_document": [None]})
    >>> pay = pd.DataFrame({"payment_id": ["P1", "P2"], "line": [1, 1],
    ...     "customer_id": ["C1", "C1"],
    ...     "payment_date": pd.to_datetime(["2024-01-20", "2024-02-10"]),
    ...     "amount": [60.0, 40.0], "currency": ["EUR", "EUR"],
    ...     "allocated_document": ["I1", "I1"]})
    >>> settlements(inv, pay)[["settled_date", "days_late"]].astype(str).values.tolist()
    [['2024-02-10', '10']]
    """
    ledger = build_ledger(invoices, payments, instalments)
    items = pd.DataFrame(ledger.items)
    items = items.loc[items["kind"] == INVOICE]
    docs = items.groupby("row", sort=True).agg(
        posting_day=("posting_day", "first"),
        due_day=("due_day", "max"),
        cents=("amount_cents", "sum"),
    )
    pieces = ledger.pieces
    p = pd.DataFrame(
        {
            "row": ledger.items["row"][pieces["item"]],
            "day": pieces["alloc_day"],
            "cents": pieces["cents"],
        }
    )
    p = p.groupby(["row", "day"], as_index=False)["cents"].sum()  # sorted by row, day
    p["cum"] = p.groupby("row")["cents"].cumsum()
    p["need"] = p["row"].map(docs["cents"]).to_numpy()
    settled = p.loc[p["cum"] >= p["need"]].groupby("row")["day"].first()
    rows = docs.index.to_numpy()
    group = ledger.doc_group[rows]
    settled_day = pd.Series(rows).map(settled).astype("Int64")
    out = pd.DataFrame(
        {
            "customer_id": ledger.groups["customer_id"].array.take(group),
            "currency": ledger.groups["currency"].array.take(group),
            "document_id": invoices["document_id"].astype("string").array.take(rows),
            "posting_date": to_dates(docs["posting_day"].to_numpy()),
            "due_date": to_dates(docs["due_day"].to_numpy()),
            "amount": docs["cents"].to_numpy() / 100.0,
            "settled_date": pd.to_datetime(to_dates(settled_day.fillna(0).to_numpy("int64"))).where(
                settled_day.notna().to_numpy()
            ),
            "days_late": settled_day - docs["due_day"].to_numpy(),
        }
    )
    return out[
        [
            "customer_id",
            "currency",
            "document_id",
            "posting_date",
            "due_date",
            "amount",
            "settled_date",
            "days_late",
        ]
    ]


@dataclass(frozen=True)
class LatePaymentModel:
    """A fitted late-payment model (:func:`fit_late_payment`): picklable, applied by
    :func:`score_late_payment` to any customers' invoices, e.g. chunk by chunk.

    `model` is the calibrated classifier, None when there were fewer than 50 known outcomes
    or one class only (the baseline is returned then). `categories`: the training values of
    each string feature, so every chunk encodes them alike.
    """

    model: Any | None
    features: tuple[str, ...]
    categories: Mapping[str, list]
    train_rows: int
    train_late_rate: float


def payment_outcomes(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    late_days: int = DEFAULTS.receivables.late_days,
    instalments: pd.DataFrame | None = None,
    features: Sequence[str] = (),
) -> pd.DataFrame:
    """Each invoice's outcome as known at `as_of`: :func:`settlements` plus `features`
    (invoice columns), ``late`` (days_late > `late_days`, 0/1), ``known`` (settled on or
    before `as_of`), ``settled_day`` and ``posting_day`` (days since 1970-01-01)."""
    day = as_day(pd.Timestamp(as_of))
    docs = settlements(invoices, payments, instalments=instalments)
    extra = list(features)
    if extra:
        cols = invoices.set_index(invoices["document_id"].astype("string"))[extra]
        docs = docs.join(cols, on="document_id")
    docs["settled_day"] = _day(docs["settled_date"])
    docs["posting_day"] = _day(docs["posting_date"])
    docs["known"] = docs["settled_date"].notna().to_numpy() & (docs["settled_day"] <= day)
    docs["late"] = (docs["days_late"] > late_days).fillna(False).astype("int64")
    return docs


def late_rate_by_day(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The known outcomes per settlement day: day, settled (invoices), late (of them).

    Additive: the portfolio's table is the sum of its customer chunks' tables (summed per
    day with :func:`sum_late_rates`); it gives the portfolio late-rate feature.
    """
    known = outcomes.loc[outcomes["known"], ["settled_day", "late"]]
    out = known.groupby("settled_day", sort=True).agg(
        settled=("late", "size"), late=("late", "sum")
    )
    out = out.rename_axis("day").reset_index()
    return out.astype({"day": "int64", "settled": "int64", "late": "int64"})


def sum_late_rates(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """:func:`late_rate_by_day` tables of disjoint sets of customers, added up per day."""
    both = pd.concat(tables, ignore_index=True)
    out = both.groupby("day", sort=True, as_index=False)[["settled", "late"]].sum()
    return out.astype({"day": "int64", "settled": "int64", "late": "int64"})


def _history(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The known outcomes in settlement order (customer's own history features)."""
    known = outcomes["known"].to_numpy()
    history = outcomes.loc[known, ["customer_id", "days_late", "late"]].assign(
        day=outcomes["settled_day"].to_numpy()[known]
    )
    history["days_late"] = history["days_late"].astype("float64")
    return history.sort_values("day", kind="stable", ignore_index=True)


def fit_late_payment(
    outcomes: pd.DataFrame,
    portfolio: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    features: Sequence[str] = (),
    random_state: int = DEFAULTS.receivables.random_state,
    n_threads: int | None = 1,
) -> LatePaymentModel:
    """Fit the model of :func:`late_payment_risk` on the known outcomes in `outcomes`
    (:func:`payment_outcomes` of all customers, or of a sample of them), with the portfolio
    late rate from `portfolio` (:func:`late_rate_by_day` of all customers).

    Rows train in settlement order (day, then customer and document id: the same order
    whichever customers the outcomes came with).
    """
    day = as_day(pd.Timestamp(as_of))
    extra = list(features)
    train = outcomes.loc[outcomes["known"]]
    train = train.sort_values(
        ["settled_day", "customer_id", "document_id"], kind="stable", ignore_index=True
    )
    y = train["late"].to_numpy()
    late_rate = float(y.mean()) if len(y) else float("nan")
    if len(y) < _MIN_TRAIN or len(np.unique(y)) != 2:
        return LatePaymentModel(None, tuple(extra), {}, int(len(y)), late_rate)
    at = np.minimum(train["posting_day"].to_numpy(), day)
    x = _features(train, _history(outcomes), portfolio, at, extra)
    categories = {
        c: sorted(x[c].dropna().astype("string").unique())
        for c in extra
        if not pd.api.types.is_numeric_dtype(x[c])
    }
    x = _encoded(x, categories)
    model = CalibratedClassifierCV(
        HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            categorical_features="from_dtype",
            random_state=random_state,
        ),
        method="sigmoid",
        cv=KFold(n_splits=5),  # contiguous folds in settlement order, all before as_of
    )
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        model.fit(x, y)
    return LatePaymentModel(model, tuple(extra), categories, int(len(y)), late_rate)


def score_late_payment(
    outcomes: pd.DataFrame,
    portfolio: pd.DataFrame,
    model: LatePaymentModel,
    *,
    as_of: str | pd.Timestamp,
    targets: Sequence[str] | None = None,
    n_threads: int | None = 1,
) -> pd.DataFrame:
    """The rows of :func:`late_payment_risk` for the open invoices in `outcomes` (or the
    `targets` document ids), scored by `model`; the baseline from the customers' own
    histories and the portfolio late rate in `portfolio`."""
    day = as_day(pd.Timestamp(as_of))
    if targets is None:
        target = outcomes.loc[(outcomes["posting_day"] <= day) & ~outcomes["known"]]
    else:
        target = outcomes.loc[outcomes["document_id"].isin(pd.Index(targets).astype("string"))]
    x = _features(
        target,
        _history(outcomes),
        portfolio,
        np.minimum(target["posting_day"].to_numpy(), day),
        list(model.features),
    )
    baseline = np.where(x["hist_invoices"] > 0, x["hist_late_rate"], x["portfolio_late_rate"])
    if model.model is not None and len(x):
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            proba = model.model.predict_proba(_encoded(x, model.categories))[:, 1]
    else:
        proba = baseline
    out = target[
        ["customer_id", "currency", "document_id", "posting_date", "due_date", "amount"]
    ].reset_index(drop=True)
    out["probability"] = np.round(proba, 6)
    out["baseline"] = np.round(baseline, 6)
    out["hist_invoices"] = x["hist_invoices"].to_numpy("int64")
    used = "calibrated gradient boosting" if model.model is not None else _BASELINE
    out["model"] = pd.array([used] * len(out), dtype="string")
    out.attrs["train_rows"] = model.train_rows
    out.attrs["train_late_rate"] = model.train_late_rate
    return out


def late_payment_risk(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    late_days: int = DEFAULTS.receivables.late_days,
    instalments: pd.DataFrame | None = None,
    targets: Sequence[str] | None = None,
    features: Sequence[str] = (),
    random_state: int = DEFAULTS.receivables.random_state,
    n_threads: int | None = 1,
    fit_customers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Probability that each open invoice is settled more than `late_days` after its due date.

    Target: late = days_late > `late_days` (see :func:`settlements`). Training set: the
    invoices whose outcome is known at `as_of`, i.e. settled on or before it (time-based
    split: nothing after `as_of` is used; invoices still open at `as_of` do not train, even
    when already known to be late) — of the customers in `fit_customers` only, when given
    (a bounded sample of a large portfolio; the features still come from everyone's history).
    Features of an invoice, all from data dated before
    t = min(posting_date, as_of): the customer's number of invoices settled before t, their
    late rate and mean days late, the portfolio late rate, log amount, payment terms (days),
    posting month, plus `features` (extra invoice columns, e.g. disputed; strings are treated
    as categories, those seen in training). Model: scikit-learn ``HistGradientBoostingClassifier`` calibrated with
    ``CalibratedClassifierCV`` (sigmoid, 5 contiguous folds in settlement order — all
    before `as_of`; on the IBM sample these beat ``TimeSeriesSplit``, whose first models
    see only a quarter of the history);
    deterministic for a fixed `random_state`. `n_threads` caps the OpenMP threads of the
    fit (default 1: on a busy shared machine extra threads slow a fit of this size by ~40×;
    None = library default).

    Baseline: the customer's historical late rate before t (the portfolio's when the customer
    has no settled invoice yet). With fewer than 50 known outcomes or only one class, the
    probability is the baseline (``model`` says which).

    The steps, for a portfolio too large for one process (as the monthly chain runs them by
    customer chunk): :func:`payment_outcomes`, :func:`late_rate_by_day` (summed over chunks),
    :func:`fit_late_payment` on a sample, :func:`score_late_payment` per chunk.

    Source: the invoice-outcome prediction set-up of Zeng, Melville et al., "Using predictive
    analysis to improve invoice-to-cash collection", KDD 2008 (features from the customer's
    paid history, time-ordered evaluation). Unit: probability 0-1; compare with the baseline
    by ROC AUC (higher better) and Brier score (lower better), see benchmarks/receivables.py.

    Returns one row per target invoice (default: invoices open at `as_of`): customer_id,
    currency, document_id, posting_date, due_date, amount, probability, baseline,
    hist_invoices, model. ``attrs`` holds train_rows and train_late_rate.
    """
    outcomes = payment_outcomes(
        invoices,
        payments,
        as_of=as_of,
        late_days=late_days,
        instalments=instalments,
        features=features,
    )
    portfolio = late_rate_by_day(outcomes)
    sample = outcomes
    if fit_customers is not None:
        sample = outcomes.loc[outcomes["customer_id"].isin(pd.Index(fit_customers).astype("str"))]
    model = fit_late_payment(
        sample,
        portfolio,
        as_of=as_of,
        features=features,
        random_state=random_state,
        n_threads=n_threads,
    )
    return score_late_payment(
        outcomes, portfolio, model, as_of=as_of, targets=targets, n_threads=n_threads
    )


def _encoded(x: pd.DataFrame, categories: Mapping[str, list]) -> pd.DataFrame:
    """`x` with its string features as categoricals of the training values."""
    if not categories:
        return x
    x = x.copy()
    for c, values in categories.items():
        x[c] = pd.Categorical(x[c].astype("string"), categories=values)
    return x


def _day(values: pd.Series) -> np.ndarray:
    return np.asarray(values).astype("datetime64[D]").astype("int64")


def _features(
    rows: pd.DataFrame,
    history: pd.DataFrame,
    portfolio: pd.DataFrame,
    at: np.ndarray,
    extra: list[str],
) -> pd.DataFrame:
    """Model features of `rows` from their customers' `history` (settled invoices) and the
    `portfolio`'s outcomes per day (:func:`late_rate_by_day`), dated strictly before `at`."""
    at = np.asarray(at, dtype="int64")
    hist = history.assign(
        n=history.groupby("customer_id").cumcount() + 1,
        n_late=history.groupby("customer_id")["late"].cumsum(),
        sum_days=history.groupby("customer_id")["days_late"].cumsum(),
    )
    query = pd.DataFrame(
        {"customer_id": rows["customer_id"].array, "at": at, "row": np.arange(len(rows))}
    ).sort_values("at", kind="stable")
    own = pd.merge_asof(
        query,
        hist[["customer_id", "day", "n", "n_late", "sum_days"]],
        left_on="at",
        right_on="day",
        by="customer_id",
        allow_exact_matches=False,
    )
    own = own.sort_values("row").reset_index(drop=True)
    # the portfolio's outcomes settled strictly before each row's day
    before = np.searchsorted(portfolio["day"].to_numpy("int64"), at, side="left")
    settled = np.concatenate([[0], np.cumsum(portfolio["settled"].to_numpy("int64"))])
    late = np.concatenate([[0], np.cumsum(portfolio["late"].to_numpy("int64"))])
    p_n = settled[before].astype("float64")
    n = own["n"].fillna(0).to_numpy("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p_rate = np.where(p_n > 0, late[before].astype("float64") / p_n, np.nan)
        out = pd.DataFrame(
            {
                "hist_invoices": n,
                "hist_late_rate": np.where(n > 0, own["n_late"].to_numpy("float64") / n, np.nan),
                "hist_days_late": np.where(n > 0, own["sum_days"].to_numpy("float64") / n, np.nan),
                "portfolio_late_rate": p_rate,
                "log_amount": np.log1p(rows["amount"].to_numpy("float64")),
                "terms_days": (_day(rows["due_date"]) - _day(rows["posting_date"])).astype(
                    "float64"
                ),
                "month": pd.to_datetime(rows["posting_date"]).dt.month.to_numpy("float64"),
            }
        )
    for c in extra:
        values = rows[c].reset_index(drop=True)
        out[c] = values.astype("float64") if pd.api.types.is_bool_dtype(values) else values
    return out[[*_FEATURES, *extra]]
