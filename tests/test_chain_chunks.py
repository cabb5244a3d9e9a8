"""Customer chunks: membership by a fixed hash of the id, and a step run chunk by chunk from
the store equal to the same step over the whole portfolio in memory.

Real demo data through the real ingest into DuckDB; chunks read with ``store.load``.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pandas as pd
import pytest
from pack_support import MONTH, build_demo_database

import kamlab.chain as chain
import kamlab.chain.chunks as chunks
from kamlab.chain.chunks import chunk_count, chunk_of, customer_chunks
from kamlab.chain.source import load_dataset
from kamlab.chain.steps import _LEDGER, CHUNK_TABLES, late_model_sample
from kamlab.data import store

IDS = [f"C{i:05d}" for i in range(0, 2000, 2)]  # 1,000 customers


def _membership(groups: list[list[str]]) -> dict[str, frozenset[str]]:
    return {c: frozenset(g) - {c} for g in groups for c in g}


def test_a_chunk_is_the_blake2b_hash_of_the_id_modulo_the_count():
    # worked out with hashlib.blake2b(id, digest_size=8), big-endian, mod 2**20
    assert [chunk_of(c, 1 << 20) for c in ["C0001", "0000100001", "Kunde-Müller"]] == [
        265813,
        368907,
        260318,
    ]


def test_the_chunk_count_is_the_least_power_of_two_for_the_size():
    assert [chunk_count(n, 100) for n in (0, 1, 100, 101, 400, 401, 1000, 10_000)] == [
        1, 1, 1, 2, 4, 8, 16, 128,
    ]  # fmt: skip


def test_an_inserted_customer_moves_no_other_customer():
    before = customer_chunks(IDS, 100)
    after = customer_chunks([*IDS, "C00777"], 100)
    assert len(before) == len(after) == 16
    changed = [g for g in after if g not in before]
    assert changed == [g for g in after if "C00777" in g]  # only the newcomer's chunk
    old = _membership(before)
    new = _membership(after)
    assert all(new[c] - {"C00777"} == old[c] for c in IDS)
    assert sum(map(len, after)) == len(IDS) + 1
    assert max(map(len, after)) <= 100 * 1.5  # hashing spreads them: about 62 each


def test_chunks_are_the_same_in_another_process_with_another_hash_seed():
    code = (
        "from kamlab.chain.chunks import customer_chunks\n"
        f"print(customer_chunks({IDS[:300]!r}, 50))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    got = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert got.stdout.strip() == str(customer_chunks(IDS[:300], 50))


def test_the_late_payment_sample_is_bounded_and_stable(monkeypatch):
    import kamlab.chain.steps as steps

    monkeypatch.setattr(steps, "LATE_MODEL_CUSTOMERS", 100)
    sample = late_model_sample(IDS)
    assert len(sample) == 100
    assert set(late_model_sample([*IDS, "C00777"])) - set(sample) <= {"C00777"}
    assert late_model_sample(IDS[:50]) == IDS[:50]


# --- a chunked step equals the whole-portfolio step -------------------------------------


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("chunks"), customers=6)


def test_steps_by_chunk_from_the_store_equal_the_whole_portfolio_in_memory(database):
    """Service, receivables and payment risk by chunks of 1-2 customers read from the store
    against the same steps on the whole dataset: every frame equal, ids, counts, dates and
    codes exactly, amounts to 1e-12 relative (a sum over a customer's lines may round in
    its last bit: 5313.55 against 5313.549999999999). The backtest chunks are of 2 customers in
    both runs (their per-material totals add up in chunk order)."""
    client = load_dataset(database, chunked=True)
    assert all(getattr(client, t).empty for t in CHUNK_TABLES)  # the client never reads them
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(chunks, "CUSTOMERS_PER_CHUNK", 2)  # 4 chunks of 1-2 customers, both runs
        mp.setattr(chain.steps, "LATE_MODEL_CUSTOMERS", 6)  # the model trains on all
        whole = chain.prepare(store.load(database), MONTH, n_jobs=1)
        assert len(customer_chunks(whole.customer_ids())) == 4
        by_chunk = chain.prepare(client, MONTH, n_jobs=1, source=database)
    compared = 0
    for f in dataclasses.fields(whole):
        x, y = getattr(whole, f.name), getattr(by_chunk, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-12, atol=0, obj=f.name)
            compared += 1
        else:
            assert str(x) == str(y), f.name
    assert compared > 40
    for name in ("service", "receivables", "ageing_history", "dso", "late_payment"):
        assert len(getattr(by_chunk, name)), name
    assert by_chunk.late_payment["model"].eq("calibrated gradient boosting").all()


def test_the_scoring_pass_takes_the_outcomes_the_first_pass_left_or_reads_them_again(
    database, tmp_path
):
    """A chunk's payment outcomes are kept between the two passes of the payment-risk step;
    a worker without that file (a Dask worker on another host) reads the store again and
    scores the same rows with the same probabilities."""
    from kamlab.chain.steps import _late_payment_chunk, _payment_outcomes
    from kamlab.receivables.risk import fit_late_payment, late_rate_by_day

    ids = store.load(database, tables=["customers"]).customers["customer_id"].tolist()
    common = {"as_of": pd.Period(MONTH, "M").end_time.normalize(), "late_days": 10}
    spill = tmp_path / "chunk.pkl"
    first = _late_payment_chunk(str(database), ids, spill=str(spill), **common)
    assert spill.is_file()
    outcomes = _payment_outcomes(store.load(database, tables=_LEDGER), **common)
    pd.testing.assert_frame_equal(pd.read_pickle(spill), outcomes, check_exact=True)
    portfolio = late_rate_by_day(outcomes)
    pd.testing.assert_frame_equal(first["late_rates"], portfolio, check_exact=True)
    model = fit_late_payment(outcomes, portfolio, as_of=common["as_of"])
    scoring = {**common, "portfolio": portfolio, "model": model}
    kept = _late_payment_chunk(str(database), ids, spill=str(spill), **scoring)
    again = _late_payment_chunk(str(database), ids, spill=str(tmp_path / "absent.pkl"), **scoring)
    assert len(kept["late_payment"]) > 0
    pd.testing.assert_frame_equal(kept["late_payment"], again["late_payment"], check_exact=True)


def test_the_chains_forecast_and_backtest_do_not_depend_on_the_customer_chunks(database):
    """The forecast strategy is the portfolio's (one choice per origin on a stable sample of
    all series, the forecast_strategy step), so chunks of one customer and one chunk of all
    six give the same analytics: the strategies, the forecast and the backtest's scores
    exactly, the rest to 1e-9 relative (chunk totals are added in chunk order: 2e-16 in a
    backtest total, 6e-12 in a phase-out shortfall computed from them). Not compared:
    the agreed forecast's count of actuals without a forecast (``excluded``, counted in the
    chunks that have agreed rows) and the track record's combined-forecast errors (they move
    by up to 1e-7 with the chunks): kamlab.accuracy's, not the forecast's."""
    ds = store.load(database)
    runs = []
    for size in (1, 1000):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(chunks, "CUSTOMERS_PER_CHUNK", size)
            runs.append(chain.prepare(ds, MONTH, n_jobs=1))
        assert (len(customer_chunks(runs[-1].customer_ids(), size)) > 1) == (size == 1)
    small, one = runs
    strategy = small.forecast_strategy
    assert len(strategy) == 2 * (small.settings.forecast.backtest_origins + 1)
    assert (strategy["origin"] >= strategy["validated_at"]).all()  # no data after an origin
    for name in ("forecast_strategy", "forecast"):
        pd.testing.assert_frame_equal(getattr(small, name), getattr(one, name), obj=name)
    for name in ("accuracy", "value_added", "league", "bias", "challenges"):
        pd.testing.assert_frame_equal(getattr(small, name), getattr(one, name), obj=name)
    compared = 0
    for f in dataclasses.fields(small):
        x, y = getattr(small, f.name), getattr(one, f.name)
        if f.name == "track_record":
            x, y = (t.drop(columns=[c for c in t if c.endswith("_combined")]) for t in (x, y))
        if isinstance(x, pd.DataFrame) and f.name != "excluded":
            pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-9, atol=0, obj=f.name)
            compared += 1
    assert compared > 40
    assert len(small.accuracy) and len(small.backtest_totals) and len(small.track_record)
