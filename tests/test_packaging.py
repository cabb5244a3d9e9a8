"""The project's own files agree with each other: environment.yml mirrors pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# PyPI name -> conda-forge name(s) where they differ
_CONDA_NAMES = {"dask[distributed]": ["dask", "distributed"]}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0].lower()


def test_environment_yml_lists_every_runtime_and_dev_dependency_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set()
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        wanted.update(_CONDA_NAMES.get(_name(req), [_name(req)]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {_name(dep) for dep in env["dependencies"] if isinstance(dep, str)}
    assert wanted - listed == set(), f"missing from environment.yml: {sorted(wanted - listed)}"
    extra = listed - wanted - {"python", "pip"}
    assert extra == set(), f"in environment.yml but not in pyproject.toml: {sorted(extra)}"
