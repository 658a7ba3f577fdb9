"""``perkin_elmer_envision``: Revvity/PerkinElmer EnVision CSV exports.

Each plate/label starts with ``Plate information`` (a header line and a value
line: ``Plate``, ``Repeat``, ``Barcode``, … ``Label`` or, for calculations,
``Formula``), optionally ``Background information``, then a matrix:

- newer exports title it (``Results for <label> - channel 1 window 1
  (Counts)`` or ``Calculated results: …``) and give it a ``,01,02,…`` header
  and row letters;
- older exports print the bare numbers, one line per plate row, without
  title, header or letters (plate size from the line and field counts).

``plate_index`` numbers the distinct ``Plate`` values in order of
appearance. Read name: the title after ``Results for `` as written (e.g.
``AC HTRF Laser [Eu](1) - channel 1 window 1 (Counts)``), else the plate
information's ``Label`` (``Alexa-488(1)``); `` repeat N`` is appended for
plate repeats after the first. Skipped: ``Calculated results`` matrices and
untitled matrices under a ``Formula`` plate information (listed under
``skipped_blocks``); everything from ``Basic assay information`` on is
metadata (assay times, protocol, serial number).
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.matrix import GridCell, column_header, read_matrix
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import Record, build_export, join_names, rename_keys
from killcurve.io.readers.text import csv_rows, read_text
from killcurve.plate import PLATE_SHAPES, row_letter

FORMAT = "perkin_elmer_envision"

_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?([eE][+-]?\d+)?$")
_METADATA = {
    "Assay Started": "read_date",
    "Protocol Name": "protocol",
    "Serial#": "serial_number",
}


def looks_like(text: str) -> bool:
    """EnVision: the first line is ``Plate information``."""
    return text.lstrip().startswith("Plate information")


def read_envision(path: Path) -> PlateExport:
    """Read an EnVision CSV export: every measured label of every plate."""
    path = Path(path)
    rows = [[c.strip() for c in row] for row in csv_rows(read_text(path, allow_latin1=True))]
    records: list[Record] = []
    calculated: list[str] = []
    plates: dict[str, int] = {}
    barcodes: dict[str, str] = {}
    info: dict[str, str] = {}
    title: str | None = None
    index = 0
    while index < len(rows):
        cells = rows[index]
        first = cells[0] if cells else ""
        if first == "Basic assay information":
            break
        if first == "Plate information" and index + 2 < len(rows):
            info = dict(zip(rows[index + 1], rows[index + 2], strict=False))
            plates.setdefault(info.get("Plate", "1"), len(plates) + 1)
            barcodes.setdefault(info.get("Plate", "1"), _unquote(info.get("Barcode", "")))
            title, index = None, index + 3
            continue
        if first == "Background information":
            while index < len(rows) and any(rows[index]):
                index += 1
            continue
        if first.startswith(("Results for ", "Calculated results")):
            title = first
            index += 1
            continue
        width = column_header(cells, 1) if first == "" else 0
        if width:
            grid, index = read_matrix(rows, index, 0, width)
        elif info and _is_number_row(cells):
            grid, index = _bare_matrix(rows, index, path)
        else:
            index += 1
            continue
        read = _read_name(title, info)
        if read is None:
            calculated.append(title or info.get("Formula", "calculated"))
        else:
            plate = plates[info.get("Plate", "1")]
            records.extend((plate, read, row, col, raw) for row, col, raw in grid)
        title = None
    metadata = {"software": "EnVision", **_assay_metadata(rows[index:])}
    metadata["plates"] = "; ".join(
        f"{i}=plate {p}" + (f" barcode {barcodes[p]}" if barcodes[p] else "")
        for p, i in plates.items()
    )
    if calculated:
        metadata["skipped_blocks"] = join_names(calculated)
    return build_export(path, FORMAT, records, metadata, "No result matrix was found.")


def _read_name(title: str | None, info: dict[str, str]) -> str | None:
    """Read name of a matrix, or None for calculated results."""
    if title is not None and title.startswith("Calculated results"):
        return None
    if title is None and "Label" not in info:
        return None
    name = title.removeprefix("Results for ") if title else info["Label"]
    repeat = info.get("Repeat", "1")
    return name if repeat in ("", "1") else f"{name} repeat {repeat}"


def _is_number_row(cells: list[str]) -> bool:
    """True for a line of an untitled matrix: several cells, the first a number or empty.

    >>> _is_number_row(["-12,5", "3", ""]), _is_number_row(["A", "1", "2"])
    (True, False)
    """
    return len(cells) >= 3 and (cells[0] == "" or bool(_NUMBER.match(cells[0])))


def _bare_matrix(rows: list[list[str]], start: int, path: Path) -> tuple[list[GridCell], int]:
    """Cells of an untitled matrix (no header, no row letters) and the index after it."""
    end = start
    while end < len(rows) and _is_number_row(rows[end]):
        end += 1
    block = rows[start:end]
    width = max(len(r) for r in block)
    if all(len(r) == width and r[-1] == "" for r in block):
        width -= 1  # every line ends with a separator
    if (end - start, width) not in PLATE_SHAPES.values():
        raise KillcurveInputError(
            f"{path}: line {start + 1}: an untitled matrix of {end - start} lines × {width} "
            "values is no standard plate. Re-export with plate information and row letters."
        )
    grid = [
        (row_letter(r), c + 1, line[c] if c < len(line) else "")
        for r, line in enumerate(block)
        for c in range(width)
    ]
    return grid, end


def _assay_metadata(rows: list[list[str]]) -> dict[str, str]:
    """``Key: ,,,,value`` lines of the assay/protocol information at the end of the file."""
    found: dict[str, str] = {}
    for cells in rows:
        filled = [c for c in cells if c]
        if len(filled) == 2:
            found.setdefault(filled[0].rstrip(": "), _unquote(filled[1]))
        elif len(filled) == 1 and filled[0].startswith("Exported with "):
            found["software_version"] = filled[0].removeprefix("Exported with ")
    return rename_keys(found, _METADATA)


def _unquote(value: str) -> str:
    """EnVision writes text as an Excel formula ``="1050209"``; return the text.

    >>> _unquote('="1050209"'), _unquote("plain")
    ('1050209', 'plain')
    """
    return value[2:-1] if value.startswith('="') and value.endswith('"') else value
