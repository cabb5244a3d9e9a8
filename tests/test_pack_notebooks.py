"""The analyst's path: the notebooks run from JupyterLab started in a project folder.

JupyterLab starts a notebook's kernel in the notebook's folder (``notebooks/``), not the
project root, so the database is found from the project root; and ``papermill -p`` turns a
customer id of digits into a number, dropping its leading zeros. Both run here for real:
the papermill command line, a real kernel, a project folder laid out like the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from pack_support import MONTH, build_demo_database

from kamlab import chain
from kamlab.pack.runner import NOTEBOOKS
from kamlab.scorecard import ScorecardError, open_scorecard

ROOT = Path(__file__).resolve().parents[1]
PAPERMILL = Path(sys.executable).with_name("papermill")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder: kamlab.toml at the top, data/kam.duckdb, the notebooks in notebooks/."""
    root = tmp_path_factory.mktemp("project")
    database = build_demo_database(tmp_path_factory.mktemp("build"))
    (root / "data").mkdir()
    shutil.copy(database, root / "data" / "kam.duckdb")
    (root / "kamlab.toml").write_text("[pack]\nworkers = 1\n")
    (root / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "explore.ipynb", root / "notebooks")
    shutil.copy(NOTEBOOKS / "scorecard.ipynb", root / "notebooks")
    return root


def _papermill(project: Path, notebook: str, *parameters: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAMLAB_")}
    env["PYTHONPATH"] = str(ROOT)  # the kernel imports this checkout's kamlab
    folder = project / "notebooks"
    return subprocess.run(
        [str(PAPERMILL), notebook, f"out-{notebook}", "--cwd", str(folder), "-k", "python3"]
        + ["--no-progress-bar", *parameters],
        cwd=folder,  # as JupyterLab would: the kernel's working directory is notebooks/
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.skipif(not PAPERMILL.exists(), reason="papermill command not installed")
def test_explore_runs_with_the_kernel_in_notebooks_and_the_database_at_the_project_root(
    project,
):
    run = _papermill(project, "explore.ipynb", "-p", "month", MONTH)
    assert run.returncode == 0, run.stderr[-3000:]
    nb = nbformat.read(project / "notebooks" / "out-explore.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []


@pytest.mark.skipif(not PAPERMILL.exists(), reason="papermill command not installed")
def test_a_customer_id_passed_with_p_keeps_its_leading_zeros(project):
    customer = chain.load_analytics(
        project / "data" / "kam.duckdb", MONTH, cache_dir=None
    ).customer_ids()[1]
    assert customer.startswith("0") and customer.isdigit()
    run = _papermill(
        project, "scorecard.ipynb", "-p", "customer_id", customer, "-p", "month", MONTH
    )
    assert run.returncode == 0, run.stderr[-3000:]
    nb = nbformat.read(project / "notebooks" / "out-scorecard.ipynb", as_version=4)
    text = "".join(
        str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", [])
    )
    assert f"({customer})" in text  # the header names the customer with its zeros


def test_a_number_that_matches_no_customer_says_how_to_pass_the_id(project, monkeypatch):
    monkeypatch.delenv("KAMLAB_DATABASE", raising=False)
    monkeypatch.chdir(project / "notebooks")
    with pytest.raises(ScorecardError, match=r"papermill -r customer_id"):
        open_scorecard(424242, MONTH, options={"cache_dir": None})
