"""Late-payment risk: probability that an open invoice is paid more than N days late."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from kamlab.config import DEFAULTS
from kamlab.receivables._ledger import INVOICE, as_day, build_ledger, to_dates

__all__ = ["late_payment_risk", "settlements"]

_MIN_TRAIN = 50  # fewer known outcomes (or one class only): the baseline is returned
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
) -> pd.DataFrame:
    """Probability that each open invoice is settled more than `late_days` after its due date.

    Target: late = days_late > `late_days` (see :func:`settlements`). Training set: the
    invoices whose outcome is known at `as_of`, i.e. settled on or before it (time-based
    split: nothing after `as_of` is used; invoices still open at `as_of` do not train, even
    when already known to be late). Features of an invoice, all from data dated before
    t = min(posting_date, as_of): the customer's number of invoices settled before t, their
    late rate and mean days late, the portfolio late rate, log amount, payment terms (days),
    posting month, plus `features` (extra invoice columns, e.g. disputed; strings are treated
    as categories). Model: scikit-learn ``HistGradientBoostingClassifier`` calibrated with
    ``CalibratedClassifierCV`` (sigmoid, 5 contiguous folds in settlement order — all
    before `as_of`; on the IBM sample these beat ``TimeSeriesSplit``, whose first models
    see only a quarter of the history);
    deterministic for a fixed `random_state`. `n_threads` caps the OpenMP threads of the
    fit (default 1: on a busy shared machine extra threads slow a fit of this size by ~40×;
    None = library default).

    Baseline: the customer's historical late rate before t (the portfolio's when the customer
    has no settled invoice yet). With fewer than 50 known outcomes or only one class, the
    probability is the baseline (``model`` says which).

    Source: the invoice-outcome prediction set-up of Zeng, Melville et al., "Using predictive
    analysis to improve invoice-to-cash collection", KDD 2008 (features from the customer's
    paid history, time-ordered evaluation). Unit: probability 0-1; compare with the baseline
    by ROC AUC (higher better) and Brier score (lower better), see benchmarks/receivables.py.

    Returns one row per target invoice (default: invoices open at `as_of`): customer_id,
    currency, document_id, posting_date, due_date, amount, probability, baseline,
    hist_invoices, model. ``attrs`` holds train_rows and train_late_rate.
    """
    d = pd.Timestamp(as_of)
    day = as_day(d)
    docs = settlements(invoices, payments, instalments=instalments)
    extra = list(features)
    if extra:
        cols = invoices.set_index(invoices["document_id"].astype("string"))[extra]
        docs = docs.join(cols, on="document_id")
    settled_day = _day(docs["settled_date"])
    posting_day = _day(docs["posting_date"])
    known = docs["settled_date"].notna().to_numpy() & (settled_day <= day)
    docs["late"] = (docs["days_late"] > late_days).fillna(False).astype("int64")

    history = docs.loc[known, ["customer_id", "days_late", "late"]].assign(day=settled_day[known])
    history["days_late"] = history["days_late"].astype("float64")
    history = history.sort_values("day", kind="stable", ignore_index=True)
    if targets is None:
        target = docs.loc[(posting_day <= day) & ~known]
    else:
        target = docs.loc[docs["document_id"].isin(pd.Index(targets).astype("string"))]
    train = docs.loc[known]
    train_x = _features(train, history, np.minimum(_day(train["posting_date"]), day), extra)
    target_x = _features(target, history, np.minimum(_day(target["posting_date"]), day), extra)

    y = train["late"].to_numpy()
    order = np.argsort(settled_day[known], kind="stable")
    use_model = len(y) >= _MIN_TRAIN and len(np.unique(y)) == 2
    if use_model:
        x_all = pd.concat([train_x, target_x], ignore_index=True)
        categorical = [c for c in extra if not pd.api.types.is_numeric_dtype(x_all[c])]
        for c in categorical:
            x_all[c] = pd.Categorical(x_all[c].astype("string"))
        x_train, x_target = x_all.iloc[: len(train_x)], x_all.iloc[len(train_x) :]
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
            model.fit(x_train.iloc[order], y[order])
            proba = (
                model.predict_proba(x_target)[:, 1]
                if len(x_target)
                else np.empty(0, dtype="float64")
            )
    baseline = np.where(
        target_x["hist_invoices"] > 0, target_x["hist_late_rate"], target_x["portfolio_late_rate"]
    )
    out = target[
        ["customer_id", "currency", "document_id", "posting_date", "due_date", "amount"]
    ].reset_index(drop=True)
    out["probability"] = np.round(proba if use_model else baseline, 6)
    out["baseline"] = np.round(baseline, 6)
    out["hist_invoices"] = target_x["hist_invoices"].to_numpy("int64")
    out["model"] = pd.array(
        ["calibrated gradient boosting" if use_model else "baseline (too little history)"]
        * len(out),
        dtype="string",
    )
    out.attrs["train_rows"] = int(len(y))
    out.attrs["train_late_rate"] = float(y.mean()) if len(y) else float("nan")
    return out


def _day(values: pd.Series) -> np.ndarray:
    return np.asarray(values).astype("datetime64[D]").astype("int64")


def _features(
    rows: pd.DataFrame, history: pd.DataFrame, at: np.ndarray, extra: list[str]
) -> pd.DataFrame:
    """Model features of `rows` from `history` (settled invoices) dated strictly before `at`."""
    hist = history.assign(
        n=history.groupby("customer_id").cumcount() + 1,
        n_late=history.groupby("customer_id")["late"].cumsum(),
        sum_days=history.groupby("customer_id")["days_late"].cumsum(),
        p_n=np.arange(1, len(history) + 1),
        p_late=history["late"].cumsum(),
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
    portfolio = pd.merge_asof(
        query[["at", "row"]],
        hist[["day", "p_n", "p_late"]],
        left_on="at",
        right_on="day",
        allow_exact_matches=False,
    )
    own = own.sort_values("row").reset_index(drop=True)
    portfolio = portfolio.sort_values("row").reset_index(drop=True)
    n = own["n"].fillna(0).to_numpy("float64")
    p_n = portfolio["p_n"].fillna(0).to_numpy("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p_rate = np.where(p_n > 0, portfolio["p_late"].to_numpy("float64") / p_n, np.nan)
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
