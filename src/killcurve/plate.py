"""Plate geometry: plate sizes, row letters and numbers, well names.

Rows are lettered ``A``…``Z`` then ``AA``…``AF`` (1536-well plates have 32
rows); BMG MARS writes rows 27–32 as lower-case ``a``…``f`` instead. Wells are
named row letter + column number without zero padding (``A1``, ``P24``, ``AF48``).
"""

from __future__ import annotations

import re
import string

import numpy as np
import polars as pl

#: wells -> (rows, columns) of the standard SBS plate sizes.
PLATE_SHAPES: dict[int, tuple[int, int]] = {
    6: (2, 3),
    12: (3, 4),
    24: (4, 6),
    48: (6, 8),
    96: (8, 12),
    384: (16, 24),
    1536: (32, 48),
}

_ROW = re.compile(r"^[A-Z]{1,2}$")
_WELL = re.compile(r"^([A-Za-z]{1,2})[\s:_-]?0*(\d{1,2})$")


def row_letter(index: int) -> str:
    """Row name of the 0-based row ``index``.

    >>> row_letter(0), row_letter(15), row_letter(26), row_letter(31)
    ('A', 'P', 'AA', 'AF')
    """
    letters = string.ascii_uppercase
    return letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]


def row_name(label: str, position: int) -> str | None:
    """Normalised row name of a matrix row label, or None if it is not one.

    ``position`` is the 0-based index of the row inside its matrix; BMG's
    lower-case ``a``…``f`` after ``Z`` are rows ``AA``…``AF``.

    >>> row_name("B", 1), row_name("a", 26), row_name("Total", 3)
    ('B', 'AA', None)
    """
    text = label.strip()
    if _ROW.match(text):
        return text
    if len(text) == 1 and text.islower() and position >= 26:
        return "A" + text.upper()
    return None


def split_well(name: str) -> tuple[str, int] | None:
    """``(row, column)`` of a well name as instruments write it, or None.

    Accepts ``A1``, ``A01``, ``A 2`` (Multiskan), ``A:1`` (GloMax).

    >>> split_well("A01"), split_well("p 24"), split_well("A:1"), split_well("Well")
    (('A', 1), ('P', 24), ('A', 1), None)
    """
    match = _WELL.match(name.strip())
    if not match:
        return None
    return match.group(1).upper(), int(match.group(2))


_LETTERS = {ch: i for i, ch in enumerate(string.ascii_uppercase, start=1)}


def row_index(row: pl.Expr) -> pl.Expr:
    """1-based plate row number from its letters: ``A`` → 1, ``P`` → 16, ``AF`` → 32."""
    up = row.str.to_uppercase()
    first = up.str.slice(0, 1).replace_strict(_LETTERS, default=None, return_dtype=pl.Int64)
    second = up.str.slice(1, 1).replace_strict(_LETTERS, default=None, return_dtype=pl.Int64)
    return pl.when(second.is_null()).then(first).otherwise(26 * first + second)


def plate_shape(rows: np.ndarray, cols: np.ndarray) -> tuple[int, int]:
    """(rows, columns) of the smallest standard plate holding the wells: 96, 384 or 1536."""
    for n_rows, n_cols in (PLATE_SHAPES[96], PLATE_SHAPES[384], PLATE_SHAPES[1536]):
        if rows.max() <= n_rows and cols.max() <= n_cols:
            return n_rows, n_cols
    raise ValueError("wells beyond a 1536-well plate")
