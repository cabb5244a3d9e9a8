"""data/README.md is generated from the contract and cannot drift from it."""

from pathlib import Path

from kamlab.data import TABLES, contract_markdown
from kamlab.data.docs import readme_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_committed_data_readme_equals_the_generated_one():
    committed = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert committed == readme_markdown(), (
        "data/README.md is stale: run `python -m kamlab.data.docs > data/README.md`"
    )


def test_contract_markdown_documents_every_table_and_column():
    text = contract_markdown()
    for spec in TABLES.values():
        assert f"### `{spec.name}`" in text
        for column in spec.columns:
            assert f"| `{column.name}` |" in text
