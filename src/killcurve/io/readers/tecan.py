"""``tecan_spark``, ``tecan_icontrol`` and ``tecan_magellan``: Tecan exports.

SparkControl writes one ``Result sheet`` (xlsx, or the same rows as CSV):
method/device/firmware header lines, then per measurement step its settings
(``Mode``, ``Name`` = the label, wavelengths, ``Part of Plate``) and either a
matrix whose corner cell is ``<>`` (all wells of the plate, unread wells
empty) or, when exported as a list, a ``<>, Value, Time [ms]`` table with
one row per well (the per-well read time is not kept: it is one endpoint
read). Kinetic steps write a ``Cycle Nr., Time [s], Temp. [°C], A1, A2, …``
table under the label; every cycle is read (``cycle``, ``time_s`` from
``Time [s]``, ``timestamp`` = that cell as written). Read name: the label
(``Label 1``). A label met a second time starts the next plate (stacker runs).

i-control (Infinite M200/M1000) writes the same ``<>`` matrices, each under
``Label: <name>`` with ``Start Time:`` and a ``Samples`` layout grid beside
it (not read); ``Application: Tecan i-control`` in the first row.

Magellan writes either the same ``<>`` matrices, or a list: a header row with
one column per label (``Raw data`` when there is one, else ``Label1``,
``Label2``…; the label wavelengths are in the header's ``LabelN=535`` cells
and in the metadata) and a ``Well positions`` column, one row per well in the
order measured. Read names: ``Label1``, ``Label2``…, or ``1`` for the single
``Raw data`` column. Other list columns (Magellan's calculated results) are
skipped and listed under ``skipped_blocks``.
"""

from __future__ import annotations

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
from killcurve.io.readers.sheets import Sheets, is_workbook, key_values, read_sheets
from killcurve.io.readers.text import csv_rows, read_text
from killcurve.plate import split_well

SPARK = "tecan_spark"
ICONTROL = "tecan_icontrol"
MAGELLAN = "tecan_magellan"

_METADATA = {
    "Device": "instrument",
    "Serial number": "serial_number",
    "Instrument serial number": "serial_number",
    "Application": "software",
    "Date": "read_date",
    "Date of measurement": "read_date",
    "Time": "read_time",
    "Plate": "plate_type",
    "Plate definition file": "plate_type",
    "Method name": "protocol",
    "Measurement mode": "read_mode",
    "Mode": "read_mode",
    "User": "user",
}
_WELL_COLUMN = ("well positions", "well position")


def looks_like_spark(sheets: Sheets) -> bool:
    """SparkControl: an ``Application: SparkControl`` or ``Device: Spark`` header cell."""
    return any(
        cell.strip().startswith(("Application: SparkControl", "Device: Spark"))
        for rows in sheets.values()
        for row in rows[:10]
        for cell in row
    )


def looks_like_spark_csv(text: str) -> bool:
    """SparkControl saved as CSV: ``Application: SparkControl`` in the first lines."""
    return any(
        line.lstrip("\ufeff").startswith(("Application: SparkControl", "Device: Spark"))
        for line in text[:2000].splitlines()[:6]
    )


def looks_like_icontrol(sheets: Sheets) -> bool:
    """i-control: an ``Application: Tecan i-control`` cell in the first rows."""
    return any(
        cell.strip().startswith("Application: Tecan i-control")
        for rows in sheets.values()
        for row in rows[:5]
        for cell in row
    )


def looks_like_magellan(sheets: Sheets) -> bool:
    """Magellan: a ``Magellan`` sheet name, or a ``Well positions`` list header."""
    return any(name.startswith("Magellan") for name in sheets) or any(
        cell.strip().lower() in _WELL_COLUMN
        for rows in sheets.values()
        for row in rows[:10]
        for cell in row
    )


def read_spark(path: Path) -> PlateExport:
    """Read a SparkControl export (xlsx or CSV): every ``<>`` matrix or list and kinetic table."""
    path = Path(path)
    if is_workbook(path):
        sheets = read_sheets(path)
    else:
        sheets = {"csv": csv_rows(read_text(path, allow_latin1=True).lstrip("\ufeff"))}
    records, kinetic, metadata = _read_matrices(sheets)
    hint = KINETIC_HINT if kinetic else "No '<>' plate matrix or well list was found."
    return build_export(path, SPARK, records, {"software": "SparkControl", **metadata}, hint)


def read_icontrol(path: Path) -> PlateExport:
    """Read a Tecan i-control xlsx export: every ``<>`` matrix, one read per label."""
    path = Path(path)
    records, kinetic, metadata = _read_matrices(read_sheets(path))
    hint = KINETIC_HINT if kinetic else "No '<>' plate matrix was found."
    metadata = {"software": "i-control", **metadata}
    return build_export(path, ICONTROL, records, metadata, hint)


def read_magellan(path: Path) -> PlateExport:
    """Read a Magellan xlsx export in list (``Well positions``) or matrix (``<>``) layout."""
    path = Path(path)
    sheets = read_sheets(path)
    records: list[Record] = []
    calculated: list[str] = []
    for rows in sheets.values():
        found, skipped = _read_list(rows)
        records.extend(found)
        calculated.extend(skipped)
    kinetic = False
    if records:
        metadata = rename_keys(_list_metadata(sheets), _METADATA)
    else:
        records, kinetic, metadata = _read_matrices(sheets)
    if calculated:
        metadata["skipped_blocks"] = join_names(calculated)
    hint = KINETIC_HINT if kinetic else "No 'Well positions' list or '<>' plate matrix was found."
    return build_export(path, MAGELLAN, records, {"software": "Magellan", **metadata}, hint)


def _read_matrices(sheets: Sheets) -> tuple[list[Record | Point], bool, dict[str, str]]:
    """Records of the ``<>`` matrices, well lists and kinetic tables, whether a kinetic table
    without readings was seen, and the metadata."""
    records: list[Record | Point] = []
    kinetic = False
    label = "1"
    plate = 1
    seen: set[str] = set()
    header_rows: list[list[str]] = []
    for rows in sheets.values():
        index = 0
        while index < len(rows):
            cells = rows[index]
            first = cells[0].strip() if cells else ""
            second = cells[1].strip() if len(cells) > 1 else ""
            if first == "Name" and second:
                label = second
            elif first.startswith("Label:"):
                label = first.removeprefix("Label:").strip()
            width = column_header(cells, 1) if first == "<>" else 0
            table = first == "Cycle Nr." or (first == "<>" and second == "Value")
            if not width and not table:
                if not records:
                    header_rows.append(cells)
                index += 1
                continue
            if label in seen:
                plate, seen = plate + 1, set()
            seen.add(label)
            if first == "Cycle Nr.":
                found, index = _kinetic_table(rows, index, plate, label)
                kinetic = kinetic or not found
            elif width:
                grid, index = read_matrix(rows, index, 0, width)
                found = [(plate, label, row, col, raw) for row, col, raw in grid]
            else:
                found, index = _well_list(rows, index, plate, label)
            records.extend(found)
    return records, kinetic and not records, rename_keys(key_values(header_rows), _METADATA)


def _well_list(
    rows: list[list[str]], index: int, plate: int, label: str
) -> tuple[list[Record], int]:
    """Records of a ``<>, Value, Time [ms]`` list (one row per well) starting at ``index``."""
    records: list[Record] = []
    index += 1
    while index < len(rows) and rows[index] and (well := split_well(rows[index][0])):
        raw = rows[index][1].strip() if len(rows[index]) > 1 else ""
        records.append((plate, label, well[0], well[1], raw))
        index += 1
    return records, index


def _kinetic_table(
    rows: list[list[str]], index: int, plate: int, label: str
) -> tuple[list[Point], int]:
    """Points of a ``Cycle Nr., Time [s], Temp. [°C], A1, …`` table starting at ``index``."""
    header = [cell.strip() for cell in rows[index]]
    wells = [(at, well) for at, cell in enumerate(header) if (well := split_well(cell))]
    time_at = next((at for at, cell in enumerate(header) if cell.startswith("Time")), None)
    scale = 1e-3 if time_at is not None and "[ms]" in header[time_at] else 1.0
    points: list[Point] = []
    index += 1
    while index < len(rows) and rows[index] and rows[index][0].strip().isdigit():
        cells = rows[index]
        stamp = cells[time_at].strip() if time_at is not None and time_at < len(cells) else ""
        seconds = clock_seconds(stamp) if stamp else None
        cycle = int(cells[0].strip())
        points.extend(
            (plate, label, row, col, cells[at].strip() if at < len(cells) else "", cycle,
             None if seconds is None else seconds * scale, stamp or None)
            for at, (row, col) in wells
        )  # fmt: skip
        index += 1
    return points, index


def _read_list(rows: list[list[str]]) -> tuple[list[Record], list[str]]:
    """Records of a Magellan list sheet (one row per well) and the names of skipped columns."""
    for index, cells in enumerate(rows):
        names = [c.strip().lower() for c in cells]
        well_at = next((names.index(w) for w in _WELL_COLUMN if w in names), None)
        if well_at is None:
            continue
        columns: dict[int, str] = {}
        calculated: list[str] = []
        for at, cell in enumerate(cells):
            text = cell.strip()
            if at == well_at or not text or "=" in text or text.lower() == "plate":
                continue
            if text.lower() == "raw data":
                columns[at] = "1"
            elif text.lower().startswith("label"):
                columns[at] = text
            else:
                calculated.append(text)
        records: list[Record] = []
        for line in rows[index + 1 :]:
            well = split_well(line[well_at]) if well_at < len(line) else None
            if well is None:
                continue
            for at, read in columns.items():
                raw = line[at].strip() if at < len(line) else ""
                records.append((1, read, well[0], well[1], raw))
        return records, calculated
    return [], []


def _list_metadata(sheets: Sheets) -> dict[str, str]:
    """Metadata of a Magellan list export: ``Key: value`` lines and ``LabelN=…`` cells."""
    rows = [row for rows in sheets.values() for row in rows]
    single = [row for row in rows if sum(bool(c.strip()) for c in row) == 1]
    found = key_values(single)
    for row in rows[:5]:
        for cell in row:
            key, sep, value = cell.partition("=")
            if sep and key.strip().lower().startswith("label"):
                found.setdefault(key.strip(), value.strip())
    return found
