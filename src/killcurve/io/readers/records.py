"""From the cells a reader collected to a :class:`PlateExport`.

Every reader gathers ``(plate_index, read, row, col, raw)`` records and hands
them to :func:`build_export`, which guesses the decimal mark, refuses files
without plate data or with a well given twice, and builds the common frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.cells import cells_frame
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.text import guess_decimal

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
) -> PlateExport:
    """The :class:`PlateExport` of ``records``; ``hint`` says what to do when there are none.

    ``records`` mixes endpoint cells (:data:`Record`) and kinetic ones
    (:data:`Point`). The decimal mark is guessed from the readings (see
    :func:`~killcurve.io.readers.text.guess_decimal`) and noted in the
    metadata as ``decimal_mark`` when it is a comma. A file with kinetic reads
    notes ``kinetic_reads`` (their names) and ``time_points`` (how many).
    """
    if not records:
        raise KillcurveInputError(f"{path}: no plate data found in this {fmt} export. {hint}")
    seen: set[tuple] = set()
    for record in records:
        key = (*record[:4], record[5] if len(record) > 5 else None)
        if key in seen:
            plate, read, row, col = record[:4]
            at = f" time point {key[4]}" if key[4] is not None else ""
            raise KillcurveInputError(
                f"{path}: plate {plate} read {read!r} well {row}{col}{at} appears twice. "
                "The export mixes two runs under one name: export them to separate files."
            )
        seen.add(key)
    kinetic = {r[1]: None for r in records if len(r) > 5}
    if kinetic:
        cycles = max(r[5] for r in records if len(r) > 5)
        metadata = {**metadata, "kinetic_reads": "; ".join(kinetic), "time_points": str(cycles)}
        records = _since_first(records)
    decimal = guess_decimal(r[4] for r in records)
    if decimal != ".":
        metadata = {**metadata, "decimal_mark": decimal}
    return PlateExport(
        data=cells_frame(records, decimal), metadata=metadata, format=fmt, path=Path(path)
    )


def _since_first(records: Sequence[Record | Point]) -> list[Record | Point]:
    """``records`` with each kinetic read's times shifted so its first reading is at 0 s.

    Readers give times on the file's own clock (Gen5 counts from the start of
    the run, so its first kinetic point may be at 0:07:31); ``time_s`` counts
    from the first reading of the same plate and read.
    """
    first: dict[tuple[int, str], float] = {}
    for record in records:
        if len(record) > 5 and record[6] is not None:
            key = (record[0], record[1])
            first[key] = min(first.get(key, record[6]), record[6])
    return [
        r if len(r) <= 5 or r[6] is None else (*r[:6], r[6] - first[(r[0], r[1])], r[7])
        for r in records
    ]


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
