"""Decoding exported text files and splitting them into cells.

Plate-reader software writes UTF-16 (SoftMax Pro), UTF-8 with or without a
byte-order mark (BMG MARS, Kaleido) or Windows Latin-1 (Gen5 on a European
Windows); separators are tabs, commas, or semicolons where the decimal mark is
a comma. These helpers decode the bytes and guess separator and decimal mark
from the content, never from the file name.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError

_POINT_NUMBER = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")
_COMMA_NUMBER = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")


def require_file(path: Path) -> Path:
    """``path`` as a :class:`Path` if it is a file; else stop with what to check."""
    path = Path(path)
    if not path.is_file():
        raise KillcurveInputError(
            f"{path}: file not found. Check the path in the samplesheet "
            "(paths are relative to the study directory)."
        )
    return path


def read_text(path: Path, allow_latin1: bool = False) -> str:
    """Return the text of ``path`` decoded by its byte-order mark, else as UTF-8.

    UTF-16 files (LE/BE, with BOM) and UTF-8 with or without BOM are decoded.
    Without a BOM, bytes that are not UTF-8 are decoded as Latin-1 only when
    ``allow_latin1`` (formats whose software writes Windows-1252/Latin-1);
    otherwise the file is refused with a message that names it.
    """
    path = require_file(path)
    data = path.read_bytes()
    if not data.strip():
        raise KillcurveInputError(f"{path}: the file is empty. Re-export it from the reader.")
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return _decode(path, data, codec)
    if len(data) > 3 and data[1] == 0 and data[3] == 0:  # UTF-16-LE without BOM
        return _decode(path, data, "utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if allow_latin1:
            return data.decode("latin-1")
        bad = data[err.start : err.start + 1]
        raise KillcurveInputError(
            f"{path}: not valid UTF-8 text (byte {err.start}: {bad!r}). "
            "Save the export as UTF-8 (or UTF-16), or use the reader's own format "
            "instead of grid_csv."
        ) from None


def _decode(path: Path, data: bytes, codec: str) -> str:
    """``data`` decoded as ``codec`` (chosen from a byte-order mark); a broken file is refused."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as err:
        raise KillcurveInputError(
            f"{path}: starts like {codec.upper()} text but byte {err.start} breaks it "
            "(truncated or damaged file). Re-export it from the reader software."
        ) from None


def guess_delimiter(text: str) -> str:
    """``";"`` when most non-blank lines of the first 60 hold a semicolon, else ``","``.

    Exports from a Windows set to a decimal-comma locale separate fields with
    semicolons; otherwise plate-reader CSVs use commas.

    >>> guess_delimiter("A;1,5;2,5\\nB;3,5;4,5\\n")
    ';'
    >>> guess_delimiter("A,1.5,2.5\\nB,3.5,4.5\\n")
    ','
    """
    lines = [line for line in text.splitlines()[:60] if line.strip()]
    with_semicolon = sum(";" in line for line in lines)
    return ";" if lines and with_semicolon * 2 >= len(lines) else ","


def csv_rows(text: str, delimiter: str | None = None) -> list[list[str]]:
    """Split delimited text into rows of cells (quotes honoured); delimiter guessed if None."""
    sep = delimiter or guess_delimiter(text)
    return list(csv.reader(io.StringIO(text), delimiter=sep))


def guess_decimal(values: Iterable[str | None]) -> str:
    """The decimal mark of exported readings: ``","`` only if some use it and none use ``"."``.

    Integers say nothing about the mark, so a file of counts stays ``"."``.

    >>> guess_decimal(["12", "0,25", "1,5"])
    ','
    >>> guess_decimal(["12", "0.25", "1,5"])
    '.'
    >>> guess_decimal(["12", "40"])
    '.'
    """
    comma = False
    for value in values:
        text = (value or "").strip()
        if _POINT_NUMBER.match(text):
            return "."
        if _COMMA_NUMBER.match(text):
            comma = True
    return "," if comma else "."


def guess_decimal_series(*columns: pl.Series) -> str:
    """:func:`guess_decimal` over columns of cell text (read in turn), vectorised.

    >>> guess_decimal_series(pl.Series(["12", " 0,25", "1,5"]))
    ','
    >>> guess_decimal_series(pl.Series(["12", "0.25", "1,5", None]))
    '.'
    >>> guess_decimal_series(pl.Series(["1,5"]), pl.Series(["2.5"]))
    '.'
    """

    # a point number among the first cells settles it (a kinetic export has 10⁵ cells);
    # a column without the mark at all is not searched
    def has(parts: list[pl.Series], mark: str, pattern: str) -> bool:
        return any(
            c.str.contains(mark, literal=True).any()
            and c.fill_null("").str.strip_chars().str.contains(pattern).any()
            for c in parts
        )

    if has([c.head(2000) for c in columns], ".", _POINT_NUMBER.pattern):
        return "."
    if has(list(columns), ".", _POINT_NUMBER.pattern):
        return "."
    return "," if has(list(columns), ",", _COMMA_NUMBER.pattern) else "."
