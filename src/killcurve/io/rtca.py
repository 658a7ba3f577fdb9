"""Agilent xCELLigence RTCA Excel exports: the cell-index time course and the plate layout.

An RTCA export (``RTCA Software → Export → Excel``) is one workbook per plate:

* ``Cover`` — ``Key: | value`` rows (``Created By``, ``Creation Date``, ``File Name``, ``Exp ID``).
* ``Layout`` — an 8 × 12 grid (header row ``1 … 12``, first column ``A … H``); each cell holds
  one line per item the user entered, written ``Name(amount)``: ``PBT1(0)``, ``IL13(2500)``,
  ``Drug(100.00pg/ml)``. RTCA Pro writes it as a long table instead, one row per well
  (``Well ID, Cell-Type, Cell-Number, Compound Name, Concentration, Unit``): read as the
  same items, ``A549(0)`` and ``8H3_cAb(100mM)``.
* ``Cell Index`` — one block per sweep: a header cell ``Cell Index at: h:mm:ss`` (hours since the
  first sweep, which may exceed 24), the column-number row, then rows ``A … H``.

The cell index (CI, dimensionless) is the instrument's ``(Z_t − Z_0)/15 Ω`` impedance change
against the background sweep, so the first sweep is 0 in every well. ``Well Graph`` and
``Data Analysis-Curve`` are views of the same numbers and are not read.

:func:`read_rtca` returns the tidy time course (one row per well and sweep) with each well's
layout text; the samplesheet format ``xcelligence_rtca``
(:mod:`killcurve.io.readers.rtca_export`) gives it as a kinetic read. A study's layout is its
wellmap file, as for every plate; the Layout sheet's items are kept for reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.cells import classify
from killcurve.io.readers.sheets import key_values, read_sheets
from killcurve.plate import split_well

#: Sheets an RTCA export must have.
SHEETS = ("Layout", "Cell Index")

_SWEEP = re.compile(r"^Cell Index at:\s*(\d+):(\d{1,2}):(\d{1,2})\s*$")
_ITEM = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<amount>[^()]*)\)$")


@dataclass(frozen=True)
class RtcaExport:
    """What :func:`read_rtca` found in one workbook.

    ``data``: one row per well and sweep — ``sweep`` (Int32, 1-based order in the file),
    ``time_h`` (Float64, hours since the first sweep, from the block header), ``well``
    (``A1``), ``row`` (``A``), ``col`` (Int32), ``cell_index`` (Float64, null when the cell is
    not a number), ``flag`` (null, ``empty`` or ``not_numeric``) and ``annotation`` (the well's
    Layout text, items joined by ``"; "``).
    ``layout``: one row per well — ``well``, ``row``, ``col``, ``annotation`` and ``items``
    (list of ``{name, amount}`` structs, ``amount`` as written, null if absent).
    ``metadata``: the Cover sheet's key/value pairs.
    """

    data: pl.DataFrame
    layout: pl.DataFrame
    metadata: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def sweep_hours(header: str) -> float | None:
    """Hours since the first sweep from a block header; None when ``header`` is not one.

    >>> sweep_hours("Cell Index at: 23:48:00"), sweep_hours("Cell Index at: 0:15:17")
    (23.8, 0.25472222222222224)
    >>> sweep_hours("Layout") is None
    True
    """
    match = _SWEEP.match(header.strip())
    if match is None:
        return None
    hours, minutes, seconds = (int(g) for g in match.groups())
    return hours + minutes / 60 + seconds / 3600


def parse_items(text: str) -> list[dict[str, str | None]]:
    """Items of one Layout cell: one ``{name, amount}`` per line written ``Name(amount)``.

    A line without parentheses is an item with no amount.

    >>> parse_items("PBT1(0)\\nIL13(2500)\\n")
    [{'name': 'PBT1', 'amount': '0'}, {'name': 'IL13', 'amount': '2500'}]
    >>> parse_items("Drug(100.00pg/ml)")
    [{'name': 'Drug', 'amount': '100.00pg/ml'}]
    >>> parse_items("medium only")
    [{'name': 'medium only', 'amount': None}]
    """
    items: list[dict[str, str | None]] = []
    for line in (part.strip() for part in text.splitlines()):
        if not line:
            continue
        match = _ITEM.match(line)
        if match is None:
            items.append({"name": line, "amount": None})
        else:
            items.append({"name": match["name"].strip(), "amount": match["amount"].strip()})
    return items


def _grid_header(row: list[str]) -> list[int] | None:
    """Column numbers of a ``| 1 | 2 | … |`` header row, or None."""
    cells = [c.strip() for c in row[1:]]
    while cells and not cells[-1]:
        cells.pop()
    if not cells or not all(c.isdigit() for c in cells):
        return None
    return [int(c) for c in cells]


#: Long-form Layout sheet (RTCA Pro): item name column -> the columns that make its amount.
_LONG_ITEMS = {"cell-type": ("cell-number",), "compound name": ("concentration", "unit")}


def _long_items(path: Path, rows: list[list[str]]) -> list[tuple[str, list[dict]]] | None:
    """(well, items) per row of a long ``Well ID, Cell-Type, Cell-Number, Compound Name,
    Concentration, Unit`` Layout sheet (RTCA Pro), or None when the sheet is a grid.

    Items: the cell type with its cell number as amount, the compound with concentration and
    unit run together (``100mM``), as the grid form writes them; empty names are left out.
    """
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if "well id" not in header:
        return None
    at = {name: header.index(name) for name in header if name}
    out = []
    for line_no, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row] + [""] * len(header)
        well = cells[at["well id"]]
        if not well:
            continue
        if split_well(well) is None:
            raise KillcurveInputError(
                f"{path} sheet 'Layout' row {line_no}: {well!r} is not a well (A1 … H12)."
            )
        items = [
            {"name": cells[at[name]], "amount": "".join(cells[at[a]] for a in amount if a in at)}
            for name, amount in _LONG_ITEMS.items()
            if name in at and cells[at[name]]
        ]
        out.append((well, [{**i, "amount": i["amount"] or None} for i in items]))
    return out


def _read_layout(path: Path, rows: list[list[str]]) -> pl.DataFrame:
    item = pl.Struct({"name": pl.String, "amount": pl.String})
    schema = {
        "well": pl.String,
        "row": pl.String,
        "col": pl.Int32,
        "annotation": pl.String,
        "items": pl.List(item),
    }
    long = _long_items(path, rows)
    if long is not None:
        return pl.DataFrame(
            [
                {
                    "well": f"{row}{col}",
                    "row": row,
                    "col": col,
                    "annotation": _annotation(items),
                    "items": items,
                }
                for well, items in long
                for row, col in [split_well(well)]  # type: ignore[misc]
            ],
            schema=schema,
        )
    cols = _grid_header(rows[0]) if rows else None
    if cols is None:
        raise KillcurveInputError(
            f"{path}: sheet 'Layout' is neither an 8 × 12 grid starting with the column-number "
            "row (| 1 | 2 | … |) nor a 'Well ID, Cell-Type, …' table. Export the plate again "
            "from the RTCA software with the layout included."
        )
    records = []
    for row in rows[1:]:
        label = row[0].strip()
        if not label:
            continue
        for col, text in zip(cols, row[1:], strict=False):
            items = parse_items(text)
            records.append(
                {
                    "well": f"{label}{col}",
                    "row": label,
                    "col": col,
                    "annotation": _annotation(items),
                    "items": items,
                }
            )
    return pl.DataFrame(records, schema=schema)


def _annotation(items: list[dict[str, str | None]]) -> str:
    """Items as the grid Layout writes them, ``Name(amount)`` joined by ``; ``."""
    return "; ".join(
        str(i["name"]) if i["amount"] is None else f"{i['name']}({i['amount']})" for i in items
    )


def _read_cell_index(path: Path, rows: list[list[str]]) -> pl.DataFrame:
    sweeps: list[int] = []
    times: list[float] = []
    labels: list[str] = []
    cols: list[int] = []
    raws: list[str] = []
    sweep, time_h, header = 0, None, None
    for line_no, row in enumerate(rows, start=1):
        first = row[0].strip() if row else ""
        hours = sweep_hours(first) if first else None
        if hours is not None:
            sweep, time_h, header = sweep + 1, hours, None
            continue
        if time_h is None:
            if first or any(c.strip() for c in row):
                raise KillcurveInputError(
                    f"{path} sheet 'Cell Index' row {line_no}: expected a block header "
                    f"'Cell Index at: h:mm:ss', found {first!r}. Export the cell index from "
                    "the RTCA software without editing the sheet."
                )
            continue
        if header is None:
            header = _grid_header(row)
            if header is None and any(c.strip() for c in row):
                raise KillcurveInputError(
                    f"{path} sheet 'Cell Index' row {line_no}: the block 'Cell Index at' "
                    f"sweep {sweep} has no column-number row (| 1 | 2 | … |)."
                )
            continue
        if not first:
            continue
        if split_well(f"{first}1") is None:
            raise KillcurveInputError(
                f"{path} sheet 'Cell Index' row {line_no}: {first!r} is not a plate row letter."
            )
        for col, raw in zip(header, row[1:], strict=False):
            sweeps.append(sweep)
            times.append(time_h)
            labels.append(first)
            cols.append(col)
            raws.append(raw)
    if not sweeps:
        raise KillcurveInputError(
            f"{path}: sheet 'Cell Index' holds no 'Cell Index at: h:mm:ss' block. "
            "Export the cell index from the RTCA software."
        )
    parsed = [classify(r) for r in raws]
    return pl.DataFrame(
        {
            "sweep": sweeps,
            "time_h": times,
            "well": [f"{r}{c}" for r, c in zip(labels, cols, strict=True)],
            "row": labels,
            "col": cols,
            "cell_index": [p[0] for p in parsed],
            "flag": [p[1] for p in parsed],
        },
        schema={
            "sweep": pl.Int32,
            "time_h": pl.Float64,
            "well": pl.String,
            "row": pl.String,
            "col": pl.Int32,
            "cell_index": pl.Float64,
            "flag": pl.String,
        },
    )


def read_rtca(path: Path) -> RtcaExport:
    """Read an xCELLigence RTCA Excel export: cell index per well and sweep, layout, cover.

    Stops with a message naming the file when a required sheet is missing or a block is
    malformed. Sweep times must increase through the file.
    """
    path = Path(path)
    sheets = read_sheets(path)
    missing = [s for s in SHEETS if s not in sheets]
    if missing:
        raise KillcurveInputError(
            f"{path}: not an RTCA export — sheet(s) {', '.join(missing)} missing "
            f"(sheets: {', '.join(sheets)}). Export the plate from the RTCA software "
            "(Export → Excel) with the layout and cell index."
        )
    layout = _read_layout(path, sheets["Layout"])
    data = _read_cell_index(path, sheets["Cell Index"])
    times = data.group_by("sweep").agg(pl.col("time_h").first()).sort("sweep")["time_h"]
    if (times.diff().drop_nulls() <= 0).any():
        raise KillcurveInputError(
            f"{path}: sheet 'Cell Index' sweep times do not increase. Export the plate again."
        )
    data = data.join(layout.select("well", "annotation"), on="well", how="left")
    return RtcaExport(data, layout, key_values(sheets.get("Cover", [])), path)
