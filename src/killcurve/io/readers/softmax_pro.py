"""``moldev_softmax_pro``: Molecular Devices SoftMax Pro text exports (UTF-16, tab-separated).

The file starts ``##BLOCKS= n``; each block ends with ``~End``. A plate block
starts with a ``Plate:`` header line (name, export version, ``PlateFormat`` or
``TimeFormat``, read type, read mode, data type, wavelengths, number of wells
…), then a column header line with ``Temperature(¡C)`` and the data lines.

- ``PlateFormat``: one line per plate row; several wavelengths sit side by
  side, each ``1…12`` block separated by an empty column.
- ``TimeFormat``: the header names the wells (``A1``, ``A2``, …) and one line
  holds the whole plate.

Each plate block is one plate (``plate_index`` = order in the file; the
SoftMax plate names are in ``metadata["plates"]``). Read names: the
wavelength for absorbance/luminescence (``450``; ``Lum`` when luminescence is
read without a filter, wavelength 0), ``ex404/em445`` for fluorescence.

Kinetic plate blocks (read type ``Kinetic``) hold one matrix per time
point: in PlateFormat the first line of each starts with the time
(``Time(hh:mm:ss)`` column, written ``m:ss`` or ``h:mm:ss``) and the
temperature, and a short tab-only line separates the points; in TimeFormat
each line is one time point. Every point is read (``cycle``, ``time_s``,
``timestamp`` = the time as written); points a stopped run never read (all
wells empty) are dropped and counted in ``metadata["unread_time_points"]``.

Blank lines inside a block (the tab-only separator SoftMax writes before
``~End``, or between time points) are separators, not plate rows. Decimal
commas (``0,0385``, from a decimal-comma Windows) and CR-only line ends are
read as such.

Skipped: the reduced-data matrix after the raw one (SoftMax's calculated
values; for kinetic blocks the rates after a second ``Time(hh:mm:ss)``
header), plate blocks whose data type is ``Reduced`` (listed under
``skipped_blocks``), ``Group:`` and ``Note:`` blocks, and spectrum and
well-scan plate blocks (``skipped_kinetic``; a file with only those stops
with a KillcurveInputError).
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import (
    KINETIC_HINT,
    Point,
    Record,
    build_export,
    clock_seconds,
    join_names,
)
from killcurve.io.readers.text import read_text
from killcurve.plate import PLATE_SHAPES, row_letter, split_well

FORMAT = "moldev_softmax_pro"

_DATA_TYPES = ("Raw", "Reduced", "Both")
_SAVED = re.compile(r"^Original Filename:\s*(?P<file>[^;]*);\s*Date Last Saved:\s*(?P<date>.*)$")


def looks_like(text: str) -> bool:
    """SoftMax Pro: the first line is ``##BLOCKS= n``."""
    return text.lstrip().startswith("##BLOCKS=")


def read_softmax_pro(path: Path) -> PlateExport:
    """Read a SoftMax Pro text export: the raw endpoint data of every plate block."""
    path = Path(path)
    lines = read_text(path, allow_latin1=True).splitlines()
    records: list[Record | Point] = []
    names: list[str] = []
    unread = 0
    calculated: list[str] = []
    kinetic: list[str] = []
    metadata = {"software": "SoftMax Pro"}
    index = 0
    while index < len(lines):
        cells = lines[index].split("\t")
        saved = _SAVED.match(lines[index])
        if saved:
            metadata["original_filename"] = saved["file"].strip()
            metadata["date_last_saved"] = saved["date"].strip()
        if cells[0] != "Plate:":
            index += 1
            continue
        header = _Header(cells, path, index + 1)
        end = index + 1  # the raw matrix ends at an empty line; tab-only lines are unread rows
        while end < len(lines) and lines[end].strip(" ") and not lines[end].startswith("~End"):
            end += 1
        names.append(header.name)
        metadata.setdefault("read_mode", header.mode)
        metadata.setdefault("export_version", header.version)
        block = [line.split("\t") for line in lines[index + 1 : end]]
        if header.read_type not in ("Endpoint", "Kinetic"):
            kinetic.append(f"{header.name} ({header.read_type})")
        elif header.data_type == "Reduced":
            calculated.append(f"{header.name} (reduced)")
        elif header.read_type == "Kinetic":
            points, skipped = header.points(len(names), block)
            records.extend(points)
            unread += skipped
        else:
            records.extend(header.records(len(names), block))
        index = end
    metadata["plates"] = "; ".join(f"{i}={name}" for i, name in enumerate(names, start=1))
    if calculated:
        metadata["skipped_blocks"] = join_names(calculated)
    if kinetic:
        metadata["skipped_kinetic"] = join_names(kinetic)
    if unread:
        metadata["unread_time_points"] = str(unread)
    hint = KINETIC_HINT if kinetic or unread else "The file has no Plate: block with data."
    return build_export(path, FORMAT, records, metadata, hint)


class _Header:
    """The fields of a ``Plate:`` line that locate and name the readings."""

    def __init__(self, cells: list[str], path: Path, line_no: int) -> None:
        fields = [c.strip() for c in cells] + [""] * 40
        kind = next((i for i in (6, 7) if fields[i] in _DATA_TYPES), None)
        if kind is None or fields[3] not in ("PlateFormat", "TimeFormat"):
            raise KillcurveInputError(
                f"{path}: line {line_no}: Plate: header not understood (format {fields[3]!r}, "
                f"data type {fields[6]!r}/{fields[7]!r}). Export the plate as text in "
                "Plate or Time format from SoftMax Pro."
            )
        self.where = f"{path}: plate {fields[1]!r} (line {line_no})"
        self.name, self.version, self.layout = fields[1], fields[2], fields[3]
        self.read_type, self.mode, self.data_type = fields[4], fields[5], fields[kind]
        self.wells = int(fields[kind + 12]) if fields[kind + 12].isdigit() else 96
        emission = fields[kind + 9].split()
        excitation = fields[kind + 13].split() if self.mode == "Fluorescence" else []
        if excitation and len(excitation) == len(emission):
            self.reads = [f"ex{ex}/em{em}" for ex, em in zip(excitation, emission, strict=True)]
        elif self.mode == "Luminescence" and emission in ([], ["0"]):
            self.reads = ["Lum"]
        else:
            self.reads = emission or ["1"]

    def records(self, plate: int, block: list[list[str]]) -> list[Record]:
        """Records of the raw matrix: ``block`` is the column header line then the data lines."""
        if not block:
            raise KillcurveInputError(f"{self.where}: the plate block has no data lines.")
        header, data = block[0], block[1:]
        if self.layout == "PlateFormat":
            slots = _plate_slots(header)
            n_rows = PLATE_SHAPES.get(self.wells, (len(data), 0))[0]
            while len(data) > n_rows and not "".join(data[-1]).strip():
                data = data[:-1]  # the blank separator line before ~End is not a plate row
            if len(data) != n_rows:
                raise KillcurveInputError(
                    f"{self.where}: {len(data)} data lines, expected {n_rows} plate rows for "
                    f"{self.wells} wells. Export endpoint data in Plate format."
                )
            rows = [(row_letter(i), line) for i, line in enumerate(data)]
        else:
            slots = _time_slots(header)
            if len(data) != 1:
                raise KillcurveInputError(
                    f"{self.where}: {len(data)} data lines in Time format, expected 1 for "
                    "an endpoint read. Export endpoint data."
                )
            rows = [("", data[0])]
        self._check_groups(slots)
        out: list[Record] = []
        for letter, line in rows:
            for at, (group, row, col) in slots.items():
                raw = line[at].strip() if at < len(line) else ""
                out.append((plate, self.reads[group], letter or row, col, raw))
        return out

    def points(self, plate: int, block: list[list[str]]) -> tuple[list[Point], int]:
        """Records of every time point of a kinetic block, and how many points were unread.

        Each time point starts at a line whose first cell is a time (``0:05``);
        in PlateFormat it spans one line per plate row. Reading stops at a
        second column header (``Time(hh:mm:ss)…``: the reduced rates follow).
        """
        if not block:
            raise KillcurveInputError(f"{self.where}: the plate block has no data lines.")
        header, data = block[0], block[1:]
        plate_format = self.layout == "PlateFormat"
        slots = _plate_slots(header) if plate_format else _time_slots(header)
        self._check_groups(slots)
        height = PLATE_SHAPES.get(self.wells, (8, 12))[0] if plate_format else 1
        out: list[Point] = []
        unread, index = 0, 0
        while index < len(data):
            stamp = data[index][0].strip()
            if stamp.startswith("Time"):
                break
            seconds = clock_seconds(stamp) if stamp else None
            if seconds is None:
                index += 1
                continue
            lines = data[index : index + height]
            cells = [
                (self.reads[group], row_letter(i) if plate_format else row, col, raw)
                for i, line in enumerate(lines)
                for at, (group, row, col) in slots.items()
                for raw in [line[at].strip() if at < len(line) else ""]
            ]
            index += height
            if not any(raw for *_, raw in cells):
                unread += 1
                continue
            cycle = 1 + len(out) // len(cells)
            out.extend(
                (plate, read, row, col, raw, cycle, seconds, stamp) for read, row, col, raw in cells
            )
        return out, unread

    def _check_groups(self, slots: dict[int, tuple[int, str, int]]) -> None:
        """Stop when the data hold another number of wavelength blocks than the header lists."""
        groups = 1 + max((slot[0] for slot in slots.values()), default=0)
        if groups != len(self.reads):
            raise KillcurveInputError(
                f"{self.where}: {groups} wavelength blocks in the data but the header lists "
                f"{len(self.reads)} ({', '.join(self.reads)}). Re-export the plate."
            )


def _plate_slots(header: list[str]) -> dict[int, tuple[int, str, int]]:
    """Column index -> (wavelength block, "", column) of a PlateFormat header line."""
    slots: dict[int, tuple[int, str, int]] = {}
    group = -1
    for at, cell in enumerate(header):
        text = cell.strip()
        if text.isdigit() and at > 1:
            if int(text) == 1:
                group += 1
            slots[at] = (group, "", int(text))
    return slots


def _time_slots(header: list[str]) -> dict[int, tuple[int, str, int]]:
    """Column index -> (wavelength block, row, column) of a TimeFormat header line."""
    slots: dict[int, tuple[int, str, int]] = {}
    group, seen = 0, set()
    for at, cell in enumerate(header):
        well = split_well(cell) if at > 1 else None
        if well is None:
            continue
        if well in seen:
            group, seen = group + 1, set()
        seen.add(well)
        slots[at] = (group, *well)
    return slots
