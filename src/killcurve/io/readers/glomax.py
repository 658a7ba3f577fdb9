"""``promega_glomax``: Promega GloMax Navigator / Discover xlsx exports.

The workbook has a protocol sheet (``Instrument:``, ``Serial Number:``,
``Software Ver:``, ``Execution Date:``, ``Plate Type:``), a ``Results`` sheet
and a long ``Results By Well`` sheet (not read: it repeats the matrices). In
``Results`` every measurement step is a title cell such as
``Luminescence, Kinetics`` followed by its settings and, per reading, a row
``Reading: n`` that also carries the ``1…12`` column header of the matrix
under it (row letters one column left of the ``1``).

Read name: the measurement and its step number among steps of that kind,
``Luminescence 1``, ``Luminescence 2`` (dual-luciferase: firefly after
injector 1, Renilla after injector 2); `` reading n`` is appended when a step
has several readings. One plate per file. Position-less cells (no ``r``
attribute, as the GloMax writer produces) are placed by order, which the
xlsx reader handles.
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.io.readers.matrix import find_header, read_matrix
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import Record, build_export, rename_keys
from killcurve.io.readers.sheets import Sheets, key_values, read_sheets

FORMAT = "promega_glomax"

_STEP = re.compile(r"^(Luminescence|Fluorescence|Absorbance|BRET|FRET|Filter Luminescence)\b")
_METADATA = {
    "Instrument": "instrument",
    "Serial Number": "serial_number",
    "Software Ver": "software_version",
    "Execution Date": "read_date",
    "Plate Type": "plate_type",
    "Executed by": "user",
}


def looks_like(sheets: Sheets) -> bool:
    """GloMax: a ``Results`` sheet and a cell naming a GloMax instrument."""
    return "Results" in sheets and any(
        "GloMax" in cell for rows in sheets.values() for row in rows[:20] for cell in row
    )


def read_glomax(path: Path) -> PlateExport:
    """Read a GloMax xlsx export: every reading of every measurement step in ``Results``."""
    path = Path(path)
    sheets = read_sheets(path)
    rows = sheets.get("Results", [])
    records: list[Record] = []
    counts: dict[str, int] = {}
    step = ""
    index = 0
    while index < len(rows):
        cells = rows[index]
        title = _STEP.match(cells[0].strip()) if cells else None
        if title:
            kind = title.group(1)
            counts[kind] = counts.get(kind, 0) + 1
            step = f"{kind} {counts[kind]}"
        header = find_header(cells) if step else None
        if header is None:
            index += 1
            continue
        reading = _reading(cells, header[0])
        read = step if reading == "1" else f"{step} reading {reading}"
        grid, index = read_matrix(rows, index, *header)
        records.extend((1, read, row, col, raw) for row, col, raw in grid)
    protocol = next(iter(sheets.values()), [])
    metadata = {"software": "GloMax", **rename_keys(key_values(protocol), _METADATA)}
    return build_export(path, FORMAT, records, metadata, "The 'Results' sheet holds no matrix.")


def _reading(cells: list[str], corner: int) -> str:
    """The ``n`` of a ``Reading: n`` cell left of the matrix corner (``"1"`` if absent).

    >>> _reading(["", "Reading:", "", "2", "", "1", "2", "3"], 4)
    '2'
    """
    before = [c.strip() for c in cells[:corner]]
    if "Reading:" not in before:
        return "1"
    return next((c for c in before[before.index("Reading:") + 1 :] if c), "1")
