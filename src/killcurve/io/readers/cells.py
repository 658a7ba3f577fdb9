"""Turning one exported cell of text into a reading: value, flag, raw text.

Shared by every reader so that overflow markers and non-numeric cells are
treated the same whatever the instrument. A reading is never invented: text
that is not a plain number gives ``signal = null`` and a flag.
"""

from __future__ import annotations

import re

import polars as pl

#: Flags a reader may put in the ``flag`` column (null for an ordinary number).
FLAGS = ("overflow", "not_numeric", "empty")

_OVERFLOW = re.compile(
    r"^(ovrflw|overflow|over|sat|saturated|\*+|>.*|range\?|inf|\+inf|oor>?)$", re.IGNORECASE
)
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def classify(raw: str | None, decimal: str = ".") -> tuple[float | None, str | None]:
    """Classify one cell: ``(signal, flag)``.

    ``decimal`` is the decimal separator the export uses (``"."`` or ``","``);
    a number written with the other separator is *not* read as a number.

    >>> classify("1234.5")
    (1234.5, None)
    >>> classify("OVRFLW")
    (None, 'overflow')
    >>> classify("1,5")
    (None, 'not_numeric')
    >>> classify("1,5", decimal=",")
    (1.5, None)
    >>> classify("  ")
    (None, 'empty')
    """
    text = (raw or "").strip()
    if not text:
        return None, "empty"
    if _OVERFLOW.match(text):
        return None, "overflow"
    candidate = text.replace(decimal, ".") if decimal != "." else text
    if decimal != "." and "." in text:
        return None, "not_numeric"
    if _NUMBER.match(candidate):
        return float(candidate), None
    return None, "not_numeric"


def cells_frame(
    records: list[tuple[int, str, str, int, str | None]], decimal: str = "."
) -> pl.DataFrame:
    """Build the common reader frame from ``(plate_index, read, row, col, raw)`` tuples.

    Columns: ``plate_index`` (Int32, 1-based order of the plate in the file),
    ``read`` (String), ``well`` (``A1`` style, no zero padding), ``row``,
    ``col`` (Int32, 1-based), ``signal`` (Float64 in the instrument's own unit —
    RLU, RFU, OD, counts/s — never rescaled; null unless a plain number),
    ``flag`` (null or one of :data:`FLAGS`), ``raw`` (the cell text as exported).
    """
    parsed = [classify(r[4], decimal) for r in records]
    return pl.DataFrame(
        {
            "plate_index": [r[0] for r in records],
            "read": [r[1] for r in records],
            "well": [f"{r[2]}{r[3]}" for r in records],
            "row": [r[2] for r in records],
            "col": [r[3] for r in records],
            "signal": [p[0] for p in parsed],
            "flag": [p[1] for p in parsed],
            "raw": [r[4] if r[4] is not None else "" for r in records],
        },
        schema={
            "plate_index": pl.Int32,
            "read": pl.String,
            "well": pl.String,
            "row": pl.String,
            "col": pl.Int32,
            "signal": pl.Float64,
            "flag": pl.String,
            "raw": pl.String,
        },
    )
