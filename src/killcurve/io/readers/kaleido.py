"""``revvity_kaleido``: Revvity (PerkinElmer) Kaleido CSV exports (EnSight, VICTOR Nivo).

The file starts ``<instrument> Results from``, ``Protocol Name``,
``Measurement Date``; each read is a block ``Result for <operation>`` (e.g.
``Result for Luminescence 1``) with a ``Barcode, Repeat, …`` line and a
``,1,2,…`` matrix with row letters. After the results come key/value
sections (``Measurement Information``, ``Instrument Information``, ``Plate
Type Information`` …) kept as metadata, and a ``Platemap`` matrix that is not
read. Kaleido 3.5 "pure CSV" pads every line to the same number of fields;
that changes nothing here.

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
    "Measurement Started": "read_date",
    "Protocol Name": "protocol",
    "Plate Type Name": "plate_type",
}
_END_OF_RESULTS = ("Measurement Information", "Platemap")


def looks_like(text: str) -> bool:
    """Kaleido: the first line reads ``<instrument> Results from``."""
    first = text.lstrip().split("\n", 1)[0].split(",", 1)[0].strip()
    return first.endswith(" Results from")


def read_kaleido(path: Path) -> PlateExport:
    """Read a Kaleido CSV export: every ``Result for`` matrix."""
    path = Path(path)
    rows = [[c.strip() for c in row] for row in csv_rows(read_text(path, allow_latin1=True))]
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
        if first.startswith("Result for ") and index + 2 < len(rows):
            info = dict(zip(rows[index + 1], rows[index + 2], strict=False))
            barcode = info.get("Barcode", "")
            plates.setdefault(barcode, len(plates) + 1)
            read = first.removeprefix("Result for ").strip()
            repeat = info.get("Repeat", "1")
            read = read if repeat in ("", "1") else f"{read} repeat {repeat}"
            index += 3
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
    found = {"instrument": rows[0][0].removesuffix(" Results from") if rows else ""}
    for cells in rows:
        filled = [c for c in cells if c]
        if len(filled) == 2 and len(cells) > 2 and cells[0] and cells[1] == "":
            found.setdefault(filled[0], filled[1])
    metadata = {"software": "Kaleido", **rename_keys(found, _METADATA)}
    metadata["plates"] = "; ".join(f"{i}=barcode {b}" for b, i in plates.items())
    if calculated:
        metadata["skipped_blocks"] = join_names(calculated)
    return build_export(path, FORMAT, records, metadata, "No 'Result for …' matrix was found.")
