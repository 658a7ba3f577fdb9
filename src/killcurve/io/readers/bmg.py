"""``bmg_mars`` and ``bmg_smart_control``: BMG Labtech MARS CSV and SMART Control xlsx exports.

Both write the same plate report: ``Key: value`` header cells (``User:``,
``Path:``, ``Test name:``, ``Date:``, ``Time:``, ``ID1:``…), the read mode
(``Fluorescence (FI)``, ``Absorbance``, ``Luminescence``), then titled
matrices. MARS writes it as CSV (comma-separated; semicolons where the
decimal mark is a comma), SMART Control as the sheet ``Microplate End point``
of an xlsx workbook, with numbered titles (``4. Raw Data (480-14/520-30)``).

What becomes a read: each ``Raw Data (…)`` matrix; the read name is the text
in the parentheses as written (``580/620``, ``450``, ``450 1``,
``No filter``). One plate per file. 1536-well matrices (rows ``a``…``f``
after ``Z``) are read as rows ``AA``…``AF``.

MARS also exports a table (``Well, Content, Raw Data (600), …`` header, one
row per well ``A01``; as CSV, or as the xlsx sheet ``Table All Cycles``, read by
``bmg_smart_control``): each column titled ``Raw Data (…)`` is a reading of
that read. A kinetic table has a second header row ``, Time, 0, 10, …``: each
column is one cycle (``cycle`` in column order, ``time_s`` from the time row,
``timestamp`` its text). MARS writes that row in the time unit chosen at
export, without naming it: ``Time [s]``, ``Time [min]`` and ``Time [h]`` are
read as such, a plain ``Time`` as minutes (MARS's default) and noted in
``metadata["time_unit"]``; time cells that carry their units (``0 h 6 min``, the
Excel table) are read as written.

Skipped: layout-like matrices (``Layout``, ``Standard Concentrations``,
``Dilutions``) and calculated ones (``Blank corrected based on Raw Data``,
averages, ratios), listed under ``skipped_blocks``. The long
``Table End point`` sheet repeats the matrices and is not read. Kinetic
exports (no ``Raw Data`` matrix; sheets named ``… Kinetic``) stop with a
KillcurveInputError.
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.io.readers.matrix import find_header, read_matrix
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
from killcurve.io.readers.sheets import key_values, read_sheets
from killcurve.io.readers.text import csv_rows, read_text
from killcurve.plate import split_well

MARS = "bmg_mars"
SMART_CONTROL = "bmg_smart_control"

_RAW_TITLE = re.compile(r"^(?:\d+\.\s*)?Raw Data\s*\((?P<read>.*)\)$")
_HEADER_KEY = re.compile(r"^(User|Path|Test run no\.|Test ID|Test [Nn]ame|Date|Time|ID\d):\s*(.*)$")
_MODE = re.compile(r"^(Absorbance|Fluorescence|Luminescence|Time-Resolved|AlphaScreen|TRF)", re.I)
_METADATA = {
    "User": "user",
    "Test name": "protocol",
    "Test Name": "protocol",
    "Date": "read_date",
    "Time": "read_time",
    "Microplate name": "plate_type",
    "Measurement type": "read_mode",
}
_TIME_UNITS = {"Time [s]": 1.0, "Time [min]": 60.0, "Time [h]": 3600.0, "Time": 60.0}
_UNIT_STAMP = re.compile(
    r"^(?=\d)(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*(?:(?P<min>\d+(?:\.\d+)?)\s*min)?"
    r"\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s)?$"
)
_HINT = "BMG exports need a 'Raw Data (…)' matrix or table column: export the raw data."


def looks_like_mars(text: str) -> bool:
    """MARS CSV: the first line holds ``User:`` and ``Path:`` (or ``Test run no.``) cells."""
    first = text.lstrip().split("\n", 1)[0]
    return first.startswith("User:") and ("Path:" in first or "Test run no." in first)


def looks_like_smart_control(sheets: dict[str, list[list[str]]]) -> bool:
    """SMART Control xlsx: a sheet whose first cell is ``User:`` and holds ``Raw Data (…)``."""
    for rows in sheets.values():
        cells = [c.strip() for row in rows for c in row if c.strip()]
        if cells and cells[0].startswith("User:") and any(_RAW_TITLE.match(c) for c in cells):
            return True
    return False


def read_mars(path: Path) -> PlateExport:
    """Read a BMG MARS CSV export (plate format)."""
    path = Path(path)
    rows = csv_rows(read_text(path, allow_latin1=True))
    records, metadata = _read_report(rows)
    metadata = {"software": "MARS", **metadata}
    return build_export(path, MARS, records, metadata, _HINT)


def read_smart_control(path: Path) -> PlateExport:
    """Read a BMG SMART Control (or MARS Excel) xlsx export."""
    path = Path(path)
    sheets = read_sheets(path)
    plate_sheets = [n for n in sheets if n.startswith("Microplate")] or list(sheets)
    records: list[Record] = []
    mars = any(n.startswith("Table All Cycles") for n in sheets) and plate_sheets == list(sheets)
    metadata = {"software": "MARS (Excel table)" if mars else "SMART Control"}
    for name in plate_sheets:
        found, info = _read_report(sheets[name])
        records.extend(found)
        metadata = {**info, **metadata}
    protocol = sheets.get("Protocol Information", [])
    metadata.update(rename_keys(key_values(protocol), _METADATA))
    kinetic = [n for n in sheets if "kinetic" in n.lower()]
    hint = KINETIC_HINT if kinetic and not records else _HINT
    return build_export(path, SMART_CONTROL, records, metadata, hint)


def _read_report(rows: list[list[str]]) -> tuple[list[Record | Point], dict[str, str]]:
    """Raw-data records and header metadata of one BMG plate report."""
    found: dict[str, str] = {}
    records: list[Record | Point] = []
    calculated: list[str] = []
    read: str | None = "1"
    index = 0
    while index < len(rows):
        cells = [c.strip() for c in rows[index]]
        filled = [c for c in cells if c]
        for cell in filled:
            key = _HEADER_KEY.match(cell)
            if key:
                found.setdefault(key.group(1), key.group(2).strip())
        if len(filled) == 1 and not _HEADER_KEY.match(filled[0]):
            title = _RAW_TITLE.match(filled[0])
            if title:
                read = title.group("read").strip()
            elif _MODE.match(filled[0]) and "read_mode" not in found:
                found["read_mode"] = filled[0]
            else:
                read = None
                calculated.append(re.sub(r"^\d+\.\s*", "", filled[0]))
            index += 1
            continue
        if cells[:2] == ["Well", "Content"]:
            table, index = _read_table(rows, index, calculated, found)
            records.extend(table)
            continue
        header = find_header(cells)
        if header is None:
            index += 1
            continue
        grid, index = read_matrix(rows, index, *header)
        if read is not None:
            records.extend((1, read, row, col, raw) for row, col, raw in grid)
        read = None
    metadata = rename_keys(found, _METADATA)
    if calculated:
        metadata["skipped_blocks"] = join_names(calculated)
    return records, metadata


def _read_table(
    rows: list[list[str]], index: int, calculated: list[str], found: dict[str, str]
) -> tuple[list[Record | Point], int]:
    """Records of a MARS table export (``Well, Content, <title>…`` at ``index``), kinetic
    when a ``Time`` row follows the header; returns them and the index after the table."""
    titles = [cell.strip() for cell in rows[index]]
    index += 1
    times: list[str] = []
    unit = 1.0
    if index < len(rows) and len(rows[index]) > 1 and rows[index][1].strip() in _TIME_UNITS:
        label = rows[index][1].strip()
        unit, times = _TIME_UNITS[label], [cell.strip() for cell in rows[index]]
        found["time_unit"] = {1.0: "s", 60.0: "min", 3600.0: "h"}[unit]
        if any(_UNIT_STAMP.match(t) for t in times[2:]):
            found["time_unit"] = "as written (h, min, s)"
        index += 1
    columns: dict[int, tuple[str, int]] = {}
    for at, title in enumerate(titles[2:], start=2):
        raw = _RAW_TITLE.match(title)
        if raw is None:
            if title:
                calculated.append(title)
            continue
        read = raw.group("read").strip()
        columns[at] = (read, 1 + sum(r == read for r, _ in columns.values()))
    records: list[Record | Point] = []
    while index < len(rows) and rows[index] and (well := split_well(rows[index][0])):
        cells = rows[index]
        for at, (read, cycle) in columns.items():
            raw = cells[at].strip() if at < len(cells) else ""
            if not times:
                records.append((1, read, well[0], well[1], raw))
                continue
            stamp = times[at] if at < len(times) else ""
            at_s = _stamp_seconds(stamp, unit) if stamp else None
            records.append((1, read, well[0], well[1], raw, cycle, at_s, stamp or None))
        index += 1
    return records, index


def _stamp_seconds(stamp: str, unit: float) -> float | None:
    """Seconds of a time-row cell: ``0 h 6 min``, ``23 h 30 min`` as written (MARS Excel
    tables), else a number or clock time in ``unit`` seconds.

    >>> _stamp_seconds("0 h 6 min", 60.0), _stamp_seconds("23 h", 60.0), _stamp_seconds("10", 60.0)
    (360.0, 82800.0, 600.0)
    """
    units = _UNIT_STAMP.match(stamp)  # a bare number never matches: it needs h, min or s
    if units:
        h, m, sec = (float(units[k] or 0) for k in ("h", "min", "s"))
        return h * 3600.0 + m * 60.0 + sec
    seconds = clock_seconds(stamp)
    return None if seconds is None else seconds * unit
