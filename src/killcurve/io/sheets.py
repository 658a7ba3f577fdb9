"""Tab-separated sheets written by people: the samplesheet and the exclusions sheet.

Both are read the same way: UTF-8 (with or without BOM), Windows or Unix line
ends, blank lines and ``#`` comment lines ignored, every cell as stripped text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError


def read_sheet(path: Path, what: str, required: Sequence[str]) -> pl.DataFrame | None:
    """The sheet's rows as text columns, or None when it has no row below the header.

    ``what`` names the sheet in messages (``samplesheet``). Stops when a
    ``required`` column is missing or one of its cells is empty (naming the line), or a
    quote left open swallows tabs or line ends.
    """
    lines = [line for _, line in _kept_lines(path)]
    if len(lines) < 2:
        return None
    try:
        sheet = pl.read_csv(
            io.StringIO("\n".join(lines)), separator="\t", infer_schema=False, quote_char='"'
        )
    except pl.exceptions.ComputeError:
        raise KillcurveInputError(
            f'{what} {path}: a quote (") opens a cell that does not end where the quote '
            "closes. Close the quote left open, or remove the quotes."
        ) from None
    sheet = sheet.rename({c: c.strip() for c in sheet.columns}).with_columns(
        pl.all().str.strip_chars()
    )
    missing = [c for c in required if c not in sheet.columns]
    if missing:
        hint = " (is it tab-separated?)" if len(sheet.columns) == 1 else ""
        raise KillcurveInputError(
            f"{what} {path}: missing column(s) {', '.join(missing)}{hint}. "
            f"Required columns: {', '.join(required)}."
        )
    numbers = data_lines(path)
    if len(numbers) != sheet.height:
        raise KillcurveInputError(
            f"{what} {path}: {sheet.height} rows read from {len(numbers)} lines; a cell spans "
            'several lines. Close the quote (") left open, or remove the quotes.'
        )
    numbered = sheet.with_columns(pl.Series("line", numbers, dtype=pl.Int64))
    for column in required:
        empty = numbered.filter(pl.col(column).is_null() | (pl.col(column) == ""))
        if empty.height:
            raise KillcurveInputError(
                f"{what} {path} line {empty['line'][0]}: {column!r} is empty. "
                "Fill it in on every row."
            )
    return sheet


def _kept_lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, text) of every line that is neither blank nor a ``#`` comment."""
    text = Path(path).read_bytes().decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    return [
        (number, line)
        for number, line in enumerate(text.split("\n"), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def data_lines(path: Path) -> list[int]:
    """Line numbers in the file (1-based) of the rows :func:`read_sheet` returns, in order."""
    return [number for number, _ in _kept_lines(path)][1:]
