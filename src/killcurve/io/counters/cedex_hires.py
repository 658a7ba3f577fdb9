"""``roche_cedex_hires``: Roche Cedex HiRes data export, CSV or xlsx, one row per sample.

A 34-column table. Values used: ``Sample identifer`` (the vendor's spelling;
``Sample identifier`` is accepted too), ``Total Cell Conc.`` and ``Viable
Cell Conc.``, ``Viability``, ``Total Cell Count`` and ``Viable Cell Count``,
``Date finished`` (when the measurement ended; ``Sample draw Time`` is when
the sample was drawn and is not used).

Units: a concentration header with a unit (``[10^5 cells/mL]``) is read by
it. The Cedex database export writes no unit: its concentrations are
cells/mL (``4529542.5``), which is the Cedex convention this reader applies
only to unit-less headers, and the common range check refuses a file whose
numbers are too small to be cells/mL. ``Viability`` has no unit either; it is
in % when it equals 100 · viable / total, as it does in Cedex exports.

Quirks: RFC-4180 quoting with commas inside fields; timestamps
``6-17-2019 8:34:01 AM`` or ``2/18/2021 2:12:41 PM`` (month first) in CSV,
real dates in xlsx; sample identifiers can repeat across data sets (listed in
``metadata["duplicate_samples"]``).
"""

from __future__ import annotations

from pathlib import Path

from killcurve.io.counters.model import CounterExport, RawCount, Source, build_export
from killcurve.io.counters.tables import cell, find_column, optional_column
from killcurve.io.counters.values import header_scale
from killcurve.io.readers.sheets import Sheets, is_workbook, read_sheets
from killcurve.io.readers.text import csv_rows, read_text

FORMAT = "roche_cedex_hires"
INSTRUMENT = "Roche Cedex HiRes"
TIME_FORMATS = (
    "%m-%d-%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%d %H:%M:%S",
    "%d-%m-%Y %I:%M:%S %p",
    "%d/%m/%Y %I:%M:%S %p",
)
_SAMPLE = r"^sample identif(i)?er$"


def looks_like(text: str) -> bool:
    """Cedex HiRes CSV: a first line with ``Cedex ID`` and ``Viable Cell Conc.``."""
    first = text.lstrip().split("\n", 1)[0]
    return "Cedex ID" in first and "Viable Cell Conc" in first


def looks_like_book(sheets: Sheets) -> bool:
    """Cedex HiRes xlsx: a sheet whose first row has ``Cedex ID`` and ``Viable Cell Conc.``."""
    return _sheet(sheets) is not None


def read_cedex_hires(path: Path) -> CounterExport:
    """Read a Cedex HiRes export, CSV or xlsx (see the module docstring)."""
    if is_workbook(path):
        name, rows = _sheet(read_sheets(path)) or ("", [])
        place = f"sheet {name!r} row"
    else:
        rows = csv_rows(read_text(path, allow_latin1=True), delimiter=",")
        place = "line"
    header = rows[0] if rows else []
    sample = find_column(path, header, _SAMPLE, "Sample identifer")
    total = find_column(path, header, r"^total cell conc", "Total Cell Conc.")
    viable = find_column(path, header, r"^viable cell conc", "Viable Cell Conc.")
    viability = find_column(path, header, r"^viability\b", "Viability")
    total_scale = header_scale(header[total])
    viable_scale = header_scale(header[viable])
    source = Source(
        instrument=INSTRUMENT,
        total=header[total],
        viable=header[viable],
        viability=header[viability],
        total_scale=1.0 if total_scale is None else total_scale,
        viable_scale=1.0 if viable_scale is None else viable_scale,
        viability_in_percent="%" in header[viability],
        time_formats=TIME_FORMATS,
    )
    total_count = optional_column(header, r"^total cell count$")
    viable_count = optional_column(header, r"^viable cell count$")
    when = optional_column(header, r"^date finished$")
    raws = [
        RawCount(
            where=f"{place} {number}",
            sample=cell(row, sample),
            total=cell(row, total),
            viable=cell(row, viable),
            viability=cell(row, viability),
            total_count=cell(row, total_count),
            viable_count=cell(row, viable_count),
            measured_at=cell(row, when),
        )
        for number, row in enumerate(rows[1:], start=2)
        if any(c.strip() for c in row)
    ]
    metadata = {"software": "Cedex HiRes", "measured_at": "Date finished"}
    if total_scale is None or viable_scale is None:
        metadata["unit_convention"] = (
            "concentration headers state no unit: read as cells/mL, the Cedex HiRes "
            "export convention"
        )
    for key, column in (("system_name", r"^system name$"), ("cedex_id", r"^cedex id$")):
        index = optional_column(header, column)
        values = sorted({cell(row, index) for row in rows[1:]} - {""})
        if values:
            metadata[key] = ", ".join(values)
    return build_export(path, FORMAT, source, raws, metadata)


def _sheet(sheets: Sheets) -> tuple[str, list[list[str]]] | None:
    """The first sheet whose first row is a Cedex HiRes header."""
    return next(
        (
            (name, rows)
            for name, rows in sheets.items()
            if rows and "Cedex ID" in rows[0] and any("Viable Cell Conc" in c for c in rows[0])
        ),
        None,
    )
