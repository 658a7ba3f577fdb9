"""``thermo_skanit``: Thermo Fisher SkanIt xlsx exports (Varioskan, Multiskan, Luminoskan).

SkanIt writes one sheet per session step, named ``<step> <n>_<nn>``
(``Absorbance 1_01``, ``Blank Subtraction 1_02``), each starting
``Measurement results``; then information sheets (``General information``,
``Session information``, ``Instrument information``, ``Protocol
parameters``, ``Run log``, ``Layout definitions``) kept as metadata.

In a measurement sheet, ``Wavelength: 450 nm`` and ``Plate 1`` lines head
each matrix (corner cell = the unit: ``Abs``, ``RLU``, ``RFU``); the first
matrix after a ``Plate`` line is the reading, later ones (``Sample`` layout)
are not. ``plate_index`` numbers the distinct plate names in order. Read
name: the step name (``Absorbance 1``), with `` <wavelength> nm`` appended
when the sheet has several wavelengths.

Skipped: calculation steps (blank subtraction, standard curves, dilution
factors, averages …; any step that is not a measurement), listed under
``skipped_blocks``.

Kinetic measurements (as the Multiskan Sky writes them) are a ``Reading``
× wells table of values (``Reading`` 0, 1, …) followed by a ``Reading``
table whose columns are all ``Times [s]``: the read time of each well at each
reading. Every reading is read: ``cycle`` = reading + 1, ``time_s`` from the
times table, ``timestamp`` = that time as written.
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.io.readers.matrix import column_header, read_matrix
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import (
    KINETIC_HINT,
    Point,
    Record,
    build_export,
    clock_seconds,
    join_names,
    rename_keys,
)
from killcurve.io.readers.sheets import Sheets, key_values, read_sheets
from killcurve.plate import split_well

FORMAT = "thermo_skanit"

_MEASUREMENT = re.compile(
    r"^(Absorbance|Fluorescence|Luminescence|Time-resolved|TRF|AlphaScreen|Photometric|"
    r"Nephelometry|Fluorescence polarization)\b",
    re.IGNORECASE,
)
_WAVELENGTH = re.compile(r"^Wavelength:\s*(?P<nm>[\d.]+)\s*nm")
_PLATE = re.compile(r"^Plate \S+")
_INFO_SHEETS = ("General information", "Session information", "Instrument information")
_METADATA = {
    "Name": "instrument",
    "Serial number": "serial_number",
    "Report generated with SW version": "software",
    "Executed with": "software",
    "Version": "software_version",
    "Execution time": "read_date",
    "Session name": "protocol",
    "Plate template": "plate_type",
}


def looks_like(sheets: Sheets) -> bool:
    """SkanIt: a sheet whose first cell starts ``Measurement results``."""
    return any(
        rows and rows[0] and rows[0][0].strip().startswith("Measurement results")
        for rows in sheets.values()
    )


def read_skanit(path: Path) -> PlateExport:
    """Read a SkanIt xlsx export: the matrices of every measurement step."""
    path = Path(path)
    sheets = read_sheets(path)
    records: list[Record] = []
    calculated: list[str] = []
    plates: dict[str, int] = {}
    kinetic = False
    for name, rows in sheets.items():
        if not (rows and rows[0] and rows[0][0].strip().startswith("Measurement results")):
            continue
        step = re.sub(r"_\d+$", "", name).strip().removesuffix(" results")
        if not _MEASUREMENT.match(step):
            calculated.append(step)
            continue
        found, kinetic_here = _read_sheet(rows, step, plates)
        records.extend(found)
        kinetic = kinetic or kinetic_here
    info = [row for sheet in _INFO_SHEETS for row in sheets.get(sheet, [])]
    metadata = {"software": "SkanIt", **rename_keys(key_values(info), _METADATA)}
    if plates:
        metadata["plates"] = "; ".join(f"{i}={p}" for p, i in plates.items())
    if calculated:
        metadata["skipped_blocks"] = join_names(calculated)
    hint = KINETIC_HINT if kinetic else "No measurement sheet with a plate matrix was found."
    return build_export(path, FORMAT, records, metadata, hint)


def _read_sheet(
    rows: list[list[str]], step: str, plates: dict[str, int]
) -> tuple[list[Record | Point], bool]:
    """Records of one measurement sheet and whether it holds a kinetic table."""
    firsts = [row[0].strip() if row else "" for row in rows]
    several = sum(bool(_WAVELENGTH.match(f)) for f in firsts) > 1
    records: list[Record | Point] = []
    kinetic = False
    read, plate, pending = step, "Plate 1", False
    index = 0
    while index < len(rows):
        cells, first = rows[index], firsts[index]
        wavelength = _WAVELENGTH.match(first)
        if wavelength:
            read = f"{step} {wavelength['nm']} nm" if several else step
        elif _PLATE.match(first) and len([c for c in cells if c.strip()]) == 1:
            plate, pending = first, True
        elif first == "Reading" and len(cells) > 1 and split_well(cells[1]):
            found, index = _kinetic(rows, index, plates.setdefault(plate, len(plates) + 1), read)
            records.extend(found)
            kinetic = kinetic or not found
            continue
        width = column_header(cells, 1)
        if not width:
            index += 1
            continue
        grid, index = read_matrix(rows, index, 0, width)
        if pending:
            plate_index = plates.setdefault(plate, len(plates) + 1)
            records.extend((plate_index, read, row, col, raw) for row, col, raw in grid)
            pending = False
    return records, kinetic


def _kinetic(rows: list[list[str]], index: int, plate: int, read: str) -> tuple[list[Point], int]:
    """Points of a ``Reading`` × wells table at ``index``, timed by the ``Times [s]`` table
    after it (when there is one); returns them and the index after the values table."""
    wells = [(at, split_well(c)) for at, c in enumerate(rows[index]) if at and split_well(c)]
    values: list[list[str]] = []
    index += 1
    while index < len(rows) and rows[index] and rows[index][0].strip().isdigit():
        values.append(rows[index])
        index += 1
    times: dict[str, list[str]] = {}
    for at in range(index, len(rows)):
        cells = rows[at]
        if cells and cells[0].strip() == "Reading" and len(cells) > 1:
            if cells[1].strip().startswith("Times"):
                times = {
                    line[0].strip(): line
                    for line in rows[at + 1 :]
                    if line and line[0].strip().isdigit()
                }
            break
    points: list[Point] = []
    for line in values:
        reading = line[0].strip()
        timed = times.get(reading, [])
        for at, well in wells:
            stamp = timed[at].strip() if at < len(timed) else ""
            raw = line[at].strip() if at < len(line) else ""
            seconds = clock_seconds(stamp) if stamp else None
            points.append((plate, read, well[0], well[1], raw, int(reading) + 1, seconds,
                           stamp or None))  # fmt: skip
    return points, index
