"""From the cells a reader collected to a :class:`PlateExport`.

Every reader gathers ``(plate_index, read, row, col, raw)`` records and hands
them to :func:`build_export`, which guesses the decimal mark, refuses files
without plate data or with a well given twice, and builds the common frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.cells import cells_frame
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.text import guess_decimal_series

#: One exported cell: (plate_index, read, row letter, 1-based column, cell text).
Record = tuple[int, str, str, int, str]
#: One cell of a kinetic read: a :data:`Record` and (cycle, seconds since the series' first
#: reading, the file's own time text or None).
Point = tuple[int, str, str, int, str, int, float, str | None]

KINETIC_HINT = (
    "The kinetic table holds no readings: export the run again from the reader software "
    "(kinetic reads are read with every time point)."
)


def build_export(
    path: Path,
    fmt: str,
    records: Sequence[Record | Point],
    metadata: dict[str, str],
    hint: str,
    tables: Sequence[pl.DataFrame] = (),
) -> PlateExport:
    """The :class:`PlateExport` of ``records``; ``hint`` says what to do when there are none.

    ``records`` mixes endpoint cells (:data:`Record`) and kinetic ones
    (:data:`Point`, times on the file's own clock: Gen5 counts from the start
    of the run, so its first kinetic point may be at 0:07:31). ``time_s`` is
    shifted so that each plate and read's first reading is at 0 s. The
    decimal mark is guessed from the readings (see
    :func:`~killcurve.io.readers.text.guess_decimal`) and noted in the
    metadata as ``decimal_mark`` when it is a comma. A file with kinetic reads
    notes ``kinetic_reads`` (their names) and ``time_points`` (the most points
    of any read). ``tables``: more cells as frames (the columns of
    :func:`~killcurve.io.readers.cells.cells_frame` before ``signal``, ``flag``
    and ``well`` are worked out), for kinetic tables too large for tuples.
    """
    if not records and not any(t.height for t in tables):
        raise KillcurveInputError(f"{path}: no plate data found in this {fmt} export. {hint}")
    raws = [pl.Series("raw", [r[4] for r in records], dtype=pl.String)]
    decimal = guess_decimal_series(*raws, *(t["raw"] for t in tables))
    data = cells_frame(records, decimal, tables)
    key = ["plate_index", "read", "row", "col", "cycle"]
    # hashes first (one column): the five-column check runs only where two may repeat
    twice = pl.DataFrame()
    if data.select(pl.struct(key).hash().is_duplicated().any()).item():
        twice = data.filter(data.select(key).is_duplicated())
    if twice.height:
        plate, read, row, col, cycle = twice.select(key).row(0)
        at = f" time point {cycle}" if cycle is not None else ""
        raise KillcurveInputError(
            f"{path}: plate {plate} read {read!r} well {row}{col}{at} appears twice. "
            "The export mixes two runs under one name: export them to separate files."
        )
    timed = pl.col("cycle").is_not_null()
    if data.select(timed.any()).item():
        found = data.select(
            pl.col("read").filter(timed).unique(maintain_order=True).implode(),
            pl.col("cycle").max(),
        )
        reads = "; ".join(found["read"][0])
        points = str(found["cycle"][0])
        metadata = {**metadata, "kinetic_reads": reads, "time_points": points}
        first = pl.col("time_s").min().over("plate_index", "read")
        data = data.with_columns(pl.col("time_s") - first)
    if decimal != ".":
        metadata = {**metadata, "decimal_mark": decimal}
    return PlateExport(data=data, metadata=metadata, format=fmt, path=Path(path))


def clock_seconds(text: str) -> float | None:
    """Seconds in a time as exported: ``h:mm:ss``, ``m:ss``, with decimals, or plain seconds.

    >>> clock_seconds("0:07:31"), clock_seconds("0:05"), clock_seconds("00:00:41.29")
    (451.0, 5.0, 41.29)
    >>> clock_seconds("96:00:00"), clock_seconds("1772.1"), clock_seconds("soon")
    (345600.0, 1772.1, None)
    """
    parts = text.strip().replace(",", ".").split(":")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None
    if len(numbers) > 3 or not parts[0]:
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds


def rename_keys(found: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """``found`` with the keys listed in ``names`` renamed to the common metadata names.

    Common names: ``instrument``, ``serial_number``, ``software``,
    ``software_version``, ``read_date``, ``read_time``, ``plate_type``,
    ``read_mode``, ``protocol``, ``user``. Other keys are kept as the file spells them.

    >>> rename_keys({"Reader Type:": "Synergy H1", "Gain": "100"}, {"Reader Type:": "instrument"})
    {'instrument': 'Synergy H1', 'Gain': '100'}
    """
    return {names.get(key, key): value for key, value in found.items() if value != ""}


def join_names(names: list[str]) -> str:
    """Distinct names in first-seen order, ``"; "``-separated (for metadata values).

    >>> join_names(["NormLum", "Blank", "NormLum"])
    'NormLum; Blank'
    """
    return "; ".join(dict.fromkeys(names))
