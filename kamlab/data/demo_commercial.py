"""Demo commercial tables: prices, special price requests, CRM opportunities, market, visits, ratings.

Simulated *from* the other demo tables (customers, materials, orders) so they agree with
them: contract prices are the prices the orders were billed at, market estimates are built
around our real sales, and so on. A separate random stream (seeded from the demo seed)
keeps the other tables exactly as they were. Planted problems for the default demo (the
scripted customers at positions 0–5) are listed in ``data/demo_recipe.md``, "Commercial
tables".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COMPETITORS", "generate_commercial"]

COMPETITORS = (
    "Kugelwerk Schwaben GmbH",
    "Nordic Bearings AB",
    "Apex Fluid Power Inc.",
    "Sensotec S.r.l.",
    "Drivetrain Solutions Ltd",
    "Dichtungstechnik Weber KG",
)
_LOSS_REASONS = (
    "price",
    "price",
    "technical",
    "delivery time",
    "relationship",
    "project cancelled",
)
_STAGES = {
    "rfq": (("qualification", 0.1), ("quotation", 0.3), ("negotiation", 0.6)),
    "quote": (("quotation", 0.3), ("negotiation", 0.6)),
    "tender": (("qualification", 0.1), ("submitted", 0.3), ("shortlisted", 0.5)),
    "npi": (("prototype", 0.3), ("samples", 0.5), ("PPAP", 0.7), ("pre-series", 0.85)),
}
_ACTIVITIES = (
    "price cut on catalogue items",
    "new local warehouse",
    "offered consignment stock",
    "technical day at the customer's plant",
    "lost a quality audit",
    "longer payment terms offered",
)
_VISIT_NOTES = {
    "visit": ("plant visit, schedule for next quarter", "met purchasing about price review",
              "quality meeting on open complaints", "line walk with engineering"),
    "voc": ("voice of customer: delivery reliability first", "voice of customer: wants VMI",
            "voice of customer: documentation quality"),
    "review": ("quarterly business review", "annual contract review"),
}  # fmt: skip


def _day(ts: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(ts).normalize()


def generate_commercial(
    tables: dict[str, pd.DataFrame], *, end: pd.Period, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """The six commercial tables for the demo `tables` (customers, materials, orders...).

    `end` is the last month of history (the extract is dated its last day); `seed` the demo
    seed (the stream used here is derived from it, so the other tables do not change).
    Returns prices, price_requests, opportunities, market, visits, ratings in contract order.
    """
    rng = np.random.default_rng([seed, 11])
    as_of = end.end_time.normalize()
    customers = tables["customers"].reset_index(drop=True)
    materials = tables["materials"]
    orders = tables["orders"]
    plant = _Planted(customers, orders, as_of)
    prices, requests = _prices(orders, materials, as_of, rng, plant)
    opportunities = _opportunities(customers, materials, orders, as_of, rng, plant)
    market = _market(customers, materials, orders, end, rng)
    visits = _visits(customers, as_of, rng)
    ratings = _ratings(customers, end, rng)
    return {
        "prices": prices,
        "price_requests": requests,
        "opportunities": opportunities,
        "market": market,
        "visits": visits,
        "ratings": ratings,
    }


class _Planted:
    """The scripted problems: which customer and material each one is planted on."""

    def __init__(self, customers: pd.DataFrame, orders: pd.DataFrame, as_of: pd.Timestamp):
        self.ids = customers["customer_id"].tolist()
        live = orders.loc[
            orders["status"].ne("cancelled").to_numpy(bool)
            & (orders["requested_date"] > as_of - pd.Timedelta(days=365)).to_numpy(bool)
        ]
        top = live.groupby(["customer_id", "material_id"], observed=True)["net_value"].sum()
        self.top: dict[str, list[str]] = {}
        for cust in self.ids[:6]:
            if cust in top.index.get_level_values(0):
                self.top[cust] = top.loc[cust].sort_values(ascending=False).index.tolist()

    def pick(self, position: int, rank: int = 0) -> tuple[str, str] | None:
        """(customer, its rank-th biggest material of the last 12 months) or None."""
        if position >= len(self.ids):
            return None
        mats = self.top.get(self.ids[position], [])
        return (self.ids[position], mats[rank]) if len(mats) > rank else None


def _prices(
    orders: pd.DataFrame,
    materials: pd.DataFrame,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
    plant: _Planted,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One contract record per customer × material × calendar year at the price billed then."""
    live = orders.loc[orders["status"].ne("cancelled").to_numpy(bool)]
    unit = live["net_value"] / live["quantity"]
    year = live["requested_date"].dt.year
    rec = (
        pd.DataFrame(
            {
                "customer_id": live["customer_id"],
                "material_id": live["material_id"],
                "year": year,
                "unit": unit.round(2),
                "currency": live["currency"],
            }
        )  # fmt: skip
        .groupby(["customer_id", "material_id", "year"], observed=True, as_index=False)
        .agg(unit=("unit", "first"), currency=("currency", "first"))
    )
    last_year = as_of.year
    rec = rec.loc[rec["year"] <= last_year]
    # cheap parts are priced per 100 (SAP price unit), like the real condition records
    per_100 = rec["unit"] < 1.0
    price_unit = np.where(per_100, 100, 1)
    prices = pd.DataFrame(
        {
            "customer_id": rec["customer_id"],
            "material_id": rec["material_id"],
            "source": "contract",
            "valid_from": pd.to_datetime({"year": rec["year"], "month": 1, "day": 1}),
            "valid_to": pd.to_datetime({"year": rec["year"], "month": 12, "day": 31}),
            "price": np.round(rec["unit"].to_numpy() * price_unit, 2),
            "currency": rec["currency"],
            "price_unit": price_unit,
            "price_request_id": None,
        }
    ).reset_index(drop=True)
    requests = []

    def record(cust: str, mat: str) -> int | None:
        hit = np.flatnonzero(
            (prices["valid_from"].dt.year == last_year).to_numpy()
            & prices["source"].eq("contract").to_numpy()
            & (prices["customer_id"] == cust).to_numpy()
            & (prices["material_id"] == mat).to_numpy()
        )
        return int(hit[0]) if len(hit) else None

    year_start = pd.Timestamp(f"{last_year}-01-01")
    # 1. an expired special price still billed: the special price ran out 3 months ago,
    #    the contract price is 6 % higher, the orders kept the special price
    #    (planted when that is still this year, i.e. the extract month is April or later)
    pick = plant.pick(0)
    expiry = _day(as_of - pd.DateOffset(months=3))
    if pick and expiry >= year_start and (i := record(*pick)) is not None:
        special = float(prices.at[i, "price"])
        prices.at[i, "price"] = round(special * 1.06, 2)
        requests.append(
            {"request_id": "SPR-0001", "customer_id": pick[0], "material_id": pick[1],
             "requested_date": year_start - pd.Timedelta(days=40), "status": "approved",
             "requested_price": round(special * 0.97, 2), "approved_price": special,
             "reference_price": round(special * 1.06, 2), "currency": prices.at[i, "currency"],
             "price_unit": int(prices.at[i, "price_unit"]), "annual_volume": 5000.0,
             "decided_date": year_start - pd.Timedelta(days=20), "expiry_date": expiry,
             "reason": "competitor offer (Kugelwerk Schwaben GmbH)"}
        )  # fmt: skip
        prices.loc[len(prices)] = {
            "customer_id": pick[0], "material_id": pick[1], "source": "special_price",
            "valid_from": year_start, "valid_to": expiry, "price": special,
            "currency": prices.at[i, "currency"], "price_unit": int(prices.at[i, "price_unit"]),
            "price_request_id": "SPR-0001",
        }  # fmt: skip
    # 2. a wrong price record: the agreed increase of 10 % entered but never billed
    pick = plant.pick(1)
    if pick and (i := record(*pick)) is not None:
        prices.at[i, "price"] = round(float(prices.at[i, "price"]) * 1.10, 2)
    # 3. price unit mixed up: the price per 1 stored with price unit 100
    pick = plant.pick(2)
    if pick and (i := record(*pick)) is not None:
        prices.at[i, "price"] = round(float(prices.at[i, "price"]) / prices.at[i, "price_unit"], 2)
        prices.at[i, "price_unit"] = 100
    # more special price requests: decided ones rejected or withdrawn, recent ones open,
    # approved ones starting next month (so no billed line falls under them yet)
    current = (prices["valid_from"].dt.year == last_year).to_numpy()
    recent = prices.loc[current & prices["source"].eq("contract").to_numpy()]
    n = min(len(recent), max(3, round(1.2 * len(plant.ids))))  # ~1.2 requests per customer
    specials = []
    chosen = recent.sample(n=n, random_state=int(rng.integers(1 << 31))) if n else recent
    next_month = _day(as_of + pd.Timedelta(days=1))
    for k, row in enumerate(chosen.itertuples(index=False)):
        requested = _day(as_of - pd.Timedelta(days=int(rng.integers(5, 300))))
        status = rng.choice(["approved", "rejected", "withdrawn", "open"], p=[0.4, 0.3, 0.1, 0.2])
        decided = requested + pd.Timedelta(days=int(rng.integers(3, 40)))
        if status == "open" or decided > as_of:
            status, decided = "open", pd.NaT
        asked = round(row.price * float(rng.uniform(0.82, 0.95)), 2)
        approved = (
            round(row.price * float(rng.uniform(0.88, 0.97)), 2) if status == "approved" else None
        )
        expiry = next_month + pd.DateOffset(months=int(rng.integers(3, 13))) if approved else pd.NaT
        rid = f"SPR-{k + 2:04d}"
        requests.append(
            {"request_id": rid, "customer_id": row.customer_id, "material_id": row.material_id,
             "requested_date": requested, "status": status, "requested_price": asked,
             "approved_price": approved, "reference_price": row.price, "currency": row.currency,
             "price_unit": int(row.price_unit),
             "annual_volume": float(np.round(rng.lognormal(7, 1), -1)),
             "decided_date": decided, "expiry_date": expiry,
             "reason": str(rng.choice(["competitor offer", "volume commitment", "new project",
                                       "long-term agreement"]))}
        )  # fmt: skip
        if approved:
            specials.append(
                {"customer_id": row.customer_id, "material_id": row.material_id,
                 "source": "special_price", "valid_from": next_month, "valid_to": expiry,
                 "price": approved, "currency": row.currency, "price_unit": int(row.price_unit),
                 "price_request_id": rid}
            )  # fmt: skip
    if specials:
        prices = pd.concat([prices, pd.DataFrame(specials)], ignore_index=True)
    # 4. a missing agreement: no price record at all for a material billed this year
    pick = plant.pick(5, rank=1)
    if pick:
        gone = (prices["customer_id"] == pick[0]) & (prices["material_id"] == pick[1])
        prices = prices.loc[~gone.to_numpy()]
    prices = prices.sort_values(["customer_id", "material_id", "source", "valid_from"])
    prices = _typed(prices.reset_index(drop=True), "prices")
    req = pd.DataFrame(requests)
    return prices, _typed(req, "price_requests")


def _typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """`frame` in the contract's column order and dtypes (as validate would return it)."""
    from kamlab.data.contract import TABLES
    from kamlab.data.validate import empty_frame

    empty = empty_frame(table)
    if len(frame) == 0:
        return empty
    out = {}
    for col in TABLES[table].columns:
        s = frame[col.name] if col.name in frame.columns else pd.Series(None, index=frame.index)
        out[col.name] = s.astype(empty[col.name].dtype) if col.dtype != "period" else s
    return pd.DataFrame(out).reset_index(drop=True)


def _opportunities(
    customers: pd.DataFrame,
    materials: pd.DataFrame,
    orders: pd.DataFrame,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
    plant: _Planted,
) -> pd.DataFrame:
    """CRM opportunities over the last 24 months, 3–12 a year per customer by size."""
    live = orders.loc[
        orders["status"].ne("cancelled").to_numpy(bool)
        & (orders["requested_date"] > as_of - pd.Timedelta(days=365)).to_numpy(bool)
    ]
    sales = live.groupby("customer_id", observed=True)["net_value"].sum()
    families = sorted(materials["product_family"].unique())
    mats = materials["material_id"].to_numpy()
    mat_family = materials.set_index("material_id")["product_family"]
    ids = customers["customer_id"].to_numpy(dtype=object)
    annual = sales.reindex(ids).fillna(0.0).to_numpy(dtype="float64")
    per = rng.integers(3, 13, len(ids)) * 2 * (0.6 + 0.4 * np.minimum(annual / 2e6, 1.0))
    per = per.astype("int64") + 1
    c = np.repeat(np.arange(len(ids)), per)
    n = len(c)
    kinds = np.array(["rfq", "quote", "tender", "npi"], dtype=object)
    kind = kinds[rng.choice(4, n, p=[0.5, 0.3, 0.1, 0.1])]
    npi = kind == "npi"
    age = rng.integers(0, 730, n)  # days since created
    value = np.round(np.maximum(annual[c], 50_000.0) * rng.uniform(0.005, 0.05, n), -2)
    existing = ~npi & (rng.random(n) < 0.6)
    material = np.where(existing, mats[rng.integers(len(mats), size=n)], None)
    family = np.where(
        existing,
        mat_family.reindex(material).to_numpy(dtype=object),
        np.array(families, dtype=object)[rng.integers(len(families), size=n)],
    )
    decided_p = np.where(npi, np.minimum(age / 500.0, 0.8), np.minimum(age / 240.0, 0.92))
    decided = rng.random(n) < decided_p
    won = decided & (rng.random(n) < np.where(npi, 0.45, 0.35))
    lost = decided & ~won
    status = np.where(won, "won", np.where(lost, "lost", "open")).astype(object)
    cycle = 20 + (rng.random(n) * np.maximum(1, np.minimum(age, 300) - 20)).astype("int64")
    decided_age = np.where(decided, age - np.minimum(cycle, age), 0)  # days before as_of
    stage = np.empty(n, dtype=object)
    probability = np.zeros(n)
    for k, options in _STAGES.items():
        mine = np.flatnonzero((kind == k) & ~decided)
        pick = rng.integers(len(options), size=len(mine))
        stage[mine] = np.array([o[0] for o in options], dtype=object)[pick]
        probability[mine] = np.array([o[1] for o in options])[pick]
    stage[decided] = "closed"
    probability[won] = 1.0
    in_stage = (rng.random(n) * np.maximum(1, np.minimum(age, 80))).astype("int64")
    stage_age = np.where(decided, decided_age, age - in_stage)
    award = -age + rng.integers(60, 200, n)  # days after as_of (negative = before)
    sop = award + rng.integers(60, 240, n)
    planned = sop - rng.choice([0, 0, 0, 30, 60, 91], n)
    day0 = np.datetime64(as_of.date(), "D")

    def days(offset: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        out = (day0 + offset.astype("timedelta64[D]")).astype("datetime64[us]")
        if mask is not None:
            out[~mask] = np.datetime64("NaT")
        return out

    has_comp = lost & (rng.random(n) < 0.8)
    rows = pd.DataFrame(
        {"customer_id": ids[c], "type": kind, "material_id": material, "product_family": family,
         "stage": stage, "stage_date": days(-stage_age), "probability": probability,
         "annual_volume": np.round(value / rng.uniform(2, 60, n), -1), "annual_value": value,
         "currency": customers["currency"].to_numpy(dtype=object)[c],
         "created_date": days(-age), "expected_award_date": days(award),
         "planned_sop_date": days(planned, npi), "sop_date": days(sop), "status": status,
         "decided_date": days(-decided_age, decided),
         "loss_reason": np.where(lost, np.array(_LOSS_REASONS, dtype=object)[
             rng.integers(len(_LOSS_REASONS), size=n)], None),
         "competitor": np.where(has_comp, np.array(COMPETITORS, dtype=object)[
             rng.integers(len(COMPETITORS), size=n)], None)}
    )  # fmt: skip
    rows = rows.to_dict("records")
    # planted: a stalled NPI project at Helios (position 1), slipped 5 months
    if len(customers) > 1:
        cust, currency = customers.at[1, "customer_id"], customers.at[1, "currency"]
        created = _day(as_of - pd.Timedelta(days=420))
        rows.append(
            {"customer_id": cust, "type": "npi", "material_id": None,
             "product_family": "Sensors", "stage": "samples",
             "stage_date": _day(as_of - pd.Timedelta(days=210)), "probability": 0.5,
             "annual_volume": 24000.0, "annual_value": 480000.0, "currency": currency,
             "created_date": created, "expected_award_date": created + pd.Timedelta(days=120),
             "planned_sop_date": _day(as_of - pd.Timedelta(days=30)),
             "sop_date": _day(as_of + pd.Timedelta(days=122)), "status": "open",
             "decided_date": pd.NaT, "loss_reason": None, "competitor": None}
        )  # fmt: skip
    # planted: an RFQ at Keystone (position 2) lost on price to a named competitor
    pick = plant.pick(2)
    if pick:
        created = _day(as_of - pd.Timedelta(days=150))
        rows.append(
            {"customer_id": pick[0], "type": "rfq", "material_id": pick[1],
             "product_family": mat_family[pick[1]], "stage": "closed",
             "stage_date": _day(as_of - pd.Timedelta(days=45)), "probability": 0.0,
             "annual_volume": 30000.0, "annual_value": 620000.0,
             "currency": customers.at[2, "currency"], "created_date": created,
             "expected_award_date": _day(as_of - pd.Timedelta(days=60)),
             "planned_sop_date": pd.NaT, "sop_date": _day(as_of + pd.Timedelta(days=60)),
             "status": "lost", "decided_date": _day(as_of - pd.Timedelta(days=45)),
             "loss_reason": "price", "competitor": "Apex Fluid Power Inc."}
        )  # fmt: skip
    f = pd.DataFrame(rows).sort_values(["created_date", "customer_id"], kind="stable")
    f.insert(0, "opportunity_id", [f"OPP-{k + 1:06d}" for k in range(len(f))])
    f = f.loc[(f["created_date"] <= as_of).to_numpy()]
    return _typed(f, "opportunities")


def _market(
    customers: pd.DataFrame,
    materials: pd.DataFrame,
    orders: pd.DataFrame,
    end: pd.Period,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Yearly estimates (the end month and 12, 24 months before) around our true sales."""
    fam = materials.set_index("material_id")["product_family"]
    live = orders.loc[
        orders["status"].ne("cancelled").to_numpy(bool),
        ["customer_id", "material_id", "currency", "requested_date", "net_value"],
    ]
    live = live.assign(material_id=live["material_id"].map(fam))
    month = live["requested_date"].dt.to_period("M")
    wallet = customers.set_index("customer_id")
    wallet = wallet["wallet_share"] if "wallet_share" in wallet else pd.Series(0.4, wallet.index)
    parts = []
    for p in (end - 24, end - 12, end):
        inside = ((month > p - 12) & (month <= p)).to_numpy(bool)
        part = live.loc[inside]
        sales = (
            part.groupby(["customer_id", "material_id", "currency"], observed=True)[
                "net_value"].sum()
        )  # fmt: skip
        keys = sales.index.to_frame(index=False)
        keys.columns = ["customer_id", "product_family", "currency"]
        m = len(keys)
        estimated = rng.random(m) >= 0.1  # the rest: nobody estimated it, share unknown
        base = wallet.reindex(keys["customer_id"]).fillna(0.4).to_numpy(dtype="float64")
        share = np.clip(base * np.exp(rng.normal(0, 0.06, m)), 0.05, 0.95)
        total = np.round(sales.to_numpy() / share, -2)
        t = keys.assign(period=p, competitor=None, total_purchases=total, share=None,
                        activity=None).loc[estimated]  # fmt: skip
        # 1-3 named competitors splitting up to 95 % of the rest
        k = rng.integers(1, 4, m)
        order = np.argsort(rng.random((m, len(COMPETITORS))), axis=1)[:, :3]
        cuts = np.sort(rng.uniform(0, 1, (m, 3)), axis=1) * ((1 - share) * 0.95)[:, None]
        cuts = np.where(np.arange(3)[None, :] < k[:, None], cuts, np.nan)
        shares = np.diff(np.concatenate([np.zeros((m, 1)), cuts], axis=1), axis=1)
        row, slot = np.nonzero((np.arange(3)[None, :] < k[:, None]) & estimated[:, None])
        comp = keys.iloc[row].reset_index(drop=True).assign(
            period=p,
            competitor=np.array(COMPETITORS, dtype=object)[order[row, slot]],
            total_purchases=None,
            share=np.round(shares[row, slot], 3),
            activity=np.where(rng.random(len(row)) < 0.2, np.array(_ACTIVITIES, dtype=object)[
                rng.integers(len(_ACTIVITIES), size=len(row))], None),
        )  # fmt: skip
        parts += [t, comp]
    rows = pd.concat(parts, ignore_index=True)
    f = pd.DataFrame(rows)
    if len(f):
        f["period"] = pd.PeriodIndex(f["period"], freq="M")
    return _typed(f, "market")


def _visits(customers: pd.DataFrame, as_of: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    """Monthly visits (80 % held), VOC meetings twice a year, quarterly reviews; 24 months
    back and the next 2 months planned."""
    ids = customers["customer_id"].to_numpy(dtype=object)
    diligence = rng.uniform(0.5, 1.0, len(ids))
    start = as_of - pd.DateOffset(months=24)
    parts = []
    for kind, every in (("visit", 1), ("voc", 6), ("review", 3)):
        slots = np.array(
            [(start + pd.DateOffset(months=m)).to_datetime64() for m in range(0, 27, every)],
            dtype="datetime64[D]",
        )
        c = np.repeat(np.arange(len(ids)), len(slots))
        when = np.tile(slots, len(ids)) + rng.integers(0, 28, len(ids))[c].astype("timedelta64[D]")
        when = when + rng.integers(0, 20, len(c)).astype("timedelta64[D]")
        keep = when <= np.datetime64((as_of + pd.DateOffset(months=2)).date(), "D")
        c, when = c[keep], when[keep]
        u = rng.random(len(c))
        d = diligence[c]
        status = np.where(u < d, "held", np.where(u < d + (1 - d) * 0.6, "planned", "cancelled"))
        status = np.where(when > np.datetime64(as_of.date(), "D"), "planned", status).astype(object)
        notes = np.array(_VISIT_NOTES[kind], dtype=object)[
            rng.integers(len(_VISIT_NOTES[kind]), size=len(c))
        ]
        parts.append(pd.DataFrame(
            {"customer_id": ids[c], "visit_date": when.astype("datetime64[us]"), "type": kind,
             "status": status, "notes": np.where(status == "held", notes, None)}
        ))  # fmt: skip
    rows = pd.concat(parts, ignore_index=True)
    f = rows.sort_values(["visit_date", "customer_id"], kind="stable")
    f.insert(0, "visit_id", [f"VR-{k + 1:06d}" for k in range(len(f))])
    return _typed(f, "visits")


def _ratings(customers: pd.DataFrame, end: pd.Period, rng: np.random.Generator) -> pd.DataFrame:
    """60 % of customers rate us each quarter for 2 years, on 0–100 or 1–5."""
    rows = []
    for cust in customers["customer_id"]:
        if rng.random() > 0.6:
            continue
        scale = float(rng.choice([100.0, 5.0]))
        level = rng.uniform(0.65, 0.92)
        drift = rng.normal(0, 0.015)
        suppliers = int(rng.integers(3, 9))
        for k, p in enumerate(pd.period_range(end - 21, end, freq="M")[::3]):
            pct = float(np.clip(level + drift * k + rng.normal(0, 0.03), 0.3, 1.0))
            score = round(pct * scale, 1 if scale == 100 else 2)
            rank = int(np.clip(round((1 - pct) * suppliers * 2.5) + 1, 1, suppliers))
            rows.append({"customer_id": cust, "period": p, "score": score, "scale_max": scale,
                         "rank": rank, "suppliers": suppliers})  # fmt: skip
    f = pd.DataFrame(rows)
    if len(f):
        f["period"] = pd.PeriodIndex(f["period"], freq="M")
    return _typed(f, "ratings")
