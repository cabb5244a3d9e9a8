"""OTIF / OTD per order line and aggregated: hand-worked cases, boundaries and a loop reference."""

import numpy as np
import pandas as pd
import pytest

from kamlab.service import delivery_performance, otif

AS_OF = "2024-01-31"


def _orders(*lines):
    """lines: (order_id, line, requested, confirmed, quantity[, status[, customer]])."""
    rows = []
    for spec in lines:
        order_id, line, requested, confirmed, quantity, *rest = spec
        status = rest[0] if rest else "open"
        customer = rest[1] if len(rest) > 1 else "C1"
        rows.append(
            {
                "order_id": order_id,
                "line": line,
                "customer_id": customer,
                "material_id": "M1",
                "order_date": pd.Timestamp("2024-01-01"),
                "requested_date": pd.Timestamp(requested),
                "confirmed_date": pd.Timestamp(confirmed) if confirmed else pd.NaT,
                "quantity": float(quantity),
                "net_value": 10.0 * quantity,
                "currency": "EUR",
                "status": status,
            }
        )
    frame = pd.DataFrame(rows)
    frame["confirmed_date"] = frame["confirmed_date"].astype("datetime64[us]")
    return frame


def _deliveries(*rows):
    """rows: (order_id, line, date, quantity[, air])."""
    frame = pd.DataFrame(
        [
            {
                "delivery_id": f"D{i}",
                "order_id": r[0],
                "line": r[1],
                "delivered_date": pd.Timestamp(r[2]),
                "delivered_quantity": float(r[3]),
                "air_freight": bool(r[4]) if len(r) > 4 else False,
            }
            for i, r in enumerate(rows)
        ],
        columns=[
            "delivery_id", "order_id", "line", "delivered_date", "delivered_quantity",
            "air_freight",
        ],
    )  # fmt: skip
    return frame.astype({"delivered_date": "datetime64[us]", "air_freight": bool})


def _one(lines, order_id="A", line=1):
    hit = lines[(lines["order_id"] == order_id) & (lines["line"] == line)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_split_delivery_completed_on_the_due_date_is_on_time_in_full():
    orders = _orders(("A", 1, "2024-01-10", None, 10))
    deliveries = _deliveries(("A", 1, "2024-01-08", 6), ("A", 1, "2024-01-10", 4))
    r = _one(delivery_performance(orders, deliveries, as_of=AS_OF))
    assert (r.on_time, r.in_full, r.otif) == (True, True, True)
    assert r.days_late == 0
    assert r.delivered_quantity_in_window == 10.0
    assert r.first_delivered_date == pd.Timestamp("2024-01-08")
    assert r.completion_date == pd.Timestamp("2024-01-10")


def test_split_delivery_with_the_rest_one_day_late_is_on_time_but_not_in_full():
    orders = _orders(("A", 1, "2024-01-10", None, 10))
    deliveries = _deliveries(("A", 1, "2024-01-08", 6), ("A", 1, "2024-01-11", 4))
    r = _one(delivery_performance(orders, deliveries, as_of=AS_OF))
    assert (r.on_time, r.in_full, r.otif) == (True, False, False)
    assert r.days_late == 1
    assert r.delivered_quantity == 10.0
    assert r.delivered_quantity_in_window == 6.0
    assert r.fill_rate == pytest.approx(0.6)


def test_late_by_exactly_the_tolerance_is_on_time_and_one_day_more_is_late():
    orders = _orders(("A", 1, "2024-01-10", None, 10), ("A", 2, "2024-01-10", None, 10))
    deliveries = _deliveries(("A", 1, "2024-01-12", 10), ("A", 2, "2024-01-13", 10))
    lines = delivery_performance(orders, deliveries, as_of=AS_OF, days_late_tolerance=2)
    assert _one(lines, line=1).otif and _one(lines, line=1).on_time
    late = _one(lines, line=2)
    assert not late.on_time and not late.in_full and not late.otif
    assert late.days_late == 3
    no_tolerance = delivery_performance(orders, deliveries, as_of=AS_OF)
    assert not no_tolerance["on_time"].any()


def test_short_by_exactly_the_quantity_tolerance_is_in_full_and_a_bit_more_is_not():
    orders = _orders(
        ("A", 1, "2024-01-10", None, 100),
        ("A", 2, "2024-01-10", None, 100),
        ("A", 3, "2024-01-10", None, 3),  # 3 × 0.9 = 2.7000000000000002 in floating point
    )
    deliveries = _deliveries(
        ("A", 1, "2024-01-10", 95), ("A", 2, "2024-01-10", 94.9), ("A", 3, "2024-01-10", 2.7)
    )
    lines = delivery_performance(orders, deliveries, as_of=AS_OF, quantity_tolerance=0.05)
    assert _one(lines, line=1).in_full and _one(lines, line=1).otif
    assert not _one(lines, line=2).in_full and _one(lines, line=2).on_time
    lines = delivery_performance(orders, deliveries, as_of=AS_OF, quantity_tolerance=0.1)
    assert _one(lines, line=3).in_full


def test_early_tolerance_makes_a_too_early_delivery_not_on_time():
    orders = _orders(("A", 1, "2024-01-10", None, 10), ("A", 2, "2024-01-10", None, 10))
    deliveries = _deliveries(("A", 1, "2024-01-08", 10), ("A", 2, "2024-01-09", 10))
    strict = delivery_performance(orders, deliveries, as_of=AS_OF, days_early_tolerance=1)
    too_early = _one(strict, line=1)
    assert not too_early.on_time and not too_early.otif
    assert too_early.days_late == -2
    assert _one(strict, line=2).otif
    assert _one(strict, line=2).window_start == pd.Timestamp("2024-01-09")
    lenient = delivery_performance(orders, deliveries, as_of=AS_OF)
    assert lenient["otif"].all()
    assert lenient["window_start"].isna().all()


def test_confirmed_basis_measures_against_the_confirmed_date_and_falls_back_when_unconfirmed():
    orders = _orders(("A", 1, "2024-01-10", "2024-01-15", 10), ("A", 2, "2024-01-10", None, 10))
    deliveries = _deliveries(("A", 1, "2024-01-14", 10), ("A", 2, "2024-01-14", 10))
    requested = delivery_performance(orders, deliveries, as_of=AS_OF, date_basis="requested")
    confirmed = delivery_performance(orders, deliveries, as_of=AS_OF, date_basis="confirmed")
    assert not _one(requested, line=1).otif and _one(requested, line=1).days_late == 4
    assert _one(confirmed, line=1).otif and _one(confirmed, line=1).days_late == -1
    assert _one(confirmed, line=1).date_basis == "confirmed"
    assert _one(confirmed, line=2).date_basis == "requested"
    assert not _one(confirmed, line=2).otif
    summary = otif(confirmed).iloc[0]
    assert summary.date_basis == "mixed"
    assert otif(requested).iloc[0].date_basis == "requested"


def test_open_line_past_due_without_delivery_is_a_failure_late_until_as_of():
    orders = _orders(("A", 1, "2024-01-10", None, 10, "open"))
    lines = delivery_performance(orders, _deliveries(), as_of=AS_OF)
    r = _one(lines)
    assert (r.on_time, r.in_full, r.otif) == (False, False, False)
    assert r.days_late == 21
    assert r.fill_rate == 0.0
    assert pd.isna(r.completion_date)


def test_line_closed_short_is_late_to_its_last_delivery_not_until_as_of():
    orders = _orders(
        ("A", 1, "2024-01-10", None, 10, "delivered"),  # closed short: 7 of 10, last on the 12th
        ("B", 1, "2024-01-10", None, 10, "delivered"),  # its rest arrives after as_of
    )
    deliveries = _deliveries(
        ("A", 1, "2024-01-09", 4), ("A", 1, "2024-01-12", 3),
        ("B", 1, "2024-01-09", 4), ("B", 1, "2024-02-05", 6),
    )  # fmt: skip
    lines = delivery_performance(orders, deliveries, as_of=AS_OF)
    a, b = _one(lines, "A"), _one(lines, "B")
    assert (a.on_time, a.in_full, a.days_late) == (True, False, 2)
    assert pd.isna(a.completion_date)
    assert b.days_late == 21  # still open at as_of: late so far


def test_not_yet_due_cancelled_and_future_deliveries_are_left_out_and_counted():
    orders = _orders(
        ("A", 1, "2024-01-10", None, 10, "delivered"),
        ("A", 2, "2024-02-05", None, 7, "open"),
        ("A", 3, "2024-01-10", None, 3, "cancelled"),
        ("A", 4, "2024-01-30", None, 2, "open"),  # window closes 1 Feb with 2 days' tolerance
    )
    deliveries = _deliveries(
        ("A", 1, "2024-01-10", 4), ("A", 1, "2024-02-02", 6), ("X", 9, "2024-01-10", 1)
    )
    lines = delivery_performance(orders, deliveries, as_of=AS_OF, days_late_tolerance=2)
    assert lines["line"].tolist() == [1]
    r = _one(lines)
    assert r.delivered_quantity == 4.0  # the 2 Feb delivery is not known on 31 Jan
    assert not r.in_full and r.days_late == 21
    ex = lines.attrs["excluded"].set_index("reason")
    assert ex.loc["not yet due at as_of", "rows"] == 2
    assert ex.loc["not yet due at as_of", "quantity"] == 9.0
    assert ex.loc["cancelled order line", "rows"] == 1
    assert ex.loc["delivered after as_of", "rows"] == 1
    assert ex.loc["no matching order line", "rows"] == 1


def test_air_freight_flags_the_line_when_any_delivery_went_by_air():
    orders = _orders(("A", 1, "2024-01-10", None, 10), ("A", 2, "2024-01-10", None, 10))
    deliveries = _deliveries(
        ("A", 1, "2024-01-09", 5), ("A", 1, "2024-01-10", 5, True), ("A", 2, "2024-01-10", 10)
    )
    lines = delivery_performance(orders, deliveries, as_of=AS_OF)
    assert lines["air_freight"].tolist() == [True, False]


def test_otif_aggregates_by_customer_and_month_and_lists_customers_without_lines():
    orders = _orders(
        ("A", 1, "2023-12-10", None, 10, "open", "C1"),
        ("A", 2, "2024-01-10", None, 10, "open", "C1"),
        ("A", 3, "2024-01-10", None, 30, "open", "C1"),
        ("B", 1, "2024-01-10", None, 5, "open", "C2"),
    )
    deliveries = _deliveries(
        ("A", 1, "2023-12-10", 10),
        ("A", 2, "2024-01-10", 10),
        ("A", 3, "2024-01-10", 15),
        ("B", 1, "2024-01-12", 5),
    )
    lines = delivery_performance(orders, deliveries, as_of=AS_OF)
    customers = pd.DataFrame({"customer_id": ["C1", "C2", "C3"]})
    by_customer = otif(lines, include=customers).set_index("customer_id")
    assert by_customer.loc["C1", "lines_due"] == 3
    assert by_customer.loc["C1", "otif"] == pytest.approx(2 / 3)
    assert by_customer.loc["C1", "otd"] == 1.0
    assert by_customer.loc["C1", "fill_rate"] == pytest.approx(35 / 50)
    assert by_customer.loc["C2", "otif"] == 0.0 and by_customer.loc["C2", "otd"] == 0.0
    assert by_customer.loc["C3", "lines_due"] == 0
    assert np.isnan(by_customer.loc["C3", "otif"])
    assert by_customer.loc["C3", "reason"] == "no lines due"
    assert pd.isna(by_customer.loc["C1", "reason"])
    monthly = otif(lines, by=("customer_id", "period")).set_index(["customer_id", "period"])
    assert monthly.loc[("C1", pd.Period("2023-12", "M")), "otif"] == 1.0
    assert monthly.loc[("C1", pd.Period("2024-01", "M")), "otif"] == 0.5


def test_empty_orders_give_an_empty_line_table_and_no_lines_due_rows():
    orders = _orders(("A", 1, "2024-01-10", None, 10)).iloc[0:0]
    lines = delivery_performance(orders, _deliveries(), as_of=AS_OF)
    assert lines.empty and "otif" in lines.columns
    table = otif(lines, include=pd.DataFrame({"customer_id": ["C1"]}))
    assert table["lines_due"].tolist() == [0]
    assert table["reason"].tolist() == ["no lines due"]


def test_bad_parameters_are_refused_with_their_name():
    orders = _orders(("A", 1, "2024-01-10", None, 10))
    with pytest.raises(ValueError, match="date_basis must be"):
        delivery_performance(orders, _deliveries(), as_of=AS_OF, date_basis="promised")
    with pytest.raises(ValueError, match="quantity_tolerance"):
        delivery_performance(orders, _deliveries(), as_of=AS_OF, quantity_tolerance=1.0)
    with pytest.raises(ValueError, match="as_of is required"):
        delivery_performance(orders, _deliveries(), as_of=None)
    with pytest.raises(ValueError, match="lacks required column"):
        delivery_performance(orders.drop(columns="status"), _deliveries(), as_of=AS_OF)


def _random_case(seed, n=300):
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2024-01-01")
    requested = base + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    confirmed = requested + pd.to_timedelta(rng.integers(-3, 6, n), unit="D")
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i // 3}" for i in range(n)],
            "line": [i % 3 + 1 for i in range(n)],
            "customer_id": rng.choice(["C1", "C2", "C3"], n),
            "material_id": "M1",
            "order_date": base - pd.Timedelta(days=5),
            "requested_date": requested,
            "confirmed_date": confirmed.where(rng.random(n) > 0.2),
            "quantity": rng.integers(0, 20, n).astype(float),
            "net_value": 1.0,
            "currency": "EUR",
            "status": rng.choice(["open", "delivered", "cancelled"], n, p=[0.3, 0.6, 0.1]),
        }
    )
    k = rng.integers(0, 3, n)
    idx = np.repeat(np.arange(n), k)
    deliveries = pd.DataFrame(
        {
            "delivery_id": [f"D{i}" for i in range(len(idx))],
            "order_id": orders["order_id"].to_numpy()[idx],
            "line": orders["line"].to_numpy()[idx],
            "delivered_date": requested[idx] + pd.to_timedelta(rng.integers(-5, 8, len(idx)), "D"),
            "delivered_quantity": rng.integers(0, 15, len(idx)).astype(float),
            "air_freight": rng.random(len(idx)) < 0.1,
        }
    )
    return orders, deliveries


def _reference(orders, deliveries, as_of, basis, late, early, tol):
    """A plain loop over lines, written straight from the definitions."""
    as_of = pd.Timestamp(as_of)
    out = {}
    for o in orders.itertuples():
        due = o.requested_date
        if basis == "confirmed" and not pd.isna(o.confirmed_date):
            due = o.confirmed_date
        end = due + pd.Timedelta(days=late)
        if o.status == "cancelled" or end > as_of or o.quantity == 0:
            continue
        start = due - pd.Timedelta(days=early) if early is not None else pd.Timestamp.min
        mine = deliveries[
            (deliveries.order_id == o.order_id)
            & (deliveries.line == o.line)
            & (deliveries.delivered_date <= as_of)
        ]
        in_window = mine[(mine.delivered_date <= end) & (mine.delivered_date >= start)]
        q_w = in_window.delivered_quantity.sum()
        in_full = q_w >= o.quantity * (1 - tol) - 1e-9
        on_time = q_w > 0
        out[(o.order_id, o.line)] = (on_time, bool(in_full), on_time and bool(in_full))
    return out


@pytest.mark.parametrize(
    ("basis", "late", "early", "tol"),
    [("requested", 0, None, 0.0), ("confirmed", 2, 1, 0.1), ("requested", 1, 0, 0.05)],
)
def test_vectorised_lines_agree_with_a_plain_loop_and_shuffling_changes_nothing(
    basis, late, early, tol
):
    orders, deliveries = _random_case(7)
    before = orders.copy()
    kwargs = dict(
        as_of="2024-02-15",
        date_basis=basis,
        days_late_tolerance=late,
        days_early_tolerance=early,
        quantity_tolerance=tol,
    )
    lines = delivery_performance(orders, deliveries, **kwargs)
    pd.testing.assert_frame_equal(orders, before)  # input untouched
    got = {(r.order_id, r.line): (r.on_time, r.in_full, r.otif) for r in lines.itertuples()}
    assert got == _reference(orders, deliveries, "2024-02-15", basis, late, early, tol)
    assert (lines["otif"] <= lines["on_time"]).all()
    shuffled = delivery_performance(
        orders.sample(frac=1, random_state=1), deliveries.sample(frac=1, random_state=2), **kwargs
    )
    key = ["order_id", "line"]
    pd.testing.assert_frame_equal(
        lines.sort_values(key, ignore_index=True), shuffled.sort_values(key, ignore_index=True)
    )


def test_delivered_in_full_tells_a_short_line_from_a_late_one():
    """``in_full`` counts in-window quantity, so it equals ``otif``; ``delivered_in_full`` does not.

    Line 1: 10 ordered, 6 in time and 4 one day late: late, not short. Line 2: 10 ordered,
    6 in time and nothing more: short. Line 3: 10 in time: OTIF.
    """
    orders = _orders(
        ("A", 1, "2024-01-10", None, 10),
        ("A", 2, "2024-01-10", None, 10),
        ("A", 3, "2024-01-10", None, 10),
    )
    deliveries = _deliveries(
        ("A", 1, "2024-01-08", 6), ("A", 1, "2024-01-11", 4), ("A", 2, "2024-01-08", 6),
        ("A", 3, "2024-01-09", 10),
    )  # fmt: skip
    lines = delivery_performance(orders, deliveries, as_of=AS_OF)
    got = {r.line: (r.on_time, r.in_full, r.delivered_in_full, r.otif) for r in lines.itertuples()}
    assert got == {
        1: (True, False, True, False),
        2: (True, False, False, False),
        3: (True, True, True, True),
    }
    assert (lines["in_full"] == lines["otif"]).all()  # why the split needs the new column
    r = otif(lines).iloc[0]
    assert (r.lines_due, r.lines_otif, r.lines_in_full, r.lines_delivered_in_full) == (3, 1, 1, 2)
    assert r.delivered_in_full == pytest.approx(2 / 3) and r.otif == pytest.approx(1 / 3)
