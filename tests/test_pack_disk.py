"""I/O errors while a pack runs name the path and the reason; the pack still writes what it
can (index, run log, pack.json) for the customers that succeeded (issue #27, fault 11).

A full disk is made with a file-size limit (RLIMIT_FSIZE, set in the pack process and so
inherited by its workers and kernels) and, where this user may mount one, a small tmpfs; a
read-only cache folder with a read-only bind mount.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from pack_support import MONTH, build_demo_database, write_notebook

from kamlab import chain

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("disk"), customers=2)


@pytest.fixture(scope="module")
def cache(database, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    chain.load_analytics(database, MONTH, cache_dir=folder)
    return folder


@pytest.fixture(scope="module")
def customers(database, cache):
    return chain.load_analytics(database, MONTH, cache_dir=cache).customer_ids()[:2]


PACK = """
import json, sys
from kamlab.pack import build_pack
if __name__ == "__main__":
    database, reports, cache, notebook, *customers = sys.argv[1:]
    r = build_pack({month!r}, customers=customers, workers=1, source=database,
                   reports_dir=reports, cache_dir=cache, notebook=notebook, progress=False)
    print(json.dumps({{"status": {{x.key: [x.status, x.error] for x in r.results}},
                      "problems": r.problems, "ok": r.ok}}))
"""


def _pack(database, reports, cache, notebook, customers, *, limit=None) -> dict:
    """Run a pack in a process of its own (under a file-size limit of `limit` bytes)."""

    def limited():
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    script = reports.parent / "pack.py"
    script.write_text(PACK.format(month=MONTH))
    done = subprocess.run(
        [sys.executable, str(script), str(database), str(reports), str(cache), str(notebook)]
        + customers,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _big_page_for(customer: str, folder: Path, size: int) -> Path:
    """A scorecard whose page for `customer` is `size` characters, the others' a few."""
    source = f"print('x' * ({size} if customer_id == {customer!r} else 10))"
    return write_notebook(folder / "big.ipynb", source)


def test_pages_over_a_file_size_limit_fail_with_path_and_reason_and_the_rest_is_written(
    database, cache, customers, tmp_path
):
    small, big = customers
    notebook = _big_page_for(big, tmp_path, 3_000_000)
    reports = tmp_path / "reports"
    got = _pack(database, reports, cache, notebook, customers, limit=30_000)
    status = got["status"]
    assert status[small] == ["ok", ""]
    assert status[big][0] == "failed"
    assert f"{reports / MONTH / 'customers' / big}.ipynb: File too large" in status[big][1]
    assert "NotJSONError" not in json.dumps(got)
    # the workbook (openpyxl's temporary sheets) is over the limit too: named, not a traceback
    (problem,) = got["problems"]
    assert f"{reports / MONTH / 'pack.xlsx'}: File too large" in problem
    assert got["ok"] is False  # the command line exits 1
    written = {p.name for p in (reports / MONTH).iterdir()}
    assert {"index.html", "run-log.json", "run.log", "pack.json"} <= written
    assert not any(name.startswith(".tmp-") for name in written)
    log = json.loads((reports / MONTH / "run-log.json").read_text())
    assert {r["key"]: r["status"] for r in log["results"]}[small] == "ok"
    pack = json.loads((reports / MONTH / "pack.json").read_text())
    assert {c["customer_id"] for c in pack["customers"]} == set(customers)


@pytest.fixture
def mounted(tmp_path):
    """Mount helper: mount(args, folder) or skip when this user may not mount."""
    mounts: list[Path] = []

    def mount(args: list[str], folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", *args, str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount here: {done.stderr.strip()}")
        mounts.append(folder)
        return folder

    yield mount
    for folder in reversed(mounts):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_while_pages_are_written_fails_those_customers_with_the_disk_error(
    database, cache, customers, tmp_path, mounted
):
    small, big = customers
    reports = mounted(["-t", "tmpfs", "-o", "size=2m", "tmpfs"], tmp_path / "reports")
    notebook = _big_page_for(big, tmp_path, 3_000_000)
    got = _pack(database, reports, cache, notebook, customers)
    status = got["status"]
    assert status[small] == ["ok", ""]
    assert status[big][0] == "failed" and "No space left on device" in status[big][1]
    assert str(reports / MONTH) in status[big][1]
    assert "NotJSONError" not in json.dumps(got)
    written = {p.name for p in (reports / MONTH).iterdir()}
    assert {"index.html", "run-log.json", "pack.json", "pack.xlsx"} <= written


def test_a_read_only_cache_folder_is_read_and_a_write_to_it_names_the_folder(
    database, cache, customers, tmp_path, mounted
):
    from kamlab.pack import PackError, build_pack

    readonly = mounted(["--bind", str(cache)], tmp_path / "ro")
    done = subprocess.run(["mount", "-o", "remount,ro,bind", str(readonly)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot remount read-only here")
    notebook = write_notebook(tmp_path / "nb.ipynb", "print(customer_id)")
    chain.cache._MEMORY.clear()  # read from the read-only folder, as a new pack would
    result = build_pack(
        MONTH,
        customers=customers[:1],
        workers=1,
        source=database,
        reports_dir=tmp_path / "reports",
        cache_dir=readonly,
        notebook=notebook,
        progress=False,
    )
    assert result.ok, result
    # other settings: their resolved-settings file cannot be written there
    config = tmp_path / "kamlab.toml"
    config.write_text("[forecast]\nhorizon = 6\n")
    with pytest.raises(PackError, match=f"cannot write to the cache folder '{readonly}'"):
        build_pack(
            MONTH,
            source=database,
            settings_path=config,
            reports_dir=tmp_path / "reports",
            cache_dir=readonly,
            progress=False,
        )
