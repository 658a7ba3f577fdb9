"""The common result of every plate-reader export reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class PlateExport:
    """What a reader found in one export file.

    ``data`` has one row per well per plate per read, with the columns of
    :func:`killcurve.io.readers.cells.cells_frame`. ``metadata`` keeps the
    file-level facts for provenance (instrument, serial number, read date,
    read settings) as strings. ``format`` is the family that read the file.

    Metadata keys shared by the readers where the file has the fact:
    ``instrument``, ``serial_number``, ``software``, ``software_version``,
    ``read_date``, ``read_time``, ``plate_type``, ``read_mode``, ``protocol``,
    ``user``; ``plates`` (plate names by ``plate_index``), ``skipped_blocks``
    (calculated or layout blocks not read), ``skipped_kinetic`` (kinetic
    tables not read), ``decimal_mark`` (only when ``,``) and
    ``format_detection`` (only for ``format: auto``). Other keys are the
    file's own labels, kept as written.
    """

    data: pl.DataFrame
    metadata: dict[str, str] = field(default_factory=dict)
    format: str = ""
    path: Path | None = None
