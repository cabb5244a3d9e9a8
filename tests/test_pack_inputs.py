"""A user's mistakes in `kamlab pack` / `summary` arguments and files: one line, exit 2, found
before the analytics run; a damaged run log is ignored with a warning (issue #27, faults 5,
7, 8, 9 and 12)."""

from __future__ import annotations

import json

import pytest
from pack_support import MONTH, build_demo_database, write_notebook

from kamlab import chain
from kamlab.cli import main
from kamlab.pack import PackError, build_pack
from kamlab.pack.build import RunLogWarning


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("inputs"), customers=3)


@pytest.fixture(scope="module")
def cache(database, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    chain.load_analytics(database, MONTH, cache_dir=folder)
    return folder


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty cache folder: after a refused pack it must still hold no analytics."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("KAMLAB_CACHE", str(folder))
    return folder


def _pack(database, tmp_path, *extra: str) -> int:
    argv = ["pack", "--month", MONTH, "--source", str(database)]
    return main([*argv, "--reports", str(tmp_path / "reports"), *extra])


def _no_analytics_ran(folder) -> bool:
    return not list(folder.glob("analytics-*")) if folder.exists() else True


# -- fault 5: a damaged database -----------------------------------------------------------------
DAMAGE = {
    "truncated": lambda data: data[: len(data) // 3],
    "empty": lambda data: b"",
    "text": lambda data: b"customer_id;name\nC1;Acme\n",
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("command", ["pack", "summary"])
def test_a_damaged_database_is_one_line_with_the_reingest_command(
    damage, command, database, tmp_path, capsys, fresh_cache
):
    broken = tmp_path / "kam.duckdb"
    broken.write_bytes(DAMAGE[damage](database.read_bytes()))
    if command == "pack":
        assert _pack(broken, tmp_path) == 2
    else:
        assert main(["summary", "--database", str(broken)]) == 2
    err = _one_line(capsys)
    assert f"{broken} is damaged or not a kamlab database" in err
    assert f"kamlab ingest EXTRACTS_DIR --database {broken}" in err
    assert _no_analytics_ran(fresh_cache)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # unpinned


# -- faults 7, 8, 12: arguments ------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, words",
    [
        (["--scheduler", "tcp://localhost"], "--scheduler: expected a Dask scheduler address"),
        (["--scheduler", "localhost:87x6"], "--scheduler: expected a Dask scheduler address"),
        (["--scheduler", "http://localhost:8786"], "--scheduler: expected"),
        (["--scheduler", "tcp://localhost:99999"], "--scheduler: expected"),
        (["--timeout", "120.5"], "--timeout: expected whole seconds"),
        (["--timeout", "-5"], "--timeout: expected whole seconds more than 0"),
        (["--timeout", "0"], "--timeout: expected whole seconds more than 0"),
        (["--workers", "0"], "--workers: expected a whole number 1 or more"),
        (["--workers", "-1"], "--workers: expected a whole number 1 or more"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2_before_any_analytics(
    argv, words, database, tmp_path, capsys, fresh_cache
):
    assert _pack(database, tmp_path, *argv) == 2
    assert words in _one_line(capsys)
    assert _no_analytics_ran(fresh_cache) and not (tmp_path / "reports").exists()


def test_a_whole_timeout_given_as_a_decimal_runs(database, cache, tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", "print(customer_id)")
    ids = chain.load_analytics(database, MONTH, cache_dir=cache).customer_ids()[:1]
    result = build_pack(
        MONTH,
        customers=ids,
        workers=1,
        timeout=120.0,
        source=database,
        reports_dir=tmp_path,
        cache_dir=cache,
        notebook=notebook,
        progress=False,
    )
    assert [r.status for r in result.results] == ["ok", "ok"]


def test_an_unknown_customer_is_reported_before_the_analytics_run(
    database, tmp_path, capsys, fresh_cache
):
    assert _pack(database, tmp_path, "--customers", "NO-SUCH-ID") == 2
    assert "unknown customer(s) ['NO-SUCH-ID']" in _one_line(capsys)
    assert _no_analytics_ran(fresh_cache)


def test_an_unwritable_reports_folder_is_reported_before_the_analytics_run(
    database, tmp_path, capsys, fresh_cache
):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the reports folder should be")
    assert _pack(database, tmp_path) == 2
    err = _one_line(capsys)
    assert str(blocker) in err and "Not a directory" in err
    assert _no_analytics_ran(fresh_cache)


# -- fault 9: a damaged run log ------------------------------------------------------------------
RUN_LOGS = {
    "truncated": lambda good: good[: len(good) // 2],
    "other fields": lambda good: json.dumps({"results": [{"key": "C1", "colour": "red"}]}),
    "not a list": lambda good: json.dumps({"results": 5}),
    "binary": lambda good: "\udcff\x00",
}


@pytest.mark.parametrize("damage", RUN_LOGS)
def test_a_damaged_run_log_is_ignored_with_a_warning(damage, database, cache, tmp_path, capsys):
    notebook = write_notebook(tmp_path / "nb.ipynb", "print(customer_id)")
    ids = chain.load_analytics(database, MONTH, cache_dir=cache).customer_ids()[:2]
    kwargs = dict(
        customers=ids,
        workers=1,
        source=database,
        reports_dir=tmp_path,
        cache_dir=cache,
        notebook=notebook,
        progress=False,
    )
    log = tmp_path / MONTH / "run-log.json"
    build_pack(MONTH, **kwargs)
    good = log.read_text()
    log.write_bytes(RUN_LOGS[damage](good).encode("utf-8", "surrogateescape"))
    with pytest.warns(RunLogWarning, match="run log .*ignored"):
        result = build_pack(MONTH, **kwargs)
    assert [r.status for r in result.results] == ["ok"] * 3
    assert json.loads(log.read_text())["results"]  # a good log again
    log.write_bytes(RUN_LOGS[damage](good).encode("utf-8", "surrogateescape"))
    with pytest.warns(RunLogWarning), pytest.raises(PackError, match="nothing to retry"):
        build_pack(MONTH, retry_failed=True, **kwargs)
    # the command line: the warning (shown in one line, see test_cli) and a one-line error
    argv = ["pack", "--month", MONTH, "--source", str(database), "--reports", str(tmp_path)]
    with pytest.warns(RunLogWarning):
        assert main([*argv, "--retry-failed", "--customers", *ids]) == 2
    assert "nothing to retry" in _one_line(capsys)


def test_a_damaged_run_log_on_the_command_line_is_one_warning_line_and_one_error_line(
    database, cache, tmp_path
):
    import os
    import subprocess
    import sys
    from pathlib import Path

    log = tmp_path / MONTH / "run-log.json"
    log.parent.mkdir(parents=True)
    log.write_text('{"results": [{"key": "C1"')
    argv = [sys.executable, "-m", "kamlab", "pack", "--month", MONTH, "--retry-failed"]
    argv += ["--source", str(database), "--reports", str(tmp_path)]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "KAMLAB_CACHE": str(cache)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("kamlab: warning: run log") and "damaged" in lines[0]
    assert lines[1].startswith("kamlab pack: nothing to retry")
