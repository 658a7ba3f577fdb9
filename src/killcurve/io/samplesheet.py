"""The samplesheet (``config/plates.tsv``): one row per plate.

Required columns: ``plate_id``, ``file``, ``layout``, ``readout``, ``batch``;
``format`` (default ``grid_csv``) and ``assay_date`` are optional. Paths are
relative to the study directory and must stay inside it. Any other column is
metadata carried onto every well of the plate.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import polars as pl

from killcurve.assay.readouts import READOUTS
from killcurve.errors import KillcurveInputError
from killcurve.io.sheets import read_sheet

REQUIRED_COLUMNS = ("plate_id", "file", "layout", "readout", "batch")
#: The ``time`` of a time-resolved plate: every time point kept (timecourse.parquet).
TIME_RESOLVED = "all"
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


def is_time_resolved(sheet: pl.DataFrame) -> pl.Series:
    """Which samplesheet rows are time-resolved plates (``time`` = :data:`TIME_RESOLVED`).

    >>> is_time_resolved(pl.DataFrame({"time": ["all", "", None, "24 h", " ALL"]})).to_list()
    [True, False, False, False, True]
    """
    if "time" not in sheet.columns:
        return pl.Series("time", [False] * sheet.height)
    return sheet["time"].fill_null("").str.strip_chars().str.to_lowercase() == TIME_RESOLVED


def as_plate_rows(readings: pl.DataFrame, sheet_row: dict[str, str]) -> pl.DataFrame:
    """A plate's readings joined to its layout as rows of the well table: ``raw`` dropped,
    ``plate_id``, ``file`` and ``layout`` from its samplesheet row, and a reading the reader
    flagged ``overflow`` kept but excluded (``exclusion_reason`` ``overflow``), never used as
    a number."""
    overflow = pl.col("flag").eq_missing(pl.lit("overflow"))
    return readings.drop("raw").with_columns(
        pl.lit(sheet_row["plate_id"]).alias("plate_id"),
        pl.lit(sheet_row["file"]).alias("file"),
        pl.lit(sheet_row["layout"]).alias("layout"),
        overflow.alias("excluded"),
        pl.when(overflow).then(pl.lit("overflow")).otherwise(None).alias("exclusion_reason"),
    )


@cache
def _real_dir(path: str) -> str:
    """``os.path.realpath`` of a directory, computed once per process (the samplesheets of a
    1,000-plate study name 3,600 files in a handful of folders; realpath is pure Python)."""
    return os.path.realpath(path)


def _real_path(root: str, relative: str) -> str:
    """``realpath(root / relative)``: the folder's through :func:`_real_dir`, the file's own
    link (if it is one) followed; a path with ``..`` is resolved in full."""
    joined = os.path.join(root, relative)
    if ".." in Path(relative).parts:
        return os.path.realpath(joined)
    folder, name = os.path.split(os.path.normpath(joined))
    target = os.path.join(_real_dir(folder), name)
    return os.path.realpath(target) if os.path.islink(target) else target


def resolve_in_study(study_dir: Path, relative: str, what: str) -> Path:
    """Resolve ``relative`` against ``study_dir`` (symlinks followed); refuse a path that
    leaves it.

    ``what`` names the sheet cell in the message (e.g. ``plate P03 file``).
    """
    root = _real_dir(os.path.abspath(study_dir))
    target = _real_path(root, relative)
    if target != root and not target.startswith(root.rstrip(os.sep) + os.sep):
        raise KillcurveInputError(
            f"{what} {relative!r} points outside the study directory {root}. "
            "Copy the file into the study directory and use a relative path."
        )
    return Path(target)


def check_files(sheet: pl.DataFrame, study_dir: Path) -> None:
    """Check that every plate's export and layout file exists inside the study directory
    (each path once: plates often share a layout, and a 1,000-plate study names 2,000
    files, checked whenever the workflow starts)."""
    checked: set[str] = set()
    for plate, *paths in sheet.select("plate_id", "file", "layout").iter_rows():
        for column, relative in zip(("file", "layout"), paths, strict=True):
            if relative in checked:
                continue
            target = resolve_in_study(study_dir, relative, f"plate {plate} {column}")
            if not os.path.isfile(target):
                raise KillcurveInputError(
                    f"plate {plate}: {column} {relative!r} does not exist "
                    f"(looked in {target}). Fix the path in the samplesheet (relative to the "
                    "study directory) or add the file."
                )
            checked.add(relative)
