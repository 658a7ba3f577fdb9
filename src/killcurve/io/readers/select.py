"""Choosing one plate and one read inside a multi-plate or multi-read export."""

from __future__ import annotations

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.model import PlateExport


def available(export: PlateExport) -> str:
    """The plates/reads of an export as a readable list (for error messages).

    >>> from killcurve.io.readers.cells import cells_frame
    >>> frame = cells_frame([(1, "Lum", "A", 1, "5"), (2, "Lum", "A", 1, "6")])
    >>> available(PlateExport(data=frame))
    "plate_index 1 read 'Lum', plate_index 2 read 'Lum'"
    """
    parts = export.data.select("plate_index", "read").unique().sort("plate_index", "read")
    return ", ".join(f"plate_index {p} read {r!r}" for p, r in parts.iter_rows())


def select_plate(export: PlateExport, plate_index: int | None, read: str | None) -> pl.DataFrame:
    """The wells of one plate/read of ``export`` (all columns of ``export.data``).

    ``plate_index`` (1-based order of the plate in the file) and ``read``
    (read name as listed by the reader) may be None when the file holds only
    one of them. Stops with :class:`KillcurveInputError` naming the file and
    listing what it holds when the choice is missing, ambiguous or absent.
    """
    source = export.path or f"this {export.format or 'export'}"
    data = export.data
    if plate_index is not None:
        data = data.filter(pl.col("plate_index") == int(plate_index))
    if read is not None:
        data = data.filter(pl.col("read") == str(read))
    if data.height == 0:
        wanted = " ".join(
            part
            for part in (
                f"plate_index {plate_index}" if plate_index is not None else "",
                f"read {read!r}" if read is not None else "",
            )
            if part
        )
        raise KillcurveInputError(
            f"{source}: has no {wanted}. It holds: {available(export)}. "
            "Set plate_index/read in the samplesheet to one of these."
        )
    if data.select("plate_index", "read").n_unique() > 1:
        raise KillcurveInputError(
            f"{source}: holds several plates/reads ({available(export)}). "
            "Choose one with the samplesheet's plate_index and/or read columns."
        )
    return data
