"""From the cells a reader collected to a :class:`PlateExport`.

Every reader gathers ``(plate_index, read, row, col, raw)`` records and hands
them to :func:`build_export`, which guesses the decimal mark, refuses files
without plate data or with a well given twice, and builds the common frame.
"""

from __future__ import annotations

from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.cells import cells_frame
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.text import guess_decimal

#: One exported cell: (plate_index, read, row letter, 1-based column, cell text).
Record = tuple[int, str, str, int, str]

KINETIC_HINT = (
    "kinetic export: not supported yet, export endpoint data "
    "(one plate matrix per read) from the reader software."
)


def build_export(
    path: Path, fmt: str, records: list[Record], metadata: dict[str, str], hint: str
) -> PlateExport:
    """The :class:`PlateExport` of ``records``; ``hint`` says what to do when there are none.

    The decimal mark is guessed from the readings (see
    :func:`~killcurve.io.readers.text.guess_decimal`) and noted in the
    metadata as ``decimal_mark`` when it is a comma.
    """
    if not records:
        raise KillcurveInputError(f"{path}: no plate data found in this {fmt} export. {hint}")
    seen: set[tuple[int, str, str, int]] = set()
    for plate, read, row, col, _ in records:
        key = (plate, read, row, col)
        if key in seen:
            raise KillcurveInputError(
                f"{path}: plate {plate} read {read!r} well {row}{col} appears twice. "
                "The export mixes two runs under one name: export them to separate files."
            )
        seen.add(key)
    decimal = guess_decimal(r[4] for r in records)
    if decimal != ".":
        metadata = {**metadata, "decimal_mark": decimal}
    return PlateExport(
        data=cells_frame(records, decimal), metadata=metadata, format=fmt, path=Path(path)
    )


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
