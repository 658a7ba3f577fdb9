"""``vi_cell_blu``: Beckman Coulter Vi-CELL BLU result CSV, one row per sample.

A header row, then one row per sample; no metadata block. Values used:
``Sample ID``; ``Total (x10^6) cells/mL`` and ``Viable (x10^6) cells/mL``
(×10^6 cells/mL: multiplied by 1e6, read from the header); ``Viability (%)``;
``Cell count`` (objects counted) and ``Viable cells`` (counts);
``Analysis date/time`` (``M/D/YYYY H:MM``, no seconds, no time zone).

Quirks handled: UTF-8 or UTF-16 with a byte-order mark; every field quoted or
none; the micro sign of the diameter headers is U+03BC or U+00B5 (no header
used here contains it); the trailing ``Tag`` column may be missing.
"""

from __future__ import annotations

from pathlib import Path

from killcurve.io.counters.model import CounterExport, RawCount, Source, build_export
from killcurve.io.counters.tables import cell, find_column, optional_column
from killcurve.io.counters.values import required_scale
from killcurve.io.readers.text import csv_rows, read_text

FORMAT = "vi_cell_blu"
INSTRUMENT = "Beckman Coulter Vi-CELL BLU"
#: The instrument writes month first; day first is tried so a re-saved file is not misread.
TIME_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")


def looks_like(text: str) -> bool:
    """Vi-CELL BLU: a first line naming ``Sample ID``, ``Viability (%)`` and cells/mL."""
    first = text.lstrip().split("\n", 1)[0]
    return all(key in first for key in ("Sample ID", "Viability (%)", "cells/mL"))


def read_vi_cell_blu(path: Path) -> CounterExport:
    """Read a Vi-CELL BLU CSV export (see the module docstring for the columns used)."""
    rows = csv_rows(read_text(path, allow_latin1=True), delimiter=",")
    header = rows[0]
    sample = find_column(path, header, r"^sample id$", "Sample ID")
    total = find_column(path, header, r"^total\b.*cells/ml", "total concentration")
    viable = find_column(path, header, r"^viable\b.*cells/ml", "viable concentration")
    viability = find_column(path, header, r"^viability\b", "viability")
    total_count = optional_column(header, r"^cell count$")
    viable_count = optional_column(header, r"^viable cells$")
    when = optional_column(header, r"^analysis date")
    source = Source(
        instrument=INSTRUMENT,
        total=header[total],
        viable=header[viable],
        viability=header[viability],
        total_scale=required_scale(path, header[total]),
        viable_scale=required_scale(path, header[viable]),
        viability_in_percent="%" in header[viability],
        time_formats=TIME_FORMATS,
    )
    raws = [
        RawCount(
            where=f"line {number}",
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
    return build_export(path, FORMAT, source, raws, {"software": "Vi-CELL BLU"})
