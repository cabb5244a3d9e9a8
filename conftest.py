"""nbval runs the notebooks (``notebooks/`` and the pack's ``kamlab/notebooks/``) on a demo database.

Project-wide, so one definition serves both folders.

The notebooks' parameters default to ``source = None``, read from ``$KAMLAB_DATABASE``, and
to ``$KAMLAB_CACHE`` for the analytics cache; before the first notebook kernel starts, this
builds a seeded three-customer demo database in a temporary folder and points both there,
so the check never touches a real ``data/kam.duckdb`` and needs no network. Outputs are
committed cleared, so ``--nbval-lax`` checks that every cell runs without error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_READY: list[Path] = []


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".ipynb" and not _READY and _nbval(parent.config):
        _READY.append(_demo_database())
    return None


def _nbval(config) -> bool:
    return bool(config.getoption("nbval", False) or config.getoption("nbval_lax", False))


def _demo_database() -> Path:
    from kamlab.data.demo import write_demo
    from kamlab.data.ingest import ingest

    root = Path(tempfile.mkdtemp(prefix="kamlab-nbval-"))
    write_demo(root / "extracts", customers=3, materials=30, months=30, seed=1)
    database = root / "kam.duckdb"
    ingest(root / "extracts", database)
    os.environ["KAMLAB_DATABASE"] = str(database)
    os.environ["KAMLAB_CACHE"] = str(root / "cache")
    return database
