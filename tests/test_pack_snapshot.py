"""One database per pack: an ingest that replaces the database while a pack runs changes the
next pack, never this one (issue #27, fault 2). The real pack in a process of its own, the
real ingest in this one."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pack_support import MONTH, build_demo_database

from kamlab import chain
from kamlab.data import store
from kamlab.data.demo import write_demo
from kamlab.data.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]


def test_an_ingest_during_a_pack_does_not_mix_two_datasets(tmp_path):
    database = build_demo_database(tmp_path / "old", customers=4, seed=1)
    old_bytes = database.read_bytes()
    fingerprint = hashlib.sha256(old_bytes).hexdigest()[:16]
    old = store.load(database, tables=["customers"]).customers.set_index("customer_id")
    # the next month's extracts: every account renamed (and other orders, seed 2)
    write_demo(tmp_path / "new", customers=4, materials=30, months=30, end=MONTH, seed=2)
    masters = tmp_path / "new" / "customers.csv"
    with masters.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["name"] = f"Renamed Account {row['customer_id']}"
    with masters.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    cache, reports = tmp_path / "cache", tmp_path / "reports"
    chain.load_analytics(database, MONTH, cache_dir=cache)  # the pack starts at its kernels
    argv = [sys.executable, "-m", "kamlab", "pack", "--month", MONTH, "--workers", "1"]
    argv += ["--source", str(database), "--reports", str(reports)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KAMLAB_CACHE": str(cache)}
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    pages = reports / MONTH / "customers"
    deadline = time.monotonic() + 300
    while not list(pages.glob("*.html")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    ingest(tmp_path / "new", database)  # replaces the file the pack started with
    assert database.read_bytes() != old_bytes
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    written = sorted(pages.glob("*.html"))
    assert len(written) == 4
    new = store.load(database, tables=["customers"]).customers.set_index("customer_id")
    changed = [c for c in old.index if c in new.index and old.at[c, "name"] != new.at[c, "name"]]
    assert changed  # the new data would show on the pages
    for page in written:
        text = page.read_text(encoding="utf-8")
        assert f"database {fingerprint}" in text, page.name  # the footer names the data
    for c in changed:
        text = next(p for p in written if p.stem.endswith(c) or c in p.stem).read_text()
        text = html.unescape(text)
        assert old.at[c, "name"] in text and new.at[c, "name"] not in text
    pack = json.loads((reports / MONTH / "pack.json").read_text())
    assert pack["database"] == {"path": str(database), "fingerprint": fingerprint}
    log = json.loads((reports / MONTH / "run-log.json").read_text())
    assert log["database_fingerprint"] == fingerprint
    assert len(list(cache.glob("analytics-*"))) == 1  # the kernels read the pack's entry
    assert not [p for p in database.parent.iterdir() if ".pack-" in p.name]  # released
