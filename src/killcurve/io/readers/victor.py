"""``revvity_victor``: Revvity (PerkinElmer) VICTOR Nivo CSV and VICTOR X3 (Wallac) text exports.

VICTOR Nivo control software writes ``WELL RESULTS`` CSV: ``PROTOCOL NAME``,
``MEASUREMENT START DATE`` …, then per measurement ``<n> OPERATION,<name>``
(``3 OPERATION,ABS (F) - Kinetics``) and a table: header rows ``,Cycle,1,2,…``,
``,Plate,…``, ``,Barcode,…``, ``Well,Time(s),0.0,1772.1,…``, then one row per
well (``A1,,0.059,…``). After ``PARAMETERS`` come key/value lines (serial
number, software version, plate type) kept as metadata, and a plate map not
read. Read name: the operation as written. Each cycle is a time point
(``time_s`` from ``Time(s)``, ``timestamp`` the cell as written).

VICTOR X3 (and other Wallac 1420 software) writes a tab-separated list:
``Plate, Repeat, Well, Type, Time, <label>, Time, <label> …``, one line per
well and repeat, each label column after the time that well was read
(``00:00:41.29``, from the start of the run). Read names: the label columns
as written (``Absorbance @ 600 (A)``, ``GFP (Counts)``); ``plate_index``:
the ``Plate`` number. ``Repeat`` is the time point; ``time_s`` is that well's
own read time. Plate-format copies of the same values after the list, and the
protocol text (``Protocol name ....... value`` lines, kept as metadata), are
not read.

A file with a single cycle or repeat is an endpoint read (``cycle`` null).
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import (
    Point,
    Record,
    build_export,
    clock_seconds,
    rename_keys,
)
from killcurve.io.readers.text import csv_rows, read_text
from killcurve.plate import split_well

FORMAT = "revvity_victor"

_X3_HEADER = ("Plate", "Repeat", "Well", "Type")
_DOTS = re.compile(r"^(?P<key>[^.:]+?)[:\s]*\.{3,}\s*(?P<value>.*)$")
_METADATA = {
    "PROTOCOL NAME": "protocol",
    "MEASUREMENT START DATE": "read_date",
    "USER NAME": "user",
    "User interface program version": "software_version",
    "Instrument serial number": "serial_number",
    "PLATE TYPE": "plate_type",
    "Protocol name": "protocol",
    "Name of the plate type": "plate_type",
    "Measured on": "read_date",
    "Run started by": "user",
}


def looks_like(text: str) -> bool:
    """Nivo: the first line is ``WELL RESULTS``; X3: ``Plate<TAB>Repeat<TAB>Well<TAB>Type``."""
    first = text.lstrip("\ufeff \r\n").split("\n", 1)[0].strip()
    return first.rstrip(",") == "WELL RESULTS" or first.startswith("\t".join(_X3_HEADER))


def read_victor(path: Path) -> PlateExport:
    """Read a VICTOR Nivo ``WELL RESULTS`` CSV or a VICTOR X3 list export."""
    path = Path(path)
    text = read_text(path, allow_latin1=True)
    if text.lstrip("\ufeff \r\n").startswith("WELL RESULTS"):
        records, found = _read_nivo(csv_rows(text, ","))
        software = "VICTOR Nivo"
    else:
        records, found = _read_x3([line.split("\t") for line in text.splitlines()])
        software = "VICTOR X3 / Wallac"
    metadata = {"software": software, **rename_keys(found, _METADATA)}
    hint = "Export the well results (Nivo) or the list of measurements (X3) as text."
    return build_export(path, FORMAT, records, metadata, hint)


def _read_nivo(rows: list[list[str]]) -> tuple[list[Record | Point], dict[str, str]]:
    """Records and metadata of a Nivo ``WELL RESULTS`` file."""
    found: dict[str, str] = {}
    records: list[Record | Point] = []
    operation = "1"
    index = 0
    while index < len(rows):
        cells = [cell.strip() for cell in rows[index]]
        first = cells[0] if cells else ""
        if len(first) > 1 and len(cells) > 1 and cells[1] and split_well(first) is None:
            found.setdefault(first, cells[1])
        if re.match(r"^\d+ OPERATION$", first) and len(cells) > 1:
            operation = cells[1]
        if first == "PARAMETERS" or not (first == "" and len(cells) > 2 and cells[1] == "Cycle"):
            index += 1
            continue
        cycles = cells
        while index < len(rows) and not (rows[index] and rows[index][0].strip() == "Well"):
            index += 1
        times = [cell.strip() for cell in rows[index]] if index < len(rows) else []
        index += 1
        kinetic = len([c for c in cycles[2:] if c]) > 1
        while index < len(rows) and rows[index] and (well := split_well(rows[index][0])):
            line = rows[index]
            for at in range(2, len(cycles)):
                if not cycles[at]:
                    continue
                raw = line[at].strip() if at < len(line) else ""
                if not kinetic:
                    records.append((1, operation, well[0], well[1], raw))
                    continue
                stamp = times[at] if at < len(times) else ""
                seconds = clock_seconds(stamp) if stamp else None
                cycle = int(cycles[at]) if cycles[at].isdigit() else at - 1
                records.append((1, operation, well[0], well[1], raw, cycle, seconds, stamp or None))
            index += 1
    return records, found


def _read_x3(rows: list[list[str]]) -> tuple[list[Record | Point], dict[str, str]]:
    """Records and metadata of a VICTOR X3 / Wallac list export."""
    header = [cell.strip() for cell in rows[0]] if rows else []
    labels = [
        (at, name, at - 1 if at > 0 and header[at - 1] == "Time" else None)
        for at, name in enumerate(header)
        if at >= len(_X3_HEADER) and name and name != "Time"
    ]
    lines: list[tuple[int, int, tuple[str, int], list[str]]] = []
    index = 1
    while index < len(rows) and len(rows[index]) > 3:
        cells = rows[index]
        well = split_well(cells[2])
        if not (cells[0].strip().isdigit() and cells[1].strip().isdigit() and well):
            break
        lines.append((int(cells[0]), int(cells[1]), well, cells))
        index += 1
    kinetic = len({repeat for _, repeat, _, _ in lines}) > 1
    records: list[Record | Point] = []
    for plate, repeat, (row, col), cells in lines:
        for at, name, time_at in labels:
            raw = cells[at].strip() if at < len(cells) else ""
            if not kinetic:
                records.append((plate, name, row, col, raw))
                continue
            stamp = cells[time_at].strip() if time_at is not None and time_at < len(cells) else ""
            seconds = clock_seconds(stamp) if stamp else None
            records.append((plate, name, row, col, raw, repeat, seconds, stamp or None))
    found: dict[str, str] = {}
    for cells in rows[index:]:
        text = "\t".join(cells).strip()
        match = _DOTS.match(text) or re.match(r"^(?P<key>Run started by):\s*(?P<value>.*)$", text)
        if match and match["value"].strip():
            found.setdefault(match["key"].strip(), match["value"].strip())
    return records, found
