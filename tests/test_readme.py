"""The README's library example runs as written (on a small demo database instead of data/)."""

import re
from pathlib import Path

from kamlab.data.demo import write_demo
from kamlab.data.ingest import ingest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs_on_a_small_demo_database(tmp_path):
    write_demo(tmp_path / "extracts", customers=3, materials=20, months=24, end="2026-10", seed=3)
    database = tmp_path / "kam.duckdb"
    ingest(tmp_path / "extracts", database)
    example = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert example is not None, "README has no python example"
    code = example.group(1)
    assert '"data/kam.duckdb"' in code
    namespace: dict = {}
    exec(code.replace('"data/kam.duckdb"', repr(str(database))), namespace)
    assert len(namespace["fc"]) and len(namespace["aged"])
