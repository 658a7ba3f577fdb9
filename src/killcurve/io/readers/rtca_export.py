"""``xcelligence_rtca``: Agilent xCELLigence RTCA (and RTCA Pro) Excel exports, as a kinetic read.

The workbook (``RTCA Software → Export → Excel``, see :mod:`killcurve.io.rtca`, whose
:func:`~killcurve.io.rtca.read_rtca` parses it) holds a ``Cell Index`` sheet of one block per
sweep, each headed ``Cell Index at: h:mm:ss`` (hours since the first sweep, past 24), and a
``Layout`` sheet (grid or, in RTCA Pro, a long table; not part of the plate export: a study
gives its layout as a wellmap file).

Read: one kinetic read named ``Cell Index`` on ``plate_index`` 1, one row per well per sweep:
``cycle`` = the sweep's 1-based number in the file, ``time_s`` = sweep hours × 3600 (whole
seconds, as the header gives them), ``timestamp`` = the header's time as RTCA writes it
(``23:48:00``), ``signal`` = the cell index (dimensionless, ``(Z_t − Z_0)/15 Ω``; 0 in every well
of the first, background sweep), ``raw`` = that number as the workbook stores it in shortest
decimal form (``0.7688``; empty where the cell is flagged ``empty`` or ``not_numeric``).

Metadata: ``software`` (``xCELLigence RTCA``), from the ``Exp Notes`` sheet where present (RTCA
Pro) ``software_version``, ``instrument`` (analyzer model), ``serial_number`` (analyzer SN) and
the sheet's other filled keys as written; the ``Cover`` keys as written (``Exp ID``, ``Created
By``, ``Creation Date`` — of the export, not of the run); ``kinetic_reads`` and ``time_points``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

# The module, not its names: killcurve.io.rtca imports killcurve.io.readers (cells, sheets), so
# when it is imported first this module runs while it is still half loaded.
from killcurve.io import rtca
from killcurve.io.readers.cells import SCHEMA
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import rename_keys
from killcurve.io.readers.sheets import Sheets, key_values, read_sheets

FORMAT = "xcelligence_rtca"
#: The one read of the export.
READ = "Cell Index"

_METADATA = {
    "Software Version": "software_version",
    "Analyzer Model": "instrument",
    "Analyzer SN": "serial_number",
    "User": "user",
}


def looks_like(sheets: Sheets) -> bool:
    """A ``Cell Index`` sheet whose first filled cell starts ``Cell Index at:``."""
    rows = sheets.get("Cell Index", [])
    first = next((cell.strip() for row in rows for cell in row if cell.strip()), "")
    return rtca.sweep_hours(first) is not None


def shortest(value: float | None) -> str:
    """A cell index as the workbook stores it: shortest decimal, no trailing ``.0``.

    >>> shortest(0.7688), shortest(0.0), shortest(-0.0606), shortest(None)
    ('0.7688', '0', '-0.0606', '')
    """
    if value is None:
        return ""
    text = repr(value)
    return text.removesuffix(".0")


def clock(seconds: int) -> str:
    """Whole seconds as RTCA's sweep header writes them, ``h:mm:ss`` (hours past 24).

    >>> clock(85680), clock(760086), clock(0)
    ('23:48:00', '211:08:06', '0:00:00')
    """
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def read_rtca_export(path: Path) -> PlateExport:
    """Every sweep of every well of an xCELLigence RTCA export (module docstring).

    Stops with :class:`~killcurve.errors.KillcurveInputError` naming the file when a sheet is
    missing or a block is malformed (see :func:`~killcurve.io.rtca.read_rtca`).
    """
    path = Path(path)
    export = rtca.read_rtca(path)
    # Each distinct value is written once (10⁴ distinct cell indices of 8·10⁴ cells).
    values = export.data["cell_index"].drop_nulls().unique()
    sweeps = (
        export.data.group_by("sweep")
        .agg((pl.col("time_h").first() * 3600).round(0).cast(pl.Int64).alias("seconds"))
        .sort("sweep")
    )
    data = (
        export.data.join(sweeps, on="sweep", how="left", maintain_order="left")
        .with_columns(
            pl.lit(1, pl.Int32).alias("plate_index"),
            pl.lit(READ).alias("read"),
            pl.col("cell_index").alias("signal"),
            pl.col("cell_index")
            .replace_strict(values, [shortest(v) for v in values], default="")
            .alias("raw"),
            pl.col("sweep").alias("cycle"),
            pl.col("seconds").cast(pl.Float64).alias("time_s"),
            pl.col("sweep")
            .replace_strict(sweeps["sweep"], [clock(s) for s in sweeps["seconds"]])
            .alias("timestamp"),
        )
        .select(list(SCHEMA))
        .cast(SCHEMA)
    )
    notes = key_values(read_sheets(path, names=("Exp Notes",)).get("Exp Notes", []))
    metadata = {
        "software": "xCELLigence RTCA",
        **rename_keys(notes, _METADATA),
        **rename_keys(export.metadata, {}),
        "kinetic_reads": READ,
        "time_points": str(data["cycle"].max()),
    }
    return PlateExport(data=data, metadata=metadata, format=FORMAT, path=path)
