"""``grid_csv``: one plate as a comma-separated grid.

The first row is ``,1,2,…,12`` (96-well) or ``,1,…,24`` (384-well); each
following row starts with its row letter (``A``…``H`` or ``A``…``P``) and holds
one reading per column. Readings use ``.`` as decimal point; overflow markers
(``OVRFLW``, ``Sat``, ``*****``, ``>…``) are kept as flagged wells.
"""

from __future__ import annotations

import csv
import io
import string
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.cells import cells_frame
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.text import read_text

#: (rows, columns) of the plate sizes grid_csv accepts.
PLATE_SHAPES = {12: 8, 24: 16}


def looks_like(text: str) -> bool:
    """True when the first non-blank line is a ``,1,2,…`` column header."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    cells = [c.strip() for c in first.split(",")]
    return len(cells) >= 13 and cells[0] == "" and cells[1:4] == ["1", "2", "3"]


def read_grid_csv(path: Path) -> PlateExport:
    """Read a ``grid_csv`` file into the common reader frame (one plate, read ``"1"``)."""
    path = Path(path)
    text = read_text(path)
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    header = [c.strip() for c in rows[0]]
    while header and header[-1] == "":
        header.pop()
    n_cols = len(header) - 1
    expected = [str(i) for i in range(1, n_cols + 1)]
    if header[0] != "" or header[1:] != expected or n_cols not in PLATE_SHAPES:
        raise KillcurveInputError(
            f"{path}: line 1 is not a grid_csv column header (got {','.join(header[:6])}…). "
            "grid_csv wants ',1,2,…,12' (96-well) or ',1,…,24' (384-well) on the first line; "
            "if this is an instrument export, set its format in the samplesheet."
        )
    n_rows = PLATE_SHAPES[n_cols]
    letters = string.ascii_uppercase[:n_rows]
    body = rows[1:]
    if len(body) != n_rows:
        raise KillcurveInputError(
            f"{path}: {len(body)} plate rows after the header, expected {n_rows} "
            f"({letters[0]}–{letters[-1]}) for a {n_rows * n_cols}-well plate. "
            "Is the export truncated or from another plate size?"
        )
    records = []
    for line_no, (letter, row) in enumerate(zip(letters, body, strict=True), start=2):
        cells = list(row)
        while len(cells) > n_cols + 1 and cells[-1].strip() == "":
            cells.pop()
        if cells[0].strip().upper() != letter:
            raise KillcurveInputError(
                f"{path}: line {line_no} starts with {cells[0]!r}, expected row letter "
                f"{letter!r}. Rows must run {letters[0]}–{letters[-1]} in order."
            )
        if len(cells) != n_cols + 1:
            raise KillcurveInputError(
                f"{path}: row {letter} (line {line_no}) has {len(cells) - 1} readings, "
                f"expected {n_cols}. A decimal comma (1,5 instead of 1.5) splits a reading "
                "in two: export with a decimal point, or quote the values."
            )
        records.extend((1, "1", letter, j, raw) for j, raw in enumerate(cells[1:], start=1))
    return PlateExport(data=cells_frame(records), metadata={}, format="grid_csv", path=path)
