"""Small demo databases and helpers shared by the scorecard and pack tests."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import v4

MONTH = "2025-06"


def build_demo_database(directory: Path, *, customers: int = 3, seed: int = 1) -> Path:
    """A small demo DuckDB (seeded, history to :data:`MONTH`) built by the real ingest."""
    from kamlab.data.demo import write_demo
    from kamlab.data.ingest import ingest

    extracts = directory / "extracts"
    write_demo(extracts, customers=customers, materials=30, months=30, end=MONTH, seed=seed)
    database = directory / "kam.duckdb"
    ingest(extracts, database)
    return database


def write_notebook(path: Path, *sources: str) -> Path:
    """A tiny notebook: a tagged parameters cell (customer_id, month, source, options), then `sources`."""
    nb = v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    params = v4.new_code_cell("customer_id = None\nmonth = None\nsource = None\noptions = {}")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *[v4.new_code_cell(s) for s in sources]]
    nbformat.write(nb, path)
    return path


def outputs(nb: nbformat.NotebookNode) -> list:
    """What a reader sees of an executed notebook: per code cell its count and outputs."""
    seen = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            outs = [
                {k: v for k, v in o.items() if k != "metadata"} for o in cell.get("outputs", [])
            ]
            seen.append((cell.get("execution_count"), outs))
    return seen
