"""The kamlab command: thin over the library, exit code 2 with a message on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import small_extracts
from test_ingest import write_csvs

import kamlab.chain.source as chain_source
from kamlab.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_ingest_then_summary_succeed(tmp_path, capsys):
    folder = write_csvs(tmp_path / "x", small_extracts())
    db = tmp_path / "kam.duckdb"
    assert main(["ingest", str(folder), "--database", str(db)]) == 0
    assert "ingested 26 rows" in capsys.readouterr().out
    assert main(["summary", "--database", str(db)]) == 0
    out = capsys.readouterr().out
    assert "customer_forecasts" in out and "excluded rows:" in out


def test_bad_extract_exits_2_with_the_contract_message_and_no_traceback(tmp_path, capsys):
    frames = small_extracts()
    frames["orders"].loc[1, "customer_id"] = "C9"
    folder = write_csvs(tmp_path / "x", frames)
    assert main(["ingest", str(folder), "--database", str(tmp_path / "kam.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "orders" in err and "customer_id" in err and "line 3" in err
    assert "Traceback" not in err
    assert not (tmp_path / "kam.duckdb").exists()


def test_missing_extracts_folder_exits_2(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "nowhere")]) == 2
    assert "extracts folder not found" in capsys.readouterr().err


def test_summary_without_database_exits_2(tmp_path, capsys):
    assert main(["summary", "--database", str(tmp_path / "none.duckdb")]) == 2
    assert "kamlab ingest" in capsys.readouterr().err


def test_bad_config_exits_2(tmp_path, capsys):
    (tmp_path / "kamlab.toml").write_text("[nonsense]\nx = 1\n")
    folder = write_csvs(tmp_path / "x", small_extracts())
    assert main(["ingest", str(folder), "--config", str(tmp_path / "kamlab.toml")]) == 2
    assert "unknown section [nonsense]" in capsys.readouterr().err


def test_demo_writes_extracts_that_ingest(tmp_path, capsys):
    pytest.importorskip("kamlab.data.demo")
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--customers", "3", "--materials", "10", "--months", "13"]
    assert main([*args, "--end", "2024-12", "--seed", "1"]) == 0
    assert main(["ingest", str(out), "--database", str(tmp_path / "kam.duckdb")]) == 0


def test_python_m_kamlab_runs_the_command_outside_the_repository(tmp_path):
    """The command as a user runs it, from another folder; bad input -> exit 2, no traceback.

    Runs ``python -m kamlab`` on this checkout (PYTHONPATH) rather than the venv's ``kamlab``
    script, whose editable install points at the main checkout.
    """
    frames = small_extracts()
    frames["invoices"].loc[0, "due_date"] = "not a date"
    folder = write_csvs(tmp_path / "x", frames)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "kamlab", "ingest", str(folder), "--database", "kam.duckdb"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert "invoices" in run.stderr and "'not a date'" in run.stderr
    assert "Traceback" not in run.stderr


def test_demo_with_a_bad_month_exits_2_with_usage(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--out", str(tmp_path), "--end", "2024-13"])
    assert info.value.code == 2
    assert "expected a month YYYY-MM, got '2024-13'" in capsys.readouterr().err


def test_version_prints_the_package_version(capsys):
    import kamlab

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"kamlab {kamlab.__version__}"


@pytest.fixture(scope="module")
def small_database(tmp_path_factory):
    folder = write_csvs(tmp_path_factory.mktemp("cli") / "x", small_extracts())
    db = folder.parent / "kam.duckdb"
    assert main(["ingest", str(folder), "--database", str(db)]) == 0
    return db


def test_pack_without_the_database_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "none.duckdb"
    assert main(["pack", "--month", "2024-03", "--source", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "kamlab ingest" in err and "Traceback" not in err


def test_pack_of_an_unknown_customer_exits_2(small_database, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KAMLAB_CACHE", str(tmp_path / "cache"))
    argv = ["pack", "--month", "2024-03", "--source", str(small_database)]
    assert main([*argv, "--reports", str(tmp_path), "--customers", "C404"]) == 2
    err = capsys.readouterr().err
    assert "unknown customer" in err and "C404" in err and "Traceback" not in err


def test_pack_with_a_bad_config_exits_2(small_database, tmp_path, capsys):
    bad = tmp_path / "kamlab.toml"
    bad.write_text("[pack\nworkers = 2\n")  # a TOML syntax error
    argv = ["pack", "--month", "2024-03", "--source", str(small_database), "--config", str(bad)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "kamlab.toml" in err and "Traceback" not in err


@pytest.mark.skipif(
    not hasattr(chain_source, "check_month"),
    reason="the chain's month-range check (branch chain, 'Refuse a review month outside the "
    "data') is not merged yet",
)
@pytest.mark.parametrize("month", ["2031-01", "2019-01"])
def test_pack_of_a_month_outside_the_data_exits_2_with_a_sentence(
    month, small_database, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("KAMLAB_CACHE", str(tmp_path / "cache"))
    argv = ["pack", "--month", month, "--source", str(small_database), "--reports", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert month in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / month).exists()  # refused before any page is written
