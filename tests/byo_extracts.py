"""Small header + lines extract sets for the worked mappings in ``docs/byo/`` (issue 23).

Written here, by hand-sized seeded generators, in the shape of the systems they stand for:

- :func:`write_erp`: a generic ERP export, ISO dates, ``.`` decimals, comma separated:
  ``order_header.csv``, ``order_lines.csv`` (price, quantity, discount, ship date), the
  item master ``items.csv`` with its ``categories.csv`` lookup, ``customer_master.csv``;
- :func:`write_sap`: SE16N downloads from a German SAP system, ``;`` separated, dates
  ``YYYYMMDD``, numbers ``1.234,50`` with negatives ``125,00-``, ids with leading zeros:
  ``VBAK.csv`` / ``VBAP.csv`` (sales order header / items), ``VBRK.csv`` (billing headers,
  credit memos negative), ``MARA.csv`` + ``MAKT.csv`` (material, descriptions by language),
  ``KNA1.csv`` (customer master).

Both return the line facts a test checks against (:class:`Truth`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

END = "2025-06"  # last month of the examples' history
MONTHS = 18


@dataclass(frozen=True)
class Truth:
    """What the extracts hold, worked out here independently of kamlab."""

    order_lines: int  # lines of all orders
    net_value: float  # sum of price x quantity x (1 - discount) over the lines, 2 decimals each
    shipped_lines: int  # lines with a ship date (deliveries)
    invoices: int
    credit_notes: int


def _orders(seed: int, customers: list[str], materials: list[str]):
    """One row per order line: (order, line, customer, material, order date, qty, price,
    discount, shipped date or NaT, cancelled)."""
    rng = np.random.default_rng(seed)
    end = pd.Period(END, "M")
    rows = []
    number = 0
    for month in pd.period_range(end - MONTHS + 1, end, freq="M"):
        for customer in customers:
            number += 1
            day = month.to_timestamp() + pd.Timedelta(days=int(rng.integers(0, 20)))
            for line, material in enumerate(rng.choice(materials, 3, replace=False), start=1):
                qty = float(rng.integers(1, 20) * 10)  # so that value has whole cents:
                price = round(float(rng.uniform(8, 1500)), 2)  # no half cent to round
                discount = float(rng.choice([0.0, 0.0, 0.1, 0.2]))
                cancelled = bool(rng.random() < 0.05)
                requested = day + pd.Timedelta(days=14)
                open_line = month == end and line == 1
                shipped = (
                    pd.NaT
                    if cancelled or open_line
                    else requested + pd.Timedelta(days=int(rng.integers(-3, 6)))
                )
                rows.append(
                    (number, line, customer, material, day, requested, qty, price, discount)
                    + (shipped, cancelled)
                )
    columns = ["order", "line", "customer", "material", "order_date", "requested", "qty"]
    columns += ["price", "discount", "shipped", "cancelled"]
    return pd.DataFrame(rows, columns=columns)


def write_erp(folder: Path, *, seed: int = 3) -> Truth:
    """A generic ERP's order header + lines, item master with category lookup, customers."""
    folder.mkdir(parents=True, exist_ok=True)
    customers = ["C-001", "C-002", "C-003", "C-004"]
    materials = [f"ITEM-{i:03d}" for i in range(1, 9)]
    lines = _orders(seed, customers, materials)
    header = lines.drop_duplicates("order")
    pd.DataFrame(
        {
            "order_no": header["order"],
            "customer": header["customer"],
            "order_date": header["order_date"].dt.strftime("%Y-%m-%d"),
            "currency": "EUR",
        }
    ).to_csv(folder / "order_header.csv", index=False)
    pd.DataFrame(
        {
            "order_no": lines["order"],
            "line_no": lines["line"],
            "item": lines["material"],
            "qty": lines["qty"].map("{:g}".format),
            "unit_price": lines["price"].map("{:.2f}".format),
            "discount": lines["discount"].map(lambda d: f"{d:g}" if d else ""),
            "requested_date": lines["requested"].dt.strftime("%Y-%m-%d"),
            "ship_date": lines["shipped"].dt.strftime("%Y-%m-%d"),
            "cancelled": lines["cancelled"].map({True: "Y", False: ""}),
        }
    ).to_csv(folder / "order_lines.csv", index=False)
    pd.DataFrame(
        {
            "item": materials,
            "description": [f"Part {m[-3:]}" for m in materials],
            "category_id": [1 + i % 3 for i in range(len(materials))],
        }
    ).to_csv(folder / "items.csv", index=False)
    pd.DataFrame({"category_id": [1, 2, 3], "category_name": ["Valves", "Pumps", "Seals"]}).to_csv(
        folder / "categories.csv", index=False
    )
    pd.DataFrame(
        {
            "cust_no": customers,
            "cust_name": ["Alpha GmbH", "Beta SpA", "Gamma Ltd", "Delta AG"],
            "sales_rep": ["Ann", "Ann", "Bob", "Bob"],
            "region": ["DE", "IT", "UK", "DE"],
            "industry": ["automotive", "food", "energy", "automotive"],
            "currency": "EUR",
        }
    ).to_csv(folder / "customer_master.csv", index=False)
    value = (lines["price"] * lines["qty"] * (1 - lines["discount"])).round(2)
    return Truth(
        len(lines), round(float(value.sum()), 2), int(lines["shipped"].notna().sum()), 0, 0
    )


def _sap_number(x: float, decimals: int = 2) -> str:
    """German SAP spelling: 1.234,50 and 125,00- for negatives."""
    text = f"{abs(x):,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return text + ("-" if x < 0 else "")


def write_sap(folder: Path, *, seed: int = 5) -> Truth:
    """VBAK/VBAP sales orders, VBRK billing documents, MARA/MAKT, KNA1 (German formats)."""
    folder.mkdir(parents=True, exist_ok=True)
    customers = [f"{100001 + i:010d}" for i in range(4)]
    materials = [f"{400001 + i:018d}" for i in range(8)]
    lines = _orders(seed, customers, materials)
    lines["vbeln"] = lines["order"].map(lambda n: f"{12000 + n:010d}")
    header = lines.drop_duplicates("order")
    ymd = "%Y%m%d"

    def write(name: str, frame: pd.DataFrame) -> None:
        frame.to_csv(folder / name, sep=";", index=False, encoding="cp1252")

    write(
        "VBAK.csv",
        pd.DataFrame(
            {
                "VBELN": header["vbeln"],
                "AUART": "TA",
                "KUNNR": header["customer"],
                "ERDAT": header["order_date"].dt.strftime(ymd),
                "VDATU": header["requested"].dt.strftime(ymd),
                "WAERK": "EUR",
            }
        ),
    )
    value = (lines["price"] * lines["qty"] * (1 - lines["discount"])).round(2)
    status = np.where(lines["shipped"].notna(), "C", "A")
    write(
        "VBAP.csv",
        pd.DataFrame(
            {
                "VBELN": lines["vbeln"],
                "POSNR": lines["line"].map(lambda n: f"{10 * n:06d}"),
                "MATNR": lines["material"],
                "KWMENG": lines["qty"].map(lambda q: _sap_number(q, 3)),
                "NETWR": value.map(_sap_number),
                "ABGRU": np.where(lines["cancelled"], "Z1", ""),  # reason for rejection
                "GBSTA": status,
            }
        ),
    )
    # billing: one invoice per order with shipped lines, every fifth followed by a credit memo
    billed = lines[lines["shipped"].notna()].assign(value=value)
    per_order = billed.groupby("vbeln").agg(
        customer=("customer", "first"), day=("shipped", "max"), net=("value", "sum")
    )
    docs = []
    for i, (vbeln, row) in enumerate(per_order.iterrows()):
        number = 90000000 + 2 * i
        docs.append((f"{number:010d}", "F2", row["customer"], row["day"], row["net"], vbeln))
        if i % 5 == 0:
            credit = -round(row["net"] * 0.1, 2)
            docs.append((f"{number + 1:010d}", "G2", row["customer"], row["day"], credit, vbeln))
    bills = pd.DataFrame(docs, columns=["VBELN", "FKART", "KUNAG", "FKDAT", "NETWR", "AUBEL"])
    write(
        "VBRK.csv",
        bills.assign(
            FKDAT=bills["FKDAT"].dt.strftime(ymd),
            NETWR=bills["NETWR"].map(_sap_number),
            ZBD1T="30",
            WAERK="EUR",
        ),
    )
    write(
        "MARA.csv",
        pd.DataFrame(
            {
                "MATNR": materials,
                "PRDHA": [f"0010{1 + i % 3}" for i in range(len(materials))],
                "MSTAV": ["", "", "", "", "", "", "Z1", "Z9"],
            }
        ),
    )
    write(
        "MAKT.csv",
        pd.DataFrame(
            {
                "MATNR": materials * 2,
                "SPRAS": ["D"] * len(materials) + ["E"] * len(materials),
                "MAKTX": [f"Ventil {i}" for i in range(len(materials))]
                + [f"Valve {i}" for i in range(len(materials))],
            }
        ),
    )
    write(
        "KNA1.csv",
        pd.DataFrame(
            {
                "KUNNR": customers,
                "NAME1": ["Müller Maschinenbau", "Rossi Impianti", "Schäfer Antriebe", "Weber AG"],
                "BZIRK": ["DE01", "IT01", "DE02", "DE01"],
                "BRSCH": ["MECH", "FOOD", "MECH", "ENER"],
                "WAERS": "EUR",
                "KAM": ["Anna Berg", "Anna Berg", "Luca Neri", "Luca Neri"],
            }
        ),
    )
    credit_notes = int((bills["FKART"] == "G2").sum())
    return Truth(
        len(lines),
        round(float(value.sum()), 2),
        int(lines["shipped"].notna().sum()),
        len(bills) - credit_notes,
        credit_notes,
    )
