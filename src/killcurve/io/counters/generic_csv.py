"""``generic_csv``: counts typed or exported by hand, one row per sample.

For counters without a reader here (Countess, LUNA, TC20, Cellometer,
haemocytometer). Comma-separated (semicolon or tab also read), UTF-8, a
header row, lines starting with ``#`` ignored. Columns, by name in any order
and case:

==========================  ========================================================
``sample``                  sample ID (required, every row)
``total_cells_per_ml``      total cells per mL, absolute cells/mL (required)
``viable_cells_per_ml``     viable cells per mL, cells/mL      } at least one of the two;
``viability_pct``           viable / total in % (0–100)        } the other is derived
``measured_at``             optional: ISO 8601 local time, ``2024-05-01 14:30[:00]``
``total_count``             optional: cells counted (integer)
``viable_count``            optional: viable cells counted (integer)
``instrument``              optional: the counter used (default ``unspecified``)
==========================  ========================================================

Numbers use a decimal point; E notation (``2.5e6``) is fine. Concentrations
must be cells/mL, not 10^6 cells/mL: a file whose largest total is below
1000 cells/mL is refused. Unlike instrument exports, a cell that is not a
number (or a time that is not ISO 8601, or has a time zone) stops the read
with its line and column, since a person can correct the file. Other columns
are ignored and listed in ``metadata["ignored_columns"]``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.counters.model import CounterExport, RawCount, Source, build_export
from killcurve.io.counters.tables import cell
from killcurve.io.counters.values import parse_count, parse_number
from killcurve.io.readers.text import csv_rows, guess_delimiter, read_text

FORMAT = "generic_csv"
NUMBERS = ("total_cells_per_ml", "viable_cells_per_ml", "viability_pct")
COUNTS = ("total_count", "viable_count")
COLUMNS = ("sample", *NUMBERS, "measured_at", *COUNTS, "instrument")
#: ``measured_at`` is read as ISO 8601 and handed on in this one form.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def looks_like(text: str) -> bool:
    """Generic CSV: a header naming ``sample`` and ``total_cells_per_ml``."""
    first = next((line for line in _lines(text)[:50] if line.strip()), "")
    cells = {c.strip().lower() for c in first.replace(";", ",").replace("\t", ",").split(",")}
    return {"sample", "total_cells_per_ml"} <= cells


def read_generic_csv(path: Path) -> CounterExport:
    """Read a generic counts CSV (columns in the module docstring); stop on any bad cell."""
    lines = _lines(read_text(path))
    first = next((line for line in lines if line), "")
    rows = csv_rows("\n".join(lines), delimiter="\t" if "\t" in first else guess_delimiter(first))
    top = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), 0)
    header = [c.strip().lower() for c in rows[top]] if rows else []
    index = {name: header.index(name) for name in COLUMNS if name in header}
    missing = [name for name in ("sample", "total_cells_per_ml") if name not in index]
    if missing or not {"viable_cells_per_ml", "viability_pct"} & set(index):
        raise KillcurveInputError(
            f"{path}: generic_csv needs columns sample, total_cells_per_ml and "
            "viable_cells_per_ml and/or viability_pct (cells/mL and %); the header has "
            f"{', '.join(header) or 'nothing'}. Rename the columns or add the missing ones."
        )
    body = [
        (n, row)
        for n, row in enumerate(rows[top + 1 :], start=top + 2)
        if any(c.strip() for c in row)
    ]
    for number, row in body:
        _check_row(path, number, row, index)
    raws = [
        RawCount(
            where=f"line {number}",
            sample=cell(row, index["sample"]),
            total=cell(row, index["total_cells_per_ml"]),
            viable=cell(row, index.get("viable_cells_per_ml")),
            viability=cell(row, index.get("viability_pct")),
            total_count=cell(row, index.get("total_count")),
            viable_count=cell(row, index.get("viable_count")),
            measured_at=_iso_time(cell(row, index.get("measured_at"))) or "",
        )
        for number, row in body
    ]
    instruments = {cell(row, index.get("instrument")) or "unspecified" for _, row in body}
    source = Source(
        instrument=", ".join(sorted(instruments)),
        total="total_cells_per_ml",
        viable="viable_cells_per_ml" if "viable_cells_per_ml" in index else "",
        viability="viability_pct" if "viability_pct" in index else "",
        time_formats=(TIME_FORMAT,),
        fill_missing=True,
    )
    metadata: dict[str, str] = {}
    ignored = [name for name in header if name and name not in COLUMNS]
    if ignored:
        metadata["ignored_columns"] = ", ".join(ignored)
    return build_export(path, FORMAT, source, raws, metadata)


def _lines(text: str) -> list[str]:
    """The lines of ``text``, ``#`` comments blanked (so line numbers stay those of the file)."""
    return ["" if line.startswith("#") else line for line in text.splitlines()]


def _check_row(path: Path, number: int, row: list[str], index: dict[str, int]) -> None:
    """Stop at the first cell of a generic CSV row that is missing or not what its column holds."""
    place = f"{path} line {number}"
    if not cell(row, index["sample"]):
        raise KillcurveInputError(f"{place}: no sample ID. Fill in the sample column.")
    place += f" (sample {cell(row, index['sample'])})"
    if not cell(row, index["total_cells_per_ml"]):
        raise KillcurveInputError(f"{place}: total_cells_per_ml is empty. Fill it in (cells/mL).")
    if not any(cell(row, index.get(name)) for name in ("viable_cells_per_ml", "viability_pct")):
        raise KillcurveInputError(
            f"{place}: needs viable_cells_per_ml or viability_pct. Fill in one of them."
        )
    for name, parse, what in (
        *((n, parse_number, "a number with a decimal point") for n in NUMBERS),
        *((n, parse_count, "a whole number") for n in COUNTS),
    ):
        text = cell(row, index.get(name))
        if text and parse(text) is None:
            raise KillcurveInputError(f"{place}: {name} {text!r} is not {what}. Correct it.")
    when = cell(row, index.get("measured_at"))
    if when and _iso_time(when) is None:
        raise KillcurveInputError(
            f"{place}: measured_at {when!r} is not an ISO 8601 date-time without time zone "
            "(like 2024-05-01 14:30). Correct it."
        )


def _iso_time(text: str) -> str | None:
    """``text`` (ISO 8601, no time zone) as ``YYYY-MM-DD HH:MM:SS``; None if it is not one.

    >>> _iso_time("2024-05-01T18:30"), _iso_time("2024-05-01"), _iso_time("1/5/2024")
    ('2024-05-01 18:30:00', '2024-05-01 00:00:00', None)
    """
    try:
        time = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if time.tzinfo else time.strftime(TIME_FORMAT)
