"""``agilent_gen5``: Agilent BioTek Gen5 text exports (tab-separated, UTF-8 or Latin-1).

A Gen5 export is a header (``Software Version``, ``Plate Number``, ``Date``,
``Reader Type:``, ``Reading Type`` …), ``Procedure Details``, an optional
``Layout`` matrix, then result matrices: a title line (``Results``, ``Lum``,
``Read 1:450,490``), a ``\\t1\\t2…`` column header and one line per plate row
whose last cell names the block (``LUM:Lum``, ``504,531``, ``od:600``).
Unlettered continuation lines under a row hold further blocks for the same
plate row (other reads of a multi-read protocol, or calculated values).
Multi-plate exports repeat the whole sequence per plate.

What becomes a read: blocks named like a raw measurement, ``[step:]measure``
where measure is a wavelength (``450``), an ex,em pair (``504,531``) or ``Lum``
and step is a ``Read`` step named in the procedure or Gen5's default
``Read N``. The read name is that label as written (``LUM:Lum``,
``fluor:579,616``, ``Read 1:450,490``).

Skipped, and listed in the metadata: calculated blocks (``NormLum``,
``Blank 504,531``, ``[Concentration]``, kinetic summaries such as
``Max V [...]``) under ``skipped_blocks``, and kinetic tables (``Time``
× wells) under ``skipped_kinetic``. A file with only kinetic tables stops with
a KillcurveInputError; a file with endpoint reads and kinetic tables (Gen5
runs an endpoint read before a kinetic loop) returns the endpoint reads.
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.io.readers.matrix import column_header
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import (
    KINETIC_HINT,
    Record,
    build_export,
    join_names,
    rename_keys,
)
from killcurve.io.readers.text import read_text
from killcurve.plate import row_name, split_well

FORMAT = "agilent_gen5"

_RAW_LABEL = re.compile(
    r"^(?:(?P<step>[^:\[\]]+):)?(?P<measure>Lum|\d+(?:\.\d+)?(?:/\d+)?(?:,\d+(?:\.\d+)?(?:/\d+)?)?)$"
)
_DEFAULT_STEP = re.compile(r"^Read \d+$")
_UNNAMED_STEP = re.compile(r"(Endpoint|Kinetic|Spectrum|Scan)$")
_METADATA = {
    "Software Version": "software_version",
    "User Name:": "user",
    "Experiment File Path:": "experiment_file",
    "Protocol File Path:": "protocol_file",
    "Date": "read_date",
    "Time": "read_time",
    "Reader Type:": "instrument",
    "Reader Serial Number:": "serial_number",
    "Reading Type": "reading_type",
    "Plate Type": "plate_type",
}


def looks_like(text: str) -> bool:
    """Gen5: ``Software Version<TAB>`` near the top and a Gen5 plate header."""
    head = text[:4000]
    return "Software Version\t" in head and any(
        key in head for key in ("Plate Number\t", "Reader Type:\t", "Procedure Details")
    )


def is_raw_label(label: str, steps: set[str]) -> bool:
    """True when a block label names a raw measurement rather than a calculation.

    >>> is_raw_label("LUM:Lum", {"LUM"}), is_raw_label("504,531", set())
    (True, True)
    >>> is_raw_label("NormLum", {"LUM"}), is_raw_label("Blank Read 1:450", set())
    (False, False)
    """
    match = _RAW_LABEL.match(label)
    if not match:
        return False
    step = match.group("step")
    return step is None or step in steps or bool(_DEFAULT_STEP.match(step))


def read_gen5(path: Path) -> PlateExport:
    """Read a Gen5 text export: every raw endpoint read of every plate."""
    path = Path(path)
    lines = read_text(path, allow_latin1=True).splitlines()
    found, plates, steps, procedure = _header(lines)
    records, calculated, kinetic = _results(lines, steps)
    metadata = {"software": "Gen5", **rename_keys(found, _METADATA)}
    if plates:
        metadata["plates"] = join_names(plates)
    if procedure:
        metadata["procedure"] = " | ".join(procedure)
    if calculated:
        metadata["skipped_blocks"] = join_names(calculated)
    if kinetic:
        metadata["skipped_kinetic"] = join_names(kinetic)
    hint = KINETIC_HINT if kinetic else "Export the plate results as a matrix (Results table)."
    return build_export(path, FORMAT, records, metadata, hint)


def _filled(line: str) -> list[str]:
    """The non-empty tab-separated cells of a line, stripped."""
    return [cell.strip() for cell in line.split("\t") if cell.strip()]


def _header(lines: list[str]) -> tuple[dict[str, str], list[str], set[str], list[str]]:
    """Header facts (first plate wins), plate names, named Read steps, procedure lines."""
    found: dict[str, str] = {}
    plates: list[str] = []
    steps: set[str] = set()
    procedure: list[str] = []
    in_procedure = False
    for line in lines:
        if not line.strip():  # the procedure is the first paragraph after its title
            in_procedure = in_procedure and not procedure
            continue
        first = line.partition("\t")[0].strip()
        if in_procedure:
            procedure.append(" ".join(_filled(line)))
        if first in _METADATA:
            found.setdefault(first, line.partition("\t")[2].partition("\t")[0].strip())
        if first == "Plate Number":
            plates.append(_filled(line)[-1])
        elif first == "Read":
            filled = _filled(line)
            if len(filled) > 1 and not _UNNAMED_STEP.search(filled[1]):
                steps.add(filled[1])
        elif first == "Procedure Details" and not procedure:
            in_procedure = True
    return found, plates, steps, procedure


def _results(lines: list[str], steps: set[str]) -> tuple[list[Record], list[str], list[str]]:
    """Records of the raw result blocks, labels of calculated blocks, titles of kinetic tables."""
    records: list[Record] = []
    calculated: list[str] = []
    kinetic: list[str] = []
    plate, section, width = 0, "", 0
    row: str | None = None
    for line in lines:
        text = line.strip()
        if not text:
            row = None
            continue
        first = line.partition("\t")[0].strip()
        letter = row_name(first, 0) if first else row
        if first == "Plate Number":
            plate += 1
        elif first == text and "\t" not in text and letter is None:
            section, width, row = first, 0, None  # a block title: Layout, Results, Lum …
        elif first == "":
            cells = line.split("\t")
            header = column_header(cells, 1)
            if header and header == len(_filled(line)):  # data lines end with a label
                width, row = header, None
                continue
        elif first == "Time" and _names_wells(line.split("\t")):
            kinetic.append(section)  # a kinetic table: Time, T°, one column per well
            width = 0
        if not width or section == "Layout" or letter is None:
            continue
        row = letter
        cells = line.split("\t")
        label = cells[width + 1].strip() if len(cells) > width + 1 else ""
        label = label or (section if is_raw_label(section, steps) else "1")
        if label != "1" and not is_raw_label(label, steps):
            calculated.append(label)
            continue
        padded = cells + [""] * (width + 1 - len(cells))
        records.extend(
            (max(plate, 1), label, letter, col, padded[col].strip()) for col in range(1, width + 1)
        )
    return records, calculated, kinetic


def _names_wells(cells: list[str]) -> bool:
    """True for the header of a kinetic table (``Time, T° …, A1, A2, …``)."""
    return len(cells) > 2 and split_well(cells[-1] or cells[2]) is not None
