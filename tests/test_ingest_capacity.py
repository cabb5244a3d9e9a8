"""A capacity row names a material or a product family: both or neither is refused by
ingest (table, column, rule, rows; exit 2), never a traceback in every later pack (#27, fault 3)."""

from __future__ import annotations

import pytest

from kamlab.cli import main
from kamlab.data.demo import write_demo


@pytest.mark.parametrize("family", ["fasteners", ""], ids=["both", "neither"])
def test_a_capacity_row_naming_both_or_neither_is_refused_by_ingest(family, tmp_path, capsys):
    extracts = tmp_path / "extracts"
    write_demo(extracts, customers=2, materials=10, months=14, end="2025-06", seed=1)
    capacity = extracts / "capacity.csv"
    header, first, *rest = capacity.read_text().splitlines()
    assert header.startswith("material_id,product_family,")
    material, _, *others = first.split(",")
    broken = ",".join([material if family else "", family, *others])
    capacity.write_text("\n".join([header, first, broken, *rest]) + "\n")
    database = tmp_path / "kam.duckdb"
    assert main(["ingest", str(extracts), "--database", str(database)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and not database.exists()
    assert "capacity" in err and "material_id" in err
    assert "a material or a product family, not both nor neither" in err
    assert "line 3: " in err  # the broken row, by its line in the file
