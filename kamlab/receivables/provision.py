"""Expected credit loss: the IFRS 9 simplified-approach provision matrix from roll rates."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from kamlab.config import DEFAULTS

__all__ = ["ProvisionMatrix", "provision_matrix"]


class ProvisionMatrix(NamedTuple):
    """rates: currency × bucket (roll_rate, loss_rate); by_customer and total provisions."""

    rates: pd.DataFrame
    by_customer: pd.DataFrame
    total: pd.DataFrame


def provision_matrix(
    history: pd.DataFrame,
    current: pd.DataFrame,
    *,
    write_off_loss_rate: float = DEFAULTS.receivables.write_off_loss_rate,
) -> ProvisionMatrix:
    """Loss rate per ageing bucket from historical roll rates; provision = Σ bucket × rate.

    IFRS 9 §5.5.15 and B5.5.35 (simplified approach, provision matrix); the roll-rate
    (migration) method as in the IFRS 9 illustrative example 13. With B_k(t) the balance in
    bucket k at month-end t (debit balances only: a customer's negative bucket counts 0),
    pooled over customers of one currency and over consecutive month-ends in `history`:

    - roll_k = Σ_t B_{k+1}(t+1) / Σ_t B_k(t), capped at 1, for every bucket but the last;
    - the last bucket (">120") rolls to write-off at `write_off_loss_rate`
      (``ReceivablesSettings.write_off_loss_rate``, default 1.0: assumed entirely lost —
      a prudent default; set the observed recovery-adjusted rate if known);
    - loss_rate_k = roll_k × roll_{k+1} × … × write_off_loss_rate.

    provision = Σ_k max(B_k, 0) × loss_rate_k per customer and currency on `current` (an
    ageing table such as :func:`ageing_summary` or one month of :func:`ageing_history`).
    No forward-looking adjustment is made (IFRS 9 asks for one: apply it to the rates).
    Edge cases: a bucket never holding a balance in history has roll and loss rate NaN,
    and its provision is NaN with a ``reason``; but a roll rate of 0 stops the chain (all
    rates lie in [0, 1]), so the buckets up to it have loss rate 0 even when a later bucket
    has no history; currencies are never pooled.

    Returns
    -------
    ProvisionMatrix(rates, by_customer, total): rates = currency, bucket, balance (Σ B_k(t)
    over the months used), rolled (Σ B_{k+1}(t+1)), roll_rate, loss_rate; by_customer =
    customer_id, currency, bucket balances, provision, reason; total = currency, provision.
    Provisions are computed with the exact rates and rounded to cents only when returned
    (the total is the rounded sum of the exact provisions); the rates shown are rounded to
    6 decimals.

    Example: buckets not due / 1-30 / >30 with balances 100, 50, 20 in month 1 and 120, 40,
    30 in month 2: roll_0 = 40/100, roll_1 = 30/50, write-off 1 → loss rates 0.24, 0.6, 1.

    >>> labels = ["not due", "1-30", ">30"]
    >>> hist = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...     "customer_id": ["C1", "C1"], "currency": ["EUR", "EUR"],
    ...     "not due": [100.0, 120.0], "1-30": [50.0, 40.0], ">30": [20.0, 30.0]})
    >>> pm = provision_matrix(hist, hist.iloc[[1]].drop(columns="month_end"))
    >>> pm.rates["loss_rate"].tolist()
    [0.24, 0.6, 1.0]
    >>> pm.total["provision"].tolist()
    [82.8]
    """
    labels = _bucket_columns(history)
    hist = history.copy()
    hist[labels] = hist[labels].clip(lower=0)
    months = hist.groupby(["currency", "month_end"], observed=True)[labels].sum().sort_index()
    rows = []
    for currency, frame in months.groupby(level="currency", observed=True):
        ends = frame.index.get_level_values("month_end")
        periods = pd.PeriodIndex(ends, freq="M")
        consecutive = (periods[1:] - periods[:-1]).map(lambda off: off.n) == 1
        now = frame.to_numpy()[:-1][np.asarray(consecutive, dtype=bool)]
        nxt = frame.to_numpy()[1:][np.asarray(consecutive, dtype=bool)]
        balance = now.sum(axis=0)
        rolled = np.append(nxt[:, 1:].sum(axis=0), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            roll = np.where(balance[:-1] > 0, np.minimum(rolled[:-1] / balance[:-1], 1.0), np.nan)
        roll = np.append(roll, write_off_loss_rate)
        loss = np.cumprod(roll[::-1])[::-1]
        # roll rates lie in [0, 1]: a zero roll stops the chain, whatever comes after it
        stopped = np.logical_or.accumulate((roll == 0)[::-1])[::-1]
        loss = np.where(stopped, 0.0, loss)
        rows.append(
            pd.DataFrame(
                {
                    "currency": currency,
                    "bucket": labels,
                    "balance": balance.round(2),
                    "rolled": rolled.round(2),
                    "roll_rate": roll,
                    "loss_rate": loss,
                }
            )
        )
    rates = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(
            columns=["currency", "bucket", "balance", "rolled", "roll_rate", "loss_rate"]
        )
    )
    # the provision uses the exact rates; only the rates shown are rounded
    wide = rates.pivot(index="currency", columns="bucket", values="loss_rate").reindex(
        columns=labels
    )
    rates[["roll_rate", "loss_rate"]] = rates[["roll_rate", "loss_rate"]].round(6)
    cur = current[["customer_id", "currency", *labels]].copy()
    factors = wide.reindex(cur["currency"]).to_numpy(dtype="float64")
    debit = cur[labels].clip(lower=0).to_numpy(dtype="float64")
    contrib = debit * factors
    unknown = np.isnan(factors) & (debit > 0)
    cur["provision"] = np.where(unknown.any(axis=1), np.nan, np.nansum(contrib, axis=1))
    cur["reason"] = pd.array(
        np.where(unknown.any(axis=1), "no roll-rate history for a bucket with a balance", ""),
        dtype="string",
    )
    total = cur.groupby("currency", observed=True, as_index=False)["provision"].sum(min_count=1)
    total["provision"] = total["provision"].round(2)  # the sum of the exact provisions
    cur["provision"] = cur["provision"].round(2)
    return ProvisionMatrix(rates=rates, by_customer=cur.reset_index(drop=True), total=total)


def _bucket_columns(frame: pd.DataFrame) -> list[str]:
    """The bucket columns of an ageing table, in order ("not due" … ">N")."""
    cols = list(frame.columns)
    if "not due" not in cols:
        raise ValueError("provision_matrix: history has no 'not due' column (not an ageing table)")
    start = cols.index("not due")
    end = next(i for i in range(start, len(cols)) if cols[i].startswith(">"))
    return cols[start : end + 1]
