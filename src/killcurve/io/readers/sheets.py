"""Excel workbooks (xlsx, xls) as rows of cell text, through fastexcel (Rust calamine).

Every cell comes back as text: numbers in their shortest exact decimal form
(``0.1462``, ``8168026``), dates as ``YYYY-MM-DD hh:mm:ss``, empty cells as
``""``. Readers then treat workbook rows exactly like split text lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import fastexcel

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.text import require_file

#: Sheet name -> rows of cell text.
Sheets = dict[str, list[list[str]]]

#: First bytes of the workbook containers: xlsx (zip) and xls (OLE2).
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")

_KEY_IN_CELL = re.compile(r"^([A-Za-z][^:]{0,60}):\s+(\S.*)$")


def is_workbook(path: Path) -> bool:
    """True when the file starts like an xlsx or xls workbook (whatever its extension)."""
    with require_file(path).open("rb") as handle:
        return handle.read(4) in WORKBOOK_MAGIC


def read_sheets(
    path: Path, n_rows: int | None = None, names: tuple[str, ...] | None = None
) -> Sheets:
    """All sheets of the workbook at ``path`` (the first ``n_rows`` rows of each, if given).

    ``names``: only these sheets, those the workbook has (the others are not loaded).
    """
    path = require_file(path)
    try:
        book = fastexcel.read_excel(path)
    except Exception as err:  # fastexcel raises its own error types for broken files
        raise KillcurveInputError(
            f"{path}: not a readable Excel workbook ({err}). Re-export it from the reader "
            "software, or open and save it again in Excel."
        ) from None
    sheets: Sheets = {}
    for name in book.sheet_names:
        if names is not None and name not in names:
            continue
        try:
            frame = book.load_sheet(name, header_row=None, dtypes="string", n_rows=n_rows)
        except Exception:  # an empty sheet has no range to load
            sheets[name] = []
            continue
        sheets[name] = [
            ["" if cell is None else cell for cell in row] for row in frame.to_polars().rows()
        ]
    return sheets


def key_values(rows: list[list[str]]) -> dict[str, str]:
    """``key -> value`` pairs of a metadata block (first occurrence of each key wins).

    A cell written ``Key: value`` holds a pair by itself; otherwise the first
    filled cell of a row is the key (a trailing colon dropped) and the other
    filled cells, space-joined, the value (``Temperature | 25.5 | °C``).

    >>> key_values([["Serial Number:", "", "9111"], ["Device: Spark", "Serial number: 17"]])
    {'Serial Number': '9111', 'Device': 'Spark', 'Serial number': '17'}
    >>> key_values([["Temperature", "", "25.5", "°C"]])
    {'Temperature': '25.5 °C'}
    """
    found: dict[str, str] = {}
    for row in rows:
        filled = [cell.strip() for cell in row if cell.strip()]
        pairs = [m.groups() for m in map(_KEY_IN_CELL.match, filled) if m]
        if not pairs and len(filled) >= 2:
            pairs = [(filled[0].rstrip(":").strip(), " ".join(filled[1:]))]
        for key, value in pairs:
            found.setdefault(key.strip(), value.strip())
    return found
