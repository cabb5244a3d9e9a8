"""The project's own files agree with each other and with the code.

environment.yml mirrors pyproject.toml; every third-party module kamlab imports is declared;
papermill finds the warm-kernel engine through its entry point (nothing registered at import);
nothing changes the process umask; each notebook has one home; tests find the public data
sets relative to the repository.
"""

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

# PyPI name -> conda-forge name(s) where they differ
_CONDA_NAMES = {"dask[distributed]": ["dask", "distributed"], "jupyter-core": ["jupyter_core"]}
# import name -> the distribution that provides it, where they differ
_DISTRIBUTION = {
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "distributed": "dask[distributed]",
    "jupyter_core": "jupyter-core",
    "yaml": "pyyaml",
    "websocket": "websocket-client",
    "bs4": "beautifulsoup4",
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;]", requirement, maxsplit=1)[0].lower()


def _imports(folder: Path) -> set[str]:
    """Top-level modules imported by the .py files under `folder` (absolute imports only)."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"kamlab", "__future__"}


def test_environment_yml_lists_every_runtime_and_dev_dependency_of_pyproject():
    wanted = set()
    for req in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]:
        wanted.update(_CONDA_NAMES.get(_name(req), [_name(req)]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {_name(dep) for dep in env["dependencies"] if isinstance(dep, str)}
    assert wanted - listed == set(), f"missing from environment.yml: {sorted(wanted - listed)}"
    extra = listed - wanted - {"python", "pip"}
    assert extra == set(), f"in environment.yml but not in pyproject.toml: {sorted(extra)}"


def test_every_module_kamlab_imports_is_a_declared_dependency():
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    undeclared = {
        m for m in _imports(ROOT / "kamlab") if _DISTRIBUTION.get(m, m).lower() not in runtime
    }
    assert undeclared == set(), f"imported by kamlab/ but not in dependencies: {undeclared}"
    extras = PROJECT["optional-dependencies"]
    dev = runtime | {_name(r) for r in extras["dev"] + extras["bench"]}  # bench: importorskip
    local = {p.stem for p in (ROOT / "tests").glob("*.py")}
    undeclared = {
        m for m in _imports(ROOT / "tests") - local if _DISTRIBUTION.get(m, m).lower() not in dev
    }
    assert undeclared == set(), f"imported by tests/ but not in dev/bench extras: {undeclared}"


def test_papermill_is_pinned_to_the_major_version_the_warm_engine_subclasses():
    papermill = next(r for r in PROJECT["dependencies"] if _name(r) == "papermill")
    assert re.search(r"<\s*3\b", papermill), papermill


def test_the_warm_engine_is_registered_through_papermills_entry_point_not_at_import():
    declared = PROJECT["entry-points"]["papermill.engine"]
    assert declared == {"kamlab-warm": "kamlab.pack.entry:warm_engine"}
    from kamlab.pack.kernels import ENGINE_NAME, WarmEngine

    assert ENGINE_NAME in declared
    module, _, attr = declared[ENGINE_NAME].partition(":")
    entry = getattr(__import__(module, fromlist=[attr]), attr)
    assert entry.execute_notebook == WarmEngine.execute_notebook  # stands in for the class
    # importing kamlab.pack in a fresh process leaves papermill's registry alone
    code = (
        "import kamlab.pack.kernels, papermill.engines as e, importlib.metadata as m\n"
        "installed = {p.name for p in m.entry_points(group='papermill.engine')}\n"
        "print('kamlab-warm' in e.papermill_engines._engines, 'kamlab-warm' in installed)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    registered, installed = (word == "True" for word in out)
    assert registered == installed  # only the entry point registers it
    if any(p.name == "kamlab-warm" for p in entry_points(group="papermill.engine")):
        loaded = entry_points(group="papermill.engine")["kamlab-warm"].load()
        assert loaded.execute_managed_notebook == WarmEngine.execute_managed_notebook


def test_nothing_changes_the_process_umask():
    offenders = [p for p in (ROOT / "kamlab").rglob("*.py") if "umask(" in p.read_text()]
    assert offenders == []


def test_each_notebook_has_one_home_and_no_symlinks():
    folders = [ROOT / "notebooks", ROOT / "kamlab" / "notebooks"]
    assert not any(f.is_symlink() for f in folders)
    names = [p.name for f in folders for p in f.glob("*.ipynb")]
    assert len(names) == len(set(names)), sorted(names)
    assert {"scorecard.ipynb", "portfolio.ipynb"} <= {
        p.name for p in (ROOT / "kamlab" / "notebooks").glob("*.ipynb")
    }, "the pack runs these: they ship as package data"
    assert "kamlab" in PROJECT.get("name", "")
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "notebooks/*.ipynb" in data["package-data"]["kamlab"]


def test_tests_and_benchmarks_find_public_data_relative_to_the_repository():
    absolute = [
        p.relative_to(ROOT)
        for folder in ("tests", "benchmarks")
        for p in (ROOT / folder).glob("*.py")
        if re.search(r"""["']/work/shared""", p.read_text())
    ]
    assert absolute == []


def test_the_shared_data_fixture_points_beside_the_repository(request):
    from conftest import SHARED_DATA

    assert SHARED_DATA == ROOT.parent / "shared" / "data"
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data sets not found at {SHARED_DATA}")
    assert request.getfixturevalue("shared_data") == SHARED_DATA
    assert (SHARED_DATA / "README.md").is_file()
