"""Deliver 11: the settings the data were ingested with are found without --config."""

import pytest

from kamlab.chain import resolve_settings
from kamlab.cli import main
from kamlab.data.store import recorded_settings


def test_ingest_records_the_extracts_kamlab_toml_and_runs_without_config_find_it(
    tmp_path, monkeypatch
):
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)  # no ./kamlab.toml here
    assert main(["demo", "--out", "extracts", "--customers", "3", "--materials", "20",
                 "--months", "13", "--end", "2026-06"]) == 0  # fmt: skip
    assert main(["ingest", "extracts", "--database", "kam.duckdb"]) == 0
    text = recorded_settings(work / "kam.duckdb")
    assert text is not None and "fx_rates" in text
    settings = resolve_settings(None, database=work / "kam.duckdb")
    assert settings.scorecard.fx_rates["USD"] == pytest.approx(1 / 1.08, rel=1e-5)
    # the pack as `make pack` runs it, without --config: its index converts at those rates
    assert main(["pack", "--month", "2026-06", "--database", "kam.duckdb",
                 "--customers", "0000100001"]) == 0  # fmt: skip
    index = (work / "reports" / "2026-06" / "index.html").read_text(encoding="utf-8")
    assert "converted to EUR at" in index
    # a ./kamlab.toml (or --config) still wins over what the database recorded
    (work / "kamlab.toml").write_text('[scorecard]\nreporting_currency = "EUR"\n')
    assert resolve_settings(None, database=work / "kam.duckdb").scorecard.fx_rates == {}
