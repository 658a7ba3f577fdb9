"""ChemoMetec NucleoCounter exports: NucleoView (one sample per file) and NC-View (a table).

``chemometec_nucleoview``, two single-sample layouts:

- *classic* (NC-200, "csv file version 2"): ``key;value;`` lines.
  ``Viability (%)``, ``Live (cells/ml)``, ``Dead (cells/ml)``, ``Total
  (cells/ml)`` in cells/mL (``2.45E6``). There is no sample-ID field: the
  sample is the ``Image`` name as written (``20231120-0012-c-cellsABCD``).
  After the empty ``;`` lines a metadata block may follow: ``Instrument
  type``, ``Instrument s/n``, ``Date time`` (``YYYYMMDD HHMMSS``, local, the
  offset to UTC in hours in ``Time zone offset``), ``Application SW version``.
  The last line is a checksum (``//[ECEC5A41]``).
- *tab-separated* (NC-202 style): ``Key:<TAB>value`` lines with
  ``Sample ID:``, ``Time (UTC):``, ``Total (cells/ml):``, ``Live (cells/ml):``,
  ``Viability (%):``, ``Status:``.

A value the software annotates (``3.58E3 (Out of optimal range)``,
``Not determined``) is not read as a number: it is left empty and quoted in
``note``.

``chemometec_nc_view``: NC-View CSV, one row per sample: ``NAME`` (run id),
``SAMPLE ID`` (the sample; ``NAME`` when empty), ``STATUS`` (quoted in
``note`` unless ``OK``), ``TOTAL (cells/ml)``, ``LIVE (cells/ml)``,
``VIABILITY (%)``. Numbers carry a no-break-space thousands separator
(``274 000``) below 10^6 and E notation above. There is no timestamp.
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.io.counters.model import CounterExport, RawCount, Source, build_export
from killcurve.io.counters.tables import cell, find_column, find_key, optional_column
from killcurve.io.counters.values import required_scale
from killcurve.io.readers.text import csv_rows, read_text

NUCLEOVIEW = "chemometec_nucleoview"
NC_VIEW = "chemometec_nc_view"
INSTRUMENT = "ChemoMetec NucleoCounter"
_METADATA = {
    "Instrument type": "instrument_type",
    "Instrument s/n": "serial_number",
    "Instrument": "serial_number",
    "Application SW version": "software_version",
    "Software version": "software_version",
    "Protocol": "protocol",
    "Protocol template title": "protocol",
    "Operator": "operator",
    "Time zone offset": "time_zone_offset_h",
    "csv file version": "csv_file_version",
}


def looks_like_nucleoview(text: str) -> bool:
    """NucleoView: ``Live (cells/ml)`` as a ``;``-separated or ``:<TAB>`` key."""
    head = text[:3000]
    return "Live (cells/ml);" in head or "Live (cells/ml):\t" in head


def looks_like_nc_view(text: str) -> bool:
    """NC-View: a header row starting ``NAME,SAMPLE ID`` with a ``LIVE (cells/ml)`` column."""
    first = text.lstrip().split("\n", 1)[0]
    return first.startswith("NAME,SAMPLE ID") and "LIVE (cells/ml)" in first


def read_nucleoview(path: Path) -> CounterExport:
    """Read one NucleoView result file, classic or tab-separated (see module docs)."""
    text = read_text(path, allow_latin1=True)
    tabbed = ":\t" in text
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":\t" if tabbed else ";")
        value = rest if tabbed else rest.split(";")[0]
        if key.strip() and not key.startswith("//"):
            pairs.setdefault(key.strip(), value.strip())
    total = find_key(path, pairs, r"^total\b.*/ml", "Total (cells/ml)")
    live = find_key(path, pairs, r"^live\b.*/ml", "Live (cells/ml)")
    viability = find_key(path, pairs, r"^viability\s*(\(.*\))?$", "Viability (%)")
    date_key = "Time (UTC)" if tabbed else "Date time"
    source = Source(
        instrument=INSTRUMENT,
        total=total,
        viable=live,
        viability=viability,
        total_scale=required_scale(path, total),
        viable_scale=required_scale(path, live),
        viability_in_percent="%" in viability,
        time_formats=("%Y-%m-%d %H:%M:%S",) if tabbed else ("%Y%m%d %H%M%S",),
    )
    raw = RawCount(
        where="",
        sample=pairs.get("Sample ID", "") if tabbed else pairs.get("Image", ""),
        total=pairs[total],
        viable=pairs[live],
        viability=pairs[viability],
        measured_at=pairs.get(date_key, ""),
        note="" if pairs.get("Status", "OK") == "OK" else f"Status: {pairs['Status']}",
    )
    offset = pairs.get("Time zone offset", "")
    metadata = {
        "software": "NucleoView",
        "layout": "tab-separated" if tabbed else "classic",
        "time_zone": "UTC" if tabbed else f"UTC{float(offset):+g} h" if offset else "not stated",
    }
    for key, name in _METADATA.items():
        if pairs.get(key):
            metadata.setdefault(name, re.sub(r"^s/n:?\s*", "", pairs[key], flags=re.IGNORECASE))
    return build_export(path, NUCLEOVIEW, source, [raw], metadata)


def read_nc_view(path: Path) -> CounterExport:
    """Read an NC-View result table (see module docs)."""
    rows = csv_rows(read_text(path, allow_latin1=True), delimiter=",")
    header = rows[0]
    name = find_column(path, header, r"^name$", "NAME")
    sample = find_column(path, header, r"^sample id$", "SAMPLE ID")
    total = find_column(path, header, r"^total\b.*/ml", "TOTAL (cells/ml)")
    live = find_column(path, header, r"^live\b.*/ml", "LIVE (cells/ml)")
    viability = find_column(path, header, r"^viability\b", "VIABILITY (%)")
    status = optional_column(header, r"^status$")
    instrument = optional_column(header, r"^instrument$")
    source = Source(
        instrument=INSTRUMENT,
        total=header[total],
        viable=header[live],
        viability=header[viability],
        total_scale=required_scale(path, header[total]),
        viable_scale=required_scale(path, header[live]),
        viability_in_percent="%" in header[viability],
    )
    body = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)]
    raws = [
        RawCount(
            where=f"line {number}",
            sample=cell(row, sample) or cell(row, name),
            total=cell(row, total),
            viable=cell(row, live),
            viability=cell(row, viability),
            note="" if cell(row, status) in ("", "OK") else cell(row, status),
        )
        for number, row in body
    ]
    metadata = {"software": "NC-View"}
    serials = sorted({cell(row, instrument).removeprefix("S/N:").strip() for _, row in body})
    if any(serials):
        metadata["serial_number"] = ", ".join(s for s in serials if s)
    return build_export(path, NC_VIEW, source, raws, metadata)
