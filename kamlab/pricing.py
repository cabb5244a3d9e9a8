"""Prices and margin: price realisation against the agreed price, the price-record audit, margin.

A KAM keeps the customer's price records in the ERP correct and has to know what each invoice
line was billed at against what was agreed. The agreed price of a line is the price record
(``prices``) of its customer and material valid on the line's date; on one day a valid special
price beats a contract price, which beats a price-list price (the ERP's access sequence, most
specific first). Within one source the record that started last applies.

Prices are per ``price_unit`` units (SAP KPEIN): the agreed *unit* price is price / price_unit.
Money is never added across currencies: a line billed in another currency than its agreement
is not compared (issue ``"currency differs"``). Price/volume/mix against last year is
:func:`kamlab.service.price_volume_mix`; it is not repeated here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlab.currency import Rates, rate_factors
from kamlab.exclusions import Exclusions, excluded
from kamlab.service._common import _excluded, _ratio, _require, _timestamp

__all__ = [
    "ISSUES",
    "billed_lines",
    "gross_margin",
    "price_audit",
    "price_realisation",
    "price_realisation_summary",
    "special_price_requests",
]

#: audit findings, in the order they are tested; "ok" = billed at the agreed price
ISSUES = (
    "currency differs",
    "expired special price",
    "no agreement",
    "previous price",
    "price unit",
    "off agreement",
    "ok",
)
_SOURCES = ("special_price", "contract", "price_list")  # priority on one day
_UNIT_FACTORS = np.array([10.0, 100.0, 1000.0, 0.1, 0.01, 0.001])
_FINDINGS = {"no agreement": "no price agreed for this customer and material on that day"}


def billed_lines(orders: pd.DataFrame, deliveries: pd.DataFrame) -> pd.DataFrame:
    """Invoice lines as billed on delivery: one row per delivery line, valued at its order price.

    Delivery-related billing (SAP VBRP from LIPS): a delivery line is billed on its goods-issue
    date, its quantity at the order line's unit price, net value = delivered_quantity ×
    net_value / quantity of the order line, in the order's currency.

    Returns delivery_id, order_id, line, customer_id, material_id, billing_date, the order's
    order_date and requested_date (when `orders` has them: an ERP that prices on the order
    date or the requested delivery date is audited with ``date="requested_date"``),
    quantity, net_value, currency. Delivery lines without an order line, and order lines of zero
    quantity (no unit price), are counted in ``attrs["excluded"]``.

    >>> orders = pd.DataFrame({"order_id": ["A"], "line": [10], "customer_id": ["C1"],
    ...     "material_id": ["M1"], "quantity": [10.0], "net_value": [25.0], "currency": ["EUR"]})
    >>> deliveries = pd.DataFrame({"delivery_id": ["D1"], "order_id": ["A"], "line": [10],
    ...     "delivered_date": pd.to_datetime(["2024-03-01"]), "delivered_quantity": [4.0]})
    >>> float(billed_lines(orders, deliveries)["net_value"].iloc[0])
    10.0
    """
    fn = "billed_lines"
    _require(
        orders,
        ["order_id", "line", "customer_id", "material_id", "quantity", "net_value", "currency"],
        table="orders",
        function=fn,
    )
    _require(
        deliveries,
        ["delivery_id", "order_id", "line", "delivered_date", "delivered_quantity"],
        table="deliveries",
        function=fn,
    )
    dated = [c for c in ("order_date", "requested_date") if c in orders.columns]
    o = orders[
        ["order_id", "line", "customer_id", "material_id", "quantity", "net_value", "currency",
         *dated]
    ]  # fmt: skip
    joined = deliveries[
        ["delivery_id", "order_id", "line", "delivered_date", "delivered_quantity"]
    ].merge(o, on=["order_id", "line"], how="left", validate="many_to_one")
    orphan = joined["customer_id"].isna().to_numpy()
    no_price = ~orphan & ~(joined["quantity"].to_numpy(dtype="float64") > 0)
    keep = ~(orphan | no_price)
    dq = joined["delivered_quantity"].to_numpy(dtype="float64")
    j = joined.loc[keep]
    unit = j["net_value"].to_numpy(dtype="float64") / j["quantity"].to_numpy(dtype="float64")
    out = pd.DataFrame(
        {
            "delivery_id": j["delivery_id"],
            "order_id": j["order_id"],
            "line": j["line"],
            "customer_id": j["customer_id"],
            "material_id": j["material_id"],
            "billing_date": j["delivered_date"],
            **{c: j[c] for c in dated},
            "quantity": dq[keep],
            "net_value": np.round(dq[keep] * unit, 2),
            "currency": j["currency"],
        }
    ).reset_index(drop=True)
    out.attrs["excluded"] = Exclusions(
        _excluded(
            [
                (
                    "deliveries",
                    "no matching order line",
                    int(orphan.sum()),
                    float(dq[orphan].sum()),
                ),
                (
                    "deliveries",
                    "order line of zero quantity: no unit price",
                    int(no_price.sum()),
                    float(dq[no_price].sum()),
                ),
            ]  # fmt: skip
        )
    )
    return out


def _days(s: pd.Series) -> np.ndarray:
    """Dates as int64 days since 1970; missing = a huge value (an open end)."""
    values = s.to_numpy(dtype="datetime64[D]")
    days = values.astype("int64")
    days[np.isnat(values)] = np.iinfo(np.int64).max // 4
    return days


def _pair_codes(lines: pd.DataFrame, prices: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer code of (customer_id, material_id) per line and per price record.

    Pairs are numbered over the price records only; a line whose pair has no record gets -1.
    Ids are factorised once over both tables (Arrow dictionary encoding for text columns).
    """
    n = len(prices)
    cust, _ = pd.factorize(
        pd.concat([prices["customer_id"], lines["customer_id"]], ignore_index=True)
    )
    mat, mats = pd.factorize(
        pd.concat([prices["material_id"], lines["material_id"]], ignore_index=True)
    )
    key = cust.astype("int64") * max(len(mats), 1) + mat
    key[(cust < 0) | (mat < 0)] = -1
    pairs, price_pair = np.unique(key[:n], return_inverse=True)
    line_key = key[n:]
    pos = np.minimum(np.searchsorted(pairs, line_key), max(len(pairs) - 1, 0))
    found = line_key >= 0
    found &= pairs[pos] == line_key if len(pairs) else False
    return np.where(found, pos, -1), price_pair.astype("int64"), len(pairs)


class _Lookup:
    """Lines sorted once by the composite key pair × span + day, so that each source's records
    are found with one searchsorted over *sorted* needles (sequential memory access):
    O(n log n + m log m) for n lines and m records."""

    def __init__(self, line_pair: np.ndarray, line_day: np.ndarray, rec_from: np.ndarray):
        days = [d for d in (line_day, rec_from) if len(d)]
        self.lo = min(int(d.min()) for d in days) if days else 0
        self.span = max(int(d.max()) for d in days) - self.lo + 2 if days else 2
        self.pair = line_pair
        key = np.where(line_pair >= 0, line_pair, 0) * self.span + (line_day - self.lo)
        self.order = np.argsort(key)
        self.sorted_key = key[self.order]

    def latest_started(self, rec_pair: np.ndarray, rec_from: np.ndarray) -> np.ndarray:
        """Per line, the position in the records (sorted by pair, valid_from) of the record of
        its pair that started last on or before its day; -1 if none."""
        n = len(self.pair)
        if len(rec_pair) == 0:
            return np.full(n, -1, dtype="int64")
        rec_key = rec_pair * self.span + (rec_from - self.lo)
        pos = np.empty(n, dtype="int64")
        pos[self.order] = np.searchsorted(rec_key, self.sorted_key, side="right") - 1
        ok = (self.pair >= 0) & (pos >= 0)
        ok[ok] = rec_pair[pos[ok]] == self.pair[ok]
        return np.where(ok, pos, -1)


def price_realisation(
    lines: pd.DataFrame,
    prices: pd.DataFrame,
    *,
    date: str = "billing_date",
    tolerance: float = 0.005,
) -> pd.DataFrame:
    """Each line's billed unit price against the agreed price valid on its date, and the money.

    For a line of quantity *q* and net value *v* on day *d*, with the agreed record of its
    customer and material valid on *d* (valid_from ≤ *d* ≤ valid_to, an empty valid_to open;
    special price before contract before price list; within a source the latest valid_from):

    .. math::

        p_\\text{billed} = v / q, \\quad p_\\text{agreed} = \\text{price} / \\text{price\\_unit},
        \\quad \\text{agreed\\_value} = q \\, p_\\text{agreed}

        \\text{realisation} = v / \\text{agreed\\_value}, \\quad
        \\text{at\\_stake} = \\text{agreed\\_value} - v

    realisation is a fraction (1 = billed as agreed); at_stake is in the line's currency,
    positive = billed below the agreement (revenue leakage), negative = billed above it (a
    credit-note risk). A line is billed as agreed when
    |v − agreed_value| ≤ tolerance × agreed_value + 0.01 (the cent rounding of *v*).

    ``issue`` names the first finding that applies, in the order of :data:`ISSUES`:
    ``currency differs`` (agreement in another currency: not compared); ``expired special
    price`` (billed at a special price whose validity ended before *d*); ``no agreement``;
    ``previous price`` (billed at the record the current one superseded); ``price unit``
    (billed at 10, 100 or 1000 times, or a tenth, hundredth or thousandth of, the agreed unit
    price: a price per 100 applied per 1); ``off agreement``; ``ok``. at_stake is NaN where
    there is no agreement or the currency differs.

    Source: price realisation and price-waterfall leakage, Marn, Roegner & Zawada, *The
    Price Advantage* (2nd ed., 2004), ch. 2 (invoice price against the agreed "pocket" price
    per transaction); condition validity and access sequence as in SAP SD pricing.

    Parameters
    ----------
    lines
        One row per invoice line: customer_id, material_id, `date`, quantity, net_value,
        currency (e.g. :func:`billed_lines`); other columns are passed through.
    prices
        The ``prices`` table of the contract.
    date
        Column of `lines` whose day decides which agreement applies.
    tolerance
        Relative difference still counted as billed at the agreed price.

    Returns `lines` (lines of quantity ≤ 0 left out and counted in ``attrs["excluded"]``)
    with billed_unit_price, agreed_unit_price, agreed_currency, agreement_source,
    agreement_from, agreement_to, price_unit, agreed_value, realisation, at_stake, issue,
    expired_price, expired_to, expired_request_id (the special price request behind the
    expired record: ``prices.price_request_id``, empty when the record names none),
    previous_price.

    Examples
    --------
    250 per 100 pieces agreed from 1 March; 10 pieces billed at 25.00 on 1 March (the first
    valid day) and at 2,500.00 on 2 March (the price per 100 applied per piece):

    >>> prices = pd.DataFrame({"customer_id": ["C1"], "material_id": ["M1"],
    ...     "source": ["contract"], "valid_from": pd.to_datetime(["2024-03-01"]),
    ...     "valid_to": pd.to_datetime(["2024-12-31"]), "price": [250.0], "currency": ["EUR"],
    ...     "price_unit": [100]})
    >>> lines = pd.DataFrame({"customer_id": "C1", "material_id": "M1",
    ...     "billing_date": pd.to_datetime(["2024-03-01", "2024-03-02"]), "quantity": 10.0,
    ...     "net_value": [25.0, 2500.0], "currency": "EUR"})
    >>> r = price_realisation(lines, prices)
    >>> r[["issue", "at_stake"]].values.tolist()
    [['ok', 0.0], ['price unit', -2475.0]]
    """
    fn = "price_realisation"
    _require(
        lines,
        ["customer_id", "material_id", date, "quantity", "net_value", "currency"],
        table="lines",
        function=fn,
    )
    _require(
        prices,
        ["customer_id", "material_id", "source", "valid_from", "valid_to", "price", "currency",
         "price_unit"],
        table="prices",
        function=fn,
    )  # fmt: skip
    if not 0 <= tolerance < 1:
        raise ValueError(f"{fn}: tolerance must be in [0, 1), got {tolerance!r}")
    unknown = sorted(set(prices["source"].dropna().unique()) - set(_SOURCES))
    if unknown:
        raise ValueError(f"{fn}: prices.source must be one of {_SOURCES}; got {unknown}")

    qty_all = lines["quantity"].to_numpy(dtype="float64")
    no_date = lines[date].isna().to_numpy()
    no_qty = ~(qty_all > 0) & ~no_date
    drop = no_qty | no_date
    out = lines.loc[~drop].reset_index(drop=True) if drop.any() else lines.reset_index(drop=True)
    n = len(out)
    q = out["quantity"].to_numpy(dtype="float64")
    v = out["net_value"].to_numpy(dtype="float64")
    day = _days(out[date])
    line_pair, rec_pair_all, _ = _pair_codes(out, prices)

    unit_all = prices["price"].to_numpy(dtype="float64") / prices["price_unit"].to_numpy(
        dtype="float64"
    )
    from_all = _days(prices["valid_from"])
    to_all = _days(prices["valid_to"])
    src_all = pd.Index(_SOURCES).get_indexer(prices["source"])

    chosen = np.full(n, -1, dtype="int64")  # row in `prices` of the agreed record
    previous = np.full(n, -1, dtype="int64")  # the record the agreed one superseded
    expired_special = np.full(n, -1, dtype="int64")
    lookup = _Lookup(line_pair, day, from_all)
    for source in _SOURCES:
        rows = np.flatnonzero(src_all == _SOURCES.index(source))
        if len(rows) == 0:
            continue
        order = rows[np.lexsort((from_all[rows], rec_pair_all[rows]))]
        pos = lookup.latest_started(rec_pair_all[order], from_all[order])
        hit = pos >= 0
        rec = np.where(hit, order[np.maximum(pos, 0)], -1)
        valid = hit & (to_all[np.maximum(rec, 0)] >= day)
        take = valid & (chosen < 0)
        chosen[take] = rec[take]
        prev_pos = pos - 1
        has_prev = take & (prev_pos >= 0)
        has_prev[has_prev] = rec_pair_all[order[prev_pos[has_prev]]] == line_pair[has_prev]
        previous[has_prev] = order[prev_pos[has_prev]]
        if source == "special_price":
            gone = hit & ~valid
            expired_special[gone] = rec[gone]

    has = chosen >= 0
    c = np.maximum(chosen, 0)
    agreed_unit = np.where(has, unit_all[c], np.nan)
    cur_codes, currencies = pd.factorize(
        pd.concat([prices["currency"], out["currency"]], ignore_index=True)
    )
    price_cur, line_cur = cur_codes[: len(prices)], cur_codes[len(prices) :]
    agreed_cur = np.where(has, price_cur[c], -1)
    same_cur = has & (agreed_cur == line_cur)
    agreed_value = q * agreed_unit
    billed_unit = v / q

    def matches(unit: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Billed at `unit` (within tolerance) on the lines `rows` (a mask); False elsewhere."""
        out = np.zeros(n, dtype=bool)
        u, qq = unit[rows], q[rows]
        with np.errstate(invalid="ignore"):
            out[rows] = np.abs(v[rows] - qq * u) <= tolerance * qq * u + 0.01
        return out

    ok = matches(agreed_unit, same_cur)
    off = ~ok  # every finding below concerns these lines only
    e = np.maximum(expired_special, 0)
    exp_unit = np.where(expired_special >= 0, unit_all[e], np.nan)
    expired = matches(exp_unit, off & (expired_special >= 0) & (price_cur[e] == line_cur))
    prev_unit = np.where(previous >= 0, unit_all[np.maximum(previous, 0)], np.nan)
    superseded = matches(prev_unit, off & (previous >= 0))
    unit_mix = same_cur & off
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = v[unit_mix] / q[unit_mix] / agreed_unit[unit_mix]
    unit_mix[unit_mix] = (
        np.abs(ratio[:, None] / _UNIT_FACTORS[None, :] - 1.0) <= tolerance + 1e-9
    ).any(axis=1)
    issue = np.select(
        [has & ~same_cur, expired, ~has, superseded, unit_mix, off],
        list(range(len(ISSUES) - 1)),
        len(ISSUES) - 1,
    )
    at_stake = np.where(same_cur, agreed_value - v, np.nan)
    at_stake = np.where(same_cur & ok, 0.0, at_stake)
    nat = np.datetime64("NaT")
    with np.errstate(divide="ignore", invalid="ignore"):
        realisation = np.where(same_cur & (agreed_value != 0), v / agreed_value, np.nan)
    added = {
        "billed_unit_price": billed_unit,
        "agreed_unit_price": agreed_unit,
        "agreed_currency": pd.Categorical.from_codes(agreed_cur, categories=currencies),
        "agreement_source": pd.Categorical.from_codes(
            np.where(has, src_all[c], -1), categories=_SOURCES
        ),
        "agreement_from": np.where(has, prices["valid_from"].to_numpy()[c], nat),
        "agreement_to": np.where(has, prices["valid_to"].to_numpy()[c], nat),
        "price_unit": pd.array(
            np.where(has, prices["price_unit"].to_numpy(dtype="float64")[c], np.nan),
            dtype="Int64",
        ),
        "agreed_value": agreed_value,
        "realisation": realisation,
        "at_stake": at_stake,
        "issue": pd.Categorical.from_codes(issue, categories=ISSUES),
        "expired_price": exp_unit,
        "expired_to": np.where(expired_special >= 0, prices["valid_to"].to_numpy()[e], nat),
        "expired_request_id": _request_ids(prices, expired_special),
        "previous_price": prev_unit,
    }
    # one concat instead of a copy per new column
    out = pd.concat(
        [out.drop(columns=[k for k in added if k in out.columns]),
         pd.DataFrame(added, index=out.index)],
        axis=1,
    )  # fmt: skip
    out.attrs["excluded"] = Exclusions(
        _excluded(
            [
                (
                    "lines",
                    "quantity not > 0: no unit price",
                    int(no_qty.sum()),
                    float(qty_all[no_qty].sum()),
                ),
                ("lines", f"no {date}", int(no_date.sum()), float(qty_all[no_date].sum())),
            ]  # fmt: skip
        )
    )
    return out


def _request_ids(prices: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``prices.price_request_id`` of the records at `rows` (−1 = none): the special price
    request that granted them; None where the column or the value is absent."""
    out = np.full(len(rows), None, dtype=object)
    if "price_request_id" in prices.columns and len(rows):
        ids = prices["price_request_id"].to_numpy(dtype=object)
        found = rows >= 0
        picked = ids[rows[found]]
        out[found] = np.where(pd.isna(picked), None, picked)
    return out


def price_audit(realised: pd.DataFrame) -> pd.DataFrame:
    """The price-record audit list: every line not billed at its agreed price, biggest first.

    Takes :func:`price_realisation`'s result and keeps the lines whose ``issue`` is not
    ``"ok"``, with a ``finding`` in words (which record, which date, which factor). Sorted by
    |at_stake| (money in the line's currency; lines without agreement, NaN, last), then
    customer and date. Nothing is added up here, so currencies never mix.

    >>> realised = pd.DataFrame({"customer_id": ["C1", "C1"], "currency": "EUR",
    ...     "agreed_currency": "EUR", "issue": ["ok", "off agreement"], "at_stake": [0.0, 12.5],
    ...     "realisation": [1.0, 0.95], "agreement_from": pd.NaT, "expired_to": pd.NaT,
    ...     "price_unit": [1, 1], "billed_unit_price": [10.0, 9.5],
    ...     "agreed_unit_price": [10.0, 10.0]})
    >>> price_audit(realised)["finding"].tolist()
    ['billed -5.0% against the agreed price']
    """
    _require(
        realised,
        ["issue", "at_stake", "realisation", "currency", "agreed_currency", "agreement_from",
         "expired_to", "price_unit", "billed_unit_price", "agreed_unit_price"],
        table="realised lines",
        function="price_audit",
    )  # fmt: skip
    rows = np.flatnonzero(realised["issue"].ne("ok").to_numpy(dtype=bool))
    # biggest money first (missing last), then customer, then date: one lexsort on numbers,
    # then a single take of the rows in that order
    stake = -np.abs(realised["at_stake"].to_numpy(dtype="float64")[rows])
    stake = np.where(np.isnan(stake), np.inf, stake)
    customer = pd.factorize(realised["customer_id"].take(rows), sort=True)[0]
    keys = [customer, stake]
    if "billing_date" in realised.columns:
        day = realised["billing_date"].to_numpy(dtype="datetime64[us]")[rows]
        keys.insert(0, day.astype("int64"))
    bad = realised.take(rows[np.lexsort(keys)]).reset_index(drop=True)
    bad.attrs = {}
    bad["finding"] = _findings(bad)
    bad.attrs["excluded"] = Exclusions(excluded(realised))
    return bad


def _text(values: pd.Series | np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values), dtype="str").reset_index(drop=True)


def _findings(bad: pd.DataFrame) -> pd.Series:
    """The audit finding of each line in words, built column-wise per issue (no row loop)."""
    out = np.full(len(bad), None, dtype=object)
    issue = bad["issue"].to_numpy(dtype=object)
    for name in ISSUES[:-1]:
        mask = issue == name
        if mask.any():
            out[mask] = _finding(name, bad.loc[mask]).to_numpy(dtype=object)
    return pd.Series(pd.array(out, dtype="str"), index=bad.index)


def _finding(issue: str, b: pd.DataFrame) -> pd.Series:
    def day(col: str) -> pd.Series:
        return _text(pd.to_datetime(b[col]).dt.strftime("%Y-%m-%d").fillna("?").to_numpy())

    if issue == "currency differs":
        return (
            "billed in " + _text(b["currency"].astype("str").to_numpy()) + ", agreed in "
            + _text(b["agreed_currency"].astype("str").to_numpy())
        )  # fmt: skip
    if issue == "expired special price":
        text = "billed at a special price that expired on " + day("expired_to")
        if "expired_request_id" not in b.columns:
            return text
        request = b["expired_request_id"]
        named = request.notna().to_numpy(dtype=bool)
        return text.where(~named, text + " (request " + _text(request.astype("str")) + ")")
    if issue == "no agreement":
        return _text(np.full(len(b), _FINDINGS["no agreement"], dtype=object))
    if issue == "previous price":
        return "billed at the previous price, superseded on " + day("agreement_from")
    if issue == "price unit":
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = b["billed_unit_price"].to_numpy("float64") / b["agreed_unit_price"].to_numpy(
                "float64"
            )
        factor_text = _text(np.round(factor, 3).astype("str")).str.replace(r"\.0$", "", regex=True)
        per = b["price_unit"].to_numpy(dtype="float64", na_value=np.nan) > 1
        unit = _text(b["price_unit"].astype("str").to_numpy())
        unit = ("price per " + unit + " used per 1?").where(per, "price unit mixed up?")
        return "billed at " + factor_text + " x the agreed unit price: " + unit
    pct = np.round((b["realisation"].to_numpy(dtype="float64") - 1.0) * 100.0, 1)
    pct_text = _text(np.where(pct > 0, "+", "")) + _text(pct.astype("str")) + "%"
    return "billed " + pct_text + " against the agreed price"


def price_realisation_summary(
    realised: pd.DataFrame, *, by: Sequence[str] = ("customer_id",)
) -> pd.DataFrame:
    """Price realisation and leakage per `by` group and currency, from realised lines.

    Over the lines compared with an agreement in their own currency (*C*):

    .. math::

        \\text{realisation} = \\sum_C v / \\sum_C \\text{agreed\\_value}, \\quad
        \\text{leakage} = \\sum_C \\max(0, \\text{at\\_stake}), \\quad
        \\text{overbilled} = \\sum_C \\max(0, -\\text{at\\_stake})

    realisation is a fraction (1 = as agreed, below 1 = billed under the agreements);
    leakage and overbilled in the currency. revenue = Σ v over all lines; lines_* count the
    lines per finding (:data:`ISSUES`); revenue_unagreed = Σ v of lines with no agreement.
    Source: as :func:`price_realisation`.

    Returns *by*, currency, lines, revenue, agreed_value, realisation, leakage, overbilled,
    revenue_unagreed, and one lines_<issue> column per finding (spaces as underscores).
    """
    by = list(by)
    _require(
        realised,
        [*by, "currency", "issue", "net_value", "agreed_value", "at_stake"],
        table="realised lines",
        function="price_realisation_summary",
    )
    compared = realised["at_stake"].notna().to_numpy()
    stake = realised["at_stake"].to_numpy(dtype="float64")
    v = realised["net_value"].to_numpy(dtype="float64")
    parts = {
        **{k: realised[k] for k in [*by, "currency"]},
        "lines": np.ones(len(realised), dtype="int64"),
        "revenue": v,
        "_v_compared": np.where(compared, v, 0.0),
        "agreed_value": np.where(compared, realised["agreed_value"].to_numpy(dtype="float64"), 0.0),
        "leakage": np.where(compared, np.maximum(stake, 0.0), 0.0),
        "overbilled": np.where(compared, np.maximum(-stake, 0.0), 0.0),
        "revenue_unagreed": np.where(realised["issue"].eq("no agreement").to_numpy(), v, 0.0),
    }
    for issue in ISSUES:
        parts[f"lines_{issue.replace(' ', '_')}"] = (
            realised["issue"].eq(issue).to_numpy(dtype="int64")
        )
    out = pd.DataFrame(parts).groupby([*by, "currency"], observed=True, as_index=False).sum()
    out.attrs["excluded"] = Exclusions(excluded(realised))
    out.insert(
        len(by) + 4,
        "realisation",
        _ratio(out.pop("_v_compared"), out["agreed_value"]),
    )
    return out


def gross_margin(
    lines: pd.DataFrame,
    materials: pd.DataFrame,
    *,
    by: Sequence[str] = ("customer_id", "period"),
    date: str = "billing_date",
    rates: Rates | None = None,
) -> pd.DataFrame:
    """Gross margin per `by` group and currency: revenue − quantity × standard unit cost.

    .. math::

        \\text{gross\\_margin} = \\sum v - \\sum q \\cdot c_\\text{unit}, \\quad
        \\text{margin\\_pct} = \\text{gross\\_margin} / \\sum v

    in the lines' currency (margin_pct a fraction). Only lines whose material has a
    ``unit_cost`` in the line's own currency (``materials.cost_currency``; an empty
    cost_currency is taken as the line's) enter revenue and cost alike; with `rates`
    (:mod:`kamlab.currency`: closing rates, units of one reporting currency per unit) a cost
    in another currency is converted to the line's, cost × rate(cost currency) / rate(line
    currency). The others are counted in ``attrs["excluded"]`` with their revenue. `by` may hold
    customer_id, material_id, product_family and period (month of `date`). Source: gross
    margin at standard cost, Horngren, Datar & Rajan, *Cost Accounting*, "contribution and
    gross margin" (revenue less cost of goods sold at standard).

    Returns *by*, currency, quantity, revenue, cost, gross_margin, margin_pct.

    >>> lines = pd.DataFrame({"customer_id": "C1", "material_id": ["M1", "M2"],
    ...     "billing_date": pd.to_datetime(["2024-01-03", "2024-01-09"]),
    ...     "quantity": [10.0, 1.0], "net_value": [100.0, 50.0], "currency": "EUR"})
    >>> materials = pd.DataFrame({"material_id": ["M1", "M2"], "product_family": "F",
    ...     "unit_cost": [6.0, None], "cost_currency": ["EUR", None]})
    >>> r = gross_margin(lines, materials)
    >>> r[["revenue", "cost", "gross_margin", "margin_pct"]].values.tolist()
    [[100.0, 60.0, 40.0, 0.4]]
    """
    fn = "gross_margin"
    by = list(by)
    allowed = {"customer_id", "material_id", "product_family", "period"}
    if not by or set(by) - allowed:
        raise ValueError(f"{fn}: by must be a subset of {sorted(allowed)}, got {tuple(by)}")
    _require(
        lines,
        ["customer_id", "material_id", date, "quantity", "net_value", "currency"],
        table="lines",
        function=fn,
    )
    _require(materials, ["material_id", "unit_cost"], table="materials", function=fn)
    m = materials.set_index("material_id")
    pos = m.index.get_indexer(lines["material_id"])
    known = pos >= 0
    p = np.maximum(pos, 0)
    cost = np.where(known, m["unit_cost"].to_numpy(dtype="float64", na_value=np.nan)[p], np.nan)
    cur = lines["currency"].to_numpy(dtype=object)
    if "cost_currency" in m.columns:
        ccur = m["cost_currency"].to_numpy(dtype=object)[p]
        ccur = np.where(pd.isna(ccur), cur, ccur)
    else:
        ccur = cur
    no_cost = ~np.isfinite(cost)
    if rates is not None:
        to_line = rate_factors(pd.Series(ccur), rates, missing="nan") / rate_factors(
            pd.Series(cur), rates, missing="nan"
        )
        cost = np.where(ccur != cur, cost * to_line, cost)
        ccur = np.where(np.isfinite(to_line), cur, ccur)
    other_cur = ~no_cost & (ccur != cur)
    keep = ~(no_cost | other_cur)
    v = lines["net_value"].to_numpy(dtype="float64")
    q = lines["quantity"].to_numpy(dtype="float64")
    frame = {"currency": lines["currency"], "quantity": q, "revenue": v, "cost": q * cost}
    for k in by:
        if k == "period":
            frame[k] = lines[date].dt.to_period("M")
        elif k == "product_family":
            frame[k] = pd.Series(
                np.where(known, m["product_family"].to_numpy(dtype=object)[p], None),
                index=lines.index,
                dtype="str",
            )
        else:
            frame[k] = lines[k]
    df = pd.DataFrame(frame).loc[keep]
    out = df.groupby([*by, "currency"], observed=True, as_index=False, sort=True)[
        ["quantity", "revenue", "cost"]
    ].sum()
    out["gross_margin"] = out["revenue"] - out["cost"]
    out["margin_pct"] = _ratio(out["gross_margin"], out["revenue"])
    out.attrs["excluded"] = Exclusions(
        pd.DataFrame(
            {
                "table": ["lines", "lines"],
                "reason": ["material without unit_cost", "unit_cost in another currency"],
                "rows": [int(no_cost.sum()), int(other_cur.sum())],
                "quantity": [float(q[no_cost].sum()), float(q[other_cur].sum())],
                "revenue": [float(v[no_cost].sum()), float(v[other_cur].sum())],
            }
        ).astype({"table": "str", "reason": "str"})
    )
    return out


def special_price_requests(
    price_requests: pd.DataFrame, *, as_of: object, expiring_days: int = 60
) -> pd.DataFrame:
    """Special price requests as they stand on `as_of`: age, decision time, discount, expiry.

    Per request raised on or before `as_of` (later ones counted in ``attrs["excluded"]``):

    - ``state``: ``open`` (undecided), ``rejected``, ``withdrawn``, or for approved ones
      ``active``, ``expiring`` (expiry within `expiring_days` days after `as_of`) or
      ``expired`` (expiry before `as_of`);
    - ``age_days`` = as_of − requested_date for open requests (days waiting);
    - ``decision_days`` = decided_date − requested_date (days to decide);
    - ``discount`` = 1 − approved_price / reference_price (fraction granted off the price the
      request departs from; NaN without both), ``asked_discount`` likewise with
      requested_price;
    - ``days_to_expiry`` = expiry_date − as_of.

    Source: the special price request (SPR) procedure of a KAM's pricing duties
    (../shared/roles: "Arrange and agree Special Pricing Requests in line with procedure").
    Sorted open first (oldest first), then by expiry.
    """
    fn = "special_price_requests"
    _require(
        price_requests,
        ["request_id", "customer_id", "material_id", "requested_date", "status",
         "requested_price", "approved_price", "decided_date", "expiry_date"],
        table="price_requests",
        function=fn,
    )  # fmt: skip
    as_of = _timestamp(as_of, name="as_of", function=fn)
    future = (price_requests["requested_date"] > as_of).to_numpy()
    r = price_requests.loc[~future].copy()
    # a decision after as_of is not known yet on as_of
    undecided = r["decided_date"].isna() | (r["decided_date"] > as_of)
    status = r["status"].where(~undecided, "open")
    expiry = r["expiry_date"]
    days_to_expiry = (expiry - as_of) / pd.Timedelta(days=1)
    approved = status.eq("approved")
    state = np.select(
        [
            approved & (days_to_expiry < 0).fillna(False),
            approved & (days_to_expiry <= expiring_days).fillna(False),
            approved,
        ],
        ["expired", "expiring", "active"],
        status.astype(object),
    )
    r["state"] = pd.array(state, dtype="str")
    r["age_days"] = ((as_of - r["requested_date"]) / pd.Timedelta(days=1)).where(undecided)
    r["decision_days"] = ((r["decided_date"] - r["requested_date"]) / pd.Timedelta(days=1)).where(
        ~undecided
    )
    if "reference_price" in r.columns:
        r["discount"] = 1.0 - _ratio(r["approved_price"].where(approved), r["reference_price"])
        r["asked_discount"] = 1.0 - _ratio(r["requested_price"], r["reference_price"])
    else:
        r["discount"] = np.nan
        r["asked_discount"] = np.nan
    r["days_to_expiry"] = days_to_expiry.where(approved)
    rank = r["state"].map({"open": 0, "expiring": 1, "expired": 2, "active": 3}).fillna(4)
    r = r.assign(_rank=rank).sort_values(["_rank", "requested_date", "expiry_date"])
    r = r.drop(columns="_rank").reset_index(drop=True)
    r.attrs["excluded"] = Exclusions(
        _excluded([("price_requests", "requested after as_of", int(future.sum()), 0.0)])
    )
    return r
