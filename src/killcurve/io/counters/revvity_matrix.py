"""``revvity_matrix``: Revvity (Nexcelom) Cellaca MX results from the Matrix software.

Two layouts, CSV or xlsx, one row per well:

- *plain table*: ``Well Name``, ``Live Count``, ``Live Cells/mL``,
  ``Viability``, ``Dead Count``, ``Dead Cells/mL``, ``Total Count``,
  ``Total Cells/mL``, ``Note:``, ``Errors:``; concentrations in cells/mL.
  Viability is text with a percent sign in CSV (``87.00%``) and a fraction in
  xlsx (``0.87``, shown as % by the cell format): with no unit in the header
  it is told apart by comparing it with live / total.
- *with a metadata block* (export "Version 2"): ``key,value`` rows (``Plate
  Name``, ``Dilution``, ``Results Timestamp`` as ``M/D/YY H:MM``, ``Instrument
  SN``, ``Operator``), then a table that may start in column C:
  ``Well Name``, ``Live Concentration (E6)`` and ``Total Concentration (E6)``
  (×10^6 cells/mL), ``Viability (%)``, ``Live Count``, ``Total Count``,
  ``Errors``. ``Results Timestamp`` becomes every well's ``measured_at``.

The sample is the ``Well Name``; ``Note`` and ``Errors`` texts go to ``note``.
"""

from __future__ import annotations

from pathlib import Path

from killcurve.io.counters.model import CounterExport, RawCount, Source, build_export
from killcurve.io.counters.tables import cell, find_column, optional_column
from killcurve.io.counters.values import required_scale
from killcurve.io.readers.sheets import Sheets, is_workbook, read_sheets
from killcurve.io.readers.text import csv_rows, read_text

FORMAT = "revvity_matrix"
INSTRUMENT = "Revvity Cellaca MX"
TIME_FORMATS = ("%m/%d/%y %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S")
_METADATA = {
    "Plate Name": "plate_name",
    "Assay Name": "assay_name",
    "Dilution": "dilution",
    "Instrument SN": "serial_number",
    "Operator": "operator",
    "Version": "export_version",
}


def looks_like(text: str) -> bool:
    """Matrix CSV: a ``Well Name`` header with a live concentration column."""
    return _header_row([row.split(",") for row in text.splitlines()[:40]]) is not None


def looks_like_book(sheets: Sheets) -> bool:
    """Matrix xlsx: a sheet with a ``Well Name`` header and a live concentration column."""
    return any(_header_row(rows[:40]) is not None for rows in sheets.values())


def read_revvity_matrix(path: Path) -> CounterExport:
    """Read a Cellaca MX / Matrix export, CSV or xlsx (see the module docstring)."""
    if is_workbook(path):
        name, rows = next(
            ((n, r) for n, r in read_sheets(path).items() if _header_row(r[:40]) is not None),
            ("", []),
        )
        place = f"sheet {name!r} row"
    else:
        rows = csv_rows(read_text(path, allow_latin1=True), delimiter=",")
        place = "line"
    start = _header_row(rows[:40]) or 0
    header = rows[start] if rows else []
    pairs = {cell(row, 0): cell(row, 1) for row in rows[:start] if cell(row, 0)}
    sample = find_column(path, header, r"^well name$", "Well Name")
    total = find_column(path, header, r"^total (cells/ml|concentration)", "Total Cells/mL")
    live = find_column(path, header, r"^live (cells/ml|concentration)", "Live Cells/mL")
    viability = find_column(path, header, r"^viability\b", "Viability")
    total_count = optional_column(header, r"^total count$")
    live_count = optional_column(header, r"^live count$")
    notes = [i for i, c in enumerate(header) if c.strip().rstrip(":").lower() in ("note", "errors")]
    source = Source(
        instrument=INSTRUMENT,
        total=header[total],
        viable=header[live],
        viability=header[viability],
        total_scale=required_scale(path, header[total]),
        viable_scale=required_scale(path, header[live]),
        viability_in_percent="%" in header[viability],
        time_formats=TIME_FORMATS,
    )
    raws = [
        RawCount(
            where=f"{place} {number}",
            sample=cell(row, sample),
            total=cell(row, total),
            viable=cell(row, live),
            viability=cell(row, viability),
            total_count=cell(row, total_count),
            viable_count=cell(row, live_count),
            measured_at=pairs.get("Results Timestamp", ""),
            note="; ".join(cell(row, i) for i in notes if cell(row, i)),
        )
        for number, row in enumerate(rows[start + 1 :], start=start + 2)
        if any(c.strip() for c in row)
    ]
    metadata = {"software": "Matrix"}
    metadata.update({key: pairs[label] for label, key in _METADATA.items() if pairs.get(label)})
    return build_export(path, FORMAT, source, raws, metadata)


def _header_row(rows: list[list[str]]) -> int | None:
    """Index of the row holding ``Well Name`` and a live concentration header."""
    for index, row in enumerate(rows):
        cells = [c.strip().lower() for c in row]
        if "well name" in cells and any(
            c.startswith(("live cells/ml", "live conc")) for c in cells
        ):
            return index
    return None
