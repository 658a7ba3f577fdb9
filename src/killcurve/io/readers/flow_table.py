"""``flowjo_csv``: a flow-cytometry statistics table, one row per well (FlowJo "Table Editor" CSV).

The first column names the sample (FlowJo writes the FCS file name, e.g.
``Specimen_001_B7_B07.fcs``, or a bare well ``B7``); the well is the last
``<row letter><column>`` token in it. Every other column is a statistic such as
``Targets/Dead | Freq. of Parent`` (percent) or ``Targets | Count``; each becomes
one *read* named by its header, so the samplesheet's ``read`` column chooses the
dead-target percentage for the ``flow`` readout. Summary rows FlowJo appends
(``Mean``, ``SD``) and rows without a well are skipped and counted in the metadata.
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import Record, build_export
from killcurve.io.readers.text import csv_rows, read_text

FORMAT = "flowjo_csv"
_WELL = re.compile(r"(?<![A-Za-z0-9])([A-P])0?(\d{1,2})(?![0-9])")
_STAT = re.compile(r"\|\s*(freq\.|count|median|mean|geometric|cv|%)", re.IGNORECASE)


def looks_like(text: str) -> bool:
    """True when the header row has FlowJo statistic columns (``population | statistic``)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return bool(_STAT.search(first)) and first.count("|") >= 1


def well_of(sample: str) -> tuple[str, int] | None:
    """The well a FlowJo sample name refers to: its last ``A1``/``A01``-style token.

    >>> well_of("Specimen_001_B7_B07.fcs"), well_of("C12"), well_of("Mean")
    (('B', 7), ('C', 12), None)
    """
    found = [(m.group(1), int(m.group(2))) for m in _WELL.finditer(sample.rsplit(".", 1)[0])]
    found = [(r, c) for r, c in found if 1 <= c <= 24]
    return found[-1] if found else None


def read_flowjo(path: Path) -> PlateExport:
    """Read a FlowJo statistics table: one read per statistic column (see the module docstring)."""
    rows = csv_rows(read_text(path, allow_latin1=True))
    header = [h.strip() for h in rows[0]]
    records: list[Record] = []
    skipped = 0
    for row in rows[1:]:
        if not row or not any(c.strip() for c in row):
            continue
        well = well_of(row[0])
        if well is None:
            skipped += 1
            continue
        for name, raw in zip(header[1:], row[1:], strict=False):
            if name:
                records.append((1, name, well[0], well[1], raw))
    metadata = {"software": "FlowJo", "statistics": "; ".join(h for h in header[1:] if h)}
    if skipped:
        metadata["skipped_rows"] = str(skipped)
    return build_export(
        path, FORMAT, records, metadata,
        "Export the FlowJo table with the sample (FCS file) name in the first column.",
    )  # fmt: skip
