"""``vi_cell_xr``: Beckman Coulter Vi-CELL XR exports, three layouts.

- **Run summary** workbook (xls from 2.04, xlsx from 2.06): the software
  version in the first cell, export path and ``Unit S/N:``, then a two-line
  header: names in one row, units in the next. Joined, ``Total cells`` +
  ``/ml (x10^6)`` is the total concentration and ``Viable cells`` +
  ``/ml (x10^6)`` the viable one (×10^6 cells/mL, from the unit row);
  ``Viability`` + ``(%)``; the *count* columns share the names (``Total`` +
  ``cells`` in 2.06, ``Total cells`` + blank in 2.04), so columns are told
  apart by the joined name. ``Sample date`` or ``Sample date/time``
  (``7 Oct 2022  11:52:44 AM``). A row of column indices under the header
  (``0 1 2 …``, seen in re-saved workbooks) is skipped; numbers stored as text
  are read like numbers.
- **Single-sample report** workbook (2.04): labels in column A, values in
  C or D: ``Sample ID``, ``Sample date``, ``Total cells`` and ``Viable cells``
  (counts), ``Viability (%)``, ``Total cells / ml (x10^6)``,
  ``Viable cells / ml (x10^6)``.
- **Result text** (2.06, ``.txt``): ``key : value`` lines: ``Sample ID``,
  ``RunDate``, ``Total cells``, ``Viable cells``, ``Viability (%)``,
  ``Total cells / ml (x 10^6)``, ``Total viable cells / ml (x 10^6)``.

The workbook's sheet and rows are found by content, not by position.
"""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.counters.model import CounterExport, RawCount, Source, build_export
from killcurve.io.counters.tables import cell, find_column, find_key, optional_column
from killcurve.io.counters.values import required_scale
from killcurve.io.readers.sheets import Sheets, is_workbook, read_sheets
from killcurve.io.readers.text import read_text

FORMAT = "vi_cell_xr"
INSTRUMENT = "Beckman Coulter Vi-CELL XR"
TIME_FORMATS = ("%d %b %Y %I:%M:%S %p", "%d %b %Y %H:%M:%S")
_TEXT_PAIR = re.compile(r"^(?P<key>[^:]+?)\s*:\s?(?P<value>.*)$")


def looks_like(text: str) -> bool:
    """Vi-CELL XR result text: the first line names the software (``Vi-CELL XR 2.06.3``)."""
    return text.lstrip().startswith("Vi-CELL XR")


def looks_like_book(sheets: Sheets) -> bool:
    """Vi-CELL XR workbook: a sheet whose first cell names the software."""
    return _sheet(sheets) is not None


def read_vi_cell_xr(path: Path) -> CounterExport:
    """Read a Vi-CELL XR run summary, single-sample report or result text (see module docs)."""
    if not is_workbook(path):
        text = read_text(path, allow_latin1=True)
        pairs: dict[str, str] = {}
        for line in text.splitlines()[1:]:
            match = _TEXT_PAIR.match(line.strip())
            if match:
                pairs.setdefault(match["key"], match["value"].strip())
        metadata = {"software_version": text.lstrip().splitlines()[0].strip(), "layout": "text"}
        return _single_sample(path, pairs, "RunDate", metadata)
    found = _sheet(read_sheets(path))
    if found is None:
        raise KillcurveInputError(
            f"{path}: no sheet starts with 'Vi-CELL XR'. Export the run summary or the "
            "sample report from the Vi-CELL XR software unchanged."
        )
    name, rows = found
    start = next((i for i, row in enumerate(rows) if cell(row, 0) == "Sample ID"), None)
    if start is None:
        raise KillcurveInputError(
            f"{path}: sheet {name!r} has no 'Sample ID' row. Export the run summary "
            "(one row per sample) from the Vi-CELL XR software."
        )
    metadata = _book_metadata(rows[:start])
    if sum(bool(c.strip()) for c in rows[start]) >= 4:
        return _run_summary(path, name, rows, start, metadata)
    labels: dict[str, str] = {}
    for row in rows:
        if cell(row, 0):
            labels.setdefault(cell(row, 0), next((c.strip() for c in row[1:5] if c.strip()), ""))
    return _single_sample(path, labels, "Sample date", {**metadata, "layout": "sample report"})


def _sheet(sheets: Sheets) -> tuple[str, list[list[str]]] | None:
    """The first sheet whose first cell names the Vi-CELL XR software."""
    return next(
        (
            (n, rows)
            for n, rows in sheets.items()
            if rows and cell(rows[0], 0).startswith("Vi-CELL XR")
        ),
        None,
    )


def _book_metadata(head: list[list[str]]) -> dict[str, str]:
    """Software version, serial number and export path from the rows above the header."""
    metadata = {"software_version": cell(head[0], 0)}
    for row in head[1:]:
        text = cell(row, 0)
        if text.startswith("Unit S/N"):
            metadata["serial_number"] = text.split(":", 1)[1].strip()
        elif text and not text.startswith("Beckman Coulter"):
            metadata.setdefault("export_path", text)
    return metadata


def _run_summary(
    path: Path, sheet: str, rows: list[list[str]], start: int, metadata: dict[str, str]
) -> CounterExport:
    """One row per sample under the two-line header at ``rows[start]``."""
    names, units = rows[start], rows[start + 1] if start + 1 < len(rows) else []
    header = [" ".join(f"{name} {cell(units, i)}".split()) for i, name in enumerate(names)]
    sample = find_column(path, header, r"^sample id$", "Sample ID")
    total = find_column(path, header, r"^total\b.*/\s*ml", "total cells /ml")
    viable = find_column(path, header, r"^viable\b.*/\s*ml", "viable cells /ml")
    viability = find_column(path, header, r"^viability\b", "viability (%)")
    total_count = optional_column(header, r"^total cells$")
    viable_count = optional_column(header, r"^viable cells$")
    when = optional_column(header, r"^sample date")
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
    body = list(enumerate(rows[start + 2 :], start=start + 3))
    if body and _is_index_row(body[0][1]):
        metadata["skipped_rows"] = f"row {body[0][0]}: column indices under the header"
        body = body[1:]
    raws = [
        RawCount(
            where=f"sheet {sheet!r} row {number}",
            sample=cell(row, sample),
            total=cell(row, total),
            viable=cell(row, viable),
            viability=cell(row, viability),
            total_count=cell(row, total_count),
            viable_count=cell(row, viable_count),
            measured_at=cell(row, when),
        )
        for number, row in body
        if any(c.strip() for c in row)
    ]
    return build_export(path, FORMAT, source, raws, {**metadata, "layout": "run summary"})


def _is_index_row(row: list[str]) -> bool:
    """True for a row of column numbers (``0 1 2 …``) rather than a sample."""
    filled = [c.strip() for c in row if c.strip()]
    return bool(filled) and filled[0] == "0" and all(c.isdigit() for c in filled)


def _single_sample(
    path: Path, pairs: dict[str, str], date_key: str, metadata: dict[str, str]
) -> CounterExport:
    """One sample from ``label -> value`` pairs (report workbook or result text)."""
    total = find_key(path, pairs, r"^total cells\s*/\s*ml", "total cells / ml")
    viable = find_key(path, pairs, r"^(total )?viable cells\s*/\s*ml", "viable cells / ml")
    viability = find_key(path, pairs, r"^viability", "viability (%)")
    source = Source(
        instrument=INSTRUMENT,
        total=total,
        viable=viable,
        viability=viability,
        total_scale=required_scale(path, total),
        viable_scale=required_scale(path, viable),
        viability_in_percent="%" in viability,
        time_formats=TIME_FORMATS,
    )
    raw = RawCount(
        where="",
        sample=pairs.get("Sample ID", ""),
        total=pairs[total],
        viable=pairs[viable],
        viability=pairs[viability],
        total_count=pairs.get("Total cells", ""),
        viable_count=pairs.get("Viable cells", ""),
        measured_at=pairs.get(date_key, ""),
    )
    if "Unit S/N" in pairs:
        metadata["serial_number"] = pairs["Unit S/N"]
    return build_export(path, FORMAT, source, [raw], metadata)
