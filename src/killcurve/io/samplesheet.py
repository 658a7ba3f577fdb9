"""The samplesheet (``config/plates.tsv``): one row per plate.

Required columns: ``plate_id``, ``file``, ``layout``, ``readout``, ``batch``;
``format`` (default ``grid_csv``) and ``assay_date`` are optional. Paths are
relative to the study directory and must stay inside it. Any other column is
metadata carried onto every well of the plate.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from killcurve.assay.readouts import READOUTS
from killcurve.errors import KillcurveInputError
from killcurve.io.sheets import read_sheet

REQUIRED_COLUMNS = ("plate_id", "file", "layout", "readout", "batch")
#: Samplesheet columns that describe files, not wells.
FILE_COLUMNS = ("file", "format", "layout")


def read_samplesheet(path: Path) -> pl.DataFrame:
    """Read a tab-separated samplesheet as text columns, stripped, CRLF-safe.

    Blank lines and lines starting with ``#`` are ignored. Raises
    :class:`KillcurveInputError` naming the file and row for missing columns,
    empty required cells or duplicated ``plate_id``.
    """
    path = Path(path)
    if not path.is_file():
        raise KillcurveInputError(
            f"samplesheet {path}: file not found. Set config key 'plates' to the path of "
            "the samplesheet, relative to the study directory."
        )
    sheet = read_sheet(path, "samplesheet", REQUIRED_COLUMNS)
    if sheet is None:
        raise KillcurveInputError(
            f"samplesheet {path}: no plate rows. Add one tab-separated row per plate "
            f"with columns {', '.join(REQUIRED_COLUMNS)}."
        )
    if "format" not in sheet.columns:
        sheet = sheet.with_columns(pl.lit("grid_csv").alias("format"))
    dupes = sheet.filter(pl.col("plate_id").is_duplicated())["plate_id"].unique().to_list()
    if dupes:
        raise KillcurveInputError(
            f"samplesheet {path}: plate_id {', '.join(sorted(dupes))} appears more than once. "
            "Give each plate its own plate_id."
        )
    bad = sheet.filter(~pl.col("readout").is_in(list(READOUTS)))
    if bad.height:
        raise KillcurveInputError(
            f"samplesheet {path} plate {bad['plate_id'][0]}: unknown readout "
            f"{bad['readout'][0]!r}. Readouts: {', '.join(READOUTS)}."
        )
    return sheet


def resolve_in_study(study_dir: Path, relative: str, what: str) -> Path:
    """Resolve ``relative`` against ``study_dir``; refuse a path that leaves it.

    ``what`` names the sheet cell in the message (e.g. ``plate P03 file``).
    """
    root = Path(study_dir).resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise KillcurveInputError(
            f"{what} {relative!r} points outside the study directory {root}. "
            "Copy the file into the study directory and use a relative path."
        )
    return target


def check_files(sheet: pl.DataFrame, study_dir: Path) -> None:
    """Check that every plate's export and layout file exists inside the study directory."""
    for row in sheet.iter_rows(named=True):
        for column in ("file", "layout"):
            target = resolve_in_study(study_dir, row[column], f"plate {row['plate_id']} {column}")
            if not target.is_file():
                raise KillcurveInputError(
                    f"plate {row['plate_id']}: {column} {row[column]!r} does not exist "
                    f"(looked in {target}). Fix the path in the samplesheet (relative to the "
                    "study directory) or add the file."
                )
