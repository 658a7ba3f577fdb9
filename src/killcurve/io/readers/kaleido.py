"""``revvity_kaleido``: Revvity (PerkinElmer) Kaleido CSV exports (EnSight, VICTOR Nivo).

The file starts ``<instrument> Results from``, ``Protocol Name``,
``Measurement Date``; each read is a block ``Result for <operation>`` (e.g.
``Result for Luminescence 1``) with a ``Barcode, Repeat, …`` line and a
``,1,2,…`` matrix with row letters. After the results come key/value
sections (``Measurement Information``, ``Instrument Information``, ``Plate
Type Information`` …) kept as metadata, and a ``Platemap`` matrix that is not
read. Kaleido 3.5 "pure CSV" pads every line to the same number of fields;
that changes nothing here.

Kaleido 2.0 writes the same results differently: the file starts (after
blank lines) ``Results for<NBSP><operation>``, then ``Barcode:<NBSP>…,
PlateRepeat:<NBSP>1, WellRepeat:<NBSP>1`` and the matrix; its key/value
lines are ``Key:,,value`` after ``Measurement Basic Information``. No-break
spaces are read as spaces.

Read name: the operation after ``Result for`` (``Luminescence 1``), with
`` repeat N`` appended for repeats after the first. Each distinct barcode is
one plate (``plate_index`` in order of appearance). Results whose operation
is a calculation (``Calc …``) are skipped and listed under ``skipped_blocks``.
"""

from __future__ import annotations

from pathlib import Path

from killcurve.io.readers.matrix import column_header, read_matrix
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import Record, build_export, join_names, rename_keys
from killcurve.io.readers.text import csv_rows, read_text

FORMAT = "revvity_kaleido"

_METADATA = {
    "Instrument Serial Number": "serial_number",
    "Software Version": "software_version",
    "Software version": "software_version",
    "Measurement Started": "read_date",
    "Protocol Name": "protocol",
    "Plate Type Name": "plate_type",
}
_END_OF_RESULTS = (
    "Measurement Information",
    "Measurement Basic Information",
    "Analysis Result",
    "Platemap",
)
_RESULT = ("Result for ", "Results for ")


def looks_like(text: str) -> bool:
    """Kaleido: the first line reads ``<instrument> Results from`` (3.x) or ``Results for …``
    (2.0, after blank lines)."""
    first = text.lstrip().split("\n", 1)[0].split(",", 1)[0].replace("\xa0", " ").strip()
    return first.endswith(" Results from") or first.startswith("Results for ")


def read_kaleido(path: Path) -> PlateExport:
    """Read a Kaleido CSV export: every ``Result for`` matrix."""
    path = Path(path)
    text = read_text(path, allow_latin1=True).replace("\xa0", " ")
    rows = [[c.strip() for c in row] for row in csv_rows(text)]
    records: list[Record] = []
    calculated: list[str] = []
    plates: dict[str, int] = {}
    read: str | None = None
    barcode = ""
    index = 0
    while index < len(rows):
        cells = rows[index]
        first = cells[0] if cells else ""
        if first in _END_OF_RESULTS:
            break
        if first.startswith(_RESULT) and index + 2 < len(rows):
            info, index = _result_info(rows, index + 1)
            barcode = info.get("Barcode", "")
            plates.setdefault(barcode, len(plates) + 1)
            read = first.partition(" for ")[2].strip()
            repeat = info.get("Repeat", info.get("PlateRepeat", "1"))
            read = read if repeat in ("", "1") else f"{read} repeat {repeat}"
            continue
        width = column_header(cells, 1) if first == "" else 0
        if not width:
            index += 1
            continue
        grid, index = read_matrix(rows, index, 0, width)
        if read is None or read.startswith("Calc"):
            calculated.append(read or "untitled matrix")
        else:
            records.extend((plates[barcode], read, row, col, raw) for row, col, raw in grid)
        read = None
    head = rows[0][0] if rows and rows[0] else ""
    found = {"instrument": head.removesuffix(" Results from") if head.endswith("from") else ""}
    for cells in rows:
        filled = [c for c in cells if c]
        if len(filled) == 2 and len(cells) > 2 and cells[0] and cells[1] == "":
            found.setdefault(filled[0].removesuffix(":").strip(), filled[1])
    metadata = {"software": "Kaleido", **rename_keys(found, _METADATA)}
    metadata["plates"] = "; ".join(f"{i}=barcode {b}" for b, i in plates.items())
    if calculated:
        metadata["skipped_blocks"] = join_names(calculated)
    return build_export(path, FORMAT, records, metadata, "No 'Result for …' matrix was found.")


def _result_info(rows: list[list[str]], index: int) -> tuple[dict[str, str], int]:
    """The facts under a ``Result for`` title and the index of the row after them.

    Kaleido 3.x writes a header row (``Barcode, Repeat, …``) and a value row;
    Kaleido 2.0 one row of ``Key: value`` cells (``Barcode: V-…, PlateRepeat: 1``),
    possibly after a blank row.

    >>> _result_info([["Barcode", "Repeat"], ["B1", "2"], [""]], 0)
    ({'Barcode': 'B1', 'Repeat': '2'}, 2)
    >>> _result_info([[""], ["Barcode: V-1", "PlateRepeat: 1"], ["", "1"]], 0)
    ({'Barcode': 'V-1', 'PlateRepeat': '1'}, 2)
    """
    while index < len(rows) and not any(rows[index]):
        index += 1
    cells = rows[index] if index < len(rows) else []
    pairs = [cell.partition(":") for cell in cells if cell]
    if pairs and all(sep and key.strip() for key, sep, _ in pairs):
        return {key.strip(): value.strip() for key, _, value in pairs}, index + 1
    values = rows[index + 1] if index + 1 < len(rows) else []
    return dict(zip(cells, values, strict=False)), index + 2
