"""``cell_index_csv``: impedance cell index in long form, one row per well and sweep.

Columns (names case-insensitive, any order): ``well`` (``A1``/``A01``),
``time_h`` (hours since the start of the recording) and ``cell_index``. Each
sweep becomes one *read* named ``"<time> h"`` (``"24 h"``, ``"0.5 h"``), so the
samplesheet's ``read`` picks the analysis time and ``normalise_read`` the sweep
at effector addition (the cell index is divided by its value there, as the
xCELLigence software's "normalised cell index" does).
"""

from __future__ import annotations

from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import Record, build_export
from killcurve.io.readers.text import csv_rows, read_text
from killcurve.plate import split_well

FORMAT = "cell_index_csv"
COLUMNS = ("well", "time_h", "cell_index")


def looks_like(text: str) -> bool:
    """True when the header names the three columns."""
    first = next((line for line in text.splitlines() if line.strip()), "").lower()
    return all(c in first for c in COLUMNS)


def sweep_name(time_h: str) -> str:
    """Read name of a sweep: ``"24.0"`` → ``"24 h"``.

    >>> sweep_name("24.0"), sweep_name("0.50")
    ('24 h', '0.5 h')
    """
    return f"{float(time_h):g} h"


def read_cell_index(path: Path) -> PlateExport:
    """Read a long cell-index table into one read per sweep."""
    rows = csv_rows(read_text(path, allow_latin1=True))
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise KillcurveInputError(
            f"{path}: cell_index_csv needs columns {', '.join(COLUMNS)}; "
            f"missing {', '.join(missing)} (header: {', '.join(rows[0])})."
        )
    at = {c: header.index(c) for c in COLUMNS}
    records: list[Record] = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        well = split_well(row[at["well"]])
        try:
            sweep = sweep_name(row[at["time_h"]])
        except ValueError:
            raise KillcurveInputError(
                f"{path} line {line_no}: time_h {row[at['time_h']]!r} is not a number of hours."
            ) from None
        if well is None:
            raise KillcurveInputError(
                f"{path} line {line_no}: {row[at['well']]!r} is not a well name (A1 … P24)."
            )
        records.append((1, sweep, well[0], well[1], row[at["cell_index"]]))
    return build_export(path, FORMAT, records, {"software": "cell index table"}, "Add rows.")
