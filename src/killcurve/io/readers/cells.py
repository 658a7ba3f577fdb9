"""Turning one exported cell of text into a reading: value, flag, raw text.

Shared by every reader so that overflow markers and non-numeric cells are
treated the same whatever the instrument. A reading is never invented: text
that is not a plain number gives ``signal = null`` and a flag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

#: Flags a reader may put in the ``flag`` column (null for an ordinary number).
FLAGS = ("overflow", "not_numeric", "empty")
#: Up to this many cells (a few 1536-well plates), :func:`cells_frame` classifies in Python.
SMALL = 5000
#: Columns and types of every reader's frame (see :func:`cells_frame`).
SCHEMA = {
    "plate_index": pl.Int32,
    "read": pl.String,
    "well": pl.String,
    "row": pl.String,
    "col": pl.Int32,
    "signal": pl.Float64,
    "flag": pl.String,
    "raw": pl.String,
    "cycle": pl.Int32,
    "time_s": pl.Float64,
    "timestamp": pl.String,
}

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
    records: Sequence[tuple], decimal: str = ".", tables: Sequence[pl.DataFrame] = ()
) -> pl.DataFrame:
    """Build the common reader frame from ``(plate_index, read, row, col, raw)`` tuples.

    A reading at one time point of a kinetic read carries three more fields,
    ``(…, cycle, time_s, timestamp)``. Columns: ``plate_index`` (Int32, 1-based
    order of the plate in the file), ``read`` (String), ``well`` (``A1`` style,
    no zero padding), ``row``, ``col`` (Int32, 1-based), ``signal`` (Float64 in
    the instrument's own unit — RLU, RFU, OD, counts/s — never rescaled; null
    unless a plain number), ``flag`` (null or one of :data:`FLAGS`), ``raw``
    (the cell text as exported); then the time of the reading, null for an
    endpoint read: ``cycle`` (Int32, 1-based number of the time point in its
    read), ``time_s`` (Float64, seconds since the first reading of that read's
    series: cycle 1 starts at 0) and ``timestamp`` (String, the file's own time
    of the point as written, e.g. ``0:07:31``; null where the file gives none).
    ``tables`` are more such cells already as frames (columns ``plate_index``,
    ``read``, ``row``, ``col``, ``raw``, ``cycle``, ``time_s``, ``timestamp``),
    appended after ``records``.

    >>> frame = cells_frame([(1, "Lum", "A", 1, "5"), (1, "OD", "A", 1, "0.5", 2, 30.0, "0:30")])
    >>> frame.select("read", "signal", "cycle", "time_s", "timestamp").rows()
    [('Lum', 5.0, None, None, None), ('OD', 0.5, 2, 30.0, '0:30')]
    """
    timed = any(len(r) > 5 for r in records)
    if timed:
        records = [r if len(r) > 5 else (*r, None, None, None) for r in records]
    columns = list(zip(*records, strict=True)) if records else [()] * 5
    n = len(records)
    data = {
        "plate_index": columns[0],
        "read": columns[1],
        "row": columns[2],
        "col": columns[3],
        "raw": columns[4],
        "cycle": columns[5] if timed else [None] * n,
        "time_s": columns[6] if timed else [None] * n,
        "timestamp": columns[7] if timed else [None] * n,
    }
    if not tables and n <= SMALL:
        # A plate or two: classified cell by cell in Python, one frame built at once (each
        # polars operation costs ~0.1 ms, more than these cells do).
        classes = [classify(raw, decimal) for raw in columns[4]] if n else []
        data |= {
            "raw": [raw or "" for raw in columns[4]],
            "signal": [c[0] for c in classes],
            "flag": [c[1] for c in classes],
            "well": [f"{r}{c}" for r, c in zip(columns[2], columns[3], strict=True)],
        }
        return pl.DataFrame({k: data[k] for k in SCHEMA}, schema=SCHEMA)
    frame = pl.DataFrame(
        data,
        schema={k: SCHEMA[k] for k in ("plate_index", "read", "row", "col", "raw")}
        | {k: SCHEMA[k] for k in ("cycle", "time_s", "timestamp")},
    )
    if tables:
        frame = pl.concat([frame, *(t.select(frame.columns).cast(frame.schema) for t in tables)])
    # Each distinct text is classified once (a kinetic run repeats its values: 10⁴ of 1.6·10⁵).
    frame = frame.with_columns(pl.col("raw").fill_null(""))
    classes = frame.select(pl.col("raw").unique()).with_columns(
        *classify_expr(pl.col("raw"), decimal)
    )
    return (
        frame.join(classes, on="raw", how="left", maintain_order="left")
        .with_columns(pl.format("{}{}", "row", "col").alias("well"))
        .select(list(SCHEMA))
    )


def classify_expr(raw: pl.Expr, decimal: str = ".") -> tuple[pl.Expr, pl.Expr]:
    """:func:`classify` as polars expressions: ``(signal, flag)`` of a column of cell text.

    >>> frame = pl.DataFrame({"raw": ["1234.5", "OVRFLW", "1,5", "  ", None]})
    >>> frame.select(*classify_expr(pl.col("raw"))).rows()
    [(1234.5, None), (None, 'overflow'), (None, 'not_numeric'), (None, 'empty'), (None, 'empty')]
    """
    text = raw.fill_null("").str.strip_chars()
    candidate = text.str.replace_all(re.escape(decimal), ".") if decimal != "." else text
    number = candidate.str.contains(_NUMBER.pattern)
    if decimal != ".":
        number = number & ~text.str.contains(".", literal=True)
    empty, overflow = text == "", text.str.contains("(?i)" + _OVERFLOW.pattern)
    signal = pl.when(number & ~empty & ~overflow).then(candidate.cast(pl.Float64, strict=False))
    flag = (
        pl.when(empty)
        .then(pl.lit("empty"))
        .when(overflow)
        .then(pl.lit("overflow"))
        .when(number)
        .then(None)
        .otherwise(pl.lit("not_numeric"))
    )
    return signal.alias("signal"), flag.alias("flag")
